"""The ``app`` backend with a stand-in GUI app: a process under its own name that starts a child under a
random-looking name (as Psiphon's GUI does), and the child serves the app's local proxy on loopback."""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

import psutil
import pytest

from vpnswitch.backends.base import BackendContext
from vpnswitch.backends.guiapp import AppBackend
from vpnswitch.core.config import Profile
from vpnswitch.core.errors import BackendError
from vpnswitch.system import netinfo

pytestmark = pytest.mark.timeout(60)

APP = """
import os, signal, subprocess, sys, time
port, child_python, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
if mode == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
SERVE = (
    "import socket, sys\\n"
    "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\\n"
    "s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(4)\\n"
    "while True:\\n"
    "    c, _ = s.accept(); c.close()\\n"
)
child = subprocess.Popen([child_python, "-c", SERVE, str(port)])
time.sleep(0.5 if mode != "quits" else 1.5)
if mode == "quits":
    child.kill()
    sys.exit(3)
while True:
    time.sleep(0.2)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def app(tmp_path: Path) -> tuple[Path, Path, Path]:
    gui = tmp_path / "fakegui"  # the process name psutil reports is the name it was started under
    child = tmp_path / "rnd8f3k2"
    gui.symlink_to(sys.executable)
    child.symlink_to(sys.executable)
    script = tmp_path / "app.py"
    script.write_text(APP)
    return gui, child, script


def backend(tmp_path: Path, app: tuple[Path, Path, Path], port: int, mode: str = "normal",
            **extra: object) -> AppBackend:
    gui, child, script = app
    params = {"executable": [str(gui), str(script), str(port), str(child), mode], "process": ["fakegui"],
              "children": True, "proxy": f"socks5h://127.0.0.1:{port}", "close_timeout": 1, **extra}
    assert AppBackend.validate_params(params) == []
    return AppBackend(Profile("app", "app", params), BackendContext(work_dir=tmp_path))


def names(procs: list[psutil.Process]) -> set[str]:
    return {p.name() for p in procs}


def test_start_recognise_close_and_tree_kill(tmp_path: Path, app: tuple[Path, Path, Path]) -> None:
    port = free_port()
    b = backend(tmp_path, app, port)
    b.connect(15)
    assert b.route().proxy == f"socks5h://127.0.0.1:{port}" and b.transport() == "proxy"
    assert names(b.processes()) == {"fakegui", "rnd8f3k2"}  # the child is recognised by its parent
    assert b.status(2).state == "connected" and b.liveness() is None
    b.disconnect(10)
    assert b.processes() == [] and not netinfo.tcp_port_open("127.0.0.1", port)
    assert b.status(2).state == "disconnected"


def test_an_app_that_ignores_close_is_terminated(tmp_path: Path, app: tuple[Path, Path, Path]) -> None:
    port = free_port()
    b = backend(tmp_path, app, port, mode="stubborn")
    b.connect(15)
    b.disconnect(10)
    assert b.processes() == []


def test_an_app_that_quits_is_reported_by_liveness(tmp_path: Path, app: tuple[Path, Path, Path]) -> None:
    port = free_port()
    b = backend(tmp_path, app, port, mode="quits")
    b.connect(15)
    deadline = time.monotonic() + 5
    while b.liveness() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert b.liveness() == "fakegui quit"


def test_an_app_whose_tunnel_never_comes_up_is_closed_and_explained(tmp_path: Path,
                                                                    app: tuple[Path, Path, Path]) -> None:
    port = free_port()
    b = backend(tmp_path, app, port, proxy=f"socks5h://127.0.0.1:{free_port()}")  # the wrong port
    with pytest.raises(BackendError, match="did not come up") as caught:
        b.connect(2)
    assert "auto-connect" in caught.value.hint
    assert b.processes() == []


def test_a_tunnel_kept_by_a_service_is_reported_after_closing(tmp_path: Path, app: tuple[Path, Path, Path]) -> None:
    port = free_port()
    gui, child, script = app
    params = {"executable": [str(gui), str(script), str(port), str(child), "normal"], "process": ["fakegui"],
              "interface": "lo", "close_timeout": 1}  # "lo" stays up, as a service-owned tunnel would
    b = AppBackend(Profile("app", "app", params), BackendContext(work_dir=tmp_path))
    b.connect(10)
    with pytest.raises(BackendError, match="still up after closing") as caught:
        b.disconnect(2)
    assert "service" in caught.value.hint
    assert b.processes() == []


@pytest.mark.parametrize(("params", "key"), [
    ({"proxy": "socks5h://127.0.0.1:1"}, "executable"),
    ({"executable": "x"}, ""),
    ({"executable": "x", "interface": "a", "proxy": "system"}, ""),
    ({"executable": "x", "proxy": "ftp://x"}, "proxy"),
    ({"executable": "x", "adapter": "Proton", "children": "yes"}, "children"),
    ({"executable": "x", "adapter": "Proton", "close_timeout": 0}, "close_timeout"),
])
def test_params(params: dict[str, object], key: str) -> None:
    assert key in {k for k, _ in AppBackend.validate_params(params)}


def test_no_process_left_behind() -> None:
    mine = [p for p in psutil.Process(os.getpid()).children(recursive=True) if p.name() in ("fakegui", "rnd8f3k2")]
    assert mine == []
