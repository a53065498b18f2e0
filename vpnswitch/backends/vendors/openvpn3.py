"""openvpn3-linux: sessions live in its D-Bus services, the CLI only asks them. ``session-start
--background`` returns once the session is set up; ``sessions-list`` prints one block per session
(``Config name:``, ``Device:``, ``Status: Connection, Client connected``) separated by dashed lines.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vpnswitch.backends.vendors.spec import ErrorRule, VendorBackend, VendorSpec, VendorState

_FIELD = re.compile(r"([A-Z][A-Za-z ]*?):\s+(.*?)(?=\s{2,}[A-Z][A-Za-z ]*?:\s|$)")


@dataclass(frozen=True)
class Session:
    config: str
    device: str | None
    status: str
    path: str = ""


def parse_sessions(text: str) -> list[Session]:
    """Every block of ``openvpn3 sessions-list``; an empty list for "No sessions available"."""
    sessions = []
    for block in re.split(r"^\s*-{5,}\s*$", text, flags=re.MULTILINE):
        values: dict[str, str] = {}
        for line in block.splitlines():
            for match in _FIELD.finditer(line.strip()):
                values.setdefault(match.group(1).strip().lower(), match.group(2).strip())
        if "config name" in values or "status" in values:
            sessions.append(Session(values.get("config name", ""), values.get("device") or None,
                                    values.get("status", ""), values.get("path", "")))
    return sessions


def _matches(session: Session, config: str) -> bool:
    return session.config in (config, os.path.basename(config)) or \
        os.path.basename(session.config) == os.path.basename(config)


def parse_status(text: str, params: Mapping[str, Any]) -> VendorState:
    config = str(params.get("config", ""))
    mine = [s for s in parse_sessions(text) if _matches(s, config)]
    if not mine:
        return VendorState("disconnected", "no session")
    session = mine[-1]
    status = session.status.lower()
    if "client connected" in status:
        return VendorState("connected", session.config, interface=session.device)
    if "auth" in status and "fail" in status:
        return VendorState("error", session.status, problem="not-logged-in")
    if "fail" in status or "disconnected" in status or "error" in status:
        return VendorState("error", session.status)
    if "paused" in status:
        return VendorState("disconnected", session.status)
    return VendorState("connecting", session.status or "starting")


def _validate(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    value = params.get("config")
    if not isinstance(value, str) or not value.strip():
        return [("config", "must be the name of an imported openvpn3 profile, or a path to a .ovpn file")]
    return []


SPEC = VendorSpec(
    name="openvpn3",
    display_name="OpenVPN 3",
    programs=("openvpn3",),
    install_paths={"linux": ("/usr/bin/openvpn3",)},
    connect=lambda p: ["session-start", "--config", str(p["config"]), "--background"],
    disconnect=lambda p: ["session-manage", "--config", str(p["config"]), "--disconnect"],
    status=lambda p: ["sessions-list"],
    parse_status=parse_status,
    interfaces={"linux": "tun0"},
    transport=lambda p: "unknown",
    errors=(
        ErrorRule(r"auth(entication)?[_ ]failed|authentication failure", "not-logged-in",
                  "the server refused the credentials", "Check the user name and password for this profile."),
        ErrorRule(r"no (configuration )?profiles? found|configuration (profile )?not found|"
                  r"failed to import|no such file", "not-found", "the openvpn3 profile does not exist",
                  "Import it once: `openvpn3 config-import --config FILE --name NAME --persistent`."),
        ErrorRule(r"could not connect to|net\.openvpn\.v3\.\w+ .*(not|un)available|"
                  r"service.*not (running|available)", "daemon-down", "the openvpn3 services are not available",
                  "Check that openvpn3-linux is installed and D-Bus is running."),
        ErrorRule(r"password:|username:|enter .*(password|username)", "prompt",
                  "the profile needs credentials typed on a terminal",
                  "Start it once with `openvpn3 session-start --config NAME` in a terminal, or store the "
                  "credentials in the profile."),
    ),
    already_down=(r"no session", r"session not found", r"not found"),
    params=("config",),
    required=("config",),
    validate=_validate,
)


class OpenVpn3Backend(VendorBackend):
    spec = SPEC
