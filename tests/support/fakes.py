"""Fakes for component tests: a scriptable world of VPN profiles, probes and the underlay.

``World`` is the single source of truth a test manipulates (block a profile, kill its process, pull the
network cable); the fake backend, prober and sensors all read it, so they agree with each other as the
real ones would.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.support.sim import SimLoop
from vpnswitch.backends.base import Backend, BackendContext, BackendStatus
from vpnswitch.core.config import ProbeTarget, Profile
from vpnswitch.core.dnshealth import DnsFinding
from vpnswitch.core.errors import AppMissing, AuthFailed, BackendError
from vpnswitch.core.model import RoundResult, Route, TargetResult, Transport
from vpnswitch.system.netinfo import Counters, Underlay


@dataclass
class FakeProfileState:
    connect_seconds: float = 1.0
    connect_error: str = ""  # non-empty: connect fails with this
    auth_fails: bool = False
    blocked: bool = False  # tunnel up but carries nothing
    blocked_hosts: set[str] = field(default_factory=set)  # only these targets fail
    loss: float = 0.0  # probability that one probe fails on its own
    process_dead: bool = False
    up: bool = False
    warm: bool = False  # a hot standby running in the background
    stale: bool = False  # its connections died (e.g. with the network) and carry nothing until refreshed
    refreshes: int = 0
    standby_error: str = ""  # non-empty: standby() fails fatally with this (e.g. the app is missing)
    standby_calls: int = 0
    connects: int = 0
    disconnects: int = 0
    rx: int = 0
    tx: int = 0


class World:
    def __init__(self, loop: SimLoop, seed: int = 7) -> None:
        self.loop = loop
        self.profiles: dict[str, FakeProfileState] = {}
        self.underlay_up = True
        self.network = "home"
        self.rng = random.Random(seed)
        self.traffic_bps = 0  # user traffic on the active tunnel, bytes per second each way
        self.up_at_once: list[int] = []
        # What the network's DNS does (a finding every round through a working tunnel carries), and the
        # resolvers asked outside the tunnel.
        self.dns: DnsFinding | None = None
        self.dns_leak: tuple[str, ...] = ()

    def profile(self, name: str) -> FakeProfileState:
        return self.profiles.setdefault(name, FakeProfileState())

    def tunnels_up(self) -> int:
        return sum(1 for p in self.profiles.values() if p.up)


class FakeBackend(Backend):
    name = "fake"
    display_name = "Fake VPN"

    def __init__(self, profile: Profile, context: BackendContext, world: World) -> None:
        super().__init__(profile, context)
        self.world = world
        self.state = world.profile(profile.name)

    @classmethod
    def validate_params(cls, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        return []

    def connect(self, timeout: float) -> None:
        self.world.loop.spend(0.2 if self.state.warm else self.state.connect_seconds)
        self.state.connects += 1
        if not self.world.underlay_up:
            raise BackendError("network unreachable")
        if self.state.auth_fails:
            raise AuthFailed("the server refused the password")
        if self.state.connect_error:
            raise BackendError(self.state.connect_error)
        self.state.up = True
        self.state.process_dead = False
        self.world.up_at_once.append(self.world.tunnels_up())

    def disconnect(self, timeout: float) -> None:
        self.world.loop.spend(0.2)
        self.state.disconnects += 1
        self.state.up = False

    def status(self, timeout: float) -> BackendStatus:
        return BackendStatus("connected" if self.state.up else "disconnected")

    def route(self) -> Route:
        return Route("tunnel", interface=f"if-{self.profile.name}")

    def transport(self) -> Transport:
        value = self.profile.params.get("transport", "udp")
        return value  # type: ignore[no-any-return]

    def liveness(self) -> str | None:
        return "its process exited" if self.state.process_dead else None

    def wants_standby(self) -> bool:
        return bool(self.profile.params.get("standby"))

    def standby(self, timeout: float, refresh: bool = False) -> None:
        if not self.state.warm:
            self.world.loop.spend(self.state.connect_seconds)
        self.state.standby_calls += 1
        if self.state.standby_error:
            raise AppMissing(self.state.standby_error)
        if not self.world.underlay_up:
            raise BackendError("network unreachable")
        if refresh:
            self.state.refreshes += 1
            self.state.stale = False
        self.state.warm = True


class FakeProber:
    """Answers probes from the World: blocked profiles time out, flaky ones lose probes at random."""

    def __init__(self, world: World, timeout_cost: bool = True) -> None:
        self.world = world
        self.rounds = 0

    def run_round(self, route: Route, targets: tuple[ProbeTarget, ...], timeout: float, started: float
                  ) -> RoundResult:
        self.rounds += 1
        name = (route.interface or "").removeprefix("if-")
        state = self.world.profile(name)
        results = []
        slowest = 0.05
        for target in targets:
            host = target.url.split("/")[2]
            reachable = ((state.up or state.warm) and self.world.underlay_up and not state.blocked
                         and not state.process_dead and not state.stale)
            if reachable and host in state.blocked_hosts:
                reachable = False
            if reachable and state.loss and self.world.rng.random() < state.loss:
                reachable = False
            if reachable:
                results.append(TargetResult(target.url, target.role, True, 204, 40.0))
            else:
                slowest = timeout
                results.append(TargetResult(target.url, target.role, False, None, None, "timed out"))
        self.world.loop.spend(slowest)
        carried = any(r.ok for r in results)
        return RoundResult(tuple(results), started, dns=self.world.dns if carried else None,
                           dns_leak=self.world.dns_leak if carried else ())


class FakeSensors:
    def __init__(self, world: World) -> None:
        self.world = world
        self._last: float | None = None

    def underlay(self, tunnels: frozenset[str]) -> Underlay:
        if not self.world.underlay_up:
            return Underlay(False, None, "cable unplugged")
        return Underlay(True, self.world.network)

    def interface_up(self, name: str) -> bool | None:
        state = self.world.profiles.get(name.removeprefix("if-"))
        if state is None or not state.up:
            return None
        return True

    def counters(self, name: str) -> Counters | None:
        """User traffic flows out; it comes back only while the tunnel really carries traffic."""
        state = self.world.profiles.get(name.removeprefix("if-"))
        if state is None:
            return None
        now = self.world.loop.now()
        if self._last is not None and self.world.traffic_bps:
            sent = int(self.world.traffic_bps * (now - self._last))
            state.tx += sent
            if not state.blocked and self.world.underlay_up:
                state.rx += sent
        self._last = now
        return Counters(state.rx, state.tx)
