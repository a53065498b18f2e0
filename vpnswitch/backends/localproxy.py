"""The shape every proxy client that vpnswitch runs itself shares (Shadowsocks, V2Ray-family cores,
Lantern): start it in the foreground, wait until its local proxy port accepts connections, probe through
that port, notice at once when the process dies, and stop it by its PID."""

from __future__ import annotations

import hashlib
import socket
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from vpnswitch.backends.base import Backend, BackendContext, BackendStatus
from vpnswitch.backends.vendors.stream import LineStream
from vpnswitch.core.config import Profile
from vpnswitch.core.errors import BackendError
from vpnswitch.core.model import Route, Transport


def free_port() -> int:
    """A loopback port free right now (the client binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


class ProxyProcessBackend(Backend):
    """Base for proxy clients run by vpnswitch. Subclasses build the argv and say where the proxy listens."""

    route_kind = "proxy"
    # How the client is called in messages ("the Shadowsocks client", "sing-box").
    client_label: ClassVar[str] = "the proxy client"
    folder_prefix: ClassVar[str] = "proxy"

    def __init__(self, profile: Profile, context: BackendContext) -> None:
        super().__init__(profile, context)
        self._stream: LineStream | None = None
        self._proxy_url: str | None = None
        self._last: deque[str] = deque(maxlen=5)

    def folder(self) -> Path:
        """The profile's private cache folder (config copies, the client's log)."""
        digest = hashlib.sha256(self.profile.name.encode()).hexdigest()[:10]
        folder = self.context.work_dir / f"{self.folder_prefix}-{digest}"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return folder

    def launch(self, argv: Sequence[str], scheme: str, host: str, port: int, deadline: float, *,
               exit_is_fatal: bool = False) -> None:
        """Start ``argv`` and return once ``host:port`` accepts connections; on failure nothing is left running.

        ``exit_is_fatal``: a client that exits at start refused its configuration and will again.
        """
        self.stop_client()
        self._last.clear()
        stream = LineStream(self.context.runner, argv, self.folder() / "client.log", self._last.append)
        stream.start()  # AppMissing when not installed: fatal, explained by the runner
        self._stream, self._proxy_url = stream, f"{scheme}://{host}:{port}"
        try:
            while time.monotonic() < deadline:
                if not stream.alive():
                    raise BackendError(f"{self.client_label} exited with code {stream.returncode} "
                                       f"({' / '.join(self._last) or 'no output'})",
                                       fatal=exit_is_fatal or self.refused(self._last))
                if listening(host, port):
                    return
                time.sleep(0.05)
            raise BackendError(f"{self.client_label} did not open its proxy port within the time allowed")
        except BaseException:
            self.stop_client()
            raise

    def refused(self, lines: deque[str]) -> bool:
        """Whether the client's last words say it refuses its configuration (not worth retrying)."""
        return False

    def stop_client(self, timeout: float = 5.0) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.stop(timeout=min(timeout, 5.0))

    @property
    def pid(self) -> int | None:
        return self._stream.pid if self._stream is not None else None

    def disconnect(self, timeout: float) -> None:
        self.stop_client(timeout)

    def status_detail(self) -> str:
        return ""

    def status(self, timeout: float) -> BackendStatus:
        stream = self._stream
        if stream is None:
            return BackendStatus("disconnected")
        if not stream.alive():
            return BackendStatus("error", f"{self.client_label} exited (code {stream.returncode})")
        return BackendStatus("connected", self.status_detail())

    def route(self) -> Route:
        return Route("proxy", proxy=self._proxy_url)

    def transport(self) -> Transport:
        return "obfuscated"

    def liveness(self) -> str | None:
        stream = self._stream
        if stream is not None and not stream.alive():
            return f"{self.client_label} exited (code {stream.returncode})"
        return None

    def close(self) -> None:
        self.stop_client()
