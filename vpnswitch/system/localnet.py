"""Does the local network still answer? Tells "my Wi-Fi dropped" from "my VPN was blocked".

From inside a tunnel both look the same: every probe times out. Outside the tunnel the default gateway
and the resolvers on the local subnet tell them apart, because they sit on the underlay itself. Each gets
a tiny DNS query (the root's NS record), sent out of the underlay interface; any reply proves the link
works — an answer, an error code, even an ICMP "port unreachable". Nothing leaves the local subnet.

Only addresses that answered before on the same network count as evidence that it is down: a router
that never answers DNS must not make a blocked VPN look like an outage (vpnswitch would then never
switch away from it).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import select
import socket
import struct
import sys
import threading
import time
from pathlib import Path

import psutil

from vpnswitch.system import netinfo

log = logging.getLogger(__name__)

SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)
RESOLV_CONF = Path("/etc/resolv.conf")
ROUTE_FILE = Path("/proc/net/route")
DEFAULT_TIMEOUT = 1.0
SENDS = 3  # the query is repeated within the timeout, so one lost packet does not look like an outage


def default_gateway(tunnels: frozenset[str] = frozenset(), route_file: Path = ROUTE_FILE) -> tuple[str, str] | None:
    """(interface, gateway) of the underlay's real default route (mask 0 — not OpenVPN's two /1 halves)."""
    try:
        lines = route_file.read_text().splitlines()[1:]
    except OSError:
        return None
    for line in lines:
        cols = line.split()
        if len(cols) < 8:
            continue
        iface, dest, gateway, flags, mask = cols[0], cols[1], cols[2], int(cols[3], 16), cols[7]
        if dest == mask == "00000000" and flags & 0x2 and iface != "lo" and iface not in tunnels \
                and not netinfo.is_tunnel_name(iface):
            return iface, socket.inet_ntoa(bytes.fromhex(gateway)[::-1])
    return None


def resolvers(path: Path = RESOLV_CONF) -> list[str]:
    """IPv4 nameservers from resolv.conf."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return []
    found = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "nameserver" and netinfo.is_ip(parts[1]) and ":" not in parts[1]:
            found.append(parts[1])
    return found


def subnets(iface: str) -> list[ipaddress.IPv4Network]:
    """The IPv4 networks directly attached to an interface."""
    nets = []
    for addr in psutil.net_if_addrs().get(iface, []):
        if addr.family == socket.AF_INET and addr.netmask:
            nets.append(ipaddress.IPv4Network(f"{addr.address}/{addr.netmask}", strict=False))
    return nets


def local_targets(tunnels: frozenset[str] = frozenset(), route_file: Path = ROUTE_FILE,
                  resolv_conf: Path = RESOLV_CONF) -> tuple[str, list[str]] | None:
    """(underlay interface, [gateway, resolvers on its subnet]), or None when there is no underlay gateway."""
    found = default_gateway(tunnels, route_file)
    if found is None:
        return None
    iface, gateway = found
    nets = subnets(iface)
    addresses = [gateway]
    for resolver in resolvers(resolv_conf):
        ip = ipaddress.IPv4Address(resolver)
        if resolver not in addresses and not ip.is_loopback and any(ip in net for net in nets):
            addresses.append(resolver)
    return iface, addresses


def _query(query_id: int) -> bytes:
    """A DNS query for the root's NS records: harmless, tiny, answered by any resolver."""
    return struct.pack("!HHHHHH", query_id, 0, 1, 0, 0, 0) + b"\x00" + struct.pack("!HH", 2, 1)


def _open(address: str, iface: str, port: int) -> socket.socket | None:
    """A UDP socket to address:port that leaves through iface (bound to it where allowed), else None."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        bound = False
        if sys.platform.startswith("linux"):
            try:
                sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, iface.encode())
                bound = True
            except OSError:
                pass
        sock.connect((address, port))
        if not bound and netinfo.interface_for_address(sock.getsockname()[0]) != iface:
            sock.close()  # routed into a tunnel: it would test the tunnel, not the local network
            return None
        sock.setblocking(False)
        return sock
    except OSError:
        sock.close()
        return None


def answering(iface: str, addresses: list[str], timeout: float = DEFAULT_TIMEOUT, port: int = 53) -> dict[str, bool]:
    """Which addresses answer through iface within timeout. Addresses that cannot be tested are left out."""
    socks = {addr: s for addr in addresses if (s := _open(addr, iface, port)) is not None}
    result = {addr: False for addr in socks}
    try:
        query = _query(int.from_bytes(os.urandom(2), "big"))
        start = time.monotonic()
        deadline = start + timeout
        sends = 0
        while True:
            now = time.monotonic()
            pending = {s: a for a, s in socks.items() if not result[a]}
            if not pending or now >= deadline:
                break
            if sends < SENDS and now >= start + sends * timeout / SENDS:
                for sock in pending:
                    try:
                        sock.send(query)
                    except OSError:
                        pass
                sends += 1
            next_send = start + sends * timeout / SENDS if sends < SENDS else deadline
            readable, _, _ = select.select(list(pending), [], [], max(0.0, min(deadline, next_send) - now))
            for sock in readable:
                try:
                    sock.recv(512)
                except ConnectionRefusedError:
                    pass  # ICMP port unreachable: the host is there, it just runs no resolver
                except OSError:
                    continue
                result[pending[sock]] = True
    finally:
        for sock in socks.values():
            sock.close()
    return result


class LocalNetwork:
    """Remembers, per network, which local addresses answer, and judges the local network by them."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT, route_file: Path = ROUTE_FILE,
                 resolv_conf: Path = RESOLV_CONF) -> None:
        self.timeout = timeout
        self._route_file = route_file
        self._resolv_conf = resolv_conf
        self._seen: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def knows(self, network: str | None) -> bool:
        """Whether something answered on this network before (so a silence would mean something)."""
        with self._lock:
            return bool(self._seen.get(network or ""))

    def check(self, network: str | None, tunnels: frozenset[str] = frozenset()) -> bool | None:
        """True: the local network answers. False: what answered before on it is silent now. None: cannot tell.

        Blocks for up to ``timeout`` (run it on a worker).
        """
        found = local_targets(tunnels, self._route_file, self._resolv_conf)
        if found is None:
            return None
        iface, addresses = found
        results = answering(iface, addresses, self.timeout)
        answered = {a for a, ok in results.items() if ok}
        with self._lock:
            seen = self._seen.setdefault(network or "", set())
            if answered:
                seen.update(answered)
                return True
            if seen & set(results):
                log.info("the local network is silent: %s did not answer on %s", ", ".join(sorted(results)), iface)
                return False
        return None
