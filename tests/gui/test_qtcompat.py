"""Emitting signals from Python must not eat references to True (PySide6 6.12.0 on Python 3.11 does)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal

from vpnswitch.ui import qtcompat


class Source(QObject):
    changed = Signal()
    carried = Signal(object, object)


def test_emits_through_the_helper_keep_true_alive(qapp: object) -> None:
    source = Source()
    received: list[object] = []
    source.carried.connect(lambda a, b: received.append((a, b)))
    before = sys.getrefcount(True), sys.getrefcount(False)
    for i in range(500):
        qtcompat.emit(source.changed)
        qtcompat.emit(source.carried, i, None)
    lost = (before[0] - sys.getrefcount(True), before[1] - sys.getrefcount(False))
    assert max(lost) < 10, lost  # 1000 were at stake; other threads may hold or drop one or two meanwhile
    assert len(received) == 500


def test_the_probe_matches_what_emit_really_does(qapp: object) -> None:
    source = Source()
    before = sys.getrefcount(True)
    for _ in range(64):
        source.changed.emit()  # the raw call, on purpose
    lost = before - sys.getrefcount(True)
    for _ in range(lost):
        qtcompat._incref(True)  # put back what this test took
    assert (lost == 64) == qtcompat.EMIT_LOSES_REFERENCE


def test_a_day_of_snapshots_through_the_bridge_leaves_true_alone(qtbot: object, tmp_path: object) -> None:
    from pathlib import Path

    from tests.gui.fakes import FakePort, command_profile, snapshot_for
    from vpnswitch.core.config import Config
    from vpnswitch.ui.bridge import RuntimeBridge

    config = Config(profiles=(command_profile("wg"),))
    port = FakePort(config, Path(str(tmp_path)) / "config.json")
    bridge = RuntimeBridge()
    bridge.attach(port)
    seen: list[object] = []
    bridge.snapshot.connect(seen.append)
    snap = snapshot_for(config, state="connected", active="wg", verdict="healthy")
    before = sys.getrefcount(True)
    for _ in range(3000):  # more emits than True has references in a fresh interpreter
        port.push(snap)
    assert before - sys.getrefcount(True) < 10  # unrelated code may hold one or two; 3000 were at stake
    assert len(seen) == 3000
