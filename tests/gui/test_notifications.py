"""Notification rules (coalescing, rate limit) and the fall-back when the session has no notification server."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import in_ci
from tests.gui.xsession import tied_to_parent
from vpnswitch.ui.notifications import FreedesktopNotifier, NotificationCenter
from vpnswitch.ui.notify_policy import Note, NotificationPolicy, merge

FAIL = Note("failure", "wg is not working", "wg stopped carrying traffic (x.com unreachable 3 times).")
SWITCH = Note("switch", "Switched to ovpn", "wg stopped carrying traffic (x.com unreachable 3 times); switched to "
                                            "ovpn in 6.2 s.")


def test_a_burst_waits_for_quiet_then_becomes_one_note() -> None:
    policy = NotificationPolicy(debounce=1.0, max_per_window=3, window=60)
    policy.offer(FAIL, 10.0)
    assert policy.flush(10.5) is None and policy.due(10.5) == 11.0
    policy.offer(SWITCH, 10.6)  # the debounce restarts
    assert policy.flush(11.2) is None
    note = policy.flush(11.6)
    assert note == SWITCH  # the switch says why; the failure before it is not repeated
    assert policy.pending == 0 and policy.due(20) is None


def test_more_than_the_rate_is_held_and_shown_together() -> None:
    policy = NotificationPolicy(debounce=0.0, max_per_window=2, window=60)
    shown = []
    for t in (0.0, 1.0):
        policy.offer(Note("failure", f"n{t}", f"m{t}"), t)
        shown.append(policy.flush(t))
    assert [n.title for n in shown if n] == ["n0.0", "n1.0"]
    policy.offer(Note("failure", "a", "first held"), 2.0)
    policy.offer(Note("error", "b", "second held"), 3.0)
    assert policy.flush(30.0) is None  # over the rate
    assert policy.due(30.0) == 60.0
    held = policy.flush(60.0)
    assert held is not None and held.title == "b" and held.message == "second held\na: first held"


def test_merge_keeps_each_reason_once_and_counts_the_rest() -> None:
    notes = [Note("failure", f"t{i}", f"reason {i % 5}") for i in range(8)]  # five reasons, three repeated
    merged = merge(notes)
    assert merged.message == "reason 0\nt1: reason 1\nt2: reason 2\n(+2)"


class Recorder:
    def __init__(self) -> None:
        self.notes: list[Note] = []

    def show(self, note: Note) -> None:
        self.notes.append(note)


@pytest.fixture
def bus_without_notifications(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if shutil.which("dbus-daemon") is None:
        if in_ci():
            pytest.fail("needs dbus-daemon (Debian: dbus-daemon)", pytrace=False)
        pytest.skip("needs dbus-daemon")
    bus = subprocess.Popen(tied_to_parent(["dbus-daemon", "--session", "--nofork", "--nopidfile",
                                           "--print-address=1"]),
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    assert bus.stdout is not None
    address = bus.stdout.readline().decode().strip()
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    try:
        yield address
    finally:
        bus.terminate()
        bus.wait(timeout=10)
        bus.stdout.close()


def test_without_a_notification_server_the_tray_balloon_is_used(qtbot: Any, bus_without_notifications: str) -> None:
    assert FreedesktopNotifier.available()
    primary = FreedesktopNotifier()
    fallback = Recorder()
    center = NotificationCenter(primary, fallback)
    center.policy.debounce = 0.0
    center.offer("switch", "Switched to ovpn", SWITCH.message)
    qtbot.waitUntil(lambda: len(fallback.notes) == 1, timeout=10_000)
    assert fallback.notes[0].title == "Switched to ovpn"
    assert primary.sent == []
    primary.close()


def test_turned_off_means_nothing_is_shown(qtbot: Any) -> None:
    shown = Recorder()
    center = NotificationCenter(shown, enabled=False)
    center.offer("failure", "x", "y")
    qtbot.wait(1500)
    assert shown.notes == []
    center.show_now("info", "Check", "asked for")  # an answer to "Check now" still comes
    assert [n.title for n in shown.notes] == ["Check"]
