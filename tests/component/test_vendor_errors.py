"""Vendor backends against their fake CLIs when things go wrong: logged out, daemon down, hangs, setup
problems. Each must end in a clear error (fatal when retrying cannot help) within its time budget."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.fakes.world import BIN, FakeVendors
from vpnswitch.core.config import Profile
from vpnswitch.core.errors import AuthFailed, BackendError

pytestmark = pytest.mark.timeout(90)

# backend, params, fake, fragment of the user-facing message when logged out / not activated
LOGGED_OUT = [
    ("mullvad", {}, "mullvad", "not logged in to a Mullvad account"),
    ("nordvpn", {}, "nordvpn", "not logged in to NordVPN"),
    ("expressvpn", {"cli": "expressvpnctl"}, "expressvpnctl", "not signed in to ExpressVPN"),
    ("expressvpn", {"cli": "expressvpn"}, "expressvpn", "ExpressVPN is not activated"),
    ("windscribe", {}, "windscribe-cli", "not logged in to Windscribe"),
    ("pia", {}, "piactl", "not logged in to PIA"),
    ("ivpn", {}, "ivpn", "not logged in to IVPN"),
    ("warp", {}, "warp-cli", "WARP is not registered"),
    ("tailscale", {"exit_node": "exit-se"}, "tailscale", "Tailscale is logged out"),
    ("openvpn3", {"config": "office"}, "openvpn3", "refused the credentials"),
]
DAEMON_DOWN = [
    ("mullvad", {}, "mullvad", "Mullvad daemon is not running"),
    ("nordvpn", {}, "nordvpn", "nordvpnd) is not running"),
    ("expressvpn", {"cli": "expressvpnctl"}, "expressvpnctl", "ExpressVPN service is not running"),
    ("windscribe", {}, "windscribe-cli", "did not start"),
    ("pia", {}, "piactl", "PIA daemon is not running"),
    ("ivpn", {}, "ivpn", "IVPN service is not running"),
    ("warp", {}, "warp-cli", "WARP service is not running"),
    ("tailscale", {"exit_node": "exit-se"}, "tailscale", "tailscaled is not running"),
    ("openvpn3", {"config": "office"}, "openvpn3", "openvpn3 services are not available"),
]


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeVendors:
    return FakeVendors(tmp_path, monkeypatch)


@pytest.mark.parametrize(("backend", "params", "fake", "message"), LOGGED_OUT, ids=[c[2] for c in LOGGED_OUT])
def test_logged_out_is_a_fatal_auth_error_with_a_hint(fakes: FakeVendors, backend: str, params: dict[str, Any],
                                                     fake: str, message: str) -> None:
    fakes.set(fake, logged_in=False)
    b = fakes.backend(Profile("p", backend, params))
    with pytest.raises(AuthFailed) as caught:
        b.connect(10)
    assert message in caught.value.message
    assert caught.value.fatal and caught.value.hint
    assert fakes.state(fake)["state"] != "connected"


@pytest.mark.parametrize(("backend", "params", "fake", "message"), DAEMON_DOWN, ids=[c[2] for c in DAEMON_DOWN])
def test_daemon_down_is_a_clear_retryable_error(fakes: FakeVendors, backend: str, params: dict[str, Any],
                                               fake: str, message: str) -> None:
    fakes.set(fake, daemon=False)
    b = fakes.backend(Profile("p", backend, params))
    with pytest.raises(BackendError) as caught:
        b.connect(10)
    assert message in caught.value.message
    assert not caught.value.fatal
    status = b.status(5)
    assert status.state == "error" and message.split()[-1] in status.detail


def _fake_processes(fake: str) -> list[psutil.Process]:
    script = str(BIN / fake)
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if script in (proc.info["cmdline"] or []) and "--fake-daemon" not in proc.info["cmdline"]:
                found.append(proc)
        except psutil.Error:
            continue
    return found


def test_a_hanging_status_ends_in_a_timeout_error_not_a_hang(fakes: FakeVendors) -> None:
    fakes.set("mullvad", hang=["status"])
    b = fakes.backend(Profile("p", "mullvad", {}))
    with pytest.raises(BackendError, match="was not connected after the time allowed"):
        b.connect(4)  # a hang would be caught by the module's pytest timeout
    assert _fake_processes("mullvad") == []  # every hung status call was killed with its tree


def test_a_hanging_blocking_connect_is_killed_and_reported(fakes: FakeVendors) -> None:
    fakes.set("nordvpn", hang=["connect"])
    b = fakes.backend(Profile("p", "nordvpn", {}))
    with pytest.raises(BackendError, match="NordVPN was not connected"):
        b.connect(4)
    assert _fake_processes("nordvpn") == []


def test_disconnect_is_verified(fakes: FakeVendors) -> None:
    fakes.set("nordvpn")
    b = fakes.backend(Profile("p", "nordvpn", {}))
    b.connect(10)
    fakes.set("nordvpn", hang=["disconnect"])
    with pytest.raises(BackendError, match="still reports"):
        b.disconnect(3)
    fakes.set("nordvpn", hang=[])
    b.disconnect(10)
    assert fakes.state("nordvpn")["state"] == "disconnected"


def test_mullvad_lockdown_after_disconnect_is_reported_with_the_fix(fakes: FakeVendors) -> None:
    fakes.set("mullvad", killswitch=True)
    b = fakes.backend(Profile("p", "mullvad", {}))
    b.connect(10)
    with pytest.raises(BackendError, match="still blocks all traffic") as caught:
        b.disconnect(10)
    assert "lockdown-mode set off" in caught.value.hint


# A setup problem on the user's side: fatal (never retried in a loop), with the command that fixes it.
SETUP_FATAL = [
    # fake program, backend, params, fake's state, hint that must be given
    ("piactl", "pia", {}, {"background": False}, "piactl background enable"),
    ("expressvpnctl", "expressvpn", {"cli": "expressvpnctl"}, {"background": False}, "background enable"),
    ("tailscale", "tailscale", {"exit_node": "exit-se"}, {"operator": False}, "--operator=$USER"),
]


@pytest.mark.parametrize(("program", "backend", "params", "extra", "hint"), SETUP_FATAL,
                         ids=[row[0] for row in SETUP_FATAL])
def test_a_setup_problem_is_fatal_and_says_how_to_fix_it(fakes: FakeVendors, program: str, backend: str,
                                                          params: dict[str, str], extra: dict[str, bool],
                                                          hint: str) -> None:
    fakes.set(program, extra=extra)
    b = fakes.backend(Profile("p", backend, params))
    with pytest.raises(BackendError) as caught:
        b.connect(10)
    assert caught.value.fatal and hint in caught.value.hint


def test_unknown_nordvpn_location_is_fatal(fakes: FakeVendors) -> None:
    fakes.set("nordvpn")
    b = fakes.backend(Profile("p", "nordvpn", {"location": "Atlantis"}))
    with pytest.raises(BackendError, match="does not exist") as caught:
        b.connect(10)
    assert caught.value.fatal


def test_windscribe_busy_cli_is_retryable(fakes: FakeVendors) -> None:
    fakes.set("windscribe-cli", extra={"busy": True})
    b = fakes.backend(Profile("p", "windscribe", {}))
    with pytest.raises(BackendError, match="another windscribe-cli is running") as caught:
        b.connect(5)
    assert not caught.value.fatal


def test_warp_is_always_asked_with_accept_tos_so_it_never_waits_at_the_prompt(fakes: FakeVendors) -> None:
    fakes.set("warp-cli")
    b = fakes.backend(Profile("p", "warp", {}))
    b.connect(10)
    b.disconnect(10)
    calls = fakes.calls("warp-cli")
    assert calls and all("--accept-tos" in c for c in calls)


def test_psiphon_reports_ports_and_exits_cleanly(fakes: FakeVendors, tmp_path: Path) -> None:
    config = tmp_path / "client.json"
    config.write_text(json.dumps({"LocalSocksProxyPort": 0, "LocalHttpProxyPort": 0}))
    fakes.set("psiphon-tunnel-core")
    b = fakes.backend(Profile("p", "psiphon", {"config": str(config)}))
    b.connect(10)
    route = b.route()
    assert route.kind == "proxy" and route.proxy and route.proxy.startswith("socks5h://127.0.0.1:")
    from vpnswitch.system import netinfo

    port = int(route.proxy.rsplit(":", 1)[1])
    assert netinfo.tcp_port_open("127.0.0.1", port)
    fakes.set("psiphon-tunnel-core", extra={"lose_tunnel": True})
    deadline = time.monotonic() + 5
    while b.status(1).state != "connecting" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert b.status(1).detail == "Psiphon lost its tunnel and is reconnecting"
    b.disconnect(5)
    assert b.status(1).state == "disconnected"
    assert not netinfo.tcp_port_open("127.0.0.1", port)


def test_psiphon_port_in_use_is_fatal(fakes: FakeVendors, tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        config = tmp_path / "client.json"
        config.write_text(json.dumps({"LocalSocksProxyPort": port}))
        fakes.set("psiphon-tunnel-core")
        b = fakes.backend(Profile("p", "psiphon", {"config": str(config)}))
        with pytest.raises(BackendError, match="SOCKS port is already in use") as caught:
            b.connect(10)
        assert caught.value.fatal
