"""nmcli terse output (the fallback when D-Bus is unavailable), WireGuard import, and reason texts."""

from __future__ import annotations

import socket
import struct
from collections.abc import Sequence
from typing import Any

import pytest

from vpnswitch.backends.nm import nmcli, wgimport
from vpnswitch.backends.nm.backend import NetworkManagerBackend
from vpnswitch.backends.nm.model import ACTIVE_ACTIVATED, ACTIVE_ACTIVATING, activation_error, describe_reason
from vpnswitch.core.errors import AuthFailed, BackendError
from vpnswitch.system.runner import Completed

ACTIVE = (
    "MyWG:3f1c6c2e-8f3a-4d7e-9d6b-0a1b2c3d4e5f:wireguard:wg0:activated\n"
    "ProtonVPN NL\\#1:0b7e2a1c-1111-2222-3333-444455556666:vpn:wlp2s0:activating\n"
    "Office\\: Berlin:7c9d2b1a-aaaa-bbbb-cccc-ddddeeeeffff:vpn:eth0:activated\n"
    "Wired connection 1:d1e2f3a4-0000-1111-2222-333344445555:802-3-ethernet:eth0:activated\n"
)


def test_split_terse_unescapes_colons_and_backslashes() -> None:
    assert nmcli.split_terse("a\\:b:c\\\\d:") == ["a:b", "c\\d", ""]


def test_active_connections_from_terse_output() -> None:
    active = nmcli.parse_active(ACTIVE)
    assert [a.id for a in active] == ["MyWG", "ProtonVPN NL#1", "Office: Berlin", "Wired connection 1"]
    assert active[0].state == ACTIVE_ACTIVATED and active[0].device_interface == "wg0"
    assert active[1].state == ACTIVE_ACTIVATING and active[1].vpn
    assert active[0].path == active[0].uuid  # nmcli names active connections by UUID


def test_saved_connections_and_vpn_state() -> None:
    saved = nmcli.parse_connections("home:3f1c6c2e-8f3a-4d7e-9d6b-0a1b2c3d4e5f:wireguard:--\n"
                                    "pvpn-killswitch:11111111-2222-3333-4444-555555555555:dummy:pvpnksintrf0\n")
    assert saved[0].interface_name is None and saved[0].is_vpn
    assert saved[1].is_proton_killswitch
    assert nmcli.parse_vpn_state("GENERAL.STATE:activated\nVPN.VPN-STATE:5 - VPN connected\n") == \
        (ACTIVE_ACTIVATED, 5)
    assert nmcli.parse_vpn_state("GENERAL.STATE:activating\nVPN.VPN-STATE:2 - VPN connecting (need "
                                 "authentication)\n") == (ACTIVE_ACTIVATING, 2)


@pytest.mark.parametrize(("output", "kind", "fatal"), [
    ("Error: Connection activation failed: Secrets were required, but not provided.", AuthFailed, True),
    ("Error: Connection activation failed: Not authorized to control networking.", BackendError, True),
    ("Error: unknown connection 'nope'.", BackendError, True),
    ("Error: Timeout expired (30 seconds)", BackendError, False),
])
def test_activation_errors(output: str, kind: type[BackendError], fatal: bool) -> None:
    error = nmcli.activation_failure("office", output)
    assert type(error) is kind and error.fatal is fatal


class RecordedRunner:
    """Answers nmcli calls with recorded output, and remembers the argv."""

    def __init__(self, answers: dict[str, tuple[int, str]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, ...]] = []

    def run(self, argv: Sequence[str], *, timeout: float, **_: Any) -> Completed:
        self.calls.append(tuple(argv))
        key = " ".join(argv[1:])
        code, out = next((v for k, v in self.answers.items() if key.startswith(k)), (0, ""))
        return Completed(tuple(argv), code, out, "", 0.01)


def test_nmcli_client_activate_and_deactivate() -> None:
    uuid = "3f1c6c2e-8f3a-4d7e-9d6b-0a1b2c3d4e5f"
    runner = RecordedRunner({
        "--wait": (0, "Connection successfully activated (D-Bus active path: "
                      "/org/freedesktop/NetworkManager/ActiveConnection/7)"),
        "-t -f NAME,UUID,TYPE,DEVICE,STATE": (0, ACTIVE),
    })
    client = nmcli.NmCli(runner, "nmcli")  # type: ignore[arg-type]
    active = client.activate(uuid, 20, name="MyWG")
    assert active.id == "MyWG"
    assert runner.calls[0] == ("nmcli", "--wait", "19", "connection", "up", "uuid", uuid)
    assert all("--ask" not in call for call in runner.calls)
    down = RecordedRunner({"--wait": (10, "Error: 'MyWG' is not an active connection.")})
    nmcli.NmCli(down, "nmcli").deactivate(uuid, 10)  # type: ignore[arg-type]  # already down is fine
    assert nmcli.parse_added_uuid(f"Connection 'office' ({uuid}) successfully added.") == uuid


WG = """# home tunnel
[Interface]
PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=
Address = 10.99.100.2/24, fd00::2/64
DNS = 10.99.20.53, fd00::53, example.test
ListenPort = 51820
PostUp = iptables -A FORWARD -i %i -j ACCEPT
[Peer]
PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=
PresharedKey = FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE=
Endpoint = vpn.example.test:51820
AllowedIPs = 0.0.0.0/0, ::/0
PersistentKeepalive = 25
"""


def test_wireguard_conf_becomes_user_owned_nm_settings() -> None:
    config = wgimport.parse_wg_conf(WG)
    assert config.ignored == ["PostUp"]
    settings = wgimport.nm_settings(config, "home", "alice", iface="home", uuid="u-1")
    conn = settings["connection"]
    assert conn["type"] == ("s", "wireguard") and conn["permissions"] == ("as", ["user:alice:"])
    assert conn["interface-name"] == ("s", "home") and conn["autoconnect"] == ("b", False)
    wg = settings["wireguard"]
    assert wg["listen-port"] == ("u", 51820)
    [peer] = wg["peers"][1]
    assert peer["allowed-ips"] == ("as", ["0.0.0.0/0", "::/0"])
    assert peer["persistent-keepalive"] == ("u", 25) and peer["endpoint"] == ("s", "vpn.example.test:51820")
    v4 = settings["ipv4"]
    assert v4["address-data"][1] == [{"address": ("s", "10.99.100.2"), "prefix": ("u", 24)}]
    assert v4["dns"] == ("au", [struct.unpack("=I", socket.inet_aton("10.99.20.53"))[0]])
    assert v4["dns-search"] == ("as", ["example.test"])
    assert settings["ipv6"]["method"] == ("s", "manual")


@pytest.mark.parametrize(("text", "problem"), [
    ("[Interface]\nAddress = 10.0.0.2/32\n[Peer]\nPublicKey = x\n", "no PrivateKey"),
    ("[Interface]\nPrivateKey = k\n", r"no \[Peer\]"),
    ("[Interface]\nPrivateKey = k\nListenPort = many\n[Peer]\nPublicKey = x\n", "ListenPort must be a number"),
    ("[Wat]\n", "unknown section"),
    ("PrivateKey = k\n", "line 1"),
])
def test_bad_wireguard_files_say_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(BackendError, match=problem):
        wgimport.parse_wg_conf(text)


def test_interface_names_are_kept_to_linux_rules() -> None:
    assert wgimport.interface_name("wg0") == "wg0"
    assert wgimport.interface_name("my very long tunnel name") == "wg-vpnswitch"


def test_reasons_and_activation_errors() -> None:
    assert describe_reason(9) == "secrets (a password or key) were required but not provided"
    assert describe_reason(-1) == "NetworkManager went away"
    assert isinstance(activation_error("x", 4, 10), AuthFailed)
    missing_plugin = activation_error("x", 8)
    assert missing_plugin.fatal and "plugin" in missing_plugin.hint
    assert not activation_error("x", 6).fatal


@pytest.mark.parametrize(("params", "key"), [
    ({}, ""),
    ({"connection": "a", "uuid": "b"}, ""),
    ({"connection": ""}, "connection"),
    ({"connection": "a", "app": ["protonvpn-app"]}, "app"),
    ({"prefix": "ProtonVPN ", "app": "protonvpn-app"}, "app"),
    ({"uuid": "u", "interface": "a-very-long-interface-name"}, "interface"),
])
def test_networkmanager_params(params: dict[str, Any], key: str) -> None:
    assert key in {k for k, _ in NetworkManagerBackend.validate_params(params)}


def test_networkmanager_good_params() -> None:
    assert NetworkManagerBackend.validate_params({"prefix": "ProtonVPN ", "app": ["protonvpn-app"]}) == []
    assert NetworkManagerBackend.validate_params({"uuid": "u", "interface": "wg0"}) == []
