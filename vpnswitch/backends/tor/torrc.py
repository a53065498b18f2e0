"""The torrc vpnswitch writes for the tor it owns, and the bridge lines users paste into a profile.

Pure text in, text out: nothing here touches the disk or starts a program, so every rule is a table test.
The options vpnswitch manages itself (ports, data directory, authentication, ownership) cannot be overridden
by a profile's extra lines: a stray ``ControlPort 9051`` without authentication would hand tor to any
local process.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

# Transports a bridge line may name, and the plugin names that can serve them.
TRANSPORTS = ("obfs4", "snowflake", "webtunnel", "meek_lite")
FINGERPRINT_RE = re.compile(r"[0-9A-Fa-f]{40}")
OPTION_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Options vpnswitch owns; a profile's extra torrc lines may not set them.
MANAGED_OPTIONS = frozenset(o.lower() for o in (
    "DataDirectory", "SocksPort", "ControlPort", "ControlPortWriteToFile", "ControlSocket",
    "CookieAuthentication", "CookieAuthFile", "CookieAuthFileGroupReadable", "HashedControlPassword",
    "__OwningControllerProcess", "RunAsDaemon", "Log", "PidFile", "User", "UseBridges", "Bridge",
    "ClientTransportPlugin", "SocksTimeout", "HTTPTunnelPort", "TransPort", "DNSPort", "ORPort",
    "DisableNetwork", "Sandbox",
))


class BridgeLineError(ValueError):
    pass


@dataclass(frozen=True)
class Bridge:
    """One ``Bridge`` line: an optional pluggable transport, an address, a fingerprint and k=v arguments."""

    transport: str | None
    address: str  # host:port, IPv6 in brackets
    fingerprint: str | None = None
    args: tuple[str, ...] = ()

    def line(self) -> str:
        parts = [p for p in (self.transport, self.address, self.fingerprint) if p]
        return " ".join([*parts, *self.args])


def _check_address(text: str) -> bool:
    match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([0-9.]+):(\d{1,5})", text)
    if not match:
        return False
    host = match.group(1) or match.group(3)
    port = int(match.group(2) or match.group(4))
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return 0 < port < 65536


def parse_bridge(text: str) -> Bridge:
    """Parse a bridge line as Tor Browser or bridges.torproject.org prints it ("Bridge " prefix optional)."""
    if "\n" in text or "\r" in text:
        raise BridgeLineError("must be a single line")
    words = text.split()
    if words and words[0].lower() == "bridge":
        words = words[1:]
    if not words:
        raise BridgeLineError("is empty")
    transport = None
    if not _check_address(words[0]):
        transport = words.pop(0)
        if transport not in TRANSPORTS:
            raise BridgeLineError(f'unknown transport "{transport}" (known: {", ".join(TRANSPORTS)})')
        if not words:
            raise BridgeLineError(f"{transport} bridge has no address")
    address = words.pop(0)
    if not _check_address(address):
        raise BridgeLineError(f'"{address}" is not an IP address with a port, such as 192.0.2.1:443')
    fingerprint = None
    if words and FINGERPRINT_RE.fullmatch(words[0]):
        fingerprint = words.pop(0).upper()
    for arg in words:
        if "=" not in arg or arg.startswith("="):
            raise BridgeLineError(f'"{arg}" is not a key=value argument')
    if transport is None and words:
        raise BridgeLineError("a bridge without a transport takes no key=value arguments")
    return Bridge(transport, address, fingerprint, tuple(words))


def check_extra_line(text: str) -> str | None:
    """Why an extra torrc line is refused, or None when it is fine."""
    if not isinstance(text, str) or not text.strip():
        return "must be a non-empty string such as \"ExitNodes {nl}\""
    if "\n" in text or "\r" in text or "\0" in text:
        return "must be a single line"
    option = text.split()[0]
    if not OPTION_RE.fullmatch(option):
        return f'"{option}" is not a torrc option name'
    if option.lower() in MANAGED_OPTIONS:
        return f"{option} is set by vpnswitch itself and cannot be overridden"
    return None


@dataclass(frozen=True)
class TorrcSpec:
    """Everything that goes into the torrc of one profile's tor."""

    data_dir: str
    control_port_file: str
    owner_pid: int
    socks_port: int | None = None  # None: let tor pick a free one ("auto")
    bridges: tuple[Bridge, ...] = ()
    # transport -> argv of the client plugin that serves it ("exec" form)
    plugins: Mapping[str, Sequence[str]] = field(default_factory=dict)
    socks_timeout: int = 15
    extra: tuple[str, ...] = ()


def _quote(value: str) -> str:
    """torrc values with spaces (Windows paths) need quotes; backslashes are escapes inside them."""
    if re.fullmatch(r"[^\s\"\\#]+", value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(spec: TorrcSpec) -> str:
    lines = [
        "# Written by vpnswitch for the tor it starts and owns; rewritten at every start.",
        f"DataDirectory {_quote(spec.data_dir)}",
        f"SocksPort 127.0.0.1:{spec.socks_port if spec.socks_port else 'auto'}",
        "ControlPort 127.0.0.1:auto",
        f"ControlPortWriteToFile {_quote(spec.control_port_file)}",
        "CookieAuthentication 1",
        # tor exits on its own when vpnswitch is gone, even after a crash.
        f"__OwningControllerProcess {spec.owner_pid}",
        "Log notice stdout",
        "ClientOnly 1",
        "AvoidDiskWrites 1",
        # A standby tor must not doze off: a dormant tor looks dead to a probe and wakes slowly.
        "DormantCanceledByStartup 1",
        # After bootstrap tor's own status stays "fine" through an outage; bound how long a stream may hang.
        f"SocksTimeout {spec.socks_timeout}",
    ]
    if spec.bridges:
        lines.append("UseBridges 1")
        needed = sorted({b.transport for b in spec.bridges if b.transport})
        groups: dict[tuple[str, ...], list[str]] = {}
        for transport in needed:
            groups.setdefault(tuple(spec.plugins[transport]), []).append(transport)
        for argv, transports in groups.items():
            lines.append(f"ClientTransportPlugin {','.join(transports)} exec {' '.join(_quote(a) for a in argv)}")
        lines += [f"Bridge {b.line()}" for b in spec.bridges]
    lines += list(spec.extra)
    return "\n".join(lines) + "\n"
