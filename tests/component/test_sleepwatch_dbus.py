"""The sleep watcher against python-dbusmock's logind template on a private system bus.

The mock is a real D-Bus service on a real dbus-daemon; the test makes it emit ``PrepareForSleep`` exactly as
logind does around a suspend, and checks the watcher reports both edges, survives noise, and stops promptly.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.nmmock import NmMock, dbus_mock
from vpnswitch.system.sleepwatch import LOGIND, MANAGER, MANAGER_PATH, SleepWatch


@pytest.fixture
def logind(tmp_path: Path) -> Iterator[NmMock]:
    with dbus_mock(tmp_path / "bus", "logind", LOGIND) as mock:
        yield mock


class Seen:
    def __init__(self) -> None:
        self.values: list[bool] = []
        self.changed = threading.Condition()

    def __call__(self, going: bool) -> None:
        with self.changed:
            self.values.append(going)
            self.changed.notify_all()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[bool]:
        with self.changed:
            self.changed.wait_for(lambda: len(self.values) >= count, timeout)
            return list(self.values)


def test_both_edges_of_a_suspend_are_reported(logind: NmMock) -> None:
    seen = Seen()
    watch = SleepWatch(seen, bus=logind.address)
    assert watch.start(), watch.problem
    try:
        # Other signals from logind are not a sleep.
        logind.emit(MANAGER_PATH, MANAGER, "PrepareForShutdown", "b", [True])
        logind.emit(MANAGER_PATH, MANAGER, "PrepareForSleep", "b", [True])
        logind.emit(MANAGER_PATH, MANAGER, "PrepareForSleep", "b", [False])
        assert seen.wait_for(2) == [True, False]
        time.sleep(0.3)
        assert seen.values == [True, False]
    finally:
        began = time.monotonic()
        watch.stop()
        assert time.monotonic() - began < 2.0


def test_no_logind_on_the_bus_is_reported_not_raised(tmp_path: Path) -> None:
    watch = SleepWatch(lambda going: None, bus=f"unix:path={tmp_path / 'no-such-bus'}")
    assert watch.start() is False
    assert "cannot follow logind's sleep signal" in watch.problem
    watch.stop()
