"""The system-proxy store: the user's setting is saved before any change and comes back in every way out."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from vpnswitch.core.errors import BackendError
from vpnswitch.system.runner import Runner
from vpnswitch.system.sysproxy import SystemProxy, detect_desktops


class FakeDesktop:
    """A desktop whose proxy setting is a dict; records what happened and can fail on demand."""

    name = "fake"

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        self.settings = dict(settings or {"mode": "none", "host": "", "port": 0})
        self.fail_apply = False
        self.closed = 0
        self.writes: list[dict[str, Any]] = []
        self.on_apply: Any = None

    def read(self) -> dict[str, Any]:
        return dict(self.settings)

    def apply(self, host: str, port: int) -> None:
        if self.on_apply:
            self.on_apply()
        if self.fail_apply:
            raise BackendError("refused")
        self.settings = {"mode": "manual", "host": host, "port": port}

    def write(self, settings: Mapping[str, Any]) -> None:
        self.writes.append(dict(settings))
        self.settings.update(settings)  # as every real desktop does: only the keys given

    def close(self) -> None:
        self.closed += 1


USER = {"mode": "manual", "host": "proxy.corp", "port": 3128}


def test_saved_before_change_and_restored(tmp_path: Path) -> None:
    desktop = FakeDesktop(USER)
    proxy = SystemProxy(tmp_path, desktops=lambda: [desktop])
    seen_on_disk: list[Any] = []
    desktop.on_apply = lambda: seen_on_disk.append(json.loads(proxy.store_path.read_text()))
    proxy.enable("127.0.0.1", 9050)
    assert seen_on_disk[0]["desktops"]["fake"]["saved"] == USER  # on disk before the change
    assert desktop.settings == {"mode": "manual", "host": "127.0.0.1", "port": 9050}
    assert (proxy.store_path.stat().st_mode & 0o777) == 0o600
    assert proxy.engaged
    assert "restored" in proxy.restore()
    assert desktop.settings == USER and desktop.closed == 1
    assert not proxy.store_path.exists() and not proxy.engaged
    assert proxy.restore() == "nothing to restore"


def test_switching_between_tor_profiles_keeps_the_users_original(tmp_path: Path) -> None:
    desktop = FakeDesktop(USER)
    proxy = SystemProxy(tmp_path, desktops=lambda: [desktop])
    proxy.enable("127.0.0.1", 9050)
    proxy.enable("127.0.0.1", 9150)  # another Tor profile took over without restoring in between
    assert desktop.settings["port"] == 9150
    proxy.restore()
    assert desktop.settings == USER


def test_crash_recovery_at_the_next_start(tmp_path: Path) -> None:
    desktop = FakeDesktop(USER)
    SystemProxy(tmp_path, desktops=lambda: [desktop]).enable("127.0.0.1", 9050)
    # ... the process dies here; a new one starts with the same state dir:
    again = SystemProxy(tmp_path, desktops=lambda: [desktop])
    message = again.recover()
    assert message is not None and "restored" in message
    assert desktop.settings == USER
    assert again.recover() is None  # nothing left


def test_crash_between_saving_and_applying_is_recovered_too(tmp_path: Path) -> None:
    desktop = FakeDesktop(USER)
    desktop.fail_apply = True
    SystemProxy(tmp_path, desktops=lambda: [desktop]).enable("127.0.0.1", 9050)
    assert desktop.settings == USER  # nothing changed, but the saved copy exists
    SystemProxy(tmp_path, desktops=lambda: [desktop]).recover()
    assert desktop.settings == USER and not (tmp_path / "system-proxy.json").exists()


def test_a_setting_the_user_changed_meanwhile_is_left_alone(tmp_path: Path) -> None:
    desktop = FakeDesktop(USER)
    proxy = SystemProxy(tmp_path, desktops=lambda: [desktop])
    proxy.enable("127.0.0.1", 9050)
    desktop.settings = {"mode": "auto", "host": "", "port": 0}  # the user picked something else by hand
    assert "left as it is" in proxy.restore()
    assert desktop.settings == {"mode": "auto", "host": "", "port": 0} and desktop.writes == []
    assert not proxy.engaged


def test_without_a_desktop_nothing_happens_and_a_saved_setting_waits(tmp_path: Path) -> None:
    assert "no desktop session" in SystemProxy(tmp_path, desktops=list).enable("127.0.0.1", 9050)
    assert not (tmp_path / "system-proxy.json").exists()
    desktop = FakeDesktop(USER)
    SystemProxy(tmp_path, desktops=lambda: [desktop]).enable("127.0.0.1", 9050)
    headless = SystemProxy(tmp_path, desktops=list)  # e.g. the daemon started outside the desktop session
    assert "kept for later" in (headless.recover() or "")
    assert (tmp_path / "system-proxy.json").exists()
    SystemProxy(tmp_path, desktops=lambda: [desktop]).recover()
    assert desktop.settings == USER


def test_unreadable_store_is_kept_aside_not_lost(tmp_path: Path) -> None:
    (tmp_path / "system-proxy.json").write_text("{not json")
    desktop = FakeDesktop(USER)
    SystemProxy(tmp_path, desktops=lambda: [desktop]).restore()
    assert (tmp_path / "system-proxy.unreadable").read_text() == "{not json"


def test_background_recovery_finishes_before_a_later_enable(tmp_path: Path) -> None:
    desktop = FakeDesktop(USER)
    SystemProxy(tmp_path, desktops=lambda: [desktop]).enable("127.0.0.1", 9050)
    gate = threading.Event()
    original_write = desktop.write

    def slow_write(settings: Mapping[str, Any]) -> None:
        gate.wait(5)
        original_write(settings)

    desktop.write = slow_write  # type: ignore[method-assign]
    proxy = SystemProxy(tmp_path, desktops=lambda: [desktop])
    thread = proxy.recover_in_background()
    assert thread is not None
    enabled = threading.Thread(target=proxy.enable, args=("127.0.0.1", 9150))
    enabled.start()
    gate.set()
    thread.join(5)
    enabled.join(5)
    # Recovery ran first, then Tor's enable saved the *restored* original and applied its own.
    assert desktop.settings["port"] == 9150
    proxy.restore()
    assert desktop.settings == USER


@pytest.mark.parametrize(("platform", "env", "tools", "expected"), [
    ("linux", {}, {"gsettings"}, []),  # no desktop session: a headless daemon leaves the proxy alone
    ("linux", {"XDG_CURRENT_DESKTOP": "ubuntu:GNOME"}, {"gsettings"}, ["gnome"]),
    ("linux", {"XDG_CURRENT_DESKTOP": "X-Cinnamon"}, {"gsettings"}, ["gnome"]),
    ("linux", {"XDG_CURRENT_DESKTOP": "GNOME"}, set(), []),
    ("linux", {"XDG_CURRENT_DESKTOP": "KDE"}, {"kreadconfig6", "kwriteconfig6", "gsettings"}, ["kde"]),
    ("linux", {"XDG_CURRENT_DESKTOP": "KDE"}, {"kreadconfig5", "kwriteconfig5"}, ["kde"]),
    ("linux", {"XDG_CURRENT_DESKTOP": "KDE"}, {"gsettings"}, []),
    ("linux", {"XDG_CURRENT_DESKTOP": "sway"}, {"gsettings"}, []),
    ("win32", {}, set(), ["windows"]),
    ("darwin", {}, set(), ["macos"]),
])
def test_desktop_detection(platform: str, env: dict[str, str], tools: set[str], expected: list[str]) -> None:
    found = detect_desktops(Runner(), platform=platform, env=env,
                            which=lambda name: f"/usr/bin/{name}" if name in tools else None)
    assert [d.name for d in found] == expected
