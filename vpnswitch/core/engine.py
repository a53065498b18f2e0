"""The failover engine: a pure state machine, ``step(state, event, now) -> (state, actions)``.

No I/O, no clock, no randomness from outside: the state carries its own PRNG seed, so every run with the
same events is the same run, and every transition is a table test.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from vpnswitch.core import dnshealth, health, policy
from vpnswitch.core.config import Timings
from vpnswitch.core.model import (
    Action,
    CancelTimer,
    ConfigChanged,
    Connect,
    ConnectDone,
    Connected,
    Connecting,
    Disconnect,
    DisconnectDone,
    Disconnecting,
    EngineConfig,
    Error,
    Event,
    Exhausted,
    HardFailure,
    HotStandbysReady,
    Idle,
    Notify,
    Offline,
    Outcome,
    Phase,
    Precheck,
    PrecheckDone,
    Probe,
    Quarantine,
    Record,
    Remember,
    Resumed,
    RoundDone,
    RoundResult,
    SetTimer,
    StallSuspected,
    Start,
    Stop,
    Suspending,
    SwitchInfo,
    TimerFired,
    TrafficBusy,
    UnderlayDown,
    UnderlayUp,
    UserCheck,
    UserClearError,
    UserPause,
    UserResume,
    UserSwitch,
    Verdict,
    Verifying,
    Watch,
)

# Timer names. Probe timers carry the connect generation as their token, so one left over from an earlier
# attempt is ignored.
T_PROBE = "probe"
T_VERIFY = "verify-timeout"
T_RETRY = "retry"
T_FAILBACK = "failback"

FAILBACK_CHECK_EVERY = 60.0
# Per-network memory also keeps the kind of way out that worked there, under "<network>#way-out".
WAY_OUT_KEY = "#way-out"
HISTORY_ROUNDS = 20
HEALTHY_RESETS_STRIKES_AFTER = 600.0


@dataclass(frozen=True)
class EngineState:
    config: EngineConfig
    phase: Phase = Idle()
    gen: int = 0
    round_seq: int = 0
    round_floor: int = 0
    rounds_in_flight: frozenset[int] = frozenset()
    outcomes: tuple[Outcome, ...] = ()
    last_result: RoundResult | None = None
    verdict: Verdict = Verdict.UNKNOWN
    trouble_since: float | None = None
    quarantine: Mapping[str, Quarantine] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    auto_switch_times: tuple[float, ...] = ()
    last_switch_at: float = -math.inf
    hold: bool = False
    paused: bool = False
    busy: bool = False
    network: str | None = None
    memory: Mapping[str, str] = field(default_factory=dict)
    switch: SwitchInfo | None = None
    seed: int = 0x5EED
    burst: int = 0  # evidence rounds still to launch, staggered, after a stall
    last_check_at: float | None = None
    warned: str = ""  # the last "cannot switch" warning, so it is told once, not every round
    ready_hot_standbys: frozenset[str] = frozenset()  # derived from the runtime's HotStandby records
    stalled: bool = False  # the tunnel's traffic stalled since the last good round (passive evidence)
    asleep: bool = False  # between "about to sleep" and the wake-up: failures then are the sleep's doing
    dns: str = ""  # what the network's DNS does wrong (or that lookups leave outside the tunnel), for people
    dns_told: frozenset[str] = frozenset()  # DNS problems already told, so each is told once, not every round

    @property
    def active(self) -> str | None:
        """The profile that is (or is becoming) the way out."""
        phase = self.phase
        if isinstance(phase, (Connecting, Verifying, Connected, Disconnecting)):
            return phase.profile
        if isinstance(phase, (Offline, Error)):
            return phase.profile
        if isinstance(phase, Exhausted):
            return phase.holding
        return None

    @property
    def state_name(self) -> str:
        """The name shown to people: switching covers the whole hand-over, paused overrides a steady state."""
        if (self.switch is not None and self.switch.from_profile is not None
                and isinstance(self.phase, (Disconnecting, Connecting, Verifying))):
            return "switching"
        if self.paused and isinstance(self.phase, (Connected, Exhausted, Idle)):
            return "paused"
        return self.phase.name


class _Out:
    """Collects actions while a transition is computed."""

    def __init__(self) -> None:
        self.actions: list[Action] = []

    def __call__(self, *actions: Action) -> None:
        self.actions.extend(actions)


def initial_state(config: EngineConfig, seed: int = 0x5EED) -> EngineState:
    return EngineState(config=config, seed=seed)


def step(state: EngineState, event: Event, now: float) -> tuple[EngineState, list[Action]]:
    out = _Out()
    new = _dispatch(state, event, now, out)
    if new.phase != state.phase or new.state_name != state.state_name:
        out(Record("state", {"state": new.state_name, "phase": new.phase.name, "profile": new.active}))
    return new, out.actions


# ------------------------------------------------------------------------------------------- helpers


def _random(s: EngineState) -> tuple[EngineState, float]:
    seed, unit = policy.next_random(s.seed)
    return replace(s, seed=seed), unit


def _timings(s: EngineState) -> Timings:
    return s.config.timings


def _reset_evidence(s: EngineState) -> EngineState:
    return replace(
        s, outcomes=(), last_result=None, verdict=Verdict.UNKNOWN, trouble_since=None,
        rounds_in_flight=frozenset(), round_floor=s.round_seq, burst=0, stalled=False, dns="",
    )


def _schedule_probe(s: EngineState, now: float, out: _Out, delay: float | None = None) -> EngineState:
    if delay is None:
        s, unit = _random(s)
        t = _timings(s)
        delay = policy.jittered_interval(t.probe_interval_min, t.probe_interval_max, unit)
    out(SetTimer(T_PROBE, now + delay, s.gen))
    return s


def _failure_rounds(s: EngineState, now: float) -> int:
    """Dead rounds needed before giving up the active profile.

    Fewer when the tunnel's own traffic stalled (passive evidence, independent of the probes) and the profile
    a switch would go to is a hot standby that is ready: that switch costs a fraction of a second, is known
    to work, and is undone by failback, so waiting for more evidence would cost the user more than a wrong
    switch. Never fewer than two rounds; without the stall (an idle tunnel, or loss that still lets traffic
    through) the full rule applies.
    """
    t = _timings(s)
    if not s.stalled or not _next_is_ready_standby(s, now):
        return t.failure_rounds
    return t.standby_failure_rounds  # the config keeps it within [2, failure_rounds]


def _next_is_ready_standby(s: EngineState, now: float) -> bool:
    """Whether a failover from the active profile would land on a hot standby whose last check passed."""
    active = s.active
    if active is None or not s.ready_hot_standbys:
        return False
    options = policy.candidates(s.config, now, s.quarantine, s.errors, exclude=(active,),
                                after_dpi_kill_of=s.config.profile(active))
    return bool(options) and options[0].name in s.ready_hot_standbys


def _launch_round(s: EngineState, profile: str, out: _Out) -> EngineState:
    if len(s.rounds_in_flight) >= max(2, _timings(s).failure_rounds):
        return s
    round_id = s.round_seq + 1
    out(Probe(profile, s.gen, round_id))
    return replace(s, round_seq=round_id, rounds_in_flight=s.rounds_in_flight | {round_id})


def _start_connect(s: EngineState, profile: str, now: float, out: _Out) -> EngineState:
    s = _reset_evidence(replace(s, gen=s.gen + 1))
    out(CancelTimer(T_PROBE), CancelTimer(T_VERIFY), CancelTimer(T_RETRY), Watch(None, s.gen), Connect(profile, s.gen))
    return replace(s, phase=Connecting(profile, now))


def _quarantine(s: EngineState, profile: str, reason: str, now: float) -> EngineState:
    t = _timings(s)
    previous = s.quarantine.get(profile)
    strikes = (previous.strikes if previous else 0) + 1
    s, unit = _random(s)
    seconds = policy.quarantine_seconds(strikes, t.quarantine_initial, t.quarantine_max, unit)
    quarantine = dict(s.quarantine)
    quarantine[profile] = Quarantine(until=now + seconds, strikes=strikes, reason=reason)
    return replace(s, quarantine=quarantine)


def _choose_start(s: EngineState, now: float) -> str | None:
    options = policy.candidates(s.config, now, s.quarantine, s.errors)
    network = s.network or ""
    if not s.config.per_network_memory:
        return policy.start_choice(options, None, None)
    return policy.start_choice(options, s.memory.get(network), s.memory.get(network + WAY_OUT_KEY))


def _no_candidate(s: EngineState, now: float, reason: str, out: _Out, holding: str | None = None) -> EngineState:
    """Nothing can be tried now: Error when every profile needs the user, Exhausted (retrying) otherwise."""
    s = replace(s, switch=None)
    out(CancelTimer(T_PROBE), CancelTimer(T_VERIFY), Watch(None, s.gen))
    usable = [p for p in policy.ranked(s.config) if p.name not in s.errors]
    if not usable:
        if not policy.ranked(s.config):
            out(Notify("error", "No profiles", "Add or enable a VPN profile in Settings."))
            return replace(s, phase=Error(None, "no enabled profiles"))
        message = "; ".join(f"{name}: {msg}" for name, msg in s.errors.items())
        out(Notify("error", "Every profile needs attention", message),
            Record("error", {"message": message}))
        if holding is not None:
            out(Disconnect(holding, s.gen))
        return replace(s, phase=Error(None, message))
    retry_at = min(s.quarantine[p.name].until for p in usable if p.name in s.quarantine) if s.quarantine else now
    out(SetTimer(T_RETRY, max(retry_at, now)),
        Notify("failure", "No working VPN", f"{reason}. Every profile failed; retrying automatically."),
        Record("exhausted", {"reason": reason, "retry_in_s": round(max(0.0, retry_at - now), 1),
                             "holding": holding}))
    return replace(s, phase=Exhausted(now, holding), verdict=Verdict.DOWN)


def _leave_exhausted(s: EngineState, target: str, reason: str, kind: str, now: float, out: _Out) -> EngineState:
    """Connect ``target``, taking the tunnel that was held closed down first (or reconnecting it, if the same)."""
    holding = s.phase.holding if isinstance(s.phase, Exhausted) else None
    out(CancelTimer(T_RETRY))
    if holding is not None:
        return _begin_switch(s, holding, target, reason, kind, now, now, out)
    s = replace(s, switch=SwitchInfo(None, target, reason, kind, now, now))
    return _start_connect(s, target, now, out)


def _go_next(s: EngineState, failed: str, reason: str, now: float, out: _Out, dpi_kill: bool = False) -> EngineState:
    """After ``failed`` could not be used: connect the next candidate, keeping the switch's timing."""
    failed_info = s.config.profile(failed) if dpi_kill else None
    info = s.switch
    tried = (info.tried if info is not None else ()) + (failed,)
    options = policy.candidates(s.config, now, s.quarantine, s.errors, exclude=tried,
                                after_dpi_kill_of=failed_info)
    if not options:
        return _no_candidate(s, now, reason, out)
    target = options[0].name
    if info is None:
        info = SwitchInfo(failed, target, reason, "failover", now, now, tried)
    else:
        info = replace(info, to_profile=target, tried=tried)
    s = replace(s, switch=info)
    return _start_connect(s, target, now, out)


def _begin_switch(
    s: EngineState, from_profile: str, to_profile: str | None, reason: str, kind: str,
    trouble_since: float, now: float, out: _Out,
) -> EngineState:
    """Take the active profile down first: two full tunnels are never up at once."""
    if to_profile is not None:
        tried = (from_profile,) if kind == "failover" else ()
        s = replace(s, switch=SwitchInfo(from_profile, to_profile, reason, kind, trouble_since, now, tried))
    if kind in ("failover", "failback"):
        window = _timings(s).crash_loop_window
        s = replace(s, auto_switch_times=tuple(t for t in s.auto_switch_times if now - t < window) + (now,))
    s = replace(s, last_switch_at=now)
    out(CancelTimer(T_PROBE), CancelTimer(T_VERIFY), CancelTimer(T_FAILBACK), Watch(None, s.gen),
        Disconnect(from_profile, s.gen))
    return replace(s, phase=Disconnecting(from_profile, to_profile, now))


def _fail_active(
    s: EngineState, profile: str, verdict: Verdict, reason: str, now: float, out: _Out, *, dpi_kill: bool = False,
) -> EngineState:
    """The active profile failed: switch if policy allows; otherwise stay and say why once."""
    s = replace(s, verdict=verdict)
    trouble_since = s.trouble_since if s.trouble_since is not None else now
    out(Record("verdict", {"profile": profile, "verdict": str(verdict), "reason": reason,
                           "detect_s": round(now - trouble_since, 3)}))
    t = _timings(s)

    def warn_once(key: str, title: str, message: str) -> EngineState:
        if s.warned == key:
            return s
        out(Notify("failure", title, message))
        return replace(s, warned=key)

    if s.paused or not s.config.auto_switch:
        return warn_once(f"paused:{profile}", f"{profile} is not working",
                         f"{profile} {reason}. Automatic switching is paused.")
    if policy.crash_loop_engaged(s.auto_switch_times, now, t.crash_loop_switches, t.crash_loop_window):
        s = replace(s, hold=True)
        out(Record("hold", {"profile": profile, "switches": len(s.auto_switch_times)}))
        return warn_once(f"hold:{profile}", "Switching too often",
                         f"{len(s.auto_switch_times)} switches in {t.crash_loop_window / 60:.0f} minutes; "
                         f"staying on {profile} until things settle. You can still switch from the menu.")
    s = _quarantine(s, profile, reason, now)
    failed_info = s.config.profile(profile) if dpi_kill else None
    options = policy.candidates(s.config, now, s.quarantine, s.errors, exclude=(profile,),
                                after_dpi_kill_of=failed_info)
    if not options:
        if verdict is Verdict.BLOCKED_TARGET:
            # The tunnel works, only a site is blocked through it and nothing else is available: staying
            # beats going without a tunnel.
            return warn_once(f"stay:{profile}", f"{profile} cannot reach a site",
                             f"{profile} {reason}. No other profile is available right now.")
        if verdict is not Verdict.DOWN:
            # Its tunnel still holds the routes: keep it, so traffic fails closed instead of leaking.
            return _no_candidate(s, now, f"{profile} {reason}", out, holding=profile)
        out(Disconnect(profile, s.gen), Watch(None, s.gen))
        s = replace(s, phase=Disconnecting(profile, None, now))
        return replace(s, switch=SwitchInfo(profile, profile, reason, "failover", trouble_since, now))
    return _begin_switch(s, profile, options[0].name, f"{profile} {reason}", "failover", trouble_since, now, out)


def _verified(s: EngineState, profile: str, now: float, out: _Out) -> EngineState:
    s = replace(s, phase=Connected(profile, now), verdict=Verdict.HEALTHY, warned="", hold=False)
    quarantine = dict(s.quarantine)
    # A profile that just proved itself keeps its strike count (so a flapping one backs off further) but is
    # no longer quarantined.
    if profile in quarantine:
        q = quarantine[profile]
        quarantine[profile] = replace(q, until=min(q.until, now))
    s = replace(s, quarantine=quarantine)
    out(CancelTimer(T_VERIFY))
    info = s.switch
    if info is not None:
        outage = now - info.trouble_since
        detect = info.detected_at - info.trouble_since
        entry = {"from": info.from_profile, "to": profile, "reason": info.reason, "trigger": info.kind,
                 "detect_s": round(detect, 3), "outage_s": round(outage, 3)}
        if info.from_profile is None:
            out(Record("connected", {"profile": profile, "trigger": info.kind, "took_s": round(outage, 3)}))
        else:
            out(Record("switch", entry))
        if info.kind == "failover" and info.from_profile != profile:
            out(Notify("switch", f"Switched to {profile}",
                       f"{info.reason}; switched to {profile} in {outage:.1f} s."))
        elif info.kind == "retry" or info.from_profile == profile:
            out(Notify("recovered", f"Back online through {profile}", f"{profile} works again."))
        s = replace(s, switch=None)
    network = s.network
    if network and s.config.per_network_memory:
        memory = dict(s.memory)
        memory[network] = profile
        out(Remember(network, profile))
        connected_info = s.config.profile(profile)
        if connected_info is not None:  # the kind of way out that works here, for when that profile cannot
            memory[network + WAY_OUT_KEY] = connected_info.way_out
            out(Remember(network + WAY_OUT_KEY, connected_info.way_out))
        s = replace(s, memory=memory)
    if s.config.failback:
        out(SetTimer(T_FAILBACK, now + FAILBACK_CHECK_EVERY))
    return _schedule_probe(s, now, out)


# ------------------------------------------------------------------------------------------ dispatch


# What a machine going to sleep produces, and what must not count against a profile.
_IGNORED_WHILE_ASLEEP = (RoundDone, StallSuspected, HardFailure)


def _dispatch(s: EngineState, event: Event, now: float, out: _Out) -> EngineState:
    phase = s.phase
    if s.asleep and (isinstance(event, _IGNORED_WHILE_ASLEEP)
                     or (isinstance(event, TimerFired) and event.name in (T_PROBE, T_VERIFY))):
        return s
    match event:
        case Start(network=network, memory=memory):
            s = replace(s, network=network, memory=dict(memory) or s.memory)
            if not isinstance(phase, (Idle, Error, Exhausted)):
                return s
            target = _choose_start(s, now)
            if target is None:
                return _no_candidate(s, now, "nothing to start with", out)
            s = replace(s, switch=SwitchInfo(None, target, "start", "start", now, now))
            return _start_connect(s, target, now, out)

        case Stop():
            out(CancelTimer(T_PROBE), CancelTimer(T_VERIFY), CancelTimer(T_RETRY), CancelTimer(T_FAILBACK),
                Watch(None, s.gen))
            active = s.active
            if active is not None and not isinstance(phase, Error):
                out(Disconnect(active, s.gen))
            return replace(_reset_evidence(s), phase=Idle(), switch=None)

        case ConfigChanged(config=config):
            return _config_changed(s, config, now, out)

        case ConnectDone(profile=profile, gen=gen, ok=ok, message=message, fatal=fatal):
            if gen != s.gen or not isinstance(phase, (Connecting, Offline)) or s.active != profile:
                return s
            if isinstance(phase, Offline):
                # A result that arrives while the network is down says nothing about the profile.
                return replace(s, phase=replace(phase, tunnel_up=ok))
            if ok:
                out(Watch(profile, s.gen), SetTimer(T_VERIFY, now + _timings(s).verify_timeout, s.gen))
                s = replace(s, phase=Verifying(profile, now))
                return _launch_round(s, profile, out)
            reason = message or "could not connect"
            out(Record("error" if fatal else "connect-failed", {"profile": profile, "message": reason,
                                                                "fatal": fatal}))
            if fatal:
                errors = dict(s.errors)
                errors[profile] = reason
                s = replace(s, errors=errors)
                out(Notify("error", f"{profile} needs attention", reason))
            else:
                s = _quarantine(s, profile, reason, now)
            return _go_next(s, profile, f"{profile}: {reason}", now, out)

        case DisconnectDone(profile=profile, ok=ok, message=message):
            if not isinstance(phase, Disconnecting) or phase.profile != profile:
                return s
            if not ok:
                out(Record("disconnect-failed", {"profile": profile, "message": message}))
            if phase.then is not None:
                return _start_connect(s, phase.then, now, out)
            reason = s.switch.reason if s.switch else "stopped"
            return _no_candidate(s, now, f"{profile} {reason}" if s.switch else reason, out)

        case RoundDone(profile=profile, gen=gen, round_id=round_id, result=result):
            s = replace(s, rounds_in_flight=s.rounds_in_flight - {round_id})
            if gen != s.gen or round_id <= s.round_floor or s.active != profile:
                return s
            if isinstance(phase, Verifying):
                return _verify_round(s, phase, result, now, out)
            if isinstance(phase, Connected):
                return _connected_round(s, phase, result, now, out)
            return s

        case TimerFired(name=name, token=token):
            return _timer(s, name, token, now, out)

        case HardFailure(profile=profile, gen=gen, reason=reason, since=since):
            if gen != s.gen or s.active != profile:
                return s
            if isinstance(phase, Offline):
                return replace(s, phase=replace(phase, tunnel_up=False))
            if isinstance(phase, (Connected, Verifying)):
                s = replace(s, trouble_since=since if s.trouble_since is None else min(s.trouble_since, since))
                if isinstance(phase, Verifying):
                    s = _quarantine(s, profile, reason, now)
                    return _begin_switch_or_next(s, profile, reason, now, out, tunnel_alive=False)
                return _fail_active(s, profile, Verdict.DOWN, reason, now, out)
            return s

        case StallSuspected(profile=profile, gen=gen, since=since):
            if gen != s.gen or not isinstance(phase, Connected) or phase.profile != profile:
                return s
            if s.trouble_since is None:
                s = replace(s, trouble_since=since)
            s = replace(s, stalled=True)
            if s.burst > 0:
                return s  # already looking
            s = _launch_round(s, profile, out)
            # The other evidence rounds start shortly after the first rather than after it: a blocked tunnel
            # makes every probe wait for its full timeout.
            out(SetTimer(T_PROBE, now + _timings(s).confirm_delay, s.gen))
            return replace(s, burst=_failure_rounds(s, now) - 2)

        case HotStandbysReady(profiles=ready):
            return replace(s, ready_hot_standbys=ready)

        case TrafficBusy(busy=busy):
            return replace(s, busy=busy)

        case UnderlayDown(reason=reason):
            if isinstance(phase, (Offline, Idle)):
                return s
            out(CancelTimer(T_PROBE), CancelTimer(T_VERIFY), CancelTimer(T_RETRY),
                Record("offline", {"reason": reason}))
            tunnel_up = isinstance(phase, (Connected, Verifying)) or (
                isinstance(phase, Exhausted) and phase.holding is not None)
            profile = s.active if not isinstance(phase, Disconnecting) else phase.then
            s = _reset_evidence(replace(s, switch=None if not tunnel_up else s.switch))
            return replace(s, phase=Offline(profile, now, tunnel_up), verdict=Verdict.UNKNOWN)

        case UnderlayUp(network=network):
            changed = network is not None and network != s.network
            s = replace(s, network=network if network is not None else s.network)
            if not isinstance(phase, Offline):
                return s
            out(Record("online", {"network": s.network, "changed": changed}))
            if phase.profile is None:
                target = _choose_start(s, now)
                if target is None:
                    return _no_candidate(s, now, "nothing to start with", out)
                return _start_connect(s, target, now, out)
            if not phase.tunnel_up:
                return _start_connect(s, phase.profile, now, out)
            return _reverify(s, phase.profile, now, out)

        case Suspending():
            out(CancelTimer(T_PROBE), Record("suspending", {"profile": s.active}))
            return _reset_evidence(replace(s, asleep=True))

        case Resumed(gap=gap):
            s = replace(s, asleep=False)
            out(Record("resumed", {"gap_s": round(gap, 1)}))
            if isinstance(phase, Connected):
                return _reverify(s, phase.profile, now, out)
            if isinstance(phase, Verifying):
                s = _reset_evidence(s)
                # Watched afresh: a failure reported while asleep was dropped, and must be found again.
                out(Watch(phase.profile, s.gen),
                    SetTimer(T_VERIFY, now + _timings(s).verify_timeout + _timings(s).resume_grace, s.gen))
                return _schedule_probe(replace(s, phase=Verifying(phase.profile, now)), now, out,
                                       _timings(s).resume_grace)
            return s

        case UserSwitch(profile=target):
            info = s.config.profile(target)
            out(Record("user", {"action": "switch", "profile": target}))
            if info is None:
                return s
            errors = dict(s.errors)
            errors.pop(target, None)
            quarantine = dict(s.quarantine)
            quarantine.pop(target, None)
            s = replace(s, errors=errors, quarantine=quarantine, hold=False, warned="")
            active = s.active
            if active == target and isinstance(phase, (Connected, Verifying, Connecting)):
                return s
            if isinstance(phase, Exhausted):
                return _leave_exhausted(s, target, "switched by you", "user", now, out)
            if isinstance(phase, Disconnecting):
                # A take-down is already under way: connect the user's choice once it is done.
                pending = s.switch or SwitchInfo(phase.profile, target, "switched by you", "user", now, now)
                return replace(s, phase=replace(phase, then=target),
                               switch=replace(pending, to_profile=target, reason="switched by you", kind="user"))
            if active is not None and isinstance(phase, (Connected, Verifying, Connecting, Offline)):
                # Whatever may still be up goes down first: two full tunnels are never up at once.
                return _begin_switch(s, active, target, "switched by you", "user", now, now, out)
            s = replace(s, switch=SwitchInfo(active, target, "switched by you", "user", now, now))
            return _start_connect(s, target, now, out)

        case UserPause():
            out(Record("user", {"action": "pause"}))
            return replace(s, paused=True)

        case UserResume():
            out(Record("user", {"action": "resume"}))
            s = replace(s, paused=False, hold=False, warned="", auto_switch_times=())
            if isinstance(phase, Connected) and s.verdict in (Verdict.FAILING, Verdict.DOWN, Verdict.LEAKING,
                                                               Verdict.BLOCKED_TARGET):
                return _fail_active(s, phase.profile, s.verdict, "was failing while paused", now, out)
            if isinstance(phase, Exhausted):
                out(SetTimer(T_RETRY, now))
            return s

        case UserCheck():
            active = s.active
            if active is not None and isinstance(phase, (Connected, Verifying)):
                return _launch_round(s, active, out)
            return s

        case UserClearError(profile=profile):
            errors = {k: v for k, v in s.errors.items() if profile is not None and k != profile}
            s = replace(s, errors=errors)
            if isinstance(phase, Error):
                target = _choose_start(s, now)
                if target is not None:
                    return _start_connect(s, target, now, out)
            return s

        case PrecheckDone(profile=profile, alive=alive):
            if not isinstance(phase, Connected) or alive is False:
                return s
            t = _timings(s)
            if s.busy or now - s.last_switch_at < t.failback_interval or s.paused:
                return s
            return _begin_switch(s, phase.profile, profile, f"{profile} works again (preferred)", "failback",
                                 now, now, out)
    return s


def _begin_switch_or_next(
    s: EngineState, profile: str, reason: str, now: float, out: _Out, *, tunnel_alive: bool = True,
) -> EngineState:
    tried = (s.switch.tried if s.switch else ()) + (profile,)
    options = policy.candidates(s.config, now, s.quarantine, s.errors, exclude=tried)
    then = options[0].name if options else None
    if then is None and tunnel_alive:
        # Its tunnel is up but carries nothing, and nothing else is left: keep it so traffic fails closed.
        out(CancelTimer(T_VERIFY))
        return _no_candidate(s, now, reason, out, holding=profile)
    out(Disconnect(profile, s.gen))
    info = s.switch or SwitchInfo(profile, then or profile, reason, "failover", s.trouble_since or now, now)
    info = replace(info, tried=tried)
    if then is not None:
        info = replace(info, to_profile=then)
    return replace(s, switch=info, phase=Disconnecting(profile, then, now))


def _reverify(s: EngineState, profile: str, now: float, out: _Out) -> EngineState:
    """After a resume or the network's return: forget old evidence, give the tunnel a grace period, probe."""
    s = _reset_evidence(s)
    out(Watch(profile, s.gen))
    s = replace(s, phase=Connected(profile, now))
    return _schedule_probe(s, now, out, _timings(s).resume_grace)


def _verify_round(s: EngineState, phase: Verifying, result: RoundResult, now: float, out: _Out) -> EngineState:
    outcome = health.classify_round(result)
    s = replace(s, last_result=result, last_check_at=now)
    if outcome in (Outcome.OK, Outcome.DEGRADED, Outcome.BLOCKED_TARGET):
        s = replace(s, outcomes=(outcome,))
        s = _verified(s, phase.profile, now, out)
        s = replace(s, verdict=health.verdict_for(s.outcomes, 99, 99))
        return _note_dns(s, phase.profile, result, out)
    failed = phase.failed_rounds + 1
    t = _timings(s)
    if failed < t.failure_rounds:
        s = replace(s, phase=replace(phase, failed_rounds=failed))
        return _schedule_probe(s, now, out, t.confirm_delay)
    reason = health.describe_failure(Verdict.FAILING if outcome is Outcome.DEAD else Verdict.LEAKING, result, failed)
    out(Record("verify-failed", {"profile": phase.profile, "reason": reason}))
    s = _quarantine(s, phase.profile, reason, now)
    return _begin_switch_or_next(s, phase.profile, f"{phase.profile} {reason}", now, out)


def _connected_round(s: EngineState, phase: Connected, result: RoundResult, now: float, out: _Out) -> EngineState:
    t = _timings(s)
    failure_rounds = _failure_rounds(s, now)
    outcome = health.classify_round(result)
    outcomes = (s.outcomes + (outcome,))[-HISTORY_ROUNDS:]
    verdict = health.verdict_for(outcomes, failure_rounds, t.blocked_target_rounds)
    s = replace(s, outcomes=outcomes, last_result=result, last_check_at=now)
    if outcome is Outcome.OK:
        if s.verdict is not Verdict.HEALTHY and s.verdict is not Verdict.UNKNOWN:
            out(Record("verdict", {"profile": phase.profile, "verdict": "healthy"}))
        s = replace(s, verdict=Verdict.HEALTHY, trouble_since=None, warned="", burst=0, stalled=False)
        q = s.quarantine.get(phase.profile)
        if q is not None and now - phase.since >= HEALTHY_RESETS_STRIKES_AFTER:
            s = replace(s, quarantine={k: v for k, v in s.quarantine.items() if k != phase.profile})
        return _schedule_probe(_note_dns(s, phase.profile, result, out), now, out)
    if s.trouble_since is None:
        s = replace(s, trouble_since=result.started)
    if verdict in (Verdict.FAILING, Verdict.LEAKING, Verdict.BLOCKED_TARGET):
        rounds = t.blocked_target_rounds if verdict is Verdict.BLOCKED_TARGET else failure_rounds
        reason = health.describe_failure(verdict, result, rounds)
        s2 = _fail_active(s, phase.profile, verdict, reason, now, out, dpi_kill=verdict is Verdict.FAILING)
        if isinstance(s2.phase, Connected):
            # Stayed (paused, held, or nothing better): keep watching at the normal pace.
            return _schedule_probe(s2, now, out)
        return s2
    if s.verdict is not Verdict.DEGRADED:
        out(Record("verdict", {"profile": phase.profile, "verdict": "degraded",
                               "failed": list(result.failed_urls)}))
    s = replace(s, verdict=Verdict.DEGRADED)
    # Suspicion: look again soon instead of at the next jittered round.
    return _schedule_probe(s, now, out, t.confirm_delay)


def _note_dns(s: EngineState, profile: str, result: RoundResult, out: _Out) -> EngineState:
    """What a round that found the tunnel working says about DNS: named in the verdict, told once, never a switch.

    A poisoned or failing network resolver is the network's doing: every tunnel that leaves DNS to it gets
    the same answer, so switching would only walk through the profiles (the tunnel itself was judged by the
    address its own resolvers gave). Lookups that leave outside the tunnel are a leak of their own, told with
    the fix for this kind of profile.
    """
    info = s.config.profile(profile)
    backend = info.backend if info is not None else ""
    finding = result.dns
    notes: list[str] = []
    if finding is not None and finding.is_dns_problem:
        if s.verdict is Verdict.HEALTHY:
            s = replace(s, verdict=Verdict.DNS_POISONED if finding.state is dnshealth.DnsState.POISONED
                        else Verdict.DNS_BLOCKED)
        problem = dnshealth.describe(finding)
        fix = dnshealth.fix_for(backend, profile)
        notes.append(f"{problem[0].upper()}{problem[1:]}. {fix}")
        key = f"{profile}|{finding.state}|{finding.host}|{finding.how}"
        if key not in s.dns_told:
            title = ("This network's DNS lies about a site" if finding.state is dnshealth.DnsState.POISONED
                     else "This network's DNS is blocked")
            out(Notify("dns", title, f"{notes[-1]} The VPN itself works, so vpnswitch stays on {profile}."),
                Record("dns", {"profile": profile, "state": str(finding.state), "host": finding.host,
                               "how": finding.how, "resolver": finding.system.server,
                               "answer": list(finding.system.addresses), "message": notes[-1]}))
            s = replace(s, dns_told=s.dns_told | {key})
    if result.dns_leak:
        leak = dnshealth.describe_leak(result.dns_leak, profile, backend)
        notes.append(leak)
        key = f"{profile}|leak|{','.join(result.dns_leak)}"
        if key not in s.dns_told:
            out(Notify("dns", f"DNS lookups leave outside {profile}", leak),
                Record("dns-leak", {"profile": profile, "resolvers": list(result.dns_leak), "message": leak}))
            s = replace(s, dns_told=s.dns_told | {key})
    return replace(s, dns=" ".join(notes))


def _timer(s: EngineState, name: str, token: int, now: float, out: _Out) -> EngineState:
    phase = s.phase
    if name == T_PROBE:
        if token != s.gen or not isinstance(phase, (Connected, Verifying)):
            return s
        if s.burst > 0:
            out(SetTimer(T_PROBE, now + _timings(s).confirm_delay, s.gen))
            s = replace(s, burst=s.burst - 1)
        return _launch_round(s, phase.profile, out)
    if name == T_VERIFY:
        if token != s.gen or not isinstance(phase, Verifying):
            return s
        reason = f"did not answer within {_timings(s).verify_timeout:g} s of connecting"
        out(Record("verify-failed", {"profile": phase.profile, "reason": reason}))
        s = _quarantine(s, phase.profile, reason, now)
        return _begin_switch_or_next(s, phase.profile, f"{phase.profile} {reason}", now, out)
    if name == T_RETRY:
        if not isinstance(phase, Exhausted):
            return s
        if s.paused:
            return s
        options = policy.candidates(s.config, now, s.quarantine, s.errors)
        if not options:
            usable = [p.name for p in policy.ranked(s.config) if p.name not in s.errors]
            if not usable:
                return _no_candidate(s, now, "no usable profile", out)
            retry_at = min((s.quarantine[n].until for n in usable if n in s.quarantine), default=now)
            out(SetTimer(T_RETRY, max(retry_at, now + 1.0)))
            return s
        return _leave_exhausted(s, options[0].name, "retrying after every profile failed", "retry", now, out)
    if name == T_FAILBACK:
        if not isinstance(phase, Connected) or not s.config.failback:
            return s
        out(SetTimer(T_FAILBACK, now + FAILBACK_CHECK_EVERY))
        t = _timings(s)
        if s.paused or s.busy or s.hold or now - s.last_switch_at < t.failback_interval:
            return s
        if s.verdict is not Verdict.HEALTHY:
            return s
        targets = policy.failback_targets(s.config, phase.profile, now, s.quarantine, s.errors)
        if targets:
            out(Precheck(targets[0].name))
        return s
    return s


def _config_changed(s: EngineState, config: EngineConfig, now: float, out: _Out) -> EngineState:
    """Apply new settings without a restart; leave a working connection alone unless its profile went away."""
    names = {p.name for p in config.profiles if p.enabled}
    s = replace(
        s, config=config,
        quarantine={k: v for k, v in s.quarantine.items() if k in names},
        errors={k: v for k, v in s.errors.items() if k in names},
        memory={k: v for k, v in s.memory.items() if v in names or k.endswith(WAY_OUT_KEY)},
    )
    out(Record("config", {"profiles": [p.name for p in config.profiles if p.enabled]}))
    active = s.active
    phase = s.phase
    if active is not None and active not in names and isinstance(phase, (Connected, Verifying, Connecting)):
        options = policy.candidates(config, now, s.quarantine, s.errors, exclude=(active,))
        then = options[0].name if options else None
        return _begin_switch(s, active, then, f"{active} was removed or disabled", "user", now, now, out)
    if isinstance(phase, Exhausted):
        target = _choose_start(s, now)
        if target is not None:
            return _leave_exhausted(s, target, "settings changed", "retry", now, out)
        if phase.holding is not None and phase.holding not in names:
            out(Disconnect(phase.holding, s.gen))
            return replace(s, phase=replace(phase, holding=None))
    if isinstance(phase, Error):
        target = _choose_start(s, now)
        if target is not None:
            return _start_connect(s, target, now, out)
    return s
