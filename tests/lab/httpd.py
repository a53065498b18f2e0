"""The lab's "internet" web server; runs as a script inside the inet namespace.

One process serves every site; the site is chosen by the local address the client
connected to, so it works for requests by IP and by name alike. Paths:
`/` (200, the site's body), `/generate_204` (204), `/bytes/N` (N bytes, for rate tests).

Every answer carries ``X-Seen-From: <source address>``: the address the request arrived from, after any
VPN server's NAT, so a client can tell which way out carried it (the WireGuard server's address, the
OpenVPN server's, a Tor exit's, or its own when it went direct). Each request is logged as one JSON line
``{"t": wall, "from": ip, "to": ip, "path": ..., "status": ..., "agent": ...}``, which lets the benchmark
see when the daemon's probes arrived.

Usage: httpd.py --ready FILE --site IP=BODY_HEX [--site ...]
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_MAX_BYTES = 64 * 1024 * 1024
_BYTES_PATH = re.compile(r"/bytes/(\d+)")


class _Handler(BaseHTTPRequestHandler):
    server_version = "vpnswitch-lab"
    sites: dict[str, bytes] = {}

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def _respond(self, *, send_body: bool) -> None:
        local_ip = self.connection.getsockname()[0]
        body = self.sites.get(local_ip)
        path = self.path.split("?", 1)[0]
        match = _BYTES_PATH.fullmatch(path)
        if body is None:
            self._send(404, b"no such site\n", send_body)
        elif path == "/":
            self._send(200, body, send_body)
        elif path == "/generate_204":
            self._send(204, b"", send_body)
        elif match and int(match.group(1)) <= _MAX_BYTES:
            self._send(200, b"x" * int(match.group(1)), send_body)
        else:
            self._send(404, b"not found\n", send_body)

    def _send(self, code: int, body: bytes, send_body: bool) -> None:
        self.send_response(code)
        self.send_header("X-Seen-From", self.client_address[0])
        if code != 204:
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if send_body and code != 204:
            self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """One JSON line per request in the lab's log file (read back by the benchmark)."""
        print(json.dumps({"t": round(time.time(), 3), "from": self.client_address[0],
                          "to": self.connection.getsockname()[0], "path": self.path, "status": code,
                          "agent": self.headers.get("User-Agent", "")}), flush=True)

    def log_message(self, format: str, *args: object) -> None:
        """Errors (bad requests) stay plain text in the same log."""
        print(f"{self.client_address[0]} {format % args}", flush=True)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    address_family = socket.AF_INET


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ready", type=Path, required=True)
    parser.add_argument("--port", type=int, default=80)
    parser.add_argument("--site", action="append", default=[], metavar="IP=BODY_HEX")
    args = parser.parse_args()
    _Handler.sites = {ip: bytes.fromhex(body) for ip, body in (s.split("=", 1) for s in args.site)}
    with _Server(("0.0.0.0", args.port), _Handler) as server:  # inside the inet namespace only
        args.ready.write_text("ready\n")
        server.serve_forever()


if __name__ == "__main__":
    main()
