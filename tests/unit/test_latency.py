"""The learnt probe deadline: short on a fast clean path, patient on a slow or lossy one."""

from __future__ import annotations

import random

import pytest

from vpnswitch.core.latency import MARGIN, WARM_SAMPLES, WINDOW, ProbeDeadline
from vpnswitch.core.model import TIMED_OUT, RoundResult, TargetResult

FLOOR, CEILING = 0.5, 2.0


def test_until_it_has_seen_a_few_answers_it_waits_the_longest() -> None:
    d = ProbeDeadline(FLOOR, CEILING)
    assert d.timeout == CEILING
    for _ in range(WARM_SAMPLES - 1):
        d.observe(0.01)
    assert d.timeout == CEILING
    d.observe(0.01)
    assert d.timeout == FLOOR


def test_a_fast_path_gets_the_floor_a_slower_one_a_margin_over_its_slowest_recent_answer() -> None:
    fast, slow = ProbeDeadline(FLOOR, CEILING), ProbeDeadline(FLOOR, CEILING)
    for _ in range(20):
        fast.observe(0.02)
    assert fast.timeout == FLOOR
    rng = random.Random(1)
    answers = [rng.uniform(0.3, 0.8) for _ in range(200)]
    for seconds in answers:
        slow.observe(seconds)
    assert slow.timeout == pytest.approx(MARGIN * max(answers[-WINDOW:]))
    assert FLOOR < slow.timeout < CEILING


def test_a_slow_moment_is_remembered_for_a_while_then_forgotten() -> None:
    d = ProbeDeadline(FLOOR, CEILING)
    for _ in range(10):
        d.observe(0.02)
    d.observe(1.0)
    for _ in range(WINDOW - 1):
        d.observe(0.02)
        assert d.timeout == pytest.approx(MARGIN * 1.0)
    d.observe(0.02)
    assert d.timeout == FLOOR


def test_a_very_slow_path_never_waits_past_the_ceiling() -> None:
    d = ProbeDeadline(FLOOR, CEILING)
    for _ in range(10):
        d.observe(3.0)
    assert d.timeout == CEILING


def test_each_timeout_doubles_the_wait_until_an_answer_comes_back() -> None:
    d = ProbeDeadline(0.2, CEILING)
    for _ in range(10):
        d.observe(0.02)
    assert d.timeout == 0.2
    d.timed_out()
    assert d.timeout == pytest.approx(0.4)
    d.timed_out()
    assert d.timeout == pytest.approx(0.8)
    for _ in range(5):
        d.timed_out()
    assert d.timeout == CEILING
    d.observe(0.02)
    assert d.timeout == 0.2


def test_rounds_from_the_prober_feed_it_answers_and_only_real_timeouts() -> None:
    def round_of(*targets: TargetResult) -> RoundResult:
        return RoundResult(targets, 0.0)

    d = ProbeDeadline(0.2, CEILING)
    for _ in range(WARM_SAMPLES):
        d.feed_result(round_of(TargetResult("a", "canary", True, 204, 20.0)))
    assert d.timeout == 0.2
    # Refused at once, or a block page: the path answered, nothing to wait longer for.
    d.feed_result(round_of(TargetResult("a", "canary", True, 204, 20.0),
                           TargetResult("b", "must-reach", False, 403, 25.0, "unexpected status 403"),
                           TargetResult("c", "must-reach", False, None, None, "connection refused")))
    assert d.timeout == 0.2
    d.feed_result(round_of(TargetResult("a", "canary", True, 204, 20.0),
                           TargetResult("c", "canary", False, None, None, TIMED_OUT)))
    assert d.timeout == pytest.approx(0.4)


def test_loss_makes_it_patient_not_jumpy() -> None:
    """Answers that needed a retransmission (a second late) keep the wait long on a lossy path."""
    rng = random.Random(7)
    d = ProbeDeadline(FLOOR, CEILING)
    waits = []
    for _ in range(300):
        lost = rng.random() < 0.3
        d.feed_round([0.03 + (1.0 if lost else 0.0)], 0)
        waits.append(d.timeout)
    assert min(waits[50:]) > 1.0


def test_new_bounds_keep_what_was_learnt() -> None:
    d = ProbeDeadline(FLOOR, CEILING)
    for _ in range(10):
        d.observe(1.2)
    learnt = d.timeout
    d.set_bounds(0.2, 1.0)
    assert d.timeout == 1.0 < learnt
    d.set_bounds(3.0, 1.0)  # a floor above the ceiling is clamped, not trusted
    assert d.timeout == 1.0
