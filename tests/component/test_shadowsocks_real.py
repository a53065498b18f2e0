"""The Shadowsocks backend against the real shadowsocks-libev: ss-server and the ss-local that the backend
starts both listen on loopback, and a real HTTPS server on loopback serves an Outline dynamic key."""

from __future__ import annotations

import http.server
import json
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import in_ci
from tests.support.memkeyring import MemoryKeyring
from tests.support.servers import HttpSite
from vpnswitch.backends.base import BackendContext
from vpnswitch.backends.localproxy import free_port
from vpnswitch.backends.shadowsocks.backend import ShadowsocksBackend
from vpnswitch.core.config import Profile
from vpnswitch.core.errors import BackendError
from vpnswitch.core.secrets import SecretStore

METHOD = "chacha20-ietf-poly1305"
PASSWORD = "correct horse battery"


def need(program: str) -> None:
    if shutil.which(program) is None:
        message = f"{program} is missing: apt-get install -y shadowsocks-libev"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def ss_server(tmp_path: Path) -> Iterator[int]:
    need("ss-server")
    port = free_port()
    config = tmp_path / "server.json"
    config.write_text(json.dumps({"server": "127.0.0.1", "server_port": port, "password": PASSWORD,
                                  "method": METHOD, "mode": "tcp_only"}))
    proc = subprocess.Popen(["ss-server", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True,
                              timeout=5).stdout.strip():
                break
            time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def backend(tmp_path: Path, key: str, **params: Any) -> tuple[ShadowsocksBackend, MemoryKeyring]:
    need("ss-local")
    keyring = MemoryKeyring()
    secrets = SecretStore(keyring)
    secrets.set("Outline", "access_key", key)
    context = BackendContext(secrets=secrets, work_dir=tmp_path / "cache")
    return ShadowsocksBackend(Profile("Outline", "shadowsocks", params), context), keyring


def key_for(port: int, password: str = PASSWORD) -> str:
    import base64

    userinfo = base64.urlsafe_b64encode(f"{METHOD}:{password}".encode()).decode().rstrip("=")
    return f"ss://{userinfo}@127.0.0.1:{port}/?outline=1#lab"


def fetch(proxy: str, url: str) -> int:
    return requests.get(url, proxies={"http": proxy, "https": proxy}, timeout=5).status_code


def test_connects_carries_traffic_and_keeps_the_password_off_disk_and_argv(ss_server: int, tmp_path: Path) -> None:
    ss, _ = backend(tmp_path, key_for(ss_server))
    with HttpSite() as site:
        ss.connect(timeout=10)
        try:
            route = ss.route()
            assert route.kind == "proxy" and route.proxy and route.proxy.startswith("socks5h://127.0.0.1:")
            assert fetch(route.proxy, site.url("/generate_204")) == 204
            assert ss.status(timeout=2).state == "connected" and ss.liveness() is None
            assert ss.transport() == "obfuscated" and ss.endpoints() == ("127.0.0.1",)
            pid = ss.pid
            assert pid is not None
            assert PASSWORD.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()
            leftovers = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()
                         and PASSWORD.encode() in p.read_bytes()]
            assert leftovers == []
        finally:
            ss.disconnect(timeout=5)
    assert ss.status(timeout=2).state == "disconnected"
    with pytest.raises(requests.RequestException):
        fetch(route.proxy, site.url())


def test_a_dead_client_is_a_hard_failure(ss_server: int, tmp_path: Path) -> None:
    ss, _ = backend(tmp_path, key_for(ss_server))
    ss.connect(timeout=10)
    try:
        assert ss.pid is not None
        import os
        import signal

        os.kill(ss.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while ss.liveness() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ss.liveness() is not None and "exited" in (ss.liveness() or "")
    finally:
        ss.disconnect(timeout=5)


def test_a_wrong_password_connects_locally_but_carries_nothing(ss_server: int, tmp_path: Path) -> None:
    """AEAD servers drop a wrong key silently: only the probes can tell, which is why the engine probes."""
    ss, _ = backend(tmp_path, key_for(ss_server, "wrong"))
    with HttpSite() as site:
        ss.connect(timeout=10)
        try:
            with pytest.raises(requests.RequestException):
                fetch(ss.route().proxy or "", site.url())
        finally:
            ss.disconnect(timeout=5)


def test_missing_key_and_bad_key_are_fatal_with_a_fix(tmp_path: Path) -> None:
    ss, keyring = backend(tmp_path, "ss://nonsense")
    with pytest.raises(BackendError, match="does not start|base64|no password") as caught:
        ss.connect(timeout=5)
    assert caught.value.fatal
    keyring.delete_password("vpnswitch", "Outline/access_key")
    with pytest.raises(BackendError, match="has no access key") as caught:
        ss.connect(timeout=5)
    assert caught.value.fatal and "paste" in caught.value.hint


@pytest.fixture
def https_key_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, dict[str, bytes]]]:
    """A real HTTPS server on loopback with a certificate the test's CA bundle trusts."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=30)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    pages: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], pages
    finally:
        server.shutdown()
        server.server_close()


def test_outline_dynamic_key_is_fetched_over_https(ss_server: int, https_key_server: tuple[int, dict[str, bytes]],
                                                    tmp_path: Path) -> None:
    port, pages = https_key_server
    pages["/k/mine.json"] = json.dumps({"server": "127.0.0.1", "server_port": ss_server, "method": METHOD,
                                        "password": PASSWORD}).encode()
    ss, _ = backend(tmp_path, f"ssconf://127.0.0.1:{port}/k/mine.json#Mine")
    with HttpSite() as site:
        ss.connect(timeout=15)
        try:
            assert fetch(ss.route().proxy or "", site.url("/generate_204")) == 204
        finally:
            ss.disconnect(timeout=5)
    gone, _ = backend(tmp_path, f"ssconf://127.0.0.1:{port}/k/removed.json")
    with pytest.raises(BackendError, match="HTTP 404") as caught:
        gone.connect(timeout=5)
    assert caught.value.fatal
