"""A form built from a backend's declared parameters (``params_spec``), so every backend gets one for free.

Each ``Param`` kind has its widget: a line for text (a drop-down of suggestions when the backend knows them),
a path with "Choose…" for files (WireGuard and OpenVPN files are checked through the facade's import first), a
number, a check box, a fixed drop-down for choices, a command line for argv, a box of lines. Fields marked
``advanced`` sit under "More options". Secrets are not here: the profile editor keeps them in password fields
bound for the keyring. Keys the form does not know are kept as they were.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from vpnswitch.core.errors import VpnSwitchError
from vpnswitch.core.params import Param
from vpnswitch.ui import facade
from vpnswitch.ui.qtcompat import emit
from vpnswitch.ui.settings.editors import ParamsEditor, Problem
from vpnswitch.ui.workers import Workers

# Blocking lookups the form runs on a worker: (backend, key) → a function returning the values to offer.
DYNAMIC_CHOICES: dict[tuple[str, str], Callable[[], list[str]]] = {
    ("networkmanager", "connection"): facade.networkmanager_connections,
}


def tr(text: str) -> str:
    """Labels and help come from the backends, in English; a translation is used where one exists."""
    return QCoreApplication.translate("params", text)


class Field:
    """One parameter's widget: ``value()`` gives what goes into params (None: leave the key out)."""

    def __init__(self, param: Param, widget: QWidget, value: Callable[[], Any], problem: Callable[[], str | None]
                 ) -> None:
        self.param, self.widget, self.value, self.problem = param, widget, value, problem


class SpecEditor(ParamsEditor):
    def __init__(self, backend: str, spec: tuple[Param, ...], params: Mapping[str, Any],
                 workers: Workers | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend = backend
        self.workers = workers
        self.fields: dict[str, Field] = {}
        self._import_problem = ""
        shown = [p for p in spec if not p.secret]
        self._extra = {k: v for k, v in params.items() if k not in {p.key for p in shown}}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        main = QFormLayout()
        layout.addLayout(main)
        advanced = [p for p in shown if p.advanced]
        more_form: QFormLayout | None = None
        if advanced:
            self.more = QGroupBox(self.tr("More options"), self)
            self.more.setObjectName("more_options")
            self.more.setCheckable(True)
            more_body = QWidget(self.more)
            more_form = QFormLayout(more_body)
            more_box = QVBoxLayout(self.more)
            more_box.addWidget(more_body)
            opened = any(p.key in params for p in advanced)
            self.more.setChecked(opened)
            more_body.setVisible(opened)
            self.more.toggled.connect(more_body.setVisible)
            layout.addWidget(self.more)
        for param in shown:
            form = more_form if param.advanced and more_form is not None else main
            field = self._field(param, params.get(param.key))
            self.fields[param.key] = field
            label = tr(param.label)
            if param.help:
                column = QVBoxLayout()
                column.addWidget(field.widget)
                hint = QLabel(tr(param.help), self)
                hint.setObjectName(f"help_{param.key}")
                hint.setWordWrap(True)
                hint.setStyleSheet("color: #5f6368; font-size: small;")
                column.addWidget(hint)
                form.addRow(label, column)
            else:
                form.addRow(label, field.widget)

    # ------------------------------------------------------------------------------------------ widgets

    def _field(self, param: Param, value: Any) -> Field:
        kind = param.kind
        if kind == "bool":
            box = QCheckBox(self)
            box.setObjectName(f"param_{param.key}")
            box.setChecked(value is True)
            box.toggled.connect(self.changed)
            return Field(param, box, lambda: True if box.isChecked() else None, lambda: None)
        if kind == "choice" or (kind == "text" and param.choices) or (self.backend, param.key) in DYNAMIC_CHOICES:
            return self._combo(param, value)
        if kind == "lines":
            return self._lines(param, value)
        line = QLineEdit(self)
        line.setObjectName(f"param_{param.key}")
        if param.example:
            line.setPlaceholderText(self.tr("e.g. %1").replace("%1", param.example))
        line.textChanged.connect(self.changed)
        if kind == "argv":
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                line.setText(shlex.join(value))
            return Field(param, line, lambda: _argv(line.text()), lambda: _argv_problem(self, line.text()))
        if value is not None:
            line.setText(str(value))
        if kind == "int":
            return Field(param, line, lambda: _int(line.text()), lambda: _int_problem(self, line.text()))
        if kind == "file":
            return self._file(param, line)
        return Field(param, line, lambda: line.text().strip() or None, lambda: None)

    def _combo(self, param: Param, value: Any) -> Field:
        combo = QComboBox(self)
        combo.setObjectName(f"param_{param.key}")
        fixed = param.kind == "choice" and (self.backend, param.key) not in DYNAMIC_CHOICES
        combo.setEditable(not fixed)
        if fixed and not param.required and "" not in {c for c, _ in param.choices}:
            combo.addItem(self.tr("(not set)"), None)
        for code, label in param.choices:
            combo.addItem(tr(label), code)
        if value is not None:
            index = combo.findData(value)
            if index < 0:
                if fixed:
                    combo.addItem(str(value), value)  # keep what the file says; validation explains it
                    index = combo.count() - 1
                else:
                    combo.setEditText(str(value))
            if index >= 0:
                combo.setCurrentIndex(index)
        elif not fixed:
            combo.setEditText("")
        if not fixed and param.example:
            line = combo.lineEdit()
            if line is not None:
                line.setPlaceholderText(self.tr("e.g. %1").replace("%1", param.example))
        combo.currentIndexChanged.connect(self.changed)
        combo.editTextChanged.connect(self.changed)
        lookup = DYNAMIC_CHOICES.get((self.backend, param.key))
        if lookup is not None and self.workers is not None:
            self.workers.submit(lookup, lambda names: self._offer(combo, names), lambda _error: None)

        def current() -> Any:
            if fixed:
                return combo.currentData()
            text = combo.currentText().strip()
            index = combo.findText(text)
            data = combo.itemData(index) if index >= 0 else None
            return (data if data is not None else text) or None

        return Field(param, combo, current, lambda: None)

    def _offer(self, combo: QComboBox, names: list[str]) -> None:
        """Values found on a worker (e.g. NetworkManager's connections) join the drop-down."""
        text = combo.currentText()
        combo.blockSignals(True)
        for name in names:
            if combo.findData(name) < 0:
                combo.addItem(name, name)
        combo.setEditText(text)
        combo.blockSignals(False)

    def _lines(self, param: Param, value: Any) -> Field:
        box = QPlainTextEdit(self)
        box.setObjectName(f"param_{param.key}")
        box.setTabChangesFocus(True)
        box.setFixedHeight(box.fontMetrics().lineSpacing() * 5 + 12)
        if param.example:
            box.setPlaceholderText(self.tr("one per line, e.g. %1").replace("%1", param.example))
        if isinstance(value, list):
            box.setPlainText("\n".join(str(v) for v in value))
        box.textChanged.connect(self.changed)

        def lines() -> list[str] | None:
            found = [line.strip() for line in box.toPlainText().splitlines() if line.strip()]
            return found or None

        widget: QWidget = box
        if self.backend == "tor" and param.key == "bridges":
            widget = QWidget(self)
            column = QVBoxLayout(widget)
            column.setContentsMargins(0, 0, 0, 0)
            column.addWidget(box)
            fetch = QPushButton(self.tr("Get bridges"), widget)
            fetch.setObjectName("get_bridges")
            fetch.setEnabled(facade.can_fetch_bridges())
            if not fetch.isEnabled():
                fetch.setToolTip(self.tr("Not in this version yet: get bridge lines from bridges.torproject.org "
                                         "(or by e-mail from bridges@torproject.org) and paste them here."))
            row = QHBoxLayout()
            row.addWidget(fetch)
            row.addStretch(1)
            column.addLayout(row)
        return Field(param, widget, lines, lambda: None)

    def _file(self, param: Param, line: QLineEdit) -> Field:
        widget = QWidget(self)
        row = QHBoxLayout(widget)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(line, 1)
        choose = QPushButton(self.tr("Choose…"), widget)
        choose.setObjectName(f"choose_{param.key}")
        choose.clicked.connect(lambda: self._choose(param, line))
        row.addWidget(choose)
        return Field(param, widget, lambda: line.text().strip() or None, lambda: None)

    def choose_file(self, param: Param) -> Path | None:
        """The file dialog (tests replace it)."""
        filters = f"{tr(param.file_filter)};;*" if param.file_filter else ""
        chosen, _ = QFileDialog.getOpenFileName(self, tr(param.label), str(Path.home()), filters)
        return Path(chosen) if chosen else None

    def _choose(self, param: Param, line: QLineEdit) -> None:
        path = self.choose_file(param)
        if path is None:
            return
        if self.backend in facade.TUNNEL_FILE_BACKENDS and param.key == "config" and self.workers is not None:
            self._import_problem = self.tr("Checking %1…").replace("%1", path.name)
            emit(self.changed)
            backend = self.backend
            self.workers.submit(lambda: facade.import_tunnel_file(backend, path),
                                lambda params: self._imported(line, params), self._import_failed)
            return
        line.setText(str(path))

    def _imported(self, line: QLineEdit, params: dict[str, Any]) -> None:
        self._import_problem = ""
        line.setText(str(params.get("config", "")))
        emit(self.changed)

    def _import_failed(self, error: BaseException) -> None:
        self._import_problem = error.explain() if isinstance(error, VpnSwitchError) else str(error)
        emit(self.changed)

    # --------------------------------------------------------------------------------------- the editor

    def field_label(self, key: str) -> str:
        field = self.fields.get(key.split("[", 1)[0])
        if field is None:
            return key
        index = key[len(field.param.key):].strip("[]")
        if not index.isdigit():
            return tr(field.param.label)
        return self.tr("%1, line %2").replace("%1", tr(field.param.label)).replace("%2", str(int(index) + 1))

    def parse_problems(self) -> list[Problem]:
        problems = [(key, problem) for key, field in self.fields.items() if (problem := field.problem())]
        if self._import_problem:
            problems.append(("config", self._import_problem))
        return problems

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = dict(self._extra)
        for key, field in self.fields.items():
            value = field.value()
            if value is not None:
                params[key] = value
        return params


def _argv(text: str) -> list[str] | None:
    try:
        return shlex.split(text) or None
    except ValueError:
        return None


def _argv_problem(widget: QWidget, text: str) -> str | None:
    try:
        shlex.split(text)
    except ValueError:
        return QCoreApplication.translate("SpecEditor", "has an unmatched quote")
    return None


def _int(text: str) -> int | None:
    try:
        return int(text.strip()) if text.strip() else None
    except ValueError:
        return None


def _int_problem(widget: QWidget, text: str) -> str | None:
    if text.strip() and _int(text) is None:
        return QCoreApplication.translate("SpecEditor", "must be a whole number")
    return None
