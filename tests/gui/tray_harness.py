"""The desktop app on a real X server, wired to a fake runtime that a test drives over stdin/stdout.

    python -m tests.gui.tray_harness CONFIG_DIR      (DISPLAY and DBUS_SESSION_BUS_ADDRESS from the session)

Everything but the runtime is the real app: DesktopApp, tray icon, menu, notifications, windows. Commands come
in as JSON lines on stdin ({"cmd": "push", "state": "connected", "active": "wg-home", "verdict": "healthy"});
what happens goes out as JSON lines on stdout ({"event": "menu", ...}).
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QPoint, QRect, QTimer, Signal

from tests.gui.fakes import FakePort, command_profile, snapshot_for
from vpnswitch.core.config import Config, ProbeTarget
from vpnswitch.core.paths import Paths
from vpnswitch.system.autostart import XdgAutostart
from vpnswitch.ui.app import DesktopApp, make_application
from vpnswitch.ui.i18n import Localizer
from vpnswitch.ui.notifications import FreedesktopNotifier
from vpnswitch.ui.qtcompat import emit as emit_signal

PROFILES = ("wg-home", "wg-office", "ovpn-tcp")


def emit(event: str, **data: Any) -> None:
    print(json.dumps({"event": event, **data}), flush=True)


def rect(r: QRect) -> list[int]:
    return [r.x(), r.y(), r.width(), r.height()]


class Stdin(QObject):
    line = Signal(str)

    def start(self) -> None:
        def read() -> None:
            for raw in sys.stdin:
                emit_signal(self.line, raw)
            emit_signal(self.line, '{"cmd": "eof"}')

        threading.Thread(target=read, daemon=True).start()


class RecordingPort(FakePort):
    """Tells the test about every call that reached "the runtime"."""

    def switch(self, profile: str) -> None:
        super().switch(profile)
        emit("call", call=["switch", profile])

    def pause(self) -> None:
        super().pause()
        emit("call", call=["pause"])

    def resume(self) -> None:
        super().resume()
        emit("call", call=["resume"])

    def stop(self) -> None:
        super().stop()
        emit("call", call=["stop"])


def main() -> int:
    root = Path(sys.argv[1])
    app = make_application()
    config = Config(profiles=tuple(command_profile(n) for n in PROFILES),
                    targets=(ProbeTarget("http://127.0.0.1:9/", "canary", (204,)),))
    port = RecordingPort(config, root / "config.json")
    paths = Paths(config_file=root / "config.json", state_dir=root / "state", cache_dir=root / "cache",
                  log_dir=root / "log", runtime_dir=root / "run")
    localizer = Localizer(app)
    localizer.apply("en")

    def starter(bridge: Any) -> FakePort:
        bridge.attach(port)
        return port

    desktop = DesktopApp(app, paths, starter=starter, localizer=localizer, minimized=True,
                         autostart=XdgAutostart(config_home=root / "xdg", command=["vpnswitch", "--minimized"]))
    def leave(code: int) -> None:
        emit("exit", code=code)
        app.exit(code)

    desktop.exit = leave  # type: ignore[method-assign]
    tray = desktop.tray

    tray.embedded.connect(lambda s: emit("ready", tray=rect(tray.tray.geometry()), seconds=s,
                                         available=tray.tray_available()))
    desktop.engine_ready.connect(lambda _port: QTimer.singleShot(300, report_window))
    desktop.bridge.snapshot.connect(lambda _s: emit("icon", state=tray.icon_name, tooltip=tray.tray.toolTip()))
    desktop.notifications.shown.connect(lambda n: emit("notified", kind=n.kind, title=n.title, message=n.message))
    tray.tray.activated.connect(lambda reason: emit("activated", reason=reason.name))
    if isinstance(desktop.notifications.primary, FreedesktopNotifier):
        emit("notifier", kind="freedesktop")

    def report_window() -> None:
        if desktop.settings_window is not None:
            emit("window", geometry=rect(desktop.settings_window.frameGeometry()))

    def report_menu() -> None:
        menu = tray.menu
        actions = {}
        for action in tray.actions():
            geometry = menu.actionGeometry(action)
            top_left = menu.mapToGlobal(geometry.topLeft())
            actions[action.objectName() or action.text()] = [top_left.x(), top_left.y(), geometry.width(),
                                                             geometry.height()]
        emit("menu", entries=[a.text() for a in tray.actions()], enabled=[a.isEnabled() for a in tray.actions()],
             geometry=rect(menu.geometry()), actions=actions, visible=menu.isVisible())

    tray.menu.aboutToShow.connect(lambda: QTimer.singleShot(150, report_menu))

    def command(raw: str) -> None:
        try:
            msg = json.loads(raw)
        except ValueError:
            return
        cmd = msg.get("cmd")
        if cmd == "push":
            port.push(snapshot_for(port.config, state=msg["state"], active=msg.get("active"),
                                   verdict=msg.get("verdict", "unknown"), last_check=msg.get("last_check")))
        elif cmd == "notify":
            port.notify(msg["kind"], msg["title"], msg["message"])
        elif cmd == "popup":
            g = tray.tray.geometry()
            tray.menu.popup(QPoint(g.x(), g.y() + g.height()))
        elif cmd == "menu":
            report_menu()
        elif cmd == "close-menu":
            tray.menu.hide()
        elif cmd == "settings":
            desktop.show_settings()
            QTimer.singleShot(300, report_window)
        elif cmd == "rows":
            lst = desktop.settings_window.profiles.list
            rows = []
            for row in range(lst.count()):
                r = lst.visualItemRect(lst.item(row))
                top_left = lst.viewport().mapToGlobal(r.topLeft())
                rows.append([top_left.x(), top_left.y(), r.width(), r.height()])
            emit("rows", rows=rows, names=[d.name for d in desktop.settings_window.profiles.drafts()])
        elif cmd == "windows":
            emit("windows", status=desktop.status_window is not None and desktop.status_window.isVisible(),
                 settings=desktop.settings_window is not None and desktop.settings_window.isVisible())
        elif cmd == "sent":
            primary = desktop.notifications.primary
            emit("sent", ids=list(getattr(primary, "sent", [])))
        elif cmd in ("quit", "eof"):
            desktop.quit()

    stdin = Stdin()
    stdin.line.connect(command)
    stdin.start()
    desktop.start()
    emit("started")
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
