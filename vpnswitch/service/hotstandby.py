"""Hot standby supervision: keeps profiles whose backend can wait warm (Tor) ready in the background.

Ready means more than started: after the backend's ``standby`` returns, one probe round goes through the
standby itself, so the engine knows it carries requests before it is needed (and its probe deadline is learnt
by then). Each profile's readiness is one ``HotStandby`` record; the engine's set of ready hot standbys is sent
from these records and nowhere else. Runs on the loop thread; the calls themselves run on workers.
"""

from __future__ import annotations

import functools
import logging
import math
import random
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from vpnswitch.backends.base import Backend
from vpnswitch.core import health
from vpnswitch.core.clock import Clock
from vpnswitch.core.config import Config, ProbeTarget
from vpnswitch.core.errors import backend_failure
from vpnswitch.core.latency import ProbeDeadline
from vpnswitch.core.model import Event, HotStandby, HotStandbysReady, Outcome, RoundResult, Route
from vpnswitch.service.eventloop import Loop

log = logging.getLogger(__name__)

STANDBY_REFRESH = (20.0, 40.0)  # a hot standby (Tor) is checked (and restarted if it died) this often, at random
STANDBY_RETRY = (4.0, 8.0)  # ... and this often while it is not ready, so it is back soon after the network is
STANDBY_REFRESH_GAP = 60.0  # a standby that is not ready starts its connections afresh at most this often,
# unless the network just came back (a blocked tor hammering its relays every few seconds would stand out)


class Prober(Protocol):
    def run_round(self, route: Route, targets: tuple[ProbeTarget, ...], timeout: float, started: float
                  ) -> RoundResult: ...


class HotStandbySupervisor:
    """Starts, checks and refreshes hot standbys; what the runtime knows of them is read from here."""

    def __init__(
        self,
        *,
        loop: Loop,
        clock: Clock,
        prober: Prober,
        seed: int,
        config: Callable[[], Config],
        usable_backend: Callable[[str], Backend | None],
        current_backend: Callable[[str], Backend | None],
        deadline: Callable[[str], ProbeDeadline],
        active: Callable[[], str | None],
        engine_ready: Callable[[], frozenset[str]],
        handle: Callable[[Event], None],
        publish: Callable[[], None],
        stopping: Callable[[], bool],
    ) -> None:
        """``usable_backend``: the profile's backend when it can be built and used; ``current_backend``: the one
        built last (to tell that an answer is about a backend replaced meanwhile)."""
        self._loop = loop
        self._clock = clock
        self._prober = prober
        self._config = config
        self._usable_backend = usable_backend
        self._current_backend = current_backend
        self._deadline = deadline
        self._active = active
        self._engine_ready = engine_ready
        self._handle = handle
        self._publish = publish
        self._stopping = stopping
        self._records: dict[str, HotStandby] = {}
        self._busy: set[str] = set()  # profiles whose standby() call or check is still running
        self._due = 0.0  # when the next round of checks is due
        self._network_back_at = -math.inf  # when the local network last came back (or the machine woke)
        self._rng = random.Random(seed)  # background checks have no fixed rhythm a firewall could spot

    @property
    def records(self) -> Mapping[str, HotStandby]:
        return self._records

    def forget(self, name: str) -> None:
        """New settings, a new start: what was learnt about the old backend no longer holds."""
        self._records.pop(name, None)

    def network_back(self, now: float) -> None:
        """A standby's connections died with the network (or the sleep): check it again soon, afresh."""
        self._network_back_at = now
        self._due = min(self._due, now + STANDBY_RETRY[0])

    def tick(self, now: float) -> None:
        if now >= self._due:
            self.warm()

    def warm(self) -> None:
        """Start (or check again) every hot standby the settings ask for, each on a worker with a timeout."""
        if self._stopping():
            return
        config = self._config()
        now = self._clock.monotonic()
        self._due = now + self._rng.uniform(*STANDBY_REFRESH)
        timeout = config.timings.connect_timeout
        wanted: dict[str, Backend] = {}
        for profile in config.enabled_profiles():
            backend = self._usable_backend(profile.name)
            if backend is not None and backend.wants_standby():
                wanted[profile.name] = backend
        for name in set(self._records) - wanted.keys():  # removed, disabled or turned off
            self._records.pop(name, None)
        self._tell_engine_if_changed()
        active = self._active()
        for name, backend in wanted.items():
            if name in self._busy or name == active:
                continue

            def started(result: Any, name: str = name, backend: Backend = backend) -> None:
                if self._current_backend(name) is not backend:
                    self._busy.discard(name)  # replaced meanwhile: this answer is about the old one
                    return
                if isinstance(result, BaseException):
                    message, fatal = backend_failure(result)
                    self._checked(name, lambda r: r.failed(message), retry_soon=not fatal)
                else:
                    self._check(name, backend)

            self._busy.add(name)
            record = self._records.setdefault(name, HotStandby())
            refresh = record.needs_refresh(now, self._network_back_at, STANDBY_REFRESH_GAP)
            if refresh:
                self._records[name] = record.refreshed(now)
            self._loop.run_task(functools.partial(backend.standby, timeout, refresh), timeout + 1.0, started,
                                f"standby of {name}")
        self._publish()  # "starting", or a standby that is gone, shows at once

    def _check(self, name: str, backend: Backend) -> None:
        targets = self._config().targets
        deadline = self._deadline(name)
        timeout, started = deadline.timeout, self._clock.monotonic()
        route = backend.route()

        def done(result: Any) -> None:
            if self._current_backend(name) is not backend:
                self._busy.discard(name)
                return
            if not isinstance(result, RoundResult):
                self._checked(name, lambda r: r.failed("its check did not finish"))
                return
            deadline.feed_result(result)
            if health.classify_round(result) is Outcome.DEAD:
                failed = ", ".join(f"{r.url}: {r.error}" for r in result.targets[:2])
                self._checked(name, lambda r: r.failed(f"nothing answered through it ({failed})"))
            else:
                self._checked(name, HotStandby.passed)

        self._loop.run_task(lambda: self._prober.run_round(route, targets, timeout, started),
                            2 * timeout + 2.0, done, f"standby check of {name}")

    def _checked(self, name: str, outcome: Callable[[HotStandby], HotStandby], retry_soon: bool = True) -> None:
        """Record a standby check; one that failed for a reason that may pass is tried again within seconds
        (a missing tor or a refused configuration waits for the normal pace)."""
        self._busy.discard(name)
        if self._stopping():
            return
        previous = self._records.get(name)
        record = outcome(previous or HotStandby())
        self._records[name] = record
        if not record.ready and retry_soon:
            self._due = min(self._due, self._clock.monotonic() + self._rng.uniform(*STANDBY_RETRY))
        if previous is None or record.describe() != previous.describe():
            log.info("standby %s: %s", name, record.describe())
        self._handle(HotStandbysReady(self._ready()))

    def _ready(self) -> frozenset[str]:
        return frozenset(name for name, record in self._records.items() if record.ready)

    def _tell_engine_if_changed(self) -> None:
        """The engine counts on no hot standby whose record is not ready (one forgotten or turned off)."""
        ready = self._ready()
        if ready != self._engine_ready():
            self._handle(HotStandbysReady(ready))

