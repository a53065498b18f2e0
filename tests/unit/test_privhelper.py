"""The privileged helper re-checks everything it is given (its pkexec path needs a desktop session and is
not tested here; tests/component/test_*_real.py run the helper itself as root with a stand-in for pkexec)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from vpnswitch.system import privhelper
from vpnswitch.system.privhelper import Refused

NOBODY = 65534
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give files to another user")


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory other users can reach (pytest's own tmp tree is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="vpnswitch-helper-test-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(autouse=True)
def private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    state = tmp_path / "state"
    monkeypatch.setattr(privhelper, "STATE_ROOT", state)
    return state


def wg_conf(directory: Path, name: str = "wgu0", extra: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.conf"
    path.write_text(f"[Interface]\nPrivateKey = k\nAddress = 10.0.0.2/24\n{extra}[Peer]\nPublicKey = p\n")
    return path


def test_verbs_and_argument_counts_are_fixed() -> None:
    with pytest.raises(Refused, match="no verb"):
        privhelper.dispatch([], 0)
    with pytest.raises(Refused, match="unknown verb 'sh'"):
        privhelper.dispatch(["sh", "-c", "id"], 0)
    with pytest.raises(Refused, match="exactly one argument"):
        privhelper.dispatch(["wg-up", "a", "b"], 0)
    with pytest.raises(Refused, match="usage: openvpn-start"):
        privhelper.dispatch(["openvpn-start", "/x.ovpn"], 0)
    with pytest.raises(Refused, match="not a process id"):
        privhelper.dispatch(["stop", "1"], 0)
    with pytest.raises(Refused, match="not a process id"):
        privhelper.dispatch(["stop", "-9"], 0)


def test_the_helper_refuses_to_run_without_root(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert privhelper.main(["wg-up", "wg0"]) == 2
    assert "must run as root" in capsys.readouterr().err


def test_refusals_exit_2_with_a_reason(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert privhelper.main(["bogus"]) == 2
    assert "refused: unknown verb" in capsys.readouterr().err


def test_caller_uid_comes_from_pkexec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PKEXEC_UID", "1000")
    assert privhelper.caller_uid() == 1000
    monkeypatch.setenv("PKEXEC_UID", "x")
    assert privhelper.caller_uid() == os.getuid()


# ---------------------------------------------------------------------------------------- WireGuard


def test_wg_config_with_hooks_from_a_user_writable_place_is_refused(tmp_path: Path) -> None:
    path = wg_conf(tmp_path / "u", extra="PostUp = chmod u+s /bin/bash\n")
    with pytest.raises(Refused, match="runs commands as root"):
        privhelper.check_wg_config(str(path), 0)


def test_wg_config_without_hooks_is_accepted_and_named(tmp_path: Path) -> None:
    path = wg_conf(tmp_path / "u")
    checked, text, trusted, iface = privhelper.check_wg_config(str(path), 0)
    assert checked == path and "PrivateKey" in text and not trusted and iface == "wgu0"


@pytest.mark.parametrize(("arg", "message"), [
    ("bad name", "not a valid interface name|must be a WireGuard config"),
    ("relative/wg0.conf", "absolute path"),
    ("/nonexistent/wg0.conf", "does not exist"),
])
def test_wg_config_arguments_are_checked(arg: str, message: str) -> None:
    with pytest.raises(Refused, match=message):
        privhelper.check_wg_config(arg, 0)


@needs_root
def test_a_config_the_caller_cannot_read_is_refused(shared_dir: Path) -> None:
    private = shared_dir / "private"
    path = wg_conf(private)
    private.chmod(0o700)  # root's, so user "nobody" cannot even reach it
    with pytest.raises(Refused, match="not readable by you"):
        privhelper.check_wg_config(str(path), NOBODY)
    private.chmod(0o755)
    path.chmod(0o644)
    assert privhelper.check_wg_config(str(path), NOBODY)[3] == "wgu0"


def test_down_show_only_for_tunnels_brought_up_for_the_caller(tmp_path: Path, private_state: Path) -> None:
    path = wg_conf(tmp_path / "u")
    with pytest.raises(Refused, match="not brought up through vpnswitch for you"):
        privhelper.dispatch(["wg-down", str(path)], 1000)
    with pytest.raises(Refused, match="not brought up through vpnswitch for you"):
        privhelper.dispatch(["wg-show", "wgu0"], 1000)
    copy = private_state / "1000" / "wg" / "wgu0.conf"
    copy.parent.mkdir(parents=True)
    copy.write_text(path.read_text())
    assert privhelper._owned_wg("wgu0", 1000) == ("wgu0", str(copy))
    with pytest.raises(Refused):
        privhelper._owned_wg("wgu0", 1001)


def test_the_dump_never_carries_the_private_key() -> None:
    dump = (Path(__file__).resolve().parents[1] / "data" / "wireguard" / "connected.dump").read_text()
    redacted = privhelper.redact_dump(dump.replace("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "SECRETKEY="))
    assert "SECRETKEY" not in redacted and redacted.startswith("(hidden)\t")
    assert redacted.splitlines()[1] == dump.splitlines()[1]


# ------------------------------------------------------------------------------------------ OpenVPN


def ovpn(directory: Path, extra: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "work.ovpn"
    path.write_text(f"client\ndev tun\nremote 192.0.2.1 1194\n<ca>\nx\n</ca>\n{extra}")
    return path


def run_dir(tmp_path: Path, uid: int = 0, mode: int = 0o700) -> Path:
    directory = tmp_path / "run"
    directory.mkdir(mode=mode, exist_ok=True)
    directory.chmod(mode)
    if uid:
        os.chown(directory, uid, -1)
    return directory


def test_openvpn_start_checks_every_argument(tmp_path: Path) -> None:
    config = ovpn(tmp_path / "u")
    sock = run_dir(tmp_path, os.getuid()) / "mgmt.sock"
    launch = privhelper.check_openvpn([str(config), str(sock), "tunvs1", "tun", "auth"], os.getuid())
    assert launch.config == config and launch.socket == sock and launch.ask_credentials
    assert not launch.allow_scripts  # not a trusted place
    bad = [
        ([str(config), str(sock), "tun vs", "tun", "auth"], "device name"),
        ([str(config), str(sock), "tunvs1", "tun; rm", "auth"], "device type"),
        ([str(config), str(sock), "tunvs1", "tun", "yes"], "auth or noauth"),
        (["work.ovpn", str(sock), "tunvs1", "tun", "auth"], "absolute path"),
        ([str(config), "mgmt.sock", "tunvs1", "tun", "auth"], "absolute path"),
        ([str(config), "/" + "x" * 120, "tunvs1", "tun", "auth"], "absolute path"),
    ]
    for args, message in bad:
        with pytest.raises(Refused, match=message):
            privhelper.check_openvpn(args, os.getuid())


@pytest.mark.parametrize(("extra", "message"), [
    ("up /home/me/x.sh\n", "runs programs as root"),
    ("log /etc/passwd\n", "write files as root"),
    ("daemon\n", "must control itself"),
    ("auth-user-pass /etc/shadow\n", "from a file"),
])
def test_openvpn_configs_that_could_abuse_root_are_refused(tmp_path: Path, extra: str, message: str) -> None:
    config = ovpn(tmp_path / "u", extra)
    sock = run_dir(tmp_path, os.getuid()) / "mgmt.sock"
    with pytest.raises(Refused, match=message):
        privhelper.check_openvpn([str(config), str(sock), "tunvs1", "tun", "noauth"], os.getuid())


@needs_root
def test_openvpn_files_the_caller_cannot_read_are_refused(shared_dir: Path) -> None:
    config = ovpn(shared_dir / "u", "ca /root/secret-ca.crt\n")
    (shared_dir / "u").chmod(0o755)
    config.chmod(0o644)
    sock = run_dir(shared_dir, NOBODY) / "mgmt.sock"
    with pytest.raises(Refused, match="which you cannot read yourself"):
        privhelper.check_openvpn([str(config), str(sock), "tunvs1", "tun", "noauth"], NOBODY)


@needs_root
def test_the_socket_directory_must_be_the_callers_private_one(tmp_path: Path) -> None:
    config = ovpn(tmp_path / "u")
    theirs = run_dir(tmp_path, 0) / "mgmt.sock"  # root's directory, caller is nobody
    with pytest.raises(Refused, match="owned by you with mode 0700"):
        privhelper.check_socket_path(str(theirs), NOBODY)
    open_dir = tmp_path / "open"
    open_dir.mkdir(mode=0o755)
    os.chown(open_dir, NOBODY, -1)
    with pytest.raises(Refused, match="mode 0700"):
        privhelper.check_socket_path(str(open_dir / "mgmt.sock"), NOBODY)
    link = tmp_path / "link"
    link.symlink_to(open_dir)
    with pytest.raises(Refused, match="real directory"):
        privhelper.check_socket_path(str(link / "mgmt.sock"), NOBODY)
    mine = run_dir(tmp_path, NOBODY)
    (mine / "taken.sock").write_text("")
    with pytest.raises(Refused, match="already exists"):
        privhelper.check_socket_path(str(mine / "taken.sock"), NOBODY)
    assert privhelper.check_socket_path(str(mine / "mgmt.sock"), NOBODY) == mine / "mgmt.sock"
    del config


@needs_root
def test_readable_by(shared_dir: Path, tmp_path: Path) -> None:
    assert not privhelper.readable_by(tmp_path, NOBODY)  # under a directory nobody may enter
    public = shared_dir / "public.txt"
    public.write_text("x")
    public.chmod(0o644)
    secret = shared_dir / "secret.txt"
    secret.write_text("x")
    secret.chmod(0o600)
    assert privhelper.readable_by(public, NOBODY)
    assert not privhelper.readable_by(secret, NOBODY)
    os.chown(secret, NOBODY, -1)
    assert privhelper.readable_by(secret, NOBODY)
    assert privhelper.readable_by(secret, 0)


# --------------------------------------------------------------------------------------------- stop


def test_stop_acts_only_on_the_callers_recorded_openvpn(private_state: Path) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with pytest.raises(Refused, match="not started through vpnswitch for you"):
            privhelper.verb_stop(str(sleeper.pid), 1000)
        record = private_state / "1000" / "openvpn" / str(sleeper.pid)
        record.parent.mkdir(parents=True)
        record.write_text(privhelper._starttime(sleeper.pid) or "")
        # recorded, but it is not openvpn: a reused or wrong PID must never be signalled
        with pytest.raises(Refused, match="no longer the openvpn"):
            privhelper.verb_stop(str(sleeper.pid), 1000)
        assert sleeper.poll() is None and not record.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_stop_of_a_recorded_process_that_is_gone_is_fine(private_state: Path) -> None:
    record = private_state / "1000" / "openvpn" / "999999999"
    record.parent.mkdir(parents=True)
    record.write_text("123")
    assert privhelper.verb_stop("999999999", 1000) == 0 and not record.exists()


def test_the_polkit_policy_names_the_helper_the_app_runs() -> None:
    import xml.etree.ElementTree as ET

    from vpnswitch.system import privileged

    folder = Path(__file__).resolve().parents[2] / "packaging" / "linux" / "polkit"
    action = ET.parse(folder / f"{privileged.POLKIT_ACTION}.policy").getroot().find("action")
    assert action is not None and action.get("id") == privileged.POLKIT_ACTION
    exec_path = {a.get("key"): a.text for a in action.findall("annotate")}["org.freedesktop.policykit.exec.path"]
    assert exec_path == privileged.HELPER_PATH
    defaults = action.find("defaults")
    assert defaults is not None and defaults.findtext("allow_any") == "auth_admin"  # never for remote sessions
    launcher = (folder / "vpnswitch-privhelper").read_text()
    assert launcher.startswith("#!/usr/bin/python3 -I\n") and "vpnswitch.system.privhelper import main" in launcher
