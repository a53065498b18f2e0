"""The leak guard with real nftables and a real WireGuard tunnel in the lab's client namespace.

The lab's censor counts what reaches the ISP from the client outside any tunnel: packets for the blocked
site, and queries to the ISP's resolver (a real dnsmasq that poisons the blocked name). With the guard up
both must stay at zero while the same site and a resolver through the tunnel keep working.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lab.clients import WgClient, fetch, fetch_error, resolve, wait_until
from tests.lab.harness import Lab
from vpnswitch.privileged.guard import TABLE

pytestmark = pytest.mark.lab

PROTECT = str(Path(__file__).resolve().with_name("protect.py"))


def protect(lab: Lab, *args: str) -> object:
    result = lab.client_run([sys.executable, PROTECT, *args], timeout=20, check=True)
    return json.loads(result.stdout)


def guard_tables(lab: Lab) -> list[str]:
    out = lab.client_run(["nft", "list", "tables"], check=True).stdout
    return [line for line in out.splitlines() if TABLE in line]


def spec(lab: Lab, iface: str) -> str:
    return json.dumps({"interfaces": [iface], "endpoints": [[lab.wg_server_ip, lab.wg_port, "udp"]],
                       "local": ["10.99.1.0/24"], "dns": [[iface, lab.honest_dns_ip]]})


@pytest.fixture
def wg(lab: Lab) -> Iterator[WgClient]:
    client = WgClient(lab, lab.wg_client_conf, lab.wg_client_iface)
    client.start()
    try:
        yield client
    finally:
        client.stop()
        protect(lab, "guard-recover")


def test_nothing_leaves_outside_the_tunnel_and_dns_goes_only_to_the_tunnels_resolver(lab: Lab, wg: WgClient) -> None:
    iface = lab.wg_client_iface
    # Without the guard, the test can see a leak: the site and the ISP's resolver are reached directly.
    lab.reset_counters()
    fetch_error(lab, lab.blocked_ip_url, timeout=1.0)
    assert resolve(lab, lab.canary_host, server=lab.isp_resolver_ip) == [lab.canary_ip]
    assert lab.site_packets_from_client_direct() > 0 and lab.isp_dns_queries_from_client() > 0

    assert protect(lab, "guard", spec(lab, iface)) is True
    lab.reset_counters()
    began = time.monotonic()
    assert fetch_error(lab, lab.blocked_ip_url, timeout=3.0) == 7  # refused at once, not a 3 s hang
    refused_in = time.monotonic() - began
    assert resolve(lab, lab.canary_host, server=lab.isp_resolver_ip) is None  # the LAN's (ISP's) resolver
    assert resolve(lab, lab.canary_host, server=lab.honest_dns_ip) is None  # the tunnel's, but outside it
    assert lab.site_packets_from_client_direct() == 0
    assert lab.isp_dns_queries_from_client() == 0
    # Through the tunnel: the site and the tunnel's resolver.
    assert fetch(lab, lab.blocked_ip_url, iface=iface, timeout=3.0) == lab.blocked_body.decode()
    assert resolve(lab, lab.blocked_host, server=lab.honest_dns_ip, iface=iface) == [lab.blocked_ip]
    # The tunnel itself keeps its handshake with the server (the endpoint is let through).
    before = wg.latest_handshake()
    assert before > 0
    # The local-network check still hears the router: its root-zone query names no site.
    assert protect(lab, "link-check", lab.client_iface, lab.client_gateway) == {lab.client_gateway: True}
    print(f"\nguard: a direct connection was refused in {refused_in * 1000:.0f} ms")


def test_remove_leaves_nothing_and_recover_reports_a_guard_a_killed_process_left(lab: Lab, wg: WgClient) -> None:
    holder = lab.client_popen([sys.executable, PROTECT, "guard", spec(lab, lab.wg_client_iface), "--hold"],
                              name="guard-holder", stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert holder.stdout is not None and json.loads(holder.stdout.readline()) == "held"
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=5)
    finally:
        if holder.poll() is None:
            holder.kill()
    assert guard_tables(lab), "the guard outlives the process that set it (kernel state)"
    assert fetch_error(lab, lab.blocked_ip_url, timeout=2.0) == 7  # still protected after the crash
    assert protect(lab, "guard-recover") is True  # the next start finds it: "blocked to protect you"
    assert guard_tables(lab) == []
    assert protect(lab, "guard-recover") is False  # nothing left, nothing to tell
    lab.reset_counters()
    fetch_error(lab, lab.blocked_ip_url, timeout=1.0)
    assert lab.site_packets_from_client_direct() > 0  # really gone: traffic flows as before


def test_a_new_tunnel_comes_up_through_the_guard(lab: Lab, wg: WgClient) -> None:
    """The server passes by address, port and protocol: a restarted tunnel handshakes through the guard."""
    assert protect(lab, "guard", spec(lab, lab.wg_client_iface)) is True
    restarted = int(time.time())
    wg.restart()  # a new wireguard-go must shake hands again, through the guard
    wait_until("the site through the new tunnel",
               lambda: fetch(lab, lab.canary_ip_url, iface=lab.wg_client_iface) is not None, 10)
    assert wg.latest_handshake() >= restarted


def test_guard_off_is_the_emergency_exit(lab: Lab, wg: WgClient) -> None:
    assert protect(lab, "guard", spec(lab, lab.wg_client_iface)) is True
    status = lab.client_run([sys.executable, "-m", "vpnswitch", "guard", "status"], check=True)
    assert "leak guard is on" in status.stdout
    lab.client_run([sys.executable, "-m", "vpnswitch", "guard", "off"], check=True)
    assert guard_tables(lab) == []
    assert fetch_error(lab, lab.canary_ip_url, timeout=2.0) == 0  # traffic flows without a tunnel again
