"""NordVPN. Linux: the open-source ``nordvpn`` CLI talks to ``nordvpnd``; ``nordvpn connect`` blocks until
connected and prints coloured text with a spinner; ``nordvpn status`` prints ``Key: value`` lines.
Windows: the GUI executable takes ``-c -g <place>`` / ``-d`` and has no status, so the adapter is watched.
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

# "Current technology" → the interface nordvpnd creates for it.
TECHNOLOGY_INTERFACES = {"NORDLYNX": "nordlynx", "OPENVPN": "nordtun", "NORDWHISPER": "qtun"}
_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z -]*?)\s*:\s*(.*?)\s*$")


def fields(text: str) -> dict[str, str]:
    """``Key: value`` lines as a dict with lower-case keys."""
    result: dict[str, str] = {}
    for line in text.splitlines():
        match = _LINE.match(line)
        if match:
            result.setdefault(match.group(1).strip().lower(), match.group(2))
    return result


def parse_status(text: str, params: Mapping[str, Any]) -> VendorState:
    info = fields(text)
    status = info.get("status", "").lower()
    technology = info.get("current technology", "").upper()
    interface = TECHNOLOGY_INTERFACES.get(technology)
    where = ", ".join(v for v in (info.get("server") or info.get("hostname"), info.get("city"),
                                  info.get("country")) if v)
    if status == "connected":
        return VendorState("connected", where, interface=interface)
    if status in ("connecting", "reconnecting"):
        return VendorState("connecting", status)
    if status == "disconnected":
        return VendorState("disconnected")
    if status == "paused":
        return VendorState("disconnected", "paused")
    return VendorState("unknown", text.splitlines()[0] if text else "no output")


def _killswitch(text: str) -> str | None:
    value = fields(text).get("kill switch", "").lower()
    return "on" if value in ("enabled", "on", "true") else None


def _connect(params: Mapping[str, Any]) -> list[str]:
    argv = ["connect"]
    if params.get("group"):
        argv += ["--group", str(params["group"])]
    if params.get("location"):
        argv += str(params["location"]).split()
    return argv


def _transport(params: Mapping[str, Any]) -> Transport:
    group = str(params.get("group", "")).lower()
    return "obfuscated" if "obfuscated" in group else "udp"


def _validate(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    string_param(params, "location", problems, '"Germany" or "de" or "Germany Berlin"')
    string_param(params, "group", problems, '"P2P" or "Obfuscated_Servers"')
    return problems


ERRORS = (
    ErrorRule(r"you are not logged in|you're not logged in|please log in", "not-logged-in",
              "not logged in to NordVPN", "Run `nordvpn login` in a terminal (or `nordvpn login --token …`)."),
    ErrorRule(r"account has expired|subscription (has )?(expired|ended)|no active subscription", "expired",
              "the NordVPN subscription has expired", "Renew the subscription, then reconnect."),
    ErrorRule(r"cannot reach system daemon|nordvpnd\.sock not found|daemon is not running", "daemon-down",
              "the NordVPN daemon (nordvpnd) is not running", "Start it: `systemctl start nordvpnd`."),
    ErrorRule(r"permission denied|usermod -ag nordvpn", "permission",
              "your user may not use NordVPN", "Add yourself to the nordvpn group (`sudo usermod -aG nordvpn "
              "$USER`) and log in again."),
    ErrorRule(r"\(y/n\)|\[y/n\]|do you allow", "prompt", "NordVPN asked a question on the terminal",
              "Run `nordvpn login` once in a terminal and answer it."),
    ErrorRule(r"specified (server|group|country|city) does not exist|does not exist", "not-found",
              "the place in this profile does not exist", "Fix the profile's location or group."),
    ErrorRule(r"too many requests|rate.?limit|try again later", "rate-limited",
              "NordVPN refused: too many requests", "Wait a few minutes before trying NordVPN again."),
    ErrorRule(r"whoops! connection failed|we couldn't connect you|not available at the moment", "failed",
              "could not connect"),
)

SPEC = VendorSpec(
    name="nordvpn",
    display_name="NordVPN",
    programs=("nordvpn",),
    install_paths={"linux": ("/usr/bin/nordvpn",)},
    connect=_connect,
    disconnect=lambda p: ["disconnect"],
    status=lambda p: ["status"],
    parse_status=parse_status,
    connect_blocks=True,
    interfaces={"linux": "nordlynx"},
    transport=_transport,
    errors=ERRORS,
    already_down=(r"you are not connected", r"not connected to nordvpn"),
    params=("location", "group"),
    validate=_validate,
    kill_switch=KillSwitch(
        argv=("settings",),
        parse=_killswitch,
        problem="NordVPN's kill switch blocks all traffic while NordVPN is disconnected",
        fix="Run `nordvpn set killswitch off` (or turn off Kill Switch in the NordVPN app).",
        fix_argv=("set", "killswitch", "off"),
    ),
    services={"linux": ("nordvpnd",)},
)


def _windows_connect(params: Mapping[str, Any]) -> list[str]:
    if params.get("location"):
        return ["-c", "-g", str(params["location"])]
    return ["-c"]


WINDOWS_SPEC = VendorSpec(
    name="nordvpn",
    display_name="NordVPN",
    programs=("NordVPN",),
    install_paths={"windows": ("{ProgramFiles}/NordVPN/NordVPN.exe",)},
    connect=_windows_connect,
    disconnect=lambda p: ["-d"],
    status=None,  # the Windows app has no status flag: the adapter tells
    parse_status=None,
    interfaces={"windows": "NordLynx"},
    transport=_transport,
    errors=ERRORS,
    params=("location", "group"),
    validate=_validate,
    services={"windows": ("nordvpn-service",)},
)


class NordVpnBackend(VendorBackend):
    spec = SPEC

    def current_spec(self) -> VendorSpec:
        return WINDOWS_SPEC if self.layout.platform == "windows" else SPEC
