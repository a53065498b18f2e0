"""A Runtime wired to the simulated world, for component tests and the engine benchmark."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from tests.support.fakes import FakeBackend, FakeProber, FakeSensors, World
from tests.support.sim import SimLoop
from vpnswitch.backends.base import BackendContext
from vpnswitch.core.config import Config, ProbeTarget, Profile, Timings
from vpnswitch.core.history import HistoryLog
from vpnswitch.service.runtime import MemoryStore, Runtime
from vpnswitch.service.snapshot import Snapshot

TARGETS = (
    ProbeTarget("https://canary-a.test/", "canary", (204,)),
    ProbeTarget("https://canary-b.test/", "canary", (204,)),
    ProbeTarget("https://site.test/", "must-reach", (204,)),
)


def make_config(names: tuple[str, ...] = ("wg", "ovpn-udp", "ovpn-tcp"), standby: tuple[str, ...] = (),
                **timings: Any) -> Config:
    """Fake profiles by name; those in ``standby`` are hot standbys on an obfuscated transport, like Tor."""
    transports = {"wg": "udp", "ovpn-udp": "udp", "ovpn-tcp": "tcp"}
    profiles = tuple(Profile(n, "fake", {"transport": "obfuscated", "standby": True} if n in standby
                             else {"transport": transports.get(n, "udp")}) for n in names)
    return Config(profiles=profiles, targets=TARGETS, timings=replace(Timings(), **timings))


class Sim:
    def __init__(self, tmp: Path, config: Config | None = None, seed: int = 7) -> None:
        self.loop = SimLoop()
        self.world = World(self.loop, seed)
        self.config = config or make_config()
        self.history = HistoryLog(tmp / "history.jsonl", wall=self.loop.clock.wall)
        self.prober = FakeProber(self.world)
        self.snapshots: list[Snapshot] = []
        self.notifications: list[tuple[str, str, str]] = []
        self.runtime = Runtime(
            self.config,
            loop=self.loop,
            backend_factory=lambda p: FakeBackend(p, BackendContext(), self.world),
            prober=self.prober,
            sensors=FakeSensors(self.world),
            clock=self.loop.clock,
            history=self.history,
            memory=MemoryStore(tmp / "memory.json"),
            seed=seed,
        )
        self.runtime.subscribe(self.snapshots.append)
        self.runtime.on_notify(lambda *n: self.notifications.append(n))

    # conveniences -------------------------------------------------------------------------------------
    def start(self) -> None:
        self.runtime.start()

    def run(self, seconds: float) -> None:
        self.loop.run_for(seconds)

    @property
    def snap(self) -> Snapshot:
        return self.runtime.snapshot()

    def until(self, predicate: Any, limit: float = 120.0) -> float:
        return self.loop.run_until_true(predicate, limit)

    def connected_to(self, name: str) -> bool:
        return self.snap.state == "connected" and self.snap.active == name

    def switches(self) -> list[dict[str, Any]]:
        return [e for e in self.history.entries(kinds={"switch"}) if e.get("kind") == "switch" and e["from"]]

    def states_seen(self) -> list[str]:
        return [s.state for s in self.snapshots]
