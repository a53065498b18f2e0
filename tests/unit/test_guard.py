"""The leak guard's rule set, the service's spec builder, request ordering (real nft: tests/lab/test_guard_lab.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from vpnswitch.core.errors import BackendError
from vpnswitch.privileged.guard import (
    LINK_CHECK,
    RELEASE,
    TABLE,
    Endpoint,
    GuardError,
    GuardSpec,
    LeakGuard,
    Resolver,
    guard_spec_for,
    ruleset,
)
from vpnswitch.system.runner import Completed

SPEC = GuardSpec(("wg0", "tun1"), (Endpoint("198.51.100.7", 51820, "udp"), "2001:db8::1"),
                 ("192.168.1.0/24", "192.168.1.1", "fd00:1::/64"), (Resolver("wg0", "10.64.0.1"),))


def chain(text: str, name: str) -> list[str]:
    """The rules of one chain, in order."""
    lines = [line.strip() for line in text.splitlines()]
    start = lines.index(f"chain {name} {{")
    end = lines.index("}", start)
    return [line for line in lines[start + 1:end] if not line.startswith("type ")]


def test_the_table_is_replaced_in_one_transaction_for_ipv4_and_ipv6() -> None:
    text = ruleset(SPEC)
    assert text.startswith(f"table inet {TABLE} {{}}\ndelete table inet {TABLE}\n")  # create, delete, build
    assert "type filter hook output priority filter; policy accept;" in text
    assert "type filter hook forward priority filter; policy accept;" in text


def test_output_lets_out_only_tunnels_servers_and_the_local_network_and_refuses_the_rest() -> None:
    rules = chain(ruleset(SPEC), "output")
    assert rules[0] == 'oifname "lo" accept'
    assert "ip daddr . meta l4proto . th dport { 198.51.100.7 . udp . 51820 } accept" in rules
    assert 'oifname { "tun1", "wg0" } accept' in rules
    assert "ip daddr { 192.168.1.0/24, 192.168.1.1/32 } accept" in rules
    assert "ip6 daddr { 2001:db8::1, fd00:1::/64 } accept" in rules
    assert "udp sport 68 udp dport 67 accept" in rules
    assert rules[-1] == "counter reject with icmpx type admin-prohibited"


def test_dns_is_decided_before_the_tunnels_and_the_local_network_are_let_through() -> None:
    rules = chain(ruleset(SPEC), "output")
    jump = rules.index("meta l4proto { tcp, udp } th dport { 53, 853 } jump dns")
    assert jump < rules.index('oifname { "tun1", "wg0" } accept')
    assert jump < rules.index("ip daddr { 192.168.1.0/24, 192.168.1.1/32 } accept")  # the router's resolver: no
    # A VPN server on an exact port comes first, so a server on port 53 still works.
    assert rules.index("ip daddr . meta l4proto . th dport { 198.51.100.7 . udp . 51820 } accept") < jump


def test_dns_goes_only_to_a_tunnels_own_resolvers_through_that_tunnel() -> None:
    dns = chain(ruleset(SPEC), "dns")
    assert dns == [LINK_CHECK,  # the local-network check's root-zone query names no site
                   'oifname . ip daddr { "wg0" . 10.64.0.1 } accept',
                   'oifname { "tun1" } accept',  # no resolvers of its own: anything inside it is hidden
                   "counter reject with icmpx type admin-prohibited"]


def test_forwarded_traffic_is_held_to_the_same_rules() -> None:
    output, forward = chain(ruleset(SPEC), "output"), chain(ruleset(SPEC), "forward")
    assert forward[0] == 'iifname { "tun1", "wg0" } accept'  # what comes back through a tunnel
    assert [rule for rule in output if rule in forward] == forward[1:]
    assert 'oifname "lo" accept' not in forward


def test_ruleset_without_servers_still_refuses_the_rest() -> None:
    text = ruleset(GuardSpec((), ()))
    assert "ip daddr" not in text and "oifname {" not in text
    assert chain(text, "dns") == [LINK_CHECK, "counter reject with icmpx type admin-prohibited"]


@pytest.mark.parametrize("spec", [
    GuardSpec(('wg0" accept; drop', ), ()),
    GuardSpec(("wg0",), ("vpn.example.com",)),
    GuardSpec(("wg0",), (), ("192.168.1.0/24; flush ruleset",)),
    GuardSpec(("wg0",), (Endpoint("198.51.100.7", 0, "udp"),)),
    GuardSpec(("wg0",), (Endpoint("198.51.100.7", 51820, "icmp"),)),
    GuardSpec(("wg0",), (), (), (Resolver("wg0", "dns.example"),)),
    GuardSpec(("wg0",), (), (), (Resolver("eth0", "192.168.1.1"),)),  # a resolver outside every tunnel
])
def test_ruleset_refuses_anything_that_is_not_a_name_or_address(spec: GuardSpec) -> None:
    with pytest.raises(ValueError):
        ruleset(spec)


@dataclass(frozen=True)
class Stored:
    id: str
    interface: str
    endpoints: tuple[Endpoint, ...]
    dns: tuple[str, ...] = ()


STORE = [Stored("home", "vsw-home", (Endpoint("198.51.100.7", 51820, "udp"),), ("10.64.0.1",)),
         Stored("work", "vso-work", (Endpoint("vpn.example.com", 1194, "udp"),)),
         Stored("other", "vsw-other", (Endpoint("203.0.113.5", 51820, "udp"),), ("10.8.0.1",))]


def test_the_services_guard_covers_only_the_named_tunnels() -> None:
    spec = guard_spec_for(STORE, "home", ["work"], local=["192.168.1.0/24"],
                          resolve={"vpn.example.com": ["203.0.113.80"]}.__getitem__)
    assert spec.interfaces == ("vsw-home", "vso-work")
    assert spec.endpoints == (Endpoint("198.51.100.7", 51820, "udp"), Endpoint("203.0.113.80", 1194, "udp"))
    assert spec.dns_servers == (Resolver("vsw-home", "10.64.0.1"),)
    assert spec.local == ("192.168.1.0/24",)
    ruleset(spec)  # and it is a valid rule set


def test_pushed_resolvers_replace_the_active_tunnels_stored_ones() -> None:
    spec = guard_spec_for(STORE, "home", [], active_dns=["10.64.0.53"])
    assert spec.dns_servers == (Resolver("vsw-home", "10.64.0.53"),)


def test_the_service_refuses_a_guard_it_cannot_build() -> None:
    with pytest.raises(GuardError, match="no stored tunnel 'gone'"):
        guard_spec_for(STORE, "home", ["gone"])
    with pytest.raises(GuardError, match="given by name"):
        guard_spec_for(STORE, "work", [])  # its server's address is not known: it could never reconnect
    assert guard_spec_for(STORE, None, []).interfaces == ()  # fail closed: nothing but the local network


class FakeRunner:
    def __init__(self, returncode: int = 0, listed: bool = False) -> None:
        self.scripts: list[str] = []
        self.returncode = returncode
        self.listed = listed

    def run(self, argv: Sequence[str], *, timeout: float, stdin_data: str | None = None, **_: Any) -> Completed:
        assert timeout > 0
        if list(argv[1:3]) == ["list", "table"]:
            found = self.listed
            return Completed(tuple(argv), 0 if found else 1, "", "" if found else
                             "Error: No such file or directory; did you mean table", 0.01)
        assert list(argv[1:]) == ["-f", "-"]
        self.scripts.append(stdin_data or "")
        self.listed = stdin_data != RELEASE
        return Completed(tuple(argv), self.returncode, "", "Error: no" if self.returncode else "", 0.01)


def test_an_overtaken_request_is_dropped() -> None:
    runner = FakeRunner()
    guard = LeakGuard(runner, nft="nft")  # type: ignore[arg-type]
    first, second = guard.ticket(), guard.ticket()
    assert guard.release(second) and guard.engaged is None
    assert not guard.engage(SPEC, first)  # decided earlier, ran later: must not undo the release
    assert runner.scripts == [RELEASE]
    assert guard.engage(SPEC) and guard.engaged == SPEC


def test_nft_refusing_is_an_error_not_silence() -> None:
    guard = LeakGuard(FakeRunner(returncode=1), nft="nft")  # type: ignore[arg-type]
    with pytest.raises(BackendError, match="nft refused"):
        guard.engage(SPEC)
    assert guard.engaged is None


def test_recover_reports_a_guard_left_behind_and_removes_it() -> None:
    runner = FakeRunner(listed=True)
    guard = LeakGuard(runner, nft="nft")  # type: ignore[arg-type]
    assert guard.recover() is True and runner.scripts == [RELEASE]
    assert guard.recover() is False  # nothing left: nothing to tell the user
