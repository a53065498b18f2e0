"""``vpnswitch`` with no command: the tray app, running the same engine and control socket as the daemon.

Start-up order is chosen for the user: claim the single-instance lock, read just the language from the settings
file, show the tray icon, then load and validate the settings and start the engine on a worker (imports, the
keyring and sockets take a few hundred milliseconds the icon need not wait for). A broken settings file does not
stop the app: it runs on defaults in memory, says so in the settings window, and leaves the file alone until the
user saves (the old bytes are then kept aside).
"""

from __future__ import annotations

import json
import logging
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QSocketNotifier, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from vpnswitch import APP_ID
from vpnswitch.core import logs
from vpnswitch.core.config import Config, Desktop, default_config
from vpnswitch.core.errors import ConfigError, ConfigUnreadable, VpnSwitchError
from vpnswitch.core.paths import Paths
from vpnswitch.ui import facade
from vpnswitch.ui.bridge import RuntimeBridge
from vpnswitch.ui.facade import Autostart, RuntimePort
from vpnswitch.ui.i18n import Localizer, resolve
from vpnswitch.ui.notifications import FreedesktopNotifier, NotificationCenter, Notifier, TrayNotifier
from vpnswitch.ui.qtcompat import emit
from vpnswitch.ui.resources import DESKTOP_ID, app_icon
from vpnswitch.ui.single_instance import SingleInstance
from vpnswitch.ui.tray import TrayController
from vpnswitch.ui.workers import Workers

log = logging.getLogger(__name__)

CHECK_WAIT = 40.0
QUIT_DEADLINE_MS = 25_000

@dataclass
class Started:
    port: RuntimePort
    notice: str = ""  # what went wrong with the settings file, for the user
    first_start: facade.FirstStart | None = None  # no settings file yet: nothing runs until the user agrees


# Blocking, run on a worker: returns the running engine (a Started, or just the port when there is nothing to say).
EngineStarter = Callable[[RuntimeBridge], "Started | RuntimePort"]


def instance_starter(paths: Paths) -> EngineStarter:
    """The real engine, subscribed before it starts so no snapshot is missed."""

    def start(bridge: RuntimeBridge) -> Started:
        first = facade.first_start(paths)
        if first is not None:
            # First start: the engine runs with no profile, so nothing connects until the user presses Start
            # on the welcome page (which saves the settings; later starts then connect as configured).
            config, notice = replace(first.proposal, profiles=()), ""
        else:
            config, notice = config_or_defaults_with_notice(paths)
        port = facade.start_instance(paths, config, bridge.request_show, bridge.attach)
        return Started(port, notice, first)

    return start


def config_or_defaults_with_notice(paths: Paths) -> tuple[Config, str]:
    """Blocking. The settings to run with, and what to tell the user if the file could not be used."""
    try:
        return facade.load_settings(paths), ""
    except (ConfigError, ConfigUnreadable) as exc:
        log.error("settings file not usable, running on defaults: %s", exc.explain())
        return default_config(), exc.explain()


def read_desktop_prefs(config_file: Path) -> Desktop:
    """Language and notifications, read without validating the rest, so the tray can speak before the engine
    is loaded. Anything odd gives the defaults; the full check happens when the engine starts."""
    try:
        data = json.loads(config_file.read_bytes())
    except (OSError, ValueError):
        return Desktop()
    desktop = data.get("desktop") if isinstance(data, dict) else None
    if not isinstance(desktop, dict):
        return Desktop()
    language, notifications = desktop.get("language"), desktop.get("notifications")
    return Desktop(notifications=notifications if isinstance(notifications, bool) else True,
                   language=language if isinstance(language, str) and language else "system")


class DesktopApp(QObject):
    """Owns the tray, the windows, notifications and the engine port; wires them together on the GUI thread."""

    engine_ready = Signal(object)  # RuntimePort

    def __init__(self, app: QApplication, paths: Paths, *, starter: EngineStarter, localizer: Localizer,
                 prefs: Desktop | None = None, minimized: bool = False, autostart: Autostart | None = None,
                 notifier: Notifier | None = None) -> None:
        super().__init__()
        self.app = app
        self.paths = paths
        self.prefs = prefs or Desktop()
        self.config: Config | None = None  # the engine's, once it runs
        self.starter = starter
        self.localizer = localizer
        self.minimized = minimized
        self.notice = ""
        self.autostart = autostart or facade.autostart()
        self.port: RuntimePort | None = None
        self.stopping = False
        self.stopped = False
        self.exit_code = 0
        self.settings_window: Any = None
        self.history_window: Any = None
        self.status_window: Any = None
        self.welcome_window: Any = None
        self.first_start: facade.FirstStart | None = None
        self._pending: list[str] = []
        self.workers = Workers(self)
        self.bridge = RuntimeBridge(self)
        self.tray = TrayController(self)
        fallback = TrayNotifier(self.tray.tray)
        primary = notifier or (FreedesktopNotifier(self) if FreedesktopNotifier.available() else fallback)
        self.notifications = NotificationCenter(primary, fallback, enabled=self.prefs.notifications, parent=self)

        self.bridge.snapshot.connect(self._snapshot)
        self.bridge.notified.connect(self.notifications.offer)
        self.bridge.notified.connect(self._notified)
        self.bridge.show_requested.connect(self.show_settings)
        self.tray.settings_requested.connect(self.show_settings)
        self.tray.history_requested.connect(self.show_history)
        self.tray.status_requested.connect(self.show_status)
        self.tray.quit_requested.connect(self.quit)
        self.tray.check_requested.connect(self.check_now)
        self.tray.switch_requested.connect(self.switch)
        self.tray.pause_requested.connect(self.set_paused)
        self.app.aboutToQuit.connect(self._about_to_quit)

    # ------------------------------------------------------------------------------------------- start-up

    def start(self) -> None:
        tray_ok = self.tray.start()
        if not self.minimized or not tray_ok:
            self._pending.append("settings")
        starter, bridge = self.starter, self.bridge  # the worker must not hold the app object itself
        self.workers.submit(lambda: starter(bridge), self._engine_started, self._engine_failed, name="vpnswitch-start")

    def _engine_started(self, started: Started | RuntimePort) -> None:
        if not isinstance(started, Started):
            started = Started(started)
        port = self.port = started.port
        self.config = port.config
        self.notice = started.notice
        self.first_start = started.first_start
        if self.first_start is not None:
            self._pending = ["welcome"]  # the welcome page instead of the settings, even when started minimised
        if self.notice:
            self._pending.append("settings")  # say it even when started minimised
        self.notifications.enabled = self.config.desktop.notifications
        if resolve(self.config.desktop.language) != self.localizer.language:
            self.localizer.apply(self.config.desktop.language)  # the quick read at start-up did not see it
        self.tray.update(port.snapshot())
        emit(self.engine_ready, port)
        if self.stopping:
            self._stop_engine()
            return
        pending, self._pending = self._pending, []
        for what in dict.fromkeys(pending):
            {"history": self.show_history, "status": self.show_status, "welcome": self.show_welcome}.get(
                what, self.show_settings)()

    def _engine_failed(self, error: BaseException) -> None:
        message = error.explain() if isinstance(error, VpnSwitchError) else f"{type(error).__name__}: {error}"
        log.error("the engine could not start: %s", message)
        self.exit_code = 1
        box = QMessageBox(QMessageBox.Icon.Critical, "vpnswitch",
                          self.tr("vpnswitch could not start:") + "\n\n" + message)
        box.addButton(self.tr("Quit"), QMessageBox.ButtonRole.AcceptRole)
        box.finished.connect(lambda _result: self.exit(1))
        box.open()

    # ------------------------------------------------------------------------------------------- windows

    def _raise(self, window: QWidget) -> None:
        window.show()
        window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMinimized)
        window.raise_()
        window.activateWindow()

    def show_settings(self) -> None:
        if self.port is None:
            self._pending.append("settings")
            return
        if self.settings_window is None:
            from vpnswitch.ui.settings.window import SettingsWindow

            notice = ""
            if self.notice:
                notice = self.tr("Your settings file could not be used, so vpnswitch is running with default "
                                 "settings. The file is left as it is until you save; it is then kept next to the "
                                 "new one, so nothing you wrote is lost.") + "\n" + self.notice
            window = SettingsWindow(self.port, self.workers, self.autostart, config_file=self.paths.config_file,
                                    log_dir=self.paths.log_dir, notice=notice)
            window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            window.saved.connect(self._settings_saved)
            window.destroyed.connect(lambda *_, w=window: self._forget(w))
            self.settings_window = window
        self._raise(self.settings_window)

    def show_history(self) -> None:
        if self.port is None:
            self._pending.append("history")
            return
        if self.history_window is None:
            from vpnswitch.ui.history_window import HistoryWindow

            window = HistoryWindow(self.port, self.workers)
            window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            window.destroyed.connect(lambda *_, w=window: self._forget(w))
            self.history_window = window
        else:
            self.history_window.refresh()
        self._raise(self.history_window)

    def show_welcome(self) -> None:
        if self.port is None or self.first_start is None:
            return
        if self.welcome_window is None:
            from vpnswitch.ui.welcome import WelcomeWindow

            window = WelcomeWindow(self.port, self.workers, self.first_start)
            window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            window.destroyed.connect(lambda *_, w=window: self._forget(w))
            window.started.connect(self._welcome_done)
            window.settings_requested.connect(self.show_settings)
            self.welcome_window = window
        self._raise(self.welcome_window)

    def _welcome_done(self, config: Config) -> None:
        self.first_start = None
        self._settings_saved(config)
        if self.settings_window is not None:
            self.settings_window.load(config)
        self.show_status()

    def show_status(self) -> None:
        if self.port is None:
            self._pending.append("status")
            return
        if self.status_window is None:
            from vpnswitch.ui.status_window import StatusWindow

            window = StatusWindow(self.port, self.workers)
            window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            window.destroyed.connect(lambda *_, w=window: self._forget(w))
            window.switch_requested.connect(self.switch)
            window.pause_requested.connect(self.set_paused)
            self.status_window = window
        else:
            self.status_window.refresh()
        self._raise(self.status_window)

    def _forget(self, window: QWidget) -> None:
        """A closed window is gone; a newer one (after a language switch) must not be forgotten with it."""
        if self.settings_window is window:
            self.settings_window = None
        if self.history_window is window:
            self.history_window = None
        if self.status_window is window:
            self.status_window = None
        if self.welcome_window is window:
            self.welcome_window = None

    def _settings_saved(self, config: Config) -> None:
        language = self.localizer.language
        self.config = config
        self.notice = ""
        self.notifications.enabled = config.desktop.notifications
        if resolve(config.desktop.language) != language:
            self.apply_language(config.desktop.language)

    def apply_language(self, setting: str) -> None:
        """Switch language now: open windows are rebuilt in the new language (the tray menu is built on open)."""
        self.localizer.apply(setting)
        reopen_settings = self.settings_window is not None
        tab = self.settings_window.tabs.currentIndex() if reopen_settings else 0
        reopen_history = self.history_window is not None
        reopen_status = self.status_window is not None
        for window in (self.settings_window, self.history_window, self.status_window):
            if window is not None:
                if hasattr(window, "dirty"):
                    window.dirty = False  # just saved; nothing to ask about
                window.close()
        self.settings_window = self.history_window = self.status_window = None
        self.tray.update(self.tray.snapshot)
        if reopen_settings:
            self.show_settings()
            self.settings_window.tabs.setCurrentIndex(tab)
        if reopen_history:
            self.show_history()
        if reopen_status:
            self.show_status()

    # ------------------------------------------------------------------------------------------- actions

    def _snapshot(self, snapshot: Any) -> None:
        self.tray.update(snapshot)
        if self.settings_window is not None:
            self.settings_window.update_snapshot(snapshot)
        if self.status_window is not None:
            self.status_window.update_snapshot(snapshot)

    def _notified(self, kind: str, _title: str, _message: str) -> None:
        if kind == "switch" and self.status_window is not None:
            self.status_window.refresh()  # the last switch, from the history

    def switch(self, profile: str) -> None:
        if self.port is None:
            return
        try:
            self.port.switch(profile)
        except KeyError:
            self.notifications.show_now("error", self.tr("No such profile"), profile)

    def set_paused(self, paused: bool) -> None:
        if self.port is not None:
            self.port.pause() if paused else self.port.resume()

    def check_now(self) -> None:
        if self.port is None:
            return
        future = self.port.check()
        self.workers.submit(lambda: future.result(timeout=CHECK_WAIT), self._checked,
                            lambda exc: self.notifications.show_now(
                                "error", self.tr("Check failed"), str(exc) or type(exc).__name__))

    def _checked(self, report: Any) -> None:
        from vpnswitch.ui import texts

        if not report.targets:
            title = self.tr("Nothing to check")
            body = report.message or self.tr("No profile is connected right now.")
        else:
            ok = sum(1 for t in report.targets if t.get("ok"))
            title = self.tr("%1: %2").replace("%1", report.active or "?").replace("%2", texts.verdict(report.verdict))
            body = self.tr("%1 of %2 sites answered.").replace("%1", str(ok)).replace("%2", str(len(report.targets)))
            failed = [f"{t.get('url')}: {t.get('error') or t.get('status')}" for t in report.targets if not t.get("ok")]
            if failed:
                body += "\n" + "\n".join(failed[:3])
        self.notifications.show_now("info", title, body)

    # ---------------------------------------------------------------------------------------------- quit

    def quit(self) -> None:
        """Disconnect on a worker, then leave; a stuck disconnect cannot keep the app from closing."""
        if self.stopping:
            return
        self.stopping = True
        self.tray.set_stopping()
        for window in (self.settings_window, self.history_window, self.status_window):
            if window is not None:
                window.hide()
        QTimer.singleShot(QUIT_DEADLINE_MS, lambda: self.exit(self.exit_code))
        if self.port is not None:
            self._stop_engine()
        # else: the engine is still starting; _engine_started stops it as soon as it exists

    def _stop_engine(self) -> None:
        port = self.port
        assert port is not None
        self.workers.submit(port.stop, lambda _r: self._stopped(), lambda _e: self._stopped(), name="vpnswitch-stop")

    def _stopped(self) -> None:
        self.stopped = True
        self.tray.hide()
        self.exit(self.exit_code)

    def exit(self, code: int) -> None:
        """Leave the event loop (tests replace this to keep their own loop running)."""
        self.app.exit(code)

    def _about_to_quit(self) -> None:
        """The session is ending (or Qt quits for another reason): stop the engine before the process goes."""
        if self.port is not None and not self.stopped and not self.stopping:
            self.stopping = True
            try:
                self.port.stop()
            finally:
                self.stopped = True


def _install_signal_handlers(on_quit: Callable[[], None]) -> list[Any]:
    """SIGTERM/SIGINT end the app cleanly (disconnecting first); the event loop wakes through a socket."""
    if sys.platform == "win32":
        return []
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno())
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: None)  # the wakeup byte does the work, on the GUI thread
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read)

    def woke() -> None:
        try:
            reader.recv(64)
        except OSError:
            pass
        on_quit()

    notifier.activated.connect(woke)
    return [reader, writer, notifier]


def make_application() -> QApplication:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([sys.argv[0] if sys.argv else APP_ID])
    app.setApplicationName(APP_ID)
    app.setApplicationDisplayName("vpnswitch")
    app.setDesktopFileName(DESKTOP_ID)
    app.setQuitOnLastWindowClosed(False)
    app.setWindowIcon(app_icon())
    return app


def run_tray(paths: Paths, *, minimized: bool, verbose: bool) -> int:
    logs.setup(paths.log_dir, verbose=verbose)
    app = make_application()
    single = SingleInstance(paths.runtime_dir, paths.control_name)
    try:
        if not single.claim():
            log.info("vpnswitch is already running; asked it to show its window")
            print("vpnswitch is already running; its settings window was brought to the front.")
            return 0
    except RuntimeError as exc:
        print(f"vpnswitch: {exc}", file=sys.stderr)
        return 1
    prefs = read_desktop_prefs(paths.config_file)
    localizer = Localizer(app)
    localizer.apply(prefs.language)
    desktop = DesktopApp(app, paths, starter=instance_starter(paths), localizer=localizer, prefs=prefs,
                         minimized=minimized)
    single.message_received.connect(lambda _message: desktop.show_settings())
    keep = _install_signal_handlers(desktop.quit)
    desktop.start()
    try:
        code = app.exec()
    finally:
        single.release()
        del keep
    return code if code else desktop.exit_code
