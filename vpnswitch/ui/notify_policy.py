"""When to show a notification: coalesce bursts, cap the rate, never drop the reason.

A failover produces several engine notifications within a second ("X is not working", then "Switched to
Y"); people should see one. And a flapping network must not become a stream of pop-ups: after
``max_per_window`` notifications in ``window`` seconds the rest are held and shown together once the window
allows. Pure and clock-driven so the rules are table-tested.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

# Which title wins when several notifications are merged: a switch message already says why it happened.
PRIORITY = {"switch": 5, "error": 4, "failure": 3, "dns": 3, "recovered": 2, "info": 1}
MAX_LINES = 3


@dataclass(frozen=True)
class Note:
    kind: str
    title: str
    message: str


class NotificationPolicy:
    def __init__(self, *, debounce: float = 1.2, max_per_window: int = 3, window: float = 60.0) -> None:
        self.debounce = debounce
        self.max_per_window = max_per_window
        self.window = window
        self._pending: list[Note] = []
        self._last_offer: float | None = None
        self._shown: deque[float] = deque()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def offer(self, note: Note, now: float) -> None:
        self._pending.append(note)
        self._last_offer = now

    def due(self, now: float) -> float | None:
        """The time at which ``flush`` will produce something, or None when nothing waits."""
        if not self._pending or self._last_offer is None:
            return None
        at = self._last_offer + self.debounce
        self._expire(now)
        if len(self._shown) >= self.max_per_window:
            at = max(at, self._shown[0] + self.window)
        return at

    def flush(self, now: float) -> Note | None:
        """The merged note to show now, or None (nothing pending, still settling, or over the rate)."""
        at = self.due(now)
        if at is None or at > now:
            return None
        note = merge(self._pending)
        self._pending = []
        self._shown.append(now)
        return note

    def _expire(self, now: float) -> None:
        while self._shown and self._shown[0] + self.window <= now:
            self._shown.popleft()


def merge(notes: list[Note]) -> Note:
    """One note for several: the most important title, each distinct message once, the rest counted."""
    if len(notes) == 1:
        return notes[0]
    lead = max(notes, key=lambda n: PRIORITY.get(n.kind, 0))
    others = [n for n in notes if n is not lead]
    if lead.kind == "switch":
        others = [n for n in others if n.kind != "failure"]  # the switch message already names the failure
    lines: list[str] = []
    reasons: set[str] = set()
    for note in [lead, *others]:
        if not note.message or note.message in reasons:
            continue  # the same reason again (a flapping profile) is said once
        reasons.add(note.message)
        lines.append(note.message if note is lead else f"{note.title}: {note.message}")
    extra = len(lines) - MAX_LINES
    text = "\n".join(lines[:MAX_LINES])
    if extra > 0:
        text += f"\n(+{extra})"
    return Note(lead.kind, lead.title, text)
