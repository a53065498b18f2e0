"""Active probes: small HTTP(S) requests through exactly one profile's route.

Through a tunnel, sockets are bound to the tunnel's source address (and, where allowed, to the device), so
a probe can never succeed by leaking out of the underlay. A target given by name is resolved through the
tunnel and asked at that address, while the system resolver's answer is compared with it
(``system/dnsprobe.py``): a poisoned network resolver then reads as a DNS problem, not as a dead tunnel.
Through a proxy, DNS is resolved by the proxy (socks5h), so a poisoned local resolver cannot fake a success
either. The egress check asks the OS which interface ordinary traffic to each target would take, and which
the system's resolvers' queries would take.
"""

from __future__ import annotations

import functools
import logging
import socket
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from vpnswitch.core import dnshealth
from vpnswitch.core.config import Behaviour, ProbeTarget
from vpnswitch.core.model import TIMED_OUT, RoundResult, Route, TargetResult
from vpnswitch.system import dnsclient, dnsprobe, netinfo

log = logging.getLogger(__name__)

USER_AGENT = "Mozilla/5.0"  # a probe should look like any browser request, not announce itself
SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)
# Asked through a tunnel that brings no resolvers of its own (a WireGuard file without "DNS =").
DEFAULT_TUNNEL_RESOLVERS = Behaviour().tunnel_resolvers
RESOLVED_UPSTREAMS = Path("/run/systemd/resolve/resolv.conf")


class _BoundAdapter(HTTPAdapter):
    """Every connection leaves from ``source`` (and the device, where the OS lets us say so)."""

    def __init__(self, source: str, device: str | None) -> None:
        self._source = source
        self._device = device
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self._source, 0)
        options = list(kwargs.get("socket_options") or [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
        if self._device and sys.platform.startswith("linux") and _can_bind_device(self._device):
            options.append((socket.SOL_SOCKET, SO_BINDTODEVICE, self._device.encode()))
        kwargs["socket_options"] = options
        super().init_poolmanager(*args, **kwargs)


def _can_bind_device(device: str) -> bool:
    """SO_BINDTODEVICE needs CAP_NET_RAW; find out once per device instead of failing every probe."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, device.encode())
        return True
    except OSError:
        return False


class RouteUnavailable(Exception):
    pass


def session_for(route: Route) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # never pick up a system proxy: the route decides where traffic goes
    session.headers["User-Agent"] = USER_AGENT
    if route.kind == "proxy":
        session.proxies = {"http": route.proxy or "", "https": route.proxy or ""}
        session.mount("http://", HTTPAdapter(max_retries=0))
        session.mount("https://", HTTPAdapter(max_retries=0))
        return session
    source = netinfo.interface_ipv4(route.interface or "")
    if source is None:
        raise RouteUnavailable(f"interface {route.interface} has no IPv4 address")
    adapter = _BoundAdapter(source, route.interface)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def probe_target(session: requests.Session, target: ProbeTarget, timeout: float) -> TargetResult:
    started = time.monotonic()
    try:
        # GET, not HEAD: some sites answer HEAD differently. stream=True reads only the headers.
        with session.get(target.url, timeout=(timeout, timeout), allow_redirects=False, stream=True) as response:
            status = response.status_code
    except requests.exceptions.RequestException as exc:
        return TargetResult(target.url, target.role, False, None, None, _short_error(exc))
    latency = (time.monotonic() - started) * 1000
    ok = status in target.expect
    return TargetResult(target.url, target.role, ok, status, round(latency, 1),
                        "" if ok else f"unexpected status {status}")


def _short_error(exc: Exception) -> str:
    text = type(exc).__name__
    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.ReadTimeout):
        return TIMED_OUT
    if isinstance(exc, requests.exceptions.ProxyError):
        return "proxy refused"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS failed"
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = str(exc)
        for needle, label in (("reset", "connection reset"), ("refused", "connection refused"),
                              ("Name or service", "name not resolved"), ("resolve", "name not resolved"),
                              ("unreachable", "network unreachable")):
            if needle in reason:
                return label
        return "connection failed"
    return text


def leak_check(route: Route, targets: Sequence[ProbeTarget],
               addresses: Mapping[str, Sequence[str]] | None = None) -> str:
    """Would ordinary traffic to the targets leave through this tunnel? '' when it would.

    ``addresses``: where each host really is (resolved through the tunnel). A host without one is looked up
    the ordinary way, but a sinkhole answer (0.0.0.0, loopback) is a DNS problem the DNS check reports, not
    a route that leaks: "traffic would leave through lo" would be the wrong alarm.
    """
    if route.kind != "tunnel" or not route.interface:
        return ""
    for target in targets:
        host = netinfo.host_of(target.url)
        if not host:
            continue
        known = (addresses or {}).get(host)
        address = host if netinfo.is_ip(host) else (known[0] if known else _resolve(host))
        if address is None or (not netinfo.is_ip(host) and not known and dnshealth.is_sinkhole(address)):
            continue
        egress = netinfo.egress_interface(address)
        if egress is not None and egress != route.interface:
            return f"traffic to {host} would leave through {egress}, not {route.interface}"
    return ""


def _resolve(host: str) -> str | None:
    """The address ordinary programs would use; the probe just looked the same name up, so this is cached."""
    try:
        infos = socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)
    except OSError:
        return None
    return str(infos[0][4][0]) if infos else None


class HttpProber:
    """Runs one probe round: every target in parallel, each with its own deadline."""

    # Evidence rounds overlap (a stall launches up to `failure_rounds` of them a fraction of a second apart), and
    # each round needs one thread per target plus the egress check. A smaller pool would queue the later rounds
    # behind the earlier ones' timeouts and delay the verdict by a whole probe timeout. Threads start on demand.
    def __init__(self, max_workers: int = 32,
                 leak_checker: Callable[..., str] = leak_check,
                 tunnel_resolvers: Sequence[str] | Callable[[], Sequence[str]] = DEFAULT_TUNNEL_RESOLVERS,
                 resolv_conf: Path = dnsclient.RESOLV_CONF,
                 resolved_upstreams: Path = RESOLVED_UPSTREAMS,
                 dns_port: int = 53, ca_file: str | None = None):
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="probe")
        self._leak_checker = leak_checker
        # A callable reads the current settings each round (they can change while running).
        self._tunnel_resolvers = tunnel_resolvers
        self._resolv_conf = resolv_conf
        self._resolved_upstreams = resolved_upstreams
        self._resolve = functools.partial(dnsclient.resolve, port=dns_port)  # another port only in tests
        self._ca_file = ca_file  # certificates to trust for pinned HTTPS probes instead of certifi's (tests)

    def run_round(self, route: Route, targets: Sequence[ProbeTarget], timeout: float, started: float) -> RoundResult:
        try:
            session = session_for(route)
        except RouteUnavailable as exc:
            failed = tuple(TargetResult(t.url, t.role, False, None, None, str(exc)) for t in targets)
            return RoundResult(failed, started)
        try:
            dns_route = self._dns_route(route)
            # A hung DNS lookup is not covered by requests' timeouts: give up on the round's own deadline, which
            # leaves room for the lookup through the tunnel before the probe.
            budget = 2 * timeout + 2.5
            deadline = time.monotonic() + budget
            futures: list[Future[Any]] = []
            for target in targets:
                host = netinfo.host_of(target.url) or ""
                if dns_route is not None and host and not netinfo.is_ip(host):
                    futures.append(self._pool.submit(
                        dnsprobe.check_target, target, dns_route, timeout, resolve=self._resolve,
                        fallback=functools.partial(probe_target, session), deadline=deadline))
                else:
                    futures.append(self._pool.submit(probe_target, session, target, timeout))
            wait(futures, timeout=budget)
            results: list[TargetResult] = []
            findings: list[dnshealth.DnsFinding] = []
            addresses: dict[str, Sequence[str]] = {}
            for target, future in zip(targets, futures, strict=True):
                if not future.done() or future.exception() is not None:
                    results.append(TargetResult(target.url, target.role, False, None, None, TIMED_OUT))
                    continue
                value = future.result()
                if isinstance(value, dnsprobe.TargetCheck):
                    results.append(value.result)
                    findings.append(value.finding)
                    if value.tunnel_addresses:
                        addresses[netinfo.host_of(target.url) or ""] = value.tunnel_addresses
                else:
                    results.append(value)
            leak_future = self._pool.submit(self._leak_checker, route, targets, addresses) if addresses \
                else self._pool.submit(self._leak_checker, route, targets)
            wait([leak_future], timeout=timeout + 0.5)
            leak = leak_future.result() if leak_future.done() and leak_future.exception() is None else ""
            dns_leak = self._dns_leak(dns_route.interface) if dns_route else ()
            return RoundResult(tuple(results), started, leak, dnshealth.worst(findings), dns_leak)
        finally:
            session.close()

    def _dns_route(self, route: Route) -> dnsprobe.DnsRoute | None:
        """How to resolve through this route; None for proxies (they resolve remotely) or without an address."""
        if route.kind != "tunnel" or not route.interface:
            return None
        source = netinfo.interface_ipv4(route.interface)
        if source is None:
            return None
        fallback = self._tunnel_resolvers() if callable(self._tunnel_resolvers) else self._tunnel_resolvers
        resolvers = dnsprobe.tunnel_resolvers(route, fallback)
        return dnsprobe.DnsRoute(route.interface, source, resolvers,
                                 tuple(dnsclient.system_resolvers(self._resolv_conf)), self._ca_file)

    def _upstreams(self) -> tuple[list[str], bool]:
        """Where the system's lookups go: resolv.conf's servers, or (True) the servers behind a local stub.

        Behind systemd-resolved's stub that is every link's servers (its own resolv.conf).
        """
        servers = dnsclient.system_resolvers(self._resolv_conf)
        if servers and all(ipaddress_is_loopback(s) for s in servers):
            return dnsclient.system_resolvers(self._resolved_upstreams), True
        return servers, False

    def _dns_leak(self, interface: str) -> tuple[str, ...]:
        """The system's resolvers asked outside the tunnel.

        Behind a stub, a warning is given only when none of its servers is reached through the tunnel (the
        tunnel brought no DNS at all): with servers on both, the stub's own per-link routing decides (what
        NetworkManager's dns-priority sets), which this cannot see, and a warning that stayed after the fix
        would be worse than none.
        """
        servers, behind_stub = self._upstreams()
        outside = dnsprobe.resolvers_outside(interface, servers)
        if behind_stub and len(outside) < len([s for s in servers if not ipaddress_is_loopback(s)]):
            return ()
        return tuple(outside)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def ipaddress_is_loopback(address: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
