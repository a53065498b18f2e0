"""The leak guard's rule set and its request ordering (the real nft is exercised by the lab tests)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from vpnswitch.core.errors import BackendError
from vpnswitch.system.leakguard import RELEASE, TABLE, GuardSpec, LeakGuard, ruleset
from vpnswitch.system.runner import Completed

SPEC = GuardSpec(("wg0", "tun1"), ("198.51.100.7", "2001:db8::1"), ("192.168.1.0/24", "192.168.1.1"))


def test_ruleset_lets_out_only_tunnels_servers_and_the_local_network() -> None:
    text = ruleset(SPEC)
    # Replacing the table is one transaction: create (no-op if present), delete, build.
    assert text.startswith(f"table inet {TABLE} {{}}\ndelete table inet {TABLE}\n")
    assert "type filter hook output priority filter; policy accept;" in text
    assert 'oifname "lo" accept' in text
    assert 'oifname { "tun1", "wg0" } accept' in text
    assert "ip daddr { 192.168.1.0/24, 192.168.1.1/32, 198.51.100.7/32 } accept" in text
    assert "ip6 daddr { 2001:db8::1/128 } accept" in text
    assert "udp sport 68 udp dport 67 accept" in text
    body = [line.strip() for line in text.splitlines()]
    assert body[-3] == "counter reject with icmpx type admin-prohibited"  # last: everything else is refused


def test_ruleset_without_servers_still_refuses_the_rest() -> None:
    text = ruleset(GuardSpec((), ()))
    assert "ip daddr" not in text and "oifname {" not in text
    assert "reject with icmpx type admin-prohibited" in text


@pytest.mark.parametrize("spec", [
    GuardSpec(('wg0" accept; drop', ), ()),
    GuardSpec(("wg0",), ("vpn.example.com",)),
    GuardSpec(("wg0",), (), ("192.168.1.0/24; flush ruleset",)),
])
def test_ruleset_refuses_anything_that_is_not_a_name_or_address(spec: GuardSpec) -> None:
    with pytest.raises(ValueError):
        ruleset(spec)


class FakeRunner:
    def __init__(self, returncode: int = 0) -> None:
        self.scripts: list[str] = []
        self.returncode = returncode

    def run(self, argv: Sequence[str], *, timeout: float, stdin_data: str | None = None, **_: Any) -> Completed:
        assert list(argv[1:]) == ["-f", "-"] and timeout > 0
        self.scripts.append(stdin_data or "")
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
