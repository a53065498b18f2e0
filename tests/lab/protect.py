"""Runs the leak guard and tunnel DNS inside a lab namespace, as the service would there.

Tunnel DNS must run *inside* ``ip netns exec`` (its mount namespace has the namespace's own resolv.conf
bind-mounted over /etc/resolv.conf); so must a process a test kills to simulate a crash. Prints the
result as JSON on stdout. ``--hold`` keeps the process alive after the change until it is killed.

Usage:
  protect.py guard SPEC_JSON [--hold]        protect.py guard-recover
  protect.py dns-apply STATE_DIR IFACE SERVER... [--domain D] [--hold]
  protect.py dns-restore STATE_DIR IFACE     protect.py dns-recover STATE_DIR     protect.py dns-reconcile STATE_DIR
  protect.py link-check IFACE ADDRESS
  protect.py service-on STATE_DIR PUSHED_DIR TUNNEL_JSON [--dns]   (the service's guard [+ dns-apply] verbs)
  protect.py service-off STATE_DIR PUSHED_DIR TUNNEL_JSON          (dns-restore + guard-off)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from vpnswitch.privileged.guard import Endpoint, GuardSpec, LeakGuard, Resolver
from vpnswitch.privileged.protection import Protection
from vpnswitch.privileged.tunneldns import DnsSettings, TunnelDns
from vpnswitch.system import localnet
from vpnswitch.system.runner import Runner


def spec_from_json(text: str) -> GuardSpec:
    data = json.loads(text)
    return GuardSpec(tuple(data["interfaces"]), tuple(Endpoint(*item) for item in data["endpoints"]),
                     tuple(data.get("local", ())), tuple(Resolver(*item) for item in data.get("dns", ())))


@dataclass(frozen=True)
class StoredTunnel:
    """A store entry as the service has it (only the fields the guard and DNS read)."""

    id: str
    kind: str
    interface: str
    endpoints: tuple[Endpoint, ...]
    dns: tuple[str, ...] = ()
    dns_domains: tuple[str, ...] = ()


def tunnel_from_json(text: str) -> StoredTunnel:
    data = json.loads(text)
    return StoredTunnel(data["id"], data["kind"], data["interface"],
                        tuple(Endpoint(*item) for item in data["endpoints"]), tuple(data.get("dns", ())))


def service_protection(args: list[str]) -> tuple[Protection, StoredTunnel]:
    runner = Runner()
    prot = Protection(runner, dns=TunnelDns(runner, state_dir=Path(args[0])), pushed_dir=Path(args[1]))
    return prot, tunnel_from_json(args[2])


def hold() -> None:
    print(json.dumps("held"), flush=True)
    while True:
        time.sleep(60)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("action")
    parser.add_argument("args", nargs="*")
    parser.add_argument("--domain", action="append", default=[])
    parser.add_argument("--hold", action="store_true")
    parser.add_argument("--dns", action="store_true")
    options = parser.parse_args(argv)
    action, args = options.action, options.args
    result: object
    if action == "guard":
        result = LeakGuard(Runner()).engage(spec_from_json(args[0]))
    elif action == "guard-recover":
        result = LeakGuard(Runner()).recover()
    elif action == "link-check":
        result = localnet.answering(args[0], [args[1]], timeout=1.0)
    elif action == "service-on":
        prot, tunnel = service_protection(args)
        result = {"guard": prot.guard(tunnel, []), "dns": prot.dns_apply(tunnel) if options.dns else None}
    elif action == "service-off":
        prot, tunnel = service_protection(args)
        result = {"dns": prot.dns_restore(tunnel), "guard": prot.guard_off()}
    else:
        dns = TunnelDns(Runner(), state_dir=Path(args[0]))
        if action == "dns-apply":
            result = dns.apply(args[1], DnsSettings(tuple(args[2:]), tuple(options.domain)))
        elif action == "dns-restore":
            result = dns.restore(args[1])
        elif action == "dns-recover":
            result = dns.recover()
        elif action == "dns-reconcile":
            result = dns.reconcile()
        else:
            parser.error(f"unknown action {action!r}")
    if options.hold:
        hold()
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
