"""The typed hot-standby record: its transitions, when it starts its connections afresh, and what it shows."""

from __future__ import annotations

import math

import pytest

from vpnswitch.core.model import HotStandby, HotStandbyPhase

GAP = 60.0
NEVER = -math.inf


def test_a_new_standby_is_starting_and_not_ready() -> None:
    record = HotStandby()
    assert record.phase is HotStandbyPhase.STARTING and not record.ready
    assert (record.reason, record.describe()) == ("", "starting")


def test_a_failed_check_is_not_ready_with_its_reason_and_a_passed_one_clears_it() -> None:
    failed = HotStandby().failed("nothing answered through it (http://a: timed out)")
    assert failed.phase is HotStandbyPhase.NOT_READY and not failed.ready
    assert failed.describe() == "not ready: nothing answered through it (http://a: timed out)"
    passed = failed.passed()
    assert passed.ready and passed.reason == "" and passed.describe() == "ready"
    again = passed.failed("its check did not finish")
    assert not again.ready and again.reason == "its check did not finish"


def test_transitions_return_new_records_and_keep_the_refresh_time() -> None:
    record = HotStandby().refreshed(12.0)
    failed = record.failed("tor is not installed")
    assert record.phase is HotStandbyPhase.STARTING and record.reason == ""  # unchanged
    assert failed.refreshed_at == failed.passed().refreshed_at == 12.0
    with pytest.raises(AttributeError):
        record.phase = HotStandbyPhase.READY  # type: ignore[misc]


def test_the_first_start_is_not_a_refresh() -> None:
    assert not HotStandby().needs_refresh(now=5.0, network_back_at=NEVER, gap=GAP)


def test_the_network_coming_back_after_the_last_refresh_asks_for_a_fresh_start() -> None:
    record = HotStandby().refreshed(100.0).passed()
    assert not record.needs_refresh(now=150.0, network_back_at=90.0, gap=GAP)
    assert record.needs_refresh(now=150.0, network_back_at=120.0, gap=GAP)
    assert not record.refreshed(150.0).needs_refresh(now=151.0, network_back_at=120.0, gap=GAP)


@pytest.mark.parametrize(("since", "expected"), [(GAP - 1, False), (GAP, True), (GAP * 3, True)])
def test_a_standby_that_stays_not_ready_is_refreshed_at_most_once_per_gap(since: float, expected: bool) -> None:
    record = HotStandby().refreshed(100.0).failed("nothing answered through it")
    assert record.needs_refresh(now=100.0 + since, network_back_at=NEVER, gap=GAP) is expected


def test_a_ready_or_starting_standby_is_never_refreshed_for_its_age() -> None:
    for record in (HotStandby().refreshed(0.0), HotStandby().refreshed(0.0).passed()):
        assert not record.needs_refresh(now=10 * GAP, network_back_at=NEVER, gap=GAP)


def test_the_phase_values_are_what_status_json_has_always_shown_as_warm() -> None:
    assert [str(p) for p in HotStandbyPhase] == ["starting", "ready", "not ready"]
