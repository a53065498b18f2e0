"""Keeps the leak guard in step with the engine: on while the machine is on a tunnel and through every switch.

The guard follows one profile, the *guarded* one: the active tunnel while connected (also while offline
with that tunnel still up), and the profile being switched to during a switch. After every engine step the
runtime asks ``work(...)`` and runs what it returns on a worker; before a connect or disconnect it runs
that work first on the same worker, so the guard is in force before an old tunnel's routes disappear.
In ``exhausted`` the guard stays on the tunnel the engine holds (up, though it carries nothing), so
traffic fails closed; it is off when no tunnel is held (its process died), before the first tunnel is up,
and when stopped.

A profile is guarded only when it is a tunnel whose servers are known by address: a proxy (Tor) or a
server given by host name needs traffic the guard cannot tell apart (its own connections, a DNS lookup),
and a switch without a guard beats no switch.

Two ways to apply it: as root the engine applies the rule set itself (``LeakGuard``); the desktop app,
running as its user, asks the privileged service (``ServiceGuard``), naming only stored tunnel ids — the
service builds the rule set from its own store and never from what the app says.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from vpnswitch.backends.base import Backend
from vpnswitch.core.engine import EngineState
from vpnswitch.core.errors import VpnSwitchError
from vpnswitch.core.model import Connected, Connecting, Disconnecting, Exhausted, Offline, Verifying
from vpnswitch.privileged.guard import GuardSpec, LeakGuard
from vpnswitch.system import localnet, netinfo

log = logging.getLogger(__name__)

Work = Callable[[], None]


def guarded_profile(state: EngineState) -> str | None:
    """The profile whose tunnel the guard should leave open now, or None for no guard."""
    phase = state.phase
    if state.state_name == "switching":
        if isinstance(phase, Disconnecting):
            return phase.then
        if isinstance(phase, (Connecting, Verifying)):
            return phase.profile
        return None
    if isinstance(phase, Connected):
        return phase.profile
    if isinstance(phase, Offline) and phase.tunnel_up:
        return phase.profile
    if isinstance(phase, Exhausted):
        return phase.holding
    return None


class ServiceCaller(Protocol):
    """The privileged service's client (``vpnswitch.privileged.client.ServiceClient``)."""

    def call(self, verb: str, *, timeout: float | None = None, **args: Any) -> Any: ...


@dataclass(frozen=True)
class ServiceRequest:
    """What the service's ``guard`` verb takes: stored tunnel ids, nothing else."""

    active: str
    standby: tuple[str, ...]


SERVICE_TIMEOUT = 10.0


class ServiceGuard:
    """The guard through the privileged service, for the desktop app; same calls as ``LeakGuard``."""

    def __init__(self, client: ServiceCaller, stored_id: Callable[[Backend], str | None]) -> None:
        self.client = client
        self.stored_id = stored_id  # the store's id of a profile's tunnel; None for a tunnel not in the store
        self._seq = 0
        self._applied = 0

    def ticket(self) -> int:
        self._seq += 1
        return self._seq

    def engage(self, request: ServiceRequest, ticket: int | None = None) -> bool:
        return self._call(ticket, "guard", active=request.active, standby=list(request.standby))

    def release(self, ticket: int | None = None) -> bool:
        return self._call(ticket, "guard-off")

    def recover(self) -> bool:
        """Lift a guard an earlier run left; True when there was one (the service says so)."""
        result = self.client.call("guard-off", timeout=SERVICE_TIMEOUT)
        return bool(result.get("removed")) if isinstance(result, dict) else False

    def _call(self, ticket: int | None, verb: str, **args: Any) -> bool:
        ticket = self.ticket() if ticket is None else ticket
        if ticket < self._applied:
            return False  # overtaken: a newer request already went through (calls run on one worker)
        self.client.call(verb, timeout=SERVICE_TIMEOUT, **args)
        self._applied = ticket
        return True


class TunnelGuard:
    def __init__(self, guard: LeakGuard | ServiceGuard, backend: Callable[[str], Backend | None],
                 tunnels: Callable[[], Iterable[Backend]]) -> None:
        self._guard = guard
        self._backend = backend
        self._tunnels = tunnels
        self._key: tuple[str | None, str | None] = (None, None)
        self._requested: GuardSpec | ServiceRequest | None = None
        self._explained: set[str] = set()
        self._started = False
        self.found_at_start = False  # a crashed run had left the machine blocked: the app says so

    def request_for(self, target: str | None) -> GuardSpec | ServiceRequest | None:
        """What to ask of the guard while ``target`` is guarded; None when it cannot be guarded."""
        if isinstance(self._guard, ServiceGuard):
            return self.service_request_for(target, self._guard.stored_id)
        return self.spec_for(target)

    def service_request_for(self, target: str | None,
                            stored_id: Callable[[Backend], str | None]) -> ServiceRequest | None:
        """The service path: the target's stored tunnel and every other stored tunnel as standby."""
        backend = self._backend(target) if target else None
        if backend is None or backend.route_kind != "tunnel":
            return None
        active = stored_id(backend)
        if active is None:
            if target not in self._explained:
                self._explained.add(str(target))
                log.info("%s is not leak-guarded: its tunnel is not one the service keeps", target)
            return None
        standby = [sid for other in self._tunnels() if (sid := stored_id(other)) is not None and sid != active]
        return ServiceRequest(active, tuple(dict.fromkeys(standby)))

    @property
    def on(self) -> bool:
        """Whether the guard was last asked to be up (the work may still be running)."""
        return self._requested is not None

    def spec_for(self, target: str | None) -> GuardSpec | None:
        """What may pass while ``target`` is guarded; None when it cannot be guarded."""
        backend = self._backend(target) if target else None
        if backend is None or backend.route_kind != "tunnel":
            return None
        own = backend.endpoints()
        if not own or not all(netinfo.is_ip(host) for host in own):
            if target not in self._explained:
                self._explained.add(str(target))
                log.info("%s is not leak-guarded: its servers are %s", target,
                         "given by host name" if own else "not known")
            return None
        interfaces: list[str] = []
        endpoints: list[str] = list(own)
        for other in self._tunnels():
            try:
                route = other.route()
                hosts = other.endpoints()
            except Exception:  # noqa: BLE001 - one broken profile must not unguard the others
                continue
            if route.kind == "tunnel" and route.interface:
                interfaces.append(route.interface)
            endpoints += [host for host in hosts if netinfo.is_ip(host)]
        local: list[str] = []
        underlay = localnet.default_gateway(frozenset(interfaces))
        if underlay is not None:
            iface, gateway = underlay
            local = [str(net) for net in localnet.subnets(iface)] + [gateway]
        return GuardSpec(tuple(dict.fromkeys(interfaces)), tuple(dict.fromkeys(endpoints)),
                         tuple(dict.fromkeys(local)))

    def work(self, state: EngineState, network: str | None) -> Work | None:
        """What to do so the guard matches ``state`` (None: it already does). Loop thread; cheap when unchanged."""
        key = (guarded_profile(state), network)
        if key == self._key:
            return None
        self._key = key
        request = self.request_for(key[0])
        if request == self._requested:
            return None
        self._requested = request
        ticket = self._guard.ticket()
        if request is None:
            return lambda: self._run(lambda: self._guard.release(ticket), "release")
        guard = self._guard
        if isinstance(guard, ServiceGuard):
            ids = request if isinstance(request, ServiceRequest) else None
            return lambda: self._run(lambda: ids is not None and guard.engage(ids, ticket), "engage")
        spec = request if isinstance(request, GuardSpec) else None
        return lambda: self._run(lambda: spec is not None and guard.engage(spec, ticket), "engage")

    def release_now(self) -> None:
        """At start (a crashed run may have left it up) and at exit: never leave the machine cut off.

        The first call (at start) notes in ``found_at_start`` whether a guard was left behind, so the app
        can say the user was "blocked to protect you" rather than leave a silent outage unexplained.
        """
        self._key, self._requested = (None, None), None
        if self._started:
            self._run(self._guard.release, "release")
            return
        self._started = True

        def recover() -> None:
            self.found_at_start = self._guard.recover()

        self._run(recover, "clean up")

    @staticmethod
    def _run(work: Callable[[], object], what: str) -> None:
        try:
            work()
        except (VpnSwitchError, ValueError) as exc:  # switching goes on without it: a leak beats being stuck
            log.warning("could not %s the leak guard: %s", what, getattr(exc, "message", exc))
