"""Things outside vpnswitch that will stop the next profile from working, and what to change.

Vendor kill switches and lockdown modes block every tunnel but their own (Mullvad lockdown, NordVPN's
kill switch, Windscribe's firewall, Proton's NetworkManager kill-switch connections…), and a second full
tunnel brought up by another app fights over the routes. Both are found here without changing anything:
the fix is *said* (and, where a command exists, shown) — never applied without the user.
Used by ``vpnswitch check``, ``vpnswitch detect`` and the settings window; Qt-free and safe off any thread.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from vpnswitch.backends.nm.model import NmConnection
from vpnswitch.backends.vendors.spec import VendorSpec, clean_output
from vpnswitch.core.errors import BackendError
from vpnswitch.system.oslayout import Layout, system_layout
from vpnswitch.system.runner import Runner

log = logging.getLogger(__name__)

PROBE_TIMEOUT = 5.0
AUTO: Any = "auto"


@dataclass(frozen=True)
class Conflict:
    code: str  # stable, e.g. "mullvad-killswitch"
    app: str
    problem: str
    fix: str
    fix_command: tuple[str, ...] | None = None
    # True: it blocks other profiles' traffic. False: a warning (e.g. another tunnel is up).
    blocking: bool = True

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["fix_command"] = list(self.fix_command) if self.fix_command else None
        return data

    def describe(self) -> str:
        return f"{self.app}: {self.problem}. {self.fix}"


def find_conflicts(
    *,
    vendors: Iterable[VendorSpec] | None = None,
    runner: Runner | None = None,
    layout: Layout | None = None,
    nm_client: Any = AUTO,
    active_backend: str | None = None,
    timeout: float = PROBE_TIMEOUT,
) -> list[Conflict]:
    """Conflicts on this machine. ``vendors`` defaults to every vendor CLI that is installed;
    ``active_backend`` is the backend vpnswitch itself keeps up (its tunnel is not a conflict)."""
    layout = layout or system_layout()
    runner = runner or Runner()
    if vendors is None:
        from vpnswitch.backends.vendors.platform_specs import specs

        vendors = specs(layout.platform)
    installed = []
    for spec in vendors:
        program = layout.find_program(spec.programs, spec.install_paths.get(layout.platform, ()))
        if program is not None:
            installed.append((spec, str(program)))
    conflicts: list[Conflict] = []
    if installed:
        with ThreadPoolExecutor(max_workers=min(4, len(installed)), thread_name_prefix="conflicts") as pool:
            for found in pool.map(lambda item: _vendor_conflicts(item[0], item[1], runner, timeout, active_backend),
                                  installed):
                conflicts.extend(found)
    client = _nm_client(runner) if nm_client is AUTO else nm_client
    if client is not None:
        conflicts.extend(_nm_conflicts(client, active_backend))
    return conflicts


def _vendor_conflicts(spec: VendorSpec, program: str, runner: Runner, timeout: float,
                      active_backend: str | None) -> list[Conflict]:
    found = []
    switch = spec.kill_switch
    if switch is not None:
        try:
            result = runner.run([program, *switch.argv], timeout=timeout)
            mode = switch.parse(clean_output(result.output())) if result.ok else None
        except (BackendError, OSError) as exc:  # OSError: not a program this OS can run
            log.info("cannot ask %s about its kill switch: %s", spec.display_name, exc)
            mode = None
        if mode is not None:
            always = mode == "always on"
            found.append(Conflict(
                code=f"{spec.name}-killswitch",
                app=spec.display_name,
                problem=f"{switch.problem} (it is {mode})",
                fix=switch.fix,
                fix_command=None if always or not switch.fix_argv else (program, *switch.fix_argv),
            ))
    if spec.name != active_backend and spec.status is not None and spec.parse_status is not None:
        try:
            result = runner.run([program, *spec.status({})], timeout=timeout)
            state = spec.parse_status(clean_output(result.output()), {}) if result.ok else None
        except (BackendError, OSError):
            state = None
        if state is not None and state.state == "connected":
            found.append(Conflict(
                code=f"{spec.name}-connected",
                app=spec.display_name,
                problem="it is connected outside vpnswitch; two full tunnels at once fight over the routes",
                fix=f"Disconnect {spec.display_name}, or add it as a profile so vpnswitch manages it.",
                fix_command=(program, *spec.disconnect({})) if not spec.required else None,
                blocking=False,
            ))
        elif state is not None and state.blocking and (state.state == "error" or not found):
            found.append(Conflict(
                code=f"{spec.name}-blocking",
                app=spec.display_name,
                problem=f"it is blocking all traffic right now ({state.detail})",
                fix=switch.fix if switch else f"Open {spec.display_name} and disconnect it fully.",
                fix_command=(program, *switch.fix_argv) if switch and switch.fix_argv else None,
            ))
    return found


def _nm_client(runner: Runner) -> Any:
    try:
        from vpnswitch.backends.nm.backend import make_client

        return make_client(runner)
    except (BackendError, ImportError):
        return None


def _nm_conflicts(client: Any, active_backend: str | None) -> list[Conflict]:
    try:
        connections: list[NmConnection] = client.connections()
        active = client.active()
    except BackendError as exc:
        log.info("cannot read NetworkManager's connections: %s", exc.message)
        return []
    found = []
    killswitch = [c for c in connections if c.is_proton_killswitch]
    if killswitch:
        names = ", ".join(c.id for c in killswitch)
        found.append(Conflict(
            code="proton-killswitch",
            app="Proton VPN",
            problem=f"its kill-switch connections ({names}) route all traffic into a dead end whenever Proton VPN "
                    "is disconnected",
            fix="Turn off the kill switch in Proton VPN's settings, or delete these connections if Proton VPN "
                "left them behind.",
            fix_command=("nmcli", "connection", "delete", *[c.id for c in killswitch]),
        ))
    if active_backend != "networkmanager":
        tunnels = [a for a in active if a.type in ("vpn", "wireguard") and a.state in (1, 2)]
        for tunnel in tunnels:
            found.append(Conflict(
                code="networkmanager-connected",
                app="NetworkManager",
                problem=f"the VPN connection \"{tunnel.id}\" is up outside vpnswitch; two full tunnels at once "
                        "fight over the routes",
                fix=f"Disconnect \"{tunnel.id}\" in the network menu, or add it as a profile.",
                fix_command=("nmcli", "connection", "down", "uuid", tunnel.uuid),
                blocking=False,
            ))
    return found
