"""The desktop app with the REAL engine, run by a test in a private X session (``tests/gui/test_real_runtime.py``).

    python -m tests.gui.real_flow ROOT LANGUAGE SHOTS_DIR

Two ``command`` profiles stand for two VPN apps; each "app" is a SOCKS proxy on loopback (tests/support/servers),
the sites to check an HTTP server on loopback. Only detection is replaced (what happens to be installed on the
test machine must not decide the test): it "finds" those two profiles. Everything else is the real app: first
start with no settings file, the welcome page, Start, the runtime connecting and probing, a block (the first
proxy black-holes traffic), the failover, the notification over D-Bus, the status window, a form edit saved and
applied without a restart. Each step prints one JSON line; each window is saved as a PNG in SHOTS_DIR.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication, QWidget

from tests.support import fakevpn
from tests.support.servers import HttpSite, SocksProxy
from vpnswitch.core.config import Config, Desktop, ProbeTarget, Profile, Timings

TIMINGS = Timings(probe_interval_min=2, probe_interval_max=3, probe_timeout=1.0, confirm_delay=0.2,
                  quarantine_initial=300)


def emit(event: str, **data: Any) -> None:
    print(json.dumps({"event": event, **data}), flush=True)


def command_params(state: Path, proxy: SocksProxy) -> dict[str, Any]:
    script = fakevpn.__file__
    return {"connect": [sys.executable, script, "up", str(state)],
            "disconnect": [sys.executable, script, "down", str(state)],
            "status": [sys.executable, script, "status", str(state)], "proxy": proxy.url}


def wait(what: str, predicate: Callable[[], bool], limit: float = 60.0) -> float:
    app = QApplication.instance()
    assert app is not None
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > limit:
            emit("timeout", what=what)
            raise SystemExit(3)
        app.processEvents()
        time.sleep(0.02)
    return time.monotonic() - started


def settle(seconds: float = 0.4) -> None:
    end = time.monotonic() + seconds
    app = QApplication.instance()
    assert app is not None
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def shot(window: QWidget, path: Path) -> None:
    settle()
    window.grab().save(str(path))
    emit("screenshot", path=str(path))


def main() -> int:
    root, language, shots = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    shots.mkdir(parents=True, exist_ok=True)
    with HttpSite() as site, SocksProxy() as first, SocksProxy() as second, SocksProxy() as third:
        return run(root, language, shots, site, first, second, third)


def run(root: Path, language: str, shots: Path, site: HttpSite, first: SocksProxy, second: SocksProxy,
        third: SocksProxy) -> int:
    from vpnswitch.backends import detect
    from vpnswitch.backends.detect import Detected
    from vpnswitch.core.paths import Paths
    from vpnswitch.system.autostart import XdgAutostart
    from vpnswitch.ui.app import DesktopApp, instance_starter, make_application
    from vpnswitch.ui.i18n import Localizer

    found = [Detected("first-vpn", "First VPN", "command", "loopback test app",
                      (Profile("first", "command", command_params(root / "first", first)),)),
             Detected("second-vpn", "Second VPN", "command", "loopback test app",
                      (Profile("second", "command", command_params(root / "second", second)),))]
    targets = (ProbeTarget(site.url("/generate_204"), "canary", (204,)),
               ProbeTarget(f"http://localhost:{site.port}/generate_204", "canary", (204,)),
               ProbeTarget(site.url("/status/200"), "must-reach", (200,)))
    detect.detect = lambda *args, **kwargs: found  # type: ignore[assignment]
    detect.default_config = lambda detected=None: Config(  # type: ignore[assignment]
        profiles=tuple(p for d in found for p in d.profiles), targets=targets, timings=TIMINGS,
        desktop=Desktop(language=language))

    app = make_application()
    paths = Paths(config_file=root / "config.json", state_dir=root / "state", cache_dir=root / "cache",
                  log_dir=root / "log", runtime_dir=root / "run")
    localizer = Localizer(app)
    localizer.apply(language)
    desktop = DesktopApp(app, paths, starter=instance_starter(paths), localizer=localizer, minimized=True,
                         autostart=XdgAutostart(config_home=root / "xdg", command=["vpnswitch", "--minimized"]))
    exited: list[int] = []
    desktop.exit = exited.append  # type: ignore[method-assign]
    notes: list[Any] = []
    desktop.notifications.shown.connect(notes.append)
    desktop.start()

    # First start: the welcome page, and nothing connects until Start.
    wait("the welcome page", lambda: desktop.welcome_window is not None and desktop.welcome_window.isVisible())
    welcome = desktop.welcome_window
    emit("welcome", offers=[p.name for p in welcome.chosen()], config_file=paths.config_file.exists())
    settle(3.0)  # a few probe intervals: had the engine connected, it would have by now
    assert desktop.port is not None
    before = desktop.port.snapshot()
    emit("before-start", state=before.state, active=before.active, profiles=len(before.profiles),
         first_up=(root / "first").exists(), proxy_connections=first.connections + second.connections)
    shot(welcome, shots / f"welcome-{language}.png")
    welcome.start_button.click()
    took = wait("connected through first", lambda: desktop.port is not None
                and desktop.port.snapshot().state == "connected" and desktop.port.snapshot().active == "first"
                and desktop.port.snapshot().verdict == "healthy")
    emit("connected", seconds=round(took, 1), config_file=paths.config_file.exists(),
         saved=[p["name"] for p in json.loads(paths.config_file.read_text())["profiles"]])
    wait("the status window", lambda: desktop.status_window is not None and desktop.status_window.isVisible())
    status = desktop.status_window
    wait("a latency sample", lambda: status.series.count() >= 2, 30)
    shot(status, shots / f"status-{language}.png")

    # A block: the first "VPN" stops carrying traffic; the engine fails over; the user is told.
    first.blackhole = True
    took = wait("the switch to second", lambda: desktop.port.snapshot().active == "second"
                and desktop.port.snapshot().state == "connected", 90)
    wait("the switch notification", lambda: any(n.kind == "switch" for n in notes), 20)
    wait("the last switch in the status window", lambda: "second" in status.last.text()
         and status.switch is not None, 20)
    note = next(n for n in notes if n.kind == "switch")
    primary = desktop.notifications.primary
    rungs = [status.ladder.topLevelItem(i) for i in range(status.ladder.topLevelItemCount())]
    emit("switched", seconds=round(took, 1), title=note.title, message=note.message,
         last_switch=status.last.text(), ladder=[[r.text(0), r.text(1), r.text(2)] for r in rungs if r],
         headline=status.headline.text(), sent=list(getattr(primary, "sent", [])),
         notifier=type(primary).__name__)
    shot(status, shots / f"status-after-switch-{language}.png")
    settle(0.5)
    screen = app.primaryScreen()
    screen.grabWindow(0).save(str(shots / f"screen-notification-{language}.png"))  # dunst's bubble, top right

    # A form edit: "first" gets a new proxy in the settings form; saved, applied at once, no restart.
    desktop.show_settings()
    settings = desktop.settings_window
    wait("the settings window", lambda: settings.isVisible())
    settings.profiles.list.setCurrentRow(0)
    editor = settings.profiles.editor
    assert editor is not None and editor.draft.name == "first"
    shot(settings, shots / f"settings-command-{language}.png")
    editor.params_editor.route_value.setText(third.url)
    settle(0.2)
    settings.save()
    wait("saved", lambda: not settings.saving and not settings.dirty, 30)
    applied = desktop.port.config.profiles[0].params.get("proxy")
    desktop.switch("first")
    wait("connected through first again", lambda: desktop.port.snapshot().active == "first"
         and desktop.port.snapshot().state == "connected" and desktop.port.snapshot().verdict == "healthy", 60)
    emit("edited", applied=applied, saved=json.loads(paths.config_file.read_text())["profiles"][0]["params"]["proxy"],
         third_connections=third.connections, same_process=True)

    # The other windows, for the docs: a Tor form and a WireGuard form built from their declared parameters.
    for backend, params in (("tor", {"transport": "obfs4", "standby": True}), ("wireguard", {})):
        draft = settings.profiles.add_profile(backend, params=params)
        settle(0.3)
        shot(settings, shots / f"settings-{backend}-{language}.png")
        settings.profiles.remove_selected()
        del draft
    settings.dirty = False
    settings.close()
    desktop.show_history()
    wait("the history window", lambda: desktop.history_window is not None and desktop.history_window.isVisible())
    settle(1.5)
    shot(desktop.history_window, shots / f"history-{language}.png")

    desktop.quit()
    wait("quit", lambda: bool(exited), 40)
    emit("exit", code=exited[0], first_up=(root / "first").exists(), second_up=(root / "second").exists())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
