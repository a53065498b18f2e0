"""A V2Ray-family core run by vpnswitch: ``sing-box run -c``, ``xray run -c`` or ``v2ray`` with the user's
config file, probed through the config's own local SOCKS/mixed/HTTP inbound and stopped by its PID.

The config is the user's, run as the user: vpnswitch reads it only to learn where the local proxy listens
and which servers it uses. A config with only a TUN inbound needs root for the interface and is refused
with that explanation (a proxy inbound is what vpnswitch can run unprivileged).
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from vpnswitch.backends.base import BackendContext
from vpnswitch.backends.localproxy import ProxyProcessBackend, listening
from vpnswitch.backends.proxycore.coreconfig import CoreConfigError, CoreFacts, CoreKind, facts, parse
from vpnswitch.core.config import Profile
from vpnswitch.core.errors import AppMissing, BackendError
from vpnswitch.core.files import FileTooLarge, NotARegularFile, read_regular_file
from vpnswitch.core.params import Param, validate

log = logging.getLogger(__name__)

CORES: tuple[tuple[str, str], ...] = (("sing-box", "sing-box"), ("xray", "Xray"), ("v2ray", "V2Ray"))
PROGRAMS: dict[str, str] = {"sing-box": "sing-box", "xray": "xray", "v2ray": "v2ray"}
VERSION_TIMEOUT = 5.0


def argv_for(kind: CoreKind, program: str, config: Path, v2ray_major: int | None = None) -> list[str]:
    """V2Ray 4 takes ``-config FILE``; V2Ray 5, Xray and sing-box take ``run -c FILE``."""
    if kind == "v2ray" and (v2ray_major or 4) < 5:
        return [program, "-config", str(config)]
    return [program, "run", "-c", str(config)]


class ProxyCoreBackend(ProxyProcessBackend):
    name = "proxy-core"
    display_name = "V2Ray-family core (sing-box, Xray, V2Ray)"
    folder_prefix = "core"
    params_spec: ClassVar[tuple[Param, ...]] = (
        Param("core", "choice", "Core", required=True, choices=CORES,
              help="The program that reads your configuration file."),
        Param("config", "file", "Configuration file", required=True, example="~/proxies/node1.json",
              file_filter="JSON configuration (*.json)",
              help="The core's JSON configuration, with a socks, mixed or http inbound on this computer."),
        Param("binary", "file", "Program", advanced=True, example="/usr/local/bin/sing-box",
              help="The core's executable; found on PATH when empty."),
    )

    def __init__(self, profile: Profile, context: BackendContext) -> None:
        super().__init__(profile, context)
        self._facts: CoreFacts | None = None

    @classmethod
    def validate_params(cls, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems = validate(cls.params_spec, params)
        config = params.get("config")
        if isinstance(config, str) and config.strip() and not Path(config).expanduser().is_absolute():
            problems.append(("config", "must be an absolute path (or start with ~)"))
        return problems

    @property
    def kind(self) -> CoreKind:
        value = str(self.params.get("core", "sing-box"))
        return value if value in PROGRAMS else "sing-box"  # type: ignore[return-value]

    def _config_path(self) -> Path:
        return Path(str(self.params["config"])).expanduser()

    def read_facts(self) -> CoreFacts:
        """Parse the user's config (on a worker: it reads a file)."""
        path = self._config_path()
        try:
            text = read_regular_file(path, 2 * 1024 * 1024).decode("utf-8")
        except FileNotFoundError:
            raise BackendError(f"the configuration {path} does not exist", fatal=True,
                               hint="Export the node's configuration from your app again, or fix the path.") from None
        except (NotARegularFile, FileTooLarge, UnicodeDecodeError, OSError) as exc:
            raise BackendError(f"cannot read the configuration {path}: {exc}", fatal=True) from None
        try:
            found = facts(parse(text), self.kind)
        except CoreConfigError as exc:
            raise BackendError(f"the configuration {path} is {exc}", fatal=True) from None
        if found.proxy is None:
            if found.tun_interface:
                raise BackendError(f"the configuration {path} has only a TUN inbound, which needs root", fatal=True,
                                   hint='Add a local proxy inbound, e.g. {"type": "mixed", "listen": '
                                        '"127.0.0.1", "listen_port": 2080}; vpnswitch probes through it.')
            raise BackendError(f"the configuration {path} has no socks, mixed or http inbound", fatal=True,
                               hint="Add a local proxy inbound on 127.0.0.1; vpnswitch probes through it.")
        return found

    def program(self) -> str:
        if self.params.get("binary"):
            return str(Path(str(self.params["binary"])).expanduser())
        return shutil.which(PROGRAMS[self.kind]) or PROGRAMS[self.kind]

    def _v2ray_major(self, program: str) -> int | None:
        result = self.context.runner.run([program, "-version"], timeout=VERSION_TIMEOUT)
        words = (result.stdout or result.stderr).split()
        if len(words) >= 2 and words[0] == "V2Ray" and words[1][:1].isdigit():
            return int(words[1].split(".")[0])
        return None

    @property
    def client_label(self) -> str:  # type: ignore[override]
        return self.kind

    def connect(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        self.stop_client()
        found = self.read_facts()
        assert found.proxy is not None
        proxy = found.proxy
        if listening(proxy.host, proxy.port):
            raise BackendError(f"something else already listens on {proxy.host}:{proxy.port}, the port this "
                               "configuration's inbound uses", hint="Quit the app that runs this core (vpnswitch "
                               "runs it itself), or give the inbound another port.")
        program = self.program()
        major = self._v2ray_major(program) if self.kind == "v2ray" else None
        self._facts = found
        try:
            self.launch(argv_for(self.kind, program, self._config_path(), major), proxy.scheme, proxy.host,
                        proxy.port, deadline, exit_is_fatal=True)
        except AppMissing as exc:
            raise AppMissing(f"{PROGRAMS[self.kind]} is not installed", hint=exc.hint or
                             "Install the core, or set its program under Advanced.") from None
        log.info("%s listening at %s", self.kind, proxy.url())

    def status_detail(self) -> str:
        servers = self._facts.servers if self._facts else ()
        return f"via {', '.join(servers[:3])}" if servers else ""

    def endpoints(self) -> tuple[str, ...]:
        return self._facts.servers if self._facts else ()
