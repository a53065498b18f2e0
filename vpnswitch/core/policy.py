"""Failover policy as pure functions: candidate order, quarantine backoff, the crash-loop cap, failback."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from vpnswitch.core.model import EngineConfig, ProfileInfo, Quarantine, WayOut

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
    """Enabled profiles in the user's order. The privacy preference moves Tor to the front and registered
    VPNs (whitelisted by the authority, so not private) to the back."""
    enabled = [p for p in config.profiles if p.enabled]
    if config.preference == "privacy":
        return sorted(enabled, key=lambda p: {"tor": 0, "registered": 2}.get(p.way_out, 1))
    return enabled


def _after_dpi_kill(profile: ProfileInfo, killed: ProfileInfo, preference: str) -> int:
    """Group order after a DPI-style kill of a plain tunnel: the firewall recognises that kind of traffic, so
    disguised ways out go first and another tunnel of the same kind goes last.

    speed:   obfuscated, registered, plain on another transport, Tor, plain on the same transport
    privacy: Tor, obfuscated, plain on another transport, plain on the same transport, registered
    """
    way_out: WayOut = profile.way_out
    if way_out == "plain":
        same = profile.transport == killed.transport or "unknown" in (profile.transport, killed.transport)
        return {"speed": 4, "privacy": 3}[preference] if same else 2
    order = {"speed": {"obfuscated": 0, "registered": 1, "tor": 3},
             "privacy": {"tor": 0, "obfuscated": 1, "registered": 4}}
    return order.get(preference, order["speed"])[way_out]


def candidates(
    config: EngineConfig,
    now: float,
    quarantine: Mapping[str, Quarantine],
    errors: Mapping[str, str],
    exclude: Sequence[str] = (),
    after_dpi_kill_of: ProfileInfo | None = None,
) -> list[ProfileInfo]:
    """Profiles that may be tried now, best first.

    After a DPI-style kill of a plain tunnel (it worked, then stopped carrying traffic) obfuscated ways out
    go before other plain ones, and a plain tunnel on the same transport goes last: it is likely to die the
    same way (see ``_after_dpi_kill``; the user's order holds within each group).
    """
    usable = [
        p for p in ranked(config)
        if p.name not in exclude and p.name not in errors
        and (p.name not in quarantine or quarantine[p.name].until <= now)
    ]
    killed = after_dpi_kill_of
    if killed is not None and killed.way_out == "plain":
        usable.sort(key=lambda p: _after_dpi_kill(p, killed, config.preference))
    return usable


def start_choice(options: Sequence[ProfileInfo], remembered: str | None, remembered_way_out: str | None) -> str | None:
    """Where to start on a network: the profile that last worked there, else the first usable one of the kind
    that worked there (the network blocks what it blocks), else the best."""
    if not options:
        return None
    names = [p.name for p in options]
    if remembered in names:
        return remembered
    same_kind = [p.name for p in options if p.way_out == remembered_way_out]
    return same_kind[0] if same_kind else names[0]


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
