"""The leak guard: while vpnswitch keeps the machine on a tunnel, nothing leaves outside a tunnel.

When a tunnel dies (its process crashed, its interface vanished) or is taken down for a switch, the OS
falls back to the plain network at once, and every app that retries in those moments talks to the censor
directly — the connection attempt alone tells the censor which site the user wanted. An nftables table of
vpnswitch's own (``inet vpnswitch_leakguard``) therefore lets out only: loopback, the tunnels of
vpnswitch's profiles, the VPN servers those profiles use (so the next tunnel can come up), the local
network (the router, local DNS, printers — none of it crosses the censor), IPv6 link-local traffic and
DHCP. Everything else is refused at once ("administratively prohibited"), so apps fail fast and retry when
the new tunnel is up instead of hanging.

The whole table is replaced or deleted in one ``nft -f`` transaction, so there is never a half-built rule
set. Linux and root only (the desktop app would need the privileged helper for it).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
import shutil
import sys
import threading
from dataclasses import dataclass

from vpnswitch.core.errors import BackendError
from vpnswitch.system.runner import Runner

log = logging.getLogger(__name__)

TABLE = "vpnswitch_leakguard"
NFT_TIMEOUT = 5.0
_IFNAME = re.compile(r"^[A-Za-z0-9_.:+=-]{1,15}$")
RELEASE = f"table inet {TABLE} {{}}\ndelete table inet {TABLE}\n"


@dataclass(frozen=True)
class GuardSpec:
    """What may leave while the guard is up, besides loopback, IPv6 link-local and DHCP."""

    interfaces: tuple[str, ...]  # tunnel interfaces
    endpoints: tuple[str, ...]  # VPN servers (IP addresses)
    local: tuple[str, ...] = ()  # the underlay's own subnets and gateway (networks or addresses)


def _networks(items: tuple[str, ...], what: str) -> tuple[list[str], list[str]]:
    v4: set[str] = set()
    v6: set[str] = set()
    for item in items:
        try:
            net = ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(f"not an IP {what}: {item!r}") from None
        (v4 if net.version == 4 else v6).add(str(net))
    return sorted(v4), sorted(v6)


def ruleset(spec: GuardSpec) -> str:
    """An nft script that (re)creates the guard table in one transaction."""
    for name in spec.interfaces:
        if not _IFNAME.match(name):
            raise ValueError(f"not an interface name: {name!r}")
    v4, v6 = _networks(spec.endpoints + spec.local, "address or network")
    rules = ['oifname "lo" accept']
    if spec.interfaces:
        rules.append("oifname { " + ", ".join(json.dumps(i) for i in sorted(set(spec.interfaces))) + " } accept")
    if v4:
        rules.append("ip daddr { " + ", ".join(v4) + " } accept")
    if v6:
        rules.append("ip6 daddr { " + ", ".join(v6) + " } accept")
    rules += [
        "ip6 daddr { fe80::/10, ff02::/16 } accept",  # link-local and neighbour discovery never leave the link
        "udp sport 68 udp dport 67 accept",  # keep the underlay's DHCP lease
        "udp sport 546 udp dport 547 accept",
        "counter reject with icmpx type admin-prohibited",
    ]
    body = "\n".join(f"    {rule}" for rule in rules)
    return (
        f"table inet {TABLE} {{}}\n"  # so that the delete never fails: together they replace the table
        f"delete table inet {TABLE}\n"
        f"table inet {TABLE} {{\n"
        "  chain output {\n"
        "    type filter hook output priority filter; policy accept;\n"
        f"{body}\n"
        "  }\n"
        "}\n"
    )


def _find_nft() -> str | None:
    return shutil.which("nft") or shutil.which("nft", path="/usr/sbin:/sbin")


class LeakGuard:
    """Engages, changes and releases the guard. Calls are serialised; an overtaken request is dropped."""

    def __init__(self, runner: Runner, nft: str | None = None) -> None:
        self.runner = runner
        self.nft = nft or _find_nft() or "nft"
        self._lock = threading.Lock()
        self._seq = 0
        self._applied = 0
        self.engaged: GuardSpec | None = None

    @staticmethod
    def supported() -> bool:
        """Linux, running as root, with nft installed."""
        return (sys.platform.startswith("linux") and hasattr(os, "geteuid") and os.geteuid() == 0
                and _find_nft() is not None)

    def ticket(self) -> int:
        """A sequence number taken where the request is decided, so work run later on workers keeps its order."""
        with self._lock:
            self._seq += 1
            return self._seq

    def engage(self, spec: GuardSpec, ticket: int | None = None) -> bool:
        """Let only ``spec`` out; False when a newer request was applied first (this one is then dropped)."""
        return self._apply(ruleset(spec), spec, ticket)

    def release(self, ticket: int | None = None) -> bool:
        """Remove the guard (fine when it is not there)."""
        return self._apply(RELEASE, None, ticket)

    def _apply(self, script: str, spec: GuardSpec | None, ticket: int | None) -> bool:
        if ticket is None:
            ticket = self.ticket()
        with self._lock:
            if ticket < self._applied:
                return False
            result = self.runner.run([self.nft, "-f", "-"], timeout=NFT_TIMEOUT, stdin_data=script)
            if not result.ok:
                raise BackendError(f"nft refused the leak guard: {result.output()[-300:]}")
            self._applied = ticket
            if (spec is None) != (self.engaged is None):
                log.info("leak guard %s", "engaged" if spec is not None else "released")
            self.engaged = spec
            return True
