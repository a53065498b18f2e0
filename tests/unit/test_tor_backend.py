"""The tor backend: parameters, and a real tor that cannot reach its bridge (loopback only).

Every tor started here has only loopback addresses to talk to: its single bridge is a closed port on
127.0.0.1 and its directory authority list names 127.0.0.1 only, so no packet can leave the machine.
"""

from __future__ import annotations

import shutil
import socket
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.conftest import in_ci
from vpnswitch.backends.base import BackendContext
from vpnswitch.backends.tor import locate as tor_locate
from vpnswitch.backends.tor.backend import TorBackend
from vpnswitch.core.config import Profile
from vpnswitch.core.errors import AppMissing, BackendError

FP = "C9D097D3DC8062DB09810DDF36ABC9ADCE81C448"
LOOPBACK_ONLY = [
    f"DirAuthority nobody orport=1 no-v2 v3ident={'F' * 40} 127.0.0.1:2 {'F' * 40}",
    "UseDefaultFallbackDirs 0",
    "ClientUseIPv6 0",
]


def backend(tmp_path: Path, **params: Any) -> TorBackend:
    return TorBackend(Profile("Tor test", "tor", params), BackendContext(work_dir=tmp_path))


def need_tor() -> None:
    if shutil.which("tor"):
        return
    if in_ci():
        pytest.fail("tor is not installed: apt-get install -y --no-install-recommends tor")
    pytest.skip("tor is not installed on this machine")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tor_children() -> list[psutil.Process]:
    return [p for p in psutil.Process().children(recursive=True) if p.name() == "tor"]


# ------------------------------------------------------------------------------------------ parameters


@pytest.mark.parametrize(("params", "problem_keys"), [
    ({}, []),
    ({"bridges": [f"obfs4 192.0.2.1:443 {FP} cert=x iat-mode=0"], "standby": True, "system_proxy": False,
      "socks_port": 9150, "bootstrap_stall": 20, "socks_timeout": 10, "tor_path": "/opt/tor/tor",
      "torrc": ["ExitNodes {de}"]}, []),
    ({"bridges": "obfs4 192.0.2.1:443"}, ["bridges"]),
    ({"bridges": ["obfs4 192.0.2.1:443", "nonsense"]}, ["bridges[1]"]),
    ({"standby": "yes"}, ["standby"]),
    ({"socks_port": 80}, ["socks_port"]),
    ({"socks_port": True}, ["socks_port"]),
    ({"bootstrap_stall": 1}, ["bootstrap_stall"]),
    ({"socks_timeout": 2.5}, ["socks_timeout"]),
    ({"torrc": ["ControlPort 9051"]}, ["torrc[0]"]),
    ({"torrc": "ExitNodes {de}"}, ["torrc"]),
    ({"bridge": []}, ["bridge"]),
])
def test_params_are_validated_with_the_field_named(params: dict[str, Any], problem_keys: list[str]) -> None:
    problems = TorBackend.validate_params(params)
    assert [key for key, _ in problems] == problem_keys, problems


def test_unknown_param_suggests_the_right_one() -> None:
    [(key, problem)] = TorBackend.validate_params({"bridge": []})
    assert key == "bridge" and 'did you mean "bridges"' in problem


def test_route_transport_and_standby_flags(tmp_path: Path) -> None:
    plain = backend(tmp_path)
    assert plain.route_kind == "proxy" and plain.transport() == "proxy" and not plain.wants_standby()
    assert plain.anonymising  # the privacy preference ranks it first, whatever the profile is called
    assert plain.route().proxy == "socks5h://127.0.0.1:0"  # not started: nothing listens
    bridged = backend(tmp_path, bridges=[f"obfs4 192.0.2.1:443 {FP} cert=x iat-mode=0"], standby=True,
                      socks_port=9150)
    assert bridged.transport() == "obfuscated" and bridged.wants_standby()
    assert bridged.route().proxy == "socks5h://127.0.0.1:9150"


def test_missing_tor_is_a_fatal_app_missing(tmp_path: Path) -> None:
    with pytest.raises(AppMissing) as caught:
        backend(tmp_path, tor_path=str(tmp_path / "no-tor")).connect(5)
    assert caught.value.fatal and "tor is not installed" in caught.value.message
    assert caught.value.hint == tor_locate.install_hint() and "tor" in caught.value.hint


def test_missing_transport_plugin_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    need_tor()
    monkeypatch.setattr(tor_locate, "find_plugins", lambda tor: ({}, {}))
    with pytest.raises(AppMissing) as caught:
        backend(tmp_path, bridges=[f"obfs4 192.0.2.1:443 {FP} cert=x iat-mode=0"]).connect(5)
    assert "obfs4" in caught.value.message and "obfs4proxy" in caught.value.explain()


# ------------------------------------------------------------------------------------------ real tor


def test_unreachable_bridge_fails_on_no_progress_with_tors_own_words(tmp_path: Path) -> None:
    need_tor()
    port = closed_port()
    tor = backend(tmp_path, bridges=[f"127.0.0.1:{port}"], torrc=LOOPBACK_ONLY, bootstrap_stall=5,
                  system_proxy=False)
    started = time.monotonic()
    with pytest.raises(BackendError) as caught:
        tor.connect(60)
    took = time.monotonic() - started
    message = caught.value.message
    assert "no progress for 5 s" in message, message
    assert "Connection refused" in message and f"127.0.0.1:{port}" in message, message
    assert took < 30  # the stall budget, not the 60 s connect budget, ended it
    assert not caught.value.fatal  # the network may come back: not the user's config
    assert tor_children() == []  # a failed connect leaves nothing running


def test_standby_keeps_tor_running_and_close_stops_it(tmp_path: Path) -> None:
    need_tor()
    tor = backend(tmp_path, bridges=[f"127.0.0.1:{closed_port()}"], torrc=LOOPBACK_ONLY, bootstrap_stall=5,
                  standby=True, system_proxy=False)
    with pytest.raises(BackendError, match="no progress"):
        tor.standby(30)
    assert len(tor_children()) == 1  # a standby keeps trying in the background
    status = tor.status(5)
    assert status.state == "connecting" and "Connection refused" in status.detail
    port = int(tor.route().proxy.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        pass  # its SOCKS port is open
    assert tor.precheck(5) is False  # not bootstrapped: not usable for a failback
    tor.close()
    assert tor_children() == []
    assert tor.status(1).state == "disconnected"


def test_a_torrc_tor_rejects_is_a_fatal_error_with_its_message(tmp_path: Path) -> None:
    need_tor()
    tor = backend(tmp_path, torrc=[*LOOPBACK_ONLY, "NoSuchOption 1"], system_proxy=False)
    with pytest.raises(BackendError) as caught:
        tor.connect(20)
    assert caught.value.fatal
    assert "NoSuchOption" in caught.value.message
    assert tor_children() == []


# ------------------------------------------------------------------------------------ system proxy


def test_system_proxy_follows_the_active_tor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """connect → the desktop points at tor's SOCKS port; disconnect/close → the user's setting is back."""
    from tests.unit.test_sysproxy_manager import USER, FakeDesktop
    from vpnswitch.system.sysproxy import SystemProxy

    desktop = FakeDesktop(USER)
    context = BackendContext(work_dir=tmp_path, system_proxy=SystemProxy(tmp_path / "state",
                                                                         desktops=lambda: [desktop]))
    tor = TorBackend(Profile("Tor", "tor", {"socks_port": 9150, "standby": True}), context)
    monkeypatch.setattr(tor, "_bootstrapped", lambda: True)  # a warm standby: no tor needed for this wiring
    monkeypatch.setattr(tor, "_activate", lambda: None)
    tor.connect(5)
    assert desktop.settings == {"mode": "manual", "host": "127.0.0.1", "port": 9150}
    tor.disconnect(5)
    assert desktop.settings == USER
    tor.connect(5)
    tor.close()  # quitting while Tor is active
    assert desktop.settings == USER

    off = TorBackend(Profile("Tor", "tor", {"socks_port": 9150, "system_proxy": False}), context)
    monkeypatch.setattr(off, "_bootstrapped", lambda: True)
    monkeypatch.setattr(off, "_activate", lambda: None)
    off.connect(5)
    assert desktop.settings == USER  # the profile said not to touch it
