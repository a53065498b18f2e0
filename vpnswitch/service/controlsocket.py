"""The per-user control socket: one JSON request and one JSON answer per connection.

On Unix it is a socket file mode 0600 inside a 0700 directory, and every connection's peer credentials
are checked: only the same user may drive the running instance.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import struct
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vpnswitch.core.errors import NotRunning, VpnSwitchError
from vpnswitch.core.paths import ensure_private_dir
from vpnswitch.system.linesocket import LineError, read_line, refuse, serve_connections

log = logging.getLogger(__name__)

MAX_REQUEST = 64 * 1024
MAX_CONNECTIONS = 16  # the CLI and the tray's second launch: a handful at most
READ_DEADLINE = 5.0  # a request is one short line; a caller that trickles it is cut off
Handler = Callable[[dict[str, Any]], dict[str, Any]]


class AlreadyRunning(VpnSwitchError):
    code = "already-running"


def peer_uid(conn: socket.socket) -> int | None:
    """The uid of the process at the other end, from the kernel (not from anything it says)."""
    if sys.platform.startswith("linux"):
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _pid, uid, _gid = struct.unpack("3i", creds)
        return int(uid)
    getpeereid = getattr(os, "getpeereid", None)  # not in the stdlib today; kept for platforms that add it
    if getpeereid is not None:
        return int(getpeereid(conn.fileno())[0])
    local_peercred = getattr(socket, "LOCAL_PEERCRED", None)
    if local_peercred is not None:  # macOS / BSD: struct xucred { u_int version; uid_t uid; ... }
        data = conn.getsockopt(0, local_peercred, 256)
        return int(struct.unpack_from("2I", data)[1])
    return None


class ControlServer:
    def __init__(self, path: Path, handler: Handler) -> None:
        self.path = path
        self._handler = handler
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        ensure_private_dir(self.path.parent)
        if self.path.exists():
            if _answers(self.path):
                raise AlreadyRunning(f"vpnswitch is already running (control socket {self.path})",
                                     hint="Use the running instance, or stop it first.")
            self.path.unlink()  # left behind by a crash
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)
        try:
            sock.bind(str(self.path))
        finally:
            os.umask(old_umask)
        os.chmod(self.path, 0o600)
        sock.listen(16)
        sock.settimeout(0.5)
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, name="vpnswitch-control", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(2.0)
        if self._sock is not None:
            self._sock.close()
        try:
            self.path.unlink()
        except OSError:
            pass

    def _serve(self) -> None:
        assert self._sock is not None
        serve_connections(self._sock, self._stopping, MAX_CONNECTIONS, self._serve_one, _refuse_busy,
                          name="vpnswitch-control")

    def _serve_one(self, conn: socket.socket) -> None:
        with conn:
            try:
                uid = peer_uid(conn)
                if uid is not None and uid != os.getuid():
                    log.warning("refused a control connection from uid %s", uid)
                    _send(conn, {"ok": False, "error": "permission denied"})
                    return
                try:
                    request = _decode(read_line(conn, MAX_REQUEST, READ_DEADLINE))
                except LineError as exc:
                    _send(conn, {"ok": False, "error": exc.message, "code": exc.kind})
                    return
                if not isinstance(request, dict) or not isinstance(request.get("cmd"), str):
                    _send(conn, {"ok": False, "error": "bad request"})
                    return
                try:
                    answer = self._handler(request)
                except VpnSwitchError as exc:
                    answer = {"ok": False, "error": exc.explain(), "code": exc.code}
                except Exception as exc:
                    log.exception("control command %s failed", request.get("cmd"))
                    answer = {"ok": False, "error": f"internal error: {type(exc).__name__}"}
                conn.settimeout(10.0)
                _send(conn, answer)
            except OSError as exc:
                log.debug("control connection dropped: %s", exc)


def _refuse_busy(conn: socket.socket) -> None:
    refuse(conn, json.dumps({"ok": False, "error": "vpnswitch is busy; try again", "code": "busy"}).encode() + b"\n")


def _decode(line: bytes) -> Any:
    """A request or answer line; anything that is not a JSON document (too deep, not UTF-8) is None."""
    try:
        return json.loads(line.decode("utf-8").strip() or "null")
    except (ValueError, RecursionError):
        return None


def _receive(conn: socket.socket, deadline: float) -> Any:
    try:
        return _decode(read_line(conn, MAX_REQUEST, deadline))
    except LineError as exc:
        if exc.kind == "timeout":
            raise TimeoutError from None
        raise ValueError(exc.message) from None


def _send(conn: socket.socket, message: dict[str, Any]) -> None:
    conn.sendall(json.dumps(message, ensure_ascii=False).encode("utf-8") + b"\n")


def _answers(path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(1.0)
            sock.connect(str(path))
            return True
    except OSError:
        return False


def request(path: Path, cmd: str, timeout: float = 30.0, **args: Any) -> dict[str, Any]:
    """Send one command to the running instance. NotRunning when there is none."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            _send(sock, {"cmd": cmd, **args})
            answer = _receive(sock, timeout)
    except (FileNotFoundError, ConnectionRefusedError):
        raise NotRunning("vpnswitch is not running",
                         hint="Start it with `vpnswitch` (tray) or `vpnswitch daemon` (no window).") from None
    except TimeoutError:
        raise VpnSwitchError(f"vpnswitch did not answer within {timeout:g} s") from None
    except OSError as exc:
        raise NotRunning(f"cannot reach vpnswitch: {exc.strerror}") from None
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise VpnSwitchError("vpnswitch sent an answer this command does not understand")
    return answer
