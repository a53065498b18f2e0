"""General settings: start at login (as the OS really has it), notifications, language, where files are."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from vpnswitch.ui.facade import AutostartStatus
from vpnswitch.ui.i18n import NATIVE_NAMES


class GeneralPage(QWidget):
    changed = Signal()

    def __init__(self, config_file: Path, log_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)

        start = QGroupBox(self.tr("Start"), self)
        start_layout = QVBoxLayout(start)
        self.autostart = QCheckBox(self.tr("Start vpnswitch when I log in (in the tray, without a window)"), start)
        self.autostart.setObjectName("autostart")
        self.autostart.toggled.connect(self.changed)
        self.autostart_status = QLabel(start)
        self.autostart_status.setObjectName("autostart_status")
        self.autostart_status.setWordWrap(True)
        start_layout.addWidget(self.autostart)
        start_layout.addWidget(self.autostart_status)
        layout.addWidget(start)

        look = QGroupBox(self.tr("Notifications and language"), self)
        form = QFormLayout(look)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.notifications = QCheckBox(self.tr("Tell me when vpnswitch switches or a VPN fails"), look)
        self.notifications.setObjectName("notifications")
        self.notifications.toggled.connect(self.changed)
        form.addRow(self.notifications)
        self.language = QComboBox(look)
        self.language.setObjectName("language")
        self.language.addItem(self.tr("Same as the system"), "system")
        for code, native in NATIVE_NAMES.items():
            self.language.addItem(native, code)
        self.language.currentIndexChanged.connect(self.changed)
        form.addRow(self.tr("Language"), self.language)
        layout.addWidget(look)

        files = QGroupBox(self.tr("Files"), self)
        files_form = QFormLayout(files)
        files_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        path = QLabel(str(config_file), files)
        path.setObjectName("config_path")
        path.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        files_form.addRow(self.tr("Settings file"), path)
        open_logs = QPushButton(self.tr("Open the log folder"), files)
        open_logs.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(log_dir))))
        files_form.addRow(self.tr("Logs"), open_logs)
        layout.addWidget(files)
        layout.addStretch(1)

    def load(self, notifications: bool, language: str) -> None:
        self.notifications.blockSignals(True)
        self.notifications.setChecked(notifications)
        self.notifications.blockSignals(False)
        self.language.blockSignals(True)
        index = self.language.findData(language)
        if index < 0:
            self.language.addItem(language, language)
            index = self.language.count() - 1
        self.language.setCurrentIndex(index)
        self.language.blockSignals(False)

    def show_autostart(self, status: AutostartStatus | None, error: str = "") -> None:
        """Reflect what the OS has; the box shows the truth, not the last wish."""
        self.autostart.blockSignals(True)
        self.autostart.setChecked(bool(status and status.enabled))
        self.autostart.blockSignals(False)
        if error:
            text = self.tr("Could not read the login items: %1").replace("%1", error)
        elif status is None:
            text = ""
        elif status.enabled:
            text = self.tr("On: your system starts vpnswitch at login (%1).").replace("%1", status.location)
        elif status.disabled_by_user:
            text = self.tr("Off: the entry %1 exists but is switched off in your system's startup settings. "
                           "Tick the box to switch it on.").replace("%1", status.location)
        elif status.state == "other":
            text = self.tr("Off: %1 starts a different program (%2). Tick the box to start this vpnswitch "
                           "instead.").replace("%1", status.location).replace("%2", status.command)
        else:
            text = self.tr("Off.")
        self.autostart_status.setText(text)

    def wants_autostart(self) -> bool:
        return self.autostart.isChecked()

    def notifications_data(self) -> bool:
        return self.notifications.isChecked()

    def language_data(self) -> str:
        return str(self.language.currentData())
