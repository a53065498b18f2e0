"""Turns history and latency records into timeline rows and chart series, filtered by day. Pure and Qt-free."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

# Kinds shown in the timeline. "state" and "config" are bookkeeping: every switch already tells the story.
TIMELINE_KINDS = ("switch", "connected", "verdict", "verify-failed", "connect-failed", "disconnect-failed", "error",
                  "hold", "exhausted", "offline", "online", "suspending", "resumed", "user", "dns", "dns-leak")


@dataclass(frozen=True)
class Row:
    when: datetime  # local time
    kind: str
    profile: str
    entry: dict[str, Any]


@dataclass(frozen=True)
class Series:
    profile: str
    points: tuple[tuple[datetime, float], ...]


def _when(entry: dict[str, Any]) -> datetime | None:
    t = entry.get("t")
    if isinstance(t, (int, float)) and not isinstance(t, bool):
        return datetime.fromtimestamp(t).astimezone()
    ts = entry.get("ts")
    if isinstance(ts, str):
        try:
            return datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone()
        except ValueError:
            return None
    return None


def _profile(entry: dict[str, Any]) -> str:
    kind = entry.get("kind")
    if kind == "switch":
        return str(entry.get("to") or "")
    return str(entry.get("profile") or "")


def timeline(entries: Iterable[dict[str, Any]]) -> list[Row]:
    """Rows newest first."""
    rows = []
    for entry in entries:
        kind = entry.get("kind")
        when = _when(entry)
        if kind not in TIMELINE_KINDS or when is None:
            continue
        rows.append(Row(when, str(kind), _profile(entry), entry))
    rows.sort(key=lambda r: r.when, reverse=True)
    return rows


def latency_series(entries: Iterable[dict[str, Any]]) -> list[Series]:
    """One series per profile, oldest point first; rounds without an answer are left out (not drawn as 0)."""
    points: dict[str, list[tuple[datetime, float]]] = {}
    for entry in entries:
        value = entry.get("latency_ms")
        when = _when(entry)
        profile = entry.get("profile")
        if entry.get("kind") not in ("latency", "round") or when is None or not isinstance(profile, str):
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        points.setdefault(profile, []).append((when, float(value)))
    return [Series(name, tuple(sorted(pts))) for name, pts in sorted(points.items())]


def days(rows: Iterable[Row], series: Iterable[Series]) -> list[date]:
    """Every local day with data, newest first."""
    found = {r.when.date() for r in rows}
    for s in series:
        found.update(when.date() for when, _ in s.points)
    return sorted(found, reverse=True)


def on_day(rows: list[Row], series: list[Series], day: date | None) -> tuple[list[Row], list[Series]]:
    if day is None:
        return rows, series
    kept = [Series(s.profile, tuple(p for p in s.points if p[0].date() == day)) for s in series]
    return [r for r in rows if r.when.date() == day], [s for s in kept if s.points]


def runs(points: tuple[tuple[datetime, float], ...], *, min_gap: float = 600.0
         ) -> list[tuple[tuple[datetime, float], ...]]:
    """Split a series where samples stop for a while (the profile was not active, or the app was not running):
    a line must not bridge hours without data. A gap is five usual intervals, and at least ``min_gap`` seconds."""
    steps = sorted((b[0] - a[0]).total_seconds() for a, b in zip(points, points[1:], strict=False))
    gap_seconds = max(min_gap, 5 * steps[len(steps) // 2]) if steps else min_gap
    out: list[tuple[tuple[datetime, float], ...]] = []
    current: list[tuple[datetime, float]] = []
    for point in points:
        if current and (point[0] - current[-1][0]).total_seconds() > gap_seconds:
            out.append(tuple(current))
            current = []
        current.append(point)
    if current:
        out.append(tuple(current))
    return out
