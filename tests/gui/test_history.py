"""The history window, offscreen: timeline with reasons, a latency chart per profile, filtered by day."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCharts import QLineSeries

from tests.gui.fakes import FakePort, cell, command_profile, sample_history
from vpnswitch.core.config import Config
from vpnswitch.core.history import HistoryLog
from vpnswitch.service.latencylog import LatencyRecorder
from vpnswitch.service.snapshot import EMPTY, ProfileStatus, TargetStatus
from vpnswitch.ui import history_model
from vpnswitch.ui.history_window import HistoryWindow
from vpnswitch.ui.workers import Workers

END = time.mktime((2026, 11, 28, 21, 0, 0, 0, 0, -1))


@pytest.fixture
def window(qtbot: Any, tmp_path: Path) -> HistoryWindow:
    history, latency = sample_history(END)
    port = FakePort(Config(profiles=(command_profile("wg-home"),)), tmp_path / "config.json", history=history,
                    latency=latency)
    w = HistoryWindow(port, Workers())
    qtbot.addWidget(w)
    w.resize(1000, 720)
    w.show()
    qtbot.waitUntil(lambda: not w.loading)
    return w


def series(window: HistoryWindow) -> dict[str, int]:
    """Points per profile (a profile's line is drawn in pieces where samples are missing)."""
    counts: dict[str, int] = {}
    for s in window.chart.series():
        if isinstance(s, QLineSeries):
            counts[s.name()] = counts.get(s.name(), 0) + s.count()
    return counts


def test_timeline_and_chart_show_every_day_then_one(qtbot: Any, window: HistoryWindow, artifacts: Path) -> None:
    days = [window.day.itemText(i) for i in range(window.day.count())]
    assert days == ["All days", "2026-11-28", "2026-11-27"]
    all_rows = window.table.rowCount()
    assert all_rows == 2 * 11  # a day: connected, 3 × (verdict, switch), pause, resume, offline, online
    assert series(window) == {"ovpn-tcp": 40, "tor-bridges": 40, "wg-home": 120}
    pieces = [s.objectName() for s in window.chart.series() if s.name() == "wg-home"]
    assert len(pieces) == 4  # two runs a day (before and after ovpn-tcp), never a line across the night
    visible = [m.series().name() for m in window.chart.legend().markers() if m.isVisible()]
    assert visible == ["ovpn-tcp", "tor-bridges", "wg-home"]
    qtbot.wait(200)  # the chart lays itself out on the next event-loop pass
    window.grab().save(str(artifacts / "history.png"))

    window.day.setCurrentIndex(1)
    assert window.table.rowCount() == all_rows // 2
    assert window.status.text() == f"{all_rows // 2} events"
    assert series(window) == {"ovpn-tcp": 20, "tor-bridges": 20, "wg-home": 60}
    first = [cell(window.table, 0, c).text() for c in range(4)]
    assert first[1:3] == ["switched", "tor-bridges"]
    assert first[3] == ("wg-home → tor-bridges: wg-home stopped carrying traffic (x.com unreachable 3 times) "
                        "(offline for 6.2 s)")
    kinds = {cell(window.table, r, 1).text() for r in range(window.table.rowCount())}
    assert kinds == {"switched", "health", "connected", "your action", "network lost", "network back"}
    verdict = next(r for r in range(window.table.rowCount()) if cell(window.table, r, 1).text() == "health")
    assert cell(window.table, verdict, 3).text().startswith("failing: ")
    qtbot.wait(200)
    window.grab().save(str(artifacts / "history-one-day.png"))


def test_refresh_picks_up_new_entries_and_keeps_the_day(qtbot: Any, window: HistoryWindow) -> None:
    window.day.setCurrentIndex(1)
    port = window.port
    assert isinstance(port, FakePort)
    port.history_entries.append({"ts": "2026-11-28T20:00:00.000Z", "t": END - 1800, "kind": "hold",
                                 "profile": "wg-home", "switches": 5})
    before = window.table.rowCount()
    window.refresh_button.click()
    qtbot.waitUntil(lambda: not window.loading)
    assert window.day.currentText() == "2026-11-28"
    assert window.table.rowCount() == before + 1
    assert cell(window.table, 0, 3).text() == "5 switches in a short time; holding still"


def test_empty_history(qtbot: Any, tmp_path: Path) -> None:
    port = FakePort(Config(), tmp_path / "config.json")
    w = HistoryWindow(port, Workers())
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: not w.loading)
    assert w.table.rowCount() == 0 and series(w) == {}
    assert w.status.text() == "0 events"


def test_latency_recorder_writes_one_sample_per_round(tmp_path: Path) -> None:
    log = HistoryLog(tmp_path / "latency.jsonl")
    recorder = LatencyRecorder(tmp_path / "latency.jsonl", log=log)
    profile = ProfileStatus("wg", "command", True, "active", None, "", 48.5)
    targets = (TargetStatus("http://127.0.0.1:9/", "canary", True, 204, 48.5, ""),
               TargetStatus("http://localhost:9/", "canary", False, None, None, "timed out"))
    snap = EMPTY.__class__(**{**EMPTY.__dict__, "state": "connected", "active": "wg", "profiles": (profile,),
                              "targets": targets, "last_check": "2026-11-28T10:00:00.000Z"})
    recorder(snap)
    recorder(snap)  # the same round published twice (another field changed): one sample
    recorder(snap.__class__(**{**snap.__dict__, "last_check": "2026-11-28T10:00:09.000Z"}))
    entries = recorder.entries()
    assert [(e["profile"], e["latency_ms"], e["ok"], e["total"]) for e in entries] == [("wg", 48.5, 1, 2)] * 2
    failed = snap.__class__(**{**snap.__dict__, "last_check": "2026-11-28T10:00:19.000Z",
                               "targets": tuple(t.__class__(**{**t.__dict__, "ok": False}) for t in targets)})
    recorder(failed)
    assert "latency_ms" not in recorder.entries()[-1]  # no answer is not "0 ms"
    assert [s.points[0][1] for s in history_model.latency_series(recorder.entries())] == [48.5]


def test_history_model_skips_bookkeeping_and_bad_lines() -> None:
    entries: list[dict[str, Any]] = [
        {"kind": "state", "t": 1.0}, {"kind": "switch", "t": "bad"}, {"kind": "switch", "t": 2.0, "to": "b"},
        {"kind": "latency", "t": 3.0, "profile": "b", "latency_ms": True}]
    rows = history_model.timeline(entries)
    assert [(r.kind, r.profile) for r in rows] == [("switch", "b")]
    assert rows[0].when == datetime.fromtimestamp(2.0).astimezone()
    assert history_model.latency_series(entries) == []
