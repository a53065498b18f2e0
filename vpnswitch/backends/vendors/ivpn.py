"""IVPN (open source ``ivpn``). ``ivpn status`` prints tab-aligned ``Name : value`` lines; the first is
``VPN : CONNECTED`` (or DISCONNECTED, CONNECTING, … or ``PAUSED till …``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from vpnswitch.backends.vendors.spec import (
    ErrorRule,
    KillSwitch,
    VendorBackend,
    VendorSpec,
    VendorState,
    string_param,
)
from vpnswitch.core.model import Transport

_VPN = re.compile(r"^\s*VPN\s*:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
_FIREWALL = re.compile(r"^\s*Firewall\s*:\s*(\w+)", re.IGNORECASE | re.MULTILINE)
_ALWAYS_ON = re.compile(r"^\s*Always-on firewall\s*:\s*(\w+)", re.IGNORECASE | re.MULTILINE)
_CONNECTING = {"CONNECTING", "WAIT", "AUTH", "GETCONFIG", "ASSIGNIP", "ADDROUTES", "RECONNECTING", "TCP_CONNECT",
               "INITIALISED", "EXITING"}
PROTOCOLS = ("wg", "wireguard", "ovpn", "openvpn")


def parse_status(text: str, params: Mapping[str, Any]) -> VendorState:
    match = _VPN.search(text)
    if not match:
        return VendorState("unknown", text.splitlines()[0] if text else "no output")
    value = match.group(1)
    word = value.split()[0].upper()
    if word == "CONNECTED":
        return VendorState("connected", value)
    if word == "DISCONNECTED":
        return VendorState("disconnected")
    if word == "PAUSED":
        return VendorState("disconnected", value.lower())
    if word in _CONNECTING:
        return VendorState("connecting", value.lower())
    return VendorState("unknown", value)


def firewall_mode(text: str) -> str | None:
    always = _ALWAYS_ON.search(text)
    if always and always.group(1).lower() in ("enabled", "on", "true"):
        return "always on"
    match = _FIREWALL.search(text)
    return "on" if match and match.group(1).lower() in ("enabled", "on", "true") else None


def _connect(params: Mapping[str, Any]) -> list[str]:
    argv = ["connect"]
    if params.get("protocol"):
        argv += ["-p", str(params["protocol"])]
    if params.get("obfuscation"):
        argv += ["-o", str(params["obfuscation"])]
    argv += [str(params["location"])] if params.get("location") else ["-fastest"]
    return argv


def _transport(params: Mapping[str, Any]) -> Transport:
    if params.get("obfuscation"):
        return "obfuscated"
    return "tcp" if str(params.get("protocol", "")).lower() in ("ovpn", "openvpn") else "udp"


def _validate(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    string_param(params, "location", problems, '"nl" or "Amsterdam"')
    if params.get("protocol") is not None and str(params["protocol"]).lower() not in PROTOCOLS:
        problems.append(("protocol", "must be wg or ovpn"))
    if params.get("obfuscation") is not None and params["obfuscation"] not in ("obfs4", "v2ray"):
        problems.append(("obfuscation", "must be obfs4 or v2ray"))
    return problems


SPEC = VendorSpec(
    name="ivpn",
    display_name="IVPN",
    programs=("ivpn",),
    install_paths={
        "linux": ("/usr/bin/ivpn", "/opt/ivpn/ivpn"),
        "windows": ("{ProgramFiles}/IVPN Client/cli/ivpn.exe",),
        "darwin": ("/Applications/IVPN.app/Contents/MacOS/cli/ivpn", "/usr/local/bin/ivpn"),
    },
    connect=_connect,
    disconnect=lambda p: ["disconnect"],
    status=lambda p: ["status"],
    parse_status=parse_status,
    connect_blocks=True,
    interfaces={"linux": "wgivpn"},
    transport=_transport,
    errors=(
        ErrorRule(r"not logged in|please log ?in|account.*not logged", "not-logged-in", "not logged in to IVPN",
                  "Run `ivpn login` in a terminal, or sign in in the IVPN app."),
        ErrorRule(r"account (has )?expired|subscription (has )?expired|account is not active", "expired",
                  "the IVPN account is not active", "Renew the account, then reconnect."),
        ErrorRule(r"failed to connect to (the )?(local )?daemon|daemon is not running|ivpn-service is not running|"
                  r"unable to connect to service", "daemon-down", "the IVPN service is not running",
                  "Start the IVPN service (ivpn-service / \"IVPN Client\")."),
        ErrorRule(r"too many (requests|devices|sessions)|session limit", "device-limit",
                  "the IVPN account has too many active devices", "Log out an old device, then reconnect."),
        ErrorRule(r"no servers? found|unknown location|server not found", "not-found",
                  "no IVPN server matches this profile's location", "Fix the profile's location."),
    ),
    params=("location", "protocol", "obfuscation"),
    suggestions={"protocol": (("wg", "WireGuard"), ("ovpn", "OpenVPN"))},
    validate=_validate,
    kill_switch=KillSwitch(
        argv=("firewall",),
        parse=firewall_mode,
        problem="IVPN's firewall blocks all traffic outside IVPN",
        fix="Run `ivpn firewall -off`; an always-on firewall must be turned off in the IVPN app's settings.",
        fix_argv=("firewall", "-off"),
    ),
    services={"linux": ("ivpn-service",), "windows": ("IVPN Client",)},
)


class IvpnBackend(VendorBackend):
    spec = SPEC
