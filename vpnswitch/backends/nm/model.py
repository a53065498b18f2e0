"""NetworkManager's vocabulary, shared by the D-Bus client and the nmcli fallback: connections, active
connections, state and reason numbers (from NetworkManager's D-Bus API), and what they mean for people.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vpnswitch.core.errors import AuthFailed, BackendError

# NMActiveConnectionState
ACTIVE_UNKNOWN, ACTIVE_ACTIVATING, ACTIVE_ACTIVATED, ACTIVE_DEACTIVATING, ACTIVE_DEACTIVATED = range(5)
ACTIVE_STATE_NAMES = {0: "unknown", 1: "activating", 2: "activated", 3: "deactivating", 4: "deactivated"}
# NMVpnConnectionState
VPN_UNKNOWN, VPN_PREPARE, VPN_NEED_AUTH, VPN_CONNECT, VPN_IP_CONFIG, VPN_ACTIVATED, VPN_FAILED, VPN_DISCONNECTED = \
    range(8)

# NMActiveConnectionStateReason (NMVpnConnectionStateReason shares 0–11).
REASONS = {
    0: "unknown reason",
    1: "no reason given",
    2: "disconnected by the user",
    3: "the network device disconnected",
    4: "the VPN service stopped",
    5: "the VPN server sent an invalid IP configuration",
    6: "the connection attempt timed out",
    7: "the VPN service did not start in time",
    8: "the VPN service failed to start (is its NetworkManager plugin installed?)",
    9: "secrets (a password or key) were required but not provided",
    10: "the server refused the login",
    11: "the connection was deleted",
    12: "a connection it depends on failed",
    13: "its device could not be created",
    14: "its device was removed",
}
AUTH_REASONS = (9, 10)

# Proton VPN's Linux app: its VPN connections, its device, and its kill-switch dummies.
PROTON_PREFIX = "ProtonVPN "
PROTON_INTERFACE = "proton0"
PROTON_KILLSWITCH_IDS = ("pvpn-killswitch", "pvpn-killswitch-perm", "pvpn-killswitch-ipv6",
                         "pvpn-killswitch-ipv6-perm")
PROTON_KILLSWITCH_DEVICES = ("pvpnksintrf0", "pvpnksintrf1", "ipv6leakintrf0", "ipv6leakintrf1")

# Connection types that are a VPN or a tunnel vpnswitch can drive.
VPN_TYPES = ("vpn", "wireguard")


def describe_reason(reason: int | None) -> str:
    if reason is None or reason < 0:
        return "NetworkManager went away" if reason == -1 else "unknown reason"
    return REASONS.get(reason, f"reason {reason}")


@dataclass(frozen=True)
class NmConnection:
    """A saved connection profile."""

    id: str
    uuid: str
    type: str
    path: str = ""
    interface_name: str | None = None
    vpn_service: str | None = None
    vpn_data: Mapping[str, str] = field(default_factory=dict)
    permissions: tuple[str, ...] = ()

    @property
    def is_vpn(self) -> bool:
        return self.type in VPN_TYPES

    @property
    def is_proton(self) -> bool:
        return self.id.startswith(PROTON_PREFIX) or self.interface_name == PROTON_INTERFACE

    @property
    def is_proton_killswitch(self) -> bool:
        return self.id in PROTON_KILLSWITCH_IDS or self.interface_name in PROTON_KILLSWITCH_DEVICES

    @property
    def plugin(self) -> str:
        """``openvpn`` for ``org.freedesktop.NetworkManager.openvpn``; the type itself for native ones."""
        if self.vpn_service:
            return self.vpn_service.rsplit(".", 1)[-1]
        return self.type


@dataclass(frozen=True)
class NmActive:
    """An active (or activating) connection."""

    path: str
    id: str
    uuid: str
    type: str
    state: int
    vpn: bool = False
    devices: tuple[str, ...] = ()
    connection: str = "/"
    vpn_state: int | None = None
    device_interface: str | None = None

    @property
    def state_name(self) -> str:
        return ACTIVE_STATE_NAMES.get(self.state, str(self.state))


def connection_from_settings(path: str, settings: Mapping[str, Mapping[str, Any]]) -> NmConnection:
    """From GetSettings' a{sa{sv}} with the variants already unwrapped."""
    conn = settings.get("connection", {})
    vpn = settings.get("vpn", {})
    data = vpn.get("data") or {}
    return NmConnection(
        id=str(conn.get("id", "")),
        uuid=str(conn.get("uuid", "")),
        type=str(conn.get("type", "")),
        path=path,
        interface_name=str(conn["interface-name"]) if conn.get("interface-name") else None,
        vpn_service=str(vpn["service-type"]) if vpn.get("service-type") else None,
        vpn_data={str(k): str(v) for k, v in dict(data).items()},
        permissions=tuple(str(p) for p in conn.get("permissions") or ()),
    )


def activation_error(name: str, reason: int, vpn_reason: int | None = None) -> BackendError:
    """The error for a failed activation: missing secrets and refused logins are not retried."""
    why = vpn_reason if vpn_reason not in (None, 0, 1) else reason
    text = describe_reason(why)
    if why in AUTH_REASONS:
        return AuthFailed(f"NetworkManager could not activate {name}: {text}",
                          hint="Connect it once from the desktop's network menu so the password is saved "
                               "(\"store for all users\" or in the keyring), then try again.")
    fatal = why == 8  # the plugin is missing: retrying cannot help
    hint = "Install the NetworkManager plugin for this VPN type." if fatal else ""
    return BackendError(f"NetworkManager could not activate {name}: {text}", fatal=fatal, hint=hint)
