"""When things happened in the lab, seen from outside the daemon: the censor's rule taking effect, the
daemon's probe rounds arriving at the lab's web server, and which way out an answer came through.

Shared by the failover and Tor benchmarks, so that both time the same way:

- a scenario's clock starts when the censor's rule is **in place**: the moment ``nft -f`` returned (the
  transaction is committed by then), not the moment before it was started;
- an answer counts only if the request **started after** that moment and the site saw it coming from the
  **backup's** address (the lab's web server returns the source address it saw, after a VPN server's NAT).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from tests.lab.harness import Lab
from vpnswitch.system.probe import USER_AGENT

PROBE_QUIET = 0.3  # a probe round is over when no request of it arrived for this long


def apply(trigger: Callable[[], None]) -> tuple[float, float]:
    """Run the censor's change; (wall time before it, wall time it is in place)."""
    before = time.time()
    trigger()
    return before, time.time()


def exit_address(lab: Lab, profile: Mapping[str, Any]) -> str:
    """The source address the lab's web server sees for traffic through this profile."""
    backend = profile["backend"]
    if backend == "wireguard":
        return lab.wg_server_ip
    if backend == "openvpn":
        return lab.ovpn_server_ip
    if backend == "tor":
        from tests.lab.tornet import RELAY_IP  # the only exit of the private Tor network

        return RELAY_IP
    raise ValueError(f"no known exit address for backend {backend!r}")


def backup_addresses(lab: Lab, profiles: list[dict[str, Any]]) -> set[str]:
    """Exit addresses of every profile but the first that the first does not share: answers from these
    can only have come through a backup."""
    first = exit_address(lab, profiles[0])
    backups = {exit_address(lab, p) for p in profiles[1:]} - {first}
    if not backups:
        raise ValueError("the backups share the first profile's exit address: answers could not be told apart")
    return backups


def probe_times(lab: Lab, source: str, since: float) -> list[float]:
    """Arrival times of the daemon's probe requests from ``source`` at the lab's web server."""
    return [float(r["t"]) for r in lab.site_requests(since)
            if r.get("from") == source and r.get("agent") == USER_AGENT]


def wait_probe_round(lab: Lab, source: str, since: float, limit: float) -> float:
    """Wall time of the last request of the first complete probe round from ``source`` after ``since``."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        seen = probe_times(lab, source, since)
        if seen and time.time() - seen[-1] >= PROBE_QUIET:
            return seen[-1]
        time.sleep(0.05)
    raise TimeoutError(f"no probe round from {source} within {limit:g} s")


def last_probe_before(lab: Lab, source: str, moment: float, since: float) -> float | None:
    """The last probe request from ``source`` that arrived before ``moment``."""
    earlier = [t for t in probe_times(lab, source, since) if t < moment]
    return earlier[-1] if earlier else None


def stratified_delays(count: int, span: float, unit: Callable[[], float]) -> list[float]:
    """``count`` delays spread over ``[0, span)``: one uniformly inside each of ``count`` equal slices,
    in shuffled order, so that even five samples cover the whole cycle (a block right after a probe too)."""
    delays = [(i + unit()) * span / count for i in range(count)]
    order = sorted(range(count), key=lambda _: unit())
    return [delays[i] for i in order]
