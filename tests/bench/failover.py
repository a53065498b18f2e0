"""Failover benchmark in the censorship lab: how fast vpnswitch notices and recovers, how often it switches
wrongly, and what it costs at idle — next to what a user has today without it.

    python -m tests.bench.failover [--repeat 5] [--json PATH] [--only NAME ...] [--prefix vsb]

Runs the real ``vpnswitch daemon`` in the lab's client namespace with DEFAULT timings and the profiles
WireGuard, OpenVPN-UDP, OpenVPN-TCP (in that order unless a scenario says otherwise); the blocked site is
the must-reach target. Every time is measured from the moment this script applies the censor's change:

    detect_s   block → the daemon's verdict that the profile is failing/down (its history entry's wall time)
    outage_s   block → the blocked site answering again, through the backup, to a user's request loop
               (a fresh connection every 0.2 s along the namespace's normal routes)
    switches   switches recorded during the scenario
    false_switches   switches that should not have happened (any under loss or a link outage; any but the
               first one after a block)

Baseline ``openvpn-alone``: no vpnswitch, just openvpn with ``keepalive 10 60`` and two ``remote`` lines
(UDP, then TCP/443), its UDP server blocked. ``idle`` samples the daemon's own CPU and memory while it
guards a healthy WireGuard connection. The DNS scenarios (``dns-*``, ``tests.bench.dns_scenarios``) hold a
DNS block for a while with the site asked by name: every switch in them is a false one. The Tor scenarios
come from ``tests.bench.tor_scenarios`` when that module and a private Tor network are available (their
numbers are the daemon's own history figures).
Prints a table; writes JSON ``{"scenarios": {NAME: {"detect_s": [...], "outage_s": [...], "switches": [...],
"false_switches": [...]}}, "idle": {"cpu_percent": x, "rss_mb": y}, ...}``.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.bench import dns_scenarios
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
KEYS = ("detect_s", "outage_s", "switches", "false_switches")
LIMIT = 240.0  # the longest anything may take before the sample counts as failed
LOSS_SECONDS = 120.0
EXTRA_TARGETS: dict[str, str] = {}  # targets of scenarios defined elsewhere (the Tor ones)
OUTAGE_SECONDS = 30.0
IDLE_SECONDS = 60.0


@dataclasses.dataclass
class Bench:
    lab: Lab
    workdir: Path
    rng: random.Random

    def daemon(self, profiles: list[dict[str, Any]]) -> LabDaemon:
        home = Path(tempfile.mkdtemp(prefix="home-", dir=self.workdir))
        return LabDaemon(self.lab, daemon_config(self.lab, profiles), home, verbose=False)

    def standard(self) -> list[dict[str, Any]]:
        return [wg_profile(self.lab), ovpn_udp_profile(self.lab), ovpn_tcp_profile(self.lab)]


def _active(daemon: LabDaemon) -> str | None:
    try:
        status = daemon.status()
    except VpnSwitchError:
        return None
    return status["active"] if status["state"] == "connected" and status["verdict"] == "healthy" else None


def _failover(bench: Bench, profiles: list[dict[str, Any]], trigger: Callable[[], None], *,
              traffic: bool, idle_delay: tuple[float, float] = (1.0, 1.0)) -> Sample:
    """Connect on the first profile, break it with ``trigger``, measure until the site answers again."""
    lab = bench.lab
    first = profiles[0]["name"]
    with bench.daemon(profiles) as daemon:
        daemon.wait_for(lambda: daemon.connected_on(first), 60, f"connected on {first}")
        with SiteWatch(lab, lab.blocked_ip_url, armed=not traffic) as watch:
            if traffic:
                watch.go()
            # Idle: land anywhere in the jittered probe cycle; with traffic, a second of steady browsing.
            time.sleep(bench.rng.uniform(*idle_delay))
            blocked_at = time.time()
            trigger()
            verdict = daemon.wait_for(lambda: daemon.failed_at(first, blocked_at), LIMIT, "the verdict")
            if not traffic:
                watch.go()  # the user comes back after the daemon noticed
            daemon.wait_for(lambda: _active(daemon) not in (None, first), LIMIT, "the switch")
            answered = daemon.wait_for(lambda: watch.answered_after(blocked_at), 60, "the site through the backup")
        time.sleep(3.0)  # a switch right after landing would be a false one
        switches = daemon.entries("switch", since=blocked_at)
    return {"detect_s": round(verdict - blocked_at, 3), "outage_s": round(answered - blocked_at, 3),
            "switches": len(switches), "false_switches": max(0, len(switches) - 1),
            "landed_on": switches[0]["to"] if switches else None}


def _kill_wireguard(lab: Lab) -> None:
    [pid] = pids_of(lab, "wireguard-go")
    os.kill(pid, signal.SIGKILL)


# ---------------------------------------------------------------------------------------------- scenarios


def wg_blocked_traffic(bench: Bench) -> Sample:
    """WireGuard's port blocked while the user browses."""
    return _failover(bench, bench.standard(), bench.lab.block_wireguard_port, traffic=True)


def wg_blocked_idle(bench: Bench) -> Sample:
    """WireGuard's port blocked while nothing but the daemon's own probes flows."""
    return _failover(bench, bench.standard(), bench.lab.block_wireguard_port, traffic=False, idle_delay=(1.0, 15.0))


def wg_killed(bench: Bench) -> Sample:
    """The wireguard-go process is killed (SIGKILL) while the user browses."""
    return _failover(bench, bench.standard(), lambda: _kill_wireguard(bench.lab), traffic=True)


def ovpn_tcp_rst(bench: Bench) -> Sample:
    """OpenVPN over TCP/443 active; the censor answers its packets with TCP resets."""
    lab = bench.lab
    profiles = [ovpn_tcp_profile(lab), wg_profile(lab), ovpn_udp_profile(lab)]
    return _failover(bench, profiles, lambda: lab.block_openvpn_tcp("rst"), traffic=True)


def _no_switch(bench: Bench, impair: Callable[[], None], repair: Callable[[], None], seconds: float) -> Sample:
    lab = bench.lab
    with bench.daemon(bench.standard()) as daemon:
        daemon.wait_for(lambda: daemon.connected_on("wg"), 60, "connected on wg")
        with SiteWatch(lab, lab.blocked_ip_url, period=0.5) as watch:
            began = time.time()
            impair()
            time.sleep(seconds)
            repair()
            repaired = time.time()
            daemon.wait_for(lambda: daemon.connected_on("wg") or _active(daemon), LIMIT, "a healthy connection")
            answered = daemon.wait_for(lambda: watch.answered_after(repaired), 60, "the site")
            answered_during = watch.ok_ratio(began)
        switches = daemon.entries("switch", since=began)
    return {"detect_s": None, "outage_s": None, "switches": len(switches), "false_switches": len(switches),
            "recovered_s": round(answered - repaired, 3), "site_ok_ratio": round(answered_during, 3)}


def loss_10pct(bench: Bench) -> Sample:
    """10 % random loss each way on the client's link for two minutes, while the user browses."""
    lab = bench.lab
    return _no_switch(bench, lambda: lab.random_loss(10), lambda: lab.unblock("loss"), LOSS_SECONDS)


def link_outage(bench: Bench) -> Sample:
    """The client's link drops everything for 30 s, then comes back."""
    lab = bench.lab
    return _no_switch(bench, lab.cut_client_link, lab.restore_client_link, OUTAGE_SECONDS)


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
            blocked_at = time.time()
            lab.block_openvpn_udp()
            detected = _wait(lambda: seen("Inactivity timeout") and time.time(), LIMIT, "openvpn to notice", proc)
            answered = _wait(lambda: watch.answered_after(blocked_at), LIMIT, "the site through TCP/443", proc)
        moved = log.read_text(errors="replace").count("Initialization Sequence Completed") - 1
    finally:
        stop_process(proc, grace=10)
        lab.unblock_all()
    return {"detect_s": round(detected - blocked_at, 3), "outage_s": round(answered - blocked_at, 3),
            "switches": moved, "false_switches": 0}


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


SCENARIOS: dict[str, tuple[Callable[[Bench], Sample], str]] = {
    "wg-blocked-traffic": (wg_blocked_traffic, "≤ 5 s detect, ≤ 10 s outage"),
    "wg-blocked-idle": (wg_blocked_idle, "≤ 30 s detect"),
    "wg-killed": (wg_killed, "≤ 1 s detect"),
    "ovpn-tcp-rst": (ovpn_tcp_rst, "≤ 1 s detect (hard)"),
    "loss-10pct-2min": (loss_10pct, "0 false switches"),
    "link-outage-30s": (link_outage, "0 false switches"),
    "openvpn-alone": (openvpn_alone, "baseline, no vpnswitch"),
    # DNS blocks (tests/bench/dns_scenarios.py): the must-reach site asked by name.
    **{name: (lambda bench, run=run: run(bench.lab, bench.workdir), dns_scenarios.TARGETS[name])
       for name, run in dns_scenarios.SCENARIOS.items()},
}


# ----------------------------------------------------------------------------------------------- idle


def measure_idle(bench: Bench, seconds: float = IDLE_SECONDS) -> dict[str, float]:
    """CPU and memory of the daemon process itself while it guards a healthy WireGuard connection."""
    with bench.daemon(bench.standard()) as daemon:
        daemon.wait_for(lambda: daemon.connected_on("wg"), 60, "connected on wg")
        assert daemon.pid is not None
        return sample_idle(daemon.pid, seconds)


# ------------------------------------------------------------------------------------------------- Tor


def run_tor(lab: Lab, repeat: int, results: dict[str, dict[str, list[Any]]], notes: list[str]) -> None:
    """The Tor scenarios (tests/bench/tor_scenarios.py), when a private Tor network can be started."""
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
    EXTRA_TARGETS.update(tor_scenarios.TARGETS)
    try:
        with tornet_module.TorNet(lab) as tornet:
            for name, scenario in tor_scenarios.SCENARIOS.items():
                series = results.setdefault(name, {key: [] for key in KEYS})
                for _ in range(repeat):
                    try:
                        sample = scenario(lab, tornet, timings=defaults)
                    except Exception as exc:  # noqa: BLE001 - one failed sample must not lose the rest
                        series.setdefault("errors", []).append(f"{type(exc).__name__}: {str(exc)[:300]}")
                        print(f"{name}: FAILED {exc}", flush=True)
                        lab.unblock_all()
                        continue
                    for key, value in sample.items():
                        series.setdefault(key, []).append(value)
                    print(f"{name}: {json.dumps(sample)}", flush=True)
        notes.append("Tor scenarios: outage_s is block → site through Tor's SOCKS port; the daemon's own history "
                     "figures (from its first failed probe) are in the JSON as daemon_detect_s/daemon_outage_s")
    except Exception as exc:  # noqa: BLE001 - the private Tor network could not be started
        notes.append(f"Tor scenarios not run: the private Tor network did not start ({type(exc).__name__}: {exc})")


# ----------------------------------------------------------------------------------------------- output


def _fmt(values: list[Any]) -> str:
    nums = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if not nums:
        return "—"
    med = statistics.median(nums)
    return f"{med:.2f} ({min(nums):.2f}–{max(nums):.2f})" if len(nums) > 1 else f"{med:.2f}"


def table(results: dict[str, dict[str, list[Any]]], idle: dict[str, float] | None, notes: list[str]) -> str:
    head = f"{'scenario':<28} {'n':>2}  {'detect_s median (min–max)':<26} {'outage_s median (min–max)':<26} " \
           f"{'switches':>8} {'false':>5}  target"
    lines = [head, "-" * len(head)]
    for name, series in results.items():
        n = len(series.get("switches", []))
        target = SCENARIOS[name][1] if name in SCENARIOS else EXTRA_TARGETS.get(name, "")
        extra = ""
        if series.get("recovered_s"):
            extra = f"; back {_fmt(series['recovered_s'])} s after repair"
        if series.get("switch_s"):
            extra = f"; switch_s {_fmt(series['switch_s'])}"
        if any(v is not None for v in series.get("isp_lookups", [])):
            extra += f"; site lookups at the ISP {_fmt(series['isp_lookups'])}"
        if any(v is not None for v in series.get("site_ok_ratio", [])):
            extra += f"; site by name ok {_fmt(series['site_ok_ratio'])}"
        if series.get("errors"):
            extra += f"; {len(series['errors'])} failed"
        lines.append(f"{name:<28} {n:>2}  {_fmt(series.get('detect_s', [])):<26} "
                     f"{_fmt(series.get('outage_s', [])):<26} {sum(series.get('switches', [])):>8} "
                     f"{sum(series.get('false_switches', [])):>5}  {target}{extra}")
    if idle:
        lines.append(f"{'idle (daemon, healthy wg)':<28} {'':>2}  cpu {idle['cpu_percent']:.2f} %, "
                     f"rss {idle['rss_mb']:.1f} MB (peak {idle['peak_rss_mb']:.1f}), over {idle['seconds']:.0f} s")
    lines += [f"note: {note}" for note in notes]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.failover", description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, help="write the samples here")
    parser.add_argument("--only", action="append", choices=[*SCENARIOS, "idle", "tor", "dns"],
                        help="run only these (repeatable; dns: every DNS scenario); default: everything")
    parser.add_argument("--prefix", default="vsb", help="lab prefix (the benchmark brings its own lab up and down)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    problems = Lab.missing_prerequisites()
    if problems:
        print("cannot run: " + "; ".join(problems), file=sys.stderr)
        return 2
    chosen = args.only or [*SCENARIOS, "tor", "idle"]
    if "dns" in chosen:
        chosen += list(dns_scenarios.SCENARIOS)
    results: dict[str, dict[str, list[Any]]] = {}
    notes: list[str] = []
    idle: dict[str, float] | None = None
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="vpnswitch-bench-") as tmp, Lab(prefix=args.prefix) as lab:
        bench = Bench(lab, Path(tmp), random.Random(args.seed))
        for name in (n for n in SCENARIOS if n in chosen):
            function = SCENARIOS[name][0]
            series = results.setdefault(name, {key: [] for key in KEYS})
            for index in range(args.repeat):
                try:
                    sample = function(bench)
                except Exception as exc:  # noqa: BLE001 - record the failure, go on with the next sample
                    series.setdefault("errors", []).append(f"{type(exc).__name__}: {str(exc)[:2000]}")
                    print(f"{name} #{index + 1}: FAILED {type(exc).__name__}: {str(exc)[:2000]}", flush=True)
                    traceback.print_exc()
                    sample = None
                finally:
                    lab.unblock_all()
                    stale = client_leftovers(lab)
                if stale:
                    raise SystemExit(f"after {name}: the client namespace is not clean: {stale}")
                if sample is not None:
                    for key, value in sample.items():
                        series.setdefault(key, []).append(value)
                    print(f"{name} #{index + 1}: {json.dumps(sample)}", flush=True)
        if "tor" in chosen:
            run_tor(lab, args.repeat, results, notes)
        if "idle" in chosen:
            idle = measure_idle(bench)
            print(f"idle: {json.dumps(idle)}", flush=True)
    notes.append(f"default timings; lab {args.prefix}; {time.monotonic() - started:.0f} s in all")
    print()
    print(table(results, idle, notes))
    if args.json:
        args.json.write_text(json.dumps({"scenarios": results, "idle": idle, "notes": notes}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
