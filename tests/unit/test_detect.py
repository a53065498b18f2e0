"""Detection on fake filesystem roots laid out like Linux, Windows and macOS machines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes import vendorfake as vf
from tests.fakes.world import BIN
from vpnswitch.backends import registry
from vpnswitch.backends.detect import Detected, default_config, default_profiles, detect, read_keyfiles
from vpnswitch.system.oslayout import Layout


def touch(root: Path, relative: str, text: str = "", executable: bool = False) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if executable:
        path.chmod(0o755)
    return path


def by_id(found: list[Detected]) -> dict[str, Detected]:
    return {d.app_id: d for d in found}


NM_PROTON = """[connection]
id=ProtonVPN NL#1
uuid=0b7e2a1c-1111-2222-3333-444455556666
type=vpn
interface-name=proton0

[vpn]
service-type=org.freedesktop.NetworkManager.openvpn
dev=proton0
"""
NM_KILLSWITCH = """[connection]
id=pvpn-killswitch
uuid=11111111-2222-3333-4444-555555555555
type=dummy
interface-name=pvpnksintrf0
"""
NM_WG = """[connection]
id=home wg
uuid=3f1c6c2e-8f3a-4d7e-9d6b-0a1b2c3d4e5f
type=wireguard
interface-name=wg-home
"""
NM_WIRED = """[connection]
id=Wired connection 1
uuid=d1e2f3a4-0000-1111-2222-333344445555
type=ethernet
"""


@pytest.fixture
def linux_root(tmp_path: Path) -> Path:
    root = tmp_path / "linux"
    for program in ("usr/bin/nordvpn", "usr/bin/wg-quick", "usr/sbin/openvpn", "usr/bin/tor", "usr/bin/lyrebird",
                    "usr/bin/snowflake-client", "usr/bin/protonvpn-app", "opt/piavpn/bin/piactl",
                    "home/user/.local/bin/psiphon-tunnel-core", "home/user/Applications/Outline-Client.AppImage"):
        touch(root, program, "#!/bin/sh\nexit 1\n", executable=True)
    (root / "usr/bin/mullvad").symlink_to(BIN / "mullvad")  # a fake that answers the kill-switch query
    touch(root, "home/user/.config/psiphon/client.json", "{}")
    touch(root, "etc/wireguard/wg0.conf", "[Interface]\n")
    touch(root, "etc/wireguard/home.conf", "[Interface]\n")
    touch(root, "etc/openvpn/client/office.conf", "client\n")
    touch(root, "home/user/.config/openvpn/backup-tcp.ovpn", "client\n")
    nm = "etc/NetworkManager/system-connections"
    touch(root, f"{nm}/ProtonVPN.nmconnection", NM_PROTON)
    touch(root, f"{nm}/pvpn-killswitch.nmconnection", NM_KILLSWITCH)
    touch(root, f"{nm}/home-wg.nmconnection", NM_WG)
    touch(root, f"{nm}/Wired.nmconnection", NM_WIRED)
    return root


def test_linux_layout(linux_root: Path) -> None:
    found = by_id(detect(linux_root, "linux"))
    assert set(found) == {
        "mullvad", "nordvpn", "pia", "psiphon", "outline", "protonvpn-linux", "wireguard:wg0", "wireguard:home",
        "openvpn:office", "openvpn:backup-tcp", "tor", "networkmanager:3f1c6c2e-8f3a-4d7e-9d6b-0a1b2c3d4e5f",
        "protonvpn-nm",
    }
    assert found["pia"].evidence == "/opt/piavpn/bin/piactl"  # a known install location, not on PATH
    assert found["wireguard:wg0"].profiles[0].params == {"config": str(linux_root / "etc/wireguard/wg0.conf")}
    assert found["wireguard:wg0"].warnings == ()  # wg-quick is installed
    assert found["openvpn:office"].profiles[0].backend == "openvpn"
    # What tor can use, found as the tor backend finds it: lyrebird speaks three, snowflake-client one.
    assert found["tor"].evidence.endswith("(transports: meek_lite, obfs4, snowflake, webtunnel)")
    assert found["tor"].profiles[0].params == {}
    psiphon = found["psiphon"].profiles[0]
    assert psiphon.params["config"] == str(linux_root / "home/user/.config/psiphon/client.json")
    assert found["outline"].profiles[0].params["interface"] == "outline-tun0"
    proton = found["protonvpn-linux"].profiles[0]
    assert proton.backend == "networkmanager" and proton.params["prefix"] == "ProtonVPN "
    assert proton.params["app"][1:] == ["--start-minimized"]
    nm = found["networkmanager:3f1c6c2e-8f3a-4d7e-9d6b-0a1b2c3d4e5f"].profiles[0]
    assert nm == nm.__class__("home wg (NetworkManager)", "networkmanager",
                              {"uuid": "3f1c6c2e-8f3a-4d7e-9d6b-0a1b2c3d4e5f"})
    # Fake roots run nothing unless asked.
    assert all(not d.conflicts for d in found.values())


def test_linux_conflicts_are_attached_to_their_app(linux_root: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    state = tmp_path / "fake-state"
    monkeypatch.setenv("FAKE_VPN_STATE_DIR", str(state))
    vf.update("mullvad", state, killswitch=True)
    found = by_id(detect(linux_root, "linux", check_conflicts=True))
    [lockdown] = found["mullvad"].conflicts
    assert lockdown.code == "mullvad-killswitch" and lockdown.blocking
    assert lockdown.fix_command == (str(linux_root / "usr/bin/mullvad"), "lockdown-mode", "set", "off")
    [proton] = found["protonvpn-linux"].conflicts
    assert proton.code == "proton-killswitch" and "pvpn-killswitch" in proton.problem
    assert not found["nordvpn"].conflicts  # its stand-in cannot answer: no conflict is invented


def test_linux_default_profiles_are_ranked_and_tor_is_last(linux_root: Path) -> None:
    profiles = default_profiles(detect(linux_root, "linux"))
    names = [p.name for p in profiles]
    assert names[-1] == "Tor"
    assert len(names) == len(set(names))
    assert names.index("home wg (NetworkManager)") < names.index("Mullvad VPN") < names.index("OpenVPN office")
    for profile in profiles:
        assert registry.backend_class(profile.backend).validate_params(profile.params) == [], profile
    config = default_config(detect(linux_root, "linux"))
    assert config.profiles == profiles and config.targets  # defaults plus what was found


@pytest.fixture
def windows_root(tmp_path: Path) -> Path:
    root = tmp_path / "windows"
    for relative in ("Program Files/Mullvad VPN/resources/mullvad.exe", "Program Files/NordVPN/NordVPN.exe",
                     "Program Files/Windscribe/windscribe-cli.exe",
                     "Program Files/Cloudflare/Cloudflare WARP/warp-cli.exe",
                     "Program Files/Proton/VPN/ProtonVPN.Launcher.exe", "Users/user/Desktop/psiphon3.exe",
                     "Program Files/WireGuard/wireguard.exe", "Program Files/OpenVPN/bin/openvpn.exe",
                     "Users/user/Desktop/Tor Browser/Browser/TorBrowser/Tor/tor.exe",
                     "Users/user/AppData/Local/Programs/outline-client/Outline.exe",
                     "Program Files/Lantern/lantern.exe"):
        touch(root, relative, "MZ")
    touch(root, "Program Files/WireGuard/Data/Configurations/office.conf.dpapi", "x")
    touch(root, "Users/user/OpenVPN/config/home.ovpn", "client\n")
    # Tor Browser's own transports, declared the way the bundle declares them.
    pt = "Users/user/Desktop/Tor Browser/Browser/TorBrowser/Tor/PluggableTransports"
    touch(root, f"{pt}/lyrebird.exe", "MZ")
    touch(root, f"{pt}/pt_config.json", json.dumps({"pluggableTransports": {
        "lyrebird": "ClientTransportPlugin meek_lite,obfs4,webtunnel exec ${pt_path}lyrebird.exe"}}))
    return root


def test_windows_layout(windows_root: Path) -> None:
    found = by_id(detect(windows_root, "windows"))
    assert set(found) == {"mullvad", "nordvpn", "windscribe", "warp", "protonvpn-windows", "psiphon-windows",
                          "wireguard:office", "openvpn:home", "tor", "outline", "lantern"}
    assert found["mullvad"].evidence == "C:\\Program Files\\Mullvad VPN\\resources\\mullvad.exe"
    proton = found["protonvpn-windows"]
    assert proton.backend == "app" and proton.profiles[0].params["adapter"] == "ProtonVPN"
    assert any("Auto-connect" in w for w in proton.warnings)
    psiphon = found["psiphon-windows"].profiles[0].params
    assert psiphon["children"] is True and psiphon["proxy"] == "system" and psiphon["process"] == ["psiphon3.exe"]
    assert found["outline"].profiles[0].params["interface"] == "outline-tap0"
    assert found["wireguard:office"].profiles[0].params["config"].endswith("office.conf.dpapi")
    assert found["tor"].evidence.endswith("(transports: meek_lite, obfs4, webtunnel)")
    assert "protonvpn-nm" not in found  # NetworkManager is a Linux thing


def test_macos_layout(tmp_path: Path) -> None:
    root = tmp_path / "mac"
    for relative in ("Applications/Mullvad VPN.app/Contents/Resources/mullvad",
                     "Applications/Windscribe.app/Contents/MacOS/windscribe-cli",
                     "Applications/Private Internet Access.app/Contents/MacOS/piactl",
                     "Applications/Tor Browser.app/Contents/MacOS/Tor/tor", "opt/homebrew/bin/wg-quick"):
        touch(root, relative, "#!/bin/sh\n", executable=True)
    touch(root, "opt/homebrew/etc/wireguard/wg1.conf", "[Interface]\n")
    found = by_id(detect(root, "macos"))
    assert set(found) == {"mullvad", "windscribe", "pia", "tor", "wireguard:wg1"}
    assert found["mullvad"].evidence == "/Applications/Mullvad VPN.app/Contents/Resources/mullvad"
    assert found["tor"].warnings and "pluggable transport" in found["tor"].warnings[0]


def test_an_empty_machine_finds_nothing(tmp_path: Path) -> None:
    for platform in ("linux", "windows", "darwin"):
        assert detect(tmp_path / platform, platform) == []


def test_keyfiles(linux_root: Path) -> None:
    items = {c.id: c for c in read_keyfiles(linux_root / "etc/NetworkManager/system-connections")}
    assert items["ProtonVPN NL#1"].is_proton and items["ProtonVPN NL#1"].plugin == "openvpn"
    assert items["pvpn-killswitch"].is_proton_killswitch
    assert items["home wg"].is_vpn and not items["Wired connection 1"].is_vpn


def test_layout_expansion() -> None:
    layout = Layout.fake(Path("/r"), "windows")
    assert layout.expand("{ProgramFiles}/X/x.exe") == Path("/r/Program Files/X/x.exe")
    assert layout.expand("~/Desktop") == Path("/r/Users/user/Desktop")
    assert layout.display(Path("/r/Program Files/X/x.exe")) == "C:\\Program Files\\X\\x.exe"
    with pytest.raises(ValueError, match="unknown platform"):
        Layout.fake(Path("/r"), "amiga")
