"""Injectable time, so the engine and monitors can be driven by a fake clock in tests."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards (drives every timer)."""

    def wall(self) -> float:
        """Unix time, for what is shown to people and written to history."""

    def boottime(self) -> float:
        """Seconds on a clock that keeps counting through suspend; gaps against monotonic reveal a sleep."""


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    def boottime(self) -> float:
        # CLOCK_MONOTONIC stops during suspend on Linux while CLOCK_BOOTTIME does not; elsewhere wall time
        # is the best available clock that keeps running through a sleep.
        boottime = getattr(time, "CLOCK_BOOTTIME", None)
        if boottime is not None:
            return time.clock_gettime(boottime)
        return time.time()


class FakeClock:
    """A clock that moves only when told to; ``suspend`` advances wall and boot time but not monotonic."""

    def __init__(self, start_wall: float = 1_800_000_000.0) -> None:
        self._mono = 1000.0
        self._wall = start_wall
        self._boot = 1000.0

    def monotonic(self) -> float:
        return self._mono

    def wall(self) -> float:
        return self._wall

    def boottime(self) -> float:
        return self._boot

    def advance(self, seconds: float) -> None:
        self._mono += seconds
        self._wall += seconds
        self._boot += seconds

    def set_monotonic(self, value: float) -> None:
        delta = value - self._mono
        if delta < 0:
            raise ValueError("a monotonic clock cannot go backwards")
        self.advance(delta)

    def suspend(self, seconds: float) -> None:
        self._wall += seconds
        self._boot += seconds
