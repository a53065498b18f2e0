"""The offline gate: a dead tunnel only counts once the local network is known to answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vpnswitch.core.model import Event, UnderlayDown, UnderlayUp
from vpnswitch.service.offlinegate import OfflineGate


class FakeCheck:
    timeout = 1.0

    def __init__(self) -> None:
        self.known: set[str] = set()
        self.answer: bool | None = True
        self.calls = 0

    def knows(self, network: str | None) -> bool:
        return (network or "") in self.known

    def check(self, network: str | None, tunnels: frozenset[str] = frozenset()) -> bool | None:
        self.calls += 1
        if self.answer:
            self.known.add(network or "")
        return self.answer


class Harness:
    def __init__(self) -> None:
        self.check = FakeCheck()
        self.events: list[object] = []
        self.pending: list[Callable[[], None]] = []
        self.gate = OfflineGate(self.check, self.run_task, self.handle, lambda: "home", lambda: frozenset({"wg0"}))

    def run_task(self, fn: Callable[[], Any], timeout: float, done: Callable[[Any], None], label: str) -> None:
        self.pending.append(lambda: done(fn()))

    def finish(self) -> None:
        while self.pending:
            self.pending.pop(0)()

    def handle(self, event: Event) -> None:
        self.events.append(event)


def test_unknown_network_delivers_at_once() -> None:
    h = Harness()
    assert not h.gate.hold(lambda: h.events.append("round"))
    assert h.check.calls == 0


def test_working_local_network_lets_the_failure_through() -> None:
    h = Harness()
    h.check.known.add("home")
    assert h.gate.hold(lambda: h.events.append("round 1"))
    assert h.gate.hold(lambda: h.events.append("round 2"))  # joins the check already running
    assert h.events == []
    h.finish()
    assert h.events == ["round 1", "round 2"] and h.check.calls == 1


def test_silent_local_network_means_offline_first_and_back_when_it_answers() -> None:
    h = Harness()
    h.check.known.add("home")
    h.check.answer = False
    h.gate.hold(lambda: h.events.append("round"))
    h.finish()
    assert h.events == [UnderlayDown(h.gate.unreachable or ""), "round"]  # the engine is offline before the round
    assert not h.gate.hold(lambda: None)  # while offline, results go straight on (the engine ignores them)
    h.gate.recheck()
    h.finish()
    assert h.events[-1] == "round"
    h.check.answer = True
    h.gate.recheck()
    h.finish()
    assert h.events[-1] == UnderlayUp("home") and h.gate.unreachable is None


def test_learning_happens_once_per_network() -> None:
    h = Harness()
    h.gate.learn()
    h.finish()
    assert h.check.calls == 1 and h.check.knows("home")
    h.gate.learn()
    h.finish()
    assert h.check.calls == 1 and h.events == []
