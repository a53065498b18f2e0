"""End-to-end failover in the censorship lab: the real ``vpnswitch daemon`` in the client namespace.

Profiles, in this order: WireGuard (udp/51820), OpenVPN over UDP, OpenVPN over TCP/443 — the real
``wireguard`` and ``openvpn`` backends driving wg-quick/wireguard-go and openvpn. The blocked site is the
must-reach probe target, next to two canaries, all by IP (the lab's DNS is censored). Default timings
throughout. Tests assert behaviour — switched or not, to what, why, nothing leaked, nothing left behind —
never how fast: the timings are measured by ``python -m tests.bench.failover``.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.lab.daemon import (
    LabDaemon,
    SiteWatch,
    client_interfaces,
    client_leftovers,
    client_routing,
    daemon_config,
    ovpn_tcp_profile,
    ovpn_udp_profile,
    pids_of,
    wg_profile,
)
from tests.lab.harness import Lab

pytestmark = [pytest.mark.lab, pytest.mark.slow]

OPENVPN = ("ovpn-udp", "ovpn-tcp")
CONNECT_LIMIT = 60.0
# Generous: a blocked OpenVPN candidate costs the whole default connect timeout (45 s) before the next one.
SWITCH_LIMIT = 150.0

Start = Callable[..., LabDaemon]


@pytest.fixture
def start(lab: Lab, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Start]:
    """Starts daemons for one test; stops them by PID afterwards and checks they left nothing behind."""
    lab.unblock_all()
    stale = client_leftovers(lab)
    assert not stale, (
        f"the client namespace is not clean before the test: {stale} "
        "(another test left a tunnel or process there)"
    )
    started: list[LabDaemon] = []

    def launch(timings: dict[str, float] | None = None) -> LabDaemon:
        profiles = [wg_profile(lab), ovpn_udp_profile(lab), ovpn_tcp_profile(lab)]
        daemon = LabDaemon(lab, daemon_config(lab, profiles, timings=timings), tmp_path / f"home-{len(started)}")
        started.append(daemon)
        return daemon.start()

    yield launch
    lab.unblock_all()
    for daemon in started:
        print(f"--- daemon {daemon.name}\n{daemon.describe()}")  # shown only when the test failed
        assert daemon.stop() == 0, "the daemon did not exit cleanly on SIGTERM"
    leftovers = client_leftovers(lab)
    assert not leftovers, f"the stopped daemon left {leftovers} in the client namespace"


def connected_on_wireguard(daemon: LabDaemon) -> None:
    daemon.wait_for(lambda: daemon.connected_on("wg"), CONNECT_LIMIT, "the first connection, on wg")


def active(daemon: LabDaemon) -> str | None:
    status = daemon.status()
    return status["active"] if status["state"] == "connected" and status["verdict"] == "healthy" else None


def switches(daemon: LabDaemon, since: float | None = None) -> list[dict[str, Any]]:
    return daemon.entries("switch", since=since)


def site_through_tunnel(lab: Lab) -> str:
    """The blocked site, fetched the way any app would (no binding); must not be counted as a direct leak."""
    lab.reset_counters()
    result = lab.client_run(["curl", "-sS", "--max-time", "3", lab.blocked_ip_url], timeout=10)
    assert lab.site_packets_from_client_direct() == 0, "the request went around the tunnel"
    assert result.returncode == 0, result.stderr
    return result.stdout


# ------------------------------------------------------------------------------------------- 1


def test_starts_on_wireguard_and_the_blocked_site_is_reachable(lab: Lab, start: Start) -> None:
    daemon = start()
    connected_on_wireguard(daemon)
    assert client_interfaces(lab) == [lab.wg_client_iface]
    assert site_through_tunnel(lab) == lab.blocked_body.decode()
    status = daemon.cli("status")
    assert status.returncode == 0 and "connected via wg (healthy)" in status.stdout, status.stdout + status.stderr
    check = daemon.request("check", timeout=30)
    assert check["active"] == "wg" and all(t["ok"] for t in check["targets"]), check


# ------------------------------------------------------------------------------------------- 2, 3


@pytest.mark.parametrize("block", ["port", "payload"])
def test_blocked_wireguard_fails_over_to_openvpn(lab: Lab, start: Start, block: str) -> None:
    daemon = start()
    connected_on_wireguard(daemon)
    with SiteWatch(lab, lab.blocked_ip_url):  # the user keeps browsing: traffic flows during the block
        blocked_at = time.time()
        lab.block_wireguard_port() if block == "port" else lab.block_wireguard_payload()
        landed = daemon.wait_for(lambda: active(daemon) in OPENVPN and active(daemon), SWITCH_LIMIT,
                                 "the switch to an OpenVPN profile")
    assert site_through_tunnel(lab) == lab.blocked_body.decode()
    [switch] = switches(daemon, since=blocked_at)
    assert switch["from"] == "wg" and switch["to"] == landed and switch["trigger"] == "failover"
    assert switch["reason"].startswith("wg stopped carrying traffic"), switch
    failing = [e for e in daemon.entries("verdict", since=blocked_at) if e["verdict"] == "failing"]
    assert failing and failing[0]["profile"] == "wg"
    wg = next(p for p in daemon.status()["profiles"] if p["name"] == "wg")
    assert wg["state"] == "quarantined" and "stopped carrying traffic" in wg["reason"]
    # What a person reads: `vpnswitch history` names the switch and says why.
    history = daemon.cli("history")
    assert history.returncode == 0, history.stderr
    assert f"switch wg → {landed}: wg stopped carrying traffic" in history.stdout, history.stdout


# ------------------------------------------------------------------------------------------- 4


def test_wireguard_and_openvpn_udp_blocked_lands_on_openvpn_tcp(lab: Lab, start: Start) -> None:
    daemon = start()
    connected_on_wireguard(daemon)
    blocked_at = time.time()
    lab.block_wireguard_port()
    lab.block_openvpn_udp()
    daemon.wait_for(lambda: active(daemon) == "ovpn-tcp", SWITCH_LIMIT, "the switch to ovpn-tcp")
    assert site_through_tunnel(lab) == lab.blocked_body.decode()
    # A UDP tunnel that worked and then died looks like DPI: TCP/443 goes before another UDP profile.
    assert [(s["from"], s["to"]) for s in switches(daemon, since=blocked_at)] == [("wg", "ovpn-tcp")]
    states = daemon.entries("state", since=blocked_at)
    assert not any(e.get("profile") == "ovpn-udp" for e in states), states


# ------------------------------------------------------------------------------------------- 5


@pytest.mark.timeout(480)
def test_ten_percent_loss_for_two_minutes_is_no_reason_to_switch(lab: Lab, start: Start) -> None:
    daemon = start()
    connected_on_wireguard(daemon)
    with SiteWatch(lab, lab.blocked_ip_url, period=0.5) as watch:
        since = time.time()
        lab.random_loss(10)
        left = []
        while time.time() - since < 120:
            status = daemon.status()
            if status["active"] != "wg" or status["state"] not in ("connected", "offline"):
                left.append(status)
                break
            time.sleep(1.0)
        lab.unblock("loss")
        answered = watch.ok_ratio(since)
    assert not left, f"the daemon left wg under 10 % loss: {left[0]}"
    assert switches(daemon, since=since) == []
    assert not [e for e in daemon.entries("verdict", since=since) if e["verdict"] in ("failing", "down")]
    assert answered > 0.5, f"the site should mostly work through 10 % loss (answered {answered:.0%})"
    daemon.wait_for(lambda: daemon.connected_on("wg"), 30, "wg healthy after the loss")


# ------------------------------------------------------------------------------------------- 6


def test_a_30_second_link_outage_is_no_reason_to_switch(lab: Lab, start: Start) -> None:
    daemon = start()
    connected_on_wireguard(daemon)
    with SiteWatch(lab, lab.blocked_ip_url, period=0.5) as watch:
        cut_at = time.time()
        lab.cut_client_link()
        time.sleep(30)
        lab.restore_client_link()
        restored_at = time.time()
        daemon.wait_for(lambda: daemon.connected_on("wg"), 60, "wg healthy again after the outage")
        daemon.wait_for(lambda: watch.answered_after(restored_at), 30, "the site to answer again")
    assert switches(daemon, since=cut_at) == []
    offline = daemon.entries("offline", since=cut_at)
    assert offline and "local network stopped answering" in offline[0]["reason"], daemon.entries(since=cut_at)
    assert not [e for e in daemon.entries("state", since=cut_at) if e.get("profile") not in ("wg", None)]
    assert site_through_tunnel(lab) == lab.blocked_body.decode()


# ------------------------------------------------------------------------------------------- 7


def test_killed_wireguard_process_is_a_hard_failure(lab: Lab, start: Start) -> None:
    daemon = start()
    connected_on_wireguard(daemon)
    [pid] = pids_of(lab, "wireguard-go")  # the userspace WireGuard that wg-quick started
    killed_at = time.time()
    os.kill(pid, signal.SIGKILL)
    landed = daemon.wait_for(lambda: active(daemon) in OPENVPN and active(daemon), SWITCH_LIMIT,
                             "the switch after the kill")
    [down] = [e for e in daemon.entries("verdict", since=killed_at) if e["verdict"] == "down"]
    assert down["profile"] == "wg" and ("disappeared" in down["reason"] or "exited" in down["reason"]), down
    [switch] = switches(daemon, since=killed_at)
    assert switch["from"] == "wg" and switch["to"] == landed
    # A dead process is certain: no evidence rounds needed, so no probe verdict came first.
    assert not [e for e in daemon.entries("verdict", since=killed_at) if e["verdict"] in ("degraded", "failing")]
    # Not a DPI-style kill, so the next profile in the user's order is used.
    assert landed == "ovpn-udp"
    assert site_through_tunnel(lab) == lab.blocked_body.decode()
    assert "fwmark" not in client_routing(lab), "wg-quick's policy routing outlived its tunnel"


# ------------------------------------------------------------------------------------------- 8


@pytest.mark.timeout(480)
def test_everything_blocked_is_exhausted_then_recovers_by_itself(lab: Lab, start: Start) -> None:
    daemon = start()
    connected_on_wireguard(daemon)
    blocked_at = time.time()
    lab.block_all_vpn()
    # Every profile is tried once: wg fails its probes, each OpenVPN its (default, 45 s) connect timeout.
    [exhausted, *_] = daemon.wait_for(lambda: daemon.entries("exhausted", since=blocked_at), 240,
                                      "every profile to fail (exhausted)")
    assert exhausted["reason"], exhausted
    tried = {e["profile"] for e in daemon.entries("connect-failed", "verify-failed", since=blocked_at)}
    assert {"ovpn-udp", "ovpn-tcp"} <= tried, tried
    unblocked_at = time.time()
    lab.unblock_all()
    landed = daemon.wait_for(lambda: active(daemon), 180, "recovery without anyone's help")
    assert landed in ("wg", *OPENVPN)
    assert not daemon.entries("user", since=blocked_at)  # nobody touched it
    assert daemon.entries("connected", "switch", since=unblocked_at - 60)
    assert site_through_tunnel(lab) == lab.blocked_body.decode()


# ------------------------------------------------------------------------------------------- 9


@pytest.mark.parametrize("failure", ["blocked", "killed"])
def test_no_packet_reaches_the_site_outside_a_tunnel_while_switching(lab: Lab, start: Start, failure: str) -> None:
    daemon = start()
    connected_on_wireguard(daemon)
    with SiteWatch(lab, lab.blocked_ip_url, period=0.1, timeout=1.0) as watch:
        time.sleep(1.0)
        lab.reset_counters()
        began = time.time()
        if failure == "blocked":
            lab.block_wireguard_port()
        else:
            os.kill(pids_of(lab, "wireguard-go")[0], signal.SIGKILL)
        daemon.wait_for(lambda: active(daemon) in OPENVPN, SWITCH_LIMIT, "the switch")
        answered = daemon.wait_for(lambda: watch.answered_after(began), 30, "the site through the new tunnel")
        leaked = lab.site_packets_from_client_direct()
        tried_meanwhile = [a for a in watch.attempts() if began <= a["start"] < answered and not a["ok"]]
    assert leaked == 0, f"{leaked} packets reached the site outside a tunnel during the switch"
    # The user really was knocking during the gap (so the count above could have been nonzero).
    assert len(tried_meanwhile) >= 3, tried_meanwhile
    # The guard stays while the machine is on a tunnel (the next death must not leak either); the fixture
    # checks that stopping the daemon lifts it.
    assert "nft table inet vpnswitch_leakguard" in client_leftovers(lab)
