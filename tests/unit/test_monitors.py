from __future__ import annotations

from vpnswitch.service.monitors import SleepDetector, StallDetector
from vpnswitch.system.netinfo import Counters


def feed(detector: StallDetector, samples: list[tuple[float, int, int]]) -> list[float]:
    return [s.since for t, rx, tx in samples if (s := detector.feed(t, Counters(rx, tx))) is not None]


def test_stall_needs_the_whole_window_without_rx_while_tx_grows() -> None:
    d = StallDetector(window=2.0, busy_kbps=64)
    samples = [(t / 2, 1000 + (500 * t if t <= 4 else 2000), 1000 + 500 * t) for t in range(0, 16)]
    # rx stops growing at t=2.0; tx keeps going; reported once the stall covers 2 s (at t=4.0).
    assert feed(d, samples) == [2.0]


def test_a_single_received_byte_ends_the_episode() -> None:
    d = StallDetector(window=1.0, busy_kbps=64)
    stalls = feed(d, [(0.0, 0, 0), (0.5, 0, 10), (1.0, 0, 20), (1.5, 0, 30), (2.0, 5, 40), (2.5, 5, 50),
                      (3.0, 5, 60), (3.5, 5, 70)])
    assert stalls == [0.0, 2.0]


def test_an_idle_tunnel_is_not_a_stall() -> None:
    d = StallDetector(window=1.0, busy_kbps=64)
    assert feed(d, [(t / 2, 100, 100) for t in range(20)]) == []


def test_counter_reset_is_not_mistaken_for_anything() -> None:
    d = StallDetector(window=1.0, busy_kbps=64)
    assert feed(d, [(0.0, 5000, 5000), (0.5, 10, 10), (1.0, 20, 20), (1.5, 30, 30)]) == []


def test_busy_follows_the_traffic_rate() -> None:
    d = StallDetector(window=2.0, busy_kbps=64)
    for t in range(12):
        d.feed(t / 2, Counters(t * 10_000, t * 10_000))
    assert d.busy  # 320 kbit/s
    for t in range(12, 40):
        d.feed(t / 2, Counters(110_000, 110_000))
    assert not d.busy


def test_sleep_is_a_gap_between_boot_time_and_monotonic_time() -> None:
    d = SleepDetector(gap=5.0)
    assert d.feed(100.0, 100.0) is None
    assert d.feed(100.5, 100.5) is None
    assert d.feed(101.0, 104.0) is None  # small scheduling jitter
    assert d.feed(101.5, 3704.5) == 3600.0
