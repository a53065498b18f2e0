"""Tailscale exit node: "connecting" means routing everything through an exit node with
``tailscale set --exit-node=<node>`` (never ``tailscale up``, which fails unless every flag is restated);
disconnecting clears it. ``tailscale status --json`` says whether the node is set and online.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from vpnswitch.backends.vendors.spec import ErrorRule, VendorBackend, VendorSpec, VendorState, string_param


def parse_status(text: str, params: Mapping[str, Any]) -> VendorState:
    try:
        data = json.loads(text[text.find("{"):] if "{" in text else text)
    except ValueError:
        return VendorState("unknown", text.splitlines()[0] if text else "no output")
    if not isinstance(data, dict):
        return VendorState("unknown", "unexpected output")
    backend = str(data.get("BackendState", ""))
    if backend in ("NeedsLogin", "NeedsMachineAuth"):
        return VendorState("error", f"Tailscale state {backend}", problem="not-logged-in")
    if backend in ("Stopped", "NoState"):
        return VendorState("disconnected", "Tailscale is stopped (run `tailscale up`)")
    if backend == "Starting":
        return VendorState("connecting", "Tailscale is starting")
    exit_node = data.get("ExitNodeStatus")
    if not isinstance(exit_node, dict):
        return VendorState("disconnected", "no exit node in use")
    ips = exit_node.get("TailscaleIPs") or []
    where = f"exit node {str(ips[0]).split('/')[0]}" if ips else "exit node"
    if not exit_node.get("Online", False):
        return VendorState("error", f"the {where} is offline")
    return VendorState("connected", where)


def _validate(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    string_param(params, "exit_node", problems, '"100.64.0.7", "my-server" or "auto:any"')
    if params.get("allow_lan") is not None and not isinstance(params["allow_lan"], bool):
        problems.append(("allow_lan", "must be true or false"))
    return problems


def _connect(params: Mapping[str, Any]) -> list[str]:
    argv = ["set", f"--exit-node={params['exit_node']}"]
    if params.get("allow_lan") is not None:
        argv.append(f"--exit-node-allow-lan-access={'true' if params['allow_lan'] else 'false'}")
    return argv


SPEC = VendorSpec(
    name="tailscale",
    display_name="Tailscale exit node",
    programs=("tailscale",),
    install_paths={
        "linux": ("/usr/bin/tailscale", "/usr/sbin/tailscale"),
        "windows": ("{ProgramFiles}/Tailscale/tailscale.exe",),
        "darwin": ("/Applications/Tailscale.app/Contents/MacOS/Tailscale", "/usr/local/bin/tailscale"),
    },
    connect=_connect,
    disconnect=lambda p: ["set", "--exit-node="],
    status=lambda p: ["status", "--json"],
    parse_status=parse_status,
    interfaces={"linux": "tailscale0", "windows": "Tailscale"},
    errors=(
        ErrorRule(r"access denied|permission denied|use 'sudo tailscale|--operator", "permission",
                  "your user may not change Tailscale's settings",
                  "Run `sudo tailscale set --operator=$USER` once."),
        ErrorRule(r"failed to connect to local tailscaled|tailscaled\.sock|is tailscaled running|"
                  r"tailscaled (is )?not running", "daemon-down", "tailscaled is not running",
                  "Start the Tailscale service (tailscaled / Tailscale)."),
        ErrorRule(r"needs ?login|logged out|log in at", "not-logged-in", "Tailscale is logged out",
                  "Run `tailscale up` (or sign in in the Tailscale app)."),
        ErrorRule(r"invalid value .*exit-node|no node found|not found in netmap|is not an exit node|"
                  r"does not advertise", "not-found", "the exit node in this profile is not usable",
                  "Pick an exit node from `tailscale exit-node list`."),
    ),
    already_down=(),
    params=("exit_node", "allow_lan"),
    required=("exit_node",),
    validate=_validate,
    services={"linux": ("tailscaled",), "windows": ("Tailscale",)},
    default_params={"exit_node": "auto:any"},
)


class TailscaleBackend(VendorBackend):
    spec = SPEC
