"""The runtime: owns the engine state, turns its actions into work, feeds results back as events.

All state lives on the loop thread. Public methods are safe from any thread: they post to the loop.
Subscribers receive immutable snapshots (on the loop thread — a GUI must hop to its own thread).
The half-second watching is in ``watchloop``, hot standbys in ``hotstandby``, building a snapshot in
``snapshot``; the runtime connects them to the engine.
"""

from __future__ import annotations

import json
import logging
import statistics
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vpnswitch.backends.base import Backend
from vpnswitch.core import engine
from vpnswitch.core.clock import Clock
from vpnswitch.core.config import Config, Profile
from vpnswitch.core.engine import EngineState
from vpnswitch.core.errors import BackendError, backend_failure
from vpnswitch.core.files import atomic_write
from vpnswitch.core.history import HistoryLog
from vpnswitch.core.latency import ProbeDeadline
from vpnswitch.core.model import (
    TIMED_OUT,
    Action,
    CancelTimer,
    ConfigChanged,
    Connect,
    ConnectDone,
    Disconnect,
    DisconnectDone,
    EngineConfig,
    Event,
    Notify,
    Precheck,
    PrecheckDone,
    Probe,
    ProfileInfo,
    Record,
    Remember,
    Resumed,
    RoundDone,
    RoundResult,
    SetTimer,
    Start,
    Stop,
    TargetResult,
    TimerFired,
    UnderlayDown,
    UnderlayUp,
    UserCheck,
    UserPause,
    UserResume,
    UserSwitch,
    Watch,
)
from vpnswitch.service.eventloop import Loop
from vpnswitch.service.hotstandby import HotStandbySupervisor, Prober
from vpnswitch.service.offlinegate import LocalCheck, OfflineGate
from vpnswitch.service.snapshot import EMPTY, Snapshot, build_snapshot
from vpnswitch.service.tunnelguard import TunnelGuard
from vpnswitch.service.watchloop import Sensors, WatchLoop
from vpnswitch.system.leakguard import LeakGuard

log = logging.getLogger(__name__)


class MemoryStore:
    """Per-network memory of the last profile that worked, kept across restarts."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def load(self) -> dict[str, str]:
        if self.path is None:
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def save(self, memory: dict[str, str]) -> None:
        if self.path is None:
            return
        try:
            atomic_write(self.path, json.dumps(memory, indent=1).encode())
        except OSError as exc:
            log.warning("cannot save network memory: %s", exc.strerror)


@dataclass
class CheckReport:
    active: str | None
    verdict: str
    targets: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""


BackendFactory = Callable[[Profile], Backend]


class Runtime:
    def __init__(
        self,
        config: Config,
        *,
        loop: Loop,
        backend_factory: BackendFactory,
        prober: Prober,
        sensors: Sensors,
        clock: Clock,
        history: HistoryLog | None = None,
        memory: MemoryStore | None = None,
        seed: int = 0x5EED,
        local_network: LocalCheck | None = None,
        leak_guard: LeakGuard | None = None,
    ) -> None:
        self._loop = loop
        self._backend_factory = backend_factory
        self._prober = prober
        self._clock = clock
        self._history = history
        self._memory = memory or MemoryStore(None)
        self._config = config
        self._backends: dict[str, Backend] = {}
        self._broken: dict[str, str] = {}
        self._round_latency: dict[str, float] = {}
        self._deadlines: dict[str, ProbeDeadline] = {}  # per profile: how long its probes may take
        self._check_waiters: list[Future[CheckReport]] = []
        self._stopped = threading.Event()
        self._stopping = False
        self._inflight = 0  # connect/disconnect calls still running
        self._hot_standby = HotStandbySupervisor(
            loop=loop, clock=clock, prober=prober, seed=seed, config=lambda: self._config,
            usable_backend=self._usable_backend, current_backend=self._backends.get, deadline=self._deadline,
            active=lambda: self._state.active, engine_ready=lambda: self._state.ready_hot_standbys,
            handle=self._handle, publish=self._publish, stopping=lambda: self._stopping,
        )
        self._state: EngineState = engine.initial_state(self._engine_config(config), seed=seed)
        self._snapshot = EMPTY
        self._subscribers: list[Callable[[Snapshot], None]] = []
        self._notify_subscribers: list[Callable[[str, str, str], None]] = []
        # Nothing leaves outside the tunnel, even while it dies or is switched (root only); and a dead local
        # network is no reason to switch.
        self._guard = TunnelGuard(leak_guard, self._profile_backend, self._tunnel_backends) if leak_guard else None
        self._gate = OfflineGate(local_network, self._loop.run_task, self._handle, lambda: self._watchloop.network(),
                                 lambda: self._watchloop.watched_tunnels()) if local_network else None
        self._watchloop = WatchLoop(
            loop=loop, clock=clock, sensors=sensors, config=lambda: self._config, engine_state=lambda: self._state,
            backend=self._profile_backend, deadline=self._deadline, handle=self._handle, gate=lambda: self._gate,
            on_tick=self._hot_standby.tick, stopped=self._stopped.is_set,
        )

    # ------------------------------------------------------------------------------------- public API

    @property
    def config(self) -> Config:
        return self._config

    def snapshot(self) -> Snapshot:
        return self._snapshot

    def subscribe(self, callback: Callable[[Snapshot], None]) -> None:
        self._subscribers.append(callback)

    def on_notify(self, callback: Callable[[str, str, str], None]) -> None:
        """``callback(kind, title, message)`` for each notification the engine asks for."""
        self._notify_subscribers.append(callback)

    def start(self) -> None:
        self._loop.call_soon(self._start)

    def post(self, event: Event) -> None:
        self._loop.call_soon(lambda: self._handle(event))

    def sleep_signal(self, going_to_sleep: bool) -> None:
        """From any thread: the OS says the machine is about to sleep (True) or woke up (False)."""
        self._loop.call_soon(lambda: self._watchloop.sleep_signal(going_to_sleep))

    def switch(self, profile: str) -> None:
        if self._config.profile(profile) is None:
            raise KeyError(profile)
        self.post(UserSwitch(profile))

    def pause(self) -> None:
        self.post(UserPause())

    def resume(self) -> None:
        self.post(UserResume())

    def check(self) -> Future[CheckReport]:
        """Probe the active profile now; the future resolves with the round's results."""
        future: Future[CheckReport] = Future()

        def begin() -> None:
            active = self._state.active
            if active is None or self._state.phase.name not in ("connected", "verifying"):
                future.set_result(CheckReport(active, str(self._state.verdict),
                                              message=f"nothing to check: {self._state.state_name}"))
                return
            self._check_waiters.append(future)
            self._handle(UserCheck())

        self._loop.call_soon(begin)
        return future

    def apply_config(self, config: Config) -> None:
        """Use new settings at once, without a restart."""
        self._loop.call_soon(lambda: self._apply_config(config))

    def stop(self, timeout: float = 20.0) -> bool:
        """Disconnect the active profile and stop; True when everything finished in time."""
        done = threading.Event()

        def begin() -> None:
            self._stopping = True
            self._handle(Stop())
            self._wait_idle(done, self._clock.monotonic() + timeout)

        self._loop.call_soon(begin)
        finished = done.wait(timeout + 1.0)
        closed = threading.Event()

        def close() -> None:
            try:
                self._close_backends()
            finally:
                closed.set()

        # Backends (a standby tor, an owned openvpn) are closed before the loop goes away, not after.
        self._loop.call_soon(close)
        finished = closed.wait(10.0) and finished
        self._stopped.set()
        return finished

    # ----------------------------------------------------------------------------------------- engine

    def _engine_config(self, config: Config) -> EngineConfig:
        infos = []
        self._broken = {}
        for profile in config.profiles:
            transport: Any = "unknown"
            route_kind: Any = "tunnel"
            anonymising = False
            try:
                backend = self._backend(profile)
                transport, route_kind, anonymising = backend.transport(), backend.route_kind, backend.anonymising
            except Exception as exc:  # noqa: BLE001 - one broken profile must not stop the others
                self._broken[profile.name] = str(exc)
                log.warning("profile %s cannot be used: %s", profile.name, exc)
            infos.append(ProfileInfo(profile.name, profile.backend, transport, route_kind, profile.enabled,
                                     anonymising, declared_way_out=profile.way_out))
        b = config.behaviour
        return EngineConfig(tuple(infos), config.timings, b.auto_switch, b.failback, b.per_network_memory,
                            b.preference)

    def _backend(self, profile: Profile) -> Backend:
        backend = self._backends.get(profile.name)
        if backend is not None and backend.profile != profile:
            if profile.name == self._state_active():
                # It owns the running connection: keep it until it is taken down; new settings apply next time.
                return backend
            old = backend
            self._loop.run_task(old.close, 15.0, lambda _r: None, f"closing the old {profile.name}")  # tor: seconds
            # New settings, a new start: what was learnt about the old one no longer holds.
            self._deadlines.pop(profile.name, None)
            self._hot_standby.forget(profile.name)
            backend = None
        if backend is None:
            backend = self._backend_factory(profile)
            self._backends[profile.name] = backend
        return backend

    def _state_active(self) -> str | None:
        state = getattr(self, "_state", None)
        return state.active if state is not None else None

    def _start(self) -> None:
        if self._guard is not None:  # a crashed run may have left it up
            self._loop.run_task(self._guard.release_now, 10.0, lambda _r: None, "leak guard cleanup")
        underlay = self._watchloop.read_underlay()
        memory = tuple(self._memory.load().items())
        self._handle(Start(underlay.network if underlay.up else None, memory))
        if not underlay.up:
            self._handle(UnderlayDown(underlay.reason))
        self._watchloop.begin()
        self._hot_standby.warm()

    def _apply_config(self, config: Config) -> None:
        self._config = config
        for deadline in self._deadlines.values():
            deadline.set_bounds(config.timings.probe_timeout_min, config.timings.probe_timeout)
        self._watchloop.settings_changed(config)
        self._handle(ConfigChanged(self._engine_config(config)))
        self._hot_standby.warm()

    def _handle(self, event: Event) -> None:
        now = self._clock.monotonic()
        if isinstance(event, UnderlayUp) or (isinstance(event, Resumed) and event.gap > 0):
            self._hot_standby.network_back(now)  # its connections died with the network: check afresh, soon
        self._state, actions = engine.step(self._state, event, now)
        for action in actions:
            try:
                self._execute(action, now)
            except Exception:
                log.exception("action %s failed", type(action).__name__)
        guard_work = self._guard_work()
        if guard_work is not None:
            self._loop.run_task(guard_work, 10.0, lambda _r: None, "leak guard")
        self._publish()

    # ---------------------------------------------------------------------------------------- actions

    def _execute(self, action: Action, now: float) -> None:
        t = self._config.timings
        match action:
            case Connect():
                name, gen = action.profile, action.gen
                self._run_backend(name, "connect", t.connect_timeout,
                                  lambda r: ConnectDone(name, gen, r is None, *backend_failure(r)),
                                  before=self._guard_work())
            case Disconnect():
                name, gen = action.profile, action.gen
                self._run_backend(name, "disconnect", t.disconnect_timeout,
                                  lambda r: DisconnectDone(name, gen, r is None, backend_failure(r)[0]),
                                  before=self._guard_work())
            case Probe():
                self._probe(action.profile, action.gen, action.round_id, now)
            case Precheck():
                self._precheck(action.profile)
            case Watch():
                self._watchloop.watch(action.profile, action.gen)
            case SetTimer():
                timer, token = action.name, action.token
                self._loop.call_at(f"engine:{timer}", action.at, lambda: self._handle(TimerFired(timer, token)))
            case CancelTimer():
                self._loop.cancel(f"engine:{action.name}")
            case Notify():
                log.info("notify %s: %s — %s", action.kind, action.title, action.message)
                for callback in list(self._notify_subscribers):
                    callback(action.kind, action.title, action.message)
            case Record():
                if self._history is not None:
                    self._history.append(action.kind, action.data)
            case Remember():
                memory = self._memory.load()
                memory[action.network] = action.profile
                self._memory.save(memory)

    def _precheck(self, name: str) -> None:
        backend = self._profile_backend(name)
        if backend is None:
            return
        timeout = self._config.timings.verify_timeout
        self._loop.run_task(lambda: backend.precheck(timeout), timeout + 1,
                            lambda r: self._handle(PrecheckDone(name, r if isinstance(r, bool) else None)),
                            f"precheck of {name}")

    def _usable_backend(self, name: str) -> Backend | None:
        """The profile's backend, unless the profile is missing or cannot be built."""
        return None if name in self._broken else self._profile_backend(name)

    def _profile_backend(self, name: str) -> Backend | None:
        profile = self._config.profile(name)
        if profile is None:
            return None
        try:
            return self._backend(profile)
        except Exception:  # noqa: BLE001
            return None

    def _guard_work(self) -> Callable[[], None] | None:
        """Leak-guard work that brings the guard in line with the engine's state (None: it already is)."""
        if self._guard is None:
            return None
        return self._guard.work(self._state, self._watchloop.network())

    def _tunnel_backends(self) -> list[Backend]:
        found = []
        for profile in self._config.enabled_profiles():
            backend = self._profile_backend(profile.name)
            if backend is not None and backend.route_kind == "tunnel":
                found.append(backend)
        return found

    def _run_backend(self, name: str, verb: str, timeout: float, event: Callable[[BaseException | None], Event],
                     before: Callable[[], None] | None = None) -> None:
        backend = self._profile_backend(name)
        if backend is None:
            reason = self._broken.get(name, f"profile {name} is not configured")
            error = BackendError(reason, fatal=True)
            self._loop.call_soon(lambda: self._handle(event(error)))
            return
        method = getattr(backend, verb)
        log.info("%s %s", verb, name)

        def done(result: Any) -> None:
            self._inflight -= 1
            error = result if isinstance(result, BaseException) else None
            if error is not None:
                log.warning("%s of %s failed: %s", verb, name, error)
            if self._stopping and verb == "connect" and error is None:
                # It came up after we were told to stop: take it down again, never leave a tunnel behind.
                self._run_backend(name, "disconnect", self._config.timings.disconnect_timeout,
                                  lambda r: DisconnectDone(name, -1, r is None))
            self._handle(event(error))

        def work() -> Any:
            if before is not None:
                before()
            return method(timeout)

        self._inflight += 1
        self._loop.run_task(work, timeout + 1.0, done, f"{verb} of {name}")

    def _deadline(self, name: str) -> ProbeDeadline:
        deadline = self._deadlines.get(name)
        if deadline is None:
            t = self._config.timings
            deadline = self._deadlines[name] = ProbeDeadline(t.probe_timeout_min, t.probe_timeout)
        return deadline

    def _probe(self, name: str, gen: int, round_id: int, now: float) -> None:
        backend = self._profile_backend(name)
        targets = self._config.targets
        deadline = self._deadline(name)
        timeout = deadline.timeout
        if backend is None:
            return
        route = backend.route()
        started = now

        def done(result: Any) -> None:
            if not isinstance(result, RoundResult):
                error = TIMED_OUT if isinstance(result, BaseException) else "no result"
                result = RoundResult(tuple(TargetResult(t.url, t.role, False, None, None, error) for t in targets),
                                     started)
            deadline.feed_result(result)
            ok = [r.latency_ms for r in result.targets if r.ok and r.latency_ms is not None]
            if ok:
                self._round_latency[name] = round(statistics.median(ok), 1)

            def deliver(result: RoundResult = result) -> None:
                self._handle(RoundDone(name, gen, round_id, result))
                self._answer_checks(name, result)

            if self._gate is not None:
                if ok:
                    self._gate.learn()
                elif result.targets and not any(r.ok for r in result.targets) and self._gate.hold(deliver):
                    return  # delivered once the local network has been checked
            deliver()

        self._loop.run_task(lambda: self._prober.run_round(route, targets, timeout, started),
                            2 * timeout + 2.0, done, f"probe through {name}")

    def _answer_checks(self, name: str, result: RoundResult) -> None:
        waiters, self._check_waiters = self._check_waiters, []
        report = CheckReport(name, str(self._state.verdict),
                             [{"url": r.url, "role": r.role, "ok": r.ok, "status": r.status,
                               "latency_ms": r.latency_ms, "error": r.error} for r in result.targets],
                             result.leak)
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(report)

    # --------------------------------------------------------------------------------------- publishing

    def _publish(self) -> None:
        snapshot = self._build_snapshot()
        if snapshot == self._snapshot:
            return
        self._snapshot = snapshot
        for callback in list(self._subscribers):
            try:
                callback(snapshot)
            except Exception:
                log.exception("snapshot subscriber failed")

    def _build_snapshot(self) -> Snapshot:
        return build_snapshot(self._state, self._config.profiles, broken=self._broken,
                              hot_standbys=self._hot_standby.records, latency=self._round_latency,
                              now=self._clock.monotonic(), wall=self._clock.wall())

    # ------------------------------------------------------------------------------------------ stopping

    def _wait_idle(self, done: threading.Event, deadline: float) -> None:
        """Poll (on the loop) until the engine has finished disconnecting, or the deadline passes."""
        settled = self._state.phase.name in ("idle", "error", "exhausted") and self._inflight == 0
        if settled or self._clock.monotonic() >= deadline:
            done.set()
            return
        self._loop.call_at("stop-wait", self._clock.monotonic() + 0.05, lambda: self._wait_idle(done, deadline))

    def _close_backends(self) -> None:
        for backend in self._backends.values():
            try:
                backend.close()
            except Exception:
                log.exception("closing %s failed", backend.profile.name)
        if self._guard is not None:
            self._guard.release_now()
        self._watchloop.end()

