"""The Lantern backend against a stand-in executable with Lantern's documented command line (the real
client is not packaged for this distribution): vpnswitch chooses the ports, probes through SOCKS, and
notices the client dying."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import requests

from tests.support.servers import HttpSite
from vpnswitch.backends.base import BackendContext
from vpnswitch.backends.lantern.backend import LanternBackend
from vpnswitch.core.config import Profile
from vpnswitch.core.errors import AppMissing

FAKE = Path(__file__).resolve().parents[1] / "fakes" / "bin" / "lantern-headless-client"


def lantern(tmp_path: Path, **params: str) -> LanternBackend:
    profile = Profile("Lantern", "lantern", {"binary": str(FAKE), **params})
    assert LanternBackend.validate_params(profile.params) == []
    return LanternBackend(profile, BackendContext(work_dir=tmp_path / "cache"))


def test_connect_probe_die_disconnect(tmp_path: Path) -> None:
    backend = lantern(tmp_path)
    with HttpSite() as site:
        backend.connect(timeout=15)
        try:
            proxy = backend.route().proxy or ""
            assert proxy.startswith("socks5h://127.0.0.1:")
            assert requests.get(site.url("/generate_204"), proxies={"http": proxy}, timeout=5).status_code == 204
            assert backend.transport() == "obfuscated" and backend.status(timeout=1).state == "connected"
            assert (tmp_path / "cache").is_dir() and any((tmp_path / "cache").rglob("data"))
            assert backend.pid is not None
            os.kill(backend.pid, signal.SIGKILL)
            deadline = time.monotonic() + 5
            while backend.liveness() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert backend.liveness() == "Lantern exited (code -9)"
        finally:
            backend.disconnect(timeout=5)
    assert backend.status(timeout=1).state == "disconnected"


def test_own_data_folder_and_missing_program(tmp_path: Path) -> None:
    backend = lantern(tmp_path, data_dir=str(tmp_path / "my-lantern"))
    backend.connect(timeout=15)
    backend.disconnect(timeout=5)
    assert (tmp_path / "my-lantern").is_dir()
    missing = lantern(tmp_path, binary=str(tmp_path / "nope"))
    with pytest.raises(AppMissing) as caught:
        missing.connect(timeout=5)
    assert caught.value.fatal


def test_unknown_parameters_are_named() -> None:
    assert LanternBackend.validate_params({"socks": "1"}) == [("socks", 'unknown parameter (known: data_dir, binary)')]
