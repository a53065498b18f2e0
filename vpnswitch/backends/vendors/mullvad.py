"""Mullvad VPN: ``mullvad connect`` returns at once, so the state comes from ``mullvad status -j`` and the
``mullvad status listen -j`` event stream (one JSON tunnel state per line, mixed with other events).

JSON shape (serde ``tag="state", content="details"``): ``{"state":"connected","details":{"endpoint":
{"tunnel_interface":"wg0-mullvad",…},"location":{…}}}``; ``disconnected`` carries ``locked_down``;
``error`` carries ``cause`` and ``block_failure`` (null when traffic is being blocked as intended).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from vpnswitch.backends.vendors.spec import ErrorRule, KillSwitch, VendorBackend, VendorSpec, VendorState

_TEXT_STATE = re.compile(
    r"^(?:Tunnel status:\s*)?(Connected|Connecting|Disconnected|Disconnecting|Blocked)\b:?\s*(.*)$", re.IGNORECASE)
_TEXT_IFACE = re.compile(r"^\s*Tunnel interface:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


def _location(details: Mapping[str, Any]) -> str:
    location = details.get("location") or {}
    if not isinstance(location, dict):
        return ""
    parts = [location.get("hostname"), location.get("city"), location.get("country")]
    return ", ".join(str(p) for p in parts if p)


def _cause(details: Any) -> str:
    cause = details.get("cause") if isinstance(details, dict) else details
    if isinstance(cause, dict):
        reason = cause.get("reason") or next(iter(cause), "unknown")
        extra = cause.get("details")
        return f"{reason}" + (f" ({extra})" if extra and not isinstance(extra, dict) else "")
    return str(cause) if cause else "unknown cause"


def state_from_json(data: Mapping[str, Any]) -> VendorState | None:
    """A tunnel state object, or None for the other events ``status listen`` prints."""
    state = data.get("state")
    if not isinstance(state, str):
        return None
    details = data.get("details") if isinstance(data.get("details"), dict) else {}
    assert isinstance(details, dict)
    match state:
        case "connected" | "connecting":
            endpoint = details.get("endpoint") if isinstance(details.get("endpoint"), dict) else {}
            assert isinstance(endpoint, dict)
            interface = endpoint.get("tunnel_interface")
            return VendorState(state, _location(details), interface=str(interface) if interface else None)
        case "disconnected":
            locked = bool(details.get("locked_down"))
            return VendorState("disconnected", "lockdown mode blocks all traffic" if locked else "", blocking=locked)
        case "disconnecting":
            return VendorState("connecting", "disconnecting")
        case "error":
            blocking = details.get("block_failure") is None
            verb = "Blocked" if blocking else "Error (not blocking)"
            return VendorState("error", f"{verb}: {_cause(details)}", blocking=blocking)
    return VendorState("unknown", f"unknown state {state!r}")


def parse_status(text: str, params: Mapping[str, Any]) -> VendorState:
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                data = json.loads(line)
            except ValueError:
                continue
            if isinstance(data, dict):
                parsed = state_from_json(data)
                if parsed is not None:
                    return parsed
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        parsed = state_from_json(data)
        if parsed is not None:
            return parsed
    return parse_text(text)


def parse_text(text: str) -> VendorState:
    """The human format (older CLIs without ``-j``): ``Connected``, ``Blocked: <cause>``…"""
    iface = _TEXT_IFACE.search(text)
    interface = iface.group(1) if iface else None
    for line in text.splitlines():
        match = _TEXT_STATE.match(line.strip())
        if not match:
            continue
        word, rest = match.group(1).lower(), match.group(2).strip()
        if word == "blocked":
            return VendorState("error", f"Blocked: {rest}", blocking=True)
        if word == "disconnecting":
            return VendorState("connecting", "disconnecting")
        return VendorState(word, rest, interface=interface)  # type: ignore[arg-type]
    return VendorState("unknown", text.splitlines()[0] if text else "no output")


def parse_event(line: str, params: Mapping[str, Any]) -> VendorState | None:
    try:
        data = json.loads(line)
    except ValueError:
        return None
    return state_from_json(data) if isinstance(data, dict) else None


def _lockdown(text: str) -> str | None:
    match = re.search(r"Block traffic when the VPN is disconnected:\s*(\w+)", text, re.IGNORECASE)
    return "on" if match and match.group(1).lower() == "on" else None


def _prepare(params: Mapping[str, Any]) -> list[list[str]]:
    location = params.get("location")
    return [["relay", "set", "location", *str(location).split()]] if location else []


SPEC = VendorSpec(
    name="mullvad",
    display_name="Mullvad VPN",
    programs=("mullvad",),
    install_paths={
        "linux": ("/usr/bin/mullvad", "/opt/Mullvad VPN/resources/mullvad"),
        "windows": ("{ProgramFiles}/Mullvad VPN/resources/mullvad.exe",),
        "darwin": ("/usr/local/bin/mullvad", "/Applications/Mullvad VPN.app/Contents/Resources/mullvad"),
    },
    prepare=_prepare,
    connect=lambda p: ["connect"],
    disconnect=lambda p: ["disconnect"],
    status=lambda p: ["status", "-j"],
    parse_status=parse_status,
    events=lambda p: ["status", "listen", "-j"],
    parse_event=parse_event,
    interfaces={"linux": "wg0-mullvad", "windows": "Mullvad", "darwin": None},
    errors=(
        ErrorRule(r"not logged in|no account (number )?(is )?set|log in to an account", "not-logged-in",
                  "not logged in to a Mullvad account", "Run `mullvad account login` or sign in in the Mullvad app."),
        ErrorRule(r"account (has )?expired|out of time|no time left", "expired",
                  "the Mullvad account has no time left", "Add time to the account, then reconnect."),
        ErrorRule(r"too many devices|maximum number of devices|device limit", "device-limit",
                  "the account already has the maximum number of devices",
                  "Remove an old device in the Mullvad app or on the account page."),
        ErrorRule(r"failed to connect to (the )?daemon|management (rpc|interface)|is the daemon running|"
                  r"daemon is not running|mullvad-vpn.*(no such file|connection refused)", "daemon-down",
                  "the Mullvad daemon is not running",
                  "Start the Mullvad service (mullvad-daemon / mullvadvpn) or open the Mullvad app."),
        ErrorRule(r"too many requests|rate.?limit", "rate-limited", "Mullvad's servers refused: too many requests",
                  "Wait a few minutes before trying Mullvad again."),
    ),
    params=("location",),
    kill_switch=KillSwitch(
        argv=("lockdown-mode", "get"),
        parse=_lockdown,
        problem="Mullvad's lockdown mode blocks all traffic whenever Mullvad is not connected, so no other "
                "VPN or Tor can work",
        fix="Turn off \"Lockdown mode\" in Mullvad's settings, or run `mullvad lockdown-mode set off`.",
        fix_argv=("lockdown-mode", "set", "off"),
    ),
    services={"linux": ("mullvad-daemon",), "windows": ("mullvadvpn",), "darwin": ("net.mullvad.daemon",)},
)


class MullvadBackend(VendorBackend):
    spec = SPEC
