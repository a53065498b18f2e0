"""Small real servers on loopback for tests: an HTTP site and a SOCKS5 proxy that can be 'blocked'.

The proxy stands in for a proxy-type VPN (Tor, Psiphon): in ``blackhole`` mode it accepts connections and
then never relays a byte — exactly what a censored tunnel looks like from the inside. It only ever connects to
loopback addresses.
"""

from __future__ import annotations

import ipaddress
import select
import socket
import socketserver
import ssl
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _SiteHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        server: Any = self.server
        server.hits += 1
        if self.path.startswith("/hang"):
            threading.Event().wait(30)
            return
        status = 204 if self.path.startswith("/generate_204") else 200
        if self.path.startswith("/status/"):
            status = int(self.path.rsplit("/", 1)[1])
        body = b"" if status == 204 else server.body
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class HttpSite:
    """``address``/``port``/``body``: another loopback address and the same port make a block page."""

    def __init__(self, address: str = "127.0.0.1", port: int = 0, body: bytes = b"vpnswitch test site\n",
                 tls: tuple[str, str] | None = None) -> None:
        """``tls``: (certificate chain file, key file) to serve HTTPS."""
        self.address = address
        self.scheme = "https" if tls else "http"
        self.server = ThreadingHTTPServer((address, port), _SiteHandler)
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.server.daemon_threads = True
        self.server.hits = 0  # type: ignore[attr-defined]
        self.server.body = body  # type: ignore[attr-defined]
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/") -> str:
        return f"{self.scheme}://{self.address}:{self.port}{path}"

    def __enter__(self) -> HttpSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class _SocksHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        proxy: SocksProxy = self.server.owner  # type: ignore[attr-defined]
        conn: socket.socket = self.request
        conn.settimeout(10)
        try:
            greeting = conn.recv(2)
            if len(greeting) < 2 or greeting[0] != 5:
                return
            conn.recv(greeting[1])
            conn.sendall(b"\x05\x00")
            header = conn.recv(4)
            if len(header) < 4 or header[1] != 1:
                conn.sendall(b"\x05\x07\x00\x01" + b"\x00" * 6)
                return
            atyp = header[3]
            if atyp == 1:
                host = socket.inet_ntoa(conn.recv(4))
            elif atyp == 3:
                host = conn.recv(conn.recv(1)[0]).decode()
            else:
                conn.sendall(b"\x05\x08\x00\x01" + b"\x00" * 6)
                return
            port = struct.unpack("!H", conn.recv(2))[0]
            proxy.connections += 1
            if proxy.blackhole:
                threading.Event().wait(30)  # accept, then relay nothing: a silently blocked tunnel
                return
            address = "127.0.0.1" if host == "localhost" else host
            if not ipaddress.ip_address(address).is_loopback:
                conn.sendall(b"\x05\x02\x00\x01" + b"\x00" * 6)  # the test proxy reaches loopback only
                return
            upstream = socket.create_connection((address, port), timeout=5)
        except (OSError, ValueError, IndexError):
            return
        with upstream:
            conn.sendall(b"\x05\x00\x00\x01" + socket.inet_aton("127.0.0.1") + struct.pack("!H", 0))
            _relay(conn, upstream)


def _relay(a: socket.socket, b: socket.socket) -> None:
    sockets = [a, b]
    while True:
        readable, _, _ = select.select(sockets, [], [], 10)
        if not readable:
            return
        for sock in readable:
            data = sock.recv(65536)
            if not data:
                return
            (b if sock is a else a).sendall(data)


class SocksProxy:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server = socketserver.ThreadingTCPServer((host, port), _SocksHandler)
        self.server.daemon_threads = True
        self.server.owner = self  # type: ignore[attr-defined]
        self.port = self.server.server_address[1]
        self.blackhole = False
        self.connections = 0
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"socks5h://127.0.0.1:{self.port}"

    def __enter__(self) -> SocksProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
