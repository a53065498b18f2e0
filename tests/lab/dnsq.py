"""A minimal DNS A-record query, optionally bound to one interface (e.g. a tunnel).

Tests need to ask a specific resolver through a specific tunnel, which neither getent
(uses resolv.conf) nor curl can do, and dig is not part of the lab's packages. Runs as a
script inside a namespace: prints one address per line; exit 0 on an answer, 1 on a
timeout, 2 on an error reply (rcode in stderr).

Usage: dnsq.py --server IP [--iface IFNAME] [--timeout SECONDS] NAME
"""

from __future__ import annotations

import argparse
import secrets
import socket
import struct
import sys


def build_query(name: str, query_id: int) -> bytes:
    header = struct.pack("!HHHHHH", query_id, 0x0100, 1, 0, 0, 0)  # RD, one question
    labels = b"".join(bytes([len(p)]) + p.encode("ascii") for p in name.rstrip(".").split("."))
    return header + labels + b"\0" + struct.pack("!HH", 1, 1)  # A, IN


def _skip_name(msg: bytes, pos: int) -> int:
    while True:
        length = msg[pos]
        if length & 0xC0 == 0xC0:  # compression pointer ends the name
            return pos + 2
        pos += 1 + length
        if length == 0:
            return pos


def parse_answer(msg: bytes, query_id: int) -> tuple[int, list[str]]:
    """(rcode, A records) of a reply to query_id."""
    rid, flags, qdcount, ancount, _, _ = struct.unpack("!HHHHHH", msg[:12])
    if rid != query_id:
        raise ValueError("reply for another query")
    pos = 12
    for _ in range(qdcount):
        pos = _skip_name(msg, pos) + 4
    addrs = []
    for _ in range(ancount):
        pos = _skip_name(msg, pos)
        rtype, _, _, rdlen = struct.unpack("!HHIH", msg[pos : pos + 10])
        pos += 10
        if rtype == 1 and rdlen == 4:
            addrs.append(socket.inet_ntoa(msg[pos : pos + 4]))
        pos += rdlen
    return flags & 0x000F, addrs


def query(name: str, server: str, *, iface: str | None, timeout: float) -> tuple[int, list[str]]:
    query_id = secrets.randbelow(0x10000)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        if iface:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
        sock.settimeout(timeout)
        sock.sendto(build_query(name, query_id), (server, 53))
        while True:
            msg, _ = sock.recvfrom(4096)
            try:
                return parse_answer(msg, query_id)
            except ValueError:
                continue


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server", required=True)
    parser.add_argument("--iface")
    parser.add_argument("--timeout", type=float, default=1.0)
    parser.add_argument("name")
    args = parser.parse_args()
    try:
        rcode, addrs = query(args.name, args.server, iface=args.iface, timeout=args.timeout)
    except TimeoutError:
        print("timeout", file=sys.stderr)
        return 1
    if rcode:
        print(f"rcode {rcode}", file=sys.stderr)
        return 2
    print("\n".join(addrs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
