"""A user's browser in miniature: keeps opening new HTTP connections to one URL, logging each try.

Runs as a script inside the lab's client namespace and uses the namespace's ordinary routing (no
binding to a tunnel), so its requests go wherever the VPN in charge sends them: through a tunnel, or
straight to the censor while no tunnel is up. One attempt starts every PERIOD seconds on its own
thread (a request stuck in a dead tunnel does not delay the next one); each finished attempt is one
JSON line on stdout: {"start": wall, "end": wall, "ok": bool, "status": int|null, "via": str|null,
"error": str}; ``via`` is the source address the lab's web server saw (its ``X-Seen-From`` header), which
tells the way out that carried the answer.

With ``--wait-for FILE`` it stays silent until FILE exists (a test arms it without sending anything).

Usage: sitewatch.py URL [--period 0.2] [--timeout 2.0] [--wait-for FILE] [--socks5 HOST:PORT]
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

_lock = threading.Lock()


def _emit(record: dict[str, object]) -> None:
    with _lock:
        sys.stdout.write(json.dumps(record) + "\n")
        sys.stdout.flush()


def attempt(host: str, port: int, path: str, timeout: float, socks: tuple[str, int] | None = None) -> None:
    """One GET on a fresh connection (through a SOCKS5 proxy when given); ok when the status line says 2xx."""
    start = time.time()
    status: int | None = None
    via: str | None = None
    error = ""
    try:
        with socket.create_connection(socks or (host, port), timeout=timeout) as sock:
            sock.settimeout(max(0.05, timeout - (time.time() - start)))
            if socks is not None:
                _socks5_connect(sock, host, port)
            sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: sitewatch\r\n\r\n".encode())
            head = _read_head(sock)
        fields = head.split(b" ", 2)
        status = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else None
        via = _header(head, b"x-seen-from")
        if status is None:
            error = "no HTTP answer"
    except OSError as exc:
        error = type(exc).__name__ if not isinstance(exc, TimeoutError) else "timed out"
    ok = status is not None and 200 <= status < 300
    _emit({"start": round(start, 3), "end": round(time.time(), 3), "ok": ok, "status": status, "via": via,
           "error": error})


def _socks5_connect(sock: socket.socket, host: str, port: int) -> None:
    """RFC 1928 CONNECT without authentication, the target given by name (so the proxy resolves it)."""
    sock.sendall(b"\x05\x01\x00")
    if _recv_exactly(sock, 2) != b"\x05\x00":
        raise ConnectionRefusedError("the SOCKS proxy wants authentication")
    name = host.encode()
    sock.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + port.to_bytes(2, "big"))
    reply = _recv_exactly(sock, 4)
    if reply[1] != 0:
        raise ConnectionRefusedError(f"SOCKS CONNECT refused (reply {reply[1]})")
    skip = {1: 4, 4: 16}.get(reply[3])
    _recv_exactly(sock, (skip if skip is not None else _recv_exactly(sock, 1)[0]) + 2)


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionResetError("the SOCKS proxy closed the connection")
        data += chunk
    return data


def _read_head(sock: socket.socket, limit: int = 4096) -> bytes:
    """The response's status line and headers (up to the blank line, the connection's end, or ``limit``)."""
    head = b""
    while b"\r\n\r\n" not in head and len(head) < limit:
        chunk = sock.recv(1024)
        if not chunk:
            break
        head += chunk
    return head.split(b"\r\n\r\n", 1)[0]


def _header(head: bytes, name: bytes) -> str | None:
    for line in head.split(b"\r\n")[1:]:
        key, sep, value = line.partition(b":")
        if sep and key.strip().lower() == name:
            return value.strip().decode(errors="replace")
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--period", type=float, default=0.2)
    parser.add_argument("--timeout", type=float, default=2.0)
    parser.add_argument("--wait-for", type=Path)
    parser.add_argument("--socks5", metavar="HOST:PORT", help="go through this SOCKS5 proxy (e.g. tor's)")
    args = parser.parse_args()
    parts = urlsplit(args.url)
    host, port, path = parts.hostname or "", parts.port or 80, parts.path or "/"
    socks = None
    if args.socks5:
        socks_host, _, socks_port = args.socks5.rpartition(":")
        socks = (socks_host, int(socks_port))
    while args.wait_for is not None and not args.wait_for.exists():
        time.sleep(0.01)
    next_at = time.monotonic()
    while True:
        threading.Thread(target=attempt, args=(host, port, path, args.timeout, socks), daemon=True).start()
        next_at += args.period
        time.sleep(max(0.0, next_at - time.monotonic()))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
