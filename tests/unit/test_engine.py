"""Table tests for the pure engine: every transition, with a fake clock (just numbers)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from vpnswitch.core import engine
from vpnswitch.core.config import Timings
from vpnswitch.core.engine import EngineState, step
from vpnswitch.core.model import (
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
    Exhausted,
    HardFailure,
    HotStandbysReady,
    Notify,
    Offline,
    Precheck,
    PrecheckDone,
    Probe,
    ProfileInfo,
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
    TargetResult,
    TimerFired,
    TrafficBusy,
    UnderlayDown,
    UnderlayUp,
    UserPause,
    UserResume,
    UserSwitch,
    Verdict,
    Verifying,
    Watch,
)

TIMINGS = Timings()
PROFILES = (
    ProfileInfo("wg", "wireguard", "udp"),
    ProfileInfo("ovpn-udp", "openvpn", "udp"),
    ProfileInfo("ovpn-tcp", "openvpn", "tcp"),
)


def cfg(**kw: object) -> EngineConfig:
    base = EngineConfig(PROFILES, TIMINGS)
    return replace(base, **kw)  # type: ignore[arg-type]


def ok_round(t: float = 0.0) -> RoundResult:
    return RoundResult((TargetResult("https://a.test/", "canary", True, 204, 30.0),
                        TargetResult("https://b.test/", "canary", True, 204, 35.0),
                        TargetResult("https://x.test/", "must-reach", True, 200, 50.0)), t)


def dead_round(t: float = 0.0) -> RoundResult:
    return RoundResult(tuple(TargetResult(u, r, False, None, None, "timed out")
                             for u, r in (("https://a.test/", "canary"), ("https://b.test/", "canary"),
                                          ("https://x.test/", "must-reach"))), t)


def blocked_site_round(t: float = 0.0) -> RoundResult:
    return RoundResult((TargetResult("https://a.test/", "canary", True, 204, 30.0),
                        TargetResult("https://b.test/", "canary", True, 204, 35.0),
                        TargetResult("https://x.test/", "must-reach", False, None, None, "reset")), t)


class Driver:
    """Feeds events with increasing times and remembers the last actions."""

    def __init__(self, config: EngineConfig | None = None, state: EngineState | None = None) -> None:
        self.state = state or engine.initial_state(config or cfg())
        self.now = 100.0
        self.actions: list[object] = []

    def __call__(self, event: object, after: float = 0.1) -> list[object]:
        self.now += after
        self.state, self.actions = step(self.state, event, self.now)  # type: ignore[arg-type]
        return self.actions

    def of(self, kind: type) -> list:  # type: ignore[type-arg]
        return [a for a in self.actions if isinstance(a, kind)]

    def probe(self) -> Probe:
        probes = self.of(Probe)
        assert probes, self.actions
        return probes[-1]

    def round(self, result: RoundResult, after: float = 2.5) -> list[object]:
        p = self.probe()
        return self(RoundDone(p.profile, p.gen, p.round_id, replace(result, started=self.now)), after)

    def timer(self, name: str, after: float = 0.0) -> list[object]:
        timers = [a for a in self.actions if isinstance(a, SetTimer) and a.name == name]
        token = timers[-1].token if timers else self.state.gen
        return self(TimerFired(name, token), after)

    def connect_ok(self, after: float = 1.0) -> None:
        c = self.of(Connect)[-1]
        self(ConnectDone(c.profile, c.gen, True), after)

    def up_on(self, profile: str | None = None) -> None:
        """Start (or continue) until connected and verified."""
        if not isinstance(self.state.phase, Connecting):
            self(Start("net-1"))
        self.connect_ok()
        self.round(ok_round(), 0.05)
        assert isinstance(self.state.phase, Connected)
        if profile:
            assert self.state.phase.profile == profile


def test_start_connects_the_first_enabled_profile() -> None:
    d = Driver(cfg(profiles=(replace(PROFILES[0], enabled=False), *PROFILES[1:])))
    actions = d(Start("net-1"))
    assert d.state.phase == Connecting("ovpn-udp", d.now)
    assert Connect("ovpn-udp", 1) in actions
    assert d.state.state_name == "connecting"


def test_start_prefers_the_profile_that_worked_on_this_network() -> None:
    d = Driver()
    d(Start("net-1", memory=(("net-1", "ovpn-tcp"), ("net-2", "wg"))))
    assert d.state.phase.profile == "ovpn-tcp"  # type: ignore[union-attr]


def test_memory_is_ignored_when_disabled() -> None:
    d = Driver(cfg(per_network_memory=False))
    d(Start("net-1", memory=(("net-1", "ovpn-tcp"),)))
    assert d.state.phase.profile == "wg"  # type: ignore[union-attr]


def test_connect_then_verify_then_connected_and_remembered() -> None:
    d = Driver()
    d(Start("net-1"))
    d.connect_ok()
    assert isinstance(d.state.phase, Verifying)
    assert Watch("wg", 1) in d.actions and d.of(Probe)
    d.round(ok_round(), 0.05)
    assert isinstance(d.state.phase, Connected) and d.state.verdict is Verdict.HEALTHY
    assert Remember("net-1", "wg") in d.actions
    probe_timer = next(a for a in d.actions if isinstance(a, SetTimer) and a.name == "probe")
    assert TIMINGS.probe_interval_min <= probe_timer.at - d.now <= TIMINGS.probe_interval_max
    assert any(isinstance(a, Record) and a.kind == "connected" for a in d.actions)


def test_probe_spacing_is_jittered_not_fixed() -> None:
    d = Driver()
    d.up_on("wg")
    gaps = set()
    for _ in range(10):
        d.timer("probe")
        d.round(ok_round(), 0.05)
        gaps.add(round(next(a.at for a in d.actions if isinstance(a, SetTimer) and a.name == "probe") - d.now, 3))
    assert len(gaps) > 5


def test_one_dead_round_is_only_suspicion() -> None:
    d = Driver()
    d.up_on("wg")
    d.timer("probe")
    d.round(dead_round())
    assert isinstance(d.state.phase, Connected) and d.state.verdict is Verdict.DEGRADED
    confirm = next(a for a in d.actions if isinstance(a, SetTimer) and a.name == "probe")
    assert confirm.at - d.now == pytest.approx(TIMINGS.confirm_delay)
    assert not d.of(Disconnect)


def test_consecutive_dead_rounds_fail_over_and_quarantine() -> None:
    d = Driver()
    d.up_on("wg")
    for _ in range(TIMINGS.failure_rounds - 1):
        d.timer("probe")
        d.round(dead_round())
        assert isinstance(d.state.phase, Connected)
    d.timer("probe")
    actions = d.round(dead_round())
    assert isinstance(d.state.phase, Disconnecting)
    # WireGuard (UDP) died after working: the TCP profile goes before another UDP one.
    assert d.state.phase == Disconnecting("wg", "ovpn-tcp", d.now)
    assert Disconnect("wg", 1) in actions
    q = d.state.quarantine["wg"]
    assert q.strikes == 1 and 0.9 * 60 <= q.until - d.now <= 1.1 * 60
    assert d.state.state_name == "switching"
    d(DisconnectDone("wg", 1, True))
    assert d.state.phase == Connecting("ovpn-tcp", d.now)
    d.connect_ok()
    d.round(ok_round(), 0.05)
    switch = next(a for a in d.actions if isinstance(a, Record) and a.kind == "switch")
    assert switch.data["from"] == "wg" and switch.data["to"] == "ovpn-tcp"
    assert switch.data["outage_s"] > switch.data["detect_s"] > 0
    assert any(isinstance(a, Notify) and a.kind == "switch" and "wg stopped carrying traffic" in a.message
               for a in d.actions)


def test_a_good_round_between_bad_ones_resets_the_evidence() -> None:
    d = Driver()
    d.up_on("wg")
    for result in (dead_round(), ok_round(), dead_round(), ok_round(), dead_round()):
        d.timer("probe")
        d.round(result)
    assert isinstance(d.state.phase, Connected)


def test_blocked_site_needs_more_rounds_and_then_switches() -> None:
    d = Driver()
    d.up_on("wg")
    for _ in range(TIMINGS.blocked_target_rounds - 1):
        d.timer("probe")
        d.round(blocked_site_round())
        assert isinstance(d.state.phase, Connected)
    d.timer("probe")
    d.round(blocked_site_round())
    assert isinstance(d.state.phase, Disconnecting)
    assert "cannot reach x.test" in d.state.switch.reason  # type: ignore[union-attr]


def test_blocked_site_with_no_alternative_stays_connected() -> None:
    d = Driver(cfg(profiles=PROFILES[:1]))
    d.up_on("wg")
    for _ in range(TIMINGS.blocked_target_rounds + 2):
        d.timer("probe")
        d.round(blocked_site_round())
    assert isinstance(d.state.phase, Connected) and d.state.verdict is Verdict.BLOCKED_TARGET
    notes = [a for a in d.actions if isinstance(a, Notify)]
    assert not notes  # told once, not every round


def test_hard_failure_switches_at_once() -> None:
    d = Driver()
    d.up_on("wg")
    d(HardFailure("wg", 1, "its process exited", d.now))
    assert isinstance(d.state.phase, Disconnecting) and d.state.phase.then == "ovpn-udp"
    assert d.state.verdict is Verdict.DOWN


def test_stale_results_from_an_old_attempt_are_ignored() -> None:
    d = Driver()
    d.up_on("wg")
    before = d.state
    d(HardFailure("wg", 0, "old", d.now))
    d(RoundDone("wg", 0, 1, dead_round()))
    d(ConnectDone("ovpn-tcp", 1, False, "late"))
    assert d.state.phase == before.phase and not d.state.quarantine


def test_fatal_connect_error_is_not_retried_and_the_next_profile_is_used() -> None:
    d = Driver()
    d(Start("net-1"))
    d(ConnectDone("wg", 1, False, "the server refused the password", fatal=True))
    assert d.state.errors == {"wg": "the server refused the password"}
    assert d.state.phase == Connecting("ovpn-udp", d.now)
    assert any(isinstance(a, Notify) and a.kind == "error" for a in d.actions)


def test_every_profile_fatal_is_error_not_a_retry_loop() -> None:
    d = Driver()
    d(Start("net-1"))
    for gen, name in enumerate(("wg", "ovpn-udp", "ovpn-tcp"), start=1):
        d(ConnectDone(name, gen, False, "not logged in", fatal=True))
    assert isinstance(d.state.phase, Error)
    assert not any(isinstance(a, SetTimer) and a.name == "retry" for a in d.actions)
    assert not d.of(Connect)


def test_transient_connect_failures_quarantine_and_exhaust() -> None:
    d = Driver()
    d(Start("net-1"))
    for gen, name in enumerate(("wg", "ovpn-udp", "ovpn-tcp"), start=1):
        d(ConnectDone(name, gen, False, "timed out"))
    assert isinstance(d.state.phase, Exhausted) and d.state.verdict is Verdict.DOWN
    retry = next(a for a in d.actions if isinstance(a, SetTimer) and a.name == "retry")
    assert retry.at == pytest.approx(min(q.until for q in d.state.quarantine.values()))
    d.now = retry.at
    d(TimerFired("retry"), 0.0)
    assert isinstance(d.state.phase, Connecting)


def test_a_failover_that_outlasts_the_quarantine_ends_exhausted_instead_of_circling() -> None:
    # Blocked backups can each take the whole connect timeout; meanwhile the failed profile's quarantine runs out.
    d = Driver()
    d.up_on("wg")
    for _ in range(TIMINGS.failure_rounds):
        d.timer("probe")
        d.round(dead_round())
    d(DisconnectDone("wg", d.state.gen, True))
    for name in ("ovpn-tcp", "ovpn-udp"):
        c = d.of(Connect)[-1]
        assert c.profile == name
        d(ConnectDone(name, c.gen, False, "did not connect"), TIMINGS.connect_timeout)
    assert d.state.quarantine["wg"].until < d.now  # wg could be tried again, but not within this switch
    assert isinstance(d.state.phase, Exhausted)
    assert any(isinstance(a, Record) and a.kind == "exhausted" for a in d.actions)
    assert any(isinstance(a, Notify) and a.title == "No working VPN" for a in d.actions)


def test_quarantine_backs_off_exponentially_up_to_the_cap() -> None:
    d = Driver(cfg(profiles=PROFILES[:1]))
    d(Start("net-1"))
    lengths = []
    for _ in range(8):
        c = d.of(Connect)[-1]
        d(ConnectDone(c.profile, c.gen, False, "timed out"))
        q = d.state.quarantine["wg"]
        lengths.append(q.until - d.now)
        d.now = q.until
        d(TimerFired("retry"), 0.0)
    assert 0.9 * 60 <= lengths[0] <= 1.1 * 60
    assert 0.9 * 120 <= lengths[1] <= 1.1 * 120
    assert max(lengths) <= 1.1 * TIMINGS.quarantine_max
    assert lengths[-1] >= 0.9 * TIMINGS.quarantine_max


def test_verification_failure_moves_on() -> None:
    d = Driver()
    d(Start("net-1"))
    d.connect_ok()
    d.round(dead_round())
    for _ in range(TIMINGS.failure_rounds - 1):
        assert isinstance(d.state.phase, Verifying)
        d.timer("probe")
        d.round(dead_round())
    assert isinstance(d.state.phase, Disconnecting) and d.state.phase.then == "ovpn-udp"
    assert "wg" in d.state.quarantine


def test_verify_timeout_moves_on() -> None:
    d = Driver()
    d(Start("net-1"))
    d.connect_ok()
    d(TimerFired("verify-timeout", d.state.gen), TIMINGS.verify_timeout)
    assert isinstance(d.state.phase, Disconnecting)


def test_underlay_down_means_offline_never_a_switch() -> None:
    d = Driver()
    d.up_on("wg")
    d(UnderlayDown("cable"))
    assert d.state.phase == Offline("wg", d.now, True)
    assert CancelTimer("probe") in d.actions
    d(HardFailure("wg", 1, "gone", d.now), 10)
    d(RoundDone("wg", 1, d.state.round_seq, dead_round()), 10)
    assert isinstance(d.state.phase, Offline) and not d.state.quarantine
    d(UnderlayUp("net-1"), 10)
    # The tunnel died while offline: reconnect the same profile instead of switching.
    assert d.state.phase == Connecting("wg", d.now)


def test_underlay_back_reverifies_the_same_profile() -> None:
    d = Driver()
    d.up_on("wg")
    d(UnderlayDown())
    d(UnderlayUp("net-1"), 30)
    assert isinstance(d.state.phase, Connected) and d.state.phase.profile == "wg"
    grace = next(a for a in d.actions if isinstance(a, SetTimer) and a.name == "probe")
    assert grace.at - d.now == pytest.approx(TIMINGS.resume_grace)


def test_resume_discards_evidence_from_before_the_sleep() -> None:
    d = Driver()
    d.up_on("wg")
    d.timer("probe")
    d.round(dead_round())
    in_flight = d.state.round_seq
    d(Resumed(3600))
    assert d.state.outcomes == () and d.state.verdict is Verdict.UNKNOWN
    d(RoundDone("wg", 1, in_flight, dead_round()))
    assert isinstance(d.state.phase, Connected)


def test_nothing_seen_while_the_machine_goes_to_sleep_counts_against_the_profile() -> None:
    d = Driver()
    d.up_on("wg")
    d.timer("probe")
    in_flight = d.probe()
    actions = d(Suspending())
    assert CancelTimer("probe") in actions and d.state.asleep
    # The network goes away before the VPN does: failed rounds, a stall, a dead interface, stray timers.
    d(RoundDone(in_flight.profile, in_flight.gen, in_flight.round_id, dead_round(d.now)))
    d(StallSuspected("wg", 1, d.now))
    d(HardFailure("wg", 1, "its interface wg0 disappeared", d.now))
    assert d(TimerFired("probe", 1)) == []
    assert isinstance(d.state.phase, Connected) and d.state.quarantine == {}
    d(Resumed(3600.0), after=0.5)
    assert not d.state.asleep and isinstance(d.state.phase, Connected)
    assert d.of(Watch) == [Watch("wg", 1)]  # watched afresh: a tunnel that really died is found again
    grace = next(a for a in d.actions if isinstance(a, SetTimer) and a.name == "probe")
    assert grace.at - d.now == pytest.approx(TIMINGS.resume_grace)
    d.timer("probe")
    d.round(ok_round())
    assert d.state.verdict is Verdict.HEALTHY and d.state.switch is None


def test_waking_while_verifying_watches_the_new_tunnel_afresh() -> None:
    d = Driver()
    d(Start("net-1"))
    d.connect_ok()
    assert isinstance(d.state.phase, Verifying)
    d(Suspending())
    d(HardFailure("wg", 1, "its interface wg0 disappeared", d.now))  # dropped while asleep ...
    d(Resumed(600.0))
    assert Watch("wg", 1) in d.actions  # ... so the monitor must look again


def test_stall_starts_every_evidence_round_staggered() -> None:
    d = Driver()
    d.up_on("wg")
    since = d.now - 2
    actions = d(StallSuspected("wg", 1, since))
    assert len([a for a in actions if isinstance(a, Probe)]) == 1
    for _ in range(TIMINGS.failure_rounds - 1):
        confirm = next(a for a in d.actions if isinstance(a, SetTimer) and a.name == "probe")
        assert confirm.at - d.now == pytest.approx(TIMINGS.confirm_delay)
        d.timer("probe", TIMINGS.confirm_delay)
    assert len(d.state.rounds_in_flight) == TIMINGS.failure_rounds
    assert not any(isinstance(a, SetTimer) and a.name == "probe" for a in d.actions)
    assert d.state.trouble_since == since
    d(StallSuspected("wg", 1, since))
    assert not d.of(Probe)  # no more than one burst at a time


TOR = ProfileInfo("tor", "tor", "obfuscated", "proxy", anonymising=True)


def _dead_rounds_until_switch(d: Driver, limit: int = 10) -> int:
    for n in range(1, limit + 1):
        d.timer("probe")
        d.round(dead_round())
        if not isinstance(d.state.phase, Connected):
            return n
    raise AssertionError("never switched")


def _stall_then_dead_rounds(d: Driver, limit: int = 10) -> int:
    """A stall starts the evidence burst; feed every round dead until the engine switches."""
    d(StallSuspected("wg", d.state.gen, d.now - 1))
    probes = d.of(Probe)
    for n in range(1, limit + 1):
        if not probes:
            d.timer("probe", TIMINGS.confirm_delay)
            probes = d.of(Probe)
        p = probes.pop(0)
        actions = d(RoundDone(p.profile, p.gen, p.round_id, dead_round(d.now)), 0.05)
        if not isinstance(d.state.phase, Connected):
            return n
        probes += [a for a in actions if isinstance(a, Probe)]
    raise AssertionError("never switched")


def test_a_stall_and_a_ready_hot_standby_next_in_line_need_fewer_dead_rounds() -> None:
    d = Driver(cfg(profiles=(PROFILES[0], TOR)))
    d.up_on("wg")
    d(HotStandbysReady(frozenset({"tor"})))
    assert _stall_then_dead_rounds(d) == TIMINGS.standby_failure_rounds < TIMINGS.failure_rounds
    assert d.state.phase == Disconnecting("wg", "tor", d.now)
    assert f"unreachable {TIMINGS.standby_failure_rounds} times" in d.state.quarantine["wg"].reason


@pytest.mark.parametrize("case", ["not ready", "no longer ready", "not next in line", "quarantined", "never below 2",
                                  "no stall", "stall ended by a good round"])
def test_the_full_evidence_rule_applies_unless_a_stall_and_a_ready_standby_agree(case: str) -> None:
    profiles = (PROFILES[0], PROFILES[2], TOR) if case == "not next in line" else (PROFILES[0], TOR)
    timings = replace(TIMINGS, failure_rounds=2, standby_failure_rounds=2) if case == "never below 2" else TIMINGS
    d = Driver(cfg(profiles=profiles, timings=timings))
    d.up_on("wg")
    if case != "not ready":
        d(HotStandbysReady(frozenset({"tor"})))
    if case == "no longer ready":
        d(HotStandbysReady(frozenset()))
    if case == "quarantined":
        d.state = replace(d.state, quarantine={"tor": Quarantine(until=d.now + 600, strikes=1, reason="x")})
    if case == "no stall":
        assert _dead_rounds_until_switch(d) == timings.failure_rounds
        return
    if case == "stall ended by a good round":
        d(StallSuspected("wg", 1, d.now - 1))
        d.round(ok_round())
        assert _dead_rounds_until_switch(d) == timings.failure_rounds
        return
    assert _stall_then_dead_rounds(d) == timings.failure_rounds


def test_a_stall_burst_launches_only_the_rounds_a_ready_standby_needs() -> None:
    d = Driver(cfg(profiles=(PROFILES[0], TOR)))
    d.up_on("wg")
    d(HotStandbysReady(frozenset({"tor"})))
    d(StallSuspected("wg", 1, d.now - 1))
    for _ in range(TIMINGS.standby_failure_rounds - 1):
        d.timer("probe", TIMINGS.confirm_delay)
    assert len(d.state.rounds_in_flight) == TIMINGS.standby_failure_rounds
    assert not any(isinstance(a, SetTimer) and a.name == "probe" for a in d.actions)


def test_paused_reports_but_does_not_switch() -> None:
    d = Driver()
    d.up_on("wg")
    d(UserPause())
    assert d.state.state_name == "paused"
    for _ in range(4):
        d.timer("probe")
        d.round(dead_round())
    assert isinstance(d.state.phase, Connected) and d.state.verdict is Verdict.FAILING
    d(UserResume())
    assert isinstance(d.state.phase, Disconnecting)


def test_crash_loop_cap_holds_on_the_current_profile() -> None:
    d = Driver(cfg(profiles=(*PROFILES, ProfileInfo("ovpn-2", "openvpn", "tcp"), ProfileInfo("ovpn-3", "openvpn",
                                                                                                "tcp"))))
    d.up_on()
    for _ in range(TIMINGS.crash_loop_switches):
        d(HardFailure(d.state.active, d.state.gen, "died", d.now))  # type: ignore[arg-type]
        assert isinstance(d.state.phase, Disconnecting)
        d(DisconnectDone(d.state.phase.profile, d.state.gen, True))
        d.connect_ok()
        d.round(ok_round(), 0.05)
    active = d.state.active
    d(HardFailure(active, d.state.gen, "died", d.now))  # type: ignore[arg-type]
    assert isinstance(d.state.phase, Connected) and d.state.hold
    assert any(isinstance(a, Notify) and "too often" in a.title for a in d.actions)
    d.now += TIMINGS.crash_loop_window
    d(UserResume())
    assert not d.state.hold


def test_failback_waits_for_quarantine_and_the_interval() -> None:
    d = Driver()
    d.up_on("wg")
    d(HardFailure("wg", 1, "died", d.now))
    d(DisconnectDone("wg", 1, True))
    d.connect_ok()
    d.round(ok_round(), 0.05)
    assert d.state.active == "ovpn-udp"
    d.timer("failback", 60)
    assert not d.of(Precheck)  # too soon after the switch
    d.now += TIMINGS.failback_interval
    d(TrafficBusy(True))
    d.timer("failback")
    assert not d.of(Precheck)  # a download is running
    d(TrafficBusy(False))
    d.timer("failback")
    assert Precheck("wg") in d.actions
    d(PrecheckDone("wg", None))
    assert d.state.phase == Disconnecting("ovpn-udp", "wg", d.now)
    assert d.state.switch.kind == "failback"  # type: ignore[union-attr]


def test_failback_skips_a_profile_that_looks_dead() -> None:
    d = Driver()
    d.up_on("wg")
    d(HardFailure("wg", 1, "died", d.now))
    d(DisconnectDone("wg", 1, True))
    d.connect_ok()
    d.round(ok_round(), 0.05)
    d.now += TIMINGS.failback_interval
    d.timer("failback")
    d(PrecheckDone("wg", False))
    assert isinstance(d.state.phase, Connected) and d.state.active == "ovpn-udp"


def test_user_switch_clears_errors_and_quarantine_of_the_target() -> None:
    d = Driver()
    d.up_on("wg")
    d.state = replace(d.state, errors={"ovpn-tcp": "bad password"})
    d(UserSwitch("ovpn-tcp"))
    assert d.state.phase == Disconnecting("wg", "ovpn-tcp", d.now)
    assert "ovpn-tcp" not in d.state.errors
    assert d.state.auto_switch_times == ()  # a user's switch does not count towards the crash-loop cap


def test_removing_the_active_profile_switches_away() -> None:
    d = Driver()
    d.up_on("wg")
    d(ConfigChanged(cfg(profiles=PROFILES[1:])))
    assert d.state.phase == Disconnecting("wg", "ovpn-udp", d.now)


def test_config_change_leaves_a_working_connection_alone() -> None:
    d = Driver()
    d.up_on("wg")
    d(ConfigChanged(cfg(profiles=(*PROFILES, ProfileInfo("new", "command")))))
    assert isinstance(d.state.phase, Connected)


def test_adding_a_profile_ends_error() -> None:
    d = Driver(cfg(profiles=()))
    d(Start("net-1"))
    assert isinstance(d.state.phase, Error)
    d(ConfigChanged(cfg()))
    assert d.state.phase == Connecting("wg", d.now)


def test_stop_disconnects_the_active_profile() -> None:
    d = Driver()
    d.up_on("wg")
    actions = d(Stop())
    assert Disconnect("wg", 1) in actions
    assert d.state.phase.name == "idle"


def test_privacy_preference_puts_tor_first() -> None:
    profiles = (*PROFILES, ProfileInfo("tor", "tor", "obfuscated", "proxy", anonymising=True))
    d = Driver(cfg(profiles=profiles, preference="privacy"))
    d(Start("net-1"))
    assert d.state.phase.profile == "tor"  # type: ignore[union-attr]


def test_the_engine_is_deterministic() -> None:
    def run() -> list[object]:
        d = Driver()
        d.up_on("wg")
        seen = []
        for _ in range(5):
            d.timer("probe")
            seen.extend(d.round(ok_round()))
        return seen

    assert run() == run()


def test_when_nothing_else_works_the_dead_tunnel_is_held_closed() -> None:
    d = Driver(cfg(profiles=PROFILES[:1]))
    d.up_on("wg")
    for _ in range(TIMINGS.failure_rounds):
        d.timer("probe")
        d.round(dead_round())
    assert d.state.phase == Exhausted(d.now, holding="wg")
    assert not d.of(Disconnect)  # traffic goes nowhere rather than around the tunnel
    assert d.state.active == "wg" and d.state.verdict is Verdict.DOWN
    d.now = d.state.quarantine["wg"].until
    d(TimerFired("retry"), 0.0)
    # Retrying the held profile means a fresh connection: down first, then up.
    assert d.state.phase == Disconnecting("wg", "wg", d.now) and Disconnect("wg", 1) in d.actions


def test_a_held_tunnel_is_released_on_stop_and_on_a_manual_switch() -> None:
    d = Driver()
    d.up_on("wg")
    for name in ("ovpn-udp", "ovpn-tcp"):
        d.state = replace(d.state, errors={**d.state.errors, name: "bad password"})
    for _ in range(TIMINGS.failure_rounds):
        d.timer("probe")
        d.round(dead_round())
    assert isinstance(d.state.phase, Exhausted) and d.state.phase.holding == "wg"
    d(UserSwitch("ovpn-tcp"))
    assert d.state.phase == Disconnecting("wg", "ovpn-tcp", d.now)
    d2 = Driver(cfg(profiles=PROFILES[:1]))
    d2.up_on("wg")
    for _ in range(TIMINGS.failure_rounds):
        d2.timer("probe")
        d2.round(dead_round())
    assert Disconnect("wg", 1) in d2(Stop())


def test_a_crashed_tunnel_is_cleaned_up_not_held() -> None:
    d = Driver(cfg(profiles=PROFILES[:1]))
    d.up_on("wg")
    d(HardFailure("wg", 1, "its process exited", d.now))
    assert d.state.phase == Disconnecting("wg", None, d.now)
    d(DisconnectDone("wg", 1, True))
    assert d.state.phase == Exhausted(d.now, holding=None)


def test_a_manual_switch_while_offline_takes_the_old_tunnel_down_first() -> None:
    d = Driver()
    d.up_on("wg")
    d(UnderlayDown())
    d(UserSwitch("ovpn-tcp"))
    assert d.state.phase == Disconnecting("wg", "ovpn-tcp", d.now) and Disconnect("wg", 1) in d.actions
    assert not d.of(Connect)


def test_a_manual_switch_during_a_take_down_waits_for_it() -> None:
    d = Driver()
    d.up_on("wg")
    d(HardFailure("wg", 1, "died", d.now))
    assert isinstance(d.state.phase, Disconnecting) and d.state.phase.then == "ovpn-udp"
    d(UserSwitch("ovpn-tcp"))
    assert not d.of(Connect) and isinstance(d.state.phase, Disconnecting) and d.state.phase.then == "ovpn-tcp"
    d(DisconnectDone("wg", 1, True))
    assert d.state.phase == Connecting("ovpn-tcp", d.now)
