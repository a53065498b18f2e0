"""One tray app per user (and per configuration file): a second launch asks the first to show its window.

A ``QLockFile`` decides who is first (it notices a crashed owner, unlike a plain PID file); the first then
listens on a ``QLocalServer`` that later launches talk to. Runs before the event loop starts, so the short
waits here block nothing the user can see.
"""

from __future__ import annotations

import getpass
import hashlib
import logging
import sys
import time
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, QThread, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from vpnswitch.ui.qtcompat import emit

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_MS = 500
RETRY_FOR_MS = 3000


def server_name(runtime_dir: Path, control_name: str) -> str:
    """A socket path in our private runtime dir on Unix; a per-user pipe name on Windows."""
    if sys.platform == "win32":
        digest = hashlib.sha256(f"{getpass.getuser()}:{runtime_dir}:{control_name}".encode()).hexdigest()[:16]
        return f"vpnswitch-ui-{digest}"
    return str(runtime_dir / f"ui-{Path(control_name).stem}.sock")


class SingleInstance(QObject):
    message_received = Signal(str)

    def __init__(self, runtime_dir: Path, control_name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        runtime_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.name = server_name(runtime_dir, control_name)
        self._lock = QLockFile(str(runtime_dir / f"ui-{Path(control_name).stem}.lock"))
        self._lock.setStaleLockTime(0)  # never expire a live owner's lock; a dead owner is detected by PID
        self._server: QLocalServer | None = None

    def claim(self) -> bool:
        """True when we are the first instance (and now listen); False after handing over to the running one."""
        if self._lock.tryLock(100):
            QLocalServer.removeServer(self.name)  # a socket left by a crash
            server = QLocalServer(self)
            server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
            if not server.listen(self.name):
                log.warning("cannot listen on %s: %s", self.name, server.errorString())
            server.newConnection.connect(self._accept)
            self._server = server
            return True
        if self.send("show"):
            return False
        raise RuntimeError("another vpnswitch window is starting or not answering; try again in a moment")

    def send(self, message: str) -> bool:
        """Deliver ``message`` to the running instance; retries while it is still starting up."""
        deadline = time.monotonic() + RETRY_FOR_MS / 1000
        while True:
            socket = QLocalSocket()
            socket.connectToServer(self.name)
            if socket.waitForConnected(CONNECT_TIMEOUT_MS):
                socket.write((message + "\n").encode())
                socket.waitForBytesWritten(CONNECT_TIMEOUT_MS)
                answered = socket.waitForReadyRead(2000) and bytes(socket.readAll().data()).startswith(b"ok")
                socket.disconnectFromServer()
                return bool(answered)
            if time.monotonic() >= deadline:
                return False
            QThread.msleep(100)

    def _accept(self) -> None:
        assert self._server is not None
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)

    def _read(self, socket: QLocalSocket) -> None:
        if not socket.canReadLine():
            return
        line = bytes(socket.readLine().data()).decode("utf-8", "replace").strip()
        socket.write(b"ok\n")
        socket.flush()
        if line:
            emit(self.message_received, line)

    def release(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        self._lock.unlock()
