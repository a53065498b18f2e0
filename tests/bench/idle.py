"""How much a running vpnswitch process costs while it only watches: CPU and memory over a time window."""

from __future__ import annotations

import time

import psutil

SETTLE_SECONDS = 5.0  # start-up work (imports, the first probe rounds) is not idle cost


def sample_idle(pid: int, seconds: float, settle: float = SETTLE_SECONDS) -> dict[str, float]:
    """CPU time and memory of ``pid`` over ``seconds``, after ``settle`` seconds; RSS sampled every second."""
    proc = psutil.Process(pid)
    time.sleep(settle)
    cpu0, t0 = proc.cpu_times(), time.monotonic()
    rss = peak = proc.memory_info().rss
    while time.monotonic() - t0 < seconds:
        time.sleep(1.0)
        rss = proc.memory_info().rss
        peak = max(peak, rss)
    cpu1, t1 = proc.cpu_times(), time.monotonic()
    used = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    return {"seconds": round(t1 - t0, 1), "cpu_seconds": round(used, 3),
            "cpu_percent": round(100 * used / (t1 - t0), 3), "rss_mb": round(rss / 2**20, 1),
            "peak_rss_mb": round(peak / 2**20, 1), "threads": proc.num_threads()}
