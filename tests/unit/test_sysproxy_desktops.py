"""Each desktop's proxy setting: GNOME and KDE against their real tools (in a private config dir),
Windows against a fake registry (plus the real PAC server on loopback), macOS against a fake
``networksetup`` that prints what the real one prints."""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import in_ci
from vpnswitch.core.errors import BackendError
from vpnswitch.system.runner import Runner
from vpnswitch.system.sysproxy import SystemProxy
from vpnswitch.system.sysproxy.gnome import GnomeProxy
from vpnswitch.system.sysproxy.kde import KdeProxy
from vpnswitch.system.sysproxy.macos import MacNetworkServices, parse_services, parse_socks
from vpnswitch.system.sysproxy.pac import PacServer, pac_script
from vpnswitch.system.sysproxy.windows import REG_DWORD, REG_SZ, WindowsInternetSettings


def need(tool: str, package: str) -> None:
    if shutil.which(tool):
        return
    if in_ci():
        pytest.fail(f"{tool} is missing: apt-get install -y --no-install-recommends {package}")
    pytest.skip(f"{tool} is not installed ({package})")


# ------------------------------------------------------------------------------------------------ GNOME


@pytest.fixture
def gsettings_runner(tmp_path: Path) -> Runner:
    """Real gsettings with the keyfile backend in a private folder: the user's own settings are untouched."""
    need("gsettings", "libglib2.0-bin gsettings-desktop-schemas")
    runner = Runner(env={"GSETTINGS_BACKEND": "keyfile", "XDG_CONFIG_HOME": str(tmp_path / "config")})
    if not runner.run(["gsettings", "list-keys", "org.gnome.system.proxy"], timeout=5).ok:
        pytest.fail("the org.gnome.system.proxy schema is missing: install gsettings-desktop-schemas")
    return runner


def gget(runner: Runner, schema: str, key: str) -> str:
    return runner.run(["gsettings", "get", schema, key], timeout=5).stdout.strip()


def test_gnome_set_and_restore_with_real_gsettings(gsettings_runner: Runner, tmp_path: Path) -> None:
    r = gsettings_runner
    for schema, key, value in (("org.gnome.system.proxy", "mode", "'manual'"),
                               ("org.gnome.system.proxy.http", "host", "'proxy.corp'"),
                               ("org.gnome.system.proxy.http", "port", "3128"),
                               ("org.gnome.system.proxy.http", "authentication-password", "'s3cret'")):
        assert r.run(["gsettings", "set", schema, key, value], timeout=5).ok
    gnome = GnomeProxy(r)
    proxy = SystemProxy(tmp_path / "state", desktops=lambda: [gnome])
    proxy.enable("127.0.0.1", 9050)
    assert gget(r, "org.gnome.system.proxy", "mode") == "'manual'"
    assert gget(r, "org.gnome.system.proxy.socks", "host") == "'127.0.0.1'"
    assert gget(r, "org.gnome.system.proxy.socks", "port") == "9050"
    assert gget(r, "org.gnome.system.proxy.http", "host") == "''"  # would otherwise win over SOCKS
    assert "127.0.0.0/8" in gget(r, "org.gnome.system.proxy", "ignore-hosts")
    stored = (tmp_path / "state" / "system-proxy.json").read_text()
    assert "s3cret" not in stored and "proxy.corp" in stored  # the password is never copied
    proxy.restore()
    assert gget(r, "org.gnome.system.proxy", "mode") == "'manual'"
    assert gget(r, "org.gnome.system.proxy.http", "host") == "'proxy.corp'"
    assert gget(r, "org.gnome.system.proxy.socks", "host") == "''"
    assert gget(r, "org.gnome.system.proxy.socks", "port") == "0"


def test_gnome_crash_recovery_with_real_gsettings(gsettings_runner: Runner, tmp_path: Path) -> None:
    r = gsettings_runner
    SystemProxy(tmp_path, desktops=lambda: [GnomeProxy(r)]).enable("127.0.0.1", 9050)
    assert gget(r, "org.gnome.system.proxy", "mode") == "'manual'"
    SystemProxy(tmp_path, desktops=lambda: [GnomeProxy(r)]).recover()
    assert gget(r, "org.gnome.system.proxy", "mode") == "'none'"


# -------------------------------------------------------------------------------------------------- KDE


@pytest.fixture
def kde(tmp_path: Path) -> tuple[KdeProxy, Path]:
    tools = KdeProxy.find_tools()
    if tools is None:
        need("kwriteconfig5", "libkf5config-bin")
        raise AssertionError("unreachable")
    config = tmp_path / "config"
    config.mkdir()
    return KdeProxy(Runner(env={"XDG_CONFIG_HOME": str(config)}), *tools), config / "kioslaverc"


def test_kde_set_and_restore_with_real_kwriteconfig(kde: tuple[KdeProxy, Path], tmp_path: Path) -> None:
    desktop, rc = kde
    rc.write_text("[Proxy Settings]\nProxyType=1\nhttpProxy=http://proxy.corp 3128\n")
    proxy = SystemProxy(tmp_path / "state", desktops=lambda: [desktop])
    proxy.enable("127.0.0.1", 9050)
    text = rc.read_text()
    assert "ProxyType=1" in text and "socksProxy=socks://127.0.0.1 9050" in text
    assert "httpProxy" not in text  # deleted, so it cannot override SOCKS
    proxy.restore()
    text = rc.read_text()
    assert "httpProxy=http://proxy.corp 3128" in text and "ProxyType=1" in text
    assert "socksProxy" not in text and "NoProxyFor" not in text


def test_kde_from_nothing_back_to_nothing(kde: tuple[KdeProxy, Path], tmp_path: Path) -> None:
    desktop, rc = kde
    proxy = SystemProxy(tmp_path / "state", desktops=lambda: [desktop])
    proxy.enable("127.0.0.1", 9150)
    assert "socksProxy=socks://127.0.0.1 9150" in rc.read_text()
    proxy.restore()
    assert "socksProxy" not in rc.read_text() and "ProxyType" not in rc.read_text()


# ---------------------------------------------------------------------------------------------- Windows


class FakeRegistry:
    def __init__(self, values: dict[str, tuple[Any, int]]) -> None:
        self.values = dict(values)

    def get(self, name: str) -> tuple[Any, int] | None:
        return self.values.get(name)

    def set(self, name: str, value: Any, kind: int) -> None:
        self.values[name] = (value, kind)

    def delete(self, name: str) -> None:
        self.values.pop(name, None)


def test_windows_pac_with_socks5_then_exact_restore(tmp_path: Path) -> None:
    original = {"ProxyEnable": (1, REG_DWORD), "ProxyServer": ("proxy.corp:3128", REG_SZ),
                "ProxyOverride": ("<local>", REG_SZ)}
    registry = FakeRegistry(original)
    refreshes: list[int] = []
    windows = WindowsInternetSettings(registry, refresh=lambda: refreshes.append(1))
    proxy = SystemProxy(tmp_path, desktops=lambda: [windows])
    proxy.enable("127.0.0.1", 9050)
    url, kind = registry.values["AutoConfigURL"]
    assert kind == REG_SZ and url.startswith("http://127.0.0.1:")
    assert registry.values["ProxyEnable"] == (0, REG_DWORD)  # the old manual proxy must not be used
    with urllib.request.urlopen(url, timeout=5) as answer:  # loopback only
        body = answer.read().decode()
        assert answer.headers["Content-Type"] == "application/x-ns-proxy-autoconfig"
    assert 'return "SOCKS5 127.0.0.1:9050; SOCKS 127.0.0.1:9050"' in body and "DIRECT" in body
    assert refreshes == [1]
    proxy.restore()
    assert registry.values == original  # AutoConfigURL, absent before, is deleted again
    assert refreshes == [1, 1]
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=2)  # the PAC server is gone


def test_windows_crash_recovery_without_the_pac_server(tmp_path: Path) -> None:
    registry = FakeRegistry({"ProxyEnable": (0, REG_DWORD)})
    first = WindowsInternetSettings(registry, refresh=lambda: None)
    SystemProxy(tmp_path, desktops=lambda: [first]).enable("127.0.0.1", 9050)
    first.close()  # the process died: its PAC server with it
    second = WindowsInternetSettings(registry, refresh=lambda: None)
    SystemProxy(tmp_path, desktops=lambda: [second]).recover()
    assert registry.values == {"ProxyEnable": (0, REG_DWORD)}


def test_registry_write_failure_is_a_clear_error() -> None:
    class Broken(FakeRegistry):
        def set(self, name: str, value: Any, kind: int) -> None:
            raise PermissionError("access denied")

    windows = WindowsInternetSettings(Broken({}), refresh=lambda: None)
    with pytest.raises(BackendError, match="access denied"):
        windows.apply("127.0.0.1", 9050)
    windows.close()


def test_pac_script_never_falls_back_to_direct_for_remote_hosts() -> None:
    script = pac_script("127.0.0.1", 9150)
    last = [line for line in script.splitlines() if "return" in line][-1]
    assert "DIRECT" not in last and "SOCKS5 127.0.0.1:9150" in last
    server = PacServer("127.0.0.1", 9150)
    try:
        assert "socks=9150" in server.url
    finally:
        server.stop()


# ------------------------------------------------------------------------------------------------ macOS

FAKE_NETWORKSETUP = r'''#!PYTHON
"""Fake networksetup: state in $FAKE_NETWORKSETUP_STATE; output formats of macOS 14."""
import json, os, sys
path = os.environ["FAKE_NETWORKSETUP_STATE"]
state = json.load(open(path))
args = sys.argv[1:]
log = state.setdefault("calls", [])
log.append(args)
def save():
    json.dump(state, open(path, "w"))
if args[0] == "-listallnetworkservices":
    print("An asterisk (*) denotes that a network service is disabled.")
    for name, svc in state["services"].items():
        print(("*" if svc.get("disabled") else "") + name)
elif args[0] == "-getsocksfirewallproxy":
    svc = state["services"].get(args[1])
    if svc is None:
        print(f"** Error: The parameters were not valid."); sys.exit(0)
    print(f"Enabled: {'Yes' if svc['enabled'] else 'No'}\nServer: {svc['server']}\nPort: {svc['port']}\n"
          "Authenticated Proxy Enabled: 0")
elif args[0] == "-setsocksfirewallproxy":
    if state.get("deny"):
        print("** Error: Command requires admin privileges."); sys.exit(14)
    svc = state["services"][args[1]]
    svc.update(server=args[2], port=int(args[3]), enabled=True); save()
elif args[0] == "-setsocksfirewallproxystate":
    state["services"][args[1]]["enabled"] = args[2] == "on"; save()
save()
'''


@pytest.fixture
def networksetup(tmp_path: Path) -> tuple[Runner, Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "networksetup"
    tool.write_text(FAKE_NETWORKSETUP.replace("PYTHON", sys.executable))
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    state = tmp_path / "networksetup.json"
    state.write_text(json.dumps({"services": {
        "Wi-Fi": {"enabled": False, "server": "", "port": 0},
        "USB 10/100/1000 LAN": {"enabled": True, "server": "socks.corp", "port": 1080},
        "Thunderbolt Bridge": {"enabled": False, "server": "", "port": 0, "disabled": True},
    }}))
    runner = Runner(env={"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
                         "FAKE_NETWORKSETUP_STATE": str(state)})
    return runner, state


def test_macos_parsers() -> None:
    assert parse_services("An asterisk (*) denotes that a network service is disabled.\nWi-Fi\n*Bluetooth PAN\n"
                          "USB 10/100/1000 LAN\n") == ["Wi-Fi", "USB 10/100/1000 LAN"]
    assert parse_socks("Enabled: Yes\nServer: 127.0.0.1\nPort: 9050\nAuthenticated Proxy Enabled: 0\n") == {
        "enabled": True, "server": "127.0.0.1", "port": 9050}


def test_macos_every_enabled_service_then_restored(networksetup: tuple[Runner, Path], tmp_path: Path) -> None:
    runner, state_file = networksetup
    mac = MacNetworkServices(runner)
    proxy = SystemProxy(tmp_path / "state", desktops=lambda: [mac])
    proxy.enable("127.0.0.1", 9050)
    services = json.loads(state_file.read_text())["services"]
    assert services["Wi-Fi"] == {"enabled": True, "server": "127.0.0.1", "port": 9050}
    assert services["USB 10/100/1000 LAN"] == {"enabled": True, "server": "127.0.0.1", "port": 9050}
    assert services["Thunderbolt Bridge"]["enabled"] is False  # a disabled service is left alone
    proxy.restore()
    services = json.loads(state_file.read_text())["services"]
    assert services["Wi-Fi"]["enabled"] is False
    assert services["USB 10/100/1000 LAN"] == {"enabled": True, "server": "socks.corp", "port": 1080}


def test_macos_without_admin_rights_says_so(networksetup: tuple[Runner, Path], tmp_path: Path) -> None:
    runner, state_file = networksetup
    state = json.loads(state_file.read_text())
    state["deny"] = True
    state_file.write_text(json.dumps(state))
    with pytest.raises(BackendError) as caught:
        MacNetworkServices(runner).apply("127.0.0.1", 9050)
    assert "admin" in caught.value.explain()
