"""Network adapters by name *or description*.

On Windows, psutil keys adapters by their alias ("Ethernet 3", "NordLynx"), while VPN apps are recognised
by the adapter's description ("TAP-ProtonVPN Windows Adapter V9", "Wintun Userspace Tunnel"). PowerShell's
``Get-NetAdapter`` gives both; elsewhere the interface name is all there is.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import psutil

from vpnswitch.core.errors import BackendError
from vpnswitch.system.oslayout import Platform
from vpnswitch.system.runner import Runner

log = logging.getLogger(__name__)

GET_NETADAPTER = ["powershell.exe", "-NoProfile", "-NonInteractive", "-Command",
                  "Get-NetAdapter -IncludeHidden | Select-Object Name,InterfaceDescription,Status | "
                  "ConvertTo-Json -Compress"]


@dataclass(frozen=True)
class Adapter:
    alias: str
    description: str = ""
    status: str = ""


def parse_get_netadapter(text: str) -> list[Adapter]:
    """``Get-NetAdapter | Select Name,InterfaceDescription,Status | ConvertTo-Json``: an object or a list."""
    text = text.strip()
    if not text:
        return []
    try:
        data = json.loads(text)
    except ValueError:
        return []
    items = data if isinstance(data, list) else [data]
    result = []
    for item in items:
        if isinstance(item, dict) and item.get("Name"):
            status = item.get("Status")
            result.append(Adapter(str(item["Name"]), str(item.get("InterfaceDescription") or ""),
                                  str(status) if status is not None else ""))
    return result


def windows_adapters(runner: Runner, timeout: float = 15.0) -> list[Adapter]:
    try:
        result = runner.run(GET_NETADAPTER, timeout=timeout)
    except BackendError as exc:
        log.warning("cannot list network adapters: %s", exc.message)
        return []
    return parse_get_netadapter(result.stdout) if result.ok else []


def local_adapters() -> list[Adapter]:
    stats = psutil.net_if_stats()
    return [Adapter(name, "", "Up" if st.isup else "Down") for name, st in stats.items()]


def find_adapter(adapters: list[Adapter], *, alias: str | None = None, description: str | None = None
                 ) -> Adapter | None:
    """An adapter with exactly this alias, or whose description (or name) contains ``description``."""
    if alias:
        for adapter in adapters:
            if adapter.alias.lower() == alias.lower():
                return adapter
    if description:
        wanted = description.lower()
        for adapter in adapters:
            if wanted in adapter.description.lower():
                return adapter
        for adapter in adapters:
            if adapter.alias.lower().startswith(wanted):
                return adapter
    return None


def resolve_alias(runner: Runner, platform: Platform, *, alias: str | None, description: str | None) -> str | None:
    """The name psutil knows for the adapter; a subprocess on Windows, so never on the runtime thread."""
    adapters = windows_adapters(runner) if platform == "windows" and description else local_adapters()
    found = find_adapter(adapters, alias=alias, description=description)
    return found.alias if found else None
