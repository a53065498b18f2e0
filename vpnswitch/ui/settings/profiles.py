"""The profile list (drag to reorder, tick to enable) and the editor of the selected profile.

Every edit is validated at once with the backend's own ``validate_params``; the list marks profiles with
problems and the page reports them, so Save is only offered for settings the engine will accept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QScrollArea,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from vpnswitch.core.config import Profile
from vpnswitch.core.errors import VpnSwitchError
from vpnswitch.core.secrets import SecretStore
from vpnswitch.ui import facade, texts
from vpnswitch.ui.facade import BackendInfo
from vpnswitch.ui.qtcompat import emit
from vpnswitch.ui.settings.drafts import ProfileDraft, secret_states
from vpnswitch.ui.settings.editors import ParamsEditor, editor_for
from vpnswitch.ui.workers import Workers

NAME_MAX = 64
DRAFT_ROLE = Qt.ItemDataRole.UserRole + 1
IMPORT_PATTERNS = "*.conf *.ovpn"


def import_into_networkmanager(path: Path) -> Profile:
    """Blocking (D-Bus, nmcli): only ever called on a worker."""
    return facade.import_into_networkmanager(path)


def backend_cls(name: str) -> BackendInfo | None:
    return facade.backend_info(name)


def backend_label(name: str) -> str:
    """The backend's name for people, in their language where it is a word and not a brand."""
    cls = backend_cls(name)
    return texts.backend(name, cls.display_name) if cls is not None else name


def backend_display(name: str) -> str:
    return f"{backend_label(name)} ({name})" if backend_cls(name) is not None else name


def secret_keys_of(backend: str) -> tuple[str, ...]:
    cls = backend_cls(backend)
    return tuple(cls.secret_keys) if cls is not None else ()


def validate_draft(draft: ProfileDraft, editor: ParamsEditor | None, others: list[str]) -> list[tuple[str, str]]:
    """(field label, problem) pairs for one profile; empty when it would be accepted."""
    translate = QCoreApplication.translate
    problems: list[tuple[str, str]] = []
    name = draft.name.strip()
    name_label = translate("ProfilesPage", "Name")
    if not name:
        problems.append((name_label, translate("ProfilesPage", "must not be empty")))
    elif len(name) > NAME_MAX:
        problems.append((name_label, translate("ProfilesPage", "must be at most 64 characters")))
    elif name in others:
        problems.append((name_label, translate("ProfilesPage", "is already used by another profile")))
    cls = backend_cls(draft.backend)
    if cls is None:
        problem = translate("ProfilesPage", "%1 is not available in this version").replace("%1", draft.backend)
        problems.append((translate("ProfilesPage", "Backend"), problem))
        return problems
    label = editor.field_label if editor is not None else (lambda key: key)
    parse = editor.parse_problems() if editor is not None else []
    for key, problem in parse:
        problems.append((label(key) if key else translate("ProfilesPage", "Parameters"), problem))
    if not parse:
        for key, problem in cls.validate(draft.params):
            problems.append((label(key) if key else translate("ProfilesPage", "Parameters"), problem))
    return problems


class ProfileEditor(QWidget):
    """Name, backend parameters and secrets of one profile; writes straight into its draft."""

    changed = Signal()

    def __init__(self, draft: ProfileDraft, parent: QWidget | None = None, workers: Workers | None = None) -> None:
        super().__init__(parent)
        self.draft = draft
        self.workers = workers
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.name = QLineEdit(draft.name, self)
        self.name.setObjectName("profile_name")
        self.name.setMaxLength(NAME_MAX + 10)  # let people see the limit being passed, then say so
        self.name.textChanged.connect(self._name_changed)
        form.addRow(self.tr("Name"), self.name)
        backend = QLabel(backend_display(draft.backend), self)
        backend.setObjectName("profile_backend")
        form.addRow(self.tr("Backend"), backend)
        self.way_out = QComboBox(self)
        self.way_out.setObjectName("way_out")
        self.way_out.addItem(self.tr("Automatic (from the kind of VPN)"), None)
        for code, label in (("plain", self.tr("Plain VPN")), ("obfuscated", self.tr("Obfuscated (disguised)")),
                            ("tor", self.tr("Tor")), ("registered", self.tr("Registered VPN"))):
            self.way_out.addItem(label, code)
        self.way_out.setCurrentIndex(max(0, self.way_out.findData(draft.way_out)))
        self.way_out.currentIndexChanged.connect(self._way_out_changed)
        way_out_help = QLabel(self.tr(
            "Which kind of way out this is decides when it is tried after a block. vpnswitch tells plain, "
            "obfuscated and Tor apart by itself. Choose “Registered VPN” for a VPN registered with the "
            "authorities (for example with the PTA in Pakistan): it survives a crackdown but is not private, "
            "and only you can know it is registered."), self)
        way_out_help.setObjectName("way_out_help")
        way_out_help.setWordWrap(True)
        way_out_help.setStyleSheet("color: #5f6368; font-size: small;")
        column = QVBoxLayout()
        column.addWidget(self.way_out)
        column.addWidget(way_out_help)
        form.addRow(self.tr("Kind of way out"), column)
        layout.addLayout(form)

        self.params_editor = editor_for(draft.backend, draft.params, self, workers=workers)
        self.params_editor.changed.connect(self._params_changed)
        layout.addWidget(self.params_editor)
        self.as_json = QCheckBox(self.tr("Advanced: edit the parameters as JSON"), self)
        self.as_json.setObjectName("edit_as_json")
        self.as_json.toggled.connect(self._json_toggled)
        layout.addWidget(self.as_json)

        self.secret_fields: dict[str, QLineEdit] = {}
        self.secret_labels: dict[str, QLabel] = {}
        keys = secret_keys_of(draft.backend)
        if keys:
            box = QGroupBox(self.tr("Secrets (kept in your system keyring, never in the settings file)"), self)
            secret_form = QFormLayout(box)
            for key in keys:
                field = QLineEdit(self)
                field.setObjectName(f"secret_{key}")
                field.setEchoMode(QLineEdit.EchoMode.Password)
                field.setText(draft.new_secrets.get(key, ""))
                field.textChanged.connect(lambda text, k=key: self._secret_changed(k, text))
                state = QLabel(self)
                state.setObjectName(f"secret_state_{key}")
                state.setWordWrap(True)
                row = QVBoxLayout()
                row.addWidget(field)
                row.addWidget(state)
                secret_form.addRow(texts.secret_key(key), row)
                self.secret_fields[key] = field
                self.secret_labels[key] = state
            layout.addWidget(box)
            self.show_secret_state()

        self.problems = QLabel(self)
        self.problems.setObjectName("profile_problems")
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #b3261e;")
        layout.addWidget(self.problems)
        layout.addStretch(1)

    def _json_toggled(self, as_json: bool) -> None:
        """Swap the form and the JSON editor; each starts from the params as they are now."""
        old = self.params_editor
        self.params_editor = editor_for(self.draft.backend, self.draft.params, self, workers=self.workers,
                                        as_json=as_json)
        self.params_editor.changed.connect(self._params_changed)
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.replaceWidget(old, self.params_editor)
        old.deleteLater()
        emit(self.changed)

    def _way_out_changed(self) -> None:
        self.draft.way_out = self.way_out.currentData()
        emit(self.changed)

    def _name_changed(self, text: str) -> None:
        self.draft.name = text
        emit(self.changed)

    def _params_changed(self) -> None:
        self.draft.params = self.params_editor.params()
        emit(self.changed)

    def _secret_changed(self, key: str, text: str) -> None:
        if text:
            self.draft.new_secrets[key] = text
        else:
            self.draft.new_secrets.pop(key, None)
        self.show_secret_state()
        emit(self.changed)

    def show_secret_state(self) -> None:
        for key, label in self.secret_labels.items():
            if self.draft.new_secrets.get(key):
                text = self.tr("Will be saved to the keyring when you press Save.")
            else:
                state = self.draft.secret_state.get(key, "unknown")
                text = {
                    "stored": self.tr("Stored in the keyring. Type a new one to replace it."),
                    "missing": self.tr("Not stored yet."),
                    "unavailable": self.tr("The keyring cannot be used: %1").replace("%1", self.draft.secret_error),
                    "unknown": self.tr("Checking the keyring…") if self.draft.original_name else
                    self.tr("Not stored yet."),
                }[state]
            label.setText(text)

    def show_problems(self, problems: list[tuple[str, str]]) -> None:
        self.problems.setText("\n".join(f"• {field}: {problem}" if field else f"• {problem}"
                                         for field, problem in problems))
        self.problems.setVisible(bool(problems))


class ProfilesPage(QWidget):
    changed = Signal()
    notice = Signal(str, str)  # text, kind ("info", "warning", "error") for the window's banner

    def __init__(self, workers: Workers, secrets: SecretStore | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workers = workers
        self.secrets = secrets
        self.editor: ProfileEditor | None = None
        self._drafts: dict[int, ProfileDraft] = {}
        self._problems: dict[int, list[tuple[str, str]]] = {}
        self.importing = False

        layout = QHBoxLayout(self)
        left = QVBoxLayout()
        hint = QLabel(self.tr("Tried from the top down. Drag to reorder; untick to skip a profile."), self)
        hint.setWordWrap(True)
        left.addWidget(hint)
        self.list = QListWidget(self)
        self.list.setObjectName("profile_list")
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.list.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.list.currentItemChanged.connect(self._selected)
        self.list.itemChanged.connect(self._item_changed)
        self.list.model().rowsMoved.connect(lambda *_: emit(self.changed))
        left.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        self.add_button = QPushButton(self.tr("Add"), self)
        self.add_button.setObjectName("add_profile")
        self.add_menu = QMenu(self)
        self.add_menu.aboutToShow.connect(self._fill_add_menu)
        self.add_button.setMenu(self.add_menu)
        self.remove_button = QPushButton(self.tr("Remove"), self)
        self.remove_button.setObjectName("remove_profile")
        self.remove_button.clicked.connect(self.remove_selected)
        self.up_button = QPushButton(self.tr("Up"), self)
        self.up_button.setObjectName("move_up")
        self.up_button.clicked.connect(lambda: self.move_selected(-1))
        self.down_button = QPushButton(self.tr("Down"), self)
        self.down_button.setObjectName("move_down")
        self.down_button.clicked.connect(lambda: self.move_selected(1))
        for button in (self.add_button, self.remove_button, self.up_button, self.down_button):
            buttons.addWidget(button)
        left.addLayout(buttons)
        layout.addLayout(left, 2)

        self.scroll_area = QScrollArea(self)
        self.scroll_area.setWidgetResizable(True)
        self.placeholder = QLabel(self.tr("Add a profile, or pick one from the list to edit it."), self)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.scroll_area.setWidget(self.placeholder)
        layout.addWidget(self.scroll_area, 3)

    # ------------------------------------------------------------------------------------------- data

    def load(self, drafts: list[ProfileDraft]) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        self._drafts.clear()
        self._problems.clear()
        for draft in drafts:
            self._append(draft)
        self.list.blockSignals(False)
        for draft in drafts:
            self._load_secret_state(draft)
        self.revalidate()
        if self.list.count():
            self.list.setCurrentRow(0)
        else:
            self._selected(None, None)

    def _append(self, draft: ProfileDraft) -> QListWidgetItem:
        item = QListWidgetItem(self._label(draft))
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsDragEnabled)
        item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsDropEnabled)  # drop between items, never onto one
        item.setCheckState(Qt.CheckState.Checked if draft.enabled else Qt.CheckState.Unchecked)
        item.setData(DRAFT_ROLE, id(draft))
        self._drafts[id(draft)] = draft
        self.list.addItem(item)
        return item

    def _label(self, draft: ProfileDraft) -> str:
        return f"{draft.name.strip() or '…'} — {backend_label(draft.backend)}"

    def drafts(self) -> list[ProfileDraft]:
        """In list order, which is the failover order."""
        return [self._drafts[self.list.item(row).data(DRAFT_ROLE)] for row in range(self.list.count())]

    def add_profile(self, backend: str, name: str | None = None, params: dict[str, Any] | None = None
                    ) -> ProfileDraft:
        base = name or backend_label(backend)
        taken = {d.name for d in self.drafts()}
        candidate, n = base, 2
        while candidate in taken:
            candidate, n = f"{base} {n}", n + 1
        draft = ProfileDraft(candidate[:NAME_MAX], backend, dict(params or {}))
        item = self._append(draft)
        self.list.setCurrentItem(item)
        self.revalidate()
        emit(self.changed)
        return draft

    def set_enabled(self, draft: ProfileDraft, enabled: bool) -> None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(DRAFT_ROLE) == id(draft):
                item.setCheckState(Qt.CheckState.Checked if enabled else Qt.CheckState.Unchecked)

    def remove_selected(self) -> None:
        row = self.list.currentRow()
        if row < 0:
            return
        item = self.list.takeItem(row)
        self._drafts.pop(item.data(DRAFT_ROLE), None)
        self.revalidate()
        emit(self.changed)
        if self.list.count() == 0:
            self._selected(None, None)

    def move_selected(self, delta: int) -> None:
        row = self.list.currentRow()
        target = row + delta
        if row < 0 or not 0 <= target < self.list.count():
            return
        self.list.blockSignals(True)
        item = self.list.takeItem(row)
        self.list.insertItem(target, item)
        self.list.blockSignals(False)
        self.list.setCurrentRow(target)
        emit(self.changed)

    # ------------------------------------------------------------------------------------- validation

    def revalidate(self) -> None:
        names = [d.name.strip() for d in self.drafts()]
        warn = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        self.list.blockSignals(True)
        for row, draft in enumerate(self.drafts()):
            others = names[:row] + names[row + 1:]
            editor = self.editor.params_editor if self.editor is not None and self.editor.draft is draft else None
            problems = validate_draft(draft, editor, others)
            self._problems[id(draft)] = problems
            item = self.list.item(row)
            item.setText(self._label(draft))
            item.setIcon(warn if problems else QIcon())
            item.setToolTip("\n".join(f"{f}: {p}" for f, p in problems))
        self.list.blockSignals(False)
        if self.editor is not None:
            self.editor.show_problems(self._problems.get(id(self.editor.draft), []))

    def problems(self) -> list[str]:
        """Every problem, naming the profile and the field."""
        lines = []
        for draft in self.drafts():
            for field, problem in self._problems.get(id(draft), []):
                lines.append(self.tr("Profile “%1”, %2: %3").replace("%1", draft.name.strip() or "…").replace(
                    "%2", field).replace("%3", problem))
        return lines

    # ---------------------------------------------------------------------------------------- editing

    def _selected(self, current: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        old = self.scroll_area.takeWidget()
        if old is not None and old is not self.placeholder:
            old.deleteLater()
        self.editor = None
        if current is None:
            self.placeholder = QLabel(self.tr("Add a profile, or pick one from the list to edit it."), self)
            self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.placeholder.setWordWrap(True)
            self.scroll_area.setWidget(self.placeholder)
            return
        draft = self._drafts[current.data(DRAFT_ROLE)]
        self.editor = ProfileEditor(draft, self, self.workers)
        self.editor.changed.connect(self._edited)
        self.scroll_area.setWidget(self.editor)
        self.revalidate()

    def _edited(self) -> None:
        self.revalidate()
        emit(self.changed)

    def _item_changed(self, item: QListWidgetItem) -> None:
        draft = self._drafts.get(item.data(DRAFT_ROLE))
        if draft is None:
            return
        enabled = item.checkState() == Qt.CheckState.Checked
        if enabled != draft.enabled:
            draft.enabled = enabled
            emit(self.changed)

    def _fill_add_menu(self) -> None:
        self.add_menu.clear()
        for name in facade.backend_names():
            cls = backend_cls(name)
            if cls is None:
                continue
            action = self.add_menu.addAction(backend_display(name))
            action.setObjectName(f"add:{name}")
            action.triggered.connect(lambda _=False, n=name: self.add_profile(n))
        if facade.can_import_into_networkmanager():
            self.add_menu.addSeparator()
            action = self.add_menu.addAction(self.tr("Import a WireGuard or OpenVPN file into NetworkManager…"))
            action.setObjectName("import:networkmanager")
            action.setEnabled(not self.importing)
            action.triggered.connect(lambda _=False: self.import_file())

    # ---------------------------------------------------------------------------------------- importing

    def choose_import_file(self) -> Path | None:
        title = self.tr("Import a WireGuard or OpenVPN file")
        patterns = self.tr("WireGuard or OpenVPN files (%1)").replace("%1", IMPORT_PATTERNS)
        chosen, _filter = QFileDialog.getOpenFileName(self, title, str(Path.home()), patterns)
        return Path(chosen) if chosen else None

    def import_file(self) -> None:
        """Add the chosen file to NetworkManager on a worker; its profile joins the list as an unsaved change."""
        if self.importing:
            return
        path = self.choose_import_file()
        if path is None:
            return
        self.importing = True
        self.add_button.setEnabled(False)
        emit(self.notice, self.tr("Importing %1 into NetworkManager…").replace("%1", path.name), "info")
        self.workers.submit(lambda: import_into_networkmanager(path), self._imported,
                            lambda error: self._import_failed(path, error), name="vpnswitch-ui-import")

    def _imported(self, profile: Profile) -> None:
        self.importing = False
        self.add_button.setEnabled(True)
        draft = self.add_profile(profile.backend, profile.name, dict(profile.params))
        if not profile.enabled:
            self.set_enabled(draft, False)
        emit(self.notice, self.tr("“%1” was added to NetworkManager. Press Save to use it for failover.").replace(
            "%1", draft.name), "info")

    def _import_failed(self, path: Path, error: BaseException) -> None:
        self.importing = False
        self.add_button.setEnabled(True)
        reason = error.explain() if isinstance(error, VpnSwitchError) else (str(error) or type(error).__name__)
        emit(self.notice, self.tr("%1 could not be imported: %2").replace("%1", path.name).replace("%2", reason),
             "error")

    # ---------------------------------------------------------------------------------------- secrets

    def _load_secret_state(self, draft: ProfileDraft) -> None:
        keys = secret_keys_of(draft.backend)
        if not keys or not draft.original_name or self.secrets is None:
            return
        store, name = self.secrets, draft.original_name

        def done(result: tuple[dict[str, Any], str]) -> None:
            draft.secret_state.update(result[0])
            draft.secret_error = result[1]
            if self.editor is not None and self.editor.draft is draft:
                self.editor.show_secret_state()

        self.workers.submit(lambda: secret_states(store, name, keys), done)

    def refresh_secret_states(self) -> None:
        for draft in self.drafts():
            self._load_secret_state(draft)
