"""The tray and the app around it, offscreen: icon and tooltip per snapshot, the menu, and what its entries do."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from tests.gui.fakes import FakePort, command_profile, snapshot_for
from vpnswitch.core.config import Config
from vpnswitch.core.paths import Paths
from vpnswitch.service.runtime import CheckReport
from vpnswitch.service.snapshot import EMPTY
from vpnswitch.system.autostart import XdgAutostart
from vpnswitch.ui.app import DesktopApp
from vpnswitch.ui.notify_policy import Note
from vpnswitch.ui.status import icon_state
from vpnswitch.ui.tray import TrayController, tooltip


class Recorder:
    def __init__(self) -> None:
        self.notes: list[Note] = []

    def show(self, note: Note) -> None:
        self.notes.append(note)


@pytest.mark.parametrize(("state", "verdict", "paused", "expected"), [
    ("connected", "healthy", False, "healthy"),
    ("connected", "degraded", False, "degraded"),
    ("connected", "blocked-target", False, "degraded"),
    ("connected", "leaking", False, "down"),
    ("connected", "unknown", False, "checking"),
    ("verifying", "unknown", False, "checking"),
    ("switching", "failing", False, "switching"),
    ("connecting", "unknown", False, "switching"),
    ("offline", "unknown", False, "down"),
    ("exhausted", "down", False, "down"),
    ("error", "unknown", False, "down"),
    ("paused", "healthy", True, "paused"),
])
def test_icon_state_follows_the_snapshot(state: str, verdict: str, paused: bool, expected: str) -> None:
    from dataclasses import replace

    assert icon_state(replace(EMPTY, state=state, verdict=verdict, paused=paused)) == expected


@pytest.fixture
def config() -> Config:
    return Config(profiles=(command_profile("wg-home"), command_profile("wg-office"), command_profile("tor-&-co")))


def test_menu_is_built_from_the_latest_snapshot(qtbot: Any, config: Config) -> None:
    tray = TrayController()
    names = lambda: [a.text() for a in tray.actions()]  # noqa: E731
    assert names()[0] == "Starting…"
    tray.update(snapshot_for(config, state="connected", active="wg-home", verdict="healthy"))
    tray.menu.aboutToShow.emit()
    assert names() == ["Connected via wg-home: working", "wg-home", "wg-office", "tor-&&-co",
                       "Pause automatic switching", "Check now", "Status…", "Settings…", "History…", "Quit"]
    assert tray.icon_name == "healthy"
    checked = [a.objectName() for a in tray.actions() if a.isChecked()]
    assert checked == ["profile:wg-home"]
    tray.update(snapshot_for(config, state="paused", active="wg-home", verdict="healthy", paused=True))
    assert "Resume automatic switching" in names()
    assert tray.icon_name == "paused"
    with qtbot.waitSignal(tray.switch_requested) as switched:
        next(a for a in tray.actions() if a.objectName() == "profile:tor-&-co").trigger()
    assert switched.args == ["tor-&-co"]
    with qtbot.waitSignal(tray.pause_requested) as paused:
        next(a for a in tray.actions() if a.objectName() == "pause").trigger()
    assert paused.args == [False]
    tray.set_stopping()
    assert not next(a for a in tray.actions() if a.objectName() == "quit").isEnabled()


def test_a_hot_standby_shows_whether_it_is_ready(qtbot: Any, config: Config) -> None:
    from dataclasses import replace

    tray = TrayController()
    snap = snapshot_for(config, state="connected", active="wg-home", verdict="healthy")
    for warm, shown in (("starting", "tor-&&-co  (starting in the background)"),
                        ("ready", "tor-&&-co  (ready in the background)"),
                        ("not ready", "tor-&&-co  (not ready)")):
        profiles = tuple(replace(p, warm=warm) if p.name == "tor-&-co" else p for p in snap.profiles)
        tray.update(replace(snap, profiles=profiles))
        tray.menu.aboutToShow.emit()
        assert [a.text() for a in tray.actions()][1:4] == ["wg-home", "wg-office", shown]


def test_tooltip_says_where_traffic_goes_and_when_it_was_checked(config: Config) -> None:
    s = snapshot_for(config, state="connected", active="wg-office", verdict="degraded",
                     last_check="2026-11-28T10:00:00.000Z")
    text = tooltip(s)
    assert text.startswith("vpnswitch\nConnected via wg-office: partly working\nLast check: ")
    assert len(tooltip(snapshot_for(config, state="error", active="x" * 300))) <= 120


@pytest.fixture
def desktop(qtbot: Any, tmp_path: Path, config: Config, localizer: Any) -> Any:
    port = FakePort(config, tmp_path / "config.json")
    paths = Paths(config_file=tmp_path / "config.json", state_dir=tmp_path / "state", cache_dir=tmp_path / "cache",
                  log_dir=tmp_path / "log", runtime_dir=tmp_path / "run")
    recorder = Recorder()

    def starter(bridge: Any) -> FakePort:
        bridge.attach(port)
        return port

    app = QApplication.instance()
    d = DesktopApp(app, paths, starter=starter, localizer=localizer, minimized=True,  # type: ignore[arg-type]
                   autostart=XdgAutostart(tmp_path / "xdg", ["vpnswitch", "--minimized"]), notifier=recorder)
    d.exits = []  # type: ignore[attr-defined]
    d.exit = d.exits.append  # type: ignore[attr-defined,method-assign]
    d.port_under_test = port  # type: ignore[attr-defined]
    d.recorder = recorder  # type: ignore[attr-defined]
    yield d
    for window in (d.settings_window, d.history_window):
        if window is not None:
            window.dirty = False
            window.close()
    d.tray.hide()


def test_without_a_tray_the_window_opens_and_the_app_keeps_running(qtbot: Any, desktop: Any) -> None:
    desktop.start()  # offscreen has no system tray
    qtbot.waitUntil(lambda: desktop.settings_window is not None and desktop.settings_window.isVisible())
    assert desktop.tray.tray_available() is False
    assert desktop.tray._retry.isActive()  # it keeps trying to show the icon
    assert desktop.exits == []


def test_snapshots_from_the_runtime_thread_reach_the_tray(qtbot: Any, desktop: Any, config: Config) -> None:
    desktop.start()
    qtbot.waitUntil(lambda: desktop.port is not None)
    port = desktop.port_under_test
    for state, active, verdict, icon in (("connected", "wg-home", "healthy", "healthy"),
                                         ("switching", "wg-office", "failing", "switching"),
                                         ("exhausted", None, "down", "down")):
        thread = threading.Thread(target=port.push, args=(snapshot_for(config, state=state, active=active,
                                                                       verdict=verdict),))
        thread.start()
        thread.join()
        qtbot.waitUntil(lambda icon=icon: desktop.tray.icon_name == icon)
    assert "No VPN works right now" in desktop.tray.tray.toolTip()


def test_menu_commands_reach_the_runtime(qtbot: Any, desktop: Any, config: Config) -> None:
    desktop.start()
    qtbot.waitUntil(lambda: desktop.port is not None)
    port = desktop.port_under_test
    desktop.tray.update(snapshot_for(config, state="connected", active="wg-home", verdict="healthy"))
    desktop.tray.menu.aboutToShow.emit()
    actions = {a.objectName(): a for a in desktop.tray.actions()}
    actions["profile:wg-office"].trigger()
    actions["pause"].trigger()
    assert port.calls == [("switch", "wg-office"), ("pause",)]
    port.check_report = CheckReport("wg-home", "healthy", [
        {"url": "http://127.0.0.1:9/", "role": "canary", "ok": True, "status": 204, "latency_ms": 12.0,
         "error": ""},
        {"url": "http://localhost:9/", "role": "canary", "ok": False, "status": None, "latency_ms": None,
         "error": "timed out"}])
    actions["check"].trigger()
    qtbot.waitUntil(lambda: len(desktop.recorder.notes) == 1)
    note = desktop.recorder.notes[0]
    assert note.title == "wg-home: working"
    assert "1 of 2 sites answered." in note.message and "http://localhost:9/: timed out" in note.message
    actions["quit"].trigger()
    qtbot.waitUntil(lambda: desktop.exits == [0])
    assert ("stop",) in port.calls


def test_second_launch_or_control_socket_show_raises_settings(qtbot: Any, desktop: Any) -> None:
    desktop.start()
    qtbot.waitUntil(lambda: desktop.settings_window is not None)  # offscreen: no tray, so it opened
    desktop.settings_window.close()
    qtbot.waitUntil(lambda: desktop.settings_window is None)
    threading.Thread(target=desktop.bridge.request_show).start()  # as the control socket's thread does
    qtbot.waitUntil(lambda: desktop.settings_window is not None and desktop.settings_window.isVisible())


def test_engine_notifications_are_coalesced_and_can_be_turned_off(qtbot: Any, desktop: Any) -> None:
    desktop.start()
    qtbot.waitUntil(lambda: desktop.port is not None)
    port = desktop.port_under_test
    desktop.notifications.policy.debounce = 0.2
    port.notify("failure", "wg-home is not working", "wg-home stopped carrying traffic.")
    port.notify("switch", "Switched to wg-office", "wg-home stopped carrying traffic; switched to wg-office in 4.0 s.")
    qtbot.waitUntil(lambda: len(desktop.recorder.notes) == 1)
    qtbot.wait(400)
    assert len(desktop.recorder.notes) == 1
    assert desktop.recorder.notes[0].title == "Switched to wg-office"
    desktop.notifications.enabled = False
    port.notify("failure", "wg-office is not working", "...")
    qtbot.wait(500)
    assert len(desktop.recorder.notes) == 1


def test_a_settings_problem_found_at_start_opens_the_window_with_the_reason(qtbot: Any, tmp_path: Path,
                                                                            config: Config, localizer: Any) -> None:
    from vpnswitch.ui.app import Started

    port = FakePort(config, tmp_path / "config.json")
    paths = Paths(config_file=port.config_file, state_dir=tmp_path / "s", cache_dir=tmp_path / "c",
                  log_dir=tmp_path / "l", runtime_dir=tmp_path / "r")

    def starter(bridge: Any) -> Started:
        bridge.attach(port)
        return Started(port, "config.json is not valid JSON: Expecting value at line 1 column 2")

    app = QApplication.instance()
    d = DesktopApp(app, paths, starter=starter, localizer=localizer, minimized=True,  # type: ignore[arg-type]
                   autostart=XdgAutostart(tmp_path / "xdg", ["vpnswitch"]), notifier=Recorder())
    d.exit = lambda code: None  # type: ignore[method-assign]
    d.start()
    qtbot.waitUntil(lambda: d.settings_window is not None and d.settings_window.isVisible())
    banner = d.settings_window.banner.text()
    assert "running with default settings" in banner and "not valid JSON" in banner
    d.settings_window.close()
    d.tray.hide()


@pytest.mark.parametrize(("text", "expected"), [
    (b'{"desktop": {"language": "ur", "notifications": false}}', ("ur", False)),
    (b'{"desktop": {"language": 5}}', ("system", True)),
    (b'{"profiles": [ oops', ("system", True)),
    (b'[1, 2]', ("system", True)),
    (None, ("system", True)),
])
def test_the_quick_read_of_language_never_fails(tmp_path: Path, text: bytes | None,
                                                expected: tuple[str, bool]) -> None:
    from vpnswitch.ui.app import read_desktop_prefs

    path = tmp_path / "config.json"
    if text is not None:
        path.write_bytes(text)
    prefs = read_desktop_prefs(path)
    assert (prefs.language, prefs.notifications) == expected
