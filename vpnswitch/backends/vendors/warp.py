"""Cloudflare WARP (closed source; formats from community scripts). Every call carries ``--accept-tos`` so
it never waits at the terms prompt. ``warp-cli --json status`` prints ``{"status":"Connected",
"reason":"NetworkHealthy"}``; ``reason`` is sometimes a one-key object (``{"RegistrationMissing":…}``).
``warp-cli -l status`` prints ``Status update: …`` lines as the state changes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from vpnswitch.backends.vendors.spec import ErrorRule, VendorBackend, VendorSpec, VendorState

TOS = "--accept-tos"
_TEXT = re.compile(r"^\s*Status update:\s*(\w+)", re.IGNORECASE | re.MULTILINE)
_REASON = re.compile(r"^\s*(?:Reason|Network):\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)


def _reason(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value) if value else ""


def _state(word: str, reason: str) -> VendorState:
    word = word.lower()
    if "registrationmissing" in reason.replace(" ", "").lower():
        return VendorState("error", "WARP is not registered", problem="not-logged-in")
    if word == "connected":
        # "Connected" with a reason other than NetworkHealthy: up, but WARP itself doubts it.
        healthy = not reason or reason.replace(" ", "").lower() in ("networkhealthy", "healthy")
        return VendorState("connected", "" if healthy else f"WARP reports {reason}")
    if word in ("connecting", "disconnecting"):
        return VendorState("connecting", reason or word)
    if word == "disconnected":
        return VendorState("disconnected", reason)
    return VendorState("unknown", f"{word} {reason}".strip())


def parse_status(text: str, params: Mapping[str, Any]) -> VendorState:
    for candidate in (text, *text.splitlines()):
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(data, dict) and "status" in data:
            return _state(str(data["status"]), _reason(data.get("reason")))
    return parse_text(text)


def parse_text(text: str) -> VendorState:
    match = _TEXT.search(text)
    if not match:
        return VendorState("unknown", text.splitlines()[0] if text else "no output")
    reason = _REASON.search(text)
    return _state(match.group(1), reason.group(1) if reason else "")


def parse_event(line: str, params: Mapping[str, Any]) -> VendorState | None:
    match = _TEXT.search(line)
    return _state(match.group(1), "") if match else None


SPEC = VendorSpec(
    name="warp",
    display_name="Cloudflare WARP",
    programs=("warp-cli",),
    install_paths={
        "linux": ("/usr/bin/warp-cli", "/bin/warp-cli"),
        "windows": ("{ProgramFiles}/Cloudflare/Cloudflare WARP/warp-cli.exe",),
        "darwin": ("/Applications/Cloudflare WARP.app/Contents/Resources/warp-cli", "/usr/local/bin/warp-cli"),
    },
    connect=lambda p: [TOS, "connect"],
    disconnect=lambda p: [TOS, "disconnect"],
    status=lambda p: [TOS, "--json", "status"],
    parse_status=parse_status,
    events=lambda p: [TOS, "-l", "status"],
    parse_event=parse_event,
    interfaces={"linux": "CloudflareWARP", "windows": "CloudflareWARP"},
    errors=(
        ErrorRule(r"registration ?missing|not registered|register (a )?new", "not-logged-in",
                  "WARP is not registered on this device", "Run `warp-cli registration new` once."),
        ErrorRule(r"unable to connect to the cloudflarewarp daemon|error communicating with daemon|"
                  r"daemon (is )?not running|warp-svc", "daemon-down", "the WARP service is not running",
                  "Start the WARP service (warp-svc / CloudflareWARP)."),
        ErrorRule(r"too many requests|rate.?limit", "rate-limited", "Cloudflare refused: too many requests",
                  "Wait a few minutes before trying WARP again."),
        ErrorRule(r"terms of service", "prompt", "WARP wants its terms of service accepted",
                  "Run `warp-cli registration new` once in a terminal and accept them."),
    ),
    already_down=(r"already disconnected",),
    services={"linux": ("warp-svc",), "windows": ("CloudflareWARP",)},
)


class WarpBackend(VendorBackend):
    spec = SPEC
