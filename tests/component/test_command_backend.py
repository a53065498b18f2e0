"""The command backend with real processes: connect, status, secrets via env, failures explained."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support import fakevpn
from tests.support.memkeyring import MemoryKeyring
from vpnswitch.backends.base import BackendContext
from vpnswitch.backends.command import CommandBackend
from vpnswitch.core.config import Profile
from vpnswitch.core.errors import AppMissing, AuthFailed, BackendError
from vpnswitch.core.secrets import SecretStore

SCRIPT = fakevpn.__file__


def params(state: Path, **extra: Any) -> dict[str, Any]:
    base = {
        "connect": [sys.executable, SCRIPT, "up", str(state)],
        "disconnect": [sys.executable, SCRIPT, "down", str(state)],
        "status": [sys.executable, SCRIPT, "status", str(state)],
        "interface": "lo",
    }
    return {**base, **extra}


def backend(p: dict[str, Any], secrets: SecretStore | None = None) -> CommandBackend:
    context = BackendContext(secrets=secrets or SecretStore(MemoryKeyring()))
    return CommandBackend(Profile("mine", "command", p), context)


@pytest.mark.parametrize(
    ("p", "problem"),
    [
        ({"connect": ["x"], "disconnect": ["y"]}, 'needs exactly one of "interface"'),
        ({"connect": ["x"], "interface": "tun0"}, "is required in oneshot mode"),
        ({"connect": ["x"], "disconnect": ["y"], "proxy": "socks://x"}, "must look like socks5h://"),
        ({"connect": ["x"], "disconnect": ["y"], "interface": "tun0", "secret_env": "A B"}, "environment variable"),
        ({"connect": ["x"], "disconnect": ["y"], "interface": "tun0", "mode": "daemon"}, "must be one of oneshot"),
        ({"conect": ["x"], "disconnect": ["y"], "interface": "tun0"}, 'unknown parameter (did you mean "connect"?)'),
    ],
)
def test_validation_names_each_parameter(p: dict[str, Any], problem: str) -> None:
    assert any(problem in msg for _, msg in CommandBackend.validate_params(p)), CommandBackend.validate_params(p)


def test_connect_status_disconnect(tmp_path: Path) -> None:
    state = tmp_path / "vpn"
    b = backend(params(state))
    b.connect(timeout=20)
    assert b.status(10).state == "connected" and state.read_text() == "up"
    assert b.route().interface == "lo" and b.polls_status
    b.disconnect(timeout=20)
    assert b.status(10).state == "disconnected"


def test_secret_is_handed_over_in_the_environment_never_argv(tmp_path: Path) -> None:
    state = tmp_path / "vpn"
    state.with_name("vpn.secret").write_text("hunter2")
    secrets = SecretStore(MemoryKeyring())
    b = backend(params(state, secret_env="FAKEVPN_SECRET"), secrets)
    with pytest.raises(AuthFailed, match="no secret is stored"):
        b.connect(timeout=20)
    secrets.set("mine", "secret", "wrong")
    with pytest.raises(AuthFailed, match="refused the credentials"):
        b.connect(timeout=20)
    secrets.set("mine", "secret", "hunter2")
    b.connect(timeout=20)
    assert "hunter2" not in state.with_name("vpn.log").read_text()


def test_a_hanging_connect_is_stopped_and_explained(tmp_path: Path) -> None:
    state = tmp_path / "vpn"
    state.with_name("vpn.mode").write_text("hang")
    with pytest.raises(BackendError, match="did not finish within 1 s"):
        backend(params(state)).connect(timeout=1)


def test_a_failing_connect_shows_the_tools_words(tmp_path: Path) -> None:
    state = tmp_path / "vpn"
    state.with_name("vpn.mode").write_text("fail")
    with pytest.raises(BackendError, match="exit code 1.*cannot reach the server") as info:
        backend(params(state)).connect(timeout=20)
    assert not info.value.fatal


def test_a_missing_program_is_fatal(tmp_path: Path) -> None:
    with pytest.raises(AppMissing):
        backend(params(tmp_path / "s", connect=["no-such-vpn-tool", "up"])).connect(timeout=5)


def test_foreground_mode_owns_the_process_and_notices_it_dying(tmp_path: Path) -> None:
    b = backend({"connect": [sys.executable, "-c", "import time; time.sleep(60)"], "interface": "lo",
                 "mode": "foreground"})
    b.connect(timeout=10)
    assert b.liveness() is None
    assert b._process is not None
    b._process.stop()
    assert "exited" in (b.liveness() or "")
    b.disconnect(timeout=5)
    assert b.liveness() is None


def test_a_proxy_profile_is_ready_when_its_port_answers(tmp_path: Path) -> None:
    from tests.support.servers import SocksProxy

    with SocksProxy() as proxy:
        b = backend({"connect": [sys.executable, "-c", "pass"], "disconnect": [sys.executable, "-c", "pass"],
                     "proxy": proxy.url})
        b.connect(timeout=10)
        assert b.route().proxy == proxy.url and b.transport() == "proxy" and b.route_kind == "proxy"
        assert b.status(5).state == "connected"
