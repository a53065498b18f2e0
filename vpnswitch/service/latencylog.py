"""A record of probe latency per profile, for the desktop's history chart.

The runtime publishes each round's median latency in its snapshots but keeps no series; every running
instance (the headless daemon too) appends one line per round to ``latency.jsonl`` (rotated like the history)
so the chart survives restarts and covers time the tray app was not open. Fed from snapshot callbacks on the
runtime thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vpnswitch.core.history import HistoryLog
from vpnswitch.service.snapshot import Snapshot

LATENCY_FILE = "latency.jsonl"


class LatencyRecorder:
    def __init__(self, path: Path, *, log: HistoryLog | None = None) -> None:
        self.log = log or HistoryLog(path, max_bytes=1 << 20, backups=3)
        self._last_check: str | None = None

    def __call__(self, snapshot: Snapshot) -> None:
        """One sample per completed round of the active profile (a round moves ``last_check``)."""
        if snapshot.last_check is None or snapshot.last_check == self._last_check or snapshot.active is None:
            return
        self._last_check = snapshot.last_check
        status = next((p for p in snapshot.profiles if p.name == snapshot.active), None)
        ok = sum(1 for t in snapshot.targets if t.ok)
        entry: dict[str, Any] = {"profile": snapshot.active, "ok": ok, "total": len(snapshot.targets)}
        if status is not None and status.latency_ms is not None and ok:
            entry["latency_ms"] = status.latency_ms
        self.log.append("latency", entry)

    def entries(self) -> list[dict[str, Any]]:
        return self.log.entries()
