"""A stand-in for an app running a sing-box or mihomo core: its Clash REST controller and its mixed port.

The controller reproduces mihomo's documented endpoints and error bodies (``hub/route/proxies.go``,
``errors.go``): 401 ``Unauthorized`` without the right bearer secret, 404 ``Resource not found``,
``PUT /proxies/{group}`` → 204 or 400 ``Must be a Selector`` / ``Selector update error: …``, the delay test
→ ``{"delay": ms}``, 503 or 504, and ``DELETE /connections``. The mixed port is a real SOCKS5 proxy on
loopback whose traffic follows the selected node: a node marked blocked relays nothing, as a node the
censor found does.
"""

from __future__ import annotations

import json
import os
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.support.servers import SocksProxy


class FakeClashCore:
    def __init__(self, nodes: list[str], *, group: str = "GLOBAL", secret: str = "",
                 unix_socket: Path | None = None) -> None:
        self.group = group
        self.nodes = list(nodes)
        self.secret = secret
        self.selected = self.nodes[0]
        self.blocked: set[str] = set()
        self.requests: list[tuple[str, str]] = []
        self.connections_closed = 0
        self.proxy = SocksProxy()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner._handle(self, "GET")

            def do_PUT(self) -> None:
                owner._handle(self, "PUT")

            def do_DELETE(self) -> None:
                owner._handle(self, "DELETE")

            def log_message(self, *args: Any) -> None:
                pass

            def address_string(self) -> str:  # unix sockets have no peer address
                return "local"

        if unix_socket is not None:
            class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
                daemon_threads = True

            self.server: socketserver.BaseServer = UnixServer(str(unix_socket), Handler)
            self.controller = f"unix://{unix_socket}"
        else:
            tcp = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            tcp.daemon_threads = True
            self.server = tcp
            self.controller = f"http://127.0.0.1:{tcp.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # ------------------------------------------------------------------------------ what the test sets

    def block(self, node: str) -> None:
        self.blocked.add(node)
        self._follow()

    def _follow(self) -> None:
        self.proxy.blackhole = self.selected in self.blocked

    def table(self) -> dict[str, Any]:
        table: dict[str, Any] = {n: {"name": n, "type": "Shadowsocks", "udp": True, "history": []} for n in self.nodes}
        table[self.group] = {"name": self.group, "type": "Selector", "now": self.selected, "all": self.nodes}
        table["Auto"] = {"name": "Auto", "type": "URLTest", "now": self.nodes[0], "all": self.nodes}
        table["DIRECT"] = {"name": "DIRECT", "type": "Direct"}
        return table

    # --------------------------------------------------------------------------------------- serving

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        self.requests.append((method, unquote(parts.path)))
        if self.secret and h.headers.get("Authorization") != f"Bearer {self.secret}":
            return self._json(h, 401, {"message": "Unauthorized"})
        segments = [unquote(s) for s in parts.path.strip("/").split("/")] if parts.path.strip("/") else []
        table = self.table()
        if segments == ["version"] and method == "GET":
            return self._json(h, 200, {"meta": True, "version": "v1.19.0"})
        if segments == ["connections"] and method == "DELETE":
            self.connections_closed += 1
            return self._json(h, 204, None)
        if segments == ["proxies"] and method == "GET":
            return self._json(h, 200, {"proxies": table})
        if len(segments) >= 2 and segments[0] == "proxies":
            name = segments[1]
            if name not in table:
                return self._json(h, 404, {"message": "Resource not found"})
            if len(segments) == 2 and method == "GET":
                return self._json(h, 200, table[name])
            if len(segments) == 2 and method == "PUT":
                return self._select(h, name)
            if segments[2:] == ["delay"] and method == "GET":
                query = parse_qs(parts.query)
                if not query.get("timeout", [""])[0].isdigit():
                    return self._json(h, 400, {"message": "Body invalid"})
                if name in self.blocked:
                    return self._json(h, 504, {"message": "Timeout"})
                return self._json(h, 200, {"delay": 42})
        return self._json(h, 404, {"message": "Resource not found"})

    def _select(self, h: BaseHTTPRequestHandler, name: str) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        try:
            wanted = json.loads(h.rfile.read(length))["name"]
        except (ValueError, KeyError, TypeError):
            return self._json(h, 400, {"message": "Body invalid"})
        if self.table()[name].get("type") != "Selector":
            return self._json(h, 400, {"message": "Must be a Selector"})
        if wanted not in self.nodes:
            return self._json(h, 400, {"message": "Selector update error: proxy not exist"})
        self.selected = wanted
        self._follow()
        return self._json(h, 204, None)

    @staticmethod
    def _json(h: BaseHTTPRequestHandler, status: int, body: Any) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def __enter__(self) -> FakeClashCore:
        self.proxy.__enter__()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.proxy.__exit__()
        if isinstance(self.controller, str) and self.controller.startswith("unix://"):
            try:
                os.unlink(self.controller[len("unix://"):])
            except FileNotFoundError:
                pass
