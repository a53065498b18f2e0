"""A wg-quick configuration turned into a NetworkManager WireGuard connection owned by the user.

NetworkManager then brings the tunnel up and down for the desktop user (polkit ``network-control``) and
adding it needs only ``settings.modify.own``, so a Linux desktop user never needs root for WireGuard.
The private key goes from the file straight into NetworkManager's settings over D-Bus: never into argv,
logs or vpnswitch's own configuration.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import struct
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Any

from vpnswitch.core.errors import BackendError

IFNAME = re.compile(r"^[a-zA-Z0-9_=+.-]{1,15}$")
IGNORED_HOOKS = ("PreUp", "PostUp", "PreDown", "PostDown", "SaveConfig", "Table")

Variant = tuple[str, Any]


@dataclass
class WgPeer:
    public_key: str
    endpoint: str | None = None
    allowed_ips: list[str] = field(default_factory=list)
    preshared_key: str | None = None
    keepalive: int | None = None


@dataclass
class WgConfig:
    private_key: str
    addresses: list[str] = field(default_factory=list)
    dns: list[str] = field(default_factory=list)
    dns_search: list[str] = field(default_factory=list)
    listen_port: int | None = None
    mtu: int | None = None
    fwmark: int | None = None
    peers: list[WgPeer] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def parse_wg_conf(text: str) -> WgConfig:
    """Parse the wg-quick format; raises BackendError naming the line that is wrong."""
    section = None
    interface: dict[str, list[str]] = {}
    peers: list[dict[str, list[str]]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip().lower()
            if section == "peer":
                peers.append({})
            elif section != "interface":
                raise BackendError(f"line {number}: unknown section [{line[1:-1]}]")
            continue
        key, sep, value = line.partition("=")
        if not sep or section is None:
            raise BackendError(f"line {number}: expected \"Key = value\" inside [Interface] or [Peer]")
        target = interface if section == "interface" else peers[-1]
        target.setdefault(key.strip().lower(), []).append(value.strip())

    def one(values: dict[str, list[str]], key: str) -> str | None:
        found = values.get(key.lower())
        return found[-1] if found else None

    def many(values: dict[str, list[str]], key: str) -> list[str]:
        return [item.strip() for value in values.get(key.lower(), []) for item in value.split(",") if item.strip()]

    private_key = one(interface, "PrivateKey")
    if not private_key:
        raise BackendError("[Interface] has no PrivateKey")
    config = WgConfig(private_key=private_key, addresses=many(interface, "Address"))
    for item in many(interface, "DNS"):
        try:
            ipaddress.ip_address(item)
            config.dns.append(item)
        except ValueError:
            config.dns_search.append(item)
    port, mtu, fwmark = one(interface, "ListenPort"), one(interface, "MTU"), one(interface, "FwMark")
    config.listen_port = _number(port, "ListenPort")
    config.mtu = _number(mtu, "MTU")
    config.fwmark = int(fwmark, 0) if fwmark and fwmark != "off" else None
    config.ignored = [hook for hook in IGNORED_HOOKS if hook.lower() in interface]
    for index, values in enumerate(peers, 1):
        public_key = one(values, "PublicKey")
        if not public_key:
            raise BackendError(f"[Peer] number {index} has no PublicKey")
        keepalive = one(values, "PersistentKeepalive")
        config.peers.append(WgPeer(
            public_key=public_key, endpoint=one(values, "Endpoint"), allowed_ips=many(values, "AllowedIPs"),
            preshared_key=one(values, "PresharedKey"),
            keepalive=None if keepalive == "off" else _number(keepalive, "PersistentKeepalive"),
        ))
    if not config.peers:
        raise BackendError("the configuration has no [Peer]")
    return config


def _number(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise BackendError(f"{name} must be a number, not {value!r}") from None


def _dns_u32(address: str) -> int:
    """NetworkManager's ipv4.dns is ``au``: each address as a uint32 in network byte order."""
    return int(struct.unpack("=I", socket.inet_aton(address))[0])


def interface_name(stem: str) -> str:
    return stem if IFNAME.match(stem) else "wg-vpnswitch"


def nm_settings(config: WgConfig, name: str, user: str, *, iface: str, uuid: str | None = None
                ) -> dict[str, dict[str, Variant]]:
    """NetworkManager settings (a{sa{sv}} as jeepney variants) for a user-owned WireGuard connection."""
    peers = []
    for peer in config.peers:
        entry: dict[str, Variant] = {"public-key": ("s", peer.public_key),
                                     "allowed-ips": ("as", peer.allowed_ips)}
        if peer.endpoint:
            entry["endpoint"] = ("s", peer.endpoint)
        if peer.preshared_key:
            entry["preshared-key"] = ("s", peer.preshared_key)
            entry["preshared-key-flags"] = ("u", 0)
        if peer.keepalive:
            entry["persistent-keepalive"] = ("u", peer.keepalive)
        peers.append(entry)
    wireguard: dict[str, Variant] = {"private-key": ("s", config.private_key), "private-key-flags": ("u", 0),
                                     "peers": ("aa{sv}", peers)}
    if config.listen_port:
        wireguard["listen-port"] = ("u", config.listen_port)
    if config.mtu:
        wireguard["mtu"] = ("u", config.mtu)
    if config.fwmark:
        wireguard["fwmark"] = ("u", config.fwmark)
    v4 = [a for a in config.addresses if ":" not in a]
    v6 = [a for a in config.addresses if ":" in a]
    settings: dict[str, dict[str, Variant]] = {
        "connection": {
            "id": ("s", name),
            "uuid": ("s", uuid or str(uuidlib.uuid4())),
            "type": ("s", "wireguard"),
            "interface-name": ("s", iface),
            "autoconnect": ("b", False),
            # Owned by this user: adding it needs only polkit's settings.modify.own.
            "permissions": ("as", [f"user:{user}:"]),
        },
        "wireguard": wireguard,
        "ipv4": _ip_settings(v4, [d for d in config.dns if ":" not in d], config.dns_search, 4),
        "ipv6": _ip_settings(v6, [d for d in config.dns if ":" in d], config.dns_search, 6),
    }
    return settings


def _ip_settings(addresses: list[str], dns: list[str], search: list[str], family: int) -> dict[str, Variant]:
    if not addresses:
        return {"method": ("s", "disabled")}
    data = []
    for text in addresses:
        iface = ipaddress.ip_interface(text if "/" in text else f"{text}/{32 if family == 4 else 128}")
        data.append({"address": ("s", str(iface.ip)), "prefix": ("u", iface.network.prefixlen)})
    result: dict[str, Variant] = {"method": ("s", "manual"), "address-data": ("aa{sv}", data)}
    if dns and family == 4:
        result["dns"] = ("au", [_dns_u32(d) for d in dns])
    elif dns:
        result["dns"] = ("aay", [socket.inet_pton(socket.AF_INET6, d) for d in dns])
    if search:
        result["dns-search"] = ("as", search)
    return result
