"""The engine and a network whose DNS lies: named, told once, never a switch and never "every profile failed"."""

from __future__ import annotations

from dataclasses import replace

from tests.unit.test_engine import Driver, dead_round, ok_round
from vpnswitch.core.dnshealth import DnsAnswer, DnsState, DnsStatus, classify
from vpnswitch.core.model import Connect, Connected, Disconnect, Notify, Record, RoundResult, Start, Verdict

ISP = "10.99.1.1"
REAL = DnsAnswer(DnsStatus.ANSWER, ("104.244.42.1",), "1.1.1.1")
SINKHOLE = classify("x.com", DnsAnswer(DnsStatus.ANSWER, ("0.0.0.0",), ISP), REAL, True)
TIMEOUT = classify("x.com", DnsAnswer(DnsStatus.TIMEOUT, (), ISP), REAL, True)


def poisoned_round(finding=SINKHOLE, leak: tuple[str, ...] = ()) -> RoundResult:  # type: ignore[no-untyped-def]
    return replace(ok_round(), dns=finding, dns_leak=leak)


def test_a_poisoned_resolver_is_named_told_once_and_never_switches() -> None:
    d = Driver()
    d.up_on("wg")
    d.timer("probe")
    notified: list[Notify] = []
    for _ in range(12):
        d.round(poisoned_round(), 0.05)
        notified += d.of(Notify)
        assert not d.of(Disconnect) and not d.of(Connect)
        d.timer("probe")
    assert isinstance(d.state.phase, Connected) and d.state.phase.profile == "wg"
    assert d.state.verdict is Verdict.DNS_POISONED
    assert d.state.quarantine == {}
    [note] = notified
    assert note.kind == "dns"
    assert "10.99.1.1" in note.message and "0.0.0.0" in note.message and "x.com" in note.message
    assert "DNS = " in note.message  # the fix for a WireGuard profile
    assert "stays on wg" in note.message
    assert "10.99.1.1" in d.state.dns


def test_found_while_verifying_the_profile_is_still_verified() -> None:
    d = Driver()
    d(Start("net-1"))
    d.connect_ok()
    d.round(poisoned_round(), 0.05)
    assert isinstance(d.state.phase, Connected)
    assert d.state.verdict is Verdict.DNS_POISONED
    records = [a for a in d.actions if isinstance(a, Record) and a.kind == "dns"]
    assert records and records[0].data["answer"] == ["0.0.0.0"] and records[0].data["resolver"] == ISP


def test_a_silent_resolver_reads_as_dns_blocked() -> None:
    d = Driver()
    d.up_on("wg")
    d.timer("probe")
    d.round(poisoned_round(TIMEOUT), 0.05)
    assert d.state.verdict is Verdict.DNS_BLOCKED
    assert "does not answer" in d.state.dns


def test_when_dns_is_fixed_the_verdict_is_healthy_again() -> None:
    d = Driver()
    d.up_on("wg")
    d.timer("probe")
    d.round(poisoned_round(), 0.05)
    d.timer("probe")
    d.round(ok_round(), 0.05)
    assert d.state.verdict is Verdict.HEALTHY and d.state.dns == ""


def test_lookups_outside_the_tunnel_are_a_warning_with_the_fix_for_the_kind_of_profile() -> None:
    d = Driver()
    d.up_on("wg")
    d.timer("probe")
    d.round(poisoned_round(None, (ISP,)), 0.05)
    [note] = d.of(Notify)
    assert note.title == "DNS lookups leave outside wg" and ISP in note.message
    assert d.state.verdict is Verdict.HEALTHY  # a warning, not a failure
    d.timer("probe")
    d.round(poisoned_round(None, (ISP,)), 0.05)
    assert not d.of(Notify)  # told once


def test_a_dead_tunnel_still_fails_over_even_when_dns_is_poisoned_too() -> None:
    """The DNS finding never hides a tunnel that carries nothing."""
    d = Driver()
    d.up_on("wg")
    for _ in range(3):
        d.timer("probe")
        d.round(replace(dead_round(), dns=classify("x.com", SINKHOLE.system, DnsAnswer(DnsStatus.TIMEOUT), False)),
                0.05)
    assert d.of(Disconnect) and d.state.verdict is Verdict.FAILING
    assert SINKHOLE.state is DnsState.POISONED
