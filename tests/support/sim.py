"""A discrete-event simulation of the runtime's loop: virtual time, deterministic, thirty minutes in a second.

Tasks run synchronously when submitted; a fake may declare how long the real work would take with
``loop.spend(seconds)``, and the result is delivered that much later in virtual time (or as a timeout).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import Any

from vpnswitch.core.clock import FakeClock
from vpnswitch.core.errors import CommandTimeout


class SimLoop:
    def __init__(self, clock: FakeClock | None = None) -> None:
        self.clock = clock or FakeClock()
        self._heap: list[tuple[float, int, str]] = []
        self._timers: dict[str, tuple[int, Callable[[], None]]] = {}
        self._seq = itertools.count()
        self._spent = 0.0
        self.tasks_run = 0

    def now(self) -> float:
        return self.clock.monotonic()

    def call_soon(self, fn: Callable[[], None]) -> None:
        self.call_at(f"soon:{next(self._seq)}", self.now(), fn)

    def call_at(self, name: str, at: float, fn: Callable[[], None]) -> None:
        seq = next(self._seq)
        self._timers[name] = (seq, fn)
        heapq.heappush(self._heap, (max(at, self.now()), seq, name))

    def cancel(self, name: str) -> None:
        self._timers.pop(name, None)

    def spend(self, seconds: float) -> None:
        """Called by fakes inside a task: the real operation would take this long."""
        self._spent += seconds

    def run_task(self, fn: Callable[[], Any], timeout: float, done: Callable[[Any], None], label: str = "") -> None:
        self.tasks_run += 1
        self._spent = 0.0
        try:
            value: Any = fn()
        except BaseException as exc:  # noqa: BLE001 - delivered like the threaded loop does
            value = exc
        spent, self._spent = self._spent, 0.0
        if spent > timeout:
            value = CommandTimeout(f"{label or 'the operation'} did not finish within {timeout:g} s")
            spent = timeout
        self.call_at(f"task:{next(self._seq)}", self.now() + spent, lambda: done(value))

    def run_until(self, t: float) -> None:
        """Process everything due up to virtual time ``t`` (monotonic), then stop there."""
        while self._heap and self._heap[0][0] <= t:
            at, seq, name = heapq.heappop(self._heap)
            current = self._timers.get(name)
            if current is None or current[0] != seq:
                continue
            del self._timers[name]
            if at > self.now():
                self.clock.set_monotonic(at)
            current[1]()
        if t > self.now():
            self.clock.set_monotonic(t)

    def run_for(self, seconds: float) -> None:
        self.run_until(self.now() + seconds)

    def run_until_true(self, predicate: Callable[[], bool], limit: float, step: float = 0.1) -> float:
        """Advance until ``predicate()``; returns the virtual seconds it took. Fails past ``limit``."""
        start = self.now()
        while not predicate():
            if self.now() - start > limit:
                raise AssertionError(f"condition not reached within {limit} simulated seconds")
            self.run_for(step)
        return self.now() - start
