"""What the status window shows, worked out from a snapshot and the history. Pure (Qt only for translation).

The ladder is the failover order with each profile's state in words: in use, ready, standby ready, resting
after a failure with the time left, needs attention with what to do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QCoreApplication

from vpnswitch.ui import texts
from vpnswitch.ui.facade import ProfileStatus, Snapshot

translate = QCoreApplication.translate
LadderState = str  # "active" | "ready" | "standby-ready" | "quarantined" | "error" | "disabled" | "busy"


@dataclass(frozen=True)
class Rung:
    name: str
    kind: LadderState
    text: str  # the state in words
    detail: str = ""  # why, and what to do


def _seconds_left(iso: str | None, now: datetime) -> int | None:
    if not iso:
        return None
    try:
        until = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    if until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    return max(0, int((until - now).total_seconds()))


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return translate("StatusWindow", "%1 s").replace("%1", str(seconds))
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        return translate("StatusWindow", "%1 min %2 s").replace("%1", str(minutes)).replace("%2", str(rest))
    return translate("StatusWindow", "%1 h %2 min").replace("%1", str(minutes // 60)).replace("%2", str(minutes % 60))


def rung(profile: ProfileStatus, now: datetime) -> Rung:
    state = profile.state
    if state == "active":
        return Rung(profile.name, "active", translate("StatusWindow", "in use"))
    if not profile.enabled or state == "disabled":
        return Rung(profile.name, "disabled", texts.profile_state("disabled"))
    if state == "quarantined":
        left = _seconds_left(profile.quarantined_until, now)
        text = translate("StatusWindow", "resting after a failure") if left is None else \
            translate("StatusWindow", "resting after a failure, %1 left").replace("%1", duration(left))
        return Rung(profile.name, "quarantined", text, profile.reason)
    if state == "error":
        return Rung(profile.name, "error", translate("StatusWindow", "needs attention"), profile.reason)
    if profile.warm == "ready":
        return Rung(profile.name, "standby-ready", translate("StatusWindow", "standby, ready in the background"))
    if profile.warm == "starting":
        return Rung(profile.name, "busy", translate("StatusWindow", "standby, starting in the background"))
    if profile.warm == "not ready":
        return Rung(profile.name, "error", translate("StatusWindow", "standby, not ready"), profile.reason)
    if state == "standby":
        return Rung(profile.name, "ready", translate("StatusWindow", "ready"))
    return Rung(profile.name, "busy", texts.profile_state(state))


def ladder(snapshot: Snapshot, now: datetime | None = None) -> list[Rung]:
    now = now or datetime.now(UTC)
    return [rung(p, now) for p in snapshot.profiles]


@dataclass(frozen=True)
class LastSwitch:
    when: datetime
    from_profile: str
    to_profile: str
    reason: str
    outage_s: float | None


def last_switch(entries: Iterable[dict[str, Any]]) -> LastSwitch | None:
    """The newest switch in the history (a failover or the user's), or None."""
    from vpnswitch.ui.history_model import timeline

    for row in timeline(entries):
        if row.kind == "switch":
            outage = row.entry.get("outage_s")
            return LastSwitch(row.when, str(row.entry.get("from") or ""), str(row.entry.get("to") or ""),
                              str(row.entry.get("reason") or ""),
                              float(outage) if isinstance(outage, (int, float)) else None)
    return None


def active_latency(snapshot: Snapshot) -> float | None:
    active = next((p for p in snapshot.profiles if p.name == snapshot.active), None)
    return active.latency_ms if active is not None else None
