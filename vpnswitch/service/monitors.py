"""Cheap, passive health signals, each a small object fed samples so it can be tested without a network.

The runtime samples them every ``liveness_interval`` on its own thread: nothing here may block.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from vpnswitch.system.netinfo import Counters

SUSPEND_GAP = 5.0


@dataclass(frozen=True)
class Stall:
    since: float


class StallDetector:
    """Bytes go out but none come back for ``window`` seconds: the classic sign of a silently blocked tunnel.

    Reports once per episode; a single received byte ends the episode.
    """

    def __init__(self, window: float, busy_kbps: float, rate_window: float = 5.0) -> None:
        self.window = window
        self.busy_kbps = busy_kbps
        self.rate_window = rate_window
        self._samples: deque[tuple[float, Counters]] = deque()
        self._reported = False
        self.busy = False

    def reset(self) -> None:
        self._samples.clear()
        self._reported = False
        self.busy = False

    def feed(self, now: float, counters: Counters) -> Stall | None:
        samples = self._samples
        if samples and (counters.rx < samples[-1][1].rx or counters.tx < samples[-1][1].tx):
            samples.clear()  # counters reset: the interface was recreated
        samples.append((now, counters))
        keep_from = now - max(self.window, self.rate_window) - 1.0
        while len(samples) > 2 and samples[1][0] <= keep_from:
            samples.popleft()
        self._update_busy(now)
        # Find the newest sample at least ``window`` old; the stall must cover that whole span.
        base = None
        for t, c in reversed(samples):
            if now - t >= self.window:
                base = (t, c)
                break
        if base is None:
            return None
        t0, c0 = base
        if counters.rx != c0.rx:
            self._reported = False
            return None
        if counters.tx > c0.tx and not self._reported:
            self._reported = True
            return Stall(since=t0)
        return None

    def _update_busy(self, now: float) -> None:
        samples = self._samples
        first = next(((t, c) for t, c in samples if now - t <= self.rate_window), None)
        if first is None or now - first[0] < 1.0:
            return
        t0, c0 = first
        last = samples[-1][1]
        kbps = ((last.rx - c0.rx) + (last.tx - c0.tx)) * 8 / 1000 / (now - t0)
        self.busy = kbps > self.busy_kbps


class SleepDetector:
    """A gap between a clock that counts suspend and one that does not means the machine slept."""

    def __init__(self, gap: float = SUSPEND_GAP) -> None:
        self.gap = gap
        self._last: tuple[float, float] | None = None

    def feed(self, monotonic: float, boottime: float) -> float | None:
        last = self._last
        self._last = (monotonic, boottime)
        if last is None:
            return None
        slept = (boottime - last[1]) - (monotonic - last[0])
        return slept if slept >= self.gap else None
