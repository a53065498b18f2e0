"""A user's browser in miniature: keeps opening new HTTP connections to one URL, logging each try.

Runs as a script inside the lab's client namespace and uses the namespace's ordinary routing (no
binding to a tunnel), so its requests go wherever the VPN in charge sends them: through a tunnel, or
straight to the censor while no tunnel is up. One attempt starts every PERIOD seconds on its own
thread (a request stuck in a dead tunnel does not delay the next one); each finished attempt is one
JSON line on stdout: {"start": wall, "end": wall, "ok": bool, "status": int|null, "error": str}.

With ``--wait-for FILE`` it stays silent until FILE exists (a test arms it without sending anything).

Usage: sitewatch.py URL [--period 0.2] [--timeout 2.0] [--wait-for FILE]
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


def attempt(host: str, port: int, path: str, timeout: float) -> None:
    """One GET on a fresh connection; ok when the status line says 2xx."""
    start = time.time()
    status: int | None = None
    error = ""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(max(0.05, timeout - (time.time() - start)))
            sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: sitewatch\r\n\r\n".encode())
            head = sock.recv(64)
        fields = head.split(b" ", 2)
        status = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else None
        if status is None:
            error = "no HTTP answer"
    except OSError as exc:
        error = type(exc).__name__ if not isinstance(exc, TimeoutError) else "timed out"
    ok = status is not None and 200 <= status < 300
    _emit({"start": round(start, 3), "end": round(time.time(), 3), "ok": ok, "status": status, "error": error})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--period", type=float, default=0.2)
    parser.add_argument("--timeout", type=float, default=2.0)
    parser.add_argument("--wait-for", type=Path)
    args = parser.parse_args()
    parts = urlsplit(args.url)
    host, port, path = parts.hostname or "", parts.port or 80, parts.path or "/"
    while args.wait_for is not None and not args.wait_for.exists():
        time.sleep(0.01)
    next_at = time.monotonic()
    while True:
        threading.Thread(target=attempt, args=(host, port, path, args.timeout), daemon=True).start()
        next_at += args.period
        time.sleep(max(0.0, next_at - time.monotonic()))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
