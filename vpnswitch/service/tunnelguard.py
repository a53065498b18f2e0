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
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from vpnswitch.backends.base import Backend
from vpnswitch.core.engine import EngineState
from vpnswitch.core.errors import VpnSwitchError
from vpnswitch.core.model import Connected, Connecting, Disconnecting, Exhausted, Offline, Verifying
from vpnswitch.system import localnet, netinfo
from vpnswitch.system.leakguard import GuardSpec, LeakGuard

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


class TunnelGuard:
    def __init__(self, guard: LeakGuard, backend: Callable[[str], Backend | None],
                 tunnels: Callable[[], Iterable[Backend]]) -> None:
        self._guard = guard
        self._backend = backend
        self._tunnels = tunnels
        self._key: tuple[str | None, str | None] = (None, None)
        self._requested: GuardSpec | None = None
        self._explained: set[str] = set()

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
        spec = self.spec_for(key[0])
        if spec == self._requested:
            return None
        self._requested = spec
        ticket = self._guard.ticket()
        if spec is None:
            return lambda: self._run(lambda: self._guard.release(ticket), "release")
        return lambda: self._run(lambda: self._guard.engage(spec, ticket), "engage")

    def release_now(self) -> None:
        """At start (a crashed run may have left it up) and at exit: never leave the machine cut off."""
        self._key, self._requested = (None, None), None
        self._run(self._guard.release, "release")

    @staticmethod
    def _run(work: Callable[[], object], what: str) -> None:
        try:
            work()
        except VpnSwitchError as exc:  # switching goes on without it: a leak beats being stuck
            log.warning("could not %s the leak guard: %s", what, exc.message)
