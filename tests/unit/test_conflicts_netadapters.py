"""Conflict rules, Windows adapter listings and WinINet proxy strings, on recorded data."""

from __future__ import annotations

from typing import Any

import pytest

from vpnswitch.backends.conflicts import Conflict, find_conflicts
from vpnswitch.backends.nm.model import NmActive, NmConnection
from vpnswitch.system import netadapters
from vpnswitch.system.oslayout import Layout
from vpnswitch.system.sysproxy.windows import proxy_from_wininet

GET_NETADAPTER_LIST = (
    '[{"Name":"Ethernet","InterfaceDescription":"Intel(R) Ethernet Connection I219-V","Status":"Up"},'
    '{"Name":"Ethernet 3","InterfaceDescription":"TAP-ProtonVPN Windows Adapter V9","Status":"Disconnected"},'
    '{"Name":"ProtonVPN","InterfaceDescription":"WireGuard Tunnel","Status":"Up"},'
    '{"Name":"NordLynx","InterfaceDescription":"NordLynx Tunnel","Status":"Up"}]'
)


def test_get_netadapter_output() -> None:
    items = netadapters.parse_get_netadapter(GET_NETADAPTER_LIST)
    assert [a.alias for a in items] == ["Ethernet", "Ethernet 3", "ProtonVPN", "NordLynx"]
    single = netadapters.parse_get_netadapter('{"Name":"Mullvad","InterfaceDescription":"Mullvad Tunnel","Status":2}')
    assert single == [netadapters.Adapter("Mullvad", "Mullvad Tunnel", "2")]
    assert netadapters.parse_get_netadapter("") == [] and netadapters.parse_get_netadapter("garbage") == []


def test_adapter_found_by_description_not_only_alias() -> None:
    items = netadapters.parse_get_netadapter(GET_NETADAPTER_LIST)
    assert netadapters.find_adapter(items, description="TAP-ProtonVPN").alias == "Ethernet 3"  # type: ignore[union-attr]
    assert netadapters.find_adapter(items, description="nordlynx tunnel").alias == "NordLynx"  # type: ignore[union-attr]
    assert netadapters.find_adapter(items, alias="protonvpn").alias == "ProtonVPN"  # type: ignore[union-attr]
    assert netadapters.find_adapter(items, description="Surfshark") is None


@pytest.mark.parametrize(("server", "url"), [
    ("http=127.0.0.1:8080;https=127.0.0.1:8080;socks=127.0.0.1:1080", "socks5h://127.0.0.1:1080"),
    ("http=127.0.0.1:8080;https=127.0.0.1:8080", "http://127.0.0.1:8080"),
    ("127.0.0.1:8888", "http://127.0.0.1:8888"),
    ("proxy.corp.example:3128", None),  # not a local app's proxy
    ("", None),
])
def test_wininet_proxy_strings(server: str, url: str | None) -> None:
    assert proxy_from_wininet(server) == url


class StaticNm:
    def __init__(self, connections: list[NmConnection], active: list[NmActive]) -> None:
        self._connections, self._active = connections, active

    def connections(self) -> list[NmConnection]:
        return self._connections

    def active(self) -> list[NmActive]:
        return self._active


def test_networkmanager_conflicts(tmp_path: Any) -> None:
    layout = Layout.fake(tmp_path, "linux")  # no vendor CLI installed there
    office = NmActive("/a/1", "office", "u-1", "vpn", 2, vpn=True)
    wired = NmActive("/a/2", "Wired", "u-2", "802-3-ethernet", 2)
    killswitch = NmConnection("pvpn-killswitch-perm", "u-3", "dummy", interface_name="pvpnksintrf1")
    client = StaticNm([killswitch], [office, wired])
    found = find_conflicts(layout=layout, nm_client=client)
    assert [c.code for c in found] == ["proton-killswitch", "networkmanager-connected"]
    tunnel = found[1]
    assert not tunnel.blocking and tunnel.fix_command == ("nmcli", "connection", "down", "uuid", "u-1")
    # While vpnswitch itself drives a NetworkManager profile, an active NM VPN is expected.
    assert [c.code for c in find_conflicts(layout=layout, nm_client=client, active_backend="networkmanager")] \
        == ["proton-killswitch"]


def test_conflict_json_and_text() -> None:
    conflict = Conflict("x-killswitch", "X", "it blocks", "Turn it off.", ("x", "off"))
    assert conflict.to_json()["fix_command"] == ["x", "off"]
    assert conflict.describe() == "X: it blocks. Turn it off."
