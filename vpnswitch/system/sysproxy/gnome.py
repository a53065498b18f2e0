"""GNOME and its relatives: the ``org.gnome.system.proxy`` schemas, through ``gsettings``.

GNOME uses the SOCKS host for every protocol unless an http/https/ftp host is set, which would win, so
those hosts are cleared while ours is active (and restored after). Only the keys we change are saved:
the schema also holds a proxy password, which must never be copied into our files.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vpnswitch.core.errors import BackendError
from vpnswitch.system.runner import Runner

ROOT = "org.gnome.system.proxy"
# (schema, key) pairs we change; values are kept as GVariant text, which `gsettings set` accepts back.
KEYS: tuple[tuple[str, str], ...] = (
    (ROOT, "mode"),
    (ROOT, "autoconfig-url"),
    (ROOT, "ignore-hosts"),
    (f"{ROOT}.socks", "host"),
    (f"{ROOT}.socks", "port"),
    (f"{ROOT}.http", "host"),
    (f"{ROOT}.https", "host"),
    (f"{ROOT}.ftp", "host"),
)
IGNORE_HOSTS = "['localhost', '127.0.0.0/8', '::1']"
TIMEOUT = 5.0


class GnomeProxy:
    name = "gnome"

    def __init__(self, runner: Runner) -> None:
        self._runner = runner

    def _gsettings(self, *args: str) -> str:
        result = self._runner.run(["gsettings", *args], timeout=TIMEOUT)
        if not result.ok:
            raise BackendError(f"gsettings {args[0]} failed: {result.output() or result.returncode}")
        return result.stdout

    def read(self) -> dict[str, Any]:
        wanted = {f"{schema} {key}" for schema, key in KEYS}
        values = {}
        for line in self._gsettings("list-recursively", ROOT).splitlines():
            schema, _, rest = line.partition(" ")
            key, _, value = rest.partition(" ")
            if f"{schema} {key}" in wanted:
                values[f"{schema} {key}"] = value.strip()
        missing = wanted - values.keys()
        if missing:
            raise BackendError(f"the GNOME proxy schema lacks {', '.join(sorted(missing))}")
        return values

    def _set(self, schema: str, key: str, value: str) -> None:
        self._gsettings("set", schema, key, value)

    def apply(self, host: str, port: int) -> None:
        for proto in ("http", "https", "ftp"):
            self._set(f"{ROOT}.{proto}", "host", "''")
        self._set(f"{ROOT}.socks", "host", f"'{host}'")
        self._set(f"{ROOT}.socks", "port", str(port))
        self._set(ROOT, "ignore-hosts", IGNORE_HOSTS)
        self._set(ROOT, "mode", "'manual'")  # last: apps see a complete setting when it switches on

    def write(self, settings: Mapping[str, Any]) -> None:
        mode = None
        for name, value in settings.items():
            schema, _, key = name.partition(" ")
            if (schema, key) not in KEYS:
                continue
            if (schema, key) == (ROOT, "mode"):
                mode = str(value)
                continue
            self._set(schema, key, str(value))
        if mode is not None:
            self._set(ROOT, "mode", mode)

    def close(self) -> None:
        pass
