"""The settings window: edit a copy of the settings, save it atomically, apply it to the running engine.

Saving is one background job — secrets into the keyring, the file written and applied, the login item set —
so the window stays responsive while a keyring unlock prompt or a slow disk takes its time. Whatever could
not be done is said in the banner; what could be done is kept.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from vpnswitch.core.config import Config
from vpnswitch.core.errors import ConfigError, VpnSwitchError
from vpnswitch.ui.facade import Autostart, AutostartStatus, CheckReport, Offer, RuntimePort, Snapshot, config_from_dict
from vpnswitch.ui.qtcompat import emit
from vpnswitch.ui.resources import app_icon
from vpnswitch.ui.settings.detected import DetectedPage
from vpnswitch.ui.settings.drafts import ProfileDraft, apply_secret_ops, plan_secret_ops
from vpnswitch.ui.settings.general import GeneralPage
from vpnswitch.ui.settings.profiles import ProfilesPage, secret_keys_of
from vpnswitch.ui.settings.targets import TargetsPage
from vpnswitch.ui.settings.timings import TimingsPage
from vpnswitch.ui.workers import Workers

log = logging.getLogger(__name__)

CHECK_WAIT = 40.0
BANNER_STYLES = {
    "info": "background: #e6f4ea; color: #0d652d; border: 1px solid #a8dab5;",
    "warning": "background: #fef7e0; color: #7a4f01; border: 1px solid #f9d67a;",
    "error": "background: #fce8e6; color: #a50e0e; border: 1px solid #f4b4ae;",
}


@dataclass
class SaveReport:
    saved: bool = False
    kept_aside: Path | None = None
    secret_problems: list[str] = field(default_factory=list)
    autostart: AutostartStatus | None = None
    autostart_error: str = ""
    error: str = ""


class SettingsWindow(QWidget):
    saved = Signal(object)  # the Config now in use

    PAGES = ("profiles", "detected", "targets", "timings", "general")

    def __init__(self, port: RuntimePort, workers: Workers, autostart: Autostart, *, config_file: Path,
                 log_dir: Path, notice: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("settings_window")
        self.port = port
        self.workers = workers
        self.autostart = autostart
        self.config = port.config
        self.dirty = False
        self.saving = False
        self.confirm_close = True  # ask before throwing away unsaved edits
        self._saved_names: list[str] = []
        self._autostart_status: AutostartStatus | None = None
        self._persistent_notice = notice
        self.setWindowTitle(self.tr("vpnswitch settings"))
        self.setWindowIcon(app_icon())
        self.resize(900, 640)

        layout = QVBoxLayout(self)
        self.banner = QLabel(self)
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.banner)

        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("tabs")
        self.profiles = ProfilesPage(workers, port.secrets, self)
        self.detected = DetectedPage(workers, self)
        self.targets = TargetsPage(self)
        self.timings = TimingsPage(self)
        self.general = GeneralPage(config_file, log_dir, self)
        self.tabs.addTab(self.profiles, self.tr("Profiles"))
        self.tabs.addTab(self.detected, self.tr("Detected apps"))
        self.tabs.addTab(self.targets, self.tr("Sites to check"))
        self.tabs.addTab(self.timings, self.tr("Timings"))
        self.tabs.addTab(self.general, self.tr("General"))
        self.tabs.currentChanged.connect(self._tab_changed)
        layout.addWidget(self.tabs, 1)

        footer = QHBoxLayout()
        self.summary = QLabel(self)
        self.summary.setObjectName("summary")
        self.summary.setWordWrap(True)
        footer.addWidget(self.summary, 1)
        self.revert_button = QPushButton(self.tr("Undo changes"), self)
        self.revert_button.setObjectName("revert")
        self.revert_button.clicked.connect(self.revert)
        self.save_button = QPushButton(self.tr("Save"), self)
        self.save_button.setObjectName("save")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        footer.addWidget(self.revert_button)
        footer.addWidget(self.save_button)
        layout.addLayout(footer)
        QShortcut(QKeySequence.StandardKey.Save, self, self.save)

        for page in (self.profiles, self.targets, self.timings, self.general):
            page.changed.connect(self._changed)
        self.detected.add_requested.connect(self._add_offer)
        self.profiles.notice.connect(self.show_notice)
        self.targets.test_requested.connect(self.test_now)

        self.load(self.config)
        self.refresh_autostart()
        self.update_snapshot(port.snapshot())
        self._close_after_save = False
        self.show_notice()

    # -------------------------------------------------------------------------------------------- loading

    def load(self, config: Config) -> None:
        self.config = config
        self._saved_names = [p.name for p in config.profiles]
        self.profiles.load([ProfileDraft.from_profile(p) for p in config.profiles])
        self.targets.load(config.targets)
        self.timings.load(config.timings, config.behaviour)
        self.general.load(config.desktop.notifications, config.desktop.language)
        self.detected.set_existing([(p.backend, p.name) for p in config.profiles])
        self.dirty = False
        self._update_footer()

    def revert(self) -> None:
        self.load(self.port.config)
        self.refresh_autostart()

    def refresh_autostart(self) -> None:
        try:
            self._autostart_status = self.autostart.status()
            self.general.show_autostart(self._autostart_status)
        except VpnSwitchError as exc:
            self._autostart_status = None
            self.general.show_autostart(None, exc.message)

    def _tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.detected and not self.detected.scanned:
            self.detected.scan()

    def update_snapshot(self, snapshot: Snapshot) -> None:
        self.targets.update_snapshot(snapshot)

    # ------------------------------------------------------------------------------------------- editing

    def _changed(self) -> None:
        self.dirty = True
        self._update_footer()

    def problems(self) -> list[str]:
        return self.profiles.problems() + self.targets.problems() + self.timings.problems()

    def _update_footer(self) -> None:
        problems = self.problems()
        autostart_changed = self._autostart_status is not None and \
            self.general.wants_autostart() != self._autostart_status.enabled
        pending = self.dirty or autostart_changed
        if self.saving:
            self.summary.setText(self.tr("Saving…"))
        elif problems:
            more = len(problems) - 1
            text = problems[0] + (" " + self.tr("(and %1 more)").replace("%1", str(more)) if more else "")
            self.summary.setText(text)
        elif pending:
            self.summary.setText(self.tr("Unsaved changes."))
        else:
            self.summary.setText("")
        self.summary.setStyleSheet("color: #b3261e;" if problems else "")
        self.save_button.setEnabled(pending and not problems and not self.saving)
        self.revert_button.setEnabled(pending and not self.saving)

    def _add_offer(self, offer: Offer) -> None:
        draft = self.profiles.add_profile(offer.backend, offer.name, dict(offer.params))
        if not offer.enabled:
            self.profiles.set_enabled(draft, False)
        self.tabs.setCurrentWidget(self.profiles)

    def show_notice(self, text: str = "", kind: str = "info") -> None:
        """The banner: a problem found at start stays until a successful save; below it, the latest news."""
        lines = [line for line in (self._persistent_notice, text) if line]
        worst = "error" if self._persistent_notice else kind
        self.banner.setText("\n\n".join(lines))
        self.banner.setStyleSheet(BANNER_STYLES.get(worst, BANNER_STYLES["info"]) + " border-radius: 4px;")
        self.banner.setVisible(bool(lines))

    # ---------------------------------------------------------------------------------------------- saving

    def collect(self) -> dict[str, Any]:
        return {
            "version": self.config.version,
            "profiles": [d.to_dict() for d in self.profiles.drafts()],
            "targets": self.targets.targets_data(),
            "timings": self.timings.timings_data(),
            "behaviour": self.timings.behaviour_data(),
            "desktop": {"notifications": self.general.notifications_data(), "language": self.general.language_data()},
        }

    def save(self) -> None:
        if self.saving or not self.save_button.isEnabled():
            return
        try:
            config = config_from_dict(self.collect())
        except ConfigError as exc:
            self.show_notice(self.tr("Not saved. Please fix:") + "\n" + "\n".join(exc.problems), "error")
            return
        drafts = self.profiles.drafts()
        backends = {d.backend for d in drafts} | {p.backend for p in self.config.profiles}
        ops = plan_secret_ops(drafts, self._saved_names, {b: secret_keys_of(b) for b in backends})
        want_autostart = self.general.wants_autostart()
        change_autostart = self._autostart_status is None or want_autostart != self._autostart_status.enabled
        port, autostart, store = self.port, self.autostart, self.port.secrets

        def work() -> SaveReport:
            report = SaveReport()
            report.secret_problems = apply_secret_ops(store, ops) if ops else []
            try:
                outcome = port.save_config(config)
            except (OSError, VpnSwitchError) as exc:
                report.error = exc.explain() if isinstance(exc, VpnSwitchError) else str(exc)
                return report
            report.saved = True
            report.kept_aside = outcome.kept_aside
            if change_autostart:
                try:
                    report.autostart = autostart.enable() if want_autostart else autostart.disable()
                except VpnSwitchError as exc:
                    report.autostart_error = exc.message
            return report

        self.saving = True
        self._update_footer()
        self.workers.submit(work, lambda report: self._saved(config, report, drafts), self._save_failed)

    def _save_failed(self, error: BaseException) -> None:
        self.saving = False
        self.show_notice(self.tr("Not saved: %1").replace("%1", str(error)), "error")
        self._update_footer()

    def _saved(self, config: Config, report: SaveReport, drafts: list[ProfileDraft]) -> None:
        self.saving = False
        if not report.saved:
            self.show_notice(self.tr("Not saved: %1").replace("%1", report.error), "error")
            self._update_footer()
            return
        self._persistent_notice = ""
        self.config = config
        self._saved_names = [p.name for p in config.profiles]
        for draft in drafts:
            draft.original_name = draft.name.strip()
            if not report.secret_problems:
                for key in draft.new_secrets:
                    draft.secret_state[key] = "stored"
                draft.new_secrets.clear()
        self.dirty = bool(report.secret_problems)
        lines = [self.tr("Saved. The new settings are in use now.")]
        kind = "info"
        if report.kept_aside is not None:
            lines.append(self.tr("Your old settings file could not be read, so it was kept as %1.").replace(
                "%1", str(report.kept_aside)))
            kind = "warning"
        if report.secret_problems:
            lines.append(self.tr("Secrets were not saved: %1").replace("%1", " ".join(report.secret_problems)))
            kind = "error"
        if report.autostart is not None:
            self._autostart_status = report.autostart
            self.general.show_autostart(report.autostart)
        if report.autostart_error:
            lines.append(self.tr("Start at login could not be changed: %1").replace("%1", report.autostart_error))
            kind = "error"
            self.refresh_autostart()
        self.show_notice("\n".join(lines), kind)
        self.profiles.refresh_secret_states()
        if self.profiles.editor is not None:
            self.profiles.editor.show_secret_state()
        self._update_footer()
        emit(self.saved, config)
        if self._close_after_save and not self.dirty:
            self.close()
        self._close_after_save = False

    # --------------------------------------------------------------------------------------------- testing

    def test_now(self) -> None:
        self.targets.set_testing(True)
        future = self.port.check()
        self.workers.submit(lambda: future.result(timeout=CHECK_WAIT), self._tested,
                            lambda exc: self.targets.show_error(str(exc) or type(exc).__name__))

    def _tested(self, report: CheckReport) -> None:
        self.targets.show_report(report)
        self.update_snapshot(self.port.snapshot())

    # ----------------------------------------------------------------------------------------------- close

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.dirty and not self.saving and self.confirm_close:
            box = QMessageBox(QMessageBox.Icon.Question, self.tr("Unsaved changes"),
                              self.tr("Save your changes before closing?"), parent=self)
            save = box.addButton(self.tr("Save"), QMessageBox.ButtonRole.AcceptRole)
            discard = box.addButton(self.tr("Discard"), QMessageBox.ButtonRole.DestructiveRole)
            box.addButton(self.tr("Cancel"), QMessageBox.ButtonRole.RejectRole)
            box.setDefaultButton(save)
            box.exec()
            if box.clickedButton() is save and self.save_button.isEnabled():
                self._close_after_save = True
                self.save()
                event.ignore()
                return
            if box.clickedButton() is not discard:
                event.ignore()
                return
            self.dirty = False
        event.accept()
