"""How long to wait for an answer through one profile, learnt from how long answers usually take.

A fixed probe timeout is either too long on a fast tunnel (a blocked tunnel is judged late) or too short on
a slow one (a healthy tunnel looks dead). Like TCP's retransmission timeout (RFC 6298) the wait is learnt
from measured answer times and doubles after each miss until an answer comes back. Unlike it, the wait is
a margin over the *slowest* of the recent answers rather than a decaying average: probes are rare, and a
lossy path must stay patient between its bad moments instead of forgetting them after a few good answers.
So the wait is short on a fast, clean path and long on a slow or lossy one — loss makes vpnswitch more
patient, not more jumpy.

The wait is clamped to ``[floor, ceiling]`` (the config's ``probe_timeout_min`` and ``probe_timeout``); until
a few answers have been seen it is the ceiling. Pure and clock-free, so it is a table test.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from vpnswitch.core.model import TIMED_OUT, RoundResult

MARGIN = 1.5  # the wait is this much longer than the slowest recent answer
WINDOW = 30  # recent answers remembered (about ten rounds)
WARM_SAMPLES = 3  # answers needed before the learnt wait replaces the ceiling


class ProbeDeadline:
    """The current wait for one profile's probes; fed every round's answers."""

    def __init__(self, floor: float, ceiling: float) -> None:
        self.floor = min(floor, ceiling)
        self.ceiling = ceiling
        self._answers: deque[float] = deque(maxlen=WINDOW)
        self._backoff = 1

    def set_bounds(self, floor: float, ceiling: float) -> None:
        """New limits from a changed config; what was learnt stays."""
        self.floor = min(floor, ceiling)
        self.ceiling = ceiling

    def observe(self, seconds: float) -> None:
        """One answer that came back, after ``seconds``."""
        self._answers.append(seconds)
        self._backoff = 1

    def timed_out(self) -> None:
        """An answer that never came: wait twice as long next time (up to the ceiling), as TCP does."""
        if self.timeout < self.ceiling:
            self._backoff *= 2

    def feed_round(self, answered: Iterable[float], failed: int) -> None:
        """A whole probe round: the durations of the answers, and how many targets gave none."""
        for seconds in answered:
            self.observe(seconds)
        if failed:
            self.timed_out()

    def feed_result(self, result: RoundResult) -> None:
        """A round as the prober reports it. Any answer is a sample, even an unexpected status (the path
        carried it); only targets that never answered count as timeouts — a site refused fast says nothing
        about how long to wait."""
        answered = [t.latency_ms / 1000 for t in result.targets if t.latency_ms is not None]
        self.feed_round(answered, sum(1 for t in result.targets if t.error == TIMED_OUT))

    @property
    def learnt(self) -> float | None:
        """The wait the answers alone suggest, before clamping and backoff; None until warmed up."""
        if len(self._answers) < WARM_SAMPLES:
            return None
        return MARGIN * max(self._answers)

    @property
    def timeout(self) -> float:
        learnt = self.learnt
        if learnt is None:
            return self.ceiling
        return min(self.ceiling, max(self.floor, learnt) * self._backoff)
