"""Private Internet Access (open source ``piactl``). ``piactl connect`` needs the GUI running or
``piactl background enable``; ``get connectionstate`` prints one word; ``monitor connectionstate`` prints the
current value and then every change, one per line — the event stream.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vpnswitch.backends.vendors.spec import ErrorRule, VendorBackend, VendorSpec, VendorState, string_param

# vpnstate.h: Disconnected Connecting Connected Interrupted Reconnecting DisconnectingToReconnect Disconnecting
STATES = {
    "connected": ("connected", ""),
    "connecting": ("connecting", ""),
    "reconnecting": ("connecting", "reconnecting"),
    "disconnectingtoreconnect": ("connecting", "reconnecting"),
    "disconnecting": ("connecting", "disconnecting"),
    "disconnected": ("disconnected", ""),
    # The connection was lost and PIA is trying again: nothing passes meanwhile.
    "interrupted": ("error", "PIA reports the connection was interrupted"),
}


def parse_state(text: str, params: Mapping[str, Any]) -> VendorState:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    word = lines[-1] if lines else ""
    known = STATES.get(word.lower())
    if known is None:
        return VendorState("unknown", word or "no output")
    return VendorState(known[0], known[1])  # type: ignore[arg-type]


def parse_event(line: str, params: Mapping[str, Any]) -> VendorState | None:
    known = STATES.get(line.strip().lower())
    return VendorState(known[0], known[1]) if known else None  # type: ignore[arg-type]


def _validate(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    string_param(params, "region", problems, '"auto" or "de-frankfurt"')
    return problems


SPEC = VendorSpec(
    name="pia",
    display_name="Private Internet Access",
    programs=("piactl",),
    install_paths={
        "linux": ("/opt/piavpn/bin/piactl", "/usr/local/bin/piactl"),
        "windows": ("{ProgramFiles}/Private Internet Access/piactl.exe",),
        "darwin": ("/Applications/Private Internet Access.app/Contents/MacOS/piactl",),
    },
    prepare=lambda p: [["set", "region", str(p["region"])]] if p.get("region") else [],
    connect=lambda p: ["connect"],
    disconnect=lambda p: ["disconnect"],
    status=lambda p: ["get", "connectionstate"],
    parse_status=parse_state,
    events=lambda p: ["monitor", "connectionstate"],
    parse_event=parse_event,
    interfaces={"linux": "wgpia0", "windows": "wgpia0", "darwin": None},
    errors=(
        ErrorRule(r"background enable|client is not running|not running in the background|daemon is inactive",
                  "needs-gui", "PIA needs its app running or background mode enabled",
                  "Run `piactl background enable` once, or keep the PIA app open."),
        ErrorRule(r"not logged in|log ?in (first|required)|no (valid )?credentials", "not-logged-in",
                  "not logged in to PIA", "Sign in in the PIA app (or `piactl login <file>`)."),
        ErrorRule(r"account (has )?expired|subscription (has )?expired", "expired",
                  "the PIA subscription has expired", "Renew the subscription, then reconnect."),
        ErrorRule(r"unable to connect to (the )?daemon|cannot connect to (the )?daemon|daemon is not running|"
                  r"connection to the daemon", "daemon-down", "the PIA daemon is not running",
                  "Start the PIA service (piavpn / PrivateInternetAccessService) or open the app."),
        ErrorRule(r"too many requests|rate.?limit", "rate-limited", "PIA refused: too many requests",
                  "Wait a few minutes before trying PIA again."),
    ),
    params=("region",),
    validate=_validate,
    services={"linux": ("piavpn",), "windows": ("PrivateInternetAccessService",)},
)


class PiaBackend(VendorBackend):
    spec = SPEC
