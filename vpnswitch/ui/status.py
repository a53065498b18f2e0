"""Which tray icon a snapshot deserves. Pure, so the mapping is a table test."""

from __future__ import annotations

from typing import Literal

from vpnswitch.ui.facade import Snapshot

IconState = Literal["healthy", "checking", "switching", "degraded", "down", "paused"]
ICON_STATES: tuple[IconState, ...] = ("healthy", "checking", "switching", "degraded", "down", "paused")

_MOVING = ("switching", "connecting", "disconnecting")
_GONE = ("offline", "exhausted", "error", "idle")


def icon_state(snapshot: Snapshot) -> IconState:
    """One of six icons: green only when the active profile was verified to carry traffic."""
    state, verdict = snapshot.state, snapshot.verdict
    if state == "paused":
        return "paused"
    if state in _MOVING:
        return "switching"
    if state == "verifying":
        return "checking"
    if state == "connected":
        if verdict == "healthy":
            return "healthy"
        if verdict in ("degraded", "blocked-target", "failing", "dns-poisoned", "dns-blocked"):
            return "degraded"
        if verdict in ("down", "leaking"):
            return "down"
        return "checking"
    if state in _GONE:
        return "down"
    return "checking"
