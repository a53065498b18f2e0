"""The service's guard and DNS verbs: built from stored tunnels, pushed resolvers, live WireGuard endpoints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from vpnswitch.privileged import openvpn_up, protection
from vpnswitch.privileged.guard import Endpoint, GuardError, LeakGuard
from vpnswitch.privileged.protection import Protection
from vpnswitch.privileged.tunneldns import TunnelDns
from vpnswitch.system.runner import Completed


@dataclass(frozen=True)
class Stored:
    id: str
    kind: str
    interface: str
    endpoints: tuple[Endpoint, ...]
    dns: tuple[str, ...] = ()
    dns_domains: tuple[str, ...] = ()


HOME = Stored("home", "wireguard", "vsw-home", (Endpoint("vpn.example.com", 51820, "udp"),), ("10.64.0.1",))
WORK = Stored("work", "openvpn", "vso-work", (Endpoint("203.0.113.5", 1194, "udp"),))


class FakeSystem:
    """nft (kept as a table in memory), wg show endpoints; records every command."""

    def __init__(self) -> None:
        self.table: str | None = None
        self.calls: list[list[str]] = []

    def run(self, argv: Sequence[str], *, timeout: float, stdin_data: str | None = None, **_: Any) -> Completed:
        argv = list(argv)
        self.calls.append(argv)
        if argv[:2] == ["nft", "-f"]:
            self.table = None if stdin_data and stdin_data.rstrip().endswith("delete table inet vpnswitch_leakguard") \
                else stdin_data
            return Completed(tuple(argv), 0, "", "", 0.01)
        if argv[:3] == ["nft", "list", "table"]:
            return Completed(tuple(argv), 0 if self.table else 1, "", "" if self.table else "No such file or directory",
                             0.01)
        if argv[:2] == ["wg", "show"] and argv[2] == "vsw-home":
            return Completed(tuple(argv), 0, "pubkey=\t198.51.100.7:51820\n", "", 0.01)
        return Completed(tuple(argv), 1, "", "No such device", 0.01)


@pytest.fixture
def made(tmp_path: Path) -> tuple[Protection, FakeSystem]:
    system = FakeSystem()
    dns = TunnelDns(system, state_dir=tmp_path / "dns", resolv_conf=tmp_path / "resolv.conf",  # type: ignore[arg-type]
                    method="file")
    (tmp_path / "resolv.conf").write_text("nameserver 192.168.1.1\n")
    prot = Protection(system, guard=LeakGuard(system, nft="nft"), dns=dns,  # type: ignore[arg-type]
                      pushed_dir=tmp_path / "pushed", local=lambda tunnels: ["192.168.1.0/24"],
                      resolve=lambda host: [])
    return prot, system


def test_the_guard_lets_through_what_the_running_tunnels_really_use(made: tuple[Protection, FakeSystem],
                                                                    tmp_path: Path) -> None:
    prot, system = made
    openvpn_up.record(tmp_path / "pushed", {"dev": "vso-work", "foreign_option_1": "dhcp-option DNS 10.8.0.1"})
    reply = prot.guard(WORK, [HOME])
    assert reply == {"on": True, "active": "work", "interfaces": ["vso-work", "vsw-home"],
                     "resolvers": ["10.8.0.1", "10.64.0.1"]}
    assert system.table is not None
    assert "198.51.100.7 . udp . 51820" in system.table  # the server name, as WireGuard resolved it
    assert "203.0.113.5 . udp . 1194" in system.table
    assert '"vso-work" . 10.8.0.1' in system.table  # pushed by the OpenVPN server
    assert prot.guard_off() == {"removed": True} and system.table is None
    assert prot.guard_off() == {"removed": False}


def test_a_tunnel_whose_server_cannot_be_found_is_not_guarded_blind(made: tuple[Protection, FakeSystem]) -> None:
    prot, system = made
    down = Stored("home", "wireguard", "vsw-gone", HOME.endpoints)  # not running, name does not resolve
    with pytest.raises(GuardError, match="given by name"):
        prot.guard(down, [])
    assert system.table is None


def test_dns_uses_what_was_pushed_then_what_was_stored_and_cleanup_restores(made: tuple[Protection, FakeSystem],
                                                                           tmp_path: Path) -> None:
    prot, _ = made
    with pytest.raises(GuardError, match="no resolvers"):
        prot.dns_apply(WORK)  # nothing pushed yet, nothing stored
    openvpn_up.record(tmp_path / "pushed", {"dev": "vso-work", "foreign_option_1": "dhcp-option DNS 10.8.0.1",
                                            "foreign_option_2": "dhcp-option DOMAIN corp.example"})
    assert prot.dns_apply(WORK) == {"applied": True, "method": "file", "servers": ["10.8.0.1"]}
    assert "nameserver 10.8.0.1" in (tmp_path / "resolv.conf").read_text()
    assert prot.dns_restore(WORK) == {"restored": True}
    assert not (tmp_path / "pushed" / "vso-work.json").exists()  # that connection's record is spent
    prot.dns_apply(HOME)
    prot.guard(HOME, [])
    assert prot.cleanup() == ["leak guard left by a previous run removed", "DNS restored for vsw-home"]
    assert (tmp_path / "resolv.conf").read_text() == "nameserver 192.168.1.1\n"


def test_lookup_has_a_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setattr(protection.socket, "getaddrinfo", lambda *a: time.sleep(60))
    started = time.monotonic()
    assert protection.lookup("slow.example", timeout=0.2) == []
    assert time.monotonic() - started < 30  # not the 60 s the stuck lookup takes


def test_the_local_network_is_the_underlays_ipv4_and_ipv6_subnets_and_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    import ipaddress
    import socket
    from types import SimpleNamespace

    monkeypatch.setattr(protection.localnet, "default_gateway", lambda tunnels: ("eth0", "192.168.1.1"))
    monkeypatch.setattr(protection.localnet, "subnets", lambda iface: [ipaddress.IPv4Network("192.168.1.0/24")])
    addrs = [SimpleNamespace(family=socket.AF_INET6, address="2001:db8:1::5", netmask="ffff:ffff:ffff:ffff::"),
             SimpleNamespace(family=socket.AF_INET6, address="fe80::5%eth0", netmask="ffff:ffff:ffff:ffff::")]
    monkeypatch.setattr(protection.psutil, "net_if_addrs", lambda: {"eth0": addrs})
    assert protection.underlay_networks(frozenset()) == ["192.168.1.0/24", "2001:db8:1::/64", "192.168.1.1"]
