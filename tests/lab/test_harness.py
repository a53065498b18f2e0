"""Self-test of the censorship lab with the real software (run as root).

Reference clients (wireguard-go, openvpn) use the profiles the lab hands out; every
censor operation is shown to have its effect and to be reversible; teardown is shown to
leave nothing behind, also after a failed up() and with two labs side by side.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.lab.clients import OvpnClient, WgClient, fetch, fetch_error, resolve, wait_until
from tests.lab.harness import WG_RUN_DIR, Lab, LabError

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]
ALL = ("wg", "wg_alt", "ovpn_udp", "ovpn_tcp")


class Tunnels:
    """The four reference tunnels of the session, by name."""

    def __init__(self, lab: Lab) -> None:
        self.wg = WgClient(lab, lab.wg_client_conf, lab.wg_client_iface)
        self.wg_alt = WgClient(lab, lab.wg_alt_client_conf, lab.wg_alt_client_iface)
        self.ovpn_udp = OvpnClient(lab, lab.ovpn_udp_conf, lab.ovpn_udp_iface)
        self.ovpn_tcp = OvpnClient(lab, lab.ovpn_tcp_conf, lab.ovpn_tcp_iface)

    @property
    def ifaces(self) -> dict[str, str]:
        return {
            "wg": self.wg.iface,
            "wg_alt": self.wg_alt.iface,
            "ovpn_udp": self.ovpn_udp.iface,
            "ovpn_tcp": self.ovpn_tcp.iface,
        }


@pytest.fixture(scope="module")
def tunnels(lab: Lab) -> Iterator[Tunnels]:
    """Reference tunnels for this module only: later lab tests need a client namespace without them."""
    tun = Tunnels(lab)
    clients = (tun.wg, tun.wg_alt, tun.ovpn_udp, tun.ovpn_tcp)
    try:
        for client in clients:
            client.start()
        yield tun
    finally:
        # Also when a start failed halfway: a reference tunnel left up would break every later lab test.
        for client in clients:
            client.stop()


@pytest.fixture(autouse=True)
def _censor_off(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts with healthy tunnels and ends with the censor switched off,
    so one failing test cannot cascade into the next."""
    if "tunnels" in request.fixturenames:
        wait_reachable(request.getfixturevalue("lab"), request.getfixturevalue("tunnels"), ALL)
    yield
    if "lab" in request.fixturenames:
        request.getfixturevalue("lab").unblock_all()


def reachable(lab: Lab, tun: Tunnels, timeout: float = 1.0) -> dict[str, bool]:
    """Can each tunnel fetch the blocked site right now? Probes run in parallel."""

    def probe(iface: str) -> bool:
        return fetch(lab, lab.blocked_ip_url, iface=iface, timeout=timeout) is not None

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(zip(tun.ifaces, pool.map(probe, tun.ifaces.values()), strict=True))
    return results


def wait_reachable(lab: Lab, tun: Tunnels, names: tuple[str, ...], timeout: float = 12.0) -> None:
    wait_until(
        f"{names} reachable",
        lambda: all(ok for name, ok in reachable(lab, tun).items() if name in names),
        timeout,
        interval=0.2,
    )


# ---------------------------------------------------------------- topology and baseline


def test_prerequisites_present() -> None:
    assert Lab.missing_prerequisites() == []


def test_topology_is_sealed(lab: Lab) -> None:
    assert lab.is_up()
    root_links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert lab.prefix not in root_links, "a lab interface leaked into the root namespace"
    for ns in (lab.isp_ns, lab.wg_ns, lab.ovpn_ns, lab.inet_ns):
        routes = lab.ns_run(ns, ["ip", "route", "show", "default"], check=True).stdout
        assert routes.strip() == "", f"{ns} must not have a default route"
    ruleset = lab.ns_run(lab.isp_ns, ["nft", "list", "ruleset"], check=True).stdout
    assert "ip daddr != 10.99.0.0/16 drop" in ruleset
    resolv = Path(f"/etc/netns/{lab.client_ns}/resolv.conf").read_text()
    assert f"nameserver {lab.isp_resolver_ip}" in resolv


def test_direct_access_is_censored(lab: Lab) -> None:
    assert fetch(lab, lab.canary_url) == lab.canary_body.decode()
    assert lab.client_run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", lab.canary_204_url]).stdout == "204"
    assert fetch_error(lab, lab.blocked_ip_url) == 7  # RST from the censor: refused
    assert resolve(lab, lab.blocked_host, server=lab.isp_resolver_ip) == ["0.0.0.0"]
    assert resolve(lab, lab.canary_host, server=lab.isp_resolver_ip) == [lab.canary_ip]
    assert resolve(lab, lab.canary_host, server=lab.honest_dns_ip, timeout=0.5) is None


def test_client_profiles(lab: Lab) -> None:
    wg = lab.wg_client_conf.read_text()
    assert lab.wg_client_conf.name == f"{lab.wg_client_iface}.conf"
    assert "AllowedIPs = 0.0.0.0/0" in wg and "PersistentKeepalive = 5" in wg
    assert f"Endpoint = {lab.wg_server_ip}:{lab.wg_port}" in wg
    for conf, port in ((lab.ovpn_udp_conf, lab.ovpn_udp_port), (lab.ovpn_tcp_conf, lab.ovpn_tcp_port)):
        text = conf.read_text()
        assert f"remote {lab.ovpn_server_ip} {port}" in text
        assert "<ca>" in text and "<tls-crypt>" in text
        assert not re.search(r"^(up|down|script-security|management|daemon)\b", text, re.M)
    for path in lab.client_configs():
        assert path.stat().st_mode & 0o077 == 0, f"{path} must not be world-readable"


# ---------------------------------------------------------------- tunnels


@pytest.mark.parametrize("name", ALL)
def test_tunnel_reaches_blocked_site_and_honest_dns(lab: Lab, tunnels: Tunnels, name: str) -> None:
    iface = tunnels.ifaces[name]
    assert fetch(lab, lab.blocked_ip_url, iface=iface) == lab.blocked_body.decode()
    assert resolve(lab, lab.blocked_host, server=lab.honest_dns_ip, iface=iface) == [lab.blocked_ip]


def test_openvpn_profiles_work_with_management(tunnels: Tunnels) -> None:
    for client in (tunnels.ovpn_udp, tunnels.ovpn_tcp):
        assert ",CONNECTED,SUCCESS," in client.mgmt_state()


def test_server_wg_sockets_are_private(lab: Lab, tunnels: Tunnels) -> None:
    listed = lab.client_run(["wg", "show", "interfaces"], check=True).stdout.split()
    assert sorted(listed) == sorted([lab.wg_client_iface, lab.wg_alt_client_iface])
    assert "latest handshake" in lab.wg_server(["show"]).stdout


def test_leak_counters(lab: Lab, tunnels: Tunnels) -> None:
    lab.reset_counters()
    assert fetch(lab, lab.canary_ip_url, iface=tunnels.wg.iface) is not None
    assert fetch(lab, lab.canary_ip_url, iface=tunnels.ovpn_tcp.iface) is not None
    assert lab.site_packets_from_client_direct() == 0
    assert lab.isp_dns_queries_from_client() == 0
    assert fetch(lab, lab.canary_ip_url) is not None
    assert lab.site_packets_from_client_direct() > 0
    resolve(lab, lab.canary_host, server=lab.isp_resolver_ip)
    assert lab.isp_dns_queries_from_client() == 1


# ---------------------------------------------------------------- censor operations


def test_block_wireguard_port(lab: Lab, tunnels: Tunnels) -> None:
    lab.block_wireguard_port()
    lab.block_wireguard_port()  # idempotent
    assert lab.active_blocks() == ["wireguard_port"]
    rx_before, _ = tunnels.wg.transfer()
    assert reachable(lab, tunnels) == {"wg": False, "wg_alt": True, "ovpn_udp": True, "ovpn_tcp": True}
    assert tunnels.wg.transfer()[0] == rx_before, "nothing may come back through a blocked port"

    tunnels.wg.restart()  # a fresh client cannot even complete a handshake
    time.sleep(1.5)
    assert tunnels.wg.latest_handshake() == 0

    lab.unblock("wireguard_port")
    tunnels.wg.restart()  # skip the 5 s handshake retry timer
    wait_reachable(lab, tunnels, ("wg",), timeout=5)
    assert tunnels.wg.latest_handshake() > 0


def test_block_wireguard_payload_on_any_port(lab: Lab, tunnels: Tunnels) -> None:
    lab.block_wireguard_payload()
    assert lab.active_blocks() == ["wireguard_payload"]  # no port rule involved
    assert reachable(lab, tunnels) == {"wg": False, "wg_alt": False, "ovpn_udp": True, "ovpn_tcp": True}
    lab.unblock("wireguard_payload")
    wait_reachable(lab, tunnels, ("wg", "wg_alt"), timeout=8)


def test_block_openvpn_udp(lab: Lab, tunnels: Tunnels) -> None:
    lab.block_openvpn_udp()
    assert reachable(lab, tunnels) == {"wg": True, "wg_alt": True, "ovpn_udp": False, "ovpn_tcp": True}
    lab.unblock("openvpn_udp")
    wait_reachable(lab, tunnels, ("ovpn_udp",), timeout=8)


def test_block_openvpn_tcp_drop(lab: Lab, tunnels: Tunnels) -> None:
    lab.block_openvpn_tcp("drop")
    assert reachable(lab, tunnels) == {"wg": True, "wg_alt": True, "ovpn_udp": True, "ovpn_tcp": False}
    lab.unblock("openvpn_tcp")
    wait_reachable(lab, tunnels, ("ovpn_tcp",), timeout=8)


def test_block_openvpn_tcp_rst_resets_connection(lab: Lab, tunnels: Tunnels) -> None:
    client = tunnels.ovpn_tcp
    resets = client.log_count("Connection reset")
    connects = client.log_count("Initialization Sequence Completed")
    lab.block_openvpn_tcp("rst")
    # The server's 2 s ping hits the RST rule: the client sees a reset, not a timeout.
    wait_until("ovpn-tcp reset", lambda: client.log_count("Connection reset") > resets, 6)
    lab.unblock("openvpn_tcp")
    client.wait_connected(10, after=connects)
    wait_reachable(lab, tunnels, ("ovpn_tcp",), timeout=5)


def test_block_all_vpn(lab: Lab, tunnels: Tunnels) -> None:
    lab.block_all_vpn()
    assert not any(reachable(lab, tunnels).values())
    assert fetch(lab, lab.canary_url) == lab.canary_body.decode()  # the ISP still works
    lab.unblock("all_vpn")
    wait_reachable(lab, tunnels, ALL)


def test_dns_blackhole(lab: Lab, tunnels: Tunnels) -> None:
    lab.dns_blackhole()
    lab.dns_blackhole()  # idempotent
    assert "dns" in lab.active_blocks()
    assert resolve(lab, lab.canary_host, server=lab.isp_resolver_ip) == ["0.0.0.0"]
    assert fetch_error(lab, lab.canary_url) != 0
    honest = resolve(lab, lab.canary_host, server=lab.honest_dns_ip, iface=tunnels.wg.iface)
    assert honest == [lab.canary_ip]
    lab.unblock("dns")
    assert resolve(lab, lab.canary_host, server=lab.isp_resolver_ip) == [lab.canary_ip]
    assert lab.active_blocks() == []


def _ping_loss(lab: Lab, count: int) -> float:
    out = lab.client_run(
        ["ping", "-q", "-n", "-c", str(count), "-i", "0.005", "-W", "1", lab.canary_ip], timeout=15
    ).stdout
    match = re.search(r"([\d.]+)% packet loss", out)
    assert match, out
    return float(match.group(1))


def test_random_loss(lab: Lab) -> None:
    lab.random_loss(50)
    loss = _ping_loss(lab, 120)  # 50 % each way: about 75 % of round trips are lost
    assert 50.0 <= loss <= 95.0, loss
    lab.unblock("loss")
    assert _ping_loss(lab, 20) == 0.0


def _download(lab: Lab, size: int, *, iface: str | None = None) -> tuple[float, float]:
    """(bytes/s, seconds) for a direct or tunnelled download of size bytes."""
    argv = ["curl", "-sS", "-o", "/dev/null", "--max-time", "20", "-w", "%{speed_download} %{time_total}"]
    if iface:
        argv += ["--interface", iface]
    out = lab.client_run([*argv, f"http://{lab.canary_ip}/bytes/{size}"], timeout=25, check=True)
    speed, seconds = out.stdout.split()
    return float(speed), float(seconds)


def test_rate_limit(lab: Lab, tunnels: Tunnels) -> None:
    rate = 128 * 1024
    lab.rate_limit(128)
    _download(lab, 160 * 1024)  # drains the policer's one-second bucket
    speed, seconds = _download(lab, 192 * 1024)
    assert 0.5 * rate < speed < 1.25 * rate, speed
    assert seconds > 1.0, seconds
    # The tunnel rides the same access link. Measured like the direct download: more than the policer's
    # one-second bucket, after draining it (a smaller download fits in what refilled meanwhile).
    _download(lab, 160 * 1024, iface=tunnels.wg.iface)
    tunnelled, _ = _download(lab, 192 * 1024, iface=tunnels.wg.iface)
    assert tunnelled < 1.25 * rate, tunnelled
    lab.unblock("rate")
    assert _download(lab, 1 << 20)[0] > 10 * rate


def test_cut_and_restore_client_link(lab: Lab, tunnels: Tunnels) -> None:
    lab.cut_client_link()
    assert fetch(lab, lab.canary_ip_url) is None
    assert resolve(lab, lab.canary_host, server=lab.isp_resolver_ip, timeout=0.5) is None
    assert not any(reachable(lab, tunnels).values())
    lab.restore_client_link()
    assert fetch(lab, lab.canary_ip_url) == lab.canary_body.decode()
    wait_reachable(lab, tunnels, ALL)


def test_unblock_all(lab: Lab) -> None:
    lab.block_wireguard_port()
    lab.block_openvpn_tcp("rst")
    lab.random_loss(5)
    lab.dns_blackhole()
    assert sorted(lab.active_blocks()) == ["dns", "loss", "openvpn_tcp", "wireguard_port"]
    lab.unblock_all()
    assert lab.active_blocks() == []
    with pytest.raises(ValueError):
        lab.random_loss(0)
    with pytest.raises(ValueError):
        lab.block_openvpn_tcp("reject")


# ---------------------------------------------------------------- CLI and lifecycle


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.lab.harness", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_cli_drives_running_lab(lab: Lab) -> None:
    assert _cli("--prefix", lab.prefix, "status").returncode == 0
    assert _cli("--prefix", lab.prefix, "block", "wireguard_port").returncode == 0
    assert lab.active_blocks() == ["wireguard_port"]
    assert _cli("--prefix", lab.prefix, "unblock", "all").returncode == 0
    assert lab.active_blocks() == []
    refused = _cli("--prefix", lab.prefix, "down")  # owned by this (live) pytest process
    assert refused.returncode == 1 and "in use" in refused.stderr
    assert lab.is_up()


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != os.getpid():
            try:
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if text in cmd:
                found.append(f"{proc.name}: {cmd}")
    return found


def test_second_lab_side_by_side_tears_down_everything(lab: Lab, tmp_path: Path) -> None:
    other = Lab(prefix="vsu", state_dir=tmp_path / "vsu")
    with other:
        assert fetch(other, other.canary_url) == other.canary_body.decode()
        # What an app under test may leave behind: a wg-quick tunnel (daemonised
        # wireguard-go + global socket) and a stray process nobody recorded.
        other.client_run(["wg-quick", "up", str(other.wg_client_conf)], check=True)
        assert fetch(other, other.blocked_ip_url) == other.blocked_body.decode()
        stray = subprocess.Popen(["ip", "netns", "exec", other.client_ns, "sleep", "300"], start_new_session=True)
        # A second Lab object (as in another process) attaching to the running lab.
        attached = Lab(prefix=other.prefix, state_dir=other.state_dir)
        attached.client_popen(["sleep", "301"], name="attached-sleep")
        assert {"dns-isp", "attached-sleep"} <= {p["name"] for p in attached.status()["processes"]}
        assert (WG_RUN_DIR / f"{other.wg_client_iface}.sock").exists()
    stray.wait(timeout=5)
    assert other.leftovers() == []
    assert not _processes_mentioning("vsu-") and not _processes_mentioning(str(tmp_path))
    other.down()  # idempotent
    assert lab.is_up() and fetch(lab, lab.canary_url) == lab.canary_body.decode()


class _FailingLab(Lab):
    def _smoke_check(self) -> None:
        raise RuntimeError("injected failure after the servers started")


def test_failed_up_leaves_nothing(tmp_path: Path) -> None:
    broken = _FailingLab(prefix="vsv", state_dir=tmp_path / "vsv")
    with pytest.raises(RuntimeError, match="injected"):
        broken.up()
    assert broken.leftovers() == []
    assert not _processes_mentioning("vsv-")
    broken.down()


def test_foreign_names_are_never_touched(tmp_path: Path) -> None:
    subprocess.run(["ip", "netns", "add", "vsw-isp"], check=True)
    try:
        intruder = Lab(prefix="vsw", state_dir=tmp_path / "vsw")
        with pytest.raises(LabError, match="not recorded"):
            intruder.up()
        intruder.down()
        assert Path("/run/netns/vsw-isp").exists(), "down() removed a namespace it did not create"
    finally:
        subprocess.run(["ip", "netns", "del", "vsw-isp"], check=True)
