"""The proxy-core backend running the real V2Ray core (Debian's ``v2ray``): a VMess-over-WebSocket server
and the client vpnswitch starts both listen on loopback; probes go through the client's socks inbound."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import in_ci
from tests.support.servers import HttpSite
from vpnswitch.backends.base import BackendContext
from vpnswitch.backends.localproxy import free_port
from vpnswitch.backends.proxycore.backend import ProxyCoreBackend
from vpnswitch.core.config import Profile
from vpnswitch.core.errors import BackendError

USER_ID = str(uuid.uuid4())


def need_v2ray() -> None:
    if shutil.which("v2ray") is None:
        if in_ci():
            pytest.fail("v2ray is missing: apt-get install -y v2ray")
        pytest.skip("v2ray is not installed (Debian package v2ray)")


def wait_port(port: int, seconds: float = 10) -> None:
    import socket

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


@pytest.fixture
def vmess_server(tmp_path: Path) -> Iterator[int]:
    need_v2ray()
    port = free_port()
    config = {
        "inbounds": [{"port": port, "listen": "127.0.0.1", "protocol": "vmess",
                      "settings": {"clients": [{"id": USER_ID, "alterId": 0}]},
                      "streamSettings": {"network": "ws", "wsSettings": {"path": "/ray"}}}],
        "outbounds": [{"protocol": "freedom"}],
    }
    path = tmp_path / "server.json"
    path.write_text(json.dumps(config))
    proc = subprocess.Popen(["v2ray", "-config", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def client_config(tmp_path: Path, server_port: int, socks_port: int) -> Path:
    path = tmp_path / "client.json"
    path.write_text(f"""// as exported by a v2rayN-style app
{{
  "inbounds": [{{"port": {socks_port}, "listen": "127.0.0.1", "protocol": "socks", "settings": {{"udp": true}}}}],
  "outbounds": [{{
    "protocol": "vmess",
    "settings": {{"vnext": [{{"address": "127.0.0.1", "port": {server_port},
                             "users": [{{"id": "{USER_ID}", "alterId": 0}}]}}]}},
    "streamSettings": {{"network": "ws", "wsSettings": {{"path": "/ray"}}}}
  }}]
}}
""")
    return path


def core(tmp_path: Path, config: Path) -> ProxyCoreBackend:
    profile = Profile("Node 1", "proxy-core", {"core": "v2ray", "config": str(config)})
    assert ProxyCoreBackend.validate_params(profile.params) == []
    return ProxyCoreBackend(profile, BackendContext(work_dir=tmp_path / "cache"))


def test_runs_the_users_config_and_carries_traffic(vmess_server: int, tmp_path: Path) -> None:
    socks = free_port()
    backend = core(tmp_path, client_config(tmp_path, vmess_server, socks))
    with HttpSite() as site:
        backend.connect(timeout=15)
        try:
            proxy = backend.route().proxy
            assert proxy == f"socks5h://127.0.0.1:{socks}"
            answer = requests.get(site.url("/generate_204"), proxies={"http": proxy}, timeout=5)
            assert answer.status_code == 204 and site.server.hits == 1  # type: ignore[attr-defined]
            assert backend.endpoints() == ("127.0.0.1",) and backend.transport() == "obfuscated"
            assert backend.status(timeout=2).state == "connected"
            pid = backend.pid
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 5
            while backend.liveness() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert "exited" in (backend.liveness() or "")
        finally:
            backend.disconnect(timeout=5)
    assert backend.status(timeout=2).state == "disconnected"


def test_unusable_configs_are_fatal_and_say_what_to_add(tmp_path: Path) -> None:
    need_v2ray()
    tun_only = tmp_path / "tun.json"
    tun_only.write_text(json.dumps({"inbounds": [{"protocol": "tun"}], "outbounds": []}))
    with pytest.raises(BackendError, match="only a TUN inbound") as caught:
        core(tmp_path, tun_only).connect(timeout=5)
    assert caught.value.fatal and "inbound" in caught.value.hint
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(BackendError, match="not valid JSON") as caught:
        core(tmp_path, broken).connect(timeout=5)
    assert caught.value.fatal
    with pytest.raises(BackendError, match="does not exist"):
        core(tmp_path, tmp_path / "missing.json").connect(timeout=5)


def test_a_config_the_core_refuses_is_fatal_with_its_words(tmp_path: Path) -> None:
    need_v2ray()
    socks = free_port()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"inbounds": [{"port": socks, "listen": "127.0.0.1", "protocol": "socks"}],
                               "outbounds": [{"protocol": "no-such-protocol"}]}))
    with pytest.raises(BackendError, match="exited with code") as caught:
        core(tmp_path, bad).connect(timeout=10)
    assert caught.value.fatal
