"""Failover benchmark in the censorship lab: how fast vpnswitch notices and recovers, how often it switches
wrongly, and what it costs at idle — next to what a user has today without it.

    python -m tests.bench.failover [--repeat 5] [--repeat-long 1] [--json PATH] [--only NAME ...] [--check]

Runs the real ``vpnswitch daemon`` in the lab's client namespace with DEFAULT timings and the profiles
WireGuard, OpenVPN-UDP, OpenVPN-TCP (in that order unless a scenario says otherwise); the blocked site is
the must-reach target. Every time counts from the moment the censor's rule is **in place** (``nft -f``
has returned, see ``moments.py``):

    detect_s   rule in place → the daemon's verdict that the profile is failing/down (its history's wall time)
    outage_s   rule in place → the first answer from the blocked site that came **through a backup**: a
               request started after the rule, which the site saw coming from a backup's exit address
               (a user's request loop, a fresh connection every 0.2 s along the namespace's normal routes)
    switches   switches recorded during the scenario
    false_switches   switches that should not have happened (any under loss or a link outage; any but the
               first one after a block)

Idle scenarios: the user's loop starts only once the daemon has given the tunnel up, so nothing but the
daemon's own probes flows when the block lands. ``wg-blocked-idle`` lands the block at a moment spread
over one whole probe cycle (stratified: with five samples, one in each fifth of the longest interval
after a probe round); ``wg-blocked-idle-worst`` lands it right after a probe round that passed, with the
interval pinned at its default maximum, i.e. the worst case.

Baseline ``openvpn-alone``: no vpnswitch, just openvpn with ``keepalive 10 60`` and two ``remote`` lines
(UDP, then TCP/443), its UDP server blocked. ``idle`` samples the daemon's own CPU and memory while it
guards a healthy WireGuard connection. The Tor scenarios come from ``tests.bench.tor_scenarios``.

A failed sample stays in the results as ``{"failed": "why"}``: it shows in the tables and fails
``--check``, which also fails when a target of ``tests.bench.targets`` is missed (exit code 1). The JSON
(``{"meta": {...}, "scenarios": {NAME: {"samples": [...]}}, "idle": {...}, "notes": [...]}``) feeds
``python -m tests.bench.report``, which writes the docs' tables.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.bench import moments
from tests.bench.idle import sample_idle
from tests.lab.daemon import (
    LabDaemon,
    SiteWatch,
    client_leftovers,
    daemon_config,
    ovpn_tcp_profile,
    ovpn_udp_profile,
    pids_of,
    wg_profile,
)
from tests.lab.harness import Lab
from vpnswitch.core.config import Timings
from vpnswitch.core.errors import VpnSwitchError
from vpnswitch.system.runner import stop_process

Sample = dict[str, Any]
LIMIT = 240.0  # the longest anything may take before the sample counts as failed
LOSS_SECONDS = 600.0  # the plan's "10 min"; --loss-seconds may shorten it (the check then says it is not the target)
OUTAGE_SECONDS = 30.0
IDLE_SECONDS = 60.0
LONG = ("loss-10pct", "loss-20pct", "link-outage-30s", "openvpn-alone")  # sampled --repeat-long times


@dataclasses.dataclass
class Bench:
    lab: Lab
    workdir: Path
    rng: random.Random
    loss_seconds: float = LOSS_SECONDS
    repeats: dict[str, int] = dataclasses.field(default_factory=dict)  # samples per scenario in this run
    plan: dict[str, list[float]] = dataclasses.field(default_factory=dict)  # per scenario: delays still to use

    def daemon(self, profiles: list[dict[str, Any]], timings: dict[str, float] | None = None) -> LabDaemon:
        home = Path(tempfile.mkdtemp(prefix="home-", dir=self.workdir))
        return LabDaemon(self.lab, daemon_config(self.lab, profiles, timings=timings), home, verbose=False)

    def standard(self) -> list[dict[str, Any]]:
        return [wg_profile(self.lab), ovpn_udp_profile(self.lab), ovpn_tcp_profile(self.lab)]

    def repeat_of(self, scenario: str) -> int:
        return max(1, self.repeats.get(scenario, 1))

    def next_delay(self, scenario: str, count: int, span: float) -> float:
        """The next of ``count`` stratified block delays over one probe cycle for this scenario."""
        if not self.plan.get(scenario):
            self.plan[scenario] = moments.stratified_delays(count, span, self.rng.random)
        return self.plan[scenario].pop()


def _active(daemon: LabDaemon) -> str | None:
    try:
        status = daemon.status()
    except VpnSwitchError:
        return None
    return status["active"] if status["state"] == "connected" and status["verdict"] == "healthy" else None


def _verdict(daemon: LabDaemon, profile: str, since: float) -> dict[str, Any] | None:
    """The first history verdict at or after ``since`` that gave ``profile`` up."""
    for entry in daemon.entries("verdict", since=since):
        if entry.get("profile") == profile and entry.get("verdict") in ("failing", "down", "leaking"):
            return entry
    return None


def _failover(bench: Bench, profiles: list[dict[str, Any]], trigger: Callable[[], None], *, traffic: bool,
              idle_phase: Callable[[LabDaemon, float], dict[str, Any]] | None = None,
              timings: dict[str, float] | None = None) -> Sample:
    """Connect on the first profile, break it with ``trigger``, measure until the site answers through a backup.

    Times count from the moment the censor's rule is in place. With traffic, the user's request loop runs
    throughout (its attempts through the old tunnel never count: only answers the site saw coming from a
    backup's address, from requests started after the rule). Idle: nothing but the daemon's own probes
    flows; ``idle_phase`` waits for the moment in the probe cycle to block at, and the user comes back once
    the daemon has noticed.
    """
    lab = bench.lab
    first = profiles[0]["name"]
    old_exit = moments.exit_address(lab, profiles[0])
    backups = moments.backup_addresses(lab, profiles)
    with bench.daemon(profiles, timings) as daemon:
        connected = daemon.wait_for(lambda: daemon.connected_on(first) and time.time(), 60, f"connected on {first}")
        phase: dict[str, Any] = {}
        with SiteWatch(lab, lab.blocked_ip_url, armed=not traffic) as watch:
            if traffic:
                watch.go()
                # Steady browsing through the tunnel before the block.
                daemon.wait_for(lambda: watch.answered_after(connected, via={old_exit}), 30,
                                "browsing through the tunnel")
                time.sleep(bench.rng.uniform(0.5, 1.5))
            else:
                assert idle_phase is not None
                phase = idle_phase(daemon, connected)
            before, in_place = moments.apply(trigger)
            verdict = daemon.wait_for(lambda: _verdict(daemon, first, before), LIMIT, "the verdict")
            if not traffic:
                watch.go()  # the user comes back after the daemon noticed
            daemon.wait_for(lambda: _active(daemon) not in (None, first), LIMIT, "the switch")
            answer = daemon.wait_for(lambda: watch.first_answer(in_place, via=backups), 60,
                                     "the site through the backup")
        time.sleep(3.0)  # a switch right after landing would be a false one
        switches = daemon.entries("switch", since=before)
        if not traffic:
            last = moments.last_probe_before(lab, old_exit, in_place, connected)
            phase["since_probe_s"] = round(in_place - last, 3) if last is not None else None
    return {"detect_s": round(float(verdict["t"]) - in_place, 3), "outage_s": round(answer["end"] - in_place, 3),
            "switches": len(switches), "false_switches": max(0, len(switches) - 1),
            "landed_on": switches[0]["to"] if switches else None, "answered_via": answer.get("via"),
            "rule_apply_s": round(in_place - before, 3), "verdict_reason": verdict.get("reason", ""), **phase}


def _spread_over_cycle(bench: Bench, scenario: str, count: int, span: float, source: str) -> Callable[..., Any]:
    """Idle phase: after a probe round through ``source``, wait the next stratified delay over [0, span)."""

    def wait(daemon: LabDaemon, connected: float) -> dict[str, Any]:
        delay = bench.next_delay(scenario, count, span)
        probe = daemon.wait_for(lambda: _probe_round(bench.lab, source, connected), 60, "a probe round")
        time.sleep(max(0.0, probe + delay - time.time()))
        return {"delay_after_probe_s": round(delay, 3)}

    return wait


def _probe_round(lab: Lab, source: str, since: float) -> float | None:
    try:
        return moments.wait_probe_round(lab, source, since, 0.2)
    except TimeoutError:
        return None


def _kill_wireguard(lab: Lab) -> None:
    [pid] = pids_of(lab, "wireguard-go")
    os.kill(pid, signal.SIGKILL)


# ---------------------------------------------------------------------------------------------- scenarios


def wg_blocked_traffic(bench: Bench) -> Sample:
    """WireGuard's port blocked while the user browses."""
    return _failover(bench, bench.standard(), bench.lab.block_wireguard_port, traffic=True)


def wg_blocked_idle(bench: Bench) -> Sample:
    """WireGuard's port blocked while nothing but the daemon's own probes flows; the block lands at a
    moment spread uniformly (stratified over the samples) over one probe cycle of the default timings."""
    cycle = Timings().probe_interval_max
    phase = _spread_over_cycle(bench, "wg-blocked-idle", bench.repeat_of("wg-blocked-idle"), cycle,
                               bench.lab.wg_server_ip)
    return _failover(bench, bench.standard(), bench.lab.block_wireguard_port, traffic=False, idle_phase=phase)


def wg_blocked_idle_worst(bench: Bench) -> Sample:
    """The idle worst case: the block lands right after a probe round that passed, and the next round comes
    after the longest interval (the jitter pinned at the default maximum; every other timing default)."""
    longest = Timings().probe_interval_max
    pinned = {"probe_interval_min": longest, "probe_interval_max": longest}

    def phase(daemon: LabDaemon, connected: float) -> dict[str, Any]:
        daemon.wait_for(lambda: _probe_round(bench.lab, bench.lab.wg_server_ip, connected), 60, "a probe round")
        return {"delay_after_probe_s": moments.PROBE_QUIET}

    return _failover(bench, bench.standard(), bench.lab.block_wireguard_port, traffic=False, idle_phase=phase,
                     timings=pinned)


def wg_killed(bench: Bench) -> Sample:
    """The wireguard-go process is killed (SIGKILL) while the user browses."""
    return _failover(bench, bench.standard(), lambda: _kill_wireguard(bench.lab), traffic=True)


def ovpn_tcp_rst(bench: Bench) -> Sample:
    """OpenVPN over TCP/443 active; the censor answers its packets with TCP resets."""
    lab = bench.lab
    profiles = [ovpn_tcp_profile(lab), wg_profile(lab), ovpn_udp_profile(lab)]
    return _failover(bench, profiles, lambda: lab.block_openvpn_tcp("rst"), traffic=True)


def _no_switch(bench: Bench, impair: Callable[[], None], repair: Callable[[], None], seconds: float,
               key: str) -> Sample:
    lab = bench.lab
    with bench.daemon(bench.standard()) as daemon:
        daemon.wait_for(lambda: daemon.connected_on("wg"), 60, "connected on wg")
        with SiteWatch(lab, lab.blocked_ip_url, period=0.5) as watch:
            began, impaired = moments.apply(impair)
            try:
                time.sleep(seconds)
            finally:
                _, repaired = moments.apply(repair)
            daemon.wait_for(lambda: daemon.connected_on("wg") or _active(daemon), LIMIT, "a healthy connection")
            answered = daemon.wait_for(lambda: watch.answered_after(repaired), 60, "the site")
            answered_during = watch.ok_ratio(impaired)
        switches = daemon.entries("switch", since=began)
    return {"detect_s": None, "outage_s": None, "switches": len(switches), "false_switches": len(switches),
            key: round(repaired - impaired, 1), "recovered_s": round(answered - repaired, 3),
            "site_ok_ratio": round(answered_during, 3)}


def loss_10pct(bench: Bench) -> Sample:
    """10 % random loss each way on the client's link (ten minutes unless shortened), while the user browses."""
    lab = bench.lab
    return _no_switch(bench, lambda: lab.random_loss(10), lambda: lab.unblock("loss"), bench.loss_seconds, "loss_s")


def loss_20pct(bench: Bench) -> Sample:
    """20 % random loss each way on the client's link (ten minutes unless shortened), while the user browses."""
    lab = bench.lab
    return _no_switch(bench, lambda: lab.random_loss(20), lambda: lab.unblock("loss"), bench.loss_seconds, "loss_s")


def link_outage(bench: Bench) -> Sample:
    """The client's link drops everything for 30 s, then comes back."""
    lab = bench.lab
    return _no_switch(bench, lab.cut_client_link, lab.restore_client_link, OUTAGE_SECONDS, "cut_s")


def openvpn_alone(bench: Bench) -> Sample:
    """Today's baseline: openvpn alone (keepalive 10 60, remotes UDP then TCP/443), its UDP server blocked."""
    lab = bench.lab
    conf = bench.workdir / f"alone-{time.monotonic_ns()}.ovpn"
    lines = [line for line in lab.ovpn_udp_conf.read_text().splitlines()
             if not line.startswith(("remote ", "explicit-exit-notify"))]
    at = lines.index("nobind") + 1
    lines[at:at] = [
        f"remote {lab.ovpn_server_ip} {lab.ovpn_udp_port} udp",
        f"remote {lab.ovpn_server_ip} {lab.ovpn_tcp_port} tcp-client",
        "keepalive 10 60",
        'pull-filter ignore "ping"',  # the user's timers, not the lab server's short ones
    ]
    conf.touch(mode=0o600)
    conf.write_text("\n".join(lines) + "\n")
    log = conf.with_suffix(".log")

    def seen(text: str) -> bool:
        try:
            return text in log.read_text(errors="replace")
        except FileNotFoundError:
            return False

    with log.open("ab") as out:
        proc = lab.client_popen(["openvpn", "--config", str(conf)], name=f"alone-{conf.stem}", stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        _wait(lambda: seen("Initialization Sequence Completed"), 30, "openvpn to connect", proc)
        with SiteWatch(lab, lab.blocked_ip_url) as watch:
            _wait(lambda: watch.answered_after(time.time() - 1), 10, "the site through openvpn", proc)
            before, in_place = moments.apply(lab.block_openvpn_udp)
            detected = _wait(lambda: seen("Inactivity timeout") and time.time(), LIMIT, "openvpn to notice", proc)
            # UDP and TCP/443 end at the same server: any answer to a request started after the rule came over
            # TCP, the UDP path being dropped.
            answered = _wait(lambda: watch.answered_after(in_place, via={lab.ovpn_server_ip}), LIMIT,
                             "the site through TCP/443", proc)
        moved = log.read_text(errors="replace").count("Initialization Sequence Completed") - 1
    finally:
        stop_process(proc, grace=10)
        lab.unblock_all()
    return {"detect_s": round(detected - in_place, 3), "outage_s": round(answered - in_place, 3),
            "switches": moved, "false_switches": 0, "rule_apply_s": round(in_place - before, 3)}


def _wait(predicate: Callable[[], Any], limit: float, what: str, proc: subprocess.Popen[bytes]) -> Any:
    deadline = time.monotonic() + limit
    while True:
        value = predicate()
        if value:
            return value
        if proc.poll() is not None:
            raise RuntimeError(f"openvpn exited ({proc.returncode}) while waiting for {what}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {limit:g} s waiting for {what}")
        time.sleep(0.05)


SCENARIOS: dict[str, Callable[[Bench], Sample]] = {
    "wg-blocked-traffic": wg_blocked_traffic,
    "wg-blocked-idle": wg_blocked_idle,
    "wg-blocked-idle-worst": wg_blocked_idle_worst,
    "wg-killed": wg_killed,
    "ovpn-tcp-rst": ovpn_tcp_rst,
    "loss-10pct": loss_10pct,
    "loss-20pct": loss_20pct,
    "link-outage-30s": link_outage,
    "openvpn-alone": openvpn_alone,
}


# ----------------------------------------------------------------------------------------------- idle


def measure_idle(bench: Bench, seconds: float = IDLE_SECONDS) -> dict[str, float]:
    """CPU and memory of the daemon process itself while it guards a healthy WireGuard connection."""
    with bench.daemon(bench.standard()) as daemon:
        daemon.wait_for(lambda: daemon.connected_on("wg"), 60, "connected on wg")
        assert daemon.pid is not None
        return sample_idle(daemon.pid, seconds)


# ------------------------------------------------------------------------------------------------- Tor


def run_tor(lab: Lab, repeats: dict[str, int], results: dict[str, dict[str, Any]], notes: list[str],
            chosen: list[str], rng: random.Random, loss_seconds: float,
            saved: Callable[[], None] = lambda: None) -> None:
    """The Tor scenarios (tests/bench/tor_scenarios.py), when a private Tor network can be started. A network
    that cannot be started fails every chosen Tor scenario (a missing prerequisite is a note instead)."""
    try:
        tor_scenarios = importlib.import_module("tests.bench.tor_scenarios")
        tornet_module = importlib.import_module("tests.lab.tornet")
    except ImportError as exc:
        notes.append(f"Tor scenarios not run: {exc}")
        return
    missing = tornet_module.TorNet.missing_prerequisites()
    if missing:
        notes.append("Tor scenarios not run: " + "; ".join(missing))
        return
    defaults = dataclasses.asdict(Timings())
    names = [n for n in tor_scenarios.SCENARIOS if n in chosen or "tor" in chosen]
    try:
        with tornet_module.TorNet(lab) as tornet:
            for name in names:
                plan = tor_scenarios.Plan(rng, repeats.get(name, 1), loss_seconds)

                def one(scenario: Callable[..., Sample] = tor_scenarios.SCENARIOS[name],
                        plan: Any = plan) -> Sample:
                    return scenario(lab, tornet, timings=defaults, plan=plan)

                _sample(results, name, repeats.get(name, 1), one, lab, saved)
    except Exception as exc:  # noqa: BLE001 - the private Tor network could not be started
        for name in names:
            series = results.setdefault(name, {"samples": []})
            if not series["samples"]:
                series["samples"].append({"failed": f"the private Tor network: {type(exc).__name__}: {exc}"})


# ----------------------------------------------------------------------------------------------- output


def _sample(results: dict[str, dict[str, Any]], name: str, repeat: int, run: Callable[[], Sample], lab: Lab,
            saved: Callable[[], None] = lambda: None) -> None:
    """``repeat`` samples of one scenario; a failure is kept as a sample, never dropped. ``saved`` is called
    after each sample, so an interrupted run keeps what it measured."""
    samples: list[Sample] = results.setdefault(name, {"samples": []})["samples"]
    for index in range(repeat):
        try:
            sample = run()
        except Exception as exc:  # noqa: BLE001 - record the failure, go on with the next sample
            sample = {"failed": f"{type(exc).__name__}: {str(exc)[:2000]}"}
            traceback.print_exc()
        finally:
            lab.unblock_all()
            stale = client_leftovers(lab)
        samples.append(sample)
        saved()
        print(f"{name} #{index + 1}: {json.dumps(sample)[:3000]}", flush=True)
        if stale:
            raise SystemExit(f"after {name}: the client namespace is not clean: {stale}")


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10,
                             cwd=Path(__file__).resolve().parent)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    from tests.bench import report, targets

    tor_names = ["vpn-blocked-to-tor", "vpn-blocked-to-tor-standby", "vpn-blocked-to-tor-standby-idle",
                 "loss-10pct-tor-standby", "link-outage-tor-standby"]
    parser = argparse.ArgumentParser(prog="python -m tests.bench.failover", description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="samples of each scenario (default 5)")
    parser.add_argument("--repeat-long", type=int, default=1,
                        help="samples of the long ones: " + ", ".join([*LONG, "loss-10pct-tor-standby"]))
    parser.add_argument("--loss-seconds", type=float, default=LOSS_SECONDS,
                        help="how long the loss scenarios last (the targets speak of 600)")
    parser.add_argument("--json", type=Path, help="write the samples here")
    parser.add_argument("--only", action="append", choices=[*SCENARIOS, *tor_names, "idle", "tor"],
                        help="run only these (repeatable); default: everything")
    parser.add_argument("--prefix", default="vsb", help="lab prefix (the benchmark brings its own lab up and down)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when a target is missed or any sample failed")
    args = parser.parse_args(argv)
    problems = Lab.missing_prerequisites()
    if problems:
        print("cannot run: " + "; ".join(problems), file=sys.stderr)
        return 2
    chosen = args.only or [*SCENARIOS, "tor", "idle"]
    long = {*LONG, "loss-10pct-tor-standby"}
    repeats = {name: args.repeat_long if name in long else args.repeat for name in [*SCENARIOS, *tor_names]}
    results: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    idle: dict[str, float] | None = None
    started_at = time.time()
    started = time.monotonic()
    rng = random.Random(args.seed)

    def data() -> dict[str, Any]:
        meta = {"started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started_at)),
                "seconds": round(time.monotonic() - started), "commit": _git_commit(), "repeat": args.repeat,
                "repeat_long": args.repeat_long, "loss_seconds": args.loss_seconds, "seed": args.seed,
                "cpus": os.cpu_count(), "timings": "defaults"}
        return {"meta": meta, "scenarios": results, "idle": idle, "notes": notes}

    def saved() -> None:
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(data(), indent=1) + "\n")

    with tempfile.TemporaryDirectory(prefix="vpnswitch-bench-") as tmp, Lab(prefix=args.prefix) as lab:
        bench = Bench(lab, Path(tmp), rng, loss_seconds=args.loss_seconds, repeats=repeats)
        for name in (n for n in SCENARIOS if n in chosen):
            function = SCENARIOS[name]
            _sample(results, name, repeats[name], lambda f=function: f(bench), lab, saved)  # type: ignore[misc]
        if "tor" in chosen or any(n in chosen for n in tor_names):
            run_tor(lab, repeats, results, notes, chosen, rng, args.loss_seconds, saved)
        if "idle" in chosen:
            idle = measure_idle(bench)
            print(f"idle: {json.dumps(idle)}", flush=True)
    saved()
    print()
    print(report.results_table(data()))
    print()
    print(targets.check_table(data()))
    verdicts, failed = targets.check(data())
    return targets.check_exit_code(verdicts, failed) if args.check else 0


if __name__ == "__main__":
    sys.exit(main())
