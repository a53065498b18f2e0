"""The static registry of backends: a plain table, so it freezes cleanly into a packaged app.

Modules are imported on first use only. ``VPNSWITCH_BACKENDS`` may add test-only backends
("fake=tests.support.fakes:FakeBackend") — never set in normal use.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Iterable, Mapping
from typing import Any

from vpnswitch.backends.base import Backend, BackendContext
from vpnswitch.core.config import Profile

_BUILTIN: dict[str, str] = {
    "command": "vpnswitch.backends.command:CommandBackend",
    "wireguard": "vpnswitch.backends.wireguard.backend:WireGuardBackend",
    "openvpn": "vpnswitch.backends.openvpn.backend:OpenVpnBackend",
    "networkmanager": "vpnswitch.backends.nm.backend:NetworkManagerBackend",
    "app": "vpnswitch.backends.guiapp:AppBackend",
    "tor": "vpnswitch.backends.tor.backend:TorBackend",
    # Vendor command-line clients: one declarative spec each, in vpnswitch.backends.vendors.
    "mullvad": "vpnswitch.backends.vendors.mullvad:MullvadBackend",
    "nordvpn": "vpnswitch.backends.vendors.nordvpn:NordVpnBackend",
    "expressvpn": "vpnswitch.backends.vendors.expressvpn:ExpressVpnBackend",
    "windscribe": "vpnswitch.backends.vendors.windscribe:WindscribeBackend",
    "pia": "vpnswitch.backends.vendors.pia:PiaBackend",
    "ivpn": "vpnswitch.backends.vendors.ivpn:IvpnBackend",
    "warp": "vpnswitch.backends.vendors.warp:WarpBackend",
    "tailscale": "vpnswitch.backends.vendors.tailscale:TailscaleBackend",
    "openvpn3": "vpnswitch.backends.vendors.openvpn3:OpenVpn3Backend",
    "psiphon": "vpnswitch.backends.vendors.psiphon:PsiphonBackend",
    "shadowsocks": "vpnswitch.backends.shadowsocks.backend:ShadowsocksBackend",
    "proxy-core": "vpnswitch.backends.proxycore.backend:ProxyCoreBackend",
    "clash-api": "vpnswitch.backends.clashapi.backend:ClashApiBackend",
    "lantern": "vpnswitch.backends.lantern.backend:LanternBackend",
}


def _available(target: str) -> bool:
    """Whether the module behind a table entry exists (backends land one at a time)."""
    module_name = target.partition(":")[0]
    try:
        return importlib.util.find_spec(module_name) is not None
    except ModuleNotFoundError:
        return False


def _table() -> dict[str, str]:
    table = {name: target for name, target in _BUILTIN.items() if _available(target)}
    extra = os.environ.get("VPNSWITCH_BACKENDS", "")
    for item in filter(None, (part.strip() for part in extra.split(","))):
        name, _, target = item.partition("=")
        if name and target:
            table[name] = target
    return table


def backend_class(name: str) -> type[Backend]:
    target = _table().get(name)
    if target is None:
        raise KeyError(name)
    module_name, _, attr = target.partition(":")
    cls = getattr(importlib.import_module(module_name), attr)
    assert issubclass(cls, Backend)
    return cls


def create(profile: Profile, context: BackendContext) -> Backend:
    return backend_class(profile.backend)(profile, context)


class Catalog:
    """The registry seen through the config layer's BackendCatalog protocol."""

    def names(self) -> Iterable[str]:
        return sorted(_table())

    def validate_params(self, backend: str, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        return backend_class(backend).validate_params(params)


CATALOG = Catalog()
