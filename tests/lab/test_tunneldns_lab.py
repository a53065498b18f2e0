"""Tunnel DNS with a real OpenVPN server that pushes its resolver, in the lab's client namespace.

The ISP's resolver (a real dnsmasq, the namespace's resolv.conf) poisons the blocked name to 0.0.0.0; the
resolver the server pushes (reached through the tunnel) tells the truth. The client namespace must
resolve through the tunnel while tunnel DNS is applied, and get its original resolv.conf back after down,
after the process that applied it was killed (next start: recover), and after the tunnel died (reconcile).
The namespace's resolv.conf is bind-mounted over /etc/resolv.conf by ``ip netns exec``, as on a real
netns setup; the code runs inside that mount namespace (tests/lab/protect.py).
"""

from __future__ import annotations

import json
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lab.clients import wait_until
from tests.lab.harness import Lab
from tests.lab.topology import PUSHED_DOMAIN
from vpnswitch.privileged.tunneldns import DnsSettings, openvpn_up_options, pushed_dns

pytestmark = pytest.mark.lab

PROTECT = str(Path(__file__).resolve().with_name("protect.py"))


def protect(lab: Lab, *args: str) -> object:
    return json.loads(lab.client_run([sys.executable, PROTECT, *args], timeout=20, check=True).stdout)


def system_lookup(lab: Lab, name: str) -> str | None:
    """The address the namespace's apps get for name (the C library, through /etc/resolv.conf)."""
    result = lab.client_run(["getent", "ahostsv4", name], timeout=15)
    return result.stdout.split()[0] if result.returncode == 0 and result.stdout else None


def resolv_conf(lab: Lab) -> str:
    return (Path(lab.topo.netns_etc_dir) / "resolv.conf").read_text()


class Tunnel:
    def __init__(self, lab: Lab, pushed: Path) -> None:
        self.lab = lab
        self.iface = lab.ovpn_udp_iface
        self.name = f"dns-{self.iface}-{secrets.token_hex(3)}"  # a log of its own, not an earlier run's
        # Only the pushed resolver goes into the tunnel (not the whole default route, which the other lab
        # tests sharing this namespace do not expect); the service's own up-script records what was pushed.
        argv = ["openvpn", "--config", str(lab.ovpn_udp_conf), "--pull-filter", "ignore", "redirect-gateway",
                "--route", lab.honest_dns_ip, "255.255.255.255", *openvpn_up_options(pushed)]
        self.popen = lab.client_popen(argv, name=self.name)
        log = lab.log_path(self.name)
        wait_until("openvpn connected",
                   lambda: self.popen.poll() is None and "Initialization Sequence Completed" in log.read_text(), 15)

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(timeout=5)

    def exists(self) -> bool:
        return self.lab.client_run(["ip", "link", "show", self.iface]).returncode == 0


@pytest.fixture
def tunnel(lab: Lab, tmp_path: Path) -> Iterator[Tunnel]:
    original = resolv_conf(lab)
    tunnel = Tunnel(lab, tmp_path / "pushed")
    try:
        yield tunnel
    finally:
        tunnel.kill()
        protect(lab, "dns-recover", str(tmp_path / "dns"))
        assert resolv_conf(lab) == original, "the test left the namespace's resolv.conf changed"


def test_the_pushed_resolver_is_recorded_by_the_services_own_up_script(lab: Lab, tunnel: Tunnel,
                                                                      tmp_path: Path) -> None:
    assert pushed_dns(tunnel.iface, tmp_path / "pushed") == DnsSettings((lab.honest_dns_ip,), (PUSHED_DOMAIN,))


def test_lookups_go_through_the_tunnel_while_applied_and_back_after_down(lab: Lab, tunnel: Tunnel,
                                                                        tmp_path: Path) -> None:
    original = resolv_conf(lab)
    assert system_lookup(lab, lab.blocked_host) == "0.0.0.0"  # the ISP's poisoned answer
    pushed = pushed_dns(tunnel.iface, tmp_path / "pushed")
    assert pushed is not None
    state = str(tmp_path / "dns")
    domains = [arg for domain in pushed.domains for arg in ("--domain", domain)]
    assert protect(lab, "dns-apply", state, tunnel.iface, *pushed.servers, *domains) == "file"
    assert f"search {PUSHED_DOMAIN}" in resolv_conf(lab)
    lab.reset_counters()
    assert system_lookup(lab, lab.blocked_host) == lab.blocked_ip  # the truth, through the tunnel
    assert lab.isp_dns_queries_from_client() == 0
    assert protect(lab, "dns-restore", state, tunnel.iface) is True
    assert resolv_conf(lab) == original
    assert system_lookup(lab, lab.blocked_host) == "0.0.0.0"
    assert protect(lab, "dns-restore", state, tunnel.iface) is False  # repeating it is harmless


def test_a_killed_applier_is_undone_at_the_next_start(lab: Lab, tunnel: Tunnel, tmp_path: Path) -> None:
    original = resolv_conf(lab)
    state = str(tmp_path / "dns")
    holder = lab.client_popen([sys.executable, PROTECT, "dns-apply", state, tunnel.iface, lab.honest_dns_ip,
                               "--hold"], name="dns-holder", stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert holder.stdout is not None and json.loads(holder.stdout.readline()) == "held"
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=5)
    finally:
        if holder.poll() is None:
            holder.kill()
    assert system_lookup(lab, lab.blocked_host) == lab.blocked_ip  # still applied after the crash
    assert protect(lab, "dns-recover", state) == [tunnel.iface]
    assert resolv_conf(lab) == original
    assert system_lookup(lab, lab.blocked_host) == "0.0.0.0"


def test_the_original_comes_back_after_the_tunnel_died(lab: Lab, tunnel: Tunnel, tmp_path: Path) -> None:
    original = resolv_conf(lab)
    state = str(tmp_path / "dns")
    protect(lab, "dns-apply", state, tunnel.iface, lab.honest_dns_ip)
    assert protect(lab, "dns-reconcile", state) == []  # alive: nothing to undo
    tunnel.kill()
    wait_until("the tunnel's interface gone", lambda: not tunnel.exists(), 5)
    assert protect(lab, "dns-reconcile", state) == [tunnel.iface]
    assert resolv_conf(lab) == original
    assert system_lookup(lab, lab.blocked_host) == "0.0.0.0"


def stored(lab: Lab, tunnel: Tunnel, dns: tuple[str, ...] = ()) -> str:
    return json.dumps({"id": "lab-ovpn", "kind": "openvpn", "interface": tunnel.iface,
                       "endpoints": [[lab.ovpn_server_ip, lab.ovpn_udp_port, "udp"]], "dns": list(dns)})


def test_with_the_services_guard_and_tunnel_dns_no_lookup_reaches_the_isp(lab: Lab, tunnel: Tunnel,
                                                                          tmp_path: Path) -> None:
    """The service's verbs together: the guard names the pushed resolver, DNS goes to it through the tunnel."""
    original = resolv_conf(lab)
    dirs = [str(tmp_path / "dns"), str(tmp_path / "pushed"), stored(lab, tunnel)]
    reply = protect(lab, "service-on", *dirs, "--dns")
    assert reply == {"guard": {"on": True, "active": "lab-ovpn", "interfaces": [tunnel.iface],
                               "resolvers": [lab.honest_dns_ip]},
                     "dns": {"applied": True, "method": "file", "servers": [lab.honest_dns_ip]}}
    lab.reset_counters()
    assert system_lookup(lab, lab.blocked_host) == lab.blocked_ip
    direct = lab.client_run(["curl", "-sS", "--max-time", "2", lab.blocked_ip_url])
    assert direct.returncode != 0  # outside the tunnel: refused
    assert lab.isp_dns_queries_from_client() == 0 and lab.site_packets_from_client_direct() == 0
    assert protect(lab, "service-off", *dirs) == {"dns": {"restored": True}, "guard": {"removed": True}}
    assert resolv_conf(lab) == original


def test_a_tunnel_without_resolvers_fails_closed_instead_of_asking_the_isp(lab: Lab, tunnel: Tunnel,
                                                                           tmp_path: Path) -> None:
    """Nothing stored, nothing pushed (another record dir): the system resolver stays the ISP's, and the guard
    refuses lookups to it — they fail instead of telling the censor the site."""
    dirs = [str(tmp_path / "dns"), str(tmp_path / "nothing-pushed"), stored(lab, tunnel)]
    reply = protect(lab, "service-on", *dirs)
    assert isinstance(reply, dict) and reply["guard"]["resolvers"] == []
    lab.reset_counters()
    assert system_lookup(lab, lab.blocked_host) is None
    assert lab.isp_dns_queries_from_client() == 0
    protect(lab, "service-off", *dirs)
    assert system_lookup(lab, lab.blocked_host) == "0.0.0.0"  # the guard is gone: the ISP answers again
