"""What WireGuard and OpenVPN config files say, and whether running them as root is safe.

wg-quick and openvpn run as root and both can be told by their config file to run commands
(``PostUp =``, ``up``…), write files (``log``, ``status``…) or read files (``auth-user-pass FILE``).
A config the desktop user can edit must therefore never carry those, or "connect a VPN" becomes
"run anything as root". The rule, applied alike by the backends (daemon running as root) and by the
privileged helper (desktop user through polkit): a config that lives in a *trusted* place — the file
and every directory above it owned by root and writable by nobody else — may do what its
administrator wrote; any other config must be free of hooks and file-writing directives.
Pure functions plus ``stat``, so the helper can import this without pulling in anything else.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# --------------------------------------------------------------------------------------------- trust


def trusted_path(path: Path | str) -> bool:
    """Whether ``path`` (symlinks resolved) and every directory above it belong to root and only root can write."""
    try:
        real = Path(os.path.realpath(path))
        if not real.is_file():
            return False
        for part in (real, *real.parents):
            st = os.stat(part)
            if st.st_uid != 0 or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return False
    except OSError:
        return False
    return True


# ----------------------------------------------------------------------------------------- WireGuard

# wg-quick accepts a bare interface name or a path whose file name is "<interface>.conf".
WG_NAME_RE = re.compile(r"^[a-zA-Z0-9_=+.-]{1,15}$")
WG_WINDOWS_NAME_RE = re.compile(r"^[a-zA-Z0-9_=+.-]{1,32}$")
WG_HOOK_KEYS = ("preup", "postup", "predown", "postdown")
WG_DEFAULT_DIRS = (Path("/etc/wireguard"), Path("/usr/local/etc/wireguard"), Path("/opt/homebrew/etc/wireguard"))


def wg_interface_name(config: str) -> str:
    """The interface wg-quick creates for ``config`` (a name or a path); ValueError says what is wrong."""
    if WG_NAME_RE.match(config) and "/" not in config:
        return config
    name = Path(config).name
    if not name.endswith(".conf"):
        raise ValueError("must be a WireGuard config path ending in .conf (e.g. /etc/wireguard/wg0.conf) "
                         "or an interface name such as wg0")
    stem = name[: -len(".conf")]
    if not WG_NAME_RE.match(stem):
        raise ValueError(f"the file name must be an interface name followed by .conf: \"{stem}\" is not a valid "
                         "interface name (1–15 of letters, digits and _=+.-)")
    return stem


def wg_config_path(config: str, search: Iterable[Path] = WG_DEFAULT_DIRS) -> Path:
    """Where the config of a bare name lives (the first existing of wg-quick's own directories)."""
    if "/" in config or config.endswith(".conf"):
        return Path(config)
    candidates = [directory / f"{config}.conf" for directory in search]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    return candidates[0]


@dataclass(frozen=True)
class WgConfigFacts:
    hooks: tuple[str, ...]  # the hook keys present (PostUp…), as written
    dns: tuple[str, ...]  # DNS = values: they make wg-quick call resolvconf
    table: str | None
    has_interface: bool


def wg_config_facts(text: str) -> WgConfigFacts:
    """Read the keys wg-quick itself interprets (case-insensitively, "#" comments, only in [Interface])."""
    hooks: list[str] = []
    dns: list[str] = []
    table: str | None = None
    in_interface = has_interface = False
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            in_interface = line.lower() == "[interface]"
            has_interface = has_interface or in_interface
            continue
        if not in_interface or "=" not in line:
            continue
        key, _, value = (part.strip() for part in line.partition("="))
        lowered = key.lower()
        if lowered in WG_HOOK_KEYS:
            hooks.append(key)
        elif lowered == "dns":
            dns.extend(v.strip() for v in value.split(",") if v.strip())
        elif lowered == "table":
            table = value
    return WgConfigFacts(tuple(hooks), tuple(dns), table, has_interface)


def wg_problems(text: str, *, trusted: bool) -> list[str]:
    """Why this wg-quick config must not be run as root (empty when it may)."""
    facts = wg_config_facts(text)
    if not facts.has_interface:
        return ["it has no [Interface] section, so it is not a WireGuard config"]
    if facts.hooks and not trusted:
        return [f"it runs commands as root ({', '.join(sorted(set(facts.hooks)))}) but anyone other than root "
                "could change it; move it to /etc/wireguard (owned by root) or remove those lines"]
    return []


# ------------------------------------------------------------------------------------------- OpenVPN


@dataclass(frozen=True)
class Directive:
    name: str
    args: tuple[str, ...]
    line: int


_INLINE_OPEN = re.compile(r"^<([A-Za-z0-9_-]+)>$")


def ovpn_directives(text: str) -> list[Directive]:
    """The directives of an OpenVPN config in order; inline blocks (<ca>…</ca>) become one directive each."""
    found: list[Directive] = []
    inline: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if inline is not None:
            if line == f"</{inline}>":
                inline = None
            continue
        if not line or line[0] in "#;":
            continue
        if line.lower() in ("<connection>", "</connection>"):  # its content is ordinary directives
            found.append(Directive(line.lower().strip("<>"), (), number))
            continue
        match = _INLINE_OPEN.match(line)
        if match:
            inline = match.group(1)
            found.append(Directive(inline.lower(), ("[inline]",), number))
            continue
        lexer = shlex.shlex(line, posix=True)
        lexer.whitespace_split = True
        lexer.commenters = "#;"
        try:
            tokens = list(lexer)
        except ValueError:  # an unterminated quote: keep the line's words, the check below still sees the name
            tokens = line.split()
        if tokens:
            name = tokens[0].lower().removeprefix("--")
            found.append(Directive(name, tuple(tokens[1:]), number))
    return found


# Directives that make openvpn run a program or load code.
OVPN_EXEC = frozenset({
    "up", "down", "route-up", "route-pre-down", "ipchange", "tls-verify", "auth-user-pass-verify",
    "client-connect", "client-disconnect", "learn-address", "plugin", "iproute", "engine", "providers",
    "pkcs11-providers", "script-security",
})
# Directives that make openvpn (as root) write, or change where it works, in the file system.
OVPN_WRITES = frozenset({
    "log", "log-append", "status", "writepid", "replay-persist", "ifconfig-pool-persist", "tmp-dir", "cd",
    "chroot", "tls-export-cert", "config",
})
# Directives vpnswitch itself must control to own the process: refused in every config.
OVPN_OWNED = frozenset({
    "daemon", "management", "management-client", "management-hold", "management-query-passwords",
    "management-client-user", "management-client-group", "management-signal", "management-forget-disconnect",
    "management-up-down", "management-external-key", "management-external-cert", "management-query-proxy",
    "management-query-remote", "inetd", "syslog",
})
# Directives that name a file openvpn reads (as root). Inline blocks are fine; the helper checks that the
# desktop user could read a named file themselves, so root cannot be used to read someone else's.
OVPN_READS = frozenset({
    "ca", "cert", "key", "pkcs12", "tls-auth", "tls-crypt", "tls-crypt-v2", "extra-certs", "crl-verify",
    "dh", "secret", "askpass", "auth-user-pass", "http-proxy-user-pass", "capath",
})


def ovpn_problems(directives: list[Directive], *, trusted: bool) -> list[str]:
    """Why vpnswitch must not run this OpenVPN config (empty when it may)."""
    problems = []
    owned = sorted({d.name for d in directives if d.name in OVPN_OWNED})
    if owned:
        problems.append(f"it sets {', '.join(owned)}, which vpnswitch must control itself (remove those lines)")
    if trusted:
        return problems
    hooks = sorted({d.name for d in directives if d.name in OVPN_EXEC})
    if hooks:
        problems.append(f"it runs programs as root ({', '.join(hooks)}) but anyone other than root could change "
                        "it; move it to a root-owned directory such as /etc/openvpn/client or remove those lines")
    writes = sorted({d.name for d in directives if d.name in OVPN_WRITES})
    if writes:
        problems.append(f"it makes openvpn write files as root ({', '.join(writes)}); remove those lines "
                        "(vpnswitch keeps the log itself)")
    if any(d.name == "auth-user-pass" and d.args and d.args[0] != "[inline]" for d in directives):
        problems.append("it reads the user name and password from a file (auth-user-pass FILE); remove the file "
                        "name and store the password in vpnswitch instead")
    return problems


def ovpn_read_paths(directives: list[Directive], base: Path) -> list[Path]:
    """Files the config makes openvpn read (relative names resolved against ``base``, the config's directory)."""
    paths = []
    for d in directives:
        if d.name not in OVPN_READS or not d.args or d.args[0] == "[inline]":
            continue
        path = Path(d.args[0])
        paths.append(path if path.is_absolute() else base / path)
    return paths


OVPN_PROTOS_UDP = frozenset({"udp", "udp4", "udp6"})
OVPN_PROTOS_TCP = frozenset({"tcp", "tcp4", "tcp6", "tcp-client", "tcp4-client", "tcp6-client"})


def ovpn_transport(directives: list[Directive]) -> str:
    """udp or tcp, as the first remote will be tried: its own proto, else its <connection> block's, else the
    global one (openvpn's default is udp)."""
    global_proto = "udp"
    block_proto: str | None = None
    remote_proto: str | None = None
    seen_remote = in_block = False
    blocks = 0
    for d in directives:
        if d.name == "connection":
            in_block, blocks = True, blocks + 1
        elif d.name == "/connection":
            in_block = False
        elif d.name == "proto" and d.args:
            if not in_block:
                global_proto = d.args[0].lower()
            elif blocks == 1:
                block_proto = d.args[0].lower()
        elif d.name == "remote" and not seen_remote and (not blocks or in_block):
            seen_remote = True
            if len(d.args) >= 3:
                remote_proto = d.args[2].lower()
    chosen = remote_proto or block_proto or global_proto
    if chosen in OVPN_PROTOS_TCP:
        return "tcp"
    if chosen in OVPN_PROTOS_UDP:
        return "udp"
    return "unknown"


def ovpn_device(directives: list[Directive]) -> tuple[str | None, str]:
    """(explicit device name or None when the config leaves it to the system, device type tun/tap)."""
    dev: str | None = None
    dev_type: str | None = None
    for d in directives:
        if d.name == "dev" and d.args:
            dev = d.args[0]
        elif d.name == "dev-type" and d.args:
            dev_type = d.args[0].lower()
    if dev_type is None:
        dev_type = "tap" if dev and dev.startswith("tap") else "tun"
    # "tun"/"tap" alone (or "tunN" where the number is left out) means: let the system pick a name.
    if dev is None or dev in ("tun", "tap", "utun", "null"):
        return None, dev_type
    return dev, dev_type


def ovpn_needs_credentials(directives: list[Directive]) -> bool:
    """Whether openvpn will ask for user name and password (``auth-user-pass`` without a file or inline block)."""
    return any(d.name == "auth-user-pass" and not d.args for d in directives)
