"""Tor end to end: the real ``vpnswitch daemon`` in the lab's client namespace, the lab's real VPN servers, and
a private Tor network (authority, relays, an exit that reaches the lab's site, an obfs4 bridge) started once
for the module.

What is shown: every VPN blocked → the daemon switches to Tor and the blocked site answers through it;
relays blocked but the obfs4 bridge open → the bridged profile works and the plain one is judged failing;
Tor blocked after bootstrap → the probes notice and the daemon switches away; hot standby → the switch
reuses the tor that is already running (the outage is measured by the benchmark, not asserted here).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.lab.daemon import LabDaemon, SiteWatch, daemon_config, pids_of, wg_profile
from tests.lab.harness import Lab
from tests.lab.tornet import TorNet, TorNetInfo
from vpnswitch.core.errors import VpnSwitchError

pytestmark = [pytest.mark.lab, pytest.mark.tor]

# Lab pace: probes every 2-3 s with a short timeout, so each scenario takes seconds, not minutes.
LAB_TIMINGS = {
    "probe_interval_min": 2.0,
    "probe_interval_max": 3.0,
    "probe_timeout": 1.5,
    "confirm_delay": 0.3,
    "connect_timeout": 40.0,
    "verify_timeout": 10.0,
}
TOR_SOCKS_PORT = 19050  # fixed in these profiles so the test can use tor's SOCKS port like an app would
BRIDGE_SOCKS_PORT = 19060


def tor_profile(info: TorNetInfo, name: str = "tor", *, bridges: tuple[str, ...] = (), standby: bool = False,
                socks_port: int | None = TOR_SOCKS_PORT, stall: float = 15.0) -> dict[str, Any]:
    return info.profile(name, bridges=bridges, standby=standby, socks_port=socks_port, stall=stall)


@pytest.fixture(scope="module")
def tornet(lab: Lab) -> Iterator[TorNet]:
    missing = TorNet.missing_prerequisites()
    if missing:
        pytest.fail("private Tor network unavailable: " + "; ".join(missing), pytrace=False)
    net = TorNet(lab)
    net.up()
    try:
        yield net
    finally:
        net.down()
    assert not net.leftovers(), f"Tor network teardown left {net.leftovers()}"


@pytest.fixture(autouse=True)
def _censor_off(lab: Lab, tornet: TorNet) -> Iterator[None]:
    lab.unblock_all()
    tornet.unblock()
    yield
    lab.unblock_all()
    tornet.unblock()


def fetch_via_socks(lab: Lab, port: int, url: str, timeout: float = 10.0) -> str | None:
    """What an app configured with tor's SOCKS port gets (names resolved by tor: socks5h)."""
    result = lab.client_run(["curl", "-sS", "--max-time", str(timeout), "--socks5-hostname", f"127.0.0.1:{port}",
                             url], timeout=timeout + 5)
    return result.stdout if result.returncode == 0 else None


def tcp_connects(lab: Lab, host_port: str) -> bool:
    host, _, port = host_port.rpartition(":")
    code = f"import socket; socket.create_connection(({host!r}, {int(port)}), timeout=2).close()"
    return lab.client_run([sys.executable, "-c", code], timeout=10).returncode == 0


def switches(daemon: LabDaemon, since: float) -> list[dict[str, Any]]:
    return [e for e in daemon.entries("switch", since=since) if e.get("from")]


def profile_state(daemon: LabDaemon, name: str) -> dict[str, Any]:
    return next(p for p in daemon.status()["profiles"] if p["name"] == name)


def test_every_vpn_blocked_switches_to_tor_and_the_blocked_site_answers(lab: Lab, tornet: TorNet,
                                                                         tmp_path: Path) -> None:
    info = tornet.info
    assert info is not None
    config = daemon_config(lab, [wg_profile(lab), tor_profile(info)], timings=LAB_TIMINGS)
    with LabDaemon(lab, config, tmp_path / "home") as daemon:
        daemon.wait_for(lambda: daemon.connected_on("wg"), 60, "connected on wg")
        assert fetch_via_socks(lab, TOR_SOCKS_PORT, lab.blocked_ip_url, timeout=2) is None  # no tor yet
        blocked_at = time.time()
        lab.block_all_vpn()
        daemon.wait_for(lambda: daemon.connected_on("tor"), 90, "the switch to tor")
        [switch] = switches(daemon, blocked_at)
        assert switch["from"] == "wg" and switch["to"] == "tor", switch
        # The daemon's own probe of the must-reach site went through Tor ...
        status = daemon.status()
        site = next(t for t in status["targets"] if t["url"] == lab.blocked_ip_url)
        assert site["ok"], status
        # ... and so does an app that uses tor's SOCKS port, while the direct way stays censored.
        assert fetch_via_socks(lab, TOR_SOCKS_PORT, lab.blocked_ip_url) == lab.blocked_body.decode()
        assert lab.client_run(["curl", "-sS", "--max-time", "2", lab.blocked_ip_url]).returncode != 0
        check = daemon.cli("check", "--json")
        assert check.returncode == 0, check.stderr
    assert pids_of(lab, "tor") == []  # the daemon took its tor down with it


def test_relays_blocked_the_obfs4_bridge_works_and_plain_tor_is_judged_failing(lab: Lab, tornet: TorNet,
                                                                               tmp_path: Path) -> None:
    info = tornet.info
    assert info is not None
    tornet.block_relays()
    plain = tor_profile(info, "tor-plain", stall=8.0)
    bridged = tor_profile(info, "tor-obfs4", bridges=(info.bridge_line,), socks_port=BRIDGE_SOCKS_PORT, stall=8.0)
    config = daemon_config(lab, [plain, bridged], timings=LAB_TIMINGS)
    with LabDaemon(lab, config, tmp_path / "home") as daemon:
        daemon.wait_for(lambda: daemon.connected_on("tor-obfs4"), 90, "connected through the obfs4 bridge")
        failed = profile_state(daemon, "tor-plain")
        assert failed["state"] == "quarantined", failed
        assert "no progress" in failed["reason"], failed  # judged by its bootstrap: stuck, in tor's words
        failures = daemon.entries("connect-failed")
        assert any(e["profile"] == "tor-plain" for e in failures), failures
        assert fetch_via_socks(lab, BRIDGE_SOCKS_PORT, lab.blocked_ip_url) == lab.blocked_body.decode()
        # The plain ORPort of the very same bridge is blocked too: only obfs4 gets through.
        plain_addr = info.plain_bridge_line.split()[0]
        obfs4_addr = info.bridge_line.split()[1]
        assert not tcp_connects(lab, plain_addr) and tcp_connects(lab, obfs4_addr)


def test_tor_blocked_after_bootstrap_is_caught_by_probes_and_switched_away(lab: Lab, tornet: TorNet,
                                                                          tmp_path: Path) -> None:
    """With the privacy preference Tor comes first; a block tor's own status never shows is still caught."""
    info = tornet.info
    assert info is not None
    config = daemon_config(lab, [wg_profile(lab), tor_profile(info)], timings=LAB_TIMINGS,
                           behaviour={"preference": "privacy"})
    with LabDaemon(lab, config, tmp_path / "home") as daemon:
        daemon.wait_for(lambda: daemon.connected_on("tor"), 90, "connected on tor first (privacy)")
        status = daemon.cli("status")
        assert "privacy" in status.stdout and "browsing will be slower" in status.stdout, status.stdout
        assert daemon.status()["preference"] == "privacy"
        blocked_at = time.time()
        tornet.block_all()
        daemon.wait_for(lambda: daemon.connected_on("wg"), 60, "the switch away from the blocked tor")
        [switch] = switches(daemon, blocked_at)
        assert switch["from"] == "tor" and switch["to"] == "wg", switch
        # Judged by the probes (tor itself still says 100 %, circuit established, network up).
        assert "stopped carrying traffic" in switch["reason"] and lab.blocked_ip in switch["reason"], switch
        assert switch["detect_s"] <= switch["outage_s"]


def test_hot_standby_switch_reuses_the_running_tor(lab: Lab, tornet: TorNet, tmp_path: Path) -> None:
    info = tornet.info
    assert info is not None
    config = daemon_config(lab, [wg_profile(lab), tor_profile(info, standby=True)], timings=LAB_TIMINGS)
    with LabDaemon(lab, config, tmp_path / "home") as daemon:
        daemon.wait_for(lambda: daemon.connected_on("wg"), 60, "connected on wg")
        # Warm: tor bootstrapped in the background while WireGuard carries the traffic (through the tunnel), and
        # checked with a probe round through it — status says so.
        daemon.wait_for(lambda: _warm(daemon, "tor") == "ready", 90, "the standby tor to be ready")
        assert fetch_via_socks(lab, TOR_SOCKS_PORT, lab.canary_ip_url, timeout=3)
        [tor_pid] = pids_of(lab, "tor")
        assert daemon.status()["active"] == "wg"
        with SiteWatch(lab, lab.blocked_ip_url, period=0.2):  # a user browsing through the tunnel
            time.sleep(2.0)
            blocked_at = time.time()
            lab.block_all_vpn()
            daemon.wait_for(lambda: daemon.connected_on("tor"), 60, "the switch to the standby tor")
        [switch] = switches(daemon, blocked_at)
        assert switch["to"] == "tor"
        # The traffic stalled and a ready standby was next: two dead rounds were enough.
        assert "unreachable 2 times in a row" in switch["reason"], switch
        assert pids_of(lab, "tor") == [tor_pid]  # no restart, no bootstrap: the warm tor took over
        assert fetch_via_socks(lab, TOR_SOCKS_PORT, lab.blocked_ip_url) == lab.blocked_body.decode()
        print(f"\nstandby switch: detect {switch['detect_s']} s, outage {switch['outage_s']} s, "
              f"switch {switch['outage_s'] - switch['detect_s']:.3f} s")
    assert pids_of(lab, "tor") == []  # quitting takes the standby tor down too


def _warm(daemon: LabDaemon, name: str) -> str:
    try:
        profiles = daemon.status()["profiles"]
    except VpnSwitchError:
        return ""
    return next((str(p.get("warm", "")) for p in profiles if p["name"] == name), "")
