"""Every vendor backend inside the real Runtime (ThreadedLoop, real subprocesses) against its fake CLI.

For each vendor: vpnswitch connects it, the vendor then reports a drop in its own format (status or event
stream) while its interface stays "up", and the runtime must notice it from the vendor's report and
switch to the backup. Then two vendors are checked for never being up at the same time across a switch.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.world import FakeVendors, RuntimeRig
from vpnswitch.core.config import Profile

pytestmark = pytest.mark.timeout(120)

# (profile backend, params, state file of its fake, route key, how the drop looks in the fake's state)
CASES: list[tuple[str, dict[str, Any], str, str, dict[str, Any]]] = [
    ("mullvad", {}, "mullvad", "wg0-mullvad", {"state": "disconnected"}),
    ("nordvpn", {"location": "Germany"}, "nordvpn", "nordlynx", {"state": "disconnected"}),
    ("expressvpn", {"cli": "expressvpnctl"}, "expressvpnctl", "tun0", {"state": "disconnected"}),
    ("expressvpn", {"cli": "expressvpn"}, "expressvpn", "tun0", {"state": "disconnected"}),
    ("windscribe", {"protocol": "stealth"}, "windscribe-cli", "utun420", {"extra": {"interference": True}}),
    ("pia", {}, "piactl", "wgpia0", {"state": "error"}),
    ("warp", {}, "warp-cli", "CloudflareWARP", {"state": "disconnected"}),
    ("tailscale", {"exit_node": "exit-se"}, "tailscale", "tailscale0", {"state": "error"}),
    ("openvpn3", {"config": "office"}, "openvpn3", "tun0", {"state": "error"}),
    ("psiphon", {}, "psiphon-tunnel-core", "proxy", {"extra": {"exit": True}}),
]
BACKUP = ("ivpn", {}, "ivpn", "wgivpn")
EXPECTED_REASON = {
    "mullvad": "Mullvad VPN reports disconnected",
    "nordvpn": "it reports disconnected",
    "expressvpnctl": "it reports disconnected",
    "expressvpn": "it reports disconnected",
    "windscribe-cli": "network interference",
    "piactl": "PIA reports the connection was interrupted",
    "warp-cli": "Cloudflare WARP reports disconnected",
    "tailscale": "exit node 100.64.0.7 is offline",
    "openvpn3": "Client connection failed",
    "psiphon-tunnel-core": "Psiphon exited",
}


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeVendors:
    return FakeVendors(tmp_path, monkeypatch)


@pytest.fixture
def rigs() -> Iterator[list[RuntimeRig]]:
    started: list[RuntimeRig] = []
    yield started
    for rig in started:
        rig.stop()


@pytest.mark.parametrize(("backend", "params", "fake", "route", "drop"), CASES,
                         ids=[c[2] for c in CASES])
def test_vendor_drop_is_noticed_from_its_own_report_and_switched(
        fakes: FakeVendors, rigs: list[RuntimeRig], tmp_path: Path, backend: str, params: dict[str, Any],
        fake: str, route: str, drop: dict[str, Any]) -> None:
    if backend == "psiphon":
        config = tmp_path / "client.json"
        config.write_text(json.dumps({"LocalSocksProxyPort": 0, "LocalHttpProxyPort": 0,
                                      "PropagationChannelId": "X", "SponsorId": "Y"}))
        params = {"config": str(config)}
    fakes.set(fake)
    fakes.set(BACKUP[2])
    profiles = (Profile("first", backend, params), Profile("backup", BACKUP[0], BACKUP[1]))
    rig = RuntimeRig(fakes, profiles, {route: fake, BACKUP[3]: BACKUP[2]}, tmp_path)
    rigs.append(rig)
    rig.start()
    rig.wait(lambda: rig.connected_to("first"), 30, f"{fake} to connect")
    assert fakes.state(fake)["state"] == "connected"

    changes = dict(drop)
    if "extra" in changes:
        changes["extra"] = {**fakes.state(fake)["extra"], **changes["extra"]}
    fakes.set(fake, **changes)
    rig.wait(lambda: rig.connected_to("backup"), 30, "the switch to the backup")
    [switch] = rig.switches()
    assert switch["from"] == "first" and switch["to"] == "backup"
    # The reason is the vendor's own report (the interface stayed up and no probe round was failed yet).
    assert EXPECTED_REASON[fake] in switch["reason"], switch["reason"]
    assert "unreachable" not in switch["reason"]
    assert fakes.state(BACKUP[2])["state"] == "connected"


def test_a_switch_never_leaves_two_vendor_tunnels_up(fakes: FakeVendors, rigs: list[RuntimeRig],
                                                     tmp_path: Path) -> None:
    """Blocked by the censor (the vendor still says connected): probes fail it, and the backup comes up only
    after the first vendor reports disconnected."""
    fakes.set("mullvad")
    fakes.set("nordvpn")
    profiles = (Profile("mullvad", "mullvad", {}), Profile("nordvpn", "nordvpn", {}))
    rig = RuntimeRig(fakes, profiles, {"wg0-mullvad": "mullvad", "nordlynx": "nordvpn"}, tmp_path)
    rigs.append(rig)
    rig.start()
    rig.wait(lambda: rig.connected_to("mullvad"), 30, "mullvad to connect")
    fakes.set("mullvad", extra={"blocked": True})
    seen_both = []

    def both_up() -> bool:
        up = [v for v in ("mullvad", "nordvpn") if fakes.state(v)["state"] == "connected"]
        if len(up) == 2:
            seen_both.append(True)
        return rig.connected_to("nordvpn")

    rig.wait(both_up, 40, "the switch to nordvpn")
    assert not seen_both
    assert fakes.state("mullvad")["state"] == "disconnected"
    assert ["disconnect"] in fakes.calls("mullvad")
    [switch] = rig.switches()
    assert "unreachable" in switch["reason"]


def test_not_logged_in_is_an_error_that_is_not_retried(fakes: FakeVendors, rigs: list[RuntimeRig],
                                                       tmp_path: Path) -> None:
    fakes.set("nordvpn", logged_in=False)
    fakes.set("ivpn")
    profiles = (Profile("nord", "nordvpn", {}), Profile("backup", "ivpn", {}))
    rig = RuntimeRig(fakes, profiles, {"nordlynx": "nordvpn", "wgivpn": "ivpn"}, tmp_path)
    rigs.append(rig)
    rig.start()
    rig.wait(lambda: rig.connected_to("backup"), 30, "the backup")
    [nord] = [p for p in rig.runtime.snapshot().profiles if p.name == "nord"]
    assert nord.state == "error"
    assert "not logged in to NordVPN" in nord.reason and "nordvpn login" in nord.reason
    connects = [c for c in fakes.calls("nordvpn") if c[:1] == ["connect"]]
    assert len(connects) == 1
