"""DNS-aware probing of one target through a tunnel: look the name up both ways, probe by the tunnel's answer.

The probe must judge the tunnel, not the network's resolver: a resolver that answers 0.0.0.0 for the site
would otherwise make every tunnel look dead (or "leaking through lo") and send vpnswitch through every
profile. So the name is resolved through the tunnel — its own resolvers, or public ones, asked from the
tunnel's address (and device) — and the site is asked at that address, with its own name in the Host header
and the TLS handshake (SNI and certificate check). In parallel the name is looked up as the user's apps do
(the resolvers in resolv.conf), and ``core.dnshealth`` compares the two.
"""

from __future__ import annotations

import hashlib
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import certifi
import urllib3

from vpnswitch.core import dnshealth
from vpnswitch.core.config import ProbeTarget
from vpnswitch.core.dnshealth import DnsAnswer, DnsFinding, DnsStatus
from vpnswitch.core.model import TIMED_OUT, Route, TargetResult
from vpnswitch.system import dnsclient, netinfo

SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)
USER_AGENT = "Mozilla/5.0"
BODY_SAMPLE = 4096  # what a plain-HTTP cross-check compares: enough to tell a block page from the site


@dataclass(frozen=True)
class Pinned:
    """What asking the site at one address gave."""

    result: TargetResult
    digest: str = ""  # of the first BODY_SAMPLE bytes, for plain HTTP cross-checks


def probe_at(
    target: ProbeTarget, address: str, source: str, device: str | None, timeout: float, *, sample: bool = False,
    ca_file: str | None = None,
) -> Pinned:
    """GET the target at ``address`` from ``source`` (and ``device``), as if its name had resolved there."""
    parts = urlsplit(target.url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    options: list[tuple[int, int, int | bytes]] = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
    if device and sys.platform.startswith("linux") and can_bind_device(device):
        options.append((socket.SOL_SOCKET, SO_BINDTODEVICE, device.encode()))
    deadline = urllib3.Timeout(connect=timeout, read=timeout)
    pool: urllib3.HTTPConnectionPool
    if https:
        pool = urllib3.HTTPSConnectionPool(address, port, timeout=deadline, retries=False, maxsize=1,
                                           source_address=(source, 0), socket_options=options,
                                           server_hostname=host, assert_hostname=host,
                                           cert_reqs="CERT_REQUIRED", ca_certs=ca_file or certifi.where())
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=deadline, retries=False, maxsize=1,
                                          source_address=(source, 0), socket_options=options)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    started = time.monotonic()
    try:
        response = pool.urlopen("GET", path, headers={"Host": parts.netloc.rsplit("@", 1)[-1],
                                                      "User-Agent": USER_AGENT},
                                redirect=False, preload_content=False, retries=False)
        try:
            status = response.status
            digest = hashlib.sha256(response.read(BODY_SAMPLE)).hexdigest() if sample else ""
        finally:
            response.release_conn()
    except urllib3.exceptions.HTTPError as exc:
        return Pinned(TargetResult(target.url, target.role, False, None, None, _short_error(exc)))
    except OSError as exc:
        return Pinned(TargetResult(target.url, target.role, False, None, None, type(exc).__name__))
    finally:
        pool.close()
    latency = round((time.monotonic() - started) * 1000, 1)
    ok = status in target.expect
    error = "" if ok else f"unexpected status {status}"
    return Pinned(TargetResult(target.url, target.role, ok, status, latency, error), digest)


def _short_error(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, urllib3.exceptions.TimeoutError) or "timed out" in text:
        return TIMED_OUT
    if isinstance(exc, urllib3.exceptions.SSLError) or "CERTIFICATE" in text or "SSL" in text:
        return "TLS failed"
    for needle, label in (("reset", "connection reset"), ("refused", "connection refused"),
                          ("unreachable", "network unreachable")):
        if needle in text:
            return label
    return "connection failed"


_device_ok: dict[str, bool] = {}


def can_bind_device(device: str) -> bool:
    """SO_BINDTODEVICE needs CAP_NET_RAW; found out once per device instead of failing every probe."""
    known = _device_ok.get(device)
    if known is None:
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, device.encode())
            known = True
        except OSError:
            known = False
        _device_ok[device] = known
    return known


@dataclass(frozen=True)
class DnsRoute:
    """Where to ask: the tunnel's interface and address, its resolvers, and the system's."""

    interface: str
    source: str
    tunnel_resolvers: tuple[str, ...]
    system_resolvers: tuple[str, ...]
    ca_file: str | None = None  # certificates to trust instead of certifi's (tests only)


@dataclass(frozen=True)
class TargetCheck:
    result: TargetResult
    finding: DnsFinding
    tunnel_addresses: tuple[str, ...] = ()  # where the site really is, for the egress check


Resolver = Callable[..., DnsAnswer]


def check_target(
    target: ProbeTarget, route: DnsRoute, timeout: float, *,
    resolve: Resolver = dnsclient.resolve,
    fallback: Callable[[ProbeTarget, float], TargetResult] | None = None,
    deadline: float | None = None,
) -> TargetCheck:
    """Probe one target given by name at its tunnel-resolved address; say what the network's DNS does to it.

    ``fallback`` probes the ordinary way (system resolution) when the tunnel's resolvers give no address,
    so a tunnel whose resolvers are unreachable is still judged by whether the site answers. The system
    resolver is asked alongside, so a silent one does not delay the probe. ``deadline`` (monotonic): the
    optional cross-check is skipped rather than let it make the whole check late.
    """
    host = netinfo.host_of(target.url) or ""
    dns_timeout = min(timeout, 2.0)
    system_box: list[DnsAnswer] = []
    asker = threading.Thread(
        target=lambda: system_box.append(resolve(host, route.system_resolvers, timeout=dns_timeout)
                                         if route.system_resolvers else DnsAnswer(DnsStatus.ERROR)),
        name="dns-system", daemon=True)
    asker.start()
    tunnel = resolve(host, route.tunnel_resolvers, timeout=dns_timeout, source=route.source, device=route.interface)
    ipv4 = tuple(a for a in tunnel.addresses if ":" not in a)
    if tunnel.usable and ipv4:
        pinned = probe_at(target, ipv4[0], route.source, route.interface, timeout, sample=True,
                          ca_file=route.ca_file)
        result = pinned.result
        system = _joined(asker, system_box, dns_timeout)
        serves: bool | None = None
        if dnshealth.needs_cross_check(system, tunnel):
            left = timeout if deadline is None else min(timeout, (deadline - time.monotonic()) / 2)
            if left >= 0.2:
                serves = _serves_site(target, system, pinned, route, left)
        finding = dnshealth.classify(host, system, tunnel, result.ok, serves)
        return TargetCheck(result, finding, ipv4)
    result = fallback(target, timeout) if fallback else TargetResult(
        target.url, target.role, False, None, None, "name not resolved through the tunnel")
    system = _joined(asker, system_box, dns_timeout)
    return TargetCheck(result, dnshealth.classify(host, system, tunnel, result.ok), ())


def _joined(asker: threading.Thread, box: list[DnsAnswer], timeout: float) -> DnsAnswer:
    asker.join(timeout + 0.5)  # the client keeps its own deadline; this only guards against a bug there
    return box[0] if box else DnsAnswer(DnsStatus.TIMEOUT)


def _serves_site(target: ProbeTarget, system: DnsAnswer, real: Pinned, route: DnsRoute, timeout: float) -> bool | None:
    """Does the system's address, asked through the tunnel, serve the site as its real address does?

    HTTPS: the certificate must be valid for the name (a block page cannot have one) and the status
    expected. Plain HTTP has no certificate, so the status and the first bytes of the page must match what
    the real address served. None when the real address did not answer (nothing to compare with).
    """
    if not real.result.ok:
        return None
    ipv4 = [a for a in system.addresses if ":" not in a]
    if not ipv4:
        return None
    https = urlsplit(target.url).scheme == "https"
    other = probe_at(target, ipv4[0], route.source, route.interface, timeout, sample=not https,
                     ca_file=route.ca_file)
    if not other.result.ok:
        return False
    return https or (other.result.status == real.result.status and other.digest == real.digest)


def tunnel_resolvers(route: Route, fallback: Sequence[str]) -> tuple[str, ...]:
    """The resolvers to ask through this tunnel: its own (WireGuard's DNS =, an OpenVPN server's push), else
    ``fallback`` (the config's ``behaviour.tunnel_resolvers``). The same list is what DNS may go to while
    the tunnel is up."""
    own = tuple(r for r in route.dns if netinfo.is_ip(r))
    return own or tuple(r for r in fallback if netinfo.is_ip(r))


def resolvers_outside(interface: str, resolvers: Sequence[str]) -> list[str]:
    """The resolvers whose queries would not go through ``interface`` (a DNS leak while it is up).

    Asked the way the leak check asks about targets: the OS picks a route for each (nothing is sent). A
    resolver on loopback (systemd-resolved's stub, dnsmasq) forwards elsewhere; it is judged by what it
    forwards to, which ``upstream`` lists where known, so it never counts itself.
    """
    outside = []
    for resolver in resolvers:
        egress = netinfo.egress_interface(resolver, 53)
        if egress is None or egress == "lo":
            continue
        if egress != interface:
            outside.append(resolver)
    return outside
