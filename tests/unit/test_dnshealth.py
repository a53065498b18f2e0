"""The DNS classifier on replies recorded from a real dnsmasq (tests/data/dns, see record_dns.py there)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vpnswitch.core.dnshealth import (
    DnsAnswer,
    DnsFinding,
    DnsState,
    DnsStatus,
    Poison,
    classify,
    describe,
    is_sinkhole,
    needs_cross_check,
    worst,
)
from vpnswitch.system.dnsclient import parse_reply

DATA = Path(__file__).resolve().parents[1] / "data" / "dns"
ISP = "10.99.1.1"


def recorded(case: str, server: str = ISP) -> DnsAnswer:
    question = bytes.fromhex((DATA / f"{case}.query").read_text())
    answer = parse_reply(bytes.fromhex((DATA / f"{case}.reply").read_text()), question)
    return DnsAnswer(answer.status, answer.addresses, server)


TIMEOUT = DnsAnswer(DnsStatus.TIMEOUT, server=ISP)
REAL = "real-a"


@pytest.mark.parametrize(("system", "site_ok", "serves", "state", "how"), [
    ("real-a", True, None, DnsState.OK, ""),
    ("sinkhole-a", True, None, DnsState.POISONED, Poison.SINKHOLE),
    ("sinkhole-aaaa", True, None, DnsState.POISONED, Poison.SINKHOLE),
    ("blockpage-a", True, False, DnsState.POISONED, Poison.BLOCK_PAGE),
    # A different address that serves the site is a CDN's answer, not a block page.
    ("blockpage-a", True, True, DnsState.OK, ""),
    ("blockpage-a", True, None, DnsState.OK, ""),
    ("nxdomain-a", True, None, DnsState.POISONED, Poison.NXDOMAIN),
    ("real-aaaa", True, None, DnsState.POISONED, Poison.NXDOMAIN),  # no address where the tunnel has one
    ("servfail-a", True, None, DnsState.BLOCKED, "servfail"),
    ("refused-a", True, None, DnsState.BLOCKED, "refused"),
    # DNS is fine, the site does not answer at its real address through the tunnel.
    ("real-a", False, None, DnsState.SITE_BLOCKED, ""),
])
def test_system_answer_against_the_tunnels_real_answer(
    system: str, site_ok: bool, serves: bool | None, state: DnsState, how: str,
) -> None:
    finding = classify("x.com", recorded(system), recorded(REAL, "10.99.20.53"), site_ok, serves)
    assert (finding.state, finding.how) == (state, how)


def test_system_resolver_timing_out_is_dns_blocked() -> None:
    finding = classify("x.com", TIMEOUT, recorded(REAL, "10.99.20.53"), True)
    assert (finding.state, finding.how) == (DnsState.BLOCKED, "timeout")
    assert finding.is_dns_problem


def test_poisoned_and_blocked_site_is_still_named_as_dns() -> None:
    """Both wrong at once: the DNS problem is what the user must hear about; the probes judge the tunnel."""
    finding = classify("x.com", recorded("sinkhole-a"), recorded(REAL, "10.99.20.53"), False)
    assert finding.state is DnsState.POISONED


@pytest.mark.parametrize(("tunnel", "site_ok", "state"), [
    (TIMEOUT, False, DnsState.TUNNEL_DEAD),
    (DnsAnswer(DnsStatus.SERVFAIL), False, DnsState.TUNNEL_DEAD),
    (TIMEOUT, True, DnsState.UNKNOWN),  # the site answered some other way: nothing to compare
    (TIMEOUT, None, DnsState.UNKNOWN),
])
def test_tunnel_resolver_silent(tunnel: DnsAnswer, site_ok: bool | None, state: DnsState) -> None:
    assert classify("x.com", recorded("sinkhole-a"), tunnel, site_ok).state is state


def test_a_name_that_does_not_exist_through_the_tunnel_is_not_a_dns_block() -> None:
    finding = classify("typo.example", recorded("nxdomain-a"), recorded("nxdomain-a", "10.99.20.53"), False)
    assert finding.state is DnsState.SITE_BLOCKED
    assert not finding.is_dns_problem


@pytest.mark.parametrize(("address", "real", "sinkhole"), [
    ("0.0.0.0", (), True),
    ("::", (), True),
    ("127.0.0.1", (), True),
    ("::1", ("2606:4700::1",), True),
    ("127.0.0.2", ("127.0.0.1",), False),  # a site on this machine
    ("10.31.0.80", ("104.244.42.1",), True),  # private answer for a public site
    ("10.99.20.2", ("10.99.20.3",), False),  # a private site (an intranet, the lab) is private
    ("10.99.20.2", (), False),  # nothing to compare with
    ("39.42.0.80", ("104.244.42.1",), False),  # public: only a cross-check can call it a block page
    ("not-an-ip", (), False),
])
def test_sinkhole_addresses(address: str, real: tuple[str, ...], sinkhole: bool) -> None:
    assert is_sinkhole(address, real) is sinkhole


def test_cross_check_only_for_disjoint_plausible_answers() -> None:
    real = recorded(REAL, "10.99.20.53")
    assert needs_cross_check(recorded("blockpage-a"), real)
    assert not needs_cross_check(recorded("real-a"), real)
    assert not needs_cross_check(recorded("sinkhole-a"), real)
    assert not needs_cross_check(recorded("nxdomain-a"), real)
    assert not needs_cross_check(recorded("blockpage-a"), TIMEOUT)


def test_worst_puts_the_dns_problem_first() -> None:
    real = recorded(REAL, "10.99.20.53")
    ok = classify("a.com", real, real, True)
    blocked_site = classify("b.com", real, real, False)
    poisoned = classify("x.com", recorded("sinkhole-a"), real, True)
    assert worst([ok, blocked_site, poisoned]) is poisoned
    assert worst([ok, blocked_site]) is blocked_site
    assert worst([ok]) is None


@pytest.mark.parametrize(("finding", "words"), [
    (classify("x.com", recorded("sinkhole-a"), recorded(REAL), True), ("10.99.1.1", "0.0.0.0", "x.com")),
    (classify("x.com", recorded("nxdomain-a"), recorded(REAL), True), ("does not exist", "x.com")),
    (classify("x.com", recorded("blockpage-a"), recorded(REAL), True, False), ("39.42.0.80", "block page")),
    (classify("x.com", TIMEOUT, recorded(REAL), True), ("does not answer", "x.com")),
    (classify("x.com", recorded("servfail-a"), recorded(REAL), True), ("SERVFAIL",)),
])
def test_descriptions_name_the_resolver_and_what_it_did(finding: DnsFinding, words: tuple[str, ...]) -> None:
    text = describe(finding)
    for word in words:
        assert word in text
