"""Failover benchmark scenarios with Tor: every VPN blocked, the daemon falls back to Tor.

    vpn-blocked-to-tor          WireGuard active, Tor cold (started only when needed)
    vpn-blocked-to-tor-standby  WireGuard active, Tor a hot standby (bootstrapped in the background)
    loss-10pct-tor-standby      as above, 10 % loss for two minutes while the user browses: no switch
    link-outage-tor-standby     as above, the client's link cut for 30 s: no switch

A ready standby lowers the evidence a switch needs (two dead rounds after a stall instead of three), so the
last two check that this costs no false switches.

Each scenario function takes a running lab and its private Tor network and returns one sample:

    {"detect_s", "outage_s", "switches", "false_switches",   # what the failover benchmark collects
     "daemon_detect_s", "daemon_outage_s", "switch_s"}        # extra detail for Tor

As in the failover benchmark, ``detect_s`` is wall time from the block to the daemon's verdict and
``outage_s`` from the block until the blocked site answered again — here through tor's SOCKS port, as an
app using the system proxy would see it. ``daemon_detect_s``/``daemon_outage_s`` are the daemon's own
figures from its history (from its first sign of trouble); ``switch_s`` is their difference, the part a
standby saves. ``false_switches`` counts switches that should not have happened: any before the block, and
any after it that did not go to Tor; in the no-switch scenarios, every switch.

Standalone (brings its own lab up and down, prints a table, writes JSON)::

    python -m tests.bench.tor_scenarios --repeat 3 --json tor-bench.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
LOSS_SECONDS = 120.0
OUTAGE_SECONDS = 30.0
Sample = dict[str, Any]


class _SiteThroughTor:
    """Polls the blocked site through tor's SOCKS port from the client namespace; notes the first success."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.first_ok: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _SiteThroughTor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set() and self.first_ok is None:
            result = self.lab.client_run(["curl", "-sS", "-o", "/dev/null", "--max-time", "2", "--socks5-hostname",
                                          f"127.0.0.1:{SOCKS_PORT}", self.lab.blocked_ip_url], timeout=8)
            if result.returncode == 0:
                self.first_ok = time.time()
                return
            self._stop.wait(0.1)


def _tor_ready(lab: Lab) -> bool:
    result = lab.client_run(["curl", "-sS", "-o", "/dev/null", "--max-time", "3", "--socks5-hostname",
                             f"127.0.0.1:{SOCKS_PORT}", lab.canary_ip_url], timeout=8)
    return result.returncode == 0


def _run(lab: Lab, tornet: TorNet, *, standby: bool, workdir: Path | None = None,
         timings: dict[str, float] | None = None) -> Sample:
    info = tornet.info or tornet.load_info()
    lab.unblock_all()
    tornet.unblock()
    home = Path(tempfile.mkdtemp(prefix="vpnswitch-torbench-", dir=workdir))
    profiles = [wg_profile(lab), info.profile("tor", standby=standby, socks_port=SOCKS_PORT)]
    with LabDaemon(lab, daemon_config(lab, profiles, timings=timings or TIMINGS), home, verbose=False) as daemon:
        daemon.wait_for(lambda: daemon.connected_on("wg"), 60, "connected on wg")
        if standby:
            daemon.wait_for(lambda: _tor_ready(lab), 120, "the standby tor to carry a request")
        time.sleep(QUIET_BEFORE_BLOCK)  # steady state: any switch in it is a false one
        blocked_at = time.time()
        try:
            with _SiteThroughTor(lab) as site:
                lab.block_all_vpn()
                daemon.wait_for(lambda: daemon.connected_on("tor", verdict=None), 120, "the switch to tor")
                deadline = time.monotonic() + 30
                while site.first_ok is None and time.monotonic() < deadline:
                    time.sleep(0.05)
            entries = [e for e in daemon.entries("switch") if e.get("from")]
            failed_at = daemon.failed_at("wg", blocked_at)
        finally:
            lab.unblock_all()
    before = [e for e in entries if float(e.get("t", 0)) < blocked_at]
    after = [e for e in entries if float(e.get("t", 0)) >= blocked_at]
    to_tor = [e for e in after if e.get("to") == "tor"]
    if not to_tor:
        raise AssertionError(f"no switch to tor recorded: {after}")
    if failed_at is None or site.first_ok is None:
        raise AssertionError(f"no verdict on wg ({failed_at}) or the site never answered through tor")
    first = to_tor[0]
    return {
        "detect_s": round(failed_at - blocked_at, 3),
        "outage_s": round(site.first_ok - blocked_at, 3),
        "switches": len(after),
        "false_switches": len(before) + sum(1 for e in after if e.get("to") != "tor"),
        "daemon_detect_s": float(first["detect_s"]),
        "daemon_outage_s": float(first["outage_s"]),
        "switch_s": round(float(first["outage_s"]) - float(first["detect_s"]), 3),
    }


def vpn_blocked_to_tor(lab: Lab, tornet: TorNet, workdir: Path | None = None,
                       timings: dict[str, float] | None = None) -> Sample:
    """WireGuard active, Tor cold; every VPN gets blocked."""
    return _run(lab, tornet, standby=False, workdir=workdir, timings=timings)


def vpn_blocked_to_tor_standby(lab: Lab, tornet: TorNet, workdir: Path | None = None,
                               timings: dict[str, float] | None = None) -> Sample:
    """WireGuard active, Tor bootstrapped in the background; every VPN gets blocked."""
    return _run(lab, tornet, standby=True, workdir=workdir, timings=timings)


def _no_switch_with_standby(lab: Lab, tornet: TorNet, impair: Callable[[], None], repair: Callable[[], None],
                            seconds: float, workdir: Path | None, timings: dict[str, float] | None) -> Sample:
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
            began = time.time()
            try:
                impair()
                time.sleep(seconds)
            finally:
                repair()
            repaired = time.time()
            daemon.wait_for(lambda: daemon.connected_on("wg") or daemon.connected_on("tor", verdict=None), 120,
                            "a healthy connection")
            answered = daemon.wait_for(lambda: watch.answered_after(repaired), 60, "the site")
            ok_ratio = watch.ok_ratio(began)
        switches = [e for e in daemon.entries("switch") if e.get("from") and float(e.get("t", 0)) >= began]
        # The standby lives through the impairment too: it must be ready again by itself.
        ready_again = daemon.wait_for(lambda: _standby_ready(daemon) and time.time(), 120,
                                      "the standby to be ready again")
    return {"detect_s": None, "outage_s": None, "switches": len(switches), "false_switches": len(switches),
            "recovered_s": round(answered - repaired, 3), "site_ok_ratio": round(ok_ratio, 3),
            "standby_ready_again_s": round(ready_again - repaired, 3)}


def _standby_ready(daemon: LabDaemon) -> bool:
    try:
        status = daemon.status()
    except VpnSwitchError:
        return False
    return any(p["name"] == "tor" and p.get("warm") == "ready" for p in status.get("profiles", []))


def loss_10pct_tor_standby(lab: Lab, tornet: TorNet, workdir: Path | None = None,
                           timings: dict[str, float] | None = None) -> Sample:
    """10 % random loss each way for two minutes while browsing, a ready Tor standby next in line."""
    return _no_switch_with_standby(lab, tornet, lambda: lab.random_loss(10), lambda: lab.unblock("loss"),
                                   LOSS_SECONDS, workdir, timings)


def link_outage_tor_standby(lab: Lab, tornet: TorNet, workdir: Path | None = None,
                            timings: dict[str, float] | None = None) -> Sample:
    """The client's link cut for 30 s while browsing, a ready Tor standby next in line."""
    return _no_switch_with_standby(lab, tornet, lab.cut_client_link, lab.restore_client_link, OUTAGE_SECONDS,
                                   workdir, timings)


SCENARIOS: dict[str, Callable[..., Sample]] = {
    "vpn-blocked-to-tor": vpn_blocked_to_tor,
    "vpn-blocked-to-tor-standby": vpn_blocked_to_tor_standby,
    "loss-10pct-tor-standby": loss_10pct_tor_standby,
    "link-outage-tor-standby": link_outage_tor_standby,
}
TARGETS = {
    "vpn-blocked-to-tor-standby": "≤ 2 s outage",
    "loss-10pct-tor-standby": "0 false switches",
    "link-outage-tor-standby": "0 false switches",
}
KEYS = ("detect_s", "outage_s", "switch_s", "daemon_detect_s", "daemon_outage_s", "switches", "false_switches")


def _table(results: dict[str, dict[str, list[Any]]]) -> str:
    lines = [f"{'scenario':<28} {'metric':<15} {'median':>8} {'min':>8} {'max':>8}  samples"]
    for name, series in results.items():
        for key in [*KEYS, *(k for k in series if k not in KEYS)]:
            values = [v for v in series.get(key, []) if isinstance(v, (int, float)) and not isinstance(v, bool)]
            if not values:
                continue
            lines.append(f"{name:<28} {key:<15} {statistics.median(values):>8.3f} {min(values):>8.3f} "
                         f"{max(values):>8.3f}  {', '.join(f'{v:g}' for v in values)}")
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
    results: dict[str, dict[str, list[Any]]] = {}
    timings: dict[str, float] = {}
    with Lab(prefix=args.prefix) as lab, TorNet(lab) as tornet:
        timings["tor_network_up_s"] = round(tornet.timings["up"], 2)
        for name in args.only or list(SCENARIOS):
            series = results.setdefault(name, {})
            for _ in range(args.repeat):
                sample = SCENARIOS[name](lab, tornet, timings=timings_used)
                for key, value in sample.items():
                    series.setdefault(key, []).append(value)
                print(f"{name}: {json.dumps(sample)}", flush=True)
    print(_table(results))
    if args.json:
        args.json.write_text(json.dumps({"scenarios": results, "timings": timings_used, "setup": timings}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
