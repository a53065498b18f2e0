"""The root-only operations the WireGuard and OpenVPN backends need, and the two ways to get them done.

``DirectOps``: vpnswitch runs as root (a system service, CI, the lab) and calls wg-quick/wg/openvpn itself.
``HelperOps``: a desktop user's vpnswitch asks ``pkexec`` to run the small privileged helper
(``vpnswitch.system.privhelper``) with one verb from a fixed list; the polkit action
``io.github.vpnswitch.privhelper`` decides who may, and the helper re-checks every argument and refuses configs
that could make root do anything but bring a tunnel up or down (see ``configrules``).
Every call is an argv list through the Runner, with a timeout.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vpnswitch.core.errors import AppMissing, BackendError
from vpnswitch.system.runner import Completed, ManagedProcess, Runner, kill_tree

log = logging.getLogger(__name__)

PKEXEC = "pkexec"
HELPER_PATH = "/usr/libexec/vpnswitch/vpnswitch-privhelper"
POLKIT_ACTION = "io.github.vpnswitch.privhelper"
# Where a launchd/desktop environment may keep the tools although they are not on its PATH.
EXTRA_BIN_DIRS = ("/usr/sbin", "/sbin", "/usr/local/sbin", "/usr/local/bin", "/opt/homebrew/bin",
                  "/opt/homebrew/sbin")


def find_program(name: str) -> str:
    """The tool's full path (PATH first, then the usual system directories); the bare name when not found."""
    path = os.environ.get("PATH", "")
    found = shutil.which(name, path=os.pathsep.join([path, *EXTRA_BIN_DIRS]))
    return found or name


# ------------------------------------------------------------------------------------------- OpenVPN


@dataclass(frozen=True)
class OpenVpnLaunch:
    """How vpnswitch starts one openvpn it owns."""

    config: Path
    socket: Path  # the management unix socket
    dev: str
    dev_type: str  # tun or tap
    ask_credentials: bool  # add --auth-user-pass (credentials then come over the management socket)
    allow_scripts: bool  # only for configs in trusted places; otherwise --script-security 1


def openvpn_argv(launch: OpenVpnLaunch, program: str = "openvpn", client_user: str | None = None) -> list[str]:
    """The full argv. Options after --config override the config, so vpnswitch keeps control of these."""
    argv = [
        program,
        "--cd", str(launch.config.parent),  # relative file names in the config resolve next to it
        "--config", str(launch.config),
        "--dev", launch.dev,
        "--dev-type", launch.dev_type,
        "--management", str(launch.socket), "unix",
        "--management-hold",
        "--management-query-passwords",
        "--auth-retry", "none",  # a refused password ends the process instead of asking forever
        # A blocked server must fail fast, not after openvpn's own 120 s and endless retries: vpnswitch does
        # the retrying, across profiles. 10 s is still generous for a first answer over a slow link.
        "--server-poll-timeout", "10",
        "--connect-retry-max", "1",
        "--suppress-timestamps",
    ]
    if client_user:
        argv += ["--management-client-user", client_user]
    if launch.ask_credentials:
        argv += ["--auth-user-pass"]
    if not launch.allow_scripts:
        argv += ["--script-security", "1"]
    return argv


# ---------------------------------------------------------------------------------- wg-quick leftovers

_FWMARK_RULE = re.compile(r"not from all fwmark (0x[0-9a-f]+) lookup (\d+)")
_NFT_TABLE = re.compile(r"^table (\S+) (\S+)$")


def orphan_fwmark_tables(rules: str) -> list[int]:
    """Tables of wg-quick's "not fwmark T lookup T" rules (wg-quick always uses the same number for both)."""
    tables = []
    for match in _FWMARK_RULE.finditer(rules):
        mark, table = int(match.group(1), 16), int(match.group(2))
        if mark == table and table not in tables:
            tables.append(table)
    return tables


def wg_quick_nft_tables(listing: str, iface: str) -> list[tuple[str, str]]:
    """(family, name) of the nft tables wg-quick made for ``iface``."""
    found = []
    for line in listing.splitlines():
        match = _NFT_TABLE.match(line.strip())
        if match and match.group(2) == f"wg-quick-{iface}":
            found.append((match.group(1), match.group(2)))
    return found


def cleanup_wg_leftovers(runner: Runner, iface: str, timeout: float) -> list[str]:
    """Undo what wg-quick set up for an interface that vanished without ``wg-quick down`` (its userspace
    process died): its nft table and policy-routing rules whose table is now empty. Returns what was removed."""
    removed: list[str] = []
    deadline = time.monotonic() + timeout

    def left() -> float:
        return max(1.0, deadline - time.monotonic())

    try:
        listing = runner.run([find_program("nft"), "list", "tables"], timeout=left())
        for family, name in wg_quick_nft_tables(listing.stdout, iface):
            if runner.run([find_program("nft"), "delete", "table", family, name], timeout=left()).ok:
                removed.append(f"nft table {family} {name}")
    except BackendError:
        pass  # no nft: wg-quick used iptables, whose rules die with the interface's addresses
    ip = find_program("ip")
    for family in ("-4", "-6"):
        try:
            rules = runner.run([ip, family, "rule", "show"], timeout=left())
        except BackendError:
            continue
        deleted = 0
        for table in orphan_fwmark_tables(rules.stdout):
            routes = runner.run([ip, family, "route", "show", "table", str(table)], timeout=left())
            if routes.ok and not routes.stdout.strip():
                while deleted < 64 and runner.run([ip, family, "rule", "delete", "table", str(table)],
                                                  timeout=left()).ok:
                    deleted += 1
                removed.append(f"ip {family} rules for table {table}")
        if deleted and "suppress_prefixlength 0" in rules.stdout:
            # wg-quick adds one of these per tunnel; take back the one that belonged to the dead tunnel.
            runner.run([ip, family, "rule", "delete", "table", "main", "suppress_prefixlength", "0"], timeout=left())
    return removed


# --------------------------------------------------------------------------------------- the two ways


class Ops:
    """Root-only operations. ``direct`` says whether vpnswitch itself holds the privilege."""

    direct: bool = False

    def wg_quick(self, verb: str, config: str, timeout: float) -> Completed:
        raise NotImplementedError

    def wg_dump(self, iface: str, timeout: float) -> Completed:
        raise NotImplementedError

    def wg_cleanup(self, iface: str, config: str, timeout: float) -> None:
        raise NotImplementedError

    def openvpn_start(self, launch: OpenVpnLaunch, log_path: Path) -> ManagedProcess:
        raise NotImplementedError

    def stop(self, process: ManagedProcess, timeout: float) -> None:
        raise NotImplementedError

    def stop_pid(self, pid: int, timeout: float) -> None:
        """Stop an openvpn vpnswitch started earlier but no longer holds (left by a crashed daemon)."""
        raise NotImplementedError


class DirectOps(Ops):
    """vpnswitch is root: run the tools."""

    direct = True

    def __init__(self, runner: Runner) -> None:
        self.runner = runner

    def wg_quick(self, verb: str, config: str, timeout: float) -> Completed:
        return self.runner.run([find_program("wg-quick"), verb, config], timeout=timeout)

    def wg_dump(self, iface: str, timeout: float) -> Completed:
        return self.runner.run([find_program("wg"), "show", iface, "dump"], timeout=timeout)

    def wg_cleanup(self, iface: str, config: str, timeout: float) -> None:
        if sys.platform.startswith("linux"):
            for item in cleanup_wg_leftovers(self.runner, iface, timeout):
                log.info("removed wg-quick leftover of %s: %s", iface, item)

    def openvpn_start(self, launch: OpenVpnLaunch, log_path: Path) -> ManagedProcess:
        argv = openvpn_argv(launch, find_program("openvpn"))
        return self.runner.start(argv, cwd=str(launch.config.parent), log_path=str(log_path))

    def stop(self, process: ManagedProcess, timeout: float) -> None:
        process.stop(timeout=timeout)

    def stop_pid(self, pid: int, timeout: float) -> None:
        kill_tree(pid, grace=timeout)


class HelperOps(Ops):
    """A desktop user: ask the privileged helper through pkexec (argv only, fixed verbs)."""

    direct = False

    def __init__(self, runner: Runner, prefix: Sequence[str] = (PKEXEC, HELPER_PATH)) -> None:
        self.runner = runner
        self.prefix = tuple(prefix)

    def _check_installed(self) -> None:
        if self.prefix[0] == PKEXEC:
            if shutil.which(PKEXEC) is None:
                raise AppMissing("pkexec is not installed, so vpnswitch cannot get the root rights WireGuard and "
                                 "OpenVPN need", hint="Install polkit (package pkexec or polkit), or run the "
                                 "vpnswitch daemon as root.")
            if not Path(self.prefix[1]).exists():
                raise AppMissing(f"the vpnswitch privileged helper is not installed ({self.prefix[1]})",
                                 hint="Install vpnswitch from your distribution's package (it ships the helper and "
                                      "its polkit action), or run the vpnswitch daemon as root.")

    def _run(self, args: Sequence[str], timeout: float) -> Completed:
        self._check_installed()
        result = self.runner.run([*self.prefix, *args], timeout=timeout)
        if result.returncode in (126, 127) and self.prefix[0] == PKEXEC:
            # pkexec: 126 = not authorised / dialog dismissed, 127 = authentication failed or not possible.
            raise BackendError("the system refused vpnswitch the rights to change VPN connections "
                               f"(polkit action {POLKIT_ACTION})", fatal=True,
                               hint="Run vpnswitch from your desktop session, or ask an administrator to allow "
                                    "that action.")
        return result

    def wg_quick(self, verb: str, config: str, timeout: float) -> Completed:
        return self._run([f"wg-{verb}", config], timeout)

    def wg_dump(self, iface: str, timeout: float) -> Completed:
        return self._run(["wg-show", iface], timeout)

    def wg_cleanup(self, iface: str, config: str, timeout: float) -> None:
        self._run(["wg-down", config], timeout)  # the helper cleans up when the interface is gone

    def openvpn_start(self, launch: OpenVpnLaunch, log_path: Path) -> ManagedProcess:
        self._check_installed()
        args = ["openvpn-start", str(launch.config), str(launch.socket), launch.dev, launch.dev_type,
                "auth" if launch.ask_credentials else "noauth"]
        # The helper replaces itself with openvpn, so this process *is* openvpn (running as root).
        return self.runner.start([*self.prefix, *args], log_path=str(log_path))

    def stop(self, process: ManagedProcess, timeout: float) -> None:
        if process.alive():
            result = self._run(["stop", str(process.pid)], timeout)
            if not result.ok and process.alive():
                log.warning("the helper could not stop openvpn %d: %s", process.pid, result.output()[-200:])
        deadline = time.monotonic() + timeout
        while process.alive() and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop_pid(self, pid: int, timeout: float) -> None:
        self._run(["stop", str(pid)], timeout)


class NeedsRootOps(Ops):
    """A platform where vpnswitch has no helper yet: explain instead of hanging on a sudo prompt."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def _refuse(self) -> BackendError:
        return BackendError(self.reason, fatal=True, hint="Run the vpnswitch daemon as root (a system service).")

    def wg_quick(self, verb: str, config: str, timeout: float) -> Completed:
        raise self._refuse()

    def wg_dump(self, iface: str, timeout: float) -> Completed:
        raise self._refuse()

    def wg_cleanup(self, iface: str, config: str, timeout: float) -> None:
        raise self._refuse()

    def openvpn_start(self, launch: OpenVpnLaunch, log_path: Path) -> ManagedProcess:
        raise self._refuse()

    def stop(self, process: ManagedProcess, timeout: float) -> None:
        process.stop(timeout=timeout)

    def stop_pid(self, pid: int, timeout: float) -> None:
        kill_tree(pid, grace=timeout)


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def ops_for(runner: Runner) -> Ops:
    """The way this process gets root work done."""
    if is_root():
        return DirectOps(runner)
    if sys.platform.startswith("linux"):
        return HelperOps(runner)
    return NeedsRootOps("WireGuard and OpenVPN need root rights here, and vpnswitch is not running as root")
