"""Psiphon's console client (``psiphon-tunnel-core``): a proxy profile, not a tunnel.

vpnswitch runs the client itself (``-config client.json -dataRootDirectory DIR``) and reads its JSON
notices, one per line on stderr: ``ListeningSocksProxyPort`` / ``ListeningHttpProxyPort`` give the local
ports (random when the config says 0), ``Tunnels`` ``{"count": N}`` says whether a tunnel is up (1) or was
lost (0; Psiphon then reconnects on its own). Probes go through ``socks5h://127.0.0.1:<port>``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vpnswitch.backends.base import Backend, BackendContext, BackendStatus, unknown_params
from vpnswitch.backends.vendors.spec import string_param
from vpnswitch.backends.vendors.stream import LineStream
from vpnswitch.core.config import Profile
from vpnswitch.core.errors import BackendError
from vpnswitch.core.model import Route, Transport
from vpnswitch.core.params import Param, field_keys
from vpnswitch.system.oslayout import Layout, system_layout

log = logging.getLogger(__name__)

PROGRAMS = ("psiphon-tunnel-core", "psiphon-console-client", "ConsoleClient")
INSTALL_PATHS = {
    "linux": ("~/.local/bin/psiphon-tunnel-core", "/opt/psiphon/psiphon-tunnel-core"),
    "windows": ("{LOCALAPPDATA}/Psiphon/psiphon-tunnel-core.exe",),
    "darwin": ("/usr/local/bin/psiphon-tunnel-core", "~/bin/psiphon-tunnel-core"),
}
# Notices that mean the client cannot work as configured.
FATAL_NOTICES = {"SocksProxyPortInUse": "its SOCKS port is already in use",
                 "HttpProxyPortInUse": "its HTTP port is already in use"}


@dataclass(frozen=True)
class Notice:
    kind: str
    data: Mapping[str, Any]


def parse_notice(line: str) -> Notice | None:
    """One notice line (``{"noticeType": …, "data": {…}, "timestamp": …}``); None for anything else."""
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    if not isinstance(obj, dict) or not isinstance(obj.get("noticeType"), str):
        return None
    data = obj.get("data") if isinstance(obj.get("data"), dict) else {}
    return Notice(obj["noticeType"], data or {})


class PsiphonState:
    """What the notices said so far; updated on the stream thread, read anywhere."""

    def __init__(self) -> None:
        self.socks_port: int | None = None
        self.http_port: int | None = None
        self.tunnels = 0
        self.ever_connected = False
        self.fatal: str | None = None
        self.region: str | None = None
        self.last: deque[str] = deque(maxlen=5)
        self.changed = threading.Event()

    def feed(self, line: str) -> None:
        notice = parse_notice(line)
        if notice is None:
            self.last.append(line[:300])
            return
        data = notice.data
        match notice.kind:
            case "ListeningSocksProxyPort":
                self.socks_port = _port(data.get("port"))
            case "ListeningHttpProxyPort":
                self.http_port = _port(data.get("port"))
            case "Tunnels":
                count = data.get("count")
                self.tunnels = count if isinstance(count, int) else 0
                self.ever_connected = self.ever_connected or self.tunnels > 0
            case "ActiveTunnel" | "ConnectedServerRegion":
                region = data.get("serverRegion") or data.get("region")
                self.region = str(region) if region else self.region
            case "Alert" | "Error" | "Warning" | "UpstreamProxyError":
                self.last.append(f"{notice.kind}: {json.dumps(data)[:300]}")
        if notice.kind in FATAL_NOTICES:
            self.fatal = FATAL_NOTICES[notice.kind]
        self.changed.set()


def _port(value: Any) -> int | None:
    return value if isinstance(value, int) and 0 < value < 65536 else None


class PsiphonBackend(Backend):
    name = "psiphon"
    display_name = "Psiphon"
    route_kind = "proxy"
    polls_status = True  # status() only reads what the notices said: cheap
    params_spec = (
        Param("config", "file", "Psiphon configuration", required=True, file_filter="Psiphon config (*.json)",
              help="Psiphon's client.json."),
        Param("binary", "file", "Program", advanced=True, example="/opt/psiphon/psiphon-tunnel-core"),
        Param("data_dir", "file", "Data folder", advanced=True),
    )

    def __init__(self, profile: Profile, context: BackendContext, layout: Layout | None = None) -> None:
        super().__init__(profile, context)
        self.layout = layout or system_layout()
        self._stream: LineStream | None = None
        self._state = PsiphonState()

    @classmethod
    def validate_params(cls, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems = unknown_params(params, field_keys(cls.params_spec))
        config = params.get("config")
        if not isinstance(config, str) or not config.strip():
            problems.append(("config", "is required: the path of Psiphon's client.json"))
        string_param(params, "binary", problems, '"/opt/psiphon/psiphon-tunnel-core"')
        string_param(params, "data_dir", problems, '"~/.cache/psiphon"')
        return problems

    def program(self) -> str:
        if self.params.get("binary"):
            return str(self.params["binary"])
        found = self.layout.find_program(PROGRAMS, INSTALL_PATHS.get(self.layout.platform, ()))
        return str(found) if found else PROGRAMS[0]

    def _data_dir(self) -> Path:
        if self.params.get("data_dir"):
            return Path(str(self.params["data_dir"])).expanduser()
        # Stable per profile: Psiphon keeps its server list there, which makes the next start faster.
        digest = hashlib.sha256(self.profile.name.encode()).hexdigest()[:10]
        return self.context.work_dir / f"psiphon-{digest}"

    def connect(self, timeout: float) -> None:
        config = Path(str(self.params["config"])).expanduser()
        if not config.is_file():
            raise BackendError(f"Psiphon's configuration {config} does not exist", fatal=True,
                               hint="Point the profile at the client.json that came with your Psiphon client.")
        self._stop()
        data_dir = self._data_dir()
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        state = self._state = PsiphonState()
        argv = [self.program(), "-config", str(config), "-dataRootDirectory", str(data_dir)]
        stream = LineStream(self.context.runner, argv, self.context.work_dir / "psiphon-notices.log", state.feed)
        stream.start()  # AppMissing when the binary is absent: fatal, explained by the runner
        self._stream = stream
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if state.fatal:
                self._stop()
                raise BackendError(f"Psiphon cannot start: {state.fatal}", fatal=True,
                                   hint="Set LocalSocksProxyPort / LocalHttpProxyPort to 0 (automatic) in "
                                        "client.json, or free the port.")
            if not stream.alive():
                last = " / ".join(state.last) or "no output"
                self._stop()
                raise BackendError(f"Psiphon exited with code {stream.returncode} before connecting ({last})")
            if state.tunnels > 0 and state.socks_port:
                log.info("Psiphon connected (SOCKS port %s)", state.socks_port)
                return
            state.changed.wait(0.2)
            state.changed.clear()
        self._stop()
        raise BackendError(f"Psiphon found no working server within {timeout:g} s")

    def disconnect(self, timeout: float) -> None:
        self._stop(timeout)

    def _stop(self, timeout: float = 5.0) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.stop(timeout=min(timeout, 5.0))

    def status(self, timeout: float) -> BackendStatus:
        stream, state = self._stream, self._state
        if stream is None:
            return BackendStatus("disconnected")
        if not stream.alive():
            return BackendStatus("error", f"Psiphon exited (code {stream.returncode})")
        if state.tunnels > 0 and state.socks_port:
            return BackendStatus("connected", f"region {state.region}" if state.region else "")
        return BackendStatus("connecting", "Psiphon lost its tunnel and is reconnecting"
                             if state.ever_connected else "looking for a server")

    def route(self) -> Route:
        port = self._state.socks_port
        return Route("proxy", proxy=f"socks5h://127.0.0.1:{port}" if port else None)

    def transport(self) -> Transport:
        return "proxy"

    def liveness(self) -> str | None:
        stream = self._stream
        if stream is not None and not stream.alive():
            return f"Psiphon exited (code {stream.returncode})"
        return None

    def close(self) -> None:
        self._stop()
