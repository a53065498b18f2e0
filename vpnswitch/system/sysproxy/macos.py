"""macOS: the SOCKS proxy of every enabled network service, through ``networksetup``.

Changing it needs an administrator account; a refusal is reported, never retried in a loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vpnswitch.core.errors import BackendError
from vpnswitch.system.runner import Runner

TIMEOUT = 10.0
TOOL = "networksetup"


def parse_services(text: str) -> list[str]:
    """Enabled services from ``-listallnetworkservices`` (first line is a note; "*" marks disabled)."""
    lines = text.splitlines()[1:]
    return [line.strip() for line in lines if line.strip() and not line.startswith("*")]


def parse_socks(text: str) -> dict[str, Any]:
    """``-getsocksfirewallproxy`` output: Enabled: Yes/No, Server: x, Port: n."""
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip().lower()] = value.strip()
    port = fields.get("port", "0")
    return {"enabled": fields.get("enabled", "No").lower() == "yes", "server": fields.get("server", ""),
            "port": int(port) if port.isdigit() else 0}


class MacNetworkServices:
    name = "macos"

    def __init__(self, runner: Runner, tool: str = TOOL) -> None:
        self._runner = runner
        self._tool = tool

    def _run(self, *args: str) -> str:
        result = self._runner.run([self._tool, *args], timeout=TIMEOUT)
        # networksetup prints errors on stdout and still exits 0 in some versions.
        text = result.output()
        if not result.ok or text.startswith("** Error") or "requires admin" in text.lower():
            raise BackendError(f"networksetup {args[0]} failed: {text or result.returncode}",
                               hint="Changing the proxy on macOS needs an administrator account.")
        return result.stdout

    def services(self) -> list[str]:
        return parse_services(self._run("-listallnetworkservices"))

    def read(self) -> dict[str, Any]:
        return {service: parse_socks(self._run("-getsocksfirewallproxy", service)) for service in self.services()}

    def apply(self, host: str, port: int) -> None:
        for service in self.services():
            self._run("-setsocksfirewallproxy", service, host, str(port))
            self._run("-setsocksfirewallproxystate", service, "on")

    def write(self, settings: Mapping[str, Any]) -> None:
        present = set(self.services())
        for service, saved in settings.items():
            if service not in present:
                continue
            if saved.get("server"):
                self._run("-setsocksfirewallproxy", service, str(saved["server"]), str(saved.get("port", 0)))
            self._run("-setsocksfirewallproxystate", service, "on" if saved.get("enabled") else "off")

    def close(self) -> None:
        pass
