"""Windscribe (open source). ``windscribe-cli connect`` blocks unless given ``-n``; ``status`` prints
``Key: value`` lines, among them ``Connect state: Connected: Toronto`` (``*Connected`` while its own tunnel
test runs, ``[Network interference]`` when that test failed) and ``Firewall state: On | Off | Always On``.
Errors exit 1 with the message on stdout. Only one CLI instance may run at a time.
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

PROTOCOLS = ("wireguard", "ikev2", "udp", "tcp", "stealth", "wstunnel")
_CONNECT_STATE = re.compile(r"^\s*Connect state:\s*(\*?)\s*(Connected|Connecting|Disconnected|Disconnecting|Error)"
                            r"\b:?\s*(.*)$", re.IGNORECASE | re.MULTILINE)
_FIREWALL = re.compile(r"^\s*Firewall state:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
_LOGIN = re.compile(r"^\s*Login state:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)


def parse_status(text: str, params: Mapping[str, Any]) -> VendorState:
    login = _LOGIN.search(text)
    if login and re.search(r"logged out|not logged in", login.group(1), re.IGNORECASE):
        return VendorState("error", "not logged in", problem="not-logged-in")
    match = _CONNECT_STATE.search(text)
    if not match:
        return VendorState("unknown", text.splitlines()[0] if text else "no output")
    pending, word, rest = match.group(1), match.group(2).lower(), match.group(3).strip()
    if word == "connected":
        if "network interference" in rest.lower():
            return VendorState("error", f"connected to {rest.split('[')[0].strip()} but Windscribe's own test "
                                        "failed (network interference)")
        if pending:
            return VendorState("connecting", f"testing the tunnel to {rest}")
        return VendorState("connected", rest)
    if word in ("connecting", "disconnecting"):
        return VendorState("connecting", word)
    if word == "error":
        return VendorState("error", rest or "error")
    return VendorState("disconnected")


def firewall_mode(text: str) -> str | None:
    match = _FIREWALL.search(text)
    if not match:
        return None
    value = match.group(1).strip().lower()
    return value if value in ("on", "always on") else None


def _connect(params: Mapping[str, Any]) -> list[str]:
    argv = ["connect", "-n", str(params.get("location") or "best")]
    if params.get("protocol"):
        argv.append(str(params["protocol"]))
    return argv


def _transport(params: Mapping[str, Any]) -> Transport:
    protocol = str(params.get("protocol", "wireguard")).split(":")[0].lower()
    if protocol in ("stealth", "wstunnel"):
        return "obfuscated"
    return "tcp" if protocol == "tcp" else "udp"


def _validate(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    string_param(params, "location", problems, '"best" or "Toronto" or "CA"')
    protocol = params.get("protocol")
    if protocol is not None:
        name, _, port = str(protocol).partition(":")
        if name.lower() not in PROTOCOLS or (port and not port.isdigit()):
            problems.append(("protocol", f"must be one of {', '.join(PROTOCOLS)}, optionally with :port "
                                         "(e.g. \"stealth:443\")"))
    return problems


SPEC = VendorSpec(
    name="windscribe",
    display_name="Windscribe",
    programs=("windscribe-cli",),
    install_paths={
        "linux": ("/usr/bin/windscribe-cli", "/opt/windscribe/windscribe-cli"),
        "windows": ("{ProgramFiles}/Windscribe/windscribe-cli.exe",),
        "darwin": ("/Applications/Windscribe.app/Contents/MacOS/windscribe-cli",),
    },
    connect=_connect,
    disconnect=lambda p: ["disconnect", "-n"],
    status=lambda p: ["status"],
    parse_status=parse_status,
    interfaces={"linux": "utun420", "windows": "WindscribeWireguard", "darwin": "utun420"},
    transport=_transport,
    errors=(
        ErrorRule(r"not logged in|please log in|login state:\s*logged out", "not-logged-in",
                  "not logged in to Windscribe", "Run `windscribe-cli login` in a terminal, or sign in in the app."),
        ErrorRule(r"out of (data|bandwidth)|data limit|account (is )?(expired|banned)", "expired",
                  "the Windscribe account cannot connect (out of data, expired or banned)",
                  "Check the account in the Windscribe app."),
        ErrorRule(r"key limit", "device-limit", "the WireGuard key limit of the account was reached",
                  "Delete old WireGuard keys in your Windscribe account, then reconnect."),
        ErrorRule(r"cli is already running", "busy", "another windscribe-cli is running", "Try again in a moment."),
        ErrorRule(r"did not start in time|app is not running|could not connect to (the )?(app|service|helper)",
                  "daemon-down", "the Windscribe app or service did not start",
                  "Start Windscribe (the app, or windscribe-helper / WindscribeService)."),
        ErrorRule(r"too many requests|rate.?limit", "rate-limited", "Windscribe refused: too many requests",
                  "Wait a few minutes before trying Windscribe again."),
        ErrorRule(r"location .*(not found|does not exist)|invalid location", "not-found",
                  "the location in this profile does not exist", "Fix the profile's location."),
    ),
    already_down=(r"already disconnected", r"connect state:\s*disconnected"),
    params=("location", "protocol"),
    suggestions={"protocol": tuple((p, p) for p in PROTOCOLS)},
    validate=_validate,
    kill_switch=KillSwitch(
        argv=("status",),
        parse=firewall_mode,
        problem="Windscribe's firewall blocks all traffic outside Windscribe",
        fix="Run `windscribe-cli firewall off`; if it is \"Always On\", open Windscribe › Preferences › "
            "Connection › Firewall and choose Manual or Automatic.",
        fix_argv=("firewall", "off"),
    ),
    services={"linux": ("windscribe-helper",), "windows": ("WindscribeService",)},
)


class WindscribeBackend(VendorBackend):
    spec = SPEC
