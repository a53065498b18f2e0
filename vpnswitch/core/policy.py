"""Failover policy as pure functions: candidate order, quarantine backoff, the crash-loop cap, failback."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from vpnswitch.core.model import EngineConfig, ProfileInfo, Quarantine

MASK64 = (1 << 64) - 1


def next_random(seed: int) -> tuple[int, float]:
    """A splitmix64 step: (new seed, uniform float in [0, 1)). Keeps the engine pure and replayable."""
    seed = (seed + 0x9E3779B97F4A7C15) & MASK64
    z = seed
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    z ^= z >> 31
    return seed, (z >> 11) / float(1 << 53)


def quarantine_seconds(strikes: int, initial: float, cap: float, unit: float) -> float:
    """Exponential backoff (initial, doubling, capped) with ±10 % jitter so profiles don't retry in lockstep."""
    base = min(cap, initial * (2 ** max(0, strikes - 1)))
    return base * (0.9 + 0.2 * unit)


def jittered_interval(low: float, high: float, unit: float) -> float:
    """Probe spacing drawn uniformly from [low, high]: a fixed cadence is a fingerprint for DPI."""
    return low + (high - low) * unit


def ranked(config: EngineConfig) -> list[ProfileInfo]:
    """Enabled profiles in the user's order; the privacy preference moves Tor profiles to the front."""
    enabled = [p for p in config.profiles if p.enabled]
    if config.preference == "privacy":
        return sorted(enabled, key=lambda p: 0 if p.is_tor else 1)
    return enabled


def candidates(
    config: EngineConfig,
    now: float,
    quarantine: Mapping[str, Quarantine],
    errors: Mapping[str, str],
    exclude: Sequence[str] = (),
    after_dpi_kill_of: ProfileInfo | None = None,
) -> list[ProfileInfo]:
    """Profiles that may be tried now, best first.

    After a DPI-style kill of a UDP profile (it worked, then stopped carrying traffic) profiles on other
    transports (TCP/443, obfuscated, proxies) go first: another plain UDP tunnel is likely to die the same way.
    """
    usable = [
        p for p in ranked(config)
        if p.name not in exclude and p.name not in errors
        and (p.name not in quarantine or quarantine[p.name].until <= now)
    ]
    if after_dpi_kill_of is not None and after_dpi_kill_of.transport == "udp":
        usable.sort(key=lambda p: 1 if p.transport == "udp" else 0)
    return usable


def crash_loop_engaged(switch_times: Sequence[float], now: float, cap: int, window: float) -> bool:
    """True when ``cap`` automatic switches already happened within ``window``: stop switching."""
    return sum(1 for t in switch_times if now - t < window) >= cap


def failback_targets(
    config: EngineConfig,
    active: str,
    now: float,
    quarantine: Mapping[str, Quarantine],
    errors: Mapping[str, str],
) -> list[ProfileInfo]:
    """Higher-ranked profiles than ``active`` that are out of quarantine, best first."""
    order = ranked(config)
    names = [p.name for p in order]
    if active not in names:
        return []
    higher = order[: names.index(active)]
    return [
        p for p in higher
        if p.name not in errors and (p.name not in quarantine or quarantine[p.name].until <= now)
    ]
