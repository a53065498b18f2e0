"""The nmcli fallback (no D-Bus library, or no access to the bus): terse output parsers and a client with
the same methods as the D-Bus one. Every call runs through the runner with ``LC_ALL=C`` (nmcli translates)
and never with ``--ask``, so it can never wait for a password on a terminal.
"""

from __future__ import annotations

import re

from vpnswitch.backends.nm.model import (
    ACTIVE_ACTIVATED,
    ACTIVE_ACTIVATING,
    ACTIVE_DEACTIVATED,
    ACTIVE_DEACTIVATING,
    NmActive,
    NmConnection,
)
from vpnswitch.core.errors import AuthFailed, BackendError
from vpnswitch.system.runner import Runner

STATE_WORDS = {"activating": ACTIVE_ACTIVATING, "activated": ACTIVE_ACTIVATED, "deactivating": ACTIVE_DEACTIVATING,
               "deactivated": ACTIVE_DEACTIVATED}
_UUID = re.compile(r"\(([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\)")
_ACTIVE_PATH = re.compile(r"active path:\s*(/org/freedesktop/NetworkManager/ActiveConnection/\d+)")


def split_terse(line: str) -> list[str]:
    """One line of ``nmcli -t`` output: fields split at ``:``, with ``\\:`` and ``\\\\`` unescaped."""
    fields, current, escaped = [], [], False
    for char in line:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ":":
            fields.append("".join(current))
            current = []
        else:
            current.append(char)
    fields.append("".join(current))
    return fields


def parse_connections(text: str) -> list[NmConnection]:
    """``nmcli -t -f NAME,UUID,TYPE,DEVICE connection show``."""
    result = []
    for line in text.splitlines():
        cols = split_terse(line)
        if len(cols) >= 3 and cols[1]:
            device = cols[3] if len(cols) > 3 and cols[3] not in ("", "--") else None
            result.append(NmConnection(id=cols[0], uuid=cols[1], type=cols[2], path=cols[1], interface_name=device))
    return result


def parse_active(text: str) -> list[NmActive]:
    """``nmcli -t -f NAME,UUID,TYPE,DEVICE,STATE connection show --active``."""
    result = []
    for line in text.splitlines():
        cols = split_terse(line)
        if len(cols) < 5 or not cols[1]:
            continue
        name, uuid, kind, device, state = cols[:5]
        result.append(NmActive(path=uuid, id=name, uuid=uuid, type=kind, state=STATE_WORDS.get(state, 0),
                               vpn=kind == "vpn", device_interface=device if device not in ("", "--") else None))
    return result


def parse_vpn_state(text: str) -> tuple[int | None, int | None]:
    """``nmcli -t -f GENERAL.STATE,VPN.VPN-STATE connection show uuid U`` → (active state, VPN state)."""
    general: int | None = None
    vpn: int | None = None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key == "GENERAL.STATE":
            general = STATE_WORDS.get(value.strip())
        elif key == "VPN.VPN-STATE":
            match = re.match(r"\s*(\d+)", value)
            vpn = int(match.group(1)) if match else None
    return general, vpn


def activation_failure(name: str, output: str) -> BackendError:
    """nmcli's error text for ``connection up`` as a typed error."""
    text = " ".join(output.split())
    lower = text.lower()
    if "secrets were required" in lower or "no secrets" in lower or "login failed" in lower \
            or "authentication" in lower:
        return AuthFailed(f"NetworkManager could not activate {name}: {text}",
                          hint="Connect it once from the desktop's network menu so the password is saved.")
    if "not authorized" in lower or "insufficient privileges" in lower or "permission" in lower:
        return BackendError(f"NetworkManager refused to activate {name}: {text}", fatal=True,
                            hint="Your session may not control this connection (polkit).")
    if "unknown connection" in lower or "no such connection" in lower:
        return BackendError(f"NetworkManager has no connection {name}", fatal=True,
                            hint="It was deleted or renamed: pick it again in Settings.")
    return BackendError(f"NetworkManager could not activate {name}: {text or 'no output'}")


def parse_added_uuid(output: str) -> str | None:
    """``Connection 'x' (UUID) successfully added.``"""
    match = _UUID.search(output)
    return match.group(1) if match else None


class NmCli:
    """The same operations as NmDbus, through nmcli. Active connections are identified by UUID."""

    def __init__(self, runner: Runner, program: str = "nmcli", timeout: float = 10.0) -> None:
        self.runner = runner
        self.program = program
        self.timeout = timeout

    def _run(self, args: list[str], timeout: float | None = None) -> str:
        result = self.runner.run([self.program, *args], timeout=timeout or self.timeout)
        if not result.ok:
            raise BackendError(f"nmcli {' '.join(args[:3])} failed: {result.output().strip() or result.returncode}")
        return result.stdout

    def connections(self) -> list[NmConnection]:
        return parse_connections(self._run(["-t", "-f", "NAME,UUID,TYPE,DEVICE", "connection", "show"]))

    def active(self) -> list[NmActive]:
        active = parse_active(self._run(["-t", "-f", "NAME,UUID,TYPE,DEVICE,STATE", "connection", "show",
                                         "--active"]))
        result = []
        for item in active:
            if item.vpn:
                try:
                    _, vpn_state = parse_vpn_state(self._run(["-t", "-f", "GENERAL.STATE,VPN.VPN-STATE",
                                                              "connection", "show", "uuid", item.uuid]))
                except BackendError:
                    vpn_state = None
                item = NmActive(**{**item.__dict__, "vpn_state": vpn_state})
            result.append(item)
        return result

    def activate(self, uuid: str, timeout: float, *, name: str = "") -> NmActive:
        wait = max(1, int(timeout) - 1)
        result = self.runner.run([self.program, "--wait", str(wait), "connection", "up", "uuid", uuid],
                                 timeout=timeout)
        if not result.ok:
            raise activation_failure(name or uuid, result.output())
        for item in self.active():
            if item.uuid == uuid:
                return item
        raise BackendError(f"NetworkManager reported {name or uuid} activated, but it is not active")

    def deactivate(self, uuid: str, timeout: float) -> None:
        wait = max(1, int(timeout) - 1)
        result = self.runner.run([self.program, "--wait", str(wait), "connection", "down", "uuid", uuid],
                                 timeout=timeout)
        lower = result.output().lower()
        if result.ok or "not an active connection" in lower or "no active connection" in lower:
            return
        raise BackendError(f"nmcli could not deactivate {uuid}: {result.output().strip()}")

    def import_file(self, kind: str, path: str) -> str:
        """``nmcli connection import type KIND file PATH`` → the new connection's UUID."""
        output = self._run(["connection", "import", "type", kind, "file", path], timeout=30.0)
        uuid = parse_added_uuid(output)
        if uuid is None:
            raise BackendError(f"nmcli imported {path} but printed no UUID: {output.strip()}")
        return uuid

    def delete(self, uuid: str) -> None:
        self._run(["connection", "delete", "uuid", uuid])

    def active_path(self, output: str) -> str | None:
        match = _ACTIVE_PATH.search(output)
        return match.group(1) if match else None
