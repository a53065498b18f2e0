"""Parsers for what WireGuard's tools print: ``wg show <if> dump``, wg-quick's trace, ``sc query``.

The dump's first line carries the interface's private key: it is parsed away here and must never be
logged or shown. Handshake facts follow WireGuard's own timers (wireguard-go ``device/constants.go``):
a session key is rejected 180 s after its handshake, and a peer that is sent data but does not answer
is retried for 90 s — so only ages beyond those say "certainly dead"; a quiet healthy tunnel has old
handshakes too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

REJECT_AFTER_TIME = 180.0
REKEY_ATTEMPT_TIME = 90.0
# Slack on top of the protocol timers: jitter, our own polling interval.
MARGIN = 15.0


@dataclass(frozen=True)
class WgPeer:
    public_key: str
    endpoint: str | None
    allowed_ips: tuple[str, ...]
    latest_handshake: int  # unix time; 0 = never
    rx: int
    tx: int
    keepalive: int | None


@dataclass(frozen=True)
class WgDump:
    listen_port: int | None
    fwmark: int | None
    peers: tuple[WgPeer, ...]

    @property
    def rx(self) -> int:
        return sum(p.rx for p in self.peers)

    @property
    def tx(self) -> int:
        return sum(p.tx for p in self.peers)

    @property
    def latest_handshake(self) -> int:
        return max((p.latest_handshake for p in self.peers), default=0)


def _int_or_none(value: str, *, base: int = 10) -> int | None:
    if value in ("off", "(none)", ""):
        return None
    return int(value, base)


def parse_dump(text: str) -> WgDump:
    """Parse ``wg show <if> dump``; ValueError when it is not that format."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValueError("empty wg dump")
    head = lines[0].split("\t")
    if len(head) != 4:
        raise ValueError(f"unexpected wg dump interface line ({len(head)} fields)")
    fwmark = head[3]
    peers = []
    for line in lines[1:]:
        fields = line.split("\t")
        if len(fields) != 8:
            raise ValueError(f"unexpected wg dump peer line ({len(fields)} fields)")
        pub, _psk, endpoint, allowed, handshake, rx, tx, keepalive = fields
        peers.append(WgPeer(
            public_key=pub,
            endpoint=None if endpoint == "(none)" else endpoint,
            allowed_ips=tuple(a for a in allowed.split(",") if a and a != "(none)"),
            latest_handshake=int(handshake),
            rx=int(rx),
            tx=int(tx),
            keepalive=_int_or_none(keepalive),
        ))
    return WgDump(
        listen_port=_int_or_none(head[2]),
        fwmark=_int_or_none(fwmark, base=16) if fwmark.startswith("0x") else _int_or_none(fwmark),
        peers=tuple(peers),
    )


def describe(dump: WgDump, now: float) -> str:
    """A short human line: handshake age and traffic."""
    handshake = dump.latest_handshake
    age = "never" if handshake == 0 else f"{max(0, int(now - handshake))} s ago"
    return f"latest handshake {age}, received {dump.rx} B, sent {dump.tx} B"


@dataclass(frozen=True)
class Sample:
    at: float  # unix time of the sample
    dump: WgDump


def dead_reason(first: Sample, previous: Sample, current: Sample) -> str | None:
    """A reason when the samples prove the peer unreachable, else None.

    ``first`` is the first sample after connect, ``previous`` the one before ``current``. Two cases are
    certain: no handshake ever completed although we kept sending for longer than WireGuard retries; or
    the last handshake is older than the key-rejection time while we keep sending and receive nothing.
    """
    dump = current.dump
    sending = dump.tx > previous.dump.tx
    receiving = dump.rx > previous.dump.rx
    if not dump.peers or not sending or receiving:
        return None
    handshake = dump.latest_handshake
    if handshake == 0:
        if current.at - first.at > REKEY_ATTEMPT_TIME + MARGIN and dump.tx > first.dump.tx:
            return f"WireGuard never completed a handshake in {int(current.at - first.at)} s of sending"
        return None
    age = current.at - handshake
    if age > REJECT_AFTER_TIME + MARGIN:
        return f"WireGuard's last handshake was {int(age)} s ago and the peer no longer answers"
    return None


# ------------------------------------------------------------------------------------------- wg-quick

_TRACE = re.compile(r"^\[#\] ")


def wg_quick_error(output: str) -> str:
    """The lines of wg-quick's output that explain a failure: not its command trace, not wireguard-go's banner."""
    kept = []
    for line in output.splitlines():
        stripped = line.strip()
        if not stripped or _TRACE.match(stripped) or stripped[0] in "┌│└":
            continue
        if stripped.startswith("[!] Missing WireGuard kernel module") or stripped == "Error: Unknown device type.":
            continue  # the normal fallback to wireguard-go, not an error
        kept.append(stripped)
    return " / ".join(kept[-3:])


# ---------------------------------------------------------------------------------------- Windows SCM

# sc.exe prints the state as a number and a name ("STATE : 4  RUNNING"); the number does not depend on
# the display language.
_SC_STATES = {1: "stopped", 2: "start-pending", 3: "stop-pending", 4: "running", 5: "continue-pending",
              6: "pause-pending", 7: "paused"}
_SC_STATE_LINE = re.compile(r"^\s*STATE\s*:\s*(\d+)", re.MULTILINE)
SC_SERVICE_MISSING = 1060  # ERROR_SERVICE_DOES_NOT_EXIST


def parse_sc_query(output: str, returncode: int = 0) -> str:
    """The service state from ``sc query <name>``: running, stopped, …, "missing", or "unknown"."""
    if returncode == SC_SERVICE_MISSING or re.search(r"\bFAILED 1060\b", output):
        return "missing"
    match = _SC_STATE_LINE.search(output)
    if match is None:
        return "unknown"
    return _SC_STATES.get(int(match.group(1)), "unknown")


def config_endpoints(text: str) -> tuple[str, ...]:
    """The hosts of the ``Endpoint = host:port`` lines of a WireGuard config (IPv6 without its brackets)."""
    hosts: list[str] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        key, sep, value = line.partition("=")
        if not sep or key.strip().lower() != "endpoint":
            continue
        value = value.strip()
        host = value[1:value.find("]")] if value.startswith("[") and "]" in value else value.rsplit(":", 1)[0]
        if host and host not in hosts:
            hosts.append(host)
    return tuple(hosts)
