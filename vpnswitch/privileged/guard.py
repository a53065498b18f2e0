"""The leak guard: while vpnswitch keeps the machine on a tunnel, nothing leaves outside a tunnel.

When a tunnel dies (its process crashed, its interface vanished) or is taken down for a switch, the OS
falls back to the plain network at once, and every app that retries in those moments talks to the censor
directly — the connection attempt alone tells the censor which site the user wanted, and a DNS lookup
tells it even before that. An nftables table of vpnswitch's own (``inet vpnswitch_leakguard``, so IPv4 and
IPv6 alike, for this machine's own traffic and for traffic it forwards) therefore lets out only:

- loopback (a local stub resolver stays usable; it forwards through the tunnel's link),
- the tunnel interfaces — but DNS (port 53 and DNS-over-TLS 853, UDP and TCP) only to the resolvers of the
  tunnel it leaves through; a tunnel without resolvers of its own may carry DNS to any address, as nothing
  inside a tunnel is visible to the censor,
- the VPN servers, by address and, where known, port and protocol (so the next tunnel can come up),
- the local network (the router, printers — none of it crosses the censor), but never DNS: the router's
  resolver is the ISP's (the one exception is the local-network check's query for the root zone, which
  names no site),
- IPv6 link-local and neighbour discovery, and DHCP, so the underlay keeps its address.

Everything else is refused at once ("administratively prohibited"), so apps fail fast and retry when the
new tunnel is up instead of hanging. The whole table is replaced or deleted in one ``nft -f`` transaction,
so there is never a half-built rule set. A table found when vpnswitch starts was left by a crash:
``recover()`` removes it and says so, so the app can tell the user they were blocked to protect them.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
import shutil
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from vpnswitch.core.errors import BackendError
from vpnswitch.system.runner import Runner

log = logging.getLogger(__name__)

TABLE = "vpnswitch_leakguard"
NFT_TIMEOUT = 5.0
DNS_PORTS = (53, 853)  # DNS and DNS-over-TLS
_IFNAME = re.compile(r"^[A-Za-z0-9_.:+=-]{1,15}$")
_PROTOS = ("udp", "tcp")
RELEASE = f"table inet {TABLE} {{}}\ndelete table inet {TABLE}\n"
REJECT = "counter reject with icmpx type admin-prohibited"
# The local-network check's query (system/localnet.py): the root zone's NS records, nothing else, no flags.
# It names no site, so it may reach the router's resolver: matched byte for byte after the random id.
LINK_CHECK = "udp dport 53 udp length 25 @th,80,120 0x000000010000000000000000020001 accept"


class GuardError(BackendError):
    """The guard cannot be built from what it was given (e.g. a server known only by name)."""


@dataclass(frozen=True)
class Endpoint:
    """A VPN server the guard lets through: an IP address, and the port and protocol when known."""

    host: str
    port: int | None = None
    proto: str | None = None


@dataclass(frozen=True)
class Resolver:
    """A tunnel's DNS server, reachable only through that tunnel's interface."""

    interface: str
    address: str


@dataclass(frozen=True)
class GuardSpec:
    """What may leave while the guard is up, besides loopback, IPv6 link-local and DHCP.

    ``endpoints`` may be plain addresses (any port) for callers that know no more. ``local`` is the
    underlay's own subnets and gateway; DNS to them is refused all the same.
    """

    interfaces: tuple[str, ...]
    endpoints: tuple[Endpoint | str, ...]
    local: tuple[str, ...] = ()
    dns_servers: tuple[Resolver, ...] = ()


def _interface(name: str) -> str:
    if not _IFNAME.match(name):
        raise ValueError(f"not an interface name: {name!r}")
    return json.dumps(name)


def _address(item: str, what: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(item, strict=False)
    except ValueError:
        raise ValueError(f"not an IP {what}: {item!r}") from None


def _endpoint(item: Endpoint | str) -> Endpoint:
    endpoint = item if isinstance(item, Endpoint) else Endpoint(item)
    address = ipaddress.ip_address(_address(endpoint.host, "address of a VPN server").network_address)
    if endpoint.port is not None and not (isinstance(endpoint.port, int) and 0 < endpoint.port < 65536):
        raise ValueError(f"not a port: {endpoint.port!r}")
    if endpoint.proto is not None and endpoint.proto not in _PROTOS:
        raise ValueError(f"not a protocol (udp or tcp): {endpoint.proto!r}")
    if (endpoint.port is None) != (endpoint.proto is None):
        endpoint = Endpoint(str(address))  # half an endpoint is no narrower than the address alone
    return Endpoint(str(address), endpoint.port, endpoint.proto)


def _set(items: Iterable[str]) -> str:
    return "{ " + ", ".join(sorted(set(items))) + " }"


def _rules(spec: GuardSpec) -> tuple[list[str], list[str]]:
    """(rules shared by the output and forward chains, rules of the DNS chain)."""
    interfaces = sorted({_interface(name) for name in spec.interfaces})
    endpoints = [_endpoint(item) for item in spec.endpoints]
    local4: set[str] = set()
    local6: set[str] = set()
    for item in spec.local:
        net = _address(item, "address or network")
        (local4 if net.version == 4 else local6).add(str(net))
    dns4: set[str] = set()
    dns6: set[str] = set()
    with_resolvers: set[str] = set()
    for resolver in spec.dns_servers:
        name = _interface(resolver.interface)
        if name not in interfaces:
            raise ValueError(f"resolver {resolver.address} is on {resolver.interface}, which is not a guarded tunnel")
        address = ipaddress.ip_address(_address(resolver.address, "resolver address").network_address)
        (dns4 if address.version == 4 else dns6).add(f"{name} . {address}")
        with_resolvers.add(name)

    rules: list[str] = []
    # Servers by exact port first: a VPN server on port 53 (a common disguise) must not hit the DNS rule.
    exact4 = {f"{e.host} . {e.proto} . {e.port}" for e in endpoints if e.port and ":" not in e.host}
    exact6 = {f"{e.host} . {e.proto} . {e.port}" for e in endpoints if e.port and ":" in e.host}
    if exact4:
        rules.append(f"ip daddr . meta l4proto . th dport {_set(exact4)} accept")
    if exact6:
        rules.append(f"ip6 daddr . meta l4proto . th dport {_set(exact6)} accept")
    rules.append(f"meta l4proto {{ tcp, udp }} th dport {{ {', '.join(map(str, DNS_PORTS))} }} jump dns")
    if interfaces:
        rules.append(f"oifname {_set(interfaces)} accept")
    any4 = {e.host for e in endpoints if not e.port and ":" not in e.host} | local4
    any6 = {e.host for e in endpoints if not e.port and ":" in e.host} | local6
    if any4:
        rules.append(f"ip daddr {_set(any4)} accept")
    if any6:
        rules.append(f"ip6 daddr {_set(any6)} accept")
    rules.append("ip6 daddr { fe80::/10, ff02::/16 } accept")  # link-local and neighbour discovery stay on the link

    dns: list[str] = [LINK_CHECK]
    if dns4:
        dns.append(f"oifname . ip daddr {_set(dns4)} accept")
    if dns6:
        dns.append(f"oifname . ip6 daddr {_set(dns6)} accept")
    without = sorted(set(interfaces) - with_resolvers)
    if without:
        dns.append(f"oifname {_set(without)} accept")
    dns.append(REJECT)
    return rules, dns


def ruleset(spec: GuardSpec) -> str:
    """An nft script that (re)creates the guard table in one transaction."""
    shared, dns = _rules(spec)
    output = ['oifname "lo" accept', *shared,
              "udp sport 68 udp dport 67 accept",  # keep the underlay's DHCP lease
              "udp sport 546 udp dport 547 accept",
              REJECT]
    interfaces = sorted({_interface(name) for name in spec.interfaces})
    # Forwarded traffic: what comes back from a tunnel, and whatever output may send.
    forward = ([f"iifname {_set(interfaces)} accept"] if interfaces else []) + [*shared, REJECT]

    def chain(name: str, rules: Sequence[str], hook: str | None) -> str:
        head = f"    type filter hook {hook} priority filter; policy accept;\n" if hook else ""
        return f"  chain {name} {{\n{head}" + "".join(f"    {rule}\n" for rule in rules) + "  }\n"

    return (
        f"table inet {TABLE} {{}}\n"  # so that the delete never fails: together they replace the table
        f"delete table inet {TABLE}\n"
        f"table inet {TABLE} {{\n"
        + chain("dns", dns, None)
        + chain("output", output, "output")
        + chain("forward", forward, "forward")
        + "}\n"
    )


class _EndpointLike(Protocol):
    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int | None: ...
    @property
    def proto(self) -> str | None: ...


class _StoredTunnel(Protocol):
    """What ``guard_spec_for`` reads of a stored tunnel (see the tunnel store)."""

    @property
    def id(self) -> str: ...
    @property
    def interface(self) -> str: ...
    @property
    def endpoints(self) -> Sequence[_EndpointLike]: ...
    @property
    def dns(self) -> Sequence[str]: ...


def guard_spec_for(entries: Iterable[_StoredTunnel], active: str | None, standby: Iterable[str], *,
                   local: Iterable[str] = (), resolve: Callable[[str], Iterable[str]] | None = None,
                   active_dns: Iterable[str] | None = None) -> GuardSpec:
    """The guard for the service's ``guard`` verb: interfaces, servers and resolvers of these tunnels only.

    Everything comes from the store, nothing from the caller but tunnel ids. A server given by name is let
    through by the addresses ``resolve`` gives for it (e.g. what the running tunnel really connected to);
    when the *active* tunnel then has no server address at all the guard could not let it reconnect, which
    is an error. ``active_dns`` replaces the active tunnel's stored resolvers, e.g. with those an OpenVPN
    server pushed.
    """
    by_id = {entry.id: entry for entry in entries}
    wanted = ([active] if active else []) + [tid for tid in standby if tid != active]
    unknown = [tid for tid in wanted if tid not in by_id]
    if unknown:
        raise GuardError(f"no stored tunnel {', '.join(map(repr, unknown))}")
    interfaces: list[str] = []
    endpoints: list[Endpoint] = []
    resolvers: list[Resolver] = []
    for tid in wanted:
        entry = by_id[tid]
        interfaces.append(entry.interface)
        own: list[Endpoint] = []
        for item in entry.endpoints:
            host = item.host
            addresses = [host] if _is_ip(host) else list(resolve(host)) if resolve else []
            own += [Endpoint(address, item.port, item.proto) for address in addresses if _is_ip(address)]
        if tid == active and not own:
            raise GuardError(f"tunnel {tid!r}: its servers are given by name and their addresses are not known, "
                             "so the guard would keep it from reconnecting")
        endpoints += own
        servers = list(active_dns) if tid == active and active_dns is not None else list(entry.dns)
        resolvers += [Resolver(entry.interface, server) for server in servers if _is_ip(server)]
    return GuardSpec(tuple(dict.fromkeys(interfaces)), tuple(dict.fromkeys(endpoints)),
                     tuple(dict.fromkeys(local)), tuple(dict.fromkeys(resolvers)))


def _is_ip(host: object) -> bool:
    try:
        ipaddress.ip_address(str(host))
    except ValueError:
        return False
    return True


def _find_nft() -> str | None:
    return shutil.which("nft") or shutil.which("nft", path="/usr/sbin:/sbin")


class LeakGuard:
    """Engages, changes and releases the guard. Calls are serialised; an overtaken request is dropped."""

    def __init__(self, runner: Runner, nft: str | None = None) -> None:
        self.runner = runner
        self.nft = nft or _find_nft() or "nft"
        self._lock = threading.Lock()
        self._seq = 0
        self._applied = 0
        self.engaged: GuardSpec | None = None

    @staticmethod
    def supported() -> bool:
        """Linux, running as root, with nft installed."""
        return (sys.platform.startswith("linux") and hasattr(os, "geteuid") and os.geteuid() == 0
                and _find_nft() is not None)

    def ticket(self) -> int:
        """A sequence number taken where the request is decided, so work run later on workers keeps its order."""
        with self._lock:
            self._seq += 1
            return self._seq

    def engage(self, spec: GuardSpec, ticket: int | None = None) -> bool:
        """Let only ``spec`` out; False when a newer request was applied first (this one is then dropped)."""
        return self._apply(ruleset(spec), spec, ticket)

    def release(self, ticket: int | None = None) -> bool:
        """Remove the guard (fine when it is not there)."""
        return self._apply(RELEASE, None, ticket)

    remove = release

    def active(self) -> bool:
        """Whether the guard's table is in the kernel now (whoever put it there)."""
        result = self.runner.run([self.nft, "list", "table", "inet", TABLE], timeout=NFT_TIMEOUT)
        if result.ok:
            return True
        if "No such file or directory" in result.output() or "does not exist" in result.output():
            return False
        raise BackendError(f"nft could not list the leak guard: {result.output()[-300:]}")

    def recover(self) -> bool:
        """At start: remove a guard a crashed run left behind. True when there was one.

        The machine was cut off from everything but the tunnels until now; the caller tells the user
        ("blocked to protect you") instead of leaving them to wonder why nothing worked.
        """
        found = self.active()
        if found:
            log.warning("a leak guard left by an earlier run was blocking all traffic outside the tunnels; "
                        "it is removed")
        self.release()
        return found

    def _apply(self, script: str, spec: GuardSpec | None, ticket: int | None) -> bool:
        if ticket is None:
            ticket = self.ticket()
        with self._lock:
            if ticket < self._applied:
                return False
            result = self.runner.run([self.nft, "-f", "-"], timeout=NFT_TIMEOUT, stdin_data=script)
            if not result.ok:
                raise BackendError(f"nft refused the leak guard: {result.output()[-300:]}")
            self._applied = ticket
            if (spec is None) != (self.engaged is None):
                log.info("leak guard %s", "engaged" if spec is not None else "released")
            self.engaged = spec
            return True
