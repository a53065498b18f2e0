"""Immutable snapshots of the runtime, published to the GUI, the control socket and tests, and how they are built."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from vpnswitch.core.config import Profile
from vpnswitch.core.engine import EngineState
from vpnswitch.core.history import iso
from vpnswitch.core.model import HotStandby


@dataclass(frozen=True)
class TargetStatus:
    url: str
    role: str
    ok: bool
    status: int | None
    latency_ms: float | None
    error: str


@dataclass(frozen=True)
class ProfileStatus:
    name: str
    backend: str
    enabled: bool
    # active | connecting | verifying | standby (idle and usable) | quarantined | error | disabled
    state: str
    quarantined_until: str | None  # ISO time, when quarantined
    reason: str  # why it is quarantined or in error
    latency_ms: float | None  # median latency of its last successful round
    warm: str = ""  # a hot standby's HotStandbyPhase: starting | ready | not ready ("" when not one)


@dataclass(frozen=True)
class Snapshot:
    state: str
    active: str | None
    verdict: str
    paused: bool
    holding: bool
    network: str | None
    profiles: tuple[ProfileStatus, ...]
    last_check: str | None
    targets: tuple[TargetStatus, ...]
    message: str
    auto_switch: bool
    preference: str

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["profiles"] = [asdict(p) for p in self.profiles]
        data["targets"] = [asdict(t) for t in self.targets]
        return data


EMPTY = Snapshot("idle", None, "unknown", False, False, None, (), None, (), "", True, "speed")


def build_snapshot(state: EngineState, profiles: tuple[Profile, ...], *, broken: Mapping[str, str],
                   hot_standbys: Mapping[str, HotStandby], latency: Mapping[str, float], now: float,
                   wall: float) -> Snapshot:
    """What the engine, the profiles that cannot be built and the hot standbys amount to, for publishing.

    ``now`` is monotonic time (what the engine counts in), ``wall`` the same moment as wall-clock time.
    """
    s = state
    active = s.active
    phase_name = s.phase.name
    statuses = []
    for p in profiles:
        q = s.quarantine.get(p.name)
        quarantined = q is not None and q.until > now
        reason = ""
        if not p.enabled:
            status = "disabled"
        elif p.name in broken:
            status, reason = "error", broken[p.name]
        elif p.name in s.errors:
            status, reason = "error", s.errors[p.name]
        elif p.name == active and phase_name in ("connected", "offline"):
            status = "active"
        elif p.name == active and phase_name in ("connecting", "verifying", "disconnecting"):
            status = phase_name
        elif quarantined:
            assert q is not None
            status, reason = "quarantined", q.reason
        else:
            status = "standby"
        warm = ""
        hot = hot_standbys.get(p.name)
        if status == "standby" and hot is not None:
            warm = str(hot.phase)
            reason = hot.reason or reason
        until = iso(wall + (q.until - now)) if quarantined and q is not None else None
        statuses.append(ProfileStatus(p.name, p.backend, p.enabled, status, until, reason, latency.get(p.name), warm))
    targets: tuple[TargetStatus, ...] = ()
    if s.last_result is not None:
        targets = tuple(TargetStatus(r.url, r.role, r.ok, r.status, r.latency_ms, r.error)
                        for r in s.last_result.targets)
    last_check = iso(wall - (now - s.last_check_at)) if s.last_check_at is not None else None
    # Otherwise what the network's DNS does wrong, if anything: the tunnel works, but people must hear it.
    message = s.phase.message if phase_name == "error" else s.dns  # type: ignore[union-attr]
    return Snapshot(
        state=s.state_name, active=active, verdict=str(s.verdict), paused=s.paused, holding=s.hold,
        network=s.network, profiles=tuple(statuses), last_check=last_check, targets=targets,
        message=message, auto_switch=s.config.auto_switch, preference=s.config.preference,
    )
