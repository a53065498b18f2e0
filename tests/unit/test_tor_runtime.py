"""The runtime's optional backend hooks, in simulated time: hot standby and probe-now hints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.fakes import FakeBackend, FakeProber, FakeSensors, World
from tests.support.sim import SimLoop
from tests.support.simruntime import TARGETS
from vpnswitch.backends.base import BackendContext
from vpnswitch.core.config import Behaviour, Config, Profile, Timings
from vpnswitch.core.history import HistoryLog
from vpnswitch.core.model import Route
from vpnswitch.service.hotstandby import STANDBY_REFRESH
from vpnswitch.service.runtime import MemoryStore, Runtime


class StandbyBackend(FakeBackend):
    """A fake profile that wants to be kept warm, and can raise hints."""

    standby_calls: list[str] = []

    def wants_standby(self) -> bool:
        return bool(self.profile.params.get("standby"))

    def standby(self, timeout: float, refresh: bool = False) -> None:
        self.world.loop.spend(2.0)
        self.state.warm = True  # running and carrying requests: the checks after this one come at the slow pace
        StandbyBackend.standby_calls.append(self.profile.name)

    def suspicion(self) -> str | None:
        hint = self.state.__dict__.pop("hint", None)
        return hint if isinstance(hint, str) else None

    def route(self) -> Route:
        return Route("tunnel", interface=f"if-{self.profile.name}")


class AnonymisingBackend(StandbyBackend):
    anonymising = True


def make(tmp: Path, profiles: tuple[Profile, ...], behaviour: Behaviour | None = None, **timings: Any
         ) -> tuple[Runtime, SimLoop, World, FakeProber]:
    StandbyBackend.standby_calls = []
    loop = SimLoop()
    world = World(loop, 7)
    prober = FakeProber(world)
    config = Config(profiles=profiles, targets=TARGETS, timings=Timings(**timings),
                    behaviour=behaviour or Behaviour())

    def create(p: Profile) -> StandbyBackend:
        kind = AnonymisingBackend if p.params.get("anonymising") else StandbyBackend
        return kind(p, BackendContext(), world)

    runtime = Runtime(config, loop=loop, backend_factory=create,
                      prober=prober, sensors=FakeSensors(world), clock=loop.clock,
                      history=HistoryLog(tmp / "h.jsonl", wall=loop.clock.wall), memory=MemoryStore(None))
    return runtime, loop, world, prober


PROFILES = (Profile("wg", "fake", {"transport": "udp"}),
            Profile("tor", "fake", {"transport": "tcp", "standby": True}),
            Profile("tor-off", "fake", {"transport": "tcp", "standby": True}, enabled=False))


def test_standby_is_warmed_at_start_on_config_change_and_periodically(tmp_path: Path) -> None:
    runtime, loop, _, _ = make(tmp_path, PROFILES)
    runtime.start()
    loop.run_for(5)
    assert runtime.snapshot().active == "wg"
    assert StandbyBackend.standby_calls == ["tor"]  # enabled profiles that want it, not the active one
    runtime.apply_config(runtime.config)
    loop.run_for(5)
    assert StandbyBackend.standby_calls == ["tor", "tor"]
    loop.run_for(STANDBY_REFRESH[1] + 1)
    assert StandbyBackend.standby_calls == ["tor", "tor", "tor"]


def test_an_active_standby_profile_is_not_warmed(tmp_path: Path) -> None:
    profiles = (Profile("tor", "fake", {"transport": "tcp", "standby": True}), Profile("wg", "fake", {}))
    runtime, loop, _, _ = make(tmp_path, profiles)
    runtime.start()
    loop.run_for(STANDBY_REFRESH[1] + 5)
    assert runtime.snapshot().active == "tor"
    assert StandbyBackend.standby_calls == []


def test_a_hint_makes_the_runtime_probe_at_once(tmp_path: Path) -> None:
    runtime, loop, world, prober = make(tmp_path, PROFILES[:1], probe_interval_min=60, probe_interval_max=60)
    runtime.start()
    loop.run_for(5)
    assert runtime.snapshot().state == "connected"
    rounds = prober.rounds
    loop.run_for(10)
    assert prober.rounds == rounds  # nothing scheduled for a minute
    world.profile("wg").__dict__["hint"] = "tor lost its connection to every relay (TLS_ERROR)"
    loop.run_for(1.5)
    assert prober.rounds >= rounds + 1
    assert runtime.snapshot().state == "connected"  # a hint alone never fails a profile: the probes decide


@pytest.mark.parametrize(("preference", "expected"), [("privacy", "hidden"), ("speed", "wg")])
def test_the_privacy_preference_ranks_an_anonymising_backend_first_whatever_its_name(
    tmp_path: Path, preference: Any, expected: str
) -> None:
    profiles = (Profile("wg", "fake", {"transport": "udp"}),
                Profile("hidden", "fake", {"transport": "tcp", "anonymising": True}))
    runtime, loop, _, _ = make(tmp_path, profiles, Behaviour(preference=preference))
    runtime.start()
    loop.run_for(5)
    assert runtime.snapshot().active == expected


@pytest.mark.parametrize(("preference", "expected"), [("privacy", "wg"), ("speed", "office")])
def test_a_way_out_the_user_declares_reaches_the_engine(tmp_path: Path, preference: Any, expected: str) -> None:
    """Only the user knows a VPN is registered with the authority; privacy then ranks it last."""
    profiles = (Profile("office", "fake", {"transport": "udp"}, way_out="registered"),
                Profile("wg", "fake", {"transport": "udp"}))
    runtime, loop, _, _ = make(tmp_path, profiles, Behaviour(preference=preference))
    runtime.start()
    loop.run_for(5)
    assert runtime.snapshot().active == expected
