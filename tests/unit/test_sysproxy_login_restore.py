"""After a crash while Tor was the system proxy, the next login puts the user's setting back — even when
vpnswitch itself is not started then — and only the keys vpnswitch set, only where the user left them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.unit.test_sysproxy_desktops import gget, gsettings_runner  # noqa: F401  (fixture)
from vpnswitch.system.runner import Runner
from vpnswitch.system.sysproxy import SystemProxy
from vpnswitch.system.sysproxy.gnome import GnomeProxy
from vpnswitch.system.sysproxy.loginrestore import login_restore_item

ROOT = "org.gnome.system.proxy"


class DictDesktop:
    """A desktop whose settings are a dict: for the key-by-key rules, which need no real tool."""

    name = "dict"

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = dict(values)
        self.writes: list[dict[str, Any]] = []

    def read(self) -> dict[str, Any]:
        return dict(self.values)

    def apply(self, host: str, port: int) -> None:
        self.values.update({"mode": "manual", "socks": f"{host}:{port}", "http": ""})

    def write(self, settings: Any) -> None:
        self.writes.append(dict(settings))
        self.values.update(settings)

    def close(self) -> None:
        pass


def test_only_keys_vpnswitch_set_and_the_user_left_alone_are_restored(tmp_path: Path) -> None:
    desktop = DictDesktop({"mode": "auto", "socks": "", "http": "proxy.corp:3128", "other": "x"})
    SystemProxy(tmp_path, desktops=lambda: [desktop]).enable("127.0.0.1", 9050)
    desktop.values["http"] = "mine.example:8080"  # changed by hand while Tor was active
    desktop.values["other"] = "y"  # a key vpnswitch never touched, changed meanwhile by someone else
    message = SystemProxy(tmp_path, desktops=lambda: [desktop]).recover()
    assert desktop.writes == [{"mode": "auto", "socks": ""}]
    assert desktop.values == {"mode": "auto", "socks": "", "http": "mine.example:8080", "other": "y"}
    assert message == "dict: restored, except http (changed by hand since)"


def test_a_crash_before_the_change_was_recorded_restores_what_differs(tmp_path: Path) -> None:
    desktop = DictDesktop({"mode": "none", "socks": "", "http": ""})
    proxy = SystemProxy(tmp_path, desktops=lambda: [desktop])
    proxy.enable("127.0.0.1", 9050)
    store = proxy.store_path.read_text()
    proxy.store_path.write_text(store.replace('"applied"', '"lost"'))  # as if killed before recording it
    SystemProxy(tmp_path, desktops=lambda: [desktop]).recover()
    assert desktop.writes == [{"mode": "none", "socks": ""}]


def test_the_login_item_is_armed_only_while_our_proxy_is_set(tmp_path: Path) -> None:
    item = login_restore_item(tmp_path / "login", platform="linux")
    desktop = DictDesktop({"mode": "none", "socks": "", "http": ""})
    proxy = SystemProxy(tmp_path / "state", desktops=lambda: [desktop], login_restore=item)
    assert not item.status().enabled
    proxy.enable("127.0.0.1", 9050)
    status = item.status()
    assert status.enabled and status.command.split()[-2:] == ["proxy", "restore"]
    proxy.restore()
    assert not item.status().enabled
    assert list((tmp_path / "login" / "autostart").iterdir()) == []


def test_next_login_restores_without_the_app(gsettings_runner: Runner, tmp_path: Path) -> None:  # noqa: F811
    """The real chain: Tor sets GNOME's proxy, vpnswitch dies, and the login item's own command — run here
    as the session would run it — puts the setting back and removes itself."""
    r = gsettings_runner
    assert r.run(["gsettings", "set", f"{ROOT}.http", "host", "'proxy.corp'"], timeout=5).ok
    home = tmp_path / "home"
    item = login_restore_item(home / "login", platform="linux")
    SystemProxy(home / "state", desktops=lambda: [GnomeProxy(r)], login_restore=item).enable("127.0.0.1", 9050)
    assert gget(r, ROOT, "mode") == "'manual'"
    assert gget(r, f"{ROOT}.http", "host") == "''"  # cleared by vpnswitch, so SOCKS wins
    # While Tor was the proxy the user set an HTTP proxy by hand (a key vpnswitch had cleared) and an
    # HTTPS one (a key vpnswitch never changed): both are theirs now.
    assert r.run(["gsettings", "set", f"{ROOT}.http", "host", "'mine.corp'"], timeout=5).ok
    assert r.run(["gsettings", "set", f"{ROOT}.https", "host", "'mine.corp'"], timeout=5).ok
    # -- crash: nothing of vpnswitch runs any more. At the next login the session runs the item's command.
    argv = item.status().command.split()
    assert argv[-2:] == ["proxy", "restore"]
    env = {**os.environ, "VPNSWITCH_HOME": str(home), "XDG_CURRENT_DESKTOP": "GNOME",
           "GSETTINGS_BACKEND": "keyfile", "XDG_CONFIG_HOME": str(tmp_path / "config")}
    done = subprocess.run([sys.executable, "-m", "vpnswitch", "proxy", "restore"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert f"gnome: restored, except {ROOT}.http host (changed by hand since)" in done.stdout
    assert gget(r, ROOT, "mode") == "'none'"
    assert gget(r, f"{ROOT}.http", "host") == "'mine.corp'"
    assert gget(r, f"{ROOT}.https", "host") == "'mine.corp'"
    assert gget(r, f"{ROOT}.socks", "host") == "''"
    assert not item.status().enabled  # the one-shot item removed itself


def test_windows_uses_run_once() -> None:
    from vpnswitch.system.autostart import RUN_ONCE_KEY, WindowsAutostart
    from vpnswitch.system.sysproxy.loginrestore import RESTORE_ITEM

    class Reg:
        def __init__(self) -> None:
            self.values: dict[tuple[str, str], str] = {}

        def get(self, key: str, name: str) -> str | None:
            return self.values.get((key, name))

        def set_string(self, key: str, name: str, value: str) -> None:
            self.values[(key, name)] = value

        def delete(self, key: str, name: str) -> None:
            self.values.pop((key, name), None)

    reg = Reg()
    entry = WindowsAutostart(reg, command=["C:\\vpnswitch\\vpnswitch.exe", "proxy", "restore"], item=RESTORE_ITEM)
    assert entry.enable().enabled
    assert reg.values == {(RUN_ONCE_KEY, "vpnswitch-restore-proxy"): '"C:\\vpnswitch\\vpnswitch.exe" proxy restore'}
    assert not entry.disable().enabled and reg.values == {}
