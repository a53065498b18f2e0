"""The fake vendor executables on PATH, plus a prober and sensors that agree with their state files, so the
real vendor backends can run inside the real Runtime (ThreadedLoop, real subprocesses, short timings).

The sensors keep every vendor interface "up" on purpose: a drop must then be noticed through the
vendor's own status or event stream (or the probes), which is what these tests are about.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import vendorfake as vf
from vpnswitch.backends import registry
from vpnswitch.backends.base import Backend, BackendContext
from vpnswitch.core.clock import SystemClock
from vpnswitch.core.config import Config, ProbeTarget, Profile, Timings
from vpnswitch.core.history import HistoryLog
from vpnswitch.core.model import RoundResult, Route, TargetResult
from vpnswitch.service.eventloop import ThreadedLoop
from vpnswitch.service.runtime import MemoryStore, Runtime
from vpnswitch.system.netinfo import Counters, Underlay
from vpnswitch.system.runner import Runner

BIN = Path(__file__).resolve().parent / "bin"

TARGETS = (
    ProbeTarget("https://canary-a.test/", "canary", (204,)),
    ProbeTarget("https://canary-b.test/", "canary", (204,)),
)
FAST = replace(Timings(), probe_interval_min=2.0, probe_interval_max=2.5, probe_timeout=0.5, confirm_delay=0.1,
               liveness_interval=0.1, underlay_interval=0.5, connect_timeout=15.0, disconnect_timeout=8.0,
               verify_timeout=5.0)


class FakeVendors:
    """Puts tests/fakes/bin first on PATH and keeps the fakes' state in a test's own directory."""

    def __init__(self, tmp: Path, monkeypatch: pytest.MonkeyPatch, connect_seconds: float = 0.3) -> None:
        self.dir = tmp / "fake-vendors"
        self.dir.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv("FAKE_VPN_STATE_DIR", str(self.dir))
        monkeypatch.setenv("PATH", f"{BIN}:{__import__('os').environ.get('PATH', '')}")
        self.connect_seconds = connect_seconds
        self.work = tmp / "work"
        self.work.mkdir(exist_ok=True)

    def set(self, vendor: str, **changes: Any) -> dict[str, Any]:
        changes.setdefault("connect_seconds", self.connect_seconds)
        return vf.update(vendor, self.dir, **changes)

    def state(self, vendor: str) -> dict[str, Any]:
        return vf.read(vendor, self.dir)

    def calls(self, vendor: str) -> list[list[str]]:
        return vf.calls(vendor, self.dir)

    def backend(self, profile: Profile) -> Backend:
        assert registry.backend_class(profile.backend).validate_params(profile.params) == []
        return registry.create(profile, BackendContext(runner=Runner(), work_dir=self.work))

    def wait_state(self, vendor: str, want: str, limit: float = 10.0) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.state(vendor)["state"] == want:
                return
            time.sleep(0.05)
        raise AssertionError(f"{vendor} never reached {want}: {self.state(vendor)}")


class StateProber:
    """A probe round fails only while the fake behind the route is marked blocked (``extra.blocked``), as a
    censor would make it: a vendor's own drop report must then be what the runtime reacts to."""

    def __init__(self, fakes: FakeVendors, routes: dict[str, str]) -> None:
        self.fakes = fakes
        self.routes = routes  # interface or proxy scheme → state file name

    def run_round(self, route: Route, targets: tuple[ProbeTarget, ...], timeout: float, started: float
                  ) -> RoundResult:
        key = route.interface or ("proxy" if route.proxy else "")
        vendor = self.routes.get(key)
        data = self.fakes.state(vendor) if vendor else {}
        ok = bool(data) and not data["extra"].get("blocked")
        results = tuple(TargetResult(t.url, t.role, ok, 204 if ok else None, 30.0 if ok else None,
                                     None if ok else "timed out") for t in targets)
        if not ok:
            time.sleep(min(timeout, 0.2))
        return RoundResult(results, started)


class UpSensors:
    def underlay(self, tunnels: frozenset[str]) -> Underlay:
        return Underlay(True, "lab")

    def interface_up(self, name: str) -> bool | None:
        return True

    def counters(self, name: str) -> Counters | None:
        return None


class RuntimeRig:
    """A started Runtime over the given vendor profiles; stop() takes everything down."""

    def __init__(self, fakes: FakeVendors, profiles: tuple[Profile, ...], routes: dict[str, str],
                 tmp: Path) -> None:
        self.fakes = fakes
        self.loop = ThreadedLoop(SystemClock())
        self.history = HistoryLog(tmp / "history.jsonl")
        self.config = Config(profiles=profiles, targets=TARGETS, timings=FAST)
        self.runtime = Runtime(self.config, loop=self.loop, backend_factory=fakes.backend,
                               prober=StateProber(fakes, routes), sensors=UpSensors(), clock=SystemClock(),
                               history=self.history, memory=MemoryStore(None))

    def start(self) -> None:
        self.loop.start()
        self.runtime.start()

    def wait(self, predicate: Callable[[], bool], limit: float, what: str) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; snapshot: {self.runtime.snapshot()}")

    def connected_to(self, name: str) -> bool:
        snap = self.runtime.snapshot()
        return snap.state == "connected" and snap.active == name

    def switches(self) -> list[dict[str, Any]]:
        return [e for e in self.history.entries(kinds={"switch"}) if e.get("from")]

    def stop(self) -> None:
        self.runtime.stop(15.0)
        self.loop.stop()
