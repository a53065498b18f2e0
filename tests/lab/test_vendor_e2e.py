"""Two vendor backends end to end: the real ``vpnswitch daemon`` in the lab's client namespace drives the fake
``mullvad`` and ``nordvpn`` CLIs (tests/fakes/bin), whose "daemons" bring up real lab tunnels — Mullvad over
the lab's WireGuard server, NordVPN over its OpenVPN (UDP) server — while printing the vendors' real status
formats. The censor then blocks WireGuard: the daemon must notice (Mullvad itself still says "Connected"),
take Mullvad down through its CLI, and switch to NordVPN, with the blocked site answering again.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import vendorfake as vf
from tests.fakes.world import BIN
from tests.lab.daemon import LabDaemon, client_interfaces, daemon_config, pids_of
from tests.lab.harness import Lab

pytestmark = pytest.mark.lab

HOOKS = str(Path(__file__).resolve().with_name("vendor_hooks.py"))
LAB_TIMINGS = {
    "probe_interval_min": 2.0,
    "probe_interval_max": 3.0,
    "probe_timeout": 1.5,
    "confirm_delay": 0.3,
    "connect_timeout": 40.0,
    "verify_timeout": 10.0,
}


class VendorDaemon(LabDaemon):
    """The lab daemon, with the fakes' state directory in its environment (and so in the fakes')."""

    def __init__(self, lab: Lab, config: dict[str, Any], home: Path, state: Path) -> None:
        super().__init__(lab, config, home)
        self.state = state

    @property
    def env(self) -> dict[str, str]:
        return {**super().env, "FAKE_VPN_STATE_DIR": str(self.state)}


@pytest.fixture(autouse=True)
def _censor_off(lab: Lab) -> Iterator[None]:
    lab.unblock_all()
    yield
    lab.unblock_all()


def fake_cli(lab: Lab, state: Path, program: str, *args: str) -> str:
    """Run a fake vendor CLI in the client namespace, as a user would in a terminal."""
    result = lab.client_run([str(BIN / program), *args], env={"FAKE_VPN_STATE_DIR": str(state)}, timeout=30)
    return result.stdout


def test_blocking_mullvad_switches_to_nordvpn_over_real_tunnels(lab: Lab, tmp_path: Path) -> None:
    state = tmp_path / "vendors"
    pidfile, ovpn_log = tmp_path / "nord-openvpn.pid", tmp_path / "nord-openvpn.log"
    wg_conf = str(lab.wg_client_conf)
    vf.update("mullvad", state, connect_seconds=0.2, interface=lab.wg_client_iface,
              up_cmd=[sys.executable, HOOKS, "wg-up", wg_conf], down_cmd=[sys.executable, HOOKS, "wg-down", wg_conf])
    vf.update("nordvpn", state, connect_seconds=0.2, interface="nordtun",
              up_cmd=[sys.executable, HOOKS, "ovpn-up", str(lab.ovpn_udp_conf), str(pidfile), str(ovpn_log)],
              down_cmd=[sys.executable, HOOKS, "ovpn-down", str(pidfile)])
    profiles = [
        {"name": "mullvad", "backend": "mullvad", "params": {"binary": str(BIN / "mullvad")}},
        # The real NordVPN names its OpenVPN device nordtun; the lab's client config names it itself.
        {"name": "nordvpn", "backend": "nordvpn",
         "params": {"binary": str(BIN / "nordvpn"), "interface": lab.ovpn_udp_iface}},
    ]
    config = daemon_config(lab, profiles, timings=LAB_TIMINGS)
    with VendorDaemon(lab, config, tmp_path / "home", state) as daemon:
        daemon.wait_for(lambda: daemon.connected_on("mullvad"), 60, "connected on mullvad")
        assert lab.wg_client_iface in client_interfaces(lab)
        assert f'"tunnel_interface": "{lab.wg_client_iface}"' in fake_cli(lab, state, "mullvad", "status", "-j")

        blocked_at = time.time()
        lab.block_wireguard_port()
        daemon.wait_for(lambda: daemon.connected_on("nordvpn"), 90, "the switch to nordvpn")
        [switch] = [e for e in daemon.entries("switch", since=blocked_at) if e.get("from")]
        assert (switch["from"], switch["to"]) == ("mullvad", "nordvpn"), switch
        # Mullvad was taken down through its own CLI, so its tunnel is gone: never two tunnels at once.
        assert ["disconnect"] in vf.calls("mullvad", state)
        assert vf.read("mullvad", state)["state"] == "disconnected"
        interfaces = client_interfaces(lab)
        assert lab.wg_client_iface not in interfaces and lab.ovpn_udp_iface in interfaces, interfaces
        assert "Status: Connected" in fake_cli(lab, state, "nordvpn", "status")
        # The must-reach site (blocked on the direct path) answered through NordVPN's tunnel.
        site = next(t for t in daemon.status()["targets"] if t["url"] == lab.blocked_ip_url)
        assert site["ok"], daemon.describe()
        check = daemon.cli("check", "--json")
        assert check.returncode == 0, check.stderr
    # Stopping the daemon takes NordVPN down through its CLI too.
    assert vf.read("nordvpn", state)["state"] == "disconnected"
    assert lab.ovpn_udp_iface not in client_interfaces(lab)
    assert pids_of(lab, "openvpn") == []
