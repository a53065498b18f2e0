"""History: every state change, verdict and switch as JSON lines under the state dir, rotated by size."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 2 << 20
DEFAULT_BACKUPS = 5


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class HistoryLog:
    """Append-only and thread-safe. ``history.jsonl`` is newest; ``history.jsonl.1`` … older ones."""

    def __init__(
        self,
        path: Path,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        backups: int = DEFAULT_BACKUPS,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        self._wall = wall
        self._lock = threading.Lock()

    def append(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        now = self._wall()
        entry = {"ts": iso(now), "t": round(now, 3), "kind": kind, **data}
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                if self.path.exists() and self.path.stat().st_size + len(line) > self.max_bytes:
                    self._rotate()
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                with os.fdopen(fd, "a", encoding="utf-8") as handle:
                    handle.write(line)
            except OSError as exc:
                # History is for explaining, not for running: a full disk must not stop failover.
                log.warning("cannot write history to %s: %s", self.path, exc.strerror)
        return entry

    def _rotate(self) -> None:
        for index in range(self.backups - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{index}")
            if older.exists():
                os.replace(older, self.path.with_name(f"{self.path.name}.{index + 1}"))
        os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))

    def _files_oldest_first(self) -> list[Path]:
        files = [self.path.with_name(f"{self.path.name}.{i}") for i in range(self.backups, 0, -1)]
        return [f for f in [*files, self.path] if f.exists()]

    def entries(self, *, limit: int | None = None, kinds: set[str] | None = None) -> list[dict[str, Any]]:
        """Entries oldest first (the newest ``limit`` of them); lines that do not parse are skipped."""
        result: list[dict[str, Any]] = []
        for entry in self._iter():
            if kinds is None or entry.get("kind") in kinds:
                result.append(entry)
        return result[-limit:] if limit else result

    def _iter(self) -> Iterator[dict[str, Any]]:
        with self._lock:
            files = self._files_oldest_first()
        for file in files:
            try:
                with open(file, encoding="utf-8", errors="replace") as handle:
                    for line in handle:
                        try:
                            entry = json.loads(line)
                        except json.JSONDecodeError:
                            continue
                        if isinstance(entry, dict):
                            yield entry
            except OSError:
                continue
