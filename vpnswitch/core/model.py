"""The engine's vocabulary: phases, events and actions as small immutable values.

The engine turns (state, event, now) into (state, actions) and never does I/O itself; the runtime turns the
actions into work and feeds the results back as events. ``gen`` (the connect generation) ties every
result to the attempt that asked for it, so a late answer about an old attempt is recognised and ignored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Literal

from vpnswitch.core.config import Timings, WayOut
from vpnswitch.core.dnshealth import DnsFinding

RouteKind = Literal["tunnel", "proxy"]
Transport = Literal["udp", "tcp", "obfuscated", "proxy", "unknown"]


@dataclass(frozen=True)
class Route:
    """How traffic leaves through a profile: a tunnel interface, or a local proxy URL (socks5h://…)."""

    kind: RouteKind
    interface: str | None = None
    proxy: str | None = None
    dns: tuple[str, ...] = ()  # the tunnel's own resolvers (WireGuard's "DNS =", pushed by an OpenVPN server)

    def describe(self) -> str:
        return f"interface {self.interface}" if self.kind == "tunnel" else f"proxy {self.proxy}"


class Verdict(StrEnum):
    UNKNOWN = "unknown"
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    FAILING = "failing"
    DOWN = "down"
    LEAKING = "leaking"
    BLOCKED_TARGET = "blocked-target"
    # The tunnel works; the network's resolver lies about a target or fails. Never a reason to switch:
    # every tunnel that leaves DNS to the network would get the same answer.
    DNS_POISONED = "dns-poisoned"
    DNS_BLOCKED = "dns-blocked"


class Outcome(StrEnum):
    """What one probe round says about the active profile."""

    OK = "ok"
    DEGRADED = "degraded"  # some targets failed, but not in a pattern that means anything yet
    DEAD = "dead"  # no target answered: the tunnel is not carrying traffic
    BLOCKED_TARGET = "blocked-target"  # canaries answer but a must-reach site does not
    LEAK = "leak"  # traffic would leave outside the tunnel


# ------------------------------------------------------------------------------------------- evidence


TIMED_OUT = "timed out"  # a target's error when no answer came within the probe's timeout


@dataclass(frozen=True)
class TargetResult:
    url: str
    role: str
    ok: bool
    status: int | None = None
    latency_ms: float | None = None
    error: str = ""


@dataclass(frozen=True)
class RoundResult:
    targets: tuple[TargetResult, ...]
    started: float
    leak: str = ""  # why traffic would leak, when the egress check found it would
    dns: DnsFinding | None = None  # what the network's DNS does to the targets, the worst first
    dns_leak: tuple[str, ...] = ()  # the system's resolvers that are asked outside the tunnel

    @property
    def failed_urls(self) -> tuple[str, ...]:
        return tuple(t.url for t in self.targets if not t.ok)


# ---------------------------------------------------------------------------------------------- config


@dataclass(frozen=True)
class ProfileInfo:
    """What the engine knows of a profile: enough to rank it, nothing needed to drive it."""

    name: str
    backend: str
    transport: Transport = "unknown"
    route_kind: RouteKind = "tunnel"
    enabled: bool = True
    anonymising: bool = False  # its backend hides the user from the sites (Tor): the privacy preference ranks it first
    declared_way_out: WayOut | None = None  # the user's word wins (only they know a VPN is registered)

    @property
    def way_out(self) -> WayOut:
        if self.declared_way_out is not None:
            return self.declared_way_out
        if self.anonymising:
            return "tor"
        return "obfuscated" if self.transport in ("obfuscated", "proxy") else "plain"


@dataclass(frozen=True)
class EngineConfig:
    profiles: tuple[ProfileInfo, ...]
    timings: Timings
    auto_switch: bool = True
    failback: bool = True
    per_network_memory: bool = True
    preference: str = "speed"

    def profile(self, name: str) -> ProfileInfo | None:
        return next((p for p in self.profiles if p.name == name), None)


# ------------------------------------------------------------------------------------------ hot standby


class HotStandbyPhase(StrEnum):
    """Where a hot standby's background checks stand; the value is what ``status`` shows as ``warm``."""

    STARTING = "starting"
    READY = "ready"
    NOT_READY = "not ready"


@dataclass(frozen=True)
class HotStandby:
    """A hot standby: a profile kept running in the background (Tor) while another one is active.

    This record is the one source of truth about it: the engine's set of ready hot standbys and the
    snapshot's ``warm`` field are derived from it. (A profile that is merely idle and usable is shown in the
    state "standby"; that has nothing to do with this.)
    """

    phase: HotStandbyPhase = HotStandbyPhase.STARTING
    reason: str = ""  # why it is not ready
    refreshed_at: float = -math.inf  # when its connections were last started afresh

    @property
    def ready(self) -> bool:
        return self.phase is HotStandbyPhase.READY

    def passed(self) -> HotStandby:
        """Its check carried requests."""
        return replace(self, phase=HotStandbyPhase.READY, reason="")

    def failed(self, reason: str) -> HotStandby:
        """It could not start, or nothing answered through it."""
        return replace(self, phase=HotStandbyPhase.NOT_READY, reason=reason)

    def refreshed(self, now: float) -> HotStandby:
        return replace(self, refreshed_at=now)

    def needs_refresh(self, now: float, network_back_at: float, gap: float) -> bool:
        """Whether its next start should make its connections afresh: they may have died with the network (or
        a sleep) since they were last made, or it has not been ready and was last refreshed ``gap`` ago."""
        if self.refreshed_at < network_back_at:
            return True
        return self.phase is HotStandbyPhase.NOT_READY and now - self.refreshed_at >= gap

    def describe(self) -> str:
        return f"{self.phase}: {self.reason}" if self.phase is HotStandbyPhase.NOT_READY else str(self.phase)


# ---------------------------------------------------------------------------------------------- phases


@dataclass(frozen=True)
class Idle:
    name: str = "idle"


@dataclass(frozen=True)
class Connecting:
    profile: str
    since: float
    name: str = "connecting"


@dataclass(frozen=True)
class Verifying:
    profile: str
    since: float
    failed_rounds: int = 0
    name: str = "verifying"


@dataclass(frozen=True)
class Connected:
    profile: str
    since: float
    name: str = "connected"


@dataclass(frozen=True)
class Disconnecting:
    """Taking ``profile`` down; ``then`` is connected next (a switch), or nothing."""

    profile: str
    then: str | None
    since: float
    name: str = "disconnecting"


@dataclass(frozen=True)
class Offline:
    """The underlay is down: nothing is judged and nothing is switched until it returns."""

    profile: str | None
    since: float
    tunnel_up: bool = True
    name: str = "offline"


@dataclass(frozen=True)
class Exhausted:
    """Every profile failed; retrying as quarantines expire.

    ``holding`` is the last profile whose tunnel is left up though it carries nothing: failing closed means
    the user's traffic goes nowhere rather than straight past the censor in the clear.
    """

    since: float
    holding: str | None = None
    name: str = "exhausted"


@dataclass(frozen=True)
class Error:
    """Nothing can be tried without the user: every usable profile has a fatal error."""

    profile: str | None
    message: str
    name: str = "error"


Phase = Idle | Connecting | Verifying | Connected | Disconnecting | Offline | Exhausted | Error


@dataclass(frozen=True)
class Quarantine:
    until: float
    strikes: int
    reason: str


@dataclass(frozen=True)
class SwitchInfo:
    """A switch in progress: where from, where to, why, and when trouble was first seen."""

    from_profile: str | None
    to_profile: str
    reason: str
    kind: str  # failover | failback | user | start | retry
    trouble_since: float
    detected_at: float
    # Profiles that already failed during this switch: not tried again in it, even when their quarantine runs
    # out meanwhile (a blocked OpenVPN can take the whole connect timeout), so a switch that finds nothing
    # working ends in Exhausted — and the user is told — instead of going round in circles.
    tried: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------------- events


@dataclass(frozen=True)
class Start:
    network: str | None = None
    memory: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Stop:
    pass


@dataclass(frozen=True)
class ConfigChanged:
    config: EngineConfig


@dataclass(frozen=True)
class ConnectDone:
    profile: str
    gen: int
    ok: bool
    message: str = ""
    fatal: bool = False


@dataclass(frozen=True)
class DisconnectDone:
    profile: str
    gen: int
    ok: bool
    message: str = ""


@dataclass(frozen=True)
class RoundDone:
    profile: str
    gen: int
    round_id: int
    result: RoundResult


@dataclass(frozen=True)
class TimerFired:
    name: str
    token: int = 0


@dataclass(frozen=True)
class HardFailure:
    """The backend says the tunnel is gone, its process died, or its interface vanished."""

    profile: str
    gen: int
    reason: str
    since: float


@dataclass(frozen=True)
class StallSuspected:
    """Bytes go out but nothing comes back: probe now instead of at the next scheduled round."""

    profile: str
    gen: int
    since: float


@dataclass(frozen=True)
class TrafficBusy:
    busy: bool


@dataclass(frozen=True)
class UnderlayDown:
    reason: str = ""


@dataclass(frozen=True)
class UnderlayUp:
    network: str | None = None


@dataclass(frozen=True)
class Suspending:
    """The machine is about to sleep (logind's PrepareForSleep): nothing seen from now on is evidence."""


@dataclass(frozen=True)
class Resumed:
    gap: float


@dataclass(frozen=True)
class UserSwitch:
    profile: str


@dataclass(frozen=True)
class UserPause:
    pass


@dataclass(frozen=True)
class UserResume:
    pass


@dataclass(frozen=True)
class UserCheck:
    pass


@dataclass(frozen=True)
class UserClearError:
    profile: str | None = None


@dataclass(frozen=True)
class PrecheckDone:
    profile: str
    alive: bool | None  # None: the backend cannot tell without disrupting the active tunnel


@dataclass(frozen=True)
class HotStandbysReady:
    """The hot standbys whose last background check carried requests (derived from their ``HotStandby``)."""

    profiles: frozenset[str]


Event = (
    Start | Stop | ConfigChanged | ConnectDone | DisconnectDone | RoundDone | TimerFired | HardFailure
    | StallSuspected | TrafficBusy | UnderlayDown | UnderlayUp | Resumed | UserSwitch | UserPause | UserResume
    | UserCheck | UserClearError | PrecheckDone | HotStandbysReady | Suspending
)

# --------------------------------------------------------------------------------------------- actions


@dataclass(frozen=True)
class Connect:
    profile: str
    gen: int


@dataclass(frozen=True)
class Disconnect:
    profile: str
    gen: int


@dataclass(frozen=True)
class Probe:
    profile: str
    gen: int
    round_id: int


@dataclass(frozen=True)
class Precheck:
    profile: str


@dataclass(frozen=True)
class Watch:
    """Watch this profile's liveness and traffic (None: watch nothing)."""

    profile: str | None
    gen: int


@dataclass(frozen=True)
class SetTimer:
    name: str
    at: float
    token: int = 0


@dataclass(frozen=True)
class CancelTimer:
    name: str


@dataclass(frozen=True)
class Notify:
    kind: str  # switch | failure | error | recovered | info
    title: str
    message: str


@dataclass(frozen=True)
class Record:
    """One history entry; ``kind`` is state | verdict | switch | error | user."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Remember:
    network: str
    profile: str


Action = Connect | Disconnect | Probe | Precheck | Watch | SetTimer | CancelTimer | Notify | Record | Remember
