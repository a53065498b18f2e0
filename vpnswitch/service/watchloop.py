"""The watch loop: every half second, cheap reads that turn into engine events.

Sleep and wake-up (a clock gap, or the OS saying so), the underlay (is there a local network, which one),
and the watched tunnel (its process, its interface, its traffic counters, the backend's own status now and
then). A hard failure goes through the offline gate first, so a dead local network is no reason to switch.
Runs on the loop thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from vpnswitch.backends.base import Backend, BackendStatus
from vpnswitch.core.clock import Clock
from vpnswitch.core.config import Config
from vpnswitch.core.engine import EngineState
from vpnswitch.core.latency import ProbeDeadline
from vpnswitch.core.model import (
    Event,
    HardFailure,
    Resumed,
    Route,
    StallSuspected,
    Suspending,
    TrafficBusy,
    UnderlayDown,
    UnderlayUp,
)
from vpnswitch.service.eventloop import Loop
from vpnswitch.service.monitors import SleepDetector, StallDetector
from vpnswitch.service.offlinegate import OfflineGate
from vpnswitch.system.netinfo import Counters, Underlay

log = logging.getLogger(__name__)

TICK_TIMER = "monitor-tick"
STATUS_POLL_INTERVAL = 2.0
SLEEP_SIGNAL_LIMIT = 60.0  # awake this long after "about to sleep" without a wake-up: the sleep did not happen


class Sensors(Protocol):
    """Cheap reads of the machine's network state (netinfo in production, fakes in tests)."""

    def underlay(self, tunnels: frozenset[str]) -> Underlay: ...

    def interface_up(self, name: str) -> bool | None: ...

    def counters(self, name: str) -> Counters | None: ...


@dataclass
class _Watched:
    profile: str
    gen: int
    route: Route | None
    reported: bool = False
    status_polling: bool = False


class WatchLoop:
    def __init__(
        self,
        *,
        loop: Loop,
        clock: Clock,
        sensors: Sensors,
        config: Callable[[], Config],
        engine_state: Callable[[], EngineState],
        backend: Callable[[str], Backend | None],
        deadline: Callable[[str], ProbeDeadline],
        handle: Callable[[Event], None],
        gate: Callable[[], OfflineGate | None],
        on_tick: Callable[[float], None],
        stopped: Callable[[], bool],
    ) -> None:
        """``on_tick(now)`` runs at the end of every tick (the hot standby's pace); ``stopped``: tick no more."""
        self._loop = loop
        self._clock = clock
        self._sensors = sensors
        self._config = config
        self._engine_state = engine_state
        self._backend = backend
        self._deadline = deadline
        self._handle = handle
        self._gate = gate
        self._on_tick = on_tick
        self._stopped = stopped
        timings = config().timings
        self._stall = StallDetector(timings.stall_seconds, timings.failback_max_rate_kbps)
        self._sleep = SleepDetector()
        self._suspending_at: tuple[float, float] | None = None  # (monotonic, boottime) when told of a sleep
        self._underlay: Underlay | None = None
        self._watched: _Watched | None = None
        self._ticks = 0

    # ------------------------------------------------------------------------------------ from the runtime

    def read_underlay(self) -> Underlay:
        """At start: the local network as it is now, before anything is watched."""
        self._underlay = self._sensors.underlay(frozenset())
        return self._underlay

    def begin(self) -> None:
        self._sleep.feed(self._clock.monotonic(), self._clock.boottime())
        self._schedule_tick()

    def end(self) -> None:
        self._loop.cancel(TICK_TIMER)

    def settings_changed(self, config: Config) -> None:
        self._stall = StallDetector(config.timings.stall_seconds, config.timings.failback_max_rate_kbps)

    def watch(self, name: str | None, gen: int) -> None:
        """From now on watch ``name`` (the engine's connect generation ``gen``), or nothing."""
        self._stall.reset()
        if name is None:
            self._watched = None
            return
        backend = self._backend(name)
        self._watched = _Watched(name, gen, backend.route() if backend else None)

    def network(self) -> str | None:
        underlay = self._underlay
        return underlay.network if underlay is not None and underlay.up else None

    def watched_tunnels(self) -> frozenset[str]:
        watched = self._watched
        return frozenset({watched.route.interface}) if watched and watched.route and watched.route.interface \
            else frozenset()

    def sleep_signal(self, going_to_sleep: bool) -> None:
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

    # ------------------------------------------------------------------------------------------ the tick

    def _schedule_tick(self) -> None:
        if self._stopped():
            return
        self._loop.call_at(TICK_TIMER, self._clock.monotonic() + self._config().timings.liveness_interval,
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
            self._check_underlay()
            self._check_watched(now)
            self._on_tick(now)
        finally:
            self._schedule_tick()

    def _check_underlay(self) -> None:
        t = self._config().timings
        every = max(1, round(t.underlay_interval / t.liveness_interval))
        if self._ticks % every:
            return
        gate = self._gate()
        current = self._sensors.underlay(self.watched_tunnels())
        previous = self._underlay
        self._underlay = current
        if previous is None or previous.up != current.up or (current.up and previous.network != current.network):
            if gate is not None:
                gate.forget()
            self._handle(UnderlayUp(current.network) if current.up else UnderlayDown(current.reason))
        elif gate is not None:
            gate.recheck()

    def _deliver_failure(self, failure: HardFailure) -> None:
        """A hard failure counts once the local network is known to answer (see offlinegate)."""
        gate = self._gate()
        if gate is None or not gate.hold(lambda: self._handle(failure)):
            self._handle(failure)

    def _check_watched(self, now: float) -> None:
        watched = self._watched
        state = self._engine_state()
        if watched is None or watched.reported or state.gen != watched.gen:
            return
        config = self._config()
        backend = self._backend(watched.profile)
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
                    self._stall.window = min(config.timings.stall_seconds, self._deadline(watched.profile).timeout)
                    stall = self._stall.feed(now, counters)
                    if self._stall.busy != self._engine_state().busy:
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
                and self._ticks % max(1, round(STATUS_POLL_INTERVAL / config.timings.liveness_interval)) == 0:
            self._poll_status(watched, backend)

    def _poll_status(self, watched: _Watched, backend: Backend) -> None:
        watched.status_polling = True
        timeout = min(10.0, self._config().timings.probe_timeout * 2)

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
