"""The runtime: owns the engine state, turns its actions into work, feeds results back as events.

All state lives on the loop thread. Public methods are safe from any thread: they post to the loop.
Subscribers receive immutable snapshots (on the loop thread — a GUI must hop to its own thread).
"""

from __future__ import annotations

import functools
import json
import logging
import math
import random
import statistics
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from vpnswitch.backends.base import Backend, BackendStatus
from vpnswitch.core import engine, health
from vpnswitch.core.clock import Clock
from vpnswitch.core.config import Config, ProbeTarget, Profile, atomic_write_private
from vpnswitch.core.engine import EngineState
from vpnswitch.core.errors import BackendError, VpnSwitchError
from vpnswitch.core.history import HistoryLog, iso
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
    HardFailure,
    Notify,
    Outcome,
    Precheck,
    PrecheckDone,
    Probe,
    ProfileInfo,
    Record,
    Remember,
    Resumed,
    RoundDone,
    RoundResult,
    Route,
    SetTimer,
    StallSuspected,
    StandbyReady,
    Start,
    Stop,
    Suspending,
    TargetResult,
    TimerFired,
    TrafficBusy,
    UnderlayDown,
    UnderlayUp,
    UserCheck,
    UserPause,
    UserResume,
    UserSwitch,
    Watch,
)
from vpnswitch.service.eventloop import Loop
from vpnswitch.service.monitors import SleepDetector, StallDetector
from vpnswitch.service.offlinegate import LocalCheck, OfflineGate
from vpnswitch.service.snapshot import EMPTY, ProfileStatus, Snapshot, TargetStatus
from vpnswitch.service.tunnelguard import TunnelGuard
from vpnswitch.system.leakguard import LeakGuard
from vpnswitch.system.netinfo import Counters, Underlay

log = logging.getLogger(__name__)

STATUS_POLL_INTERVAL = 2.0
SLEEP_SIGNAL_LIMIT = 60.0  # awake this long after "about to sleep" without a wake-up: the sleep did not happen
STANDBY_REFRESH = (20.0, 40.0)  # a hot standby (Tor) is checked (and restarted if it died) this often, at random
STANDBY_RETRY = (4.0, 8.0)  # ... and this often while it is not ready, so it is back soon after the network is
STANDBY_REFRESH_GAP = 60.0  # a standby that is not ready starts its connections afresh at most this often,
# unless the network just came back (a blocked tor hammering its relays every few seconds would stand out)


class Prober(Protocol):
    def run_round(self, route: Route, targets: tuple[ProbeTarget, ...], timeout: float, started: float
                  ) -> RoundResult: ...


class Sensors(Protocol):
    """Cheap reads of the machine's network state (netinfo in production, fakes in tests)."""

    def underlay(self, tunnels: frozenset[str]) -> Underlay: ...

    def interface_up(self, name: str) -> bool | None: ...

    def counters(self, name: str) -> Counters | None: ...


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
            atomic_write_private(self.path, json.dumps(memory, indent=1).encode())
        except OSError as exc:
            log.warning("cannot save network memory: %s", exc.strerror)


@dataclass
class CheckReport:
    active: str | None
    verdict: str
    targets: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""


@dataclass
class _Watched:
    profile: str
    gen: int
    route: Route | None
    reported: bool = False
    status_polling: bool = False


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
        self._sensors = sensors
        self._clock = clock
        self._history = history
        self._memory = memory or MemoryStore(None)
        self._config = config
        self._backends: dict[str, Backend] = {}
        self._broken: dict[str, str] = {}
        self._state: EngineState = engine.initial_state(self._engine_config(config), seed=seed)
        self._snapshot = EMPTY
        self._subscribers: list[Callable[[Snapshot], None]] = []
        self._notify_subscribers: list[Callable[[str, str, str], None]] = []
        self._watched: _Watched | None = None
        self._stall = StallDetector(config.timings.stall_seconds, config.timings.failback_max_rate_kbps)
        self._sleep = SleepDetector()
        self._suspending_at: tuple[float, float] | None = None  # (monotonic, boottime) when told of a sleep
        self._underlay: Underlay | None = None
        self._ticks = 0
        self._round_latency: dict[str, float] = {}
        self._deadlines: dict[str, ProbeDeadline] = {}  # per profile: how long its probes may take
        self._check_waiters: list[Future[CheckReport]] = []
        self._stopped = threading.Event()
        self._stopping = False
        self._inflight = 0  # connect/disconnect calls still running
        self._standby_busy: set[str] = set()  # profiles whose standby() call or check is still running
        self._standby_state: dict[str, str] = {}  # starting | ready | not ready: why
        self._standby_due = 0.0
        self._standby_refreshed: dict[str, float] = {}  # when each standby last dropped its connections
        self._network_back_at = -math.inf  # when the local network last came back (or the machine woke)
        self._standby_rng = random.Random(seed)  # background checks have no fixed rhythm a firewall could spot
        # Nothing leaves outside the tunnel, even while it dies or is switched (root only); and a dead local
        # network is no reason to switch.
        self._guard = TunnelGuard(leak_guard, self._profile_backend, self._tunnel_backends) if leak_guard else None
        self._gate = OfflineGate(local_network, self._loop.run_task, self._handle, self._network,
                                 self._watched_tunnels) if local_network else None

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
        self._loop.call_soon(lambda: self._on_sleep_signal(going_to_sleep))

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
            try:
                backend = self._backend(profile)
                transport, route_kind = backend.transport(), backend.route_kind
            except Exception as exc:  # noqa: BLE001 - one broken profile must not stop the others
                self._broken[profile.name] = str(exc)
                log.warning("profile %s cannot be used: %s", profile.name, exc)
            infos.append(ProfileInfo(profile.name, profile.backend, transport, route_kind, profile.enabled,
                                     profile.backend == "tor"))
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
            for learnt in (self._deadlines, self._standby_state, self._standby_refreshed):
                learnt.pop(profile.name, None)
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
        self._underlay = self._sensors.underlay(frozenset())
        memory = tuple(self._memory.load().items())
        self._handle(Start(self._underlay.network if self._underlay.up else None, memory))
        if not self._underlay.up:
            self._handle(UnderlayDown(self._underlay.reason))
        self._sleep.feed(self._clock.monotonic(), self._clock.boottime())
        self._schedule_tick()
        self._warm_standbys()

    def _apply_config(self, config: Config) -> None:
        self._config = config
        for deadline in self._deadlines.values():
            deadline.set_bounds(config.timings.probe_timeout_min, config.timings.probe_timeout)
        self._stall = StallDetector(config.timings.stall_seconds, config.timings.failback_max_rate_kbps)
        self._handle(ConfigChanged(self._engine_config(config)))
        self._warm_standbys()

    def _warm_standbys(self) -> None:
        """Keep hot-standby profiles (Tor) ready in the background, each on a worker with a timeout.

        Ready means more than started: after ``standby`` returns, one probe round goes through the standby
        itself, so the engine knows it carries requests before it is needed (and its probe deadline is
        learnt by then).
        """
        if self._stopping:
            return
        now = self._clock.monotonic()
        self._standby_due = now + self._standby_rng.uniform(*STANDBY_REFRESH)
        timeout = self._config.timings.connect_timeout
        wanted: dict[str, Backend] = {}
        for profile in self._config.enabled_profiles():
            backend = self._profile_backend(profile.name)
            if backend is not None and backend.wants_standby() and profile.name not in self._broken:
                wanted[profile.name] = backend
        for name in set(self._standby_state) - wanted.keys():  # removed, disabled or turned off
            self._standby_state.pop(name, None)
            self._standby_refreshed.pop(name, None)
        for name in self._state.standbys:  # the engine counts on no standby the runtime does not know ready
            if self._standby_state.get(name) != "ready":
                self._handle(StandbyReady(name, False))
        for name, backend in wanted.items():
            if name in self._standby_busy or name == self._state.active:
                continue

            def started(result: Any, name: str = name, backend: Backend = backend) -> None:
                if self._backends.get(name) is not backend:
                    self._standby_busy.discard(name)  # replaced meanwhile: this answer is about the old one
                    return
                if isinstance(result, BaseException):
                    message, fatal = _failure(result)
                    self._standby_checked(name, f"not ready: {message}", retry_soon=not fatal)
                else:
                    self._check_standby(name, backend)

            self._standby_busy.add(name)
            not_ready = self._standby_state.setdefault(name, "starting").startswith("not ready")
            last_refresh = self._standby_refreshed.get(name, -math.inf)
            # Its connections may have died with the network (or a sleep) since they were last made afresh.
            refresh = last_refresh < self._network_back_at or (not_ready and now - last_refresh >= STANDBY_REFRESH_GAP)
            if refresh:
                self._standby_refreshed[name] = now
            self._loop.run_task(functools.partial(backend.standby, timeout, refresh), timeout + 1.0, started,
                                f"standby of {name}")
        self._publish()  # "starting", or a standby that is gone, shows at once

    def _check_standby(self, name: str, backend: Backend) -> None:
        targets = self._config.targets
        deadline = self._deadline(name)
        timeout, started = deadline.timeout, self._clock.monotonic()
        route = backend.route()

        def done(result: Any) -> None:
            if self._backends.get(name) is not backend:
                self._standby_busy.discard(name)
                return
            if not isinstance(result, RoundResult):
                self._standby_checked(name, "not ready: its check did not finish")
                return
            deadline.feed_result(result)
            if health.classify_round(result) is Outcome.DEAD:
                failed = ", ".join(f"{r.url}: {r.error}" for r in result.targets[:2])
                self._standby_checked(name, f"not ready: nothing answered through it ({failed})")
            else:
                self._standby_checked(name, "ready")

        self._loop.run_task(lambda: self._prober.run_round(route, targets, timeout, started),
                            2 * timeout + 2.0, done, f"standby check of {name}")

    def _standby_checked(self, name: str, state: str, retry_soon: bool = True) -> None:
        """Record a standby check; one that failed for a reason that may pass is tried again within seconds
        (a missing tor or a refused configuration waits for the normal pace)."""
        self._standby_busy.discard(name)
        if self._stopping:
            return
        previous = self._standby_state.get(name)
        self._standby_state[name] = state
        if state != "ready" and retry_soon:
            self._standby_due = min(self._standby_due,
                                    self._clock.monotonic() + self._standby_rng.uniform(*STANDBY_RETRY))
        if state != previous:
            log.info("standby %s: %s", name, state)
        self._handle(StandbyReady(name, state == "ready"))

    def _handle(self, event: Event) -> None:
        now = self._clock.monotonic()
        if isinstance(event, UnderlayUp) or (isinstance(event, Resumed) and event.gap > 0):
            # A standby's connections died with the network (or the sleep): check it again soon, afresh.
            self._network_back_at = now
            self._standby_due = min(self._standby_due, now + STANDBY_RETRY[0])
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
                                  lambda r: ConnectDone(name, gen, r is None, *_failure(r)),
                                  before=self._guard_work())
            case Disconnect():
                name, gen = action.profile, action.gen
                self._run_backend(name, "disconnect", t.disconnect_timeout,
                                  lambda r: DisconnectDone(name, gen, r is None, _failure(r)[0]),
                                  before=self._guard_work())
            case Probe():
                self._probe(action.profile, action.gen, action.round_id, now)
            case Precheck():
                self._precheck(action.profile)
            case Watch():
                self._watch(action.profile, action.gen)
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
        return self._guard.work(self._state, self._network())

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

    # --------------------------------------------------------------------------------------- monitors

    def _watch(self, name: str | None, gen: int) -> None:
        self._stall.reset()
        if name is None:
            self._watched = None
            return
        backend = self._profile_backend(name)
        self._watched = _Watched(name, gen, backend.route() if backend else None)

    def _schedule_tick(self) -> None:
        if self._stopped.is_set():
            return
        self._loop.call_at("monitor-tick", self._clock.monotonic() + self._config.timings.liveness_interval,
                           self._tick)

    def _tick(self) -> None:
        """Every half second: sleep, underlay, liveness, stall. Only cheap reads here."""
        self._ticks += 1
        now = self._clock.monotonic()
        try:
            gap = self._sleep.feed(now, self._clock.boottime())
            if gap is not None:
                self._suspending_at = None
                self._handle(Resumed(gap))
            elif self._suspending_at is not None and now - self._suspending_at[0] > SLEEP_SIGNAL_LIMIT:
                # Told the machine would sleep, but it is still awake and no wake-up came: carry on.
                log.info("no sleep followed the announcement within %.0f s; checking again", SLEEP_SIGNAL_LIMIT)
                self._suspending_at = None
                self._handle(Resumed(0.0))
            self._check_underlay(now)
            self._check_watched(now)
            if now >= self._standby_due:
                self._warm_standbys()
        finally:
            self._schedule_tick()

    def _check_underlay(self, now: float) -> None:
        t = self._config.timings
        every = max(1, round(t.underlay_interval / t.liveness_interval))
        if self._ticks % every:
            return
        current = self._sensors.underlay(self._watched_tunnels())
        previous = self._underlay
        self._underlay = current
        if previous is None or previous.up != current.up or (current.up and previous.network != current.network):
            if self._gate is not None:
                self._gate.forget()
            self._handle(UnderlayUp(current.network) if current.up else UnderlayDown(current.reason))
        elif self._gate is not None:
            self._gate.recheck()

    def _network(self) -> str | None:
        underlay = self._underlay
        return underlay.network if underlay is not None and underlay.up else None

    def _watched_tunnels(self) -> frozenset[str]:
        watched = self._watched
        return frozenset({watched.route.interface}) if watched and watched.route and watched.route.interface \
            else frozenset()

    def _deliver_failure(self, failure: HardFailure) -> None:
        """A hard failure counts once the local network is known to answer (see offlinegate)."""
        if self._gate is None or not self._gate.hold(lambda: self._handle(failure)):
            self._handle(failure)

    def _on_sleep_signal(self, going_to_sleep: bool) -> None:
        now, boottime = self._clock.monotonic(), self._clock.boottime()
        if going_to_sleep:
            if self._suspending_at is None:
                self._suspending_at = (now, boottime)
                self._handle(Suspending())
            return
        if self._suspending_at is None:
            return  # the clock gap already reported this wake-up
        mono0, boot0 = self._suspending_at
        self._suspending_at = None
        self._sleep.feed(now, boottime)  # the clock-gap detector must not report the same sleep again
        self._handle(Resumed(max(0.0, (boottime - boot0) - (now - mono0))))

    def _check_watched(self, now: float) -> None:
        watched = self._watched
        if watched is None or watched.reported or self._state.gen != watched.gen:
            return
        backend = self._profile_backend(watched.profile)
        reason = backend.liveness() if backend is not None else None
        route = watched.route
        if reason is None and route is not None and route.kind == "tunnel" and route.interface:
            up = self._sensors.interface_up(route.interface)
            if up is None:
                reason = f"its interface {route.interface} disappeared"
            elif up is False:
                reason = f"its interface {route.interface} went down"
            else:
                counters = self._sensors.counters(route.interface)
                if counters is not None:
                    # Nothing back for about as long as a probe may take is worth a look; on a fast, clean
                    # tunnel that is well under the configured window.
                    self._stall.window = min(self._config.timings.stall_seconds,
                                             self._deadline(watched.profile).timeout)
                    stall = self._stall.feed(now, counters)
                    if self._stall.busy != self._state.busy:
                        self._handle(TrafficBusy(self._stall.busy))
                    if stall is not None:
                        self._handle(StallSuspected(watched.profile, watched.gen, stall.since))
        if reason is not None:
            watched.reported = True
            self._deliver_failure(HardFailure(watched.profile, watched.gen, reason, now))
            return
        hint = backend.suspicion() if backend is not None else None
        if hint is not None:  # e.g. Tor lost every relay connection: probe now, let the probes decide
            log.info("%s: %s; probing now", watched.profile, hint)
            self._handle(StallSuspected(watched.profile, watched.gen, now))
        if backend is not None and backend.polls_status and not watched.status_polling \
                and self._ticks % max(1, round(STATUS_POLL_INTERVAL / self._config.timings.liveness_interval)) == 0:
            self._poll_status(watched, backend)

    def _poll_status(self, watched: _Watched, backend: Backend) -> None:
        watched.status_polling = True
        timeout = min(10.0, self._config.timings.probe_timeout * 2)

        def done(result: Any) -> None:
            watched.status_polling = False
            if watched.reported or self._watched is not watched:
                return
            if isinstance(result, BackendStatus) and result.state in ("disconnected", "error"):
                watched.reported = True
                detail = f": {result.detail}" if result.detail else ""
                self._deliver_failure(HardFailure(watched.profile, watched.gen, f"it reports {result.state}{detail}",
                                                  self._clock.monotonic()))

        self._loop.run_task(lambda: backend.status(timeout), timeout + 1.0, done, f"status of {watched.profile}")

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
        s = self._state
        now, wall = self._clock.monotonic(), self._clock.wall()
        active = s.active
        phase_name = s.phase.name
        profiles = []
        for p in self._config.profiles:
            q = s.quarantine.get(p.name)
            quarantined = q is not None and q.until > now
            reason = ""
            if not p.enabled:
                state = "disabled"
            elif p.name in self._broken:
                state, reason = "error", self._broken[p.name]
            elif p.name in s.errors:
                state, reason = "error", s.errors[p.name]
            elif p.name == active and phase_name in ("connected", "offline"):
                state = "active"
            elif p.name == active and phase_name in ("connecting", "verifying", "disconnecting"):
                state = phase_name
            elif quarantined:
                assert q is not None
                state, reason = "quarantined", q.reason
            else:
                state = "standby"
            warm = ""
            if state == "standby" and p.name in self._standby_state:
                warm, _, why = self._standby_state[p.name].partition(": ")
                reason = why or reason
            until = iso(wall + (q.until - now)) if quarantined and q is not None else None
            profiles.append(ProfileStatus(p.name, p.backend, p.enabled, state, until, reason,
                                          self._round_latency.get(p.name), warm))
        targets: tuple[TargetStatus, ...] = ()
        if s.last_result is not None:
            targets = tuple(TargetStatus(r.url, r.role, r.ok, r.status, r.latency_ms, r.error)
                            for r in s.last_result.targets)
        last_check = iso(wall - (now - s.last_check_at)) if s.last_check_at is not None else None
        message = s.phase.message if phase_name == "error" else ""  # type: ignore[union-attr]
        return Snapshot(
            state=s.state_name, active=active, verdict=str(s.verdict), paused=s.paused, holding=s.hold,
            network=s.network, profiles=tuple(profiles), last_check=last_check, targets=targets,
            message=message, auto_switch=s.config.auto_switch, preference=s.config.preference,
        )

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
        self._loop.cancel("monitor-tick")


def _failure(error: BaseException | None) -> tuple[str, bool]:
    """(message, fatal) for a failed backend call."""
    if error is None:
        return "", False
    if isinstance(error, VpnSwitchError):
        fatal = bool(getattr(error, "fatal", False))
        return error.explain() if fatal else error.message, fatal
    return f"{type(error).__name__}: {error}", False


