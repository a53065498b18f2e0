"""Tunnel DNS: while a tunnel is the way out, the machine's lookups go to that tunnel's resolvers.

Without it every lookup still goes to the ISP's resolver, which is where the cheapest censorship happens
(a sinkhole address, a block page, NXDOMAIN) and where the censor learns every site the user looks up.
The resolvers come from the tunnel: WireGuard's ``DNS =`` line, or what an OpenVPN server pushed
(``dhcp-option DNS/DOMAIN``; see ``pushed_dns``). They are set per link, the way the system manages DNS:

- systemd-resolved, when it runs and is the system resolver: ``resolvectl dns/domain/default-route <if>``
  (``~.`` makes the link the route for every name); resolved forgets it by itself when the link goes;
- else ``resolvconf -a <if>`` / ``-d <if>`` (Debian's resolvconf or openresolv);
- else /etc/resolv.conf itself. The original is kept in a state file written *before* the change, so a
  crash loses nothing: ``recover()`` at the next start puts it back. A bind-mounted resolv.conf (``ip netns
  exec`` mounts /etc/netns/<ns>/resolv.conf over it) is rewritten in place; a symlink is replaced by a file
  and put back as the same symlink. Whatever changed the file since (DHCP, NetworkManager) is left alone.

Restored on ``restore()`` (down), by ``recover()`` (after a crash) and by ``reconcile()`` (the tunnel's
interface is gone: it died).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vpnswitch.core.errors import BackendError
from vpnswitch.system.runner import Runner

log = logging.getLogger(__name__)

Method = Literal["resolved", "resolvconf", "file"]
STATE_DIR = Path("/run/vpnswitch/dns")
RESOLV_CONF = Path("/etc/resolv.conf")
RESOLVED_DIR = Path("/run/systemd/resolve")
RESOLVED_STUBS = ("127.0.0.53", "127.0.0.54")
TOOL_TIMEOUT = 5.0
MAX_SERVERS = 3  # what the C library reads from resolv.conf
_IFNAME = re.compile(r"^[A-Za-z0-9_.+=-]{1,15}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*"
                     r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?$")


class DnsError(BackendError):
    """Tunnel DNS could not be applied or restored."""


@dataclass(frozen=True)
class DnsSettings:
    """A tunnel's resolvers and search domains."""

    servers: tuple[str, ...]
    domains: tuple[str, ...] = ()

    def checked(self) -> DnsSettings:
        """The same settings, or ValueError when something is not an address or a domain name."""
        servers = tuple(str(ipaddress.ip_address(server)) for server in self.servers)
        for domain in self.domains:
            if not _DOMAIN.match(domain):
                raise ValueError(f"not a domain name: {domain!r}")
        return DnsSettings(tuple(dict.fromkeys(servers)), tuple(dict.fromkeys(self.domains)))


def _check_interface(name: str) -> str:
    if not _IFNAME.match(name):
        raise ValueError(f"not an interface name: {name!r}")
    return name


def resolv_conf_text(settings: DnsSettings) -> str:
    lines = ["# written by vpnswitch while a tunnel is up; the original comes back when it is down"]
    lines += [f"nameserver {server}" for server in settings.servers[:MAX_SERVERS]]
    if settings.domains:
        lines.append("search " + " ".join(settings.domains))
    return "\n".join(lines) + "\n"


def nameservers(text: str) -> list[str]:
    return [parts[1] for line in text.splitlines() if len(parts := line.split()) >= 2 and parts[0] == "nameserver"]


def _is_mount_point(path: Path, mountinfo: Path = Path("/proc/self/mountinfo")) -> bool:
    """Whether ``path`` is itself mounted over (``ip netns exec`` bind-mounts the namespace's resolv.conf)."""
    try:
        lines = mountinfo.read_text().splitlines()
    except OSError:
        return False
    target = str(path).replace(" ", "\\040")
    return any(len(fields := line.split()) > 4 and fields[4] == target for line in lines)


def _own_network_namespace() -> bool:
    """Whether this process is in another network namespace than the machine's (as in ``ip netns exec``)."""
    try:
        return os.stat("/proc/self/ns/net").st_ino != os.stat("/proc/1/ns/net").st_ino
    except OSError:
        return False


class TunnelDns:
    """Applies and restores tunnel DNS per interface; every change is recorded first under ``state_dir``."""

    def __init__(self, runner: Runner, state_dir: Path = STATE_DIR, resolv_conf: Path = RESOLV_CONF,
                 method: Method | None = None) -> None:
        self.runner = runner
        self.state_dir = state_dir
        self.resolv_conf = resolv_conf
        self._method = method

    # ------------------------------------------------------------------ which way

    def method(self) -> Method:
        """How DNS is managed on this machine (decided once, on first use)."""
        if self._method is None:
            self._method = self._detect()
        return self._method

    def _detect(self) -> Method:
        try:
            current = self.resolv_conf.read_text(errors="replace")
        except OSError:
            current = ""
        if shutil.which("resolvectl") and RESOLVED_DIR.is_dir() and not _own_network_namespace():
            linked = self.resolv_conf.is_symlink() and str(self.resolv_conf.resolve()).startswith(str(RESOLVED_DIR))
            if linked or any(server in RESOLVED_STUBS for server in nameservers(current)):
                return "resolved"
        if shutil.which("resolvconf") and not _own_network_namespace():
            return "resolvconf"
        return "file"

    # ------------------------------------------------------------------ apply / restore

    def apply(self, interface: str, settings: DnsSettings) -> Method:
        """Send lookups to ``settings`` through ``interface`` until ``restore``; returns the way it was done."""
        _check_interface(interface)
        settings = settings.checked()
        if not settings.servers:
            raise DnsError(f"{interface} has no resolvers to apply")
        method = self.method()
        if method == "file":
            for other in self.applied():
                if other != interface:  # resolv.conf holds one tunnel's resolvers: the newest wins
                    self.restore(other)
        self._record(interface, {"method": method})
        try:
            if method == "resolved":
                self._apply_resolved(interface, settings)
            elif method == "resolvconf":
                self._tool(["resolvconf", "-a", interface], stdin=resolv_conf_text(settings))
            else:
                self._apply_file(interface, settings)
        except BaseException:
            self.restore(interface)
            raise
        log.info("DNS through %s: %s (%s)", interface, ", ".join(settings.servers), method)
        return method

    def restore(self, interface: str) -> bool:
        """Undo ``apply`` for ``interface``; False when nothing was applied. Safe to repeat."""
        _check_interface(interface)
        state = self._read(interface)
        if state is None:
            return False
        method = state.get("method")
        if method == "resolved":
            if self._link_exists(interface):  # a gone link took its settings with it
                self._tool(["resolvectl", "revert", interface], check=False)
        elif method == "resolvconf":
            self._tool(["resolvconf", "-d", interface], check=False)
        elif method == "file":
            self._restore_file(state)
        self._state_file(interface).unlink(missing_ok=True)
        log.info("DNS for %s restored", interface)
        return True

    def applied(self) -> list[str]:
        """Interfaces whose DNS is applied (from the state files, so this survives a crash)."""
        try:
            return sorted(path.stem for path in self.state_dir.glob("*.json") if _IFNAME.match(path.stem))
        except OSError:
            return []

    def recover(self) -> list[str]:
        """At start: restore what a run that died left applied. Returns the interfaces restored."""
        done = [interface for interface in self.applied() if self._restore_logged(interface)]
        if done:
            log.warning("restored DNS a previous run left applied for %s", ", ".join(done))
        return done

    def reconcile(self) -> list[str]:
        """Restore DNS for tunnels whose interface is gone (the tunnel died). Returns those interfaces."""
        return [interface for interface in self.applied()
                if not self._link_exists(interface) and self._restore_logged(interface)]

    # ------------------------------------------------------------------ the three ways

    def _apply_resolved(self, interface: str, settings: DnsSettings) -> None:
        self._tool(["resolvectl", "dns", interface, *settings.servers])
        self._tool(["resolvectl", "domain", interface, *settings.domains, "~."])
        self._tool(["resolvectl", "default-route", interface, "yes"])

    def _apply_file(self, interface: str, settings: DnsSettings) -> None:
        path = self.resolv_conf
        if _own_network_namespace() and not _is_mount_point(path):
            raise DnsError(f"this network namespace shares the machine's {path}; changing it would change the "
                           "whole machine's DNS",
                           hint="Give the namespace its own resolver file: /etc/netns/<namespace>/resolv.conf")
        state: dict[str, object] = {"method": "file", "path": str(path)}
        if path.is_symlink():
            state["symlink"] = os.readlink(path)
        else:
            try:
                state["original"] = path.read_text(errors="surrogateescape")
            except FileNotFoundError:
                state["original"] = None
        written = resolv_conf_text(settings)
        state["written"] = written
        self._record(interface, state)  # before the change: a crash in between loses nothing
        self._write(path, written)

    def _restore_file(self, state: dict[str, object]) -> None:
        path = Path(str(state.get("path") or self.resolv_conf))
        try:
            current = path.read_text(errors="surrogateescape")
        except FileNotFoundError:
            current = None
        if current != state.get("written") and not (current == state.get("original") or current is None):
            log.warning("%s was changed by something else since vpnswitch wrote it; left as it is", path)
            return
        symlink = state.get("symlink")
        if isinstance(symlink, str):
            tmp = path.with_name(f".{path.name}.vpnswitch-link")
            tmp.unlink(missing_ok=True)
            os.symlink(symlink, tmp)
            os.replace(tmp, path)
            return
        original = state.get("original")
        if isinstance(original, str):
            self._write(path, original)
        elif original is None and not _is_mount_point(path):
            path.unlink(missing_ok=True)

    def _write(self, path: Path, text: str) -> None:
        """Replace the file's content whole; in place when it is a mount point (renaming over it fails)."""
        data = text.encode(errors="surrogateescape")
        if _is_mount_point(path):
            fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_NOFOLLOW)
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            return
        tmp = path.with_name(f".{path.name}.vpnswitch-tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)

    # ------------------------------------------------------------------ helpers

    def _restore_logged(self, interface: str) -> bool:
        try:
            return self.restore(interface)
        except (OSError, BackendError) as exc:
            log.warning("could not restore DNS for %s: %s", interface, exc)
            return False

    def _link_exists(self, interface: str) -> bool:
        return Path("/sys/class/net", interface).exists()

    def _tool(self, argv: list[str], *, stdin: str | None = None, check: bool = True) -> None:
        result = self.runner.run(argv, timeout=TOOL_TIMEOUT, stdin_data=stdin)
        if check and not result.ok:
            raise DnsError(f"{argv[0]} {argv[1]} failed: {result.output()[-300:]}")

    def _state_file(self, interface: str) -> Path:
        return self.state_dir / f"{interface}.json"

    def _record(self, interface: str, state: dict[str, object]) -> None:
        self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self._state_file(interface)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, json.dumps({"interface": interface, **state}).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        with contextlib.suppress(OSError):
            dfd = os.open(self.state_dir, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)

    def _read(self, interface: str) -> dict[str, object] | None:
        try:
            data = json.loads(self._state_file(interface).read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise DnsError(f"unreadable DNS state for {interface}: {exc}") from None
        return data if isinstance(data, dict) else None


# ---------------------------------------------------------------------- what an OpenVPN server pushed

PUSHED_DIR = Path("/run/vpnswitch/openvpn-pushed")


def openvpn_up_options(state_dir: Path = PUSHED_DIR, python: str | None = None) -> list[str]:
    """Options for the service's openvpn command line: our own up-script records the pushed options.

    OpenVPN hands the options it accepted from the server (after any ``pull-filter``) to the up-script as
    ``foreign_option_N``, on every connect (``--up-restart``). The script is ours, root-owned, its argv
    fixed here; the stored config carries no script directives (the importer allowlists), so
    ``--script-security 2`` runs nothing else. The script only records; the service validates.
    """
    import sys

    exe = python or sys.executable
    for part in (exe, str(state_dir)):
        if not part or any(ch.isspace() or ch in "\"'\\" for ch in part):
            raise ValueError(f"cannot pass {part!r} to openvpn's --up (spaces or quotes)")
    return ["--script-security", "2", "--up", f"{exe} -I -m vpnswitch.privileged.openvpn_up {state_dir}",
            "--up-restart"]


def parse_foreign_options(options: Iterable[str]) -> DnsSettings:
    """Resolvers and domains from OpenVPN's ``dhcp-option`` lines; anything else or malformed is skipped."""
    servers: list[str] = []
    domains: list[str] = []
    for option in options:
        parts = option.split()
        if len(parts) != 3 or parts[0] != "dhcp-option":
            continue
        kind, value = parts[1].upper(), parts[2]
        if kind in ("DNS", "DNS6"):
            try:
                servers.append(str(ipaddress.ip_address(value)))
            except ValueError:
                log.warning("ignored a pushed DNS server that is not an address: %r", value[:64])
        elif kind in ("DOMAIN", "DOMAIN-SEARCH") and _DOMAIN.match(value):
            domains.append(value.rstrip("."))
    return DnsSettings(tuple(dict.fromkeys(servers)), tuple(dict.fromkeys(domains)))


def pushed_dns(interface: str, state_dir: Path = PUSHED_DIR) -> DnsSettings | None:
    """What the server pushed at the latest connect of ``interface``; None when nothing was recorded."""
    _check_interface(interface)
    try:
        data = json.loads((state_dir / f"{interface}.json").read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise DnsError(f"unreadable record of what the OpenVPN server pushed: {exc}") from None
    options = data.get("options") if isinstance(data, dict) else None
    if not isinstance(options, list):
        return None
    return parse_foreign_options(str(option) for option in options)


def forget_pushed(interface: str, state_dir: Path = PUSHED_DIR) -> None:
    """After down: the record belongs to that connection only."""
    _check_interface(interface)
    (state_dir / f"{interface}.json").unlink(missing_ok=True)
