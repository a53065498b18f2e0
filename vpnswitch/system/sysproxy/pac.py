"""A proxy auto-config script served on loopback: the one way to give WinINet apps SOCKS5 with remote DNS."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAC_TYPE = "application/x-ns-proxy-autoconfig"


def pac_script(host: str, port: int) -> str:
    """Local names go direct; everything else through SOCKS5, with no DIRECT fallback (that would leak)."""
    return (
        "function FindProxyForURL(url, host) {\n"
        '  if (isPlainHostName(host) || host == "localhost" || shExpMatch(host, "127.*") || host == "[::1]")\n'
        '    return "DIRECT";\n'
        f'  return "SOCKS5 {host}:{port}; SOCKS {host}:{port}";\n'
        "}\n"
    )


class PacServer:
    """Serves the PAC script on 127.0.0.1 (a free port) from a daemon thread until stopped."""

    def __init__(self, host: str, port: int) -> None:
        self.socks = (host, port)
        body = pac_script(host, port).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", PAC_TYPE)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="pac-server", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        # The SOCKS port in the query: a new port gives a new URL, so WinINet does not reuse a cached script.
        return f"http://127.0.0.1:{self._server.server_address[1]}/vpnswitch.pac?socks={self.socks[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=2.0)
