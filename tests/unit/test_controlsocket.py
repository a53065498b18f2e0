"""The control socket: private to its user, one JSON request and answer, clear errors."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path
from typing import Any

import pytest

from vpnswitch.core.errors import NotRunning
from vpnswitch.service import controlsocket


def echo(request: dict[str, Any]) -> dict[str, Any]:
    if request["cmd"] == "boom":
        raise RuntimeError("inside")
    return {"ok": True, "result": request}


@pytest.fixture
def server(tmp_path: Path) -> controlsocket.ControlServer:
    s = controlsocket.ControlServer(tmp_path / "run" / "control.sock", echo)
    s.start()
    yield s
    s.stop()


def test_round_trip(server: controlsocket.ControlServer) -> None:
    assert controlsocket.request(server.path, "status", timeout=5, extra=1) == {
        "ok": True, "result": {"cmd": "status", "extra": 1}}


def test_socket_and_directory_are_private(server: controlsocket.ControlServer) -> None:
    assert stat.S_IMODE(server.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(server.path.parent.stat().st_mode) == 0o700


def test_peer_credentials_are_the_callers(server: controlsocket.ControlServer) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(str(server.path))
        assert controlsocket.peer_uid(sock) == os.getuid()


def test_a_handler_crash_is_an_answer_not_a_hang(server: controlsocket.ControlServer) -> None:
    answer = controlsocket.request(server.path, "boom", timeout=5)
    assert answer == {"ok": False, "error": "internal error: RuntimeError"}


def test_garbage_requests_are_refused(server: controlsocket.ControlServer) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(str(server.path))
        sock.sendall(b'["not", "an", "object"]\n')
        assert b"bad request" in sock.recv(1000)


def test_nothing_running_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NotRunning, match="not running") as info:
        controlsocket.request(tmp_path / "control.sock", "status", timeout=2)
    assert "vpnswitch daemon" in info.value.hint


def test_a_second_instance_is_refused_and_a_stale_socket_replaced(
    server: controlsocket.ControlServer, tmp_path: Path
) -> None:
    with pytest.raises(controlsocket.AlreadyRunning):
        controlsocket.ControlServer(server.path, echo).start()
    stale = tmp_path / "stale.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(stale))  # bound but never listening: what a crash leaves behind
    other = controlsocket.ControlServer(stale, echo)
    other.start()
    try:
        assert controlsocket.request(stale, "x", timeout=5)["ok"]
    finally:
        other.stop()
    assert not stale.exists()
