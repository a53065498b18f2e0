"""The privileged helper: the only vpnswitch code that runs as root on a desktop, through pkexec.

    vpnswitch-privhelper wg-up CONFIG          bring a wg-quick tunnel up
    vpnswitch-privhelper wg-down CONFIG        take it down (or clean up after it died)
    vpnswitch-privhelper wg-show IFACE         `wg show IFACE dump`, private key hidden
    vpnswitch-privhelper openvpn-start CONFIG SOCKET DEV DEVTYPE auth|noauth
                                               become openvpn, managed through SOCKET
    vpnswitch-privhelper stop PID              stop an openvpn this helper started for the caller

It trusts nothing it is given: every argument is re-checked here. A config that someone other than root
could change must not run commands or write files (``configrules``); such a config is read once, checked,
and a root-owned copy of exactly what was checked is what wg-quick runs. Files a config names must be
readable by the calling user, so root is never used to read what the user could not. What the helper
started is recorded per calling user under /run, and ``stop``/``wg-down``/``wg-show`` act only on that.
Exit codes: 0 done, 2 refused (a message on stderr says why), 1 the tool failed.
"""

from __future__ import annotations

import os
import pwd
import re
import signal
import stat
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from vpnswitch.core.errors import BackendError
from vpnswitch.system import configrules
from vpnswitch.system.privileged import (
    OpenVpnLaunch,
    cleanup_wg_leftovers,
    find_program,
    openvpn_argv,
)
from vpnswitch.system.runner import Runner

STATE_ROOT = Path("/run/vpnswitch-priv")
TOOL_TIMEOUT = 60.0
DEV_RE = re.compile(r"^[a-zA-Z0-9_.-]{1,15}$")
MAX_SOCKET_PATH = 100  # sun_path is 108 bytes


class Refused(Exception):
    """The request is not allowed; the message tells the user why."""


# ------------------------------------------------------------------------------------------- checks


def caller_uid() -> int:
    """The desktop user pkexec acted for (pkexec sets PKEXEC_UID and scrubs the rest of the environment)."""
    value = os.environ.get("PKEXEC_UID")
    return int(value) if value is not None and value.isdigit() else os.getuid()


def _groups_of(uid: int) -> set[int]:
    try:
        entry = pwd.getpwuid(uid)
    except KeyError:
        return set()
    return set(os.getgrouplist(entry.pw_name, entry.pw_gid))


def readable_by(path: Path, uid: int) -> bool:
    """Whether ``uid`` could read ``path`` itself (every directory searchable, the file readable)."""
    if uid == 0:
        return True
    groups = _groups_of(uid)

    def allowed(st: os.stat_result, user_bit: int, group_bit: int, other_bit: int) -> bool:
        if st.st_uid == uid:
            return bool(st.st_mode & user_bit)
        if st.st_gid in groups:
            return bool(st.st_mode & group_bit)
        return bool(st.st_mode & other_bit)

    try:
        real = Path(os.path.realpath(path))
        for directory in reversed(real.parents):
            if not allowed(os.stat(directory), stat.S_IXUSR, stat.S_IXGRP, stat.S_IXOTH):
                return False
        return allowed(os.stat(real), stat.S_IRUSR, stat.S_IRGRP, stat.S_IROTH)
    except OSError:
        return False


def check_wg_config(arg: str, uid: int) -> tuple[Path, str, bool, str]:
    """(path, text, trusted, interface) for a wg-quick config the caller may bring up; Refused otherwise."""
    try:
        iface = configrules.wg_interface_name(arg)
    except ValueError as exc:
        raise Refused(f"config {arg!r} {exc}") from None
    path = configrules.wg_config_path(arg)
    if not path.is_absolute():
        raise Refused(f"config {arg!r} must be an absolute path or an interface name")
    if not path.is_file():
        raise Refused(f"{path} does not exist")
    trusted = configrules.trusted_path(path)
    if not trusted and not readable_by(path, uid):
        raise Refused(f"{path} is not readable by you, so it cannot be used through vpnswitch")
    text = path.read_text(encoding="utf-8", errors="replace")
    problems = configrules.wg_problems(text, trusted=trusted)
    if problems:
        raise Refused(f"{path}: " + "; ".join(problems))
    return path, text, trusted, iface


def check_socket_path(arg: str, uid: int) -> Path:
    """The management socket must sit in a private directory the caller owns."""
    path = Path(arg)
    if not path.is_absolute() or ".." in path.parts or len(arg) > MAX_SOCKET_PATH:
        raise Refused(f"management socket {arg!r} must be an absolute path of at most {MAX_SOCKET_PATH} bytes")
    try:
        st = os.lstat(path.parent)
    except OSError:
        raise Refused(f"the directory of {arg!r} does not exist") from None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != uid or st.st_mode & 0o077:
        raise Refused(f"the directory of {arg!r} must be a real directory owned by you with mode 0700")
    if os.path.lexists(path):
        raise Refused(f"{arg!r} already exists")
    return path


def check_openvpn(args: Sequence[str], uid: int) -> OpenVpnLaunch:
    if len(args) != 5:
        raise Refused("usage: openvpn-start CONFIG SOCKET DEV DEVTYPE auth|noauth")
    config_arg, socket_arg, dev, dev_type, auth = args
    config = Path(config_arg)
    if not config.is_absolute() or not config.is_file():
        raise Refused(f"config {config_arg!r} must be an existing file given by its absolute path")
    trusted = configrules.trusted_path(config)
    if not trusted and not readable_by(config, uid):
        raise Refused(f"{config} is not readable by you, so it cannot be used through vpnswitch")
    directives = configrules.ovpn_directives(config.read_text(encoding="utf-8", errors="replace"))
    problems = configrules.ovpn_problems(directives, trusted=trusted)
    if not trusted:
        for path in configrules.ovpn_read_paths(directives, config.parent):
            if not readable_by(path, uid):
                problems.append(f"it names {path}, which you cannot read yourself")
    if problems:
        raise Refused(f"{config}: " + "; ".join(problems))
    if not DEV_RE.match(dev):
        raise Refused(f"device name {dev!r} is not valid")
    if dev_type not in ("tun", "tap"):
        raise Refused("device type must be tun or tap")
    if auth not in ("auth", "noauth"):
        raise Refused("the last argument must be auth or noauth")
    socket_path = check_socket_path(socket_arg, uid)
    return OpenVpnLaunch(config=config, socket=socket_path, dev=dev, dev_type=dev_type,
                         ask_credentials=auth == "auth", allow_scripts=trusted)


def check_pid(arg: str) -> int:
    if not arg.isdigit() or int(arg) <= 1:
        raise Refused(f"{arg!r} is not a process id")
    return int(arg)


def redact_dump(text: str) -> str:
    """Hide the interface's private key (first field of the first line) before it leaves root."""
    lines = text.splitlines()
    if lines:
        fields = lines[0].split("\t")
        if len(fields) == 4:
            fields[0] = "(hidden)"
            lines[0] = "\t".join(fields)
    return "\n".join(lines) + ("\n" if lines else "")


# ----------------------------------------------------------------------------------------- records


def _state_dir(uid: int, kind: str) -> Path:
    directory = STATE_ROOT / str(uid) / kind
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    for part in (STATE_ROOT, STATE_ROOT / str(uid), directory):
        os.chmod(part, 0o700)
    return directory


def _starttime(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _exe_name(pid: int) -> str:
    try:
        return Path(os.readlink(f"/proc/{pid}/exe")).name
    except OSError:
        return ""


# ------------------------------------------------------------------------------------------- verbs


def _runner() -> Runner:
    return Runner(env=_clean_env())


def _run_tool(argv: list[str]) -> int:
    """Run a tool, passing its output through to the caller."""
    result = _runner().run(argv, timeout=TOOL_TIMEOUT)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return result.returncode


def _clean_env() -> dict[str, str]:
    """A fixed environment: nothing the caller set reaches the root tools (pkexec also scrubs it)."""
    return {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}


def _iface_exists(iface: str) -> bool:
    return Path("/sys/class/net", iface).exists()


def verb_wg_up(arg: str, uid: int) -> int:
    path, text, trusted, iface = check_wg_config(arg, uid)
    copy = _state_dir(uid, "wg") / f"{iface}.conf"
    if trusted:
        target = str(path)
    else:
        # wg-quick runs exactly the text that was checked: a root-owned copy the caller cannot swap.
        fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        target = str(copy)
    code = _run_tool([find_program("wg-quick"), "up", target])
    if code != 0 and not trusted:
        copy.unlink(missing_ok=True)
    return code


def _owned_wg(arg: str, uid: int) -> tuple[str, str | None]:
    """(interface, config to hand to wg-quick down) for a tunnel the caller may take down."""
    try:
        iface = configrules.wg_interface_name(arg)
    except ValueError as exc:
        raise Refused(f"config {arg!r} {exc}") from None
    copy = STATE_ROOT / str(uid) / "wg" / f"{iface}.conf"
    if copy.is_file():
        return iface, str(copy)
    path = configrules.wg_config_path(arg)
    if path.is_file() and configrules.trusted_path(path):
        return iface, str(path)
    raise Refused(f"{iface} was not brought up through vpnswitch for you")


def verb_wg_down(arg: str, uid: int) -> int:
    iface, config = _owned_wg(arg, uid)
    copy = STATE_ROOT / str(uid) / "wg" / f"{iface}.conf"
    if _iface_exists(iface):
        code = _run_tool([find_program("wg-quick"), "down", config or iface])
    else:
        for item in cleanup_wg_leftovers(_runner(), iface, 10.0):
            print(f"removed {item}", file=sys.stderr)
        code = 0
    if code == 0:
        copy.unlink(missing_ok=True)
    return code


def verb_wg_show(arg: str, uid: int) -> int:
    iface, _ = _owned_wg(arg, uid)
    result = _runner().run([find_program("wg"), "show", iface, "dump"], timeout=TOOL_TIMEOUT)
    sys.stdout.write(redact_dump(result.stdout))
    sys.stderr.write(result.stderr)
    return result.returncode


def verb_openvpn_start(args: Sequence[str], uid: int) -> int:
    launch = check_openvpn(args, uid)
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        raise Refused(f"user {uid} does not exist") from None
    records = _state_dir(uid, "openvpn")
    for stale in records.iterdir():
        if not stale.name.isdigit() or _starttime(int(stale.name)) != stale.read_text().strip():
            stale.unlink(missing_ok=True)
    # pkexec exec'd this process and it becomes openvpn: the caller's handle on it stays valid, and the
    # record (pid + start time) is what `stop` checks before signalling anything.
    record = records / str(os.getpid())
    record.write_text(_starttime(os.getpid()) or "")
    argv = openvpn_argv(launch, find_program("openvpn"), client_user=user)
    os.chdir(launch.config.parent)
    # The socket is created by root inside the caller's 0700 directory; it must be connectable by the
    # caller, and --management-client-user makes openvpn accept only them.
    os.umask(0o000)
    try:
        os.execve(argv[0], argv, _clean_env())
    except OSError as exc:
        record.unlink(missing_ok=True)
        print(f"vpnswitch-privhelper: cannot run {argv[0]}: {exc.strerror}", file=sys.stderr)
    return 1


def verb_stop(arg: str, uid: int) -> int:
    pid = check_pid(arg)
    record = STATE_ROOT / str(uid) / "openvpn" / str(pid)
    started = _starttime(pid)
    if not record.is_file():
        raise Refused(f"process {pid} was not started through vpnswitch for you")
    if started is None:
        record.unlink(missing_ok=True)
        return 0  # already gone
    if record.read_text().strip() != started or _exe_name(pid) != "openvpn":
        record.unlink(missing_ok=True)
        raise Refused(f"process {pid} is no longer the openvpn vpnswitch started")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and _starttime(pid) == started and _state_of(pid) != "Z":
        time.sleep(0.05)
    if _starttime(pid) == started and _state_of(pid) != "Z":
        os.kill(pid, signal.SIGKILL)
    record.unlink(missing_ok=True)
    return 0


def _state_of(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "Z"


def dispatch(argv: Sequence[str], uid: int) -> int:
    if not argv:
        raise Refused("no verb given (wg-up, wg-down, wg-show, openvpn-start, stop)")
    verb, args = argv[0], list(argv[1:])
    one_arg = {"wg-up": verb_wg_up, "wg-down": verb_wg_down, "wg-show": verb_wg_show, "stop": verb_stop}
    if verb in one_arg:
        if len(args) != 1:
            raise Refused(f"{verb} takes exactly one argument")
        return one_arg[verb](args[0], uid)
    if verb == "openvpn-start":
        return verb_openvpn_start(args, uid)
    raise Refused(f"unknown verb {verb!r}")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if os.geteuid() != 0:
        print("vpnswitch-privhelper must run as root (through pkexec)", file=sys.stderr)
        return 2
    try:
        return dispatch(args, caller_uid())
    except Refused as exc:
        print(f"vpnswitch-privhelper: refused: {exc}", file=sys.stderr)
        return 2
    except BackendError as exc:  # the tool is missing or did not finish in time
        print(f"vpnswitch-privhelper: {exc.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
