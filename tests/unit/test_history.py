from __future__ import annotations

import stat
from pathlib import Path

from vpnswitch.core.history import HistoryLog


def test_entries_round_trip_with_time_and_kind(tmp_path: Path) -> None:
    log = HistoryLog(tmp_path / "h.jsonl", wall=lambda: 1_800_000_000.5)
    log.append("switch", {"from": "wg", "to": "ovpn", "reason": "blocked", "detect_s": 3.2, "outage_s": 6.1})
    [entry] = log.entries()
    assert entry["kind"] == "switch" and entry["to"] == "ovpn" and entry["ts"] == "2027-01-15T08:00:00.500Z"
    assert stat.S_IMODE((tmp_path / "h.jsonl").stat().st_mode) == 0o600


def test_rotation_keeps_a_bounded_number_of_files(tmp_path: Path) -> None:
    log = HistoryLog(tmp_path / "h.jsonl", max_bytes=2000, backups=3)
    for i in range(500):
        log.append("verdict", {"i": i, "pad": "x" * 40})
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["h.jsonl", "h.jsonl.1", "h.jsonl.2", "h.jsonl.3"]
    entries = log.entries()
    assert entries[-1]["i"] == 499
    assert [e["i"] for e in entries] == sorted(e["i"] for e in entries)  # oldest first across files
    assert log.entries(limit=5)[0]["i"] == 495


def test_garbage_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    log = HistoryLog(path)
    log.append("state", {"state": "connected"})
    with open(path, "a") as handle:
        handle.write("{not json\n[1,2]\n")
    log.append("state", {"state": "offline"})
    assert [e["state"] for e in log.entries(kinds={"state"})] == ["connected", "offline"]


def test_an_unwritable_history_does_not_raise(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    log = HistoryLog(blocker / "h.jsonl")
    log.append("state", {})  # logged as a warning; failover must go on
    assert log.entries() == []
