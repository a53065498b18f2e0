"""The real Runtime (engine + monitors + actions) against a simulated world, in virtual time.

Thirty simulated minutes take well under a second, and every run is the same run.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.support.simruntime import Sim, make_config
from vpnswitch.service.hotstandby import STANDBY_REFRESH, STANDBY_RETRY


@pytest.fixture
def sim(tmp_path: Path) -> Sim:
    s = Sim(tmp_path)
    s.start()
    s.until(lambda: s.connected_to("wg"), limit=10)
    return s


def test_hard_failure_is_detected_within_a_second_and_switched(sim: Sim) -> None:
    sim.run(30)
    sim.world.profile("wg").process_dead = True
    detect = sim.until(lambda: sim.snap.state == "switching", limit=5)
    assert detect <= 1.0
    sim.until(lambda: sim.snap.state == "connected", limit=30)
    assert sim.snap.active == "ovpn-udp"  # a process crash is not a DPI kill: plain order
    [switch] = sim.switches()
    assert "its process exited" in switch["reason"]
    assert switch["outage_s"] <= 3.0


def test_a_blocked_idle_tunnel_is_detected_by_probes(sim: Sim) -> None:
    sim.run(60)
    sim.world.profile("wg").blocked = True
    outage = sim.until(lambda: sim.snap.state == "connected" and sim.snap.active != "wg", limit=60)
    assert sim.snap.active == "ovpn-tcp"  # after a UDP tunnel stops carrying traffic, prefer TCP
    assert outage <= 30
    [switch] = sim.switches()
    assert f"unreachable {sim.config.timings.failure_rounds} times in a row" in switch["reason"]
    verdicts = [e for e in sim.history.entries(kinds={"verdict"}) if e.get("verdict") == "failing"]
    assert len(verdicts) == 1


def test_a_blocked_busy_tunnel_is_detected_within_five_seconds(sim: Sim) -> None:
    sim.world.traffic_bps = 200_000
    sim.run(60)
    sim.world.profile("wg").blocked = True
    detect = sim.until(lambda: sim.snap.state == "switching", limit=30)
    assert detect <= 5.0, detect
    sim.until(lambda: sim.snap.state == "connected", limit=30)
    assert sim.switches()[0]["to"] == "ovpn-tcp"


@pytest.mark.parametrize("loss", [0.10, 0.20])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_flaky_profile_is_not_switched_away_from(tmp_path: Path, loss: float, seed: int) -> None:
    sim = Sim(tmp_path, seed=seed)
    sim.world.profile("wg").loss = loss
    sim.start()
    sim.run(30 * 60)
    assert sim.snap.active == "wg" and sim.snap.state == "connected"
    assert sim.switches() == []
    assert sim.prober.rounds > 100  # it really was probing all along
    degraded = [e for e in sim.history.entries(kinds={"verdict"}) if e.get("verdict") == "degraded"]
    assert degraded  # the losses were seen, and judged not to be a failure


def test_underlay_outage_is_waited_out_on_the_same_profile(sim: Sim) -> None:
    sim.run(20)
    sim.world.underlay_up = False
    sim.run(30)
    assert sim.snap.state == "offline"
    sim.world.underlay_up = True
    sim.until(lambda: sim.snap.state == "connected", limit=30)
    sim.run(120)
    assert sim.snap.active == "wg" and sim.snap.verdict == "healthy"
    assert sim.switches() == [] and not sim.runtime.snapshot().profiles[0].quarantined_until


def test_suspend_and_resume_reverifies_without_switching(sim: Sim) -> None:
    sim.run(20)
    sim.loop.clock.suspend(3600)
    # The tunnel needs a moment after the machine wakes up.
    sim.world.profile("wg").blocked = True
    sim.loop.call_at("unblock", sim.loop.now() + 2.0, lambda: setattr(sim.world.profile("wg"), "blocked", False))
    sim.run(120)
    assert [e for e in sim.history.entries(kinds={"resumed"})]
    assert sim.snap.active == "wg" and sim.switches() == []


def test_the_os_announcing_a_sleep_keeps_the_dying_network_from_counting(sim: Sim) -> None:
    sim.world.traffic_bps = 200_000
    sim.run(20)
    sim.runtime.sleep_signal(True)
    # Going down: the network goes first, the tunnel stalls, probes fail — for longer than any evidence rule.
    sim.world.profile("wg").blocked = True
    sim.run(30)
    assert sim.switches() == [] and sim.snap.active == "wg"
    sim.loop.clock.suspend(600)
    sim.world.profile("wg").blocked = False
    sim.runtime.sleep_signal(False)
    sim.run(60)
    [resumed] = sim.history.entries(kinds={"resumed"})  # the clock gap did not report the same sleep again
    assert resumed["gap_s"] == pytest.approx(600, abs=1)
    assert [e["kind"] for e in sim.history.entries(kinds={"suspending", "resumed"})] == ["suspending", "resumed"]
    assert sim.snap.active == "wg" and sim.snap.verdict == "healthy" and sim.switches() == []


def test_an_announced_sleep_that_never_happens_does_not_stop_the_watching(sim: Sim) -> None:
    sim.run(20)
    sim.runtime.sleep_signal(True)
    sim.run(30)
    assert sim.history.entries(kinds={"resumed"}) == []
    sim.run(40)  # no wake-up signal within a minute: judged awake again
    assert [e["gap_s"] for e in sim.history.entries(kinds={"resumed"})] == [0.0]
    sim.world.profile("wg").blocked = True
    sim.until(lambda: sim.snap.active != "wg" and sim.snap.state == "connected", limit=60)
    assert len(sim.switches()) == 1


def test_when_everything_fails_it_is_exhausted_and_recovers_by_itself(sim: Sim) -> None:
    for name in ("wg", "ovpn-udp", "ovpn-tcp"):
        sim.world.profile(name).blocked = True
    sim.until(lambda: sim.snap.state == "exhausted", limit=120)
    assert sim.snap.verdict == "down"
    assert any(n[0] == "failure" and "No working VPN" in n[1] for n in sim.notifications)
    sim.run(300)
    assert sim.snap.state in ("exhausted", "connecting", "verifying", "switching")  # retrying with backoff
    connects_while_down = sum(sim.world.profile(n).connects for n in ("wg", "ovpn-udp", "ovpn-tcp"))
    assert connects_while_down < 25  # backoff, not a tight loop
    sim.world.profile("ovpn-udp").blocked = False
    sim.until(lambda: sim.snap.state == "connected", limit=600)
    assert sim.snap.active == "ovpn-udp"
    assert any(n[0] == "recovered" for n in sim.notifications)


def test_auth_failure_is_an_error_and_never_retried(tmp_path: Path) -> None:
    sim = Sim(tmp_path, config=make_config(("wg",)))
    sim.world.profile("wg").auth_fails = True
    sim.start()
    sim.run(30 * 60)
    assert sim.snap.state == "error"
    assert "refused the password" in sim.snap.message
    assert sim.world.profile("wg").connects == 1


def test_auth_failure_of_one_profile_moves_on_to_the_next(tmp_path: Path) -> None:
    sim = Sim(tmp_path)
    sim.world.profile("wg").auth_fails = True
    sim.start()
    sim.run(30 * 60)
    assert sim.snap.active == "ovpn-udp"
    wg = sim.snap.profiles[0]
    assert wg.state == "error" and "refused the password" in wg.reason
    assert sim.world.profile("wg").connects == 1


def test_failback_to_the_preferred_profile_after_quarantine(sim: Sim) -> None:
    sim.world.profile("wg").process_dead = True
    sim.until(lambda: sim.snap.state == "connected" and sim.snap.active == "ovpn-udp", limit=30)
    sim.world.profile("wg").process_dead = False
    sim.run(sim.config.timings.failback_interval + 120)
    assert sim.snap.active == "wg"
    kinds = [e["trigger"] for e in sim.switches()]
    assert kinds == ["failover", "failback"]


def test_failback_never_interrupts_a_download(sim: Sim) -> None:
    sim.world.profile("wg").process_dead = True
    sim.until(lambda: sim.snap.active == "ovpn-udp" and sim.snap.state == "connected", limit=30)
    sim.world.traffic_bps = 1_000_000
    sim.run(sim.config.timings.failback_interval + 300)
    assert sim.snap.active == "ovpn-udp"
    sim.world.traffic_bps = 0
    sim.run(180)
    assert sim.snap.active == "wg"


def test_crash_loop_cap_stops_switching(tmp_path: Path) -> None:
    names = ("a", "b", "c", "d", "e", "f")
    sim = Sim(tmp_path, config=make_config(names))
    sim.start()
    sim.until(lambda: sim.connected_to("a"), limit=10)
    for _ in range(10):
        active = sim.snap.active
        assert active is not None
        sim.world.profile(active).process_dead = True
        sim.run(15)
    assert len(sim.switches()) == sim.config.timings.crash_loop_switches
    assert sim.snap.holding
    assert any("too often" in n[1] for n in sim.notifications)


def test_two_tunnels_are_never_up_at_once(sim: Sim) -> None:
    for name in ("wg", "ovpn-tcp", "ovpn-udp"):
        sim.world.profile(name).process_dead = True
        sim.run(20)
    sim.runtime.switch("wg")
    sim.run(20)
    assert max(sim.world.up_at_once) == 1


def test_the_network_memory_survives_a_restart(tmp_path: Path) -> None:
    first = Sim(tmp_path)
    first.world.profile("wg").connect_error = "handshake did not complete"
    first.start()
    first.until(lambda: first.snap.state == "connected", limit=30)
    assert first.snap.active == "ovpn-udp"
    second = Sim(tmp_path)
    second.start()
    second.until(lambda: second.snap.state == "connected", limit=30)
    assert second.snap.active == "ovpn-udp"
    assert second.world.profile("wg").connects == 0


def test_new_settings_apply_without_a_restart(sim: Sim) -> None:
    config = make_config(("ovpn-tcp", "wg"))
    sim.runtime.apply_config(replace(config, profiles=tuple(p for p in config.profiles if p.name != "wg")))
    sim.until(lambda: sim.connected_to("ovpn-tcp"), limit=30)
    assert [p.name for p in sim.snap.profiles] == ["ovpn-tcp"]


def test_pause_keeps_the_connection_and_reports(sim: Sim) -> None:
    sim.runtime.pause()
    sim.run(1)
    assert sim.snap.state == "paused" and sim.snap.paused
    sim.world.profile("wg").blocked = True
    sim.run(120)
    assert sim.snap.active == "wg" and sim.snap.verdict == "failing"
    sim.runtime.resume()
    sim.until(lambda: sim.snap.state == "connected" and sim.snap.active != "wg", limit=30)


def test_check_reports_each_target(sim: Sim) -> None:
    future = sim.runtime.check()
    sim.run(5)
    report = future.result(timeout=0)
    assert report.active == "wg" and len(report.targets) == 3 and all(t["ok"] for t in report.targets)


def test_snapshots_show_quarantine_with_a_wall_time(sim: Sim) -> None:
    sim.world.profile("wg").process_dead = True
    sim.until(lambda: sim.snap.state == "connected" and sim.snap.active == "ovpn-udp", limit=30)
    wg = sim.snap.profiles[0]
    assert wg.state == "quarantined" and wg.quarantined_until and wg.quarantined_until.endswith("Z")
    assert "process exited" in wg.reason


# ------------------------------------------------------------------------------------- hot standby


def _with_standby(tmp_path: Path, seed: int = 7) -> Sim:
    sim = Sim(tmp_path, make_config(("wg", "hot"), standby=("hot",)), seed=seed)
    sim.start()
    sim.until(lambda: sim.connected_to("wg") and sim.snap.profiles[1].warm == "ready", limit=30)
    return sim


def test_a_hot_standby_is_checked_in_the_background_and_shown_ready(tmp_path: Path) -> None:
    sim = _with_standby(tmp_path)
    hot = sim.snap.profiles[1]
    assert (hot.state, hot.warm, hot.reason) == ("standby", "ready", "")
    assert sim.world.profile("hot").warm and not sim.world.profile("hot").up
    sim.world.profile("hot").warm = False  # its tor died and could not come back ...
    sim.world.profile("hot").connect_seconds = 1.0
    sim.world.underlay_up = False  # ... because nothing answers
    sim.run(35)
    sim.world.underlay_up = True
    hot = sim.snap.profiles[1]
    assert hot.warm == "not ready" and "network unreachable" in hot.reason
    # A standby that is not ready is looked at again within seconds, not at the next 20-40 s check.
    back = sim.until(lambda: sim.snap.profiles[1].warm == "ready", limit=30)
    assert back <= 8.0 + 1.0 + 0.5, back


def test_when_the_network_returns_a_standby_starts_its_connections_afresh(tmp_path: Path) -> None:
    sim = _with_standby(tmp_path)
    sim.world.underlay_up = False
    sim.world.profile("hot").stale = True  # its connections died with the network; alone it would never recover
    sim.run(60)
    assert sim.world.profile("hot").refreshes == 0
    sim.world.underlay_up = True
    back = sim.until(lambda: not sim.world.profile("hot").stale and sim.snap.profiles[1].warm == "ready", limit=30)
    assert back <= STANDBY_RETRY[1] + 2.0, back
    assert sim.world.profile("hot").refreshes == 1
    sim.run(300)  # healthy again: no more refreshing
    assert sim.world.profile("hot").refreshes == 1


def test_a_standby_turned_off_or_given_new_settings_is_not_counted_ready(tmp_path: Path) -> None:
    sim = _with_standby(tmp_path)
    hot = sim.config.profiles[1]
    sim.runtime.apply_config(replace(sim.config, profiles=(sim.config.profiles[0], replace(hot, enabled=False))))
    sim.run(1)
    assert sim.snap.profiles[1].warm == "" and sim.runtime._state.ready_hot_standbys == frozenset()
    # Re-enabled with other settings: a new backend, so "ready" only once it has been checked again.
    sim.world.profile("hot").warm = False
    edited = replace(hot, params={**hot.params, "server": "other"})
    sim.runtime.apply_config(replace(sim.config, profiles=(sim.config.profiles[0], edited)))
    sim.run(0.1)
    assert sim.snap.profiles[1].warm == "starting" and sim.runtime._state.ready_hot_standbys == frozenset()
    sim.until(lambda: sim.snap.profiles[1].warm == "ready", limit=10)
    assert sim.runtime._state.ready_hot_standbys == frozenset({"hot"})


def test_a_standby_that_cannot_work_is_not_retried_every_few_seconds(tmp_path: Path) -> None:
    sim = Sim(tmp_path, make_config(("wg", "hot"), standby=("hot",)))
    sim.world.profile("hot").standby_error = "tor is not installed"
    sim.start()
    sim.run(120)
    hot = sim.snap.profiles[1]
    assert hot.warm == "not ready" and "tor is not installed" in hot.reason
    assert sim.world.profile("hot").standby_calls <= 120 / STANDBY_REFRESH[0] + 1


def test_a_ready_hot_standby_takes_over_a_blocked_busy_tunnel_within_two_seconds(tmp_path: Path) -> None:
    sim = _with_standby(tmp_path)
    sim.world.traffic_bps = 200_000
    sim.run(60)  # the probe deadline has learnt this tunnel answers fast
    sim.world.profile("wg").blocked = True
    outage = sim.until(lambda: sim.connected_to("hot"), limit=30)
    [switch] = sim.switches()
    assert outage <= 2.0 and switch["outage_s"] <= 2.0, (outage, switch)
    assert f"unreachable {sim.config.timings.standby_failure_rounds} times in a row" in switch["reason"]


def test_without_a_ready_standby_the_same_block_takes_the_full_evidence(tmp_path: Path) -> None:
    sim = Sim(tmp_path, make_config(("wg", "hot")))
    sim.start()
    sim.until(lambda: sim.connected_to("wg"), limit=10)
    sim.world.traffic_bps = 200_000
    sim.run(60)
    sim.world.profile("wg").blocked = True
    sim.until(lambda: sim.connected_to("hot"), limit=30)
    [switch] = sim.switches()
    assert f"unreachable {sim.config.timings.failure_rounds} times in a row" in switch["reason"]


@pytest.mark.parametrize("loss", [0.10, 0.20])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_ready_standby_does_not_make_a_flaky_profile_switch(tmp_path: Path, loss: float, seed: int) -> None:
    sim = _with_standby(tmp_path, seed=seed)
    sim.world.traffic_bps = 200_000
    sim.world.profile("wg").loss = loss
    sim.run(30 * 60)
    assert sim.snap.active == "wg" and sim.snap.state == "connected"
    assert sim.switches() == []
    assert sim.snap.profiles[1].warm == "ready"
