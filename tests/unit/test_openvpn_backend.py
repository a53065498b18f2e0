"""The openvpn backend's logic against a stand-in process replaying recorded management transcripts.

The stand-in (tests/data/openvpn/replay_openvpn.py) is started exactly where openvpn would be, speaks the
management protocol on the backend's own unix socket and plays back what a real OpenVPN 2.6 sent. The
real openvpn is exercised in tests/component/test_openvpn_real.py.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.support.memkeyring import MemoryKeyring
from vpnswitch.backends.base import BackendContext
from vpnswitch.backends.openvpn import backend as openvpn_module
from vpnswitch.backends.openvpn.backend import OpenVpnBackend, device_name, windows_argv
from vpnswitch.core.config import Profile
from vpnswitch.core.errors import AuthFailed, BackendError
from vpnswitch.core.secrets import SecretStore
from vpnswitch.system import privileged
from vpnswitch.system.privileged import OpenVpnLaunch, openvpn_argv
from vpnswitch.system.runner import ManagedProcess, Runner

DATA = Path(__file__).resolve().parents[1] / "data" / "openvpn"
REPLAY = DATA / "replay_openvpn.py"
PASSWORD = 'p"a ss\\w0rd'


class ReplayOps(privileged.DirectOps):
    """Starts the replaying stand-in instead of openvpn; remembers what openvpn would have been given."""

    def __init__(self, runner: Runner, transcript: str, *, stall: bool = False, ignore_term: bool = False,
                 record: Path | None = None) -> None:
        super().__init__(runner)
        self.transcript, self.stall, self.ignore_term, self.record = transcript, stall, ignore_term, record
        self.launches: list[OpenVpnLaunch] = []
        self.processes: list[ManagedProcess] = []

    def openvpn_start(self, launch: OpenVpnLaunch, log_path: Path) -> ManagedProcess:
        self.launches.append(launch)
        argv = [sys.executable, str(REPLAY), "--socket", str(launch.socket), "--transcript",
                str(DATA / self.transcript)]
        if self.record:
            argv += ["--record", str(self.record)]
        if self.stall:
            argv.append("--stall")
        if self.ignore_term:
            argv.append("--ignore-term")
        process = self.runner.start(argv, log_path=str(log_path))
        self.processes.append(process)
        return process


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "conf" / "work.ovpn"
    path.parent.mkdir()
    path.write_text("client\ndev tun\nproto tcp-client\nremote 192.0.2.1 443\nauth-user-pass\n<ca>\nx\n</ca>\n")
    return path


@pytest.fixture
def keyring() -> MemoryKeyring:
    return MemoryKeyring()


def make(tmp_path: Path, config: Path, keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch, ops: ReplayOps,
         *, username: str | None = "alice", password: str | None = PASSWORD) -> OpenVpnBackend:
    monkeypatch.setattr(privileged, "ops_for", lambda runner: ops)
    secrets = SecretStore(keyring)
    if password is not None:
        secrets.set("Work", "password", password)
    params: dict[str, object] = {"config": str(config)}
    if username is not None:
        params["username"] = username
    work = tmp_path / "w"
    work.mkdir(exist_ok=True)
    backend = OpenVpnBackend(Profile("Work", "openvpn", params), BackendContext(secrets=secrets, work_dir=work))
    backend.platform = "linux"
    return backend


@pytest.fixture
def cleanup() -> Iterator[list[OpenVpnBackend]]:
    backends: list[OpenVpnBackend] = []
    yield backends
    for backend in backends:
        backend.close()


# --------------------------------------------------------------------------------------- parameters


@pytest.mark.parametrize(("params", "field"), [
    ({}, "config"),
    ({"config": ""}, "config"),
    ({"config": "relative/work.ovpn"}, "config"),
    ({"config": "/etc/openvpn/work.ovpn", "username": ""}, "username"),
    ({"config": "/etc/openvpn/work.ovpn", "username": "a\nb"}, "username"),
    ({"config": "/etc/openvpn/work.ovpn", "pasword": "x"}, "pasword"),
])
def test_validate_params_names_the_field(params: dict[str, object], field: str) -> None:
    problems = OpenVpnBackend.validate_params(params)
    assert problems and problems[0][0] == field, problems


def test_valid_params_and_the_secret_key() -> None:
    assert OpenVpnBackend.validate_params({"config": "/etc/openvpn/client/work.ovpn", "username": "alice"}) == []
    assert OpenVpnBackend.secret_keys == ("password",)


@pytest.mark.parametrize(("text", "transport"), [
    ("client\nremote a 1194\n", "udp"),
    ("client\nproto tcp-client\nremote a 443\n", "tcp"),
    ("client\nproto udp\nremote a 443 tcp\n", "tcp"),
    ("client\n<connection>\nremote a 443\nproto tcp\n</connection>\n<connection>\nremote b 1194 udp\n</connection>\n",
     "tcp"),
])
def test_transport_comes_from_the_config(tmp_path: Path, text: str, transport: str) -> None:
    path = tmp_path / "c.ovpn"
    path.write_text(text)
    backend = OpenVpnBackend(Profile("p", "openvpn", {"config": str(path)}), BackendContext(work_dir=tmp_path))
    assert backend.transport() == transport


def test_transport_of_an_unreadable_config_is_unknown(tmp_path: Path) -> None:
    backend = OpenVpnBackend(Profile("p", "openvpn", {"config": str(tmp_path / "gone.ovpn")}),
                             BackendContext(work_dir=tmp_path))
    assert backend.transport() == "unknown"


def test_route_is_the_device_vpnswitch_names_unless_the_config_names_one(tmp_path: Path) -> None:
    path = tmp_path / "c.ovpn"
    path.write_text("client\ndev tun\n")
    backend = OpenVpnBackend(Profile("Work VPN", "openvpn", {"config": str(path)}), BackendContext(work_dir=tmp_path))
    assert backend.route().interface == device_name("Work VPN")
    assert device_name("Work VPN").startswith("tun") and len(device_name("Work VPN")) <= 15
    assert device_name("Work VPN") != device_name("Home VPN")
    path.write_text("client\ndev office0\n")
    assert backend.route().interface == "office0"


def test_argv_keeps_control_and_never_carries_a_secret(tmp_path: Path) -> None:
    launch = OpenVpnLaunch(config=tmp_path / "w.ovpn", socket=tmp_path / "m.sock", dev="tunvsx", dev_type="tun",
                           ask_credentials=True, allow_scripts=False)
    argv = openvpn_argv(launch)
    assert argv[argv.index("--config") + 1] == str(tmp_path / "w.ovpn")
    for option in ("--management", "--management-hold", "--management-query-passwords", "--dev", "--auth-user-pass"):
        assert option in argv
    assert argv.index("--dev") > argv.index("--config")  # command-line options after --config win
    assert argv[argv.index("--script-security") + 1] == "1"
    assert "--daemon" not in argv
    win = windows_argv("openvpn.exe", Path("C:/vpn/w.ovpn"), 50123, Path("C:/x/mgmt.pw"), None, False)
    assert win[win.index("--management") + 1:win.index("--management") + 4] == ["127.0.0.1", "50123", "C:/x/mgmt.pw"]


# ------------------------------------------------------------------------------------------ connect


def test_connect_answers_the_password_over_the_socket_only(tmp_path: Path, config: Path, keyring: MemoryKeyring,
                                                           monkeypatch: pytest.MonkeyPatch, cleanup: list) -> None:
    record = tmp_path / "received.txt"
    ops = ReplayOps(Runner(), "auth-ok-tcp.txt", record=record)
    backend = make(tmp_path, config, keyring, monkeypatch, ops)
    cleanup.append(backend)
    backend.connect(10.0)
    commands = record.read_text().splitlines()
    assert commands[:5] == ["state on", "bytecount 1", "log on", "hold off", "hold release"]
    assert 'username "Auth" "alice"' in commands
    assert 'password "Auth" "p\\"a ss\\\\w0rd"' in commands
    status = backend.status(1.0)
    assert status.state == "connected" and "10.96.2.2" in status.detail
    assert backend.route().interface == "tunvs0test"  # the name openvpn reported
    assert backend.liveness() is None
    process = ops.processes[0]
    assert not any(PASSWORD in arg for arg in psutil.Process(process.pid).cmdline())
    assert not any(PASSWORD in arg for arg in openvpn_argv(ops.launches[0]))
    log_file = Path(backend._run_dir or "") / "openvpn.log"
    assert PASSWORD not in log_file.read_text()
    sock = ops.launches[0].socket
    assert oct(sock.parent.stat().st_mode & 0o777) == "0o700"
    backend.disconnect(5.0)
    assert not process.alive() and process.returncode == 0
    assert "signal SIGTERM" in record.read_text()
    assert not sock.exists()
    assert backend.status(1.0).state == "disconnected" and backend.liveness() is None
    backend.disconnect(5.0)  # idempotent


def test_auth_failed_is_a_fatal_auth_error(tmp_path: Path, config: Path, keyring: MemoryKeyring,
                                           monkeypatch: pytest.MonkeyPatch, cleanup: list) -> None:
    ops = ReplayOps(Runner(), "auth-failed.txt")
    backend = make(tmp_path, config, keyring, monkeypatch, ops)
    cleanup.append(backend)
    with pytest.raises(AuthFailed) as info:
        backend.connect(10.0)
    assert info.value.fatal and "AUTH_FAILED" in info.value.message and "Work" in info.value.message
    assert not ops.processes[0].alive()


@pytest.mark.parametrize(("transcript", "message"), [
    ("private-key-passphrase.txt", "'Private Key' password"),
    ("static-challenge.txt", "one-time code"),
])
def test_requests_vpnswitch_cannot_answer_are_fatal(tmp_path: Path, config: Path, keyring: MemoryKeyring,
                                                    monkeypatch: pytest.MonkeyPatch, cleanup: list,
                                                    transcript: str, message: str) -> None:
    ops = ReplayOps(Runner(), transcript)
    backend = make(tmp_path, config, keyring, monkeypatch, ops)
    cleanup.append(backend)
    with pytest.raises(BackendError, match=message) as info:
        backend.connect(10.0)
    assert info.value.fatal
    assert not ops.processes[0].alive()


def test_fatal_from_openvpn_is_reported(tmp_path: Path, config: Path, keyring: MemoryKeyring,
                                        monkeypatch: pytest.MonkeyPatch, cleanup: list) -> None:
    ops = ReplayOps(Runner(), "fatal-tunsetiff.txt")
    backend = make(tmp_path, config, keyring, monkeypatch, ops)
    cleanup.append(backend)
    with pytest.raises(BackendError, match="TUNSETIFF"):
        backend.connect(10.0)


def test_timeout_stops_the_whole_process_even_one_ignoring_sigterm(
        tmp_path: Path, config: Path, keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch, cleanup: list) -> None:
    monkeypatch.setattr(openvpn_module, "STOP_WAIT", 0.3)
    ops = ReplayOps(Runner(), "no-server-udp.txt", stall=True, ignore_term=True)
    backend = make(tmp_path, config, keyring, monkeypatch, ops)
    cleanup.append(backend)
    with pytest.raises(BackendError, match="did not connect within 1 s") as info:
        backend.connect(1.0)
    assert not info.value.fatal
    process = ops.processes[0]
    assert not process.alive()
    assert not psutil.pid_exists(process.pid) or psutil.Process(process.pid).status() == psutil.STATUS_ZOMBIE


def test_liveness_reports_reconnecting_after_connected(tmp_path: Path, config: Path, keyring: MemoryKeyring,
                                                      monkeypatch: pytest.MonkeyPatch, cleanup: list) -> None:
    ops = ReplayOps(Runner(), "reconnecting-tcp.txt")
    backend = make(tmp_path, config, keyring, monkeypatch, ops, username=None, password=None)
    config.write_text("client\ndev tun\nproto tcp\nremote 192.0.2.1 443\n")
    cleanup.append(backend)
    backend.connect(10.0)
    deadline = time.monotonic() + 5
    reason = None
    while reason is None and time.monotonic() < deadline:
        reason = backend.liveness()
        time.sleep(0.01)
    assert reason == "OpenVPN is reconnecting (connection-reset)"
    assert backend.status(1.0).state == "connecting"


def test_liveness_reports_a_dead_process_at_once(tmp_path: Path, config: Path, keyring: MemoryKeyring,
                                                monkeypatch: pytest.MonkeyPatch, cleanup: list) -> None:
    ops = ReplayOps(Runner(), "auth-ok-tcp.txt")
    backend = make(tmp_path, config, keyring, monkeypatch, ops)
    cleanup.append(backend)
    backend.connect(10.0)
    ops.processes[0].stop(2.0)
    reason = backend.liveness()
    assert reason is not None and "exited" in reason
    assert backend.status(1.0).state == "disconnected"


def test_liveness_is_cheap(tmp_path: Path, config: Path, keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch,
                           cleanup: list) -> None:
    ops = ReplayOps(Runner(), "auth-ok-tcp.txt")
    backend = make(tmp_path, config, keyring, monkeypatch, ops)
    cleanup.append(backend)
    backend.connect(10.0)
    children_before = len(psutil.Process().children(recursive=True))
    for _ in range(200):
        backend.liveness()
        backend.status(0.1)
    assert len(psutil.Process().children(recursive=True)) == children_before  # no subprocess per call


def test_missing_password_or_username_fails_before_starting_anything(
        tmp_path: Path, config: Path, keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch, cleanup: list) -> None:
    ops = ReplayOps(Runner(), "auth-ok-tcp.txt")
    backend = make(tmp_path, config, keyring, monkeypatch, ops, password=None)
    cleanup.append(backend)
    with pytest.raises(AuthFailed, match="no password is stored for Work"):
        backend.connect(5.0)
    backend = make(tmp_path, config, keyring, monkeypatch, ops, username=None, password="x")
    cleanup.append(backend)
    with pytest.raises(AuthFailed, match="no user name"):
        backend.connect(5.0)
    assert ops.launches == []


@pytest.mark.parametrize(("line", "message"), [
    ("up /home/me/evil.sh", "runs programs as root"),
    ("log /etc/passwd", "write files as root"),
    ("daemon", "vpnswitch must control itself"),
    ("management 127.0.0.1 7505", "vpnswitch must control itself"),
    ("auth-user-pass /etc/shadow", "reads the user name and password from a file"),
])
def test_dangerous_configs_from_user_writable_places_are_refused(
        tmp_path: Path, config: Path, keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch, line: str,
        message: str, cleanup: list) -> None:
    config.write_text(config.read_text() + line + "\n")
    ops = ReplayOps(Runner(), "auth-ok-tcp.txt")
    backend = make(tmp_path, config, keyring, monkeypatch, ops)
    cleanup.append(backend)
    with pytest.raises(BackendError, match=message) as info:
        backend.connect(5.0)
    assert info.value.fatal and ops.launches == []


def test_an_unreadable_config_is_a_clear_fatal_error(tmp_path: Path, keyring: MemoryKeyring,
                                                     monkeypatch: pytest.MonkeyPatch, cleanup: list) -> None:
    ops = ReplayOps(Runner(), "auth-ok-tcp.txt")
    backend = make(tmp_path, tmp_path / "missing.ovpn", keyring, monkeypatch, ops)
    cleanup.append(backend)
    with pytest.raises(BackendError, match="cannot read the OpenVPN config") as info:
        backend.connect(5.0)
    assert info.value.fatal


def test_a_long_work_dir_still_gets_a_short_private_socket(tmp_path: Path, config: Path, keyring: MemoryKeyring,
                                                           monkeypatch: pytest.MonkeyPatch, cleanup: list) -> None:
    ops = ReplayOps(Runner(), "auth-ok-tcp.txt")
    backend = make(tmp_path, config, keyring, monkeypatch, ops)
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    backend.context.work_dir = deep
    cleanup.append(backend)
    backend.connect(10.0)
    sock = ops.launches[0].socket
    assert len(str(sock)) <= 100 and oct(os.stat(sock.parent).st_mode & 0o777) == "0o700"
    backend.disconnect(5.0)
    backend.close()
    assert not sock.parent.exists()  # the temporary directory goes with the backend
