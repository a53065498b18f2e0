"""The wireguard backend with real wg-quick + wireguard-go, running inside a client namespace.

Needs root, wireguard-go, wireguard-tools, nftables and iproute2. Under CI=true a missing prerequisite fails
these tests instead of skipping them.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.component.nsdriver import Driver
from tests.component.vpnpair import (
    INTERNET_URL,
    PAGE,
    WG_NET,
    WG_RUN_DIR,
    WIREGUARD_PROGRAMS,
    NetnsPair,
    report_timings,
    require_prerequisites,
    wait_for,
)
from vpnswitch.system import privhelper

pytestmark = pytest.mark.lab

HELPER = [sys.executable, "-m", "vpnswitch.system.privhelper"]  # as root, standing in for pkexec + helper


class World:
    def __init__(self, pair: NetnsPair, conf: str, timings: dict[str, float]) -> None:
        self.pair = pair
        self.conf = conf  # a full-tunnel client config for the running server
        self.timings = timings
        self.url = INTERNET_URL

    def config(self, directory: Path, role: str, extra: str = "") -> tuple[Path, str]:
        """Write the client config as <unique iface>.conf in ``directory``; return (path, interface)."""
        iface = self.pair.wg_iface(role)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{iface}.conf"
        path.write_text(self.conf.replace("[Peer]", f"{extra}[Peer]"))
        path.chmod(0o600)
        return path, iface

    def client(self, argv: list[str]) -> str:
        return self.pair.ns_run(self.pair.client_ns, argv)

    def wireguard_go_pids(self) -> list[int]:
        pids = []
        for pid in self.client(["ip", "netns", "pids", self.pair.client_ns]).split():
            try:
                if Path(f"/proc/{pid}/comm").read_text().strip() == "wireguard-go":
                    pids.append(int(pid))
            except OSError:
                continue
        return pids


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[World]:
    require_prerequisites(WIREGUARD_PROGRAMS)
    timings: dict[str, float] = {}
    pair = NetnsPair(tmp_path_factory.mktemp("wg-real"))
    with pair:
        _, _, conf = pair.wireguard_server()
        pair.http_server()
        yield World(pair, conf, timings)
    assert pair.leftovers() == []
    report_timings(request, "wireguard", timings)


def create(driver: Driver, config: Path, *, helper: list[str] | None = None) -> None:
    driver.ok("create", backend="wireguard", profile="WireGuard test", params={"config": str(config)}, helper=helper)


def test_connect_carries_traffic_and_disconnect_undoes_everything(world: World) -> None:
    path, iface = world.config(world.pair.work / "plain", "c")
    driver = world.pair.driver("plain")
    try:
        create(driver, path)
        assert not driver.call("fetch", url=world.url, timeout=0.5)["ok"]  # only a tunnel gets there
        assert driver.ok("transport")["transport"] == "udp"
        assert driver.ok("route")["interface"] == iface
        world.timings["wg-quick + wireguard-go"] = driver.ok("connect", timeout=20)["elapsed"]
        assert driver.ok("interface_up", name=iface)["up"] is True
        assert driver.ok("fetch", url=world.url)["body"] == PAGE
        status = driver.ok("status")
        assert status["state"] == "connected" and "latest handshake" in status["detail"]
        assert "never" not in status["detail"]
        assert driver.ok("liveness")["reason"] is None
        assert "lookup 51820" in world.client(["ip", "rule"])  # wg-quick's full-tunnel policy routing
        assert f"wg-quick-{iface}" in world.client(["nft", "list", "tables"])
        assert (WG_RUN_DIR / f"{iface}.sock").exists()

        driver.ok("disconnect", timeout=10)
        assert driver.ok("interface_up", name=iface)["up"] is None
        assert "lookup 51820" not in world.client(["ip", "rule"])
        assert f"wg-quick-{iface}" not in world.client(["nft", "list", "tables"])
        wait_for(lambda: world.wireguard_go_pids() == [], 5.0, "wireguard-go to exit")
        assert driver.ok("status")["state"] == "disconnected"
        driver.ok("disconnect", timeout=10)  # idempotent
    finally:
        driver.stop()


def test_a_killed_wireguard_go_is_noticed_and_its_leftovers_removed(world: World) -> None:
    path, iface = world.config(world.pair.work / "kill", "k")
    driver = world.pair.driver("kill")
    try:
        create(driver, path)
        driver.ok("connect", timeout=20)
        (pid,) = world.wireguard_go_pids()
        os.kill(pid, signal.SIGKILL)
        reason = driver.ok("wait_liveness", timeout=5)["reason"]  # what the runtime checks every 0.5 s
        assert reason == f"interface {iface} disappeared"
        assert "lookup 51820" in world.client(["ip", "rule"])  # wg-quick never ran "down"
        driver.ok("disconnect", timeout=10)
        assert "lookup 51820" not in world.client(["ip", "rule"])
        assert "suppress_prefixlength" not in world.client(["ip", "rule"])
        assert f"wg-quick-{iface}" not in world.client(["nft", "list", "tables"])
    finally:
        driver.stop()


def test_a_same_named_interface_in_another_namespace_is_refused(world: World) -> None:
    path, iface = world.config(world.pair.work / "clash", "x")
    other = world.pair.ns_popen(world.pair.server_ns, ["wireguard-go", "-f", iface],
                                env={"WG_PROCESS_FOREGROUND": "1"})
    wait_for(lambda: (WG_RUN_DIR / f"{iface}.sock").exists(), 5.0, "the other wireguard-go")
    driver = world.pair.driver("clash")
    try:
        create(driver, path)
        reply = driver.call("connect", timeout=10)
        assert not reply["ok"] and "another WireGuard interface named" in reply["message"]
        assert driver.ok("interface_up", name=iface)["up"] is None
    finally:
        driver.stop()
        other.send_signal(signal.SIGTERM)
        other.wait(5)


def test_dns_without_resolvconf_is_refused_with_a_clear_message(world: World) -> None:
    if shutil.which("resolvconf"):
        pytest.skip("resolvconf is installed here, so the missing-resolvconf path cannot be shown")
    path, iface = world.config(world.pair.work / "dns", "d", extra=f"DNS = {WG_NET}.1\n")
    driver = world.pair.driver("dns")
    try:
        create(driver, path)
        reply = driver.call("connect", timeout=10)
        assert not reply["ok"] and reply["error"] == "AppMissing" and reply["fatal"]
        assert "resolvconf" in reply["message"] and f"DNS = {WG_NET}.1" in reply["message"]
        assert driver.ok("interface_up", name=iface)["up"] is None
    finally:
        driver.stop()


def test_hooks_run_only_from_a_root_owned_place(world: World) -> None:
    marker = world.pair.work / "hook-ran"
    hook = f"PostUp = touch {marker}\n"
    path, iface = world.config(world.pair.work / "hooks", "h", extra=hook)  # under /tmp: writable by others
    driver = world.pair.driver("hooks")
    trusted_dir = Path("/run") / f"vpnswitch-test-{world.pair.prefix}"
    try:
        create(driver, path)
        reply = driver.call("connect", timeout=10)
        assert not reply["ok"] and reply["fatal"] and "runs commands as root" in reply["message"]
        assert not marker.exists() and driver.ok("interface_up", name=iface)["up"] is None

        trusted_dir.mkdir(mode=0o755)
        trusted, trusted_iface = world.config(trusted_dir, "t", extra=hook)
        create(driver, trusted)
        driver.ok("connect", timeout=20)
        assert marker.exists()
        driver.ok("disconnect", timeout=10)
        assert driver.ok("interface_up", name=trusted_iface)["up"] is None
    finally:
        driver.stop()
        shutil.rmtree(trusted_dir, ignore_errors=True)


def test_through_the_privileged_helper(world: World) -> None:
    """The desktop path: wg-quick runs, via the helper, on a root-owned copy of exactly the checked text."""
    path, iface = world.config(world.pair.work / "helper", "p")
    copy = privhelper.STATE_ROOT / "0" / "wg" / f"{iface}.conf"
    driver = world.pair.driver("helper")
    try:
        create(driver, path, helper=HELPER)
        world.timings["via the helper"] = driver.ok("connect", timeout=20)["elapsed"]
        assert copy.read_text() == path.read_text() and oct(copy.stat().st_mode & 0o777) == "0o600"
        assert driver.ok("fetch", url=world.url)["body"] == PAGE
        status = driver.ok("status")  # through `wg-show`: the private key never leaves the helper
        assert status["state"] == "connected" and "latest handshake" in status["detail"]
        driver.ok("disconnect", timeout=10)
        assert driver.ok("interface_up", name=iface)["up"] is None and not copy.exists()

        hooked, _ = world.config(world.pair.work / "helper", "q", extra="PreUp = id\n")
        create(driver, hooked, helper=HELPER)
        reply = driver.call("connect", timeout=10)
        assert not reply["ok"] and reply["fatal"] and "runs commands as root" in reply["message"]
    finally:
        driver.stop()


def test_nothing_is_left_in_the_client_namespace(world: World) -> None:
    wait_for(lambda: world.wireguard_go_pids() == [], 5.0, "wireguard-go processes to be gone")
    assert "wg-quick" not in world.client(["nft", "list", "tables"])
