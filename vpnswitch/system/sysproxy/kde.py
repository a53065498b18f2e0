"""KDE Plasma: ``[Proxy Settings]`` in kioslaverc, through kreadconfig/kwriteconfig (5 or 6).

Running KDE apps re-read it when KIO's scheduler is told to (a D-Bus signal); without a session bus the
file is still right for every app started afterwards.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Mapping
from typing import Any

from vpnswitch.core.errors import BackendError, VpnSwitchError
from vpnswitch.system.runner import Runner

log = logging.getLogger(__name__)

FILE = "kioslaverc"
GROUP = "Proxy Settings"
KEYS = ("ProxyType", "socksProxy", "httpProxy", "httpsProxy", "ftpProxy", "NoProxyFor", "Proxy Config Script")
TIMEOUT = 5.0


class KdeProxy:
    name = "kde"

    def __init__(self, runner: Runner, read_tool: str, write_tool: str) -> None:
        self._runner = runner
        self._read_tool = read_tool
        self._write_tool = write_tool

    @staticmethod
    def find_tools(which: Callable[[str], str | None] = shutil.which) -> tuple[str, str] | None:
        for version in ("6", "5"):
            read, write = which(f"kreadconfig{version}"), which(f"kwriteconfig{version}")
            if read and write:
                return read, write
        return None

    def _run(self, argv: list[str]) -> str:
        result = self._runner.run(argv, timeout=TIMEOUT)
        if not result.ok:
            raise BackendError(f"{argv[0]} failed: {result.output() or result.returncode}")
        return result.stdout

    def read(self) -> dict[str, Any]:
        return {key: self._run([self._read_tool, "--file", FILE, "--group", GROUP, "--key", key]).rstrip("\n")
                for key in KEYS}

    def _write(self, key: str, value: str) -> None:
        base = [self._write_tool, "--file", FILE, "--group", GROUP, "--key", key]
        # An empty value means "not set": delete it, so KDE falls back to its default.
        self._run([*base, "--delete"] if value == "" else [*base, value])

    def apply(self, host: str, port: int) -> None:
        for key in ("httpProxy", "httpsProxy", "ftpProxy", "Proxy Config Script"):
            self._write(key, "")
        self._write("socksProxy", f"socks://{host} {port}")
        self._write("NoProxyFor", "localhost,127.0.0.0/8,::1")
        self._write("ProxyType", "1")  # 1 = manual
        self._notify()

    def write(self, settings: Mapping[str, Any]) -> None:
        for key in KEYS:
            if key in settings:
                self._write(key, str(settings[key]))
        self._notify()

    def _notify(self) -> None:
        dbus_send = shutil.which("dbus-send")
        if not dbus_send:
            return
        try:
            self._runner.run([dbus_send, "--type=signal", "/KIO/Scheduler",
                              "org.kde.KIO.Scheduler.reparseSlaveConfiguration", "string:"], timeout=2.0)
        except VpnSwitchError as exc:
            log.debug("KIO notification failed: %s", exc)

    def close(self) -> None:
        pass
