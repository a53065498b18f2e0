"""Failover benchmark scenarios with Tor: every VPN blocked, the daemon falls back to Tor.

    vpn-blocked-to-tor               WireGuard active with the user browsing, Tor cold (started when needed)
    vpn-blocked-to-tor-standby       the same, Tor a hot standby (bootstrapped in the background)
    vpn-blocked-to-tor-standby-idle  Tor a hot standby, nobody browsing: the block lands anywhere in a
                                     probe cycle
    loss-10pct-tor-standby           10 % loss (ten minutes unless shortened) while the user browses: no switch
    link-outage-tor-standby          the client's link cut for 30 s: no switch

A ready standby lowers the evidence a switch needs (two dead rounds instead of three, but only after the
tunnel's own traffic stalled), so the last two check that this costs no false switches.

Each scenario function takes a running lab and its private Tor network and returns one sample:

    {"detect_s", "outage_s", "switches", "false_switches",   # what the failover benchmark collects
     "daemon_detect_s", "daemon_outage_s", "switch_s"}        # extra detail for Tor

As in the failover benchmark, times count from the moment the censor's rule is in place: ``detect_s`` to
the daemon's verdict, ``outage_s`` to the first answer from the blocked site that came through Tor (the
site saw the Tor exit's address) to a request started after the rule, asked through tor's SOCKS port as
an app using the system proxy would. That app starts asking at the block (with traffic) or once the
daemon has given the tunnel up (idle), never before. ``daemon_detect_s``/``daemon_outage_s`` are the
daemon's own figures from its history (from its first sign of trouble); ``switch_s`` is their difference,
the part a standby saves. ``false_switches`` counts switches that should not have happened: any before
the block, and any after it that did not go to Tor; in the no-switch scenarios, every switch.

Standalone (brings its own lab up and down, a quicker lab pace unless --defaults, prints samples, writes
JSON in the failover benchmark's format)::

    python -m tests.bench.tor_scenarios --repeat 3 --json tor-bench.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.bench import moments
from tests.lab.daemon import LabDaemon, SiteWatch, daemon_config, wg_profile
from tests.lab.harness import Lab
from tests.lab.tornet import TorNet
from vpnswitch.core.config import Timings
from vpnswitch.core.errors import VpnSwitchError

# A quick lab pace (still within the validated ranges): probes every 2-3 s, 1 s probe timeout.
TIMINGS = {
    "probe_interval_min": 2.0,
    "probe_interval_max": 3.0,
    "probe_timeout": 1.0,
    "confirm_delay": 0.2,
    "connect_timeout": 40.0,
    "verify_timeout": 10.0,
}
SOCKS_PORT = 19070
QUIET_BEFORE_BLOCK = 4.0  # seconds of steady state in which any switch is a false one
LOSS_SECONDS = 600.0
OUTAGE_SECONDS = 30.0
Sample = dict[str, Any]


@dataclasses.dataclass
class Plan:
    """What one run of a scenario needs beyond the lab: randomness for the block moments, how many samples
    share one stratified spread over the probe cycle, and how long loss lasts."""

    rng: random.Random = dataclasses.field(default_factory=lambda: random.Random(1))
    count: int = 1
    loss_seconds: float = LOSS_SECONDS
    delays: list[float] = dataclasses.field(default_factory=list)

    def next_delay(self, span: float) -> float:
        if not self.delays:
            self.delays = moments.stratified_delays(max(1, self.count), span, self.rng.random)
        return self.delays.pop()


def _tor_ready(lab: Lab) -> bool:
    result = lab.client_run(["curl", "-sS", "-o", "/dev/null", "--max-time", "3", "--socks5-hostname",
                             f"127.0.0.1:{SOCKS_PORT}", lab.canary_ip_url], timeout=8)
    return result.returncode == 0


def _verdict(daemon: LabDaemon, profile: str, since: float) -> dict[str, Any] | None:
    for entry in daemon.entries("verdict", since=since):
        if entry.get("profile") == profile and entry.get("verdict") in ("failing", "down", "leaking"):
            return entry
    return None


def _run(lab: Lab, tornet: TorNet, *, standby: bool, idle: bool = False, workdir: Path | None = None,
         timings: dict[str, float] | None = None, plan: Plan | None = None) -> Sample:
    """WireGuard active, Tor next; every VPN blocked. Times count from the rule in place; the outage ends at
    the first answer through Tor (the site saw the Tor exit's address) to a request started after the rule.

    With traffic, the user browses through the tunnel before the block, and an app set to use Tor's SOCKS
    port starts asking at the block. Idle, nobody sends anything (the block lands at a moment spread over a
    probe cycle) and that app starts asking once the daemon has given the tunnel up.
    """
    plan = plan or Plan()
    info = tornet.info or tornet.load_info()
    lab.unblock_all()
    tornet.unblock()
    home = Path(tempfile.mkdtemp(prefix="vpnswitch-torbench-", dir=workdir))
    profiles = [wg_profile(lab), info.profile("tor", standby=standby, socks_port=SOCKS_PORT)]
    tor_exit = moments.exit_address(lab, profiles[1])
    used = dict(timings or TIMINGS)
    phase: dict[str, Any] = {}
    with LabDaemon(lab, daemon_config(lab, profiles, timings=used), home, verbose=False) as daemon:
        connected = daemon.wait_for(lambda: daemon.connected_on("wg") and time.time(), 60, "connected on wg")
        if standby:
            daemon.wait_for(lambda: _tor_ready(lab), 120, "the standby tor to carry a request")
            daemon.wait_for(lambda: _standby_ready(daemon), 60, "the daemon to see its standby ready")
        steady = time.time()
        user = SiteWatch(lab, lab.blocked_ip_url, armed=True)
        through_tor = SiteWatch(lab, lab.blocked_ip_url, armed=True, socks5=f"127.0.0.1:{SOCKS_PORT}")
        try:
            with user, through_tor:
                if idle:
                    delay = plan.next_delay(float(used.get("probe_interval_max", Timings().probe_interval_max)))
                    probe = daemon.wait_for(lambda: _probe_round(lab, lab.wg_server_ip, steady), 60, "a probe round")
                    time.sleep(max(0.0, probe + delay - time.time()))
                    phase["delay_after_probe_s"] = round(delay, 3)
                else:
                    user.go()
                    daemon.wait_for(lambda: user.answered_after(steady, via={lab.wg_server_ip}), 30,
                                    "browsing through the tunnel")
                    time.sleep(QUIET_BEFORE_BLOCK)  # steady state: any switch in it is a false one
                before, in_place = moments.apply(lab.block_all_vpn)
                if not idle:
                    through_tor.go()
                verdict = daemon.wait_for(lambda: _verdict(daemon, "wg", before), 120, "the verdict on wg")
                if idle:
                    through_tor.go()  # the user comes back after the daemon noticed
                daemon.wait_for(lambda: daemon.connected_on("tor", verdict=None), 120, "the switch to tor")
                answer = daemon.wait_for(lambda: through_tor.first_answer(in_place, via={tor_exit}), 60,
                                         "the site through tor")
            entries = [e for e in daemon.entries("switch") if e.get("from") and float(e.get("t", 0)) >= connected]
            if idle:
                last = moments.last_probe_before(lab, lab.wg_server_ip, in_place, steady)
                phase["since_probe_s"] = round(in_place - last, 3) if last is not None else None
        finally:
            lab.unblock_all()
    before_block = [e for e in entries if float(e.get("t", 0)) < before]
    after = [e for e in entries if float(e.get("t", 0)) >= before]
    to_tor = [e for e in after if e.get("to") == "tor"]
    if not to_tor:
        raise AssertionError(f"no switch to tor recorded: {after}")
    first = to_tor[0]
    return {
        "detect_s": round(float(verdict["t"]) - in_place, 3),
        "outage_s": round(float(answer["end"]) - in_place, 3),
        "switches": len(after),
        "false_switches": len(before_block) + sum(1 for e in after if e.get("to") != "tor"),
        "answered_via": answer.get("via"),
        "rule_apply_s": round(in_place - before, 3),
        "verdict_reason": verdict.get("reason", ""),
        "daemon_detect_s": float(first["detect_s"]),
        "daemon_outage_s": float(first["outage_s"]),
        "switch_s": round(float(first["outage_s"]) - float(first["detect_s"]), 3),
        **phase,
    }


def _probe_round(lab: Lab, source: str, since: float) -> float | None:
    try:
        return moments.wait_probe_round(lab, source, since, 0.2)
    except TimeoutError:
        return None


def vpn_blocked_to_tor(lab: Lab, tornet: TorNet, workdir: Path | None = None,
                       timings: dict[str, float] | None = None, plan: Plan | None = None) -> Sample:
    """WireGuard active with the user browsing, Tor cold; every VPN gets blocked."""
    return _run(lab, tornet, standby=False, workdir=workdir, timings=timings, plan=plan)


def vpn_blocked_to_tor_standby(lab: Lab, tornet: TorNet, workdir: Path | None = None,
                               timings: dict[str, float] | None = None, plan: Plan | None = None) -> Sample:
    """WireGuard active with the user browsing, Tor bootstrapped in the background; every VPN gets blocked."""
    return _run(lab, tornet, standby=True, workdir=workdir, timings=timings, plan=plan)


def vpn_blocked_to_tor_standby_idle(lab: Lab, tornet: TorNet, workdir: Path | None = None,
                                    timings: dict[str, float] | None = None, plan: Plan | None = None) -> Sample:
    """As the standby scenario, but nobody browses: the block lands anywhere in a probe cycle."""
    return _run(lab, tornet, standby=True, idle=True, workdir=workdir, timings=timings, plan=plan)


def _no_switch_with_standby(lab: Lab, tornet: TorNet, impair: Callable[[], None], repair: Callable[[], None],
                            seconds: float, key: str, workdir: Path | None,
                            timings: dict[str, float] | None) -> Sample:
    """WireGuard active with a ready Tor standby and a user browsing through the tunnel; impair, wait, repair."""
    info = tornet.info or tornet.load_info()
    lab.unblock_all()
    tornet.unblock()
    home = Path(tempfile.mkdtemp(prefix="vpnswitch-torbench-", dir=workdir))
    profiles = [wg_profile(lab), info.profile("tor", standby=True, socks_port=SOCKS_PORT)]
    with LabDaemon(lab, daemon_config(lab, profiles, timings=timings or TIMINGS), home, verbose=False) as daemon:
        daemon.wait_for(lambda: daemon.connected_on("wg"), 60, "connected on wg")
        daemon.wait_for(lambda: _standby_ready(daemon), 120, "the standby to be ready")
        with SiteWatch(lab, lab.blocked_ip_url, period=0.5) as watch:
            began, impaired = moments.apply(impair)
            try:
                time.sleep(seconds)
            finally:
                _, repaired = moments.apply(repair)
            daemon.wait_for(lambda: daemon.connected_on("wg") or daemon.connected_on("tor", verdict=None), 120,
                            "a healthy connection")
            answered = daemon.wait_for(lambda: watch.answered_after(repaired), 60, "the site")
            ok_ratio = watch.ok_ratio(impaired)
        switches = [e for e in daemon.entries("switch") if e.get("from") and float(e.get("t", 0)) >= began]
        # The standby lives through the impairment too: it must be ready again by itself.
        ready_again = daemon.wait_for(lambda: _standby_ready(daemon) and time.time(), 120,
                                      "the standby to be ready again")
    return {"detect_s": None, "outage_s": None, "switches": len(switches), "false_switches": len(switches),
            key: round(repaired - impaired, 1), "recovered_s": round(answered - repaired, 3),
            "site_ok_ratio": round(ok_ratio, 3), "standby_ready_again_s": round(ready_again - repaired, 3)}


def _standby_ready(daemon: LabDaemon) -> bool:
    try:
        status = daemon.status()
    except VpnSwitchError:
        return False
    return any(p["name"] == "tor" and p.get("warm") == "ready" for p in status.get("profiles", []))


def loss_10pct_tor_standby(lab: Lab, tornet: TorNet, workdir: Path | None = None,
                           timings: dict[str, float] | None = None, plan: Plan | None = None) -> Sample:
    """10 % random loss each way (ten minutes unless the plan says less) while browsing, a ready Tor standby
    next in line."""
    seconds = (plan or Plan()).loss_seconds
    return _no_switch_with_standby(lab, tornet, lambda: lab.random_loss(10), lambda: lab.unblock("loss"),
                                   seconds, "loss_s", workdir, timings)


def link_outage_tor_standby(lab: Lab, tornet: TorNet, workdir: Path | None = None,
                            timings: dict[str, float] | None = None, plan: Plan | None = None) -> Sample:
    """The client's link cut for 30 s while browsing, a ready Tor standby next in line."""
    return _no_switch_with_standby(lab, tornet, lab.cut_client_link, lab.restore_client_link, OUTAGE_SECONDS,
                                   "cut_s", workdir, timings)


SCENARIOS: dict[str, Callable[..., Sample]] = {
    "vpn-blocked-to-tor": vpn_blocked_to_tor,
    "vpn-blocked-to-tor-standby": vpn_blocked_to_tor_standby,
    "vpn-blocked-to-tor-standby-idle": vpn_blocked_to_tor_standby_idle,
    "loss-10pct-tor-standby": loss_10pct_tor_standby,
    "link-outage-tor-standby": link_outage_tor_standby,
}
KEYS = ("detect_s", "outage_s", "switch_s", "daemon_detect_s", "daemon_outage_s", "switches", "false_switches")


def _table(results: dict[str, dict[str, Any]]) -> str:
    lines = [f"{'scenario':<32} {'metric':<15} {'median':>8} {'min':>8} {'max':>8}  samples"]
    for name, series in results.items():
        samples = series["samples"]
        failed = sum(1 for s in samples if "failed" in s)
        keys = [*KEYS, *sorted({k for s in samples for k in s if k not in KEYS and k != "failed"})]
        for key in keys:
            values = [s[key] for s in samples if isinstance(s.get(key), (int, float)) and not isinstance(s[key], bool)]
            if not values:
                continue
            lines.append(f"{name:<32} {key:<15} {statistics.median(values):>8.3f} {min(values):>8.3f} "
                         f"{max(values):>8.3f}  {', '.join(f'{v:g}' for v in values)}")
        if failed:
            lines.append(f"{name:<32} FAILED {failed} of {len(samples)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.tor_scenarios", description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write the samples here")
    parser.add_argument("--prefix", default="vtb", help="lab prefix (its own lab, brought up and down)")
    parser.add_argument("--only", choices=sorted(SCENARIOS), action="append")
    parser.add_argument("--defaults", action="store_true", help="the daemon's default timings, not the quick lab pace")
    parser.add_argument("--timing", action="append", default=[], metavar="NAME=SECONDS",
                        help="override one of the daemon's timings, e.g. probe_timeout=0.5")
    args = parser.parse_args(argv)
    timings_used = dataclasses.asdict(Timings()) if args.defaults else dict(TIMINGS)
    for item in args.timing:
        key, _, value = item.partition("=")
        timings_used[key] = float(value)
    problems = Lab.missing_prerequisites() + TorNet.missing_prerequisites()
    if problems:
        print("cannot run: " + "; ".join(problems), file=sys.stderr)
        return 2
    results: dict[str, dict[str, Any]] = {}
    setup: dict[str, float] = {}
    rng = random.Random(1)
    with Lab(prefix=args.prefix) as lab, TorNet(lab) as tornet:
        setup["tor_network_up_s"] = round(tornet.timings["up"], 2)
        for name in args.only or list(SCENARIOS):
            samples = results.setdefault(name, {"samples": []})["samples"]
            plan = Plan(rng, args.repeat)
            for _ in range(args.repeat):
                try:
                    sample = SCENARIOS[name](lab, tornet, timings=timings_used, plan=plan)
                except Exception as exc:  # noqa: BLE001 - a failed sample is kept, never dropped
                    sample = {"failed": f"{type(exc).__name__}: {str(exc)[:2000]}"}
                samples.append(sample)
                print(f"{name}: {json.dumps(sample)[:3000]}", flush=True)
    print(_table(results))
    if args.json:
        args.json.write_text(json.dumps({"meta": {"timings": timings_used, **setup}, "scenarios": results},
                                        indent=1))
    return 1 if any("failed" in s for r in results.values() for s in r["samples"]) else 0

if __name__ == "__main__":
    sys.exit(main())
