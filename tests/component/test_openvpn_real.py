"""The openvpn backend against a real OpenVPN server, with the backend running inside a client namespace.

Needs root, openvpn and openssl (Debian: openvpn openssl iproute2). Under CI=true a missing prerequisite
fails these tests instead of skipping them.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.component.nsdriver import Driver, driver_env
from tests.component.vpnpair import (
    INTERNET_URL,
    OPENVPN_PROGRAMS,
    PAGE,
    NetnsPair,
    report_timings,
    require_prerequisites,
    wait_for,
)
from vpnswitch.backends.openvpn.backend import device_name

pytestmark = pytest.mark.lab

USER, PASSWORD = "alice", 'p"a ss\\w0rd with spaces'
TCP_PORT, UDP_PORT, SPARE_PORT, DEAD_PORT = 443, 1194, 8443, 1999
NOBODY = 65534
HELPER = [sys.executable, "-m", "vpnswitch.system.privhelper"]  # as root, standing in for pkexec + helper


class World:
    def __init__(self, pair: NetnsPair, timings: dict[str, float]) -> None:
        self.pair = pair
        self.timings = timings
        self.tcp_auth = pair.work / "client-tcp.ovpn"
        self.tcp_auth.write_text(pair.openvpn_client_conf(proto="tcp", port=TCP_PORT, auth=True))
        self.udp = pair.work / "client-udp.ovpn"
        self.udp.write_text(pair.openvpn_client_conf(proto="udp", port=UDP_PORT))
        self.dead = pair.work / "client-dead.ovpn"
        self.dead.write_text(pair.openvpn_client_conf(proto="udp", port=DEAD_PORT))

    def driver(self, name: str) -> Driver:
        return self.pair.driver(name)

    def openvpn_pids(self) -> list[int]:
        """openvpn processes running in the client namespace (the ones the backend started)."""
        pids = []
        for pid in self.pair.ns_run(self.pair.client_ns, ["ip", "netns", "pids", self.pair.client_ns]).split():
            try:
                if Path(f"/proc/{pid}/comm").read_text().strip() == "openvpn" and _state(int(pid)) != "Z":
                    pids.append(int(pid))
            except OSError:
                continue
        return pids


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "Z"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[World]:
    require_prerequisites(OPENVPN_PROGRAMS)
    timings: dict[str, float] = {}
    pair = NetnsPair(tmp_path_factory.mktemp("ovpn-real"))
    with pair:
        pair.openvpn_server(proto="tcp", port=TCP_PORT, credentials=(USER, PASSWORD), dev="vsbsrvt")
        pair.openvpn_server(proto="udp", port=UDP_PORT, dev="vsbsrvu")
        pair.http_server()
        yield World(pair, timings)
    assert pair.leftovers() == []
    report_timings(request, "openvpn", timings)


def create(driver: Driver, config: Path, *, username: str | None = None, password: str | None = None,
           profile: str = "OpenVPN test", helper: list[str] | None = None) -> None:
    params: dict[str, str] = {"config": str(config)}
    if username:
        params["username"] = username
    driver.ok("create", backend="openvpn", profile=profile, params=params,
              secrets={"password": password} if password is not None else {}, helper=helper)


def test_tcp_with_password_connects_carries_traffic_and_cleans_up(world: World) -> None:
    driver = world.driver("tcp-auth")
    try:
        create(driver, world.tcp_auth, username=USER, password=PASSWORD)
        assert not driver.call("fetch", url=INTERNET_URL, timeout=0.5)["ok"]  # only a tunnel gets there
        assert driver.ok("transport")["transport"] == "tcp"
        connect = driver.ok("connect", timeout=20)
        world.timings["tcp + password"] = connect["elapsed"]
        status = driver.ok("status")
        assert status["state"] == "connected" and world.pair.ovpn_nets[TCP_PORT] in status["detail"]
        iface = driver.ok("route")["interface"]
        assert iface == device_name("OpenVPN test")
        assert driver.ok("interface_up", name=iface)["up"] is True
        assert driver.ok("fetch", url=INTERNET_URL)["body"] == PAGE
        assert driver.ok("liveness")["reason"] is None

        (pid,) = world.openvpn_pids()
        assert not any(PASSWORD in arg for arg in Path(f"/proc/{pid}/cmdline").read_text().split("\0"))
        logs = list((world.pair.work / "tcp-auth").rglob("openvpn.log"))
        assert logs and all(PASSWORD not in log.read_text(errors="replace") for log in logs)
        assert "Initialization Sequence Completed" in logs[0].read_text()

        driver.ok("disconnect", timeout=10)
        assert driver.ok("interface_up", name=iface)["up"] is None
        assert world.openvpn_pids() == []
        assert not list((world.pair.work / "tcp-auth").rglob("mgmt.sock"))
        assert driver.ok("status")["state"] == "disconnected"
        driver.ok("disconnect", timeout=10)  # idempotent
    finally:
        driver.stop()


def test_udp_liveness_reports_a_killed_openvpn_at_once(world: World) -> None:
    driver = world.driver("udp-kill")
    try:
        create(driver, world.udp, profile="OpenVPN UDP")
        assert driver.ok("transport")["transport"] == "udp"
        world.timings["udp, certificate only"] = driver.ok("connect", timeout=20)["elapsed"]
        assert driver.ok("fetch", url=INTERNET_URL)["body"] == PAGE
        (pid,) = world.openvpn_pids()
        os.kill(pid, signal.SIGKILL)
        # Liveness is read from state the backend keeps (not polled); how fast is measured by the benchmark.
        reason = driver.ok("wait_liveness", timeout=5, backend_only=True)["reason"]
        assert reason is not None and ("openvpn exited" in reason or "management connection closed" in reason)
        driver.ok("disconnect", timeout=10)
        iface = driver.ok("route")["interface"]
        assert driver.ok("interface_up", name=iface)["up"] is None
    finally:
        driver.stop()


def test_an_openvpn_left_by_a_crashed_daemon_is_replaced(world: World) -> None:
    first = world.driver("crash")
    create(first, world.udp, profile="OpenVPN crash")
    first.ok("connect", timeout=20)
    (orphan,) = world.openvpn_pids()
    first.proc.kill()  # the daemon dies; its openvpn (own session) keeps running with the device name
    first.proc.wait(5)
    assert world.openvpn_pids() == [orphan]
    second = world.driver("crash")  # same profile, same private directory
    try:
        create(second, world.udp, profile="OpenVPN crash")
        second.ok("connect", timeout=20)
        assert orphan not in world.openvpn_pids() and len(world.openvpn_pids()) == 1
        assert second.ok("fetch", url=INTERNET_URL)["body"] == PAGE
        second.ok("disconnect", timeout=10)
        assert world.openvpn_pids() == []
    finally:
        second.stop()


def test_a_wrong_password_is_a_fatal_auth_failure(world: World) -> None:
    driver = world.driver("auth-failed")
    try:
        create(driver, world.tcp_auth, username=USER, password="wrong")
        reply = driver.call("connect", timeout=20)
        assert not reply["ok"] and reply["error"] == "AuthFailed" and reply["fatal"]
        assert "AUTH_FAILED" in reply["message"]
        assert world.openvpn_pids() == []
    finally:
        driver.stop()


def test_reconnecting_is_reported_when_the_server_goes_away(world: World) -> None:
    server = world.pair.openvpn_server(proto="tcp", port=SPARE_PORT, dev="vsbsrvs")
    config = world.pair.work / "client-spare.ovpn"
    config.write_text(world.pair.openvpn_client_conf(proto="tcp", port=SPARE_PORT))
    driver = world.driver("reconnecting")
    try:
        create(driver, config, profile="OpenVPN spare")
        driver.ok("connect", timeout=20)
        server.kill()
        reason = driver.ok("wait_liveness", timeout=10, backend_only=True)["reason"]
        assert reason is not None and "reconnecting" in reason
        driver.ok("disconnect", timeout=10)
        assert world.openvpn_pids() == []
    finally:
        driver.stop()


def test_a_server_that_never_answers_times_out_and_leaves_nothing(world: World) -> None:
    driver = world.driver("timeout")
    try:
        create(driver, world.dead, profile="OpenVPN dead")
        reply = driver.call("connect", timeout=3)
        assert not reply["ok"] and reply["error"] == "BackendError" and not reply["fatal"]
        assert "did not connect within 3 s" in reply["message"]
        assert world.openvpn_pids() == []
    finally:
        driver.stop()


def test_through_the_privileged_helper(world: World) -> None:
    """The desktop path: the backend asks the helper (here run as root directly instead of via pkexec)."""
    driver = world.driver("helper")
    try:
        create(driver, world.tcp_auth, username=USER, password=PASSWORD, profile="OpenVPN helper", helper=HELPER)
        world.timings["tcp + password, via helper"] = driver.ok("connect", timeout=20)["elapsed"]
        assert driver.ok("fetch", url=INTERNET_URL)["body"] == PAGE
        (pid,) = world.openvpn_pids()
        cmdline = Path(f"/proc/{pid}/cmdline").read_text().split("\0")
        assert "--management-client-user" in cmdline and "--script-security" in cmdline
        assert not any(PASSWORD in arg for arg in cmdline)
        driver.ok("disconnect", timeout=10)
        assert world.openvpn_pids() == []

        hooked = world.pair.work / "hooked.ovpn"
        hooked.write_text(world.tcp_auth.read_text() + "up /bin/true\n")
        create(driver, hooked, username=USER, password=PASSWORD, profile="OpenVPN hooked", helper=HELPER)
        reply = driver.call("connect", timeout=10)
        assert not reply["ok"] and reply["fatal"] and "runs programs as root" in reply["message"]
        assert world.openvpn_pids() == []
    finally:
        driver.stop()


def test_the_helpers_openvpn_serves_its_management_socket_to_the_calling_user_only(world: World) -> None:
    """As pkexec would start it for user "nobody": that user gets the socket, another user does not."""
    shared = Path(tempfile.mkdtemp(prefix="vpnswitch-helper-", dir="/tmp"))
    try:
        shared.chmod(0o755)
        config = shared / "udp.ovpn"
        config.write_text(world.udp.read_text())
        config.chmod(0o644)
        run_dir = shared / "run"
        run_dir.mkdir(mode=0o700)
        os.chown(run_dir, NOBODY, NOBODY)
        sock = run_dir / "mgmt.sock"
        helper = world.pair.ns_popen(
            world.pair.client_ns, [*HELPER, "openvpn-start", str(config), str(sock), "tunvsnobody", "tun", "noauth"],
            env={"PKEXEC_UID": str(NOBODY), "PYTHONPATH": driver_env()["PYTHONPATH"]},
            log=world.pair.work / "helper-nobody.log")
        wait_for(sock.exists, 10.0, "the helper's openvpn to open its management socket")
        probe = ("import socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); "
                 "print(s.recv(200).decode())")

        def as_user(uid: int) -> subprocess.CompletedProcess[str]:
            return subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", sys.executable,
                                   "-c", probe, str(sock)], capture_output=True, text=True, timeout=10, check=False)

        mine = as_user(NOBODY)
        assert mine.returncode == 0 and ">INFO:OpenVPN Management Interface" in mine.stdout
        assert as_user(NOBODY - 1).returncode != 0  # someone else: no way in
        env = {**os.environ, "PKEXEC_UID": str(NOBODY - 1), "PYTHONPATH": driver_env()["PYTHONPATH"]}
        other = subprocess.run([*HELPER, "stop", str(helper.pid)], env=env, capture_output=True, text=True,
                               timeout=20, check=False)
        assert other.returncode == 2 and "not started through vpnswitch for you" in other.stderr
        env["PKEXEC_UID"] = str(NOBODY)
        assert subprocess.run([*HELPER, "stop", str(helper.pid)], env=env, timeout=20, check=False).returncode == 0
        helper.wait(10)
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def test_nothing_is_left_in_the_client_namespace(world: World) -> None:
    wait_for(lambda: world.openvpn_pids() == [], 5.0, "openvpn processes to be gone")
