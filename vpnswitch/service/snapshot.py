"""Immutable snapshots of the runtime, published to the GUI, the control socket and tests."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


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
    state: str  # active | connecting | verifying | standby | quarantined | error | disabled
    quarantined_until: str | None  # ISO time, when quarantined
    reason: str  # why it is quarantined or in error
    latency_ms: float | None  # median latency of its last successful round
    warm: str = ""  # a hot standby's background state: starting | ready | not ready ("" when not one)


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
