"""The tray icon: its picture and tooltip follow the runtime; its menu is built fresh each time it opens.

If the desktop has no tray yet (a panel that starts after us, or none at all) the icon keeps trying to
appear; the app meanwhile shows its window instead of exiting.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from vpnswitch.ui import texts
from vpnswitch.ui.facade import EMPTY, Snapshot
from vpnswitch.ui.qtcompat import emit
from vpnswitch.ui.resources import state_icon
from vpnswitch.ui.status import IconState, icon_state

log = logging.getLogger(__name__)

RETRY_MS = 2000
EMBED_POLL_MS = 20
EMBED_WAIT_S = 15.0
TOOLTIP_MAX = 120  # Windows cuts tooltips at 127 characters


def local_time(iso_text: str | None) -> str:
    if not iso_text:
        return ""
    try:
        return datetime.fromisoformat(iso_text.replace("Z", "+00:00")).astimezone().strftime("%H:%M:%S")
    except ValueError:
        return ""


def status_line(s: Snapshot, *, starting: bool = False) -> str:
    """One sentence: where traffic goes now and whether it works."""
    if starting:
        return QCoreApplication.translate("Tray", "Starting…")
    active = s.active or ""
    if s.state == "connected":
        text = QCoreApplication.translate("Tray", "Connected via %1: %2").replace("%1", active).replace(
            "%2", texts.verdict(s.verdict))
    elif s.state == "switching":
        text = QCoreApplication.translate("Tray", "Switching to %1…").replace("%1", active)
    elif s.state == "connecting":
        text = QCoreApplication.translate("Tray", "Connecting to %1…").replace("%1", active)
    elif s.state == "verifying":
        text = QCoreApplication.translate("Tray", "Checking %1…").replace("%1", active)
    elif s.state == "disconnecting":
        text = QCoreApplication.translate("Tray", "Disconnecting %1…").replace("%1", active)
    elif s.state == "offline":
        text = QCoreApplication.translate("Tray", "Offline: the network itself is down")
    elif s.state == "exhausted":
        text = QCoreApplication.translate("Tray", "No VPN works right now; trying again")
    elif s.state == "error":
        text = QCoreApplication.translate("Tray", "%1 needs attention").replace("%1", active or "vpnswitch")
    elif s.state == "paused":
        text = (QCoreApplication.translate("Tray", "Paused, staying on %1").replace("%1", active) if active
                else QCoreApplication.translate("Tray", "Paused"))
    elif not s.profiles:
        text = QCoreApplication.translate("Tray", "No profiles yet")
    else:
        text = QCoreApplication.translate("Tray", "Not connected")
    if s.paused and s.state != "paused":
        text += " " + QCoreApplication.translate("Tray", "(automatic switching paused)")
    if s.holding:
        text += " " + QCoreApplication.translate("Tray", "(holding: switched too often)")
    return text


def tooltip(s: Snapshot, *, starting: bool = False) -> str:
    lines = ["vpnswitch", status_line(s, starting=starting)]
    when = local_time(s.last_check)
    if when:
        lines.append(QCoreApplication.translate("Tray", "Last check: %1").replace("%1", when))
    text = "\n".join(lines)
    return text if len(text) <= TOOLTIP_MAX else text[: TOOLTIP_MAX - 1] + "…"


class TrayController(QObject):
    settings_requested = Signal()
    status_requested = Signal()
    history_requested = Signal()
    check_requested = Signal()
    quit_requested = Signal()
    switch_requested = Signal(str)
    pause_requested = Signal(bool)  # True: pause, False: resume
    embedded = Signal(float)  # seconds since the controller was created, once the icon is really in a tray

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.created_at = time.monotonic()
        self.snapshot = EMPTY
        self.starting = True
        self.stopping = False
        self.icon_name: IconState = "checking"
        self.tray = QSystemTrayIcon(self)
        self.menu = QMenu()
        self.menu.aboutToShow.connect(self.rebuild_menu)
        self.tray.setContextMenu(self.menu)
        self.tray.activated.connect(self._activated)
        self._retry = QTimer(self)
        self._retry.setInterval(RETRY_MS)
        self._retry.timeout.connect(self._ensure_visible)
        self._embed_poll = QTimer(self)
        self._embed_poll.setInterval(EMBED_POLL_MS)
        self._embed_poll.timeout.connect(self._check_embedded)
        self._embedded_reported = False
        self._poll_started = 0.0
        self._apply()
        self.rebuild_menu()

    # ------------------------------------------------------------------------------------------ showing

    def start(self) -> bool:
        """Show the icon if a tray exists; otherwise keep trying. Returns whether a tray exists now."""
        available = QSystemTrayIcon.isSystemTrayAvailable()
        self.tray.show()
        self._retry.start()
        if available:
            self._start_embed_poll()
        else:
            log.warning("no system tray yet; the window stays open and the icon appears when a tray does")
        return available

    def tray_available(self) -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def _ensure_visible(self) -> None:
        """Some trays lose icons when the panel restarts; re-showing is harmless."""
        if QSystemTrayIcon.isSystemTrayAvailable():
            if not self.tray.isVisible():
                self.tray.show()
            if not self._embedded_reported and not self._embed_poll.isActive():
                self._start_embed_poll()

    def _start_embed_poll(self) -> None:
        self._poll_started = time.monotonic()
        self._embed_poll.start()

    def _check_embedded(self) -> None:
        """An XEmbed icon has geometry once the panel took it; D-Bus (SNI) icons never do."""
        elapsed = time.monotonic() - self.created_at
        geometry = self.tray.geometry()
        if not geometry.isEmpty() or time.monotonic() - self._poll_started > EMBED_WAIT_S:
            self._embed_poll.stop()
            if not self._embedded_reported:
                self._embedded_reported = True
                log.info("tray icon shown %.3f s after start (geometry %d,%d %dx%d)", elapsed, geometry.x(),
                         geometry.y(), geometry.width(), geometry.height())
                emit(self.embedded, elapsed)

    # ---------------------------------------------------------------------------------------- following

    def update(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.starting = False
        self._apply()
        if not self.menu.isVisible():
            self.rebuild_menu()

    def set_stopping(self) -> None:
        self.stopping = True
        self.tray.setToolTip("vpnswitch\n" + QCoreApplication.translate("Tray", "Stopping…"))
        self.rebuild_menu()

    def _apply(self) -> None:
        name = "checking" if self.starting else icon_state(self.snapshot)
        if name != self.icon_name or self.tray.icon().isNull():
            self.icon_name = name
            self.tray.setIcon(state_icon(name))
        self.tray.setToolTip(tooltip(self.snapshot, starting=self.starting))

    # --------------------------------------------------------------------------------------------- menu

    def rebuild_menu(self) -> None:
        menu = self.menu
        menu.clear()
        s = self.snapshot
        status = menu.addAction(status_line(s, starting=self.starting))
        status.setEnabled(False)
        status.setObjectName("status")
        bold = status.font()
        bold.setBold(True)
        status.setFont(bold)
        if s.message:
            detail = menu.addAction(s.message if len(s.message) < 90 else s.message[:89] + "…")
            detail.setEnabled(False)
        menu.addSeparator()
        if not s.profiles and not self.starting:
            empty = menu.addAction(QCoreApplication.translate("Tray", "No profiles yet: add one in Settings"))
            empty.setEnabled(False)
        group = QActionGroup(menu)
        group.setExclusive(True)
        for profile in s.profiles:
            label = profile.name.replace("&", "&&")
            if profile.state not in ("active", "standby"):
                label += f"  ({texts.profile_state(profile.state)})"
            elif profile.state == "standby" and profile.warm:
                label += f"  ({texts.warm_state(profile.warm)})"
            action = menu.addAction(label)
            action.setObjectName(f"profile:{profile.name}")
            action.setCheckable(True)
            action.setChecked(profile.name == s.active)
            group.addAction(action)
            action.setEnabled(profile.enabled and not self.stopping)
            action.triggered.connect(lambda _=False, name=profile.name: emit(self.switch_requested, name))
        menu.addSeparator()
        if s.paused:
            pause = menu.addAction(QCoreApplication.translate("Tray", "Resume automatic switching"))
            pause.triggered.connect(lambda: emit(self.pause_requested, False))
        else:
            pause = menu.addAction(QCoreApplication.translate("Tray", "Pause automatic switching"))
            pause.triggered.connect(lambda: emit(self.pause_requested, True))
        pause.setObjectName("pause")
        check = menu.addAction(QCoreApplication.translate("Tray", "Check now"))
        check.setObjectName("check")
        check.triggered.connect(lambda: emit(self.check_requested))
        for action in (pause, check):
            action.setEnabled(not self.starting and not self.stopping)
        menu.addSeparator()
        status_window = menu.addAction(QCoreApplication.translate("Tray", "Status…"))
        status_window.setObjectName("status_window")
        status_window.triggered.connect(lambda: emit(self.status_requested))
        settings = menu.addAction(QCoreApplication.translate("Tray", "Settings…"))
        settings.setObjectName("settings")
        settings.triggered.connect(lambda: emit(self.settings_requested))
        history = menu.addAction(QCoreApplication.translate("Tray", "History…"))
        history.setObjectName("history")
        history.triggered.connect(lambda: emit(self.history_requested))
        menu.addSeparator()
        quit_action = menu.addAction(QCoreApplication.translate("Tray", "Quit"))
        quit_action.setObjectName("quit")
        quit_action.setEnabled(not self.stopping)
        quit_action.triggered.connect(lambda: emit(self.quit_requested))

    def actions(self) -> list[QAction]:
        return [a for a in self.menu.actions() if not a.isSeparator()]

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            emit(self.status_requested)

    def hide(self) -> None:
        self._retry.stop()
        self._embed_poll.stop()
        self.tray.hide()
