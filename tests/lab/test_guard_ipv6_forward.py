"""The leak guard for IPv6 and for traffic the machine forwards, with real nftables in namespaces of its own.

The lab's namespaces have IPv6 turned off, so this builds a small world: a host behind the guarded machine
(a VM or container it routes for), the guarded machine, and its router; the router holds "far" addresses
(the internet) and counts what arrives. With the guard up, nothing reaches the far addresses over IPv4 or
IPv6, from the machine or through it, and no DNS query reaches the router; the local network still works.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence

import pytest

from vpnswitch.privileged.guard import GuardSpec, LeakGuard
from vpnswitch.system.runner import Completed, Runner

pytestmark = pytest.mark.lab

FAR4, FAR6 = "10.98.2.2", "fd00:98:2::2"
ROUTER4, ROUTER6 = "10.98.1.1", "fd00:98:1::1"
LOCAL = ("10.98.1.0/24", "fd00:98:1::/64", "10.98.3.0/24", "fd00:98:3::/64")
COUNTERS = {"far4": f"ip daddr {FAR4}", "far6": f"ip6 daddr {FAR6}", "dns": "udp dport 53",
            "local6": f"ip6 daddr {ROUTER6} udp dport 9"}
SEND = ("import socket, sys\n"
        "for target in sys.argv[1:]:\n"
        "    host, port = target.rsplit(':', 1)\n"
        "    family = socket.AF_INET6 if ':' in host else socket.AF_INET\n"
        "    with socket.socket(family, socket.SOCK_DGRAM) as s:\n"
        "        for _ in range(3):\n"
        "            try: s.sendto(b'guard-test', (host, int(port)))\n"
        "            except OSError: pass\n")


def run(argv: Sequence[str], input: str | None = None) -> str:
    return subprocess.run(list(argv), capture_output=True, text=True, check=True, timeout=15, input=input).stdout


class NetnsRunner(Runner):
    """The real Runner, with every command run inside one namespace (as the service runs in its own)."""

    def __init__(self, ns: str) -> None:
        super().__init__()
        self.ns = ns

    def run(self, argv: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None,
            stdin_data: str | None = None, cwd: str | None = None, max_output: int = 1 << 20) -> Completed:
        return super().run(["ip", "netns", "exec", self.ns, *argv], timeout=timeout, env=env,
                           stdin_data=stdin_data, cwd=cwd, max_output=max_output)


@pytest.fixture
def world() -> Iterator[dict[str, str]]:
    """Namespaces behind (b), guarded (g) and router (r), named after a random prefix; all removed after."""
    prefix = "vsg" + secrets.token_hex(2)
    ns = {role: f"{prefix}-{role}" for role in ("b", "g", "r")}
    try:
        for name in ns.values():
            run(["ip", "netns", "add", name])
        batch = {
            "g": ["link set lo up",
                  f"link add gb type veth peer name bg netns {ns['b']}",
                  f"link add gr type veth peer name rg netns {ns['r']}",
                  "addr add 10.98.3.1/24 dev gb", "addr add fd00:98:3::1/64 dev gb nodad",
                  "addr add 10.98.1.2/24 dev gr", "addr add fd00:98:1::2/64 dev gr nodad",
                  "link set gb up", "link set gr up",
                  f"route add default via {ROUTER4}", f"-6 route add default via {ROUTER6}"],
            "b": ["link set lo up", "addr add 10.98.3.2/24 dev bg", "addr add fd00:98:3::2/64 dev bg nodad",
                  "link set bg up", "route add default via 10.98.3.1", "-6 route add default via fd00:98:3::1"],
            "r": ["link set lo up", "addr add 10.98.1.1/24 dev rg", f"addr add {ROUTER6}/64 dev rg nodad",
                  f"addr add {FAR4}/32 dev lo", f"addr add {FAR6}/128 dev lo", "link set rg up",
                  "route add 10.98.3.0/24 via 10.98.1.2", "-6 route add fd00:98:3::/64 via fd00:98:1::2"],
        }
        run(["ip", "netns", "exec", ns["g"], "sysctl", "-qw", "net.ipv4.ip_forward=1",
             "net.ipv6.conf.all.forwarding=1"])
        for role in ("g", "b", "r"):
            for line in batch[role]:
                run(["ip", "-n", ns[role], *line.split()])
        counters = "".join(f"  counter {name} {{}}\n" for name in COUNTERS)
        rules = "".join(f"    {match} counter name {name}\n" for name, match in COUNTERS.items())
        run(["ip", "netns", "exec", ns["r"], "nft", "-f", "-"],
            input=f"table inet count {{\n{counters}  chain input {{\n"
                  f"    type filter hook input priority filter; policy accept;\n{rules}  }}\n}}\n")
        yield ns
    finally:
        for name in ns.values():
            with contextlib.suppress(subprocess.SubprocessError):
                for pid in run(["ip", "netns", "pids", name]).split():  # none expected: senders are waited for
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int(pid), signal.SIGKILL)
            with contextlib.suppress(subprocess.SubprocessError):
                run(["ip", "netns", "del", name])


def counts(ns: Mapping[str, str]) -> dict[str, int]:
    listing = json.loads(run(["ip", "netns", "exec", ns["r"], "nft", "-j", "list", "counters", "table", "inet",
                              "count"]))
    return {item["counter"]["name"]: item["counter"]["packets"] for item in listing["nftables"] if "counter" in item}


def send(ns: str, *targets: str) -> None:
    run(["ip", "netns", "exec", ns, sys.executable, "-c", SEND, *targets])


def traffic(ns: Mapping[str, str]) -> dict[str, int]:
    run(["ip", "netns", "exec", ns["r"], "nft", "reset", "counters", "table", "inet", "count"])
    send(ns["g"], f"{FAR4}:9", f"{FAR6}:9", f"{ROUTER4}:53", f"{ROUTER6}:53", f"{ROUTER6}:9")
    from_machine = counts(ns)
    run(["ip", "netns", "exec", ns["r"], "nft", "reset", "counters", "table", "inet", "count"])
    send(ns["b"], f"{FAR4}:9", f"{FAR6}:9", f"{ROUTER4}:53", f"{ROUTER6}:53")
    forwarded = counts(ns)
    return {**{f"machine {k}": v for k, v in from_machine.items()},
            **{f"forwarded {k}": v for k, v in forwarded.items() if k != "local6"}}


def test_ipv6_and_forwarded_traffic_are_held_as_ipv4_is(world: dict[str, str]) -> None:
    guard = LeakGuard(NetnsRunner(world["g"]))
    before = traffic(world)
    assert all(before.values()), f"without the guard every kind of packet must arrive: {before}"

    guard.engage(GuardSpec((), (), LOCAL))
    try:
        during = traffic(world)
        assert during.pop("machine local6") > 0  # the local network (IPv6) still works
        assert during == dict.fromkeys(during, 0), f"leaked with the guard up: {during}"
    finally:
        guard.remove()
    assert not guard.active()
    assert traffic(world)["machine far6"] > 0  # removed: IPv6 flows again
