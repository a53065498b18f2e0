"""ExpressVPN (closed source; formats from community scripts, so parsing is deliberately forgiving).

Current apps ship ``expressvpnctl`` (Windows, Linux v4, macOS): ``connect [region]``, ``disconnect``,
``get connectionstate``; it needs the GUI running or ``expressvpnctl background enable``.
The legacy Linux CLI ``expressvpn`` prints coloured text: ``Connected to …``, ``Not connected``,
``Not Activated``. The backend uses ``expressvpnctl`` when it is installed, else the legacy CLI.
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

_STATES = {
    "connected": "connected",
    "connecting": "connecting",
    "reconnecting": "connecting",
    "disconnecting": "connecting",
    "disconnected": "disconnected",
    "interrupted": "error",
}


def parse_ctl_state(text: str, params: Mapping[str, Any]) -> VendorState:
    """``expressvpnctl get connectionstate`` prints one word (``Connected``)."""
    word = text.strip().splitlines()[-1].strip() if text.strip() else ""
    state = _STATES.get(word.lower())
    if state is None:
        return VendorState("unknown", word or "no output")
    return VendorState(state, "" if state in ("connected", "disconnected") else word)  # type: ignore[arg-type]


def parse_legacy_status(text: str, params: Mapping[str, Any]) -> VendorState:
    for line in text.splitlines():
        line = line.strip()
        lower = line.lower()
        if lower.startswith("connected to"):
            return VendorState("connected", line[len("connected to"):].strip())
        if lower.startswith("connecting") or lower.startswith("reconnecting"):
            return VendorState("connecting", line)
        if lower.startswith("not connected") or lower.startswith("disconnected"):
            return VendorState("disconnected")
        if lower.startswith("not activated"):
            return VendorState("error", "not activated", problem="not-activated")
    return VendorState("unknown", text.splitlines()[0] if text else "no output")


def _networklock(text: str) -> str | None:
    return "on" if re.search(r"^\s*(true|on|enabled?)\s*$", text, re.IGNORECASE | re.MULTILINE) else None


def _connect(params: Mapping[str, Any]) -> list[str]:
    return ["connect", str(params["location"])] if params.get("location") else ["connect"]


def _validate(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    string_param(params, "location", problems, '"smart" or "Germany - Frankfurt"')
    if params.get("cli") not in (None, "expressvpnctl", "expressvpn"):
        problems.append(("cli", 'must be "expressvpnctl" or "expressvpn" (the legacy Linux CLI)'))
    return problems


COMMON_ERRORS = (
    ErrorRule(r"not activated|activation code|please activate", "not-activated", "ExpressVPN is not activated",
              "Sign in to the ExpressVPN app (legacy CLI: run `expressvpn activate` in a terminal)."),
    ErrorRule(r"not (logged|signed) in|please (log|sign) in", "not-logged-in", "not signed in to ExpressVPN",
              "Sign in to the ExpressVPN app."),
    ErrorRule(r"subscription (has )?expired|account (has )?expired", "expired",
              "the ExpressVPN subscription has expired", "Renew the subscription, then reconnect."),
    ErrorRule(r"background mode|gui (client )?(is )?not running|requires the gui", "needs-gui",
              "ExpressVPN needs its app running or background mode enabled",
              "Run `expressvpnctl background enable` once, or keep the ExpressVPN app open."),
    ErrorRule(r"cannot connect to (the )?(expressvpn )?daemon|daemon is not running|service is not running|"
              r"failed to connect to the service", "daemon-down", "the ExpressVPN service is not running",
              "Start the ExpressVPN service (expressvpn-service / expressvpnd) or open the app."),
    ErrorRule(r"too many requests|rate.?limit", "rate-limited", "ExpressVPN refused: too many requests",
              "Wait a few minutes before trying ExpressVPN again."),
    ErrorRule(r"unable to connect|connection failed", "failed", "could not connect"),
)

CTL_SPEC = VendorSpec(
    name="expressvpn",
    display_name="ExpressVPN",
    programs=("expressvpnctl",),
    install_paths={
        "linux": ("/opt/expressvpn/bin/expressvpnctl", "/usr/bin/expressvpnctl"),
        "windows": ("{ProgramFiles}/ExpressVPN/expressvpnctl.exe", "{ProgramFiles(x86)}/ExpressVPN/expressvpnctl.exe"),
        "darwin": ("/Applications/ExpressVPN.app/Contents/MacOS/expressvpnctl", "/usr/local/bin/expressvpnctl"),
    },
    connect=_connect,
    disconnect=lambda p: ["disconnect"],
    status=lambda p: ["get", "connectionstate"],
    parse_status=parse_ctl_state,
    connect_blocks=True,
    interfaces={"linux": "tun0"},
    errors=COMMON_ERRORS,
    params=("location", "cli"),
    validate=_validate,
    kill_switch=KillSwitch(
        argv=("get", "networklock"),
        parse=_networklock,
        problem="ExpressVPN's Network Lock blocks traffic when ExpressVPN's connection drops",
        fix="Run `expressvpnctl set networklock false` (or turn off Network Lock in the ExpressVPN app).",
        fix_argv=("set", "networklock", "false"),
    ),
    services={"windows": ("ExpressVpnService",), "linux": ("expressvpn-service",)},
)

LEGACY_SPEC = VendorSpec(
    name="expressvpn",
    display_name="ExpressVPN",
    programs=("expressvpn",),
    install_paths={"linux": ("/usr/bin/expressvpn",)},
    connect=_connect,
    disconnect=lambda p: ["disconnect"],
    status=lambda p: ["status"],
    parse_status=parse_legacy_status,
    connect_blocks=True,
    interfaces={"linux": "tun0"},
    errors=COMMON_ERRORS,
    already_down=(r"not connected", r"disconnected"),
    params=("location", "cli"),
    validate=_validate,
    services={"linux": ("expressvpn",)},
)


class ExpressVpnBackend(VendorBackend):
    spec = CTL_SPEC

    def current_spec(self) -> VendorSpec:
        """``expressvpnctl`` when it is installed (or asked for), else the legacy ``expressvpn`` CLI."""
        chosen = getattr(self, "_chosen", None)
        if chosen is not None:
            return chosen
        cli = self.params.get("cli")
        if cli == "expressvpn":
            chosen = LEGACY_SPEC
        elif cli == "expressvpnctl":
            chosen = CTL_SPEC
        else:
            platform = self.layout.platform
            ctl = self.layout.find_program(CTL_SPEC.programs, CTL_SPEC.install_paths.get(platform, ()))
            legacy = self.layout.find_program(LEGACY_SPEC.programs, LEGACY_SPEC.install_paths.get(platform, ()))
            chosen = LEGACY_SPEC if ctl is None and legacy is not None else CTL_SPEC
        self._chosen = chosen
        return chosen
