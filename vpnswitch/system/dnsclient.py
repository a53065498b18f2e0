"""A tiny DNS client: A/AAAA questions over UDP to one resolver, from a chosen source address and device.

Why not getaddrinfo: it cannot be asked through a particular interface, hides NXDOMAIN vs SERVFAIL vs
timeout behind two error codes, and a hung lookup cannot be cancelled. Why not a library: two record types
and the header are all that is needed, and a library would be one more thing to ship on every platform.
Replies are matched by id, source and question, so a stray or forged packet is ignored rather than believed.
"""

from __future__ import annotations

import ipaddress
import os
import select
import socket
import struct
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from vpnswitch.core.dnshealth import DnsAnswer, DnsStatus

SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)
QTYPE_A = 1
QTYPE_AAAA = 28
RESOLV_CONF = Path("/etc/resolv.conf")
SENDS = 2  # the question is sent again halfway through the timeout: one lost packet is not a "timeout"

_RCODES = {0: DnsStatus.ANSWER, 2: DnsStatus.SERVFAIL, 3: DnsStatus.NXDOMAIN, 5: DnsStatus.REFUSED}


class MalformedReply(ValueError):
    pass


def encode_name(name: str) -> bytes:
    labels = name.rstrip(".").split(".")
    out = bytearray()
    for label in labels:
        raw = label.encode("idna") if label else b""
        if not raw or len(raw) > 63:
            raise ValueError(f"not a host name: {name!r}")
        out += bytes([len(raw)]) + raw
    return bytes(out) + b"\0"


def build_query(name: str, qtype: int, query_id: int) -> bytes:
    """A recursive query with one question."""
    return struct.pack("!HHHHHH", query_id, 0x0100, 1, 0, 0, 0) + encode_name(name) + struct.pack("!HH", qtype, 1)


def _skip_name(msg: bytes, pos: int) -> int:
    while True:
        if pos >= len(msg):
            raise MalformedReply("name runs past the end")
        length = msg[pos]
        if length & 0xC0 == 0xC0:
            return pos + 2
        if length & 0xC0:
            raise MalformedReply("unknown label type")
        pos += 1 + length
        if length == 0:
            return pos


def parse_reply(msg: bytes, query: bytes) -> DnsAnswer:
    """The outcome of ``query`` from its reply. Raises MalformedReply for anything that is not that reply."""
    if len(msg) < 12:
        raise MalformedReply("shorter than a header")
    rid, flags, qdcount, ancount, _, _ = struct.unpack("!HHHHHH", msg[:12])
    if rid != struct.unpack("!H", query[:2])[0] or not flags & 0x8000:
        raise MalformedReply("not a reply to this query")
    question = query[12:]
    if qdcount != 1 or msg[12:12 + len(question)].lower() != question.lower():
        raise MalformedReply("reply to another question")
    qtype = struct.unpack("!H", question[-4:-2])[0]
    status = _RCODES.get(flags & 0x000F, DnsStatus.ERROR)
    pos = 12 + len(question)
    addresses = []
    for _ in range(ancount):
        pos = _skip_name(msg, pos)
        if pos + 10 > len(msg):
            raise MalformedReply("record runs past the end")
        rtype, _, _, rdlen = struct.unpack("!HHIH", msg[pos:pos + 10])
        pos += 10
        data = msg[pos:pos + rdlen]
        if len(data) != rdlen:
            raise MalformedReply("record data runs past the end")
        if rtype == qtype == QTYPE_A and rdlen == 4:
            addresses.append(socket.inet_ntop(socket.AF_INET, data))
        elif rtype == qtype == QTYPE_AAAA and rdlen == 16:
            addresses.append(socket.inet_ntop(socket.AF_INET6, data))
        pos += rdlen
    if status is DnsStatus.ANSWER and not addresses:
        status = DnsStatus.NODATA
    return DnsAnswer(status, tuple(addresses))


def query(
    name: str, server: str, *, qtype: int = QTYPE_A, timeout: float = 1.0, port: int = 53,
    source: str | None = None, device: str | None = None,
) -> DnsAnswer:
    """Ask ``server`` about ``name``; never blocks longer than ``timeout``.

    ``source``/``device`` pin the question to one route (a tunnel's address, and its interface where the OS
    allows it): a question meant for the tunnel can then never leave through the underlay instead.
    """
    family = socket.AF_INET6 if ":" in server else socket.AF_INET
    question = build_query(name, qtype, int.from_bytes(os.urandom(2), "big"))
    try:
        sock = socket.socket(family, socket.SOCK_DGRAM)
    except OSError:
        return DnsAnswer(DnsStatus.ERROR, server=server)
    try:
        if device and sys.platform.startswith("linux"):
            try:
                sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, device.encode())
            except OSError:
                pass  # needs CAP_NET_RAW; the source address still pins the route
        if source:
            sock.bind((source, 0))
        sock.connect((server, port))  # the kernel then drops datagrams from anyone else
        sock.setblocking(False)
        return _exchange(sock, question, timeout, server)
    except OSError:
        return DnsAnswer(DnsStatus.ERROR, server=server)
    finally:
        sock.close()


def _exchange(sock: socket.socket, question: bytes, timeout: float, server: str) -> DnsAnswer:
    start = time.monotonic()
    deadline = start + timeout
    sends = 0
    while True:
        now = time.monotonic()
        if now >= deadline:
            return DnsAnswer(DnsStatus.TIMEOUT, server=server)
        if sends < SENDS and now >= start + sends * timeout / SENDS:
            try:
                sock.send(question)
            except OSError:
                return DnsAnswer(DnsStatus.ERROR, server=server)
            sends += 1
        next_send = start + sends * timeout / SENDS if sends < SENDS else deadline
        readable, _, _ = select.select([sock], [], [], max(0.0, min(deadline, next_send) - now))
        if not readable:
            continue
        try:
            msg = sock.recv(4096)
        except ConnectionRefusedError:
            return DnsAnswer(DnsStatus.REFUSED, server=server)  # ICMP port unreachable: no resolver there
        except OSError:
            continue
        try:
            answer = parse_reply(msg, question)
        except MalformedReply:
            continue
        return DnsAnswer(answer.status, answer.addresses, server)


def resolve(
    name: str, servers: Sequence[str], *, timeout: float = 1.0, port: int = 53,
    source: str | None = None, device: str | None = None, ipv6: bool = False,
) -> DnsAnswer:
    """Ask the servers in order, as a stub resolver does, until one gives a definite answer.

    A definite answer is addresses, NXDOMAIN or NODATA; SERVFAIL, REFUSED and silence go on to the next
    server. The last server's failure is what is returned. ``ipv6`` adds AAAA addresses to an A answer.
    """
    if not servers:
        return DnsAnswer(DnsStatus.ERROR)
    each = max(0.2, timeout / len(servers))
    last = DnsAnswer(DnsStatus.ERROR)
    for server in servers:
        last = query(name, server, timeout=each, port=port, source=source, device=device)
        if last.status in (DnsStatus.ANSWER, DnsStatus.NXDOMAIN, DnsStatus.NODATA):
            if ipv6 and last.status is not DnsStatus.NXDOMAIN:
                more = query(name, server, qtype=QTYPE_AAAA, timeout=each, port=port, source=source,
                             device=device)
                if more.usable:
                    status = DnsStatus.ANSWER
                    return DnsAnswer(status, last.addresses + more.addresses, server)
            return last
    return last


def system_resolvers(path: Path = RESOLV_CONF) -> list[str]:
    """The nameservers in resolv.conf, in order (IPv4 and IPv6; zone ids dropped)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return []
    found = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "nameserver":
            address = parts[1].split("%")[0]
            try:
                ipaddress.ip_address(address)
            except ValueError:
                continue
            found.append(address)
    return found
