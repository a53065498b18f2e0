"""Lantern's headless client (``lantern-headless-client``), run by vpnswitch as a proxy profile.

Its documented interface [getlantern/lantern-headless-client README]: global options ``--data-path DIR``
(config, logs, the PRO login) and ``--log-level``; ``start [--http-proxy-addr ADDR] [--socks-proxy-addr
ADDR]``; without addresses it picks random ports and prints them. vpnswitch chooses the ports itself and
passes them, so it never has to parse the banner, and probes through the SOCKS port. A PRO login
(``auth --user-id --token``) is the user's to do once in the same data folder; vpnswitch never sees the token.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from vpnswitch.backends.localproxy import ProxyProcessBackend, free_port
from vpnswitch.core.params import Param, validate

log = logging.getLogger(__name__)

PROGRAM = "lantern-headless-client"


class LanternBackend(ProxyProcessBackend):
    name = "lantern"
    display_name = "Lantern"
    client_label = "Lantern"
    folder_prefix = "lantern"
    params_spec: ClassVar[tuple[Param, ...]] = (
        Param("data_dir", "file", "Data folder", advanced=True, example="~/.lantern-headless",
              help="Where Lantern keeps its settings and PRO login; a private folder per profile when empty."),
        Param("binary", "file", "Program", advanced=True, example="/usr/bin/lantern-headless-client",
              help="lantern-headless-client; found on PATH when empty."),
    )

    @classmethod
    def validate_params(cls, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        return validate(cls.params_spec, params)

    def data_dir(self) -> Path:
        if self.params.get("data_dir"):
            return Path(str(self.params["data_dir"])).expanduser()
        return self.folder() / "data"  # stable per profile: Lantern keeps what it learnt there

    def connect(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        data = self.data_dir()
        data.mkdir(parents=True, exist_ok=True, mode=0o700)
        socks, http = free_port(), free_port()
        program = str(self.params.get("binary") or PROGRAM)
        argv = [os.path.expanduser(program), "--data-path", str(data), "start",
                "--socks-proxy-addr", f"127.0.0.1:{socks}", "--http-proxy-addr", f"127.0.0.1:{http}"]
        self.launch(argv, "socks5h", "127.0.0.1", socks, deadline)
        log.info("Lantern listening on 127.0.0.1:%d (SOCKS) and :%d (HTTP)", socks, http)
