"""The service's leak guard and tunnel DNS verbs, from stored tunnels only.

``Protection`` is what the service's verb handlers call for ``guard``/``guard-off``/``dns-apply``/
``dns-restore`` and at start (``cleanup``). The caller names tunnels; everything else — interfaces, server
addresses, resolvers — comes from the store, from the running tunnel (the address WireGuard really talks
to) or from what an OpenVPN server pushed to the service's own up-script. Replies carry no secrets.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import psutil

from vpnswitch.privileged import tunneldns
from vpnswitch.privileged.guard import GuardError, LeakGuard, guard_spec_for
from vpnswitch.privileged.tunneldns import DnsSettings, TunnelDns
from vpnswitch.system import localnet
from vpnswitch.system.runner import Runner

log = logging.getLogger(__name__)

RESOLVE_TIMEOUT = 3.0
WG_TIMEOUT = 5.0


class _Endpoint(Protocol):
    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def proto(self) -> str: ...


class Tunnel(Protocol):
    """What this needs of a store entry (``vpnswitch.privileged.store.StoredTunnel``)."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def interface(self) -> str: ...
    @property
    def endpoints(self) -> Sequence[_Endpoint]: ...
    @property
    def dns(self) -> Sequence[str]: ...
    @property
    def dns_domains(self) -> Sequence[str]: ...


def lookup(host: str, timeout: float = RESOLVE_TIMEOUT) -> list[str]:
    """The addresses of a server name, with a deadline (getaddrinfo has none of its own).

    The lookup runs on a daemon thread, so one that never returns holds up neither the verb nor the exit.
    """
    found: list[str] = []
    done = threading.Event()

    def work() -> None:
        try:
            infos = socket.getaddrinfo(host, None, 0, socket.SOCK_DGRAM)
            found.extend(dict.fromkeys(str(info[4][0]) for info in infos))
        except OSError:
            pass
        finally:
            done.set()

    threading.Thread(target=work, name="resolve-endpoint", daemon=True).start()
    return list(found) if done.wait(timeout) else []


class Protection:
    """Leak guard + tunnel DNS for the service; calls are serialised."""

    def __init__(self, runner: Runner, *, guard: LeakGuard | None = None, dns: TunnelDns | None = None,
                 pushed_dir: Path = tunneldns.PUSHED_DIR,
                 local: Callable[[frozenset[str]], list[str]] | None = None,
                 resolve: Callable[[str], list[str]] = lookup) -> None:
        self.runner = runner
        self.leak_guard = guard or LeakGuard(runner)
        self.dns = dns or TunnelDns(runner)
        self.pushed_dir = pushed_dir
        self._local = local or underlay_networks
        self._resolve = resolve
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ verbs

    def guard(self, active: Tunnel | None, standby: Iterable[Tunnel]) -> dict[str, Any]:
        """``guard {active, standby}``: only these tunnels, their servers and resolvers, and the local network."""
        tunnels = [*([active] if active else []), *standby]
        with self._lock:
            interfaces = frozenset(t.interface for t in tunnels)
            spec = guard_spec_for(tunnels, active.id if active else None, [t.id for t in standby],
                                  local=self._local(interfaces), resolve=self._resolver(tunnels),
                                  active_dns=self._resolvers(active) if active else None)
            self.leak_guard.engage(spec)
        return {"on": True, "active": active.id if active else None, "interfaces": list(spec.interfaces),
                "resolvers": [r.address for r in spec.dns_servers]}

    def guard_off(self) -> dict[str, Any]:
        with self._lock:
            removed = self.leak_guard.active()
            self.leak_guard.remove()
        return {"removed": removed}

    def dns_apply(self, tunnel: Tunnel) -> dict[str, Any]:
        settings = self._settings(tunnel)
        if not settings.servers:
            raise GuardError(f"tunnel {tunnel.id} has no resolvers (no DNS line, nothing pushed); "
                             "lookups keep going to the system resolver")
        with self._lock:
            method = self.dns.apply(tunnel.interface, settings)
        return {"applied": True, "method": method, "servers": list(settings.servers)}

    def dns_restore(self, tunnel: Tunnel) -> dict[str, Any]:
        with self._lock:
            restored = self.dns.restore(tunnel.interface)
            tunneldns.forget_pushed(tunnel.interface, self.pushed_dir)
        return {"restored": restored}

    def cleanup(self) -> list[str]:
        """At start: what a killed service left — a guard (the app says "blocked to protect you") and DNS."""
        done = []
        with self._lock:
            if self.leak_guard.recover():
                done.append("leak guard left by a previous run removed")
            done += [f"DNS restored for {interface}" for interface in self.dns.recover()]
        return done

    def reconcile(self) -> list[str]:
        """When a tunnel died: put DNS back for interfaces that are gone."""
        with self._lock:
            return self.dns.reconcile()

    # ------------------------------------------------------------------ helpers

    def _settings(self, tunnel: Tunnel) -> DnsSettings:
        stored = DnsSettings(tuple(tunnel.dns), tuple(getattr(tunnel, "dns_domains", ())))
        if tunnel.kind != "openvpn":
            return stored
        pushed = tunneldns.pushed_dns(tunnel.interface, self.pushed_dir)
        if pushed is None or not pushed.servers:
            return stored
        return DnsSettings(pushed.servers, pushed.domains or stored.domains)

    def _resolvers(self, tunnel: Tunnel) -> list[str]:
        return list(self._settings(tunnel).servers)

    def _resolver(self, tunnels: Sequence[Tunnel]) -> Callable[[str], list[str]]:
        """Names resolve to what a running WireGuard tunnel really talks to, else to a (deadlined) lookup."""
        live: dict[str, list[str]] = {}
        for tunnel in tunnels:
            if tunnel.kind == "wireguard":
                for address in self._wg_endpoints(tunnel.interface):
                    for endpoint in tunnel.endpoints:
                        live.setdefault(endpoint.host, []).append(address)

        def resolve(host: str) -> list[str]:
            return live.get(host) or self._resolve(host)

        return resolve

    def _wg_endpoints(self, interface: str) -> list[str]:
        result = self.runner.run(["wg", "show", interface, "endpoints"], timeout=WG_TIMEOUT)
        if not result.ok:
            return []
        addresses = []
        for line in result.stdout.splitlines():
            parts = line.split()
            if len(parts) == 2 and ":" in parts[1]:
                host = parts[1].rsplit(":", 1)[0].strip("[]")
                try:
                    addresses.append(str(ipaddress.ip_address(host)))
                except ValueError:
                    continue
        return addresses


def underlay_networks(tunnels: frozenset[str]) -> list[str]:
    """The underlay's subnets (IPv4 and IPv6) and gateway: the local network the guard keeps reachable.

    Never for DNS: the guard refuses port 53/853 to these like to everything outside a tunnel.
    """
    underlay = localnet.default_gateway(tunnels)
    if underlay is None:
        return []
    iface, gateway = underlay
    networks = [str(net) for net in localnet.subnets(iface)]
    for addr in psutil.net_if_addrs().get(iface, []):
        if addr.family == socket.AF_INET6 and addr.netmask:
            prefix = bin(int(ipaddress.IPv6Address(addr.netmask))).count("1")  # psutil gives the mask as an address
            net = ipaddress.IPv6Network(f"{addr.address.split('%')[0]}/{prefix}", strict=False)
            if not net.is_link_local:  # link-local is let through anyway
                networks.append(str(net))
    return networks + [gateway]
