"""Telling a DNS block from a dead tunnel — pure functions over recorded answers.

The cheapest block is in DNS: the network's resolver answers 0.0.0.0, a block page's address or NXDOMAIN for
a site, or every port-53 packet is intercepted. Probing by the system resolver's answer would then call a
working tunnel dead (or "leaking through lo"), and every profile would fail in turn, though switching cannot
help: each tunnel that leaves DNS to the network gets the same answer.

So each named target is looked up twice: the way the user's apps do it (the system resolver) and through the
tunnel (its own resolvers, or public ones, asked through it). The tunnel's answer is the truth the probes
use; comparing the two says what is wrong:

* ``ok``: both agree (or differ only as a CDN's answers do: the system's address serves the site too);
* ``dns-poisoned``: the system's answer is a sinkhole (0.0.0.0, ::, loopback, a private address for a public
  site), an address that does not serve the site (a block page), or NXDOMAIN/no address where the tunnel
  has a real answer;
* ``dns-blocked``: the system resolver times out, fails (SERVFAIL) or refuses, while the tunnel's answers;
* ``site-blocked``: DNS is fine, but the site does not answer at its real address through the tunnel;
* ``tunnel-dead``: the tunnel's resolvers are silent and the site does not answer through it either.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class DnsStatus(StrEnum):
    """How one lookup ended."""

    ANSWER = "answer"  # one or more addresses
    NXDOMAIN = "nxdomain"  # the name does not exist
    NODATA = "nodata"  # the name exists but has no address of this kind
    SERVFAIL = "servfail"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    ERROR = "error"  # no reply that could be used (malformed, network unreachable, …)


@dataclass(frozen=True)
class DnsAnswer:
    status: DnsStatus
    addresses: tuple[str, ...] = ()
    server: str = ""  # who was asked: the resolver's address, "system" for getaddrinfo

    @property
    def usable(self) -> bool:
        return self.status is DnsStatus.ANSWER and bool(self.addresses)


class DnsState(StrEnum):
    OK = "ok"
    POISONED = "dns-poisoned"
    BLOCKED = "dns-blocked"
    SITE_BLOCKED = "site-blocked"
    TUNNEL_DEAD = "tunnel-dead"
    UNKNOWN = "unknown"  # nothing to compare (the tunnel's resolvers could not be asked, the site answered)


class Poison(StrEnum):
    """How the system resolver's answer was wrong."""

    SINKHOLE = "sinkhole"
    BLOCK_PAGE = "block-page"
    NXDOMAIN = "nxdomain"


@dataclass(frozen=True)
class DnsFinding:
    """What the two lookups of one name, and the probe by the tunnel's answer, say together."""

    host: str
    state: DnsState
    system: DnsAnswer
    tunnel: DnsAnswer
    how: str = ""  # a Poison for dns-poisoned, the DnsStatus for dns-blocked

    @property
    def is_dns_problem(self) -> bool:
        return self.state in (DnsState.POISONED, DnsState.BLOCKED)


def is_sinkhole(address: str, real: Iterable[str] = ()) -> bool:
    """0.0.0.0, ::, loopback; or a non-public address when the real answer is public.

    The last two need the real answer: a site on this machine is at loopback, and a site inside a private
    network (a lab, an intranet) legitimately resolves to a private address.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if ip.is_unspecified:
        return True
    real_ips = [ipaddress.ip_address(a) for a in real if _valid(a)]
    if ip.is_loopback:
        return not any(r.is_loopback for r in real_ips)  # only a site on this machine is at loopback
    return bool(real_ips) and all(r.is_global for r in real_ips) and not ip.is_global


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def classify(
    host: str,
    system: DnsAnswer,
    tunnel: DnsAnswer,
    site_ok: bool | None,
    system_serves_site: bool | None = None,
) -> DnsFinding:
    """Judge one name.

    ``site_ok``: whether the probe by the tunnel's answer got the expected reply (None: not probed).
    ``system_serves_site``: whether the system's address, asked through the tunnel with the site's name,
    serves the site as the tunnel's address does (a valid certificate for the name, the same reply); only
    needed when the two answers have no address in common, None when not checked.
    """

    def finding(state: DnsState, how: str = "") -> DnsFinding:
        return DnsFinding(host, state, system, tunnel, how)

    if not tunnel.usable:
        if tunnel.status is DnsStatus.NXDOMAIN:
            # The name really does not exist: a wrong target, not a DNS block.
            return finding(DnsState.OK if site_ok is not False else DnsState.SITE_BLOCKED)
        if site_ok is False:
            return finding(DnsState.TUNNEL_DEAD)
        return finding(DnsState.UNKNOWN)
    poison = _poison(system, tunnel, system_serves_site)
    if poison is not None:
        return finding(DnsState.POISONED, poison)
    if not system.usable and system.status is not DnsStatus.NODATA:
        return finding(DnsState.BLOCKED, str(system.status))
    if site_ok is False:
        return finding(DnsState.SITE_BLOCKED)
    return finding(DnsState.OK)


def _poison(system: DnsAnswer, tunnel: DnsAnswer, system_serves_site: bool | None) -> Poison | None:
    if system.status in (DnsStatus.NXDOMAIN, DnsStatus.NODATA):
        return Poison.NXDOMAIN
    if not system.usable:
        return None
    if set(system.addresses) & set(tunnel.addresses):
        return None
    if any(is_sinkhole(a, tunnel.addresses) for a in system.addresses):
        return Poison.SINKHOLE
    # Different addresses are normal for a CDN (answers depend on who asks); they are a block page only when
    # the system's address does not serve the site.
    if system_serves_site is False:
        return Poison.BLOCK_PAGE
    return None


def needs_cross_check(system: DnsAnswer, tunnel: DnsAnswer) -> bool:
    """Whether the system's address must be asked for the site to tell a block page from a CDN's answer."""
    return (system.usable and tunnel.usable and not set(system.addresses) & set(tunnel.addresses)
            and not any(is_sinkhole(a, tunnel.addresses) for a in system.addresses))


def worst(findings: Sequence[DnsFinding]) -> DnsFinding | None:
    """The finding a round is summed up by: a DNS problem first (it explains other failures), then the rest."""
    order = (DnsState.POISONED, DnsState.BLOCKED, DnsState.TUNNEL_DEAD, DnsState.SITE_BLOCKED)
    for state in order:
        for f in findings:
            if f.state is state:
                return f
    return None


def describe(finding: DnsFinding) -> str:
    """A sentence for people about the network's DNS (English; the desktop app translates its own)."""
    resolver = finding.system.server or "the system resolver"
    if finding.state is DnsState.POISONED:
        if finding.how == Poison.NXDOMAIN:
            what = "says it does not exist"
        elif finding.how == Poison.SINKHOLE:
            what = f"answers {', '.join(finding.system.addresses)}"
        else:
            what = f"answers {', '.join(finding.system.addresses)}, which does not serve it (a block page)"
        return f"your network's DNS ({resolver}) {what} for {finding.host}"
    if finding.state is DnsState.BLOCKED:
        how = {"timeout": "does not answer", "servfail": "fails (SERVFAIL)",
               "refused": "refuses"}.get(finding.how, "fails")
        return f"your network's DNS ({resolver}) {how} for {finding.host}"
    if finding.state is DnsState.SITE_BLOCKED:
        return f"{finding.host} does not answer through the tunnel"
    if finding.state is DnsState.TUNNEL_DEAD:
        return f"nothing answers through the tunnel (not even its DNS, for {finding.host})"
    return f"DNS for {finding.host} is fine"


# What the user can change so that lookups go through the tunnel, by kind of profile.
_FIXES = {
    "wireguard": "Add a DNS line to {profile}'s WireGuard file (for example DNS = 1.1.1.1) so lookups go "
                 "through the tunnel.",
    "openvpn": "Make {profile} use the DNS its server pushes (or add dhcp-option DNS 1.1.1.1 to its file) so "
               "lookups go through the tunnel.",
    "networkmanager": "Give {profile}'s connection DNS priority over the network's: nmcli connection modify "
                      "\"{profile}\" ipv4.dns-priority -50 ipv6.dns-priority -50 (and set ipv4.dns if its "
                      "server sends none).",
    "tor": "Use the proxy with remote DNS (socks5h) in your apps.",
}
_VENDOR_FIX = ("Turn on {profile}'s DNS leak protection (or its own/custom DNS setting) in the VPN app, so "
               "lookups go through the tunnel.")


def fix_for(backend: str, profile: str) -> str:
    """The change that makes this kind of profile resolve through its tunnel."""
    return _FIXES.get(backend, _VENDOR_FIX).format(profile=profile)


def describe_leak(resolvers: Sequence[str], profile: str, backend: str) -> str:
    """The DNS leak warning: which resolvers are asked outside the tunnel, and the fix."""
    names = ", ".join(resolvers)
    return (f"While {profile} is up, DNS lookups go to {names} outside the tunnel: your network sees (and can "
            f"change) every name you look up. {fix_for(backend, profile)}")
