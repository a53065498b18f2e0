"""Facts about the machine's network: interfaces, their counters, the egress interface, the underlay.

Everything here is cheap (reads kernel tables; sends no packet) so monitors can call it twice a second.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psutil

# Interface name prefixes that belong to VPNs, never to the underlay.
TUNNEL_PREFIXES = ("wg", "tun", "tap", "utun", "ppp", "proton", "nordlynx", "nordtun", "mullvad", "ipsec",
                   "tailscale", "CloudflareWARP", "warp", "windscribe", "ivpn", "pia", "vsl-wg", "vsl-tun")


@dataclass(frozen=True)
class Counters:
    rx: int
    tx: int


def interface_up(name: str) -> bool | None:
    """True when up, False when present but down, None when absent."""
    stats = psutil.net_if_stats().get(name)
    if stats is None:
        return None
    return bool(stats.isup)


def interface_counters(name: str) -> Counters | None:
    counters = psutil.net_io_counters(pernic=True).get(name)
    if counters is None:
        return None
    return Counters(rx=counters.bytes_recv, tx=counters.bytes_sent)


def interface_ipv4(name: str) -> str | None:
    for addr in psutil.net_if_addrs().get(name, []):
        if addr.family == socket.AF_INET:
            return str(addr.address)
    return None


def interface_for_address(address: str) -> str | None:
    for name, addrs in psutil.net_if_addrs().items():
        if any(a.address.split("%")[0] == address for a in addrs if a.family in (socket.AF_INET, socket.AF_INET6)):
            return name
    return None


def egress_interface(host: str, port: int = 443) -> str | None:
    """The interface the OS would use to reach ``host``: a UDP connect() picks a route but sends nothing."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.connect((host, port))
            source = sock.getsockname()[0]
    except OSError:
        return None
    return interface_for_address(source)


def host_of(url: str) -> str | None:
    return urlsplit(url).hostname


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def is_tunnel_name(name: str, sysfs: Path = Path("/sys/class/net")) -> bool:
    """A VPN's interface: a known name, or (Linux) a TUN/TAP device or a link without a hardware type.

    Names alone miss tunnels whose device name the user or app chose (OpenVPN's ``dev``, WireGuard's
    config name); the kernel knows better: TUN/TAP devices (OpenVPN, wireguard-go, most vendor apps) have
    ``tun_flags``, kernel WireGuard says so in its uevent. The link type is not used: a mobile modem's
    raw-IP interface has the same "none" type as a tunnel, and must stay the underlay.
    """
    if name.startswith(TUNNEL_PREFIXES):
        return True
    device = sysfs / name
    if (device / "tun_flags").exists():
        return True
    try:
        return "DEVTYPE=wireguard" in (device / "uevent").read_text()
    except OSError:
        return False


@dataclass(frozen=True)
class Underlay:
    up: bool
    network: str | None  # a fingerprint of the network we are on (gateway and its interface), hashed
    reason: str = ""


def _linux_routes(path: Path = Path("/proc/net/route")) -> list[tuple[str, str, str, int]]:
    """(interface, destination, gateway, flags) of the IPv4 main routing table."""
    try:
        lines = path.read_text().splitlines()[1:]
    except OSError:
        return []
    routes = []
    for line in lines:
        cols = line.split()
        if len(cols) >= 8:
            routes.append((cols[0], cols[1], cols[2], int(cols[3], 16)))
    return routes


def _hex_ip(value: str) -> str:
    return socket.inet_ntoa(bytes.fromhex(value)[::-1])


def underlay(tunnels: set[str] | frozenset[str] = frozenset(), route_file: Path = Path("/proc/net/route")) -> Underlay:
    """Is the physical network up? A non-tunnel interface that is up and carries a gateway route.

    Tunnels keep the underlay's routes in the main table (wg-quick uses policy routing, OpenVPN adds /1
    routes), so the gateway stays visible while a VPN is up.
    """
    stats = psutil.net_if_stats()

    def usable(name: str) -> bool:
        st = stats.get(name)
        return bool(st and st.isup) and name not in tunnels and not is_tunnel_name(name) and name != "lo"

    if sys.platform.startswith("linux"):
        routes = _linux_routes(route_file)
        gateways = [(iface, gw) for iface, dest, gw, flags in routes if flags & 0x2 and usable(iface)]
        defaults = [(iface, gw) for iface, dest, gw, flags in routes if dest == "00000000" and usable(iface)]
        candidates = defaults or gateways
        if not candidates:
            return Underlay(False, None, "no network connection (no gateway on any interface)")
        iface, gw = candidates[0]
        fingerprint = hashlib.sha256(f"{iface}|{_hex_ip(gw)}".encode()).hexdigest()[:12]
        return Underlay(True, fingerprint, "")
    names = [n for n in stats if usable(n) and interface_ipv4(n)]
    if not names:
        return Underlay(False, None, "no network connection")
    fingerprint = hashlib.sha256("|".join(sorted(names)).encode()).hexdigest()[:12]
    return Underlay(True, fingerprint, "")


def tcp_port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
