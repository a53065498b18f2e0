"""A censorship lab of real VPN servers in Linux network namespaces.

Topology::

    <p>-client 10.99.1.2 ── 10.99.1.1 ┐
                                      │ <p>-isp: router + censor (nft table <p>_censor)
    <p>-wg   10.99.11.2 ── 10.99.11.1 ┤   + ISP resolver (dnsmasq); no default route,
    <p>-ovpn 10.99.12.2 ── 10.99.12.1 ┤   forwards only inside 10.99.0.0/16
    <p>-inet 10.99.20.2/.3/.53 ── .1 ─┘   blocked site, canary site, honest resolver

No veth touches the root namespace, so nothing the lab starts can reach a real network.
The app under test runs inside `Lab.client_ns` with the client profiles the lab writes;
tests drive the censor through the `block_*` methods.

Ownership: the state directory records what the lab created *before* it is created, and
`down()` removes only what is recorded there (plus processes inside those namespaces).
Processes are signalled through pidfds after their identity is re-checked, never by name.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from tests.lab import censor, configs, procs
from tests.lab import topology as t
from tests.lab.pki import Pki, make_pki
from tests.lab.procs import ProcRecord
from tests.lab.topology import Topology

DEFAULT_PREFIX = "vsl"
STATE_ROOT = Path("/run/vpnswitch-lab")
WG_RUN_DIR = Path("/var/run/wireguard")
NETNS_DIR = Path("/run/netns")

# program -> Debian package (bookworm), for a helpful prerequisite message.
REQUIRED_PROGRAMS = {
    "ip": "iproute2",
    "sysctl": "procps",
    "nft": "nftables",
    "wireguard-go": "wireguard-go",
    "wg": "wireguard-tools",
    "wg-quick": "wireguard-tools",
    "openvpn": "openvpn",
    "dnsmasq": "dnsmasq-base",
    "openssl": "openssl",
    "curl": "curl",
    "ping": "iputils-ping",
}

BLOCK_NAMES = (*censor.NFT_BLOCKS, "dns")

_HERE = Path(__file__).resolve().parent
_READY_TIMEOUT = 10.0


class LabError(RuntimeError):
    """The lab cannot be brought up, or an operation on it failed."""


@dataclass
class _Daemon:
    popen: subprocess.Popen[bytes]
    record: ProcRecord
    log: Path


class Lab:
    """One lab instance; use as a context manager or call up()/down() explicitly."""

    def __init__(self, prefix: str = DEFAULT_PREFIX, state_dir: Path | str | None = None) -> None:
        self.topo = Topology(prefix)
        self.prefix = prefix
        self.state_dir = Path(state_dir) if state_dir is not None else STATE_ROOT / prefix
        self.log_dir = self.state_dir / "logs"
        topo = self.topo

        self.client_ns = topo.client_ns
        self.isp_ns = topo.isp_ns
        self.wg_ns = topo.wg_ns
        self.ovpn_ns = topo.ovpn_ns
        self.inet_ns = topo.inet_ns
        self.client_iface = topo.uplink_if
        self.client_ip = t.CLIENT_IP
        self.client_gateway = t.CLIENT_GW
        self.isp_resolver_ip = t.CLIENT_GW
        self.honest_dns_ip = t.HONEST_DNS_IP
        self.blockpage_ip = t.BLOCKPAGE_IP
        self.blockpage_body = t.BLOCKPAGE_BODY

        self.blocked_host = t.BLOCKED_HOST
        self.blocked_ip = t.BLOCKED_IP
        self.blocked_url = f"http://{t.BLOCKED_HOST}/"
        self.blocked_ip_url = f"http://{t.BLOCKED_IP}/"
        self.blocked_body = t.BLOCKED_BODY
        self.canary_host = t.CANARY_HOST
        self.canary_ip = t.CANARY_IP
        self.canary_url = f"http://{t.CANARY_HOST}/"
        self.canary_ip_url = f"http://{t.CANARY_IP}/"
        self.canary_204_url = f"http://{t.CANARY_IP}/generate_204"
        self.canary_body = t.CANARY_BODY

        self.wg_server_ip = t.WG_SERVER_IP
        self.wg_port = t.WG_PORT
        self.wg_alt_port = t.WG_ALT_PORT
        self.ovpn_server_ip = t.OVPN_SERVER_IP
        self.ovpn_udp_port = t.OVPN_UDP_PORT
        self.ovpn_tcp_port = t.OVPN_TCP_PORT

        client_dir = self.state_dir / "client"
        self.wg_client_iface = topo.wg_client_if
        self.wg_alt_client_iface = topo.wg_alt_client_if
        self.ovpn_udp_iface = topo.ovpn_udp_client_if
        self.ovpn_tcp_iface = topo.ovpn_tcp_client_if
        # wg-quick names the interface after the file, so the file name is fixed.
        self.wg_client_conf = client_dir / f"{topo.wg_client_if}.conf"
        self.wg_alt_client_conf = client_dir / f"{topo.wg_alt_client_if}.conf"
        self.ovpn_udp_conf = client_dir / "ovpn-udp.ovpn"
        self.ovpn_tcp_conf = client_dir / "ovpn-tcp.ovpn"

        self.wg_server_run_dir = self.state_dir / "wg-run"
        self.timings: dict[str, float] = {}
        self._daemons: dict[str, _Daemon] = {}
        self._records: dict[str, ProcRecord] = {}

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Lab:
        self.up()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:  # the state dir (and its logs) is about to go away
            self.print_logs(sys.stderr)
        self.down()

    @staticmethod
    def missing_prerequisites() -> list[str]:
        """Why this machine cannot run the lab (empty when it can). Tests should FAIL on it."""
        problems = []
        if os.geteuid() != 0:
            problems.append("must run as root (netns, nftables and /dev/net/tun need it)")
        if not Path("/dev/net/tun").exists():
            problems.append("/dev/net/tun is missing (wireguard-go and openvpn need TUN)")
        missing = {prog: pkg for prog, pkg in REQUIRED_PROGRAMS.items() if not shutil.which(prog)}
        if missing:
            packages = " ".join(sorted(set(missing.values())))
            problems.append(
                f"missing programs: {', '.join(missing)}; install with "
                f"`apt-get install -y --no-install-recommends {packages}`"
            )
        return problems

    def up(self) -> None:
        """Build the whole lab; on any failure, tear down what was built and re-raise."""
        problems = self.missing_prerequisites()
        if problems:
            raise LabError("lab prerequisites missing: " + "; ".join(problems))
        start = time.monotonic()
        self._claim()
        try:
            self._build_network()
            self._start_servers()
            self._smoke_check()
        except BaseException:
            self.print_logs(sys.stderr)
            self.down()
            raise
        self.timings["up"] = time.monotonic() - start

    def down(self, *, force: bool = False) -> None:
        """Remove everything this lab created; safe to call any number of times.

        With force (humans only), the lab's exact names are removed even without a state
        file, e.g. after the state directory was lost. Never touches other names.
        """
        start = time.monotonic()
        state = self._load_state()
        if state is not None and not force:
            self._check_not_owned_by_other(state)
        namespaces = list(self.topo.namespaces) if force else (state or {}).get("namespaces", [])
        records = dict(self._records)
        for raw in (state or {}).get("processes", []):
            record = ProcRecord.from_json(raw)
            records.setdefault(record.name, record)

        pidfds = [fd for fd in map(procs.open_if_same, records.values()) if fd is not None]
        for ns in namespaces:
            pidfds += self._pidfds_in_netns(ns)
        survivors = procs.stop(pidfds)
        for daemon in self._daemons.values():  # reap our own children: no zombies
            with contextlib.suppress(subprocess.TimeoutExpired):
                daemon.popen.wait(timeout=1.0)
        self._daemons.clear()  # records stay, so leftovers() can check them afterwards

        for ns in namespaces:
            if (NETNS_DIR / ns).exists():
                subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True)
        if state is not None or force:
            shutil.rmtree(self.topo.netns_etc_dir, ignore_errors=True)
            for iface in self.topo.wg_client_ifaces:
                remove_stale_socket(WG_RUN_DIR / f"{iface}.sock")
        if (self.state_dir / "lab.json").exists() or _is_empty_dir(self.state_dir):
            shutil.rmtree(self.state_dir, ignore_errors=True)
        self.timings["down"] = time.monotonic() - start
        if survivors:
            raise LabError(f"{survivors} lab process(es) did not exit even after SIGKILL")

    def is_up(self) -> bool:
        """Whether this lab's state and all its namespaces exist."""
        return self._load_state() is not None and all((NETNS_DIR / ns).exists() for ns in self.topo.namespaces)

    def leftovers(self) -> list[str]:
        """Anything of this lab that still exists; empty after a clean down()."""
        found = [f"netns {ns}" for ns in self.topo.namespaces if (NETNS_DIR / ns).exists()]
        found += [
            f"socket {WG_RUN_DIR / f'{i}.sock'}"
            for i in self.topo.wg_client_ifaces
            if (WG_RUN_DIR / f"{i}.sock").exists()
        ]
        for path in (Path(self.topo.netns_etc_dir), self.state_dir):
            if path.exists():
                found.append(f"path {path}")
        found += [f"process {r.name} pid {r.pid}" for r in self._records.values() if procs.is_same(r)]
        return found

    # ------------------------------------------------------------------ running commands

    def ns_run(
        self,
        ns: str,
        argv: Sequence[str],
        *,
        timeout: float = 10.0,
        check: bool = False,
        input: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run argv (a list, never a shell string) inside one of this lab's namespaces."""
        self._check_ns(ns)
        try:
            return subprocess.run(
                procs.netns_exec_argv(ns, argv),
                input=input,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=check,
                env=None if env is None else {**os.environ, **env},
            )
        except subprocess.CalledProcessError as err:
            raise LabError(f"{' '.join(argv)} in {ns} failed ({err.returncode}): {err.stderr.strip()}") from err

    def client_run(
        self,
        argv: Sequence[str],
        *,
        timeout: float = 10.0,
        check: bool = False,
        input: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run a command in the client namespace and wait for it."""
        return self.ns_run(self.client_ns, argv, timeout=timeout, check=check, input=input, env=env)

    def client_popen(
        self,
        argv: Sequence[str],
        *,
        name: str | None = None,
        env: Mapping[str, str] | None = None,
        stdin: Any = subprocess.DEVNULL,
        stdout: Any = None,
        stderr: Any = None,
    ) -> subprocess.Popen[bytes]:
        """Start a long-running command in the client namespace; down() stops it.

        Without stdout/stderr, output goes to logs/<name>.log in the state directory.
        """
        return self.ns_popen(self.client_ns, argv, name=name, env=env, stdin=stdin, stdout=stdout, stderr=stderr)

    def ns_popen(
        self,
        ns: str,
        argv: Sequence[str],
        *,
        name: str | None = None,
        env: Mapping[str, str] | None = None,
        stdin: Any = subprocess.DEVNULL,
        stdout: Any = None,
        stderr: Any = None,
    ) -> subprocess.Popen[bytes]:
        """Start a tracked process in one of the lab's namespaces."""
        self._check_ns(ns)
        name = name or self._unique_name(Path(argv[0]).name)
        log = self.log_path(name) if stdout is None and stderr is None else None
        return self._spawn(name, ns, argv, env=env, log=log, stdin=stdin, stdout=stdout, stderr=stderr).popen

    def wg_server(self, args: Sequence[str]) -> subprocess.CompletedProcess[str]:
        """Run `wg ARGS` against the lab's WireGuard servers (their sockets are private)."""
        return self.ns_run(self.wg_ns, [*self._wg_launcher, "wg", *args], check=True)

    @property
    def _wg_launcher(self) -> list[str]:
        return [sys.executable, str(_HERE / "wgprivate.py"), str(self.wg_server_run_dir)]

    # ------------------------------------------------------------------ censor

    def block_wireguard_port(self) -> None:
        """Drop UDP 51820 both ways (the alternative server on udp/443 stays reachable)."""
        self._set_block("wireguard_port")

    def block_wireguard_payload(self) -> None:
        """DPI: drop UDP whose payload starts like a WireGuard message, on any port."""
        self._set_block("wireguard_payload")

    def block_openvpn_udp(self) -> None:
        """Drop UDP 1194 both ways."""
        self._set_block("openvpn_udp")

    def block_openvpn_tcp(self, mode: str = "drop") -> None:
        """TCP 443 both ways: silently dropped ("drop") or answered with a RST ("rst")."""
        self._set_block("openvpn_tcp", mode)

    def block_all_vpn(self) -> None:
        """Drop everything to and from both VPN servers' addresses."""
        self._set_block("all_vpn")

    def random_loss(self, percent: int) -> None:
        """Drop percent% of the client link's packets in each direction (no netem here)."""
        self._set_block("loss", str(percent))

    def rate_limit(self, kbytes_per_s: int) -> None:
        """Police the client link to kbytes_per_s in each direction.

        An nft policer (no shaping qdisc needed): its bucket holds one second of traffic,
        so the first second of a transfer passes at line rate, then the rate holds.
        """
        self._set_block("rate", str(kbytes_per_s))

    def cut_client_link(self) -> None:
        """Drop every packet on the client's access link (also to the ISP resolver)."""
        self._set_block("link")

    def restore_client_link(self) -> None:
        """Undo cut_client_link()."""
        self.unblock("link")

    def dns_blackhole(self) -> None:
        """Make the ISP resolver answer 0.0.0.0 for every lab name, not just the blocked one."""
        self._set_dns(blackhole_all=True)

    def isp_dns_answer(self, answer: str) -> None:
        """How the ISP resolver poisons the blocked site: sinkhole (0.0.0.0, the default),
        blockpage (the block page's address) or nxdomain."""
        self._set_dns(blackhole_all=False, answer=answer)

    def intercept_dns(self) -> None:
        """Answer every DNS packet the client sends on its access link from the ISP resolver,
        whatever address it was sent to (tunnelled lookups are untouched)."""
        self._set_block("dns_intercept")

    def set_client_resolver(self, address: str) -> None:
        """Point the client's resolv.conf at ``address`` (the ISP resolver by default).

        Written in place: `ip netns exec` bind-mounts this file, so processes already
        running in the client namespace see the change."""
        path = Path(self.topo.netns_etc_dir) / "resolv.conf"
        text = f"nameserver {address}\noptions timeout:1 attempts:2\n"
        if not path.exists():
            path.write_text(text)
        elif path.read_text() != text:
            with path.open("r+") as f:
                f.truncate(0)
                f.write(text)

    def isp_dns_queries_for(self, name: str) -> int:
        """Lookups of ``name`` from the client that reached the ISP resolver (from its query log,
        so intercepted ones sent to any address count too)."""
        log = self.log_dir / "dns-isp.log"
        needle = f"] {name} from {t.CLIENT_IP}"
        return sum(1 for line in log.read_text(errors="replace").splitlines() if "query[" in line and needle in line)

    def unblock(self, name: str) -> None:
        """Undo one operation by name (see BLOCK_NAMES); undoing an inactive one is fine."""
        if name == "dns":
            self._set_dns(blackhole_all=False)
        else:
            self._nft(censor.set_block(self.topo, name, []))

    def unblock_all(self) -> None:
        """Switch every censor operation off (the permanent site censorship stays) and give the
        client the ISP resolver again."""
        self._nft("".join(censor.set_block(self.topo, name, []) for name in censor.NFT_BLOCKS))
        self._set_dns(blackhole_all=False)
        self.set_client_resolver(t.CLIENT_GW)

    def block(self, name: str, arg: str | None = None) -> None:
        """Generic form of the block_* methods (used by the CLI)."""
        if name == "dns":
            self.dns_blackhole()
        else:
            self._set_block(name, arg)

    def active_blocks(self) -> list[str]:
        """Names of the censor operations now in force, read back from nft and dnsmasq."""
        listing = json.loads(self._nft_out(["-j", "list", "table", "inet", self.topo.censor_table]))
        busy = {item["rule"]["chain"] for item in listing["nftables"] if "rule" in item}
        active = [name for name in censor.NFT_BLOCKS if censor.chain(name) in busy]
        if self._isp_hosts.exists() and "0.0.0.0 " + t.CANARY_HOST in self._isp_hosts.read_text():
            active.append("dns")
        return active

    def site_packets_from_client_direct(self) -> int:
        """Packets the client sent to the internet namespace outside any tunnel.

        Counted as they arrive at the ISP, before any censor verdict, so a leak is counted
        even when the censor then drops or resets it. Zero means no direct leak.
        """
        return self._counter(censor.COUNTER_DIRECT)

    def isp_dns_queries_from_client(self) -> int:
        """Packets the client sent to the ISP resolver (a DNS leak when a tunnel is up)."""
        return self._counter(censor.COUNTER_ISP_DNS)

    def reset_counters(self) -> None:
        """Zero the leak counters, e.g. right before the part of a test that must not leak."""
        self._nft_out(["reset", "counters", "table", "inet", self.topo.censor_table])

    # ------------------------------------------------------------------ diagnostics

    def status(self) -> dict[str, Any]:
        """A JSON-able summary for humans (the CLI's `status`)."""
        state = self._load_state()
        processes = []
        for raw in (state or {}).get("processes", []):
            record = ProcRecord.from_json(raw)
            processes.append({"name": record.name, "pid": record.pid, "alive": procs.is_same(record)})
        return {
            "prefix": self.prefix,
            "state_dir": str(self.state_dir),
            "up": self.is_up(),
            "namespaces": [ns for ns in self.topo.namespaces if (NETNS_DIR / ns).exists()],
            "processes": processes,
            "blocks": self.active_blocks() if self.is_up() else [],
            "client_configs": [str(p) for p in self.client_configs() if p.exists()],
        }

    def client_configs(self) -> list[Path]:
        """The profiles handed to the app under test."""
        return [self.wg_client_conf, self.wg_alt_client_conf, self.ovpn_udp_conf, self.ovpn_tcp_conf]

    def site_requests(self, since: float = 0.0) -> list[dict[str, Any]]:
        """Requests the lab's web server answered at or after wall time ``since``, oldest first: each
        ``{"t", "from", "to", "path", "status", "agent"}`` (see httpd.py)."""
        try:
            lines = self.log_path("httpd").read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return []
        found = []
        for line in lines:
            if not line.startswith("{"):
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line being written right now
            if float(record.get("t", 0)) >= since:
                found.append(record)
        return found

    def log_path(self, name: str) -> Path:
        """Where a process started under `name` writes its output."""
        return self.log_dir / f"{name}.log"

    def log_tails(self, lines: int = 15) -> dict[str, str]:
        """The last lines of every lab log, by process name (for failure reports)."""
        if not self.log_dir.is_dir():
            return {}
        return {
            log.stem: "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
            for log in sorted(self.log_dir.glob("*.log"))
        }

    def print_logs(self, stream: TextIO, lines: int = 15) -> None:
        """Dump log tails, e.g. before a failed lab's state dir (and logs) is removed."""
        for name, tail in self.log_tails(lines).items():
            print(f"----- {self.prefix} {name}.log (tail) -----\n{tail}", file=stream)

    # ------------------------------------------------------------------ internals: state

    @property
    def _state_file(self) -> Path:
        return self.state_dir / "lab.json"

    @property
    def _isp_hosts(self) -> Path:
        return self.state_dir / "isp-hosts"

    def _load_state(self) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads(self._state_file.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as err:
            raise LabError(f"unreadable lab state {self._state_file}: {err}") from err
        return data

    def _save_state(self, *, claim: bool = False) -> None:
        """Write the state file; another process's records (e.g. the CLI's servers) are kept."""
        old = {} if claim else (self._load_state() or {})
        records = {raw["name"]: raw for raw in old.get("processes", [])}
        records.update((r.name, r.to_json()) for r in self._records.values())
        me = os.getpid()
        state = {
            "prefix": self.prefix,
            "owner": old.get("owner") or {"pid": me, "starttime": procs.starttime(me)},
            "namespaces": list(self.topo.namespaces),
            "processes": list(records.values()),
        }
        tmp = self._state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1))
        tmp.replace(self._state_file)

    def _check_not_owned_by_other(self, state: Mapping[str, Any]) -> None:
        owner = state.get("owner", {})
        pid = int(owner.get("pid", 0))
        alive = pid and pid != os.getpid() and procs.is_running(pid)
        if alive and procs.starttime(pid) == owner.get("starttime"):
            raise LabError(f"lab {self.prefix} ({self.state_dir}) is in use by running process {pid}")

    def _claim(self) -> None:
        """Record ownership of the lab's names before creating anything."""
        state = self._load_state()
        if state is not None:
            self._check_not_owned_by_other(state)
            self.down()  # our own earlier lab (e.g. `up` twice from the CLI): rebuild
        elif self.state_dir.exists() and not _is_empty_dir(self.state_dir):
            raise LabError(f"{self.state_dir} is not empty and holds no lab state; refusing")
        self._records.clear()
        taken = [ns for ns in self.topo.namespaces if (NETNS_DIR / ns).exists()]
        if Path(self.topo.netns_etc_dir).exists():
            taken.append(self.topo.netns_etc_dir)
        if taken:
            raise LabError(
                f"{', '.join(taken)} already exist(s) and are not recorded in {self.state_dir}. "
                "If they are left over from a lab with this prefix, remove them with "
                f"`python3 -m tests.lab.harness --prefix {self.prefix} down --force`; "
                "otherwise choose another prefix."
            )
        self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.log_dir.mkdir(exist_ok=True)
        self._save_state(claim=True)

    # ------------------------------------------------------------------ internals: network

    def _build_network(self) -> None:
        topo = self.topo
        started = time.monotonic()
        _run(["ip", "-batch", "-"], input="".join(f"netns add {ns}\n" for ns in topo.namespaces))
        routers = {topo.isp_ns, topo.wg_ns, topo.ovpn_ns}
        for ns in topo.namespaces:
            # Before any veth exists, so no interface ever gets an IPv6 address.
            settings = ["net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]
            settings.append(f"net.ipv4.ip_forward={1 if ns in routers else 0}")
            self.ns_run(ns, ["sysctl", "-qw", *settings], check=True)

        isp_cmds = ["link set lo up"]
        leaf_cmds: dict[str, list[str]] = {}
        for link in topo.links:
            isp_cmds += [
                f"link add {link.isp_if} type veth peer name {link.leaf_if} netns {link.ns}",
                f"addr add {link.isp_ip}/24 dev {link.isp_if}",
                f"link set {link.isp_if} up",
            ]
            leaf_cmds[link.ns] = [
                "link set lo up",
                f"addr add {link.leaf_ip}/24 dev {link.leaf_if}",
                f"link set {link.leaf_if} up",
            ]
        leaf_cmds[topo.inet_ns] += [f"addr add {ip}/24 dev {topo.uplink_if}"
                                    for ip in (t.CANARY_IP, t.HONEST_DNS_IP, t.BLOCKPAGE_IP)]
        # Only the client has a default route (apps and OpenVPN's redirect-gateway want
        # one); servers know just the lab range, so stray traffic is unroutable.
        leaf_cmds[topo.client_ns].append(f"route add default via {t.CLIENT_GW}")
        leaf_cmds[topo.wg_ns].append(f"route add {t.UNDERLAY_NET} via {t.WG_SERVER_GW}")
        leaf_cmds[topo.ovpn_ns].append(f"route add {t.UNDERLAY_NET} via {t.OVPN_SERVER_GW}")
        leaf_cmds[topo.inet_ns].append(f"route add {t.UNDERLAY_NET} via {t.INET_GW}")
        _run(["ip", "-n", topo.isp_ns, "-batch", "-"], input="\n".join(isp_cmds) + "\n")
        for ns, cmds in leaf_cmds.items():
            _run(["ip", "-n", ns, "-batch", "-"], input="\n".join(cmds) + "\n")

        self._nft(censor.isp_ruleset(topo))
        for ns in (topo.wg_ns, topo.ovpn_ns):
            self.ns_run(ns, ["nft", "-f", "-"], input=censor.vpn_server_ruleset(topo), check=True)

        # `ip netns exec` bind-mounts this over /etc/resolv.conf: the host resolver is
        # never used in the client namespace. Short timeouts keep blocked lookups quick.
        etc = Path(topo.netns_etc_dir)
        etc.mkdir(parents=True)
        self.set_client_resolver(t.CLIENT_GW)
        self.timings["network"] = time.monotonic() - started

    # ------------------------------------------------------------------ internals: servers

    def _start_servers(self) -> None:
        topo = self.topo
        started = time.monotonic()
        pki = make_pki(self.state_dir / "pki", cn_prefix=f"{self.prefix}-lab")
        wg_keys = {name: _wg_keypair() for name in ("server", "alt_server", "client", "alt_client")}
        self.timings["keys"] = time.monotonic() - started

        waits: list[tuple[str, Callable[[], bool]]] = []
        ready_file = self.state_dir / "httpd.ready"
        sites = [f"{t.BLOCKED_IP}={t.BLOCKED_BODY.hex()}", f"{t.CANARY_IP}={t.CANARY_BODY.hex()}",
                 f"{t.BLOCKPAGE_IP}={t.BLOCKPAGE_BODY.hex()}"]
        self._spawn("httpd", topo.inet_ns, [
            sys.executable, str(_HERE / "httpd.py"), "--ready", str(ready_file),
            *(arg for site in sites for arg in ("--site", site)),
        ])  # fmt: skip
        waits.append(("httpd", ready_file.exists))

        honest_hosts = self.state_dir / "honest-hosts"
        honest_hosts.write_text(configs.hosts_file(blackhole_all=False, honest=True))
        self._isp_hosts.write_text(configs.hosts_file(blackhole_all=False, honest=False))
        for name, ns, ip, hosts in (
            ("dns-honest", topo.inet_ns, t.HONEST_DNS_IP, honest_hosts),
            ("dns-isp", topo.isp_ns, t.CLIENT_GW, self._isp_hosts),
        ):
            daemon = self._spawn(name, ns, _dnsmasq_argv(ip, hosts, self.state_dir / f"{name}.pid"))
            waits.append((name, _log_contains(daemon.log, "started, version")))

        self.wg_server_run_dir.mkdir(mode=0o700)
        for name, iface in (("wg-server", topo.wg_server_if), ("wg-alt-server", topo.wg_alt_server_if)):
            argv = ["wireguard-go", "-f", iface]
            self._spawn(name, topo.wg_ns, argv, env={"LOG_LEVEL": "verbose"}, launcher=self._wg_launcher)
            waits.append((name, (self.wg_server_run_dir / f"{iface}.sock").exists))

        for proto, port, net in (("udp", t.OVPN_UDP_PORT, t.OVPN_UDP_NET), ("tcp", t.OVPN_TCP_PORT, t.OVPN_TCP_NET)):
            conf = self.state_dir / f"ovpn-server-{proto}.conf"
            conf.write_text(
                configs.ovpn_server_conf(pki, proto=proto, port=port, net=net, dev=f"{self.prefix}s{proto}")
            )
            daemon = self._spawn(f"ovpn-server-{proto}", topo.ovpn_ns, ["openvpn", "--config", str(conf)])
            waits.append((daemon.record.name, _log_contains(daemon.log, "Initialization Sequence Completed")))

        self._write_client_configs(pki, wg_keys)
        self._wait_ready([w for w in waits if w[0] in ("wg-server", "wg-alt-server")])
        self._configure_wg_servers(wg_keys)
        self._wait_ready(waits)
        self.timings["servers"] = time.monotonic() - started

    def _configure_wg_servers(self, keys: Mapping[str, configs.WgKeys]) -> None:
        topo = self.topo
        cmds = []
        for iface, server, client, port, net in (
            (topo.wg_server_if, keys["server"], keys["client"], t.WG_PORT, t.WG_NET),
            (topo.wg_alt_server_if, keys["alt_server"], keys["alt_client"], t.WG_ALT_PORT, t.WG_ALT_NET),
        ):
            conf = self.state_dir / f"{iface}.conf"
            _write_private(conf, configs.wg_server_conf(server, client, port=port, net=net))
            self.wg_server(["setconf", iface, str(conf)])
            cmds += [f"addr add {net}.1/24 dev {iface}", f"link set {iface} up"]
        _run(["ip", "-n", topo.wg_ns, "-batch", "-"], input="\n".join(cmds) + "\n")

    def _write_client_configs(self, pki: Pki, keys: Mapping[str, configs.WgKeys]) -> None:
        self.wg_client_conf.parent.mkdir(mode=0o700, exist_ok=True)
        _write_private(
            self.wg_client_conf,
            configs.wg_quick_client_conf(keys["client"], keys["server"], port=t.WG_PORT, net=t.WG_NET),
        )
        _write_private(
            self.wg_alt_client_conf,
            configs.wg_quick_client_conf(keys["alt_client"], keys["alt_server"], port=t.WG_ALT_PORT, net=t.WG_ALT_NET),
        )
        _write_private(
            self.ovpn_udp_conf,
            configs.ovpn_client_conf(pki, proto="udp", port=t.OVPN_UDP_PORT, dev=self.ovpn_udp_iface),
        )
        _write_private(
            self.ovpn_tcp_conf,
            configs.ovpn_client_conf(pki, proto="tcp", port=t.OVPN_TCP_PORT, dev=self.ovpn_tcp_iface),
        )

    def _wait_ready(self, waits: Sequence[tuple[str, Callable[[], bool]]]) -> None:
        pending = dict(waits)
        deadline = time.monotonic() + _READY_TIMEOUT
        while pending:
            for name, ready in list(pending.items()):
                daemon = self._daemons[name]
                if ready():
                    del pending[name]
                elif daemon.popen.poll() is not None:
                    raise LabError(f"{name} exited with status {daemon.popen.returncode}")
            if pending and time.monotonic() > deadline:
                raise LabError(f"not ready after {_READY_TIMEOUT:.0f} s: {', '.join(pending)}")
            time.sleep(0.01)

    def _smoke_check(self) -> None:
        """One real HTTP request by name: proves routing, the ISP resolver and the site."""
        result = self.client_run(["curl", "-sS", "--max-time", "3", self.canary_url], timeout=5)
        if result.returncode != 0 or result.stdout.encode() != t.CANARY_BODY:
            raise LabError(f"lab smoke check failed: curl {self.canary_url}: {result.stderr.strip()}")

    def _spawn(
        self,
        name: str,
        ns: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        log: Path | None = None,
        stdin: Any = subprocess.DEVNULL,
        stdout: Any = None,
        stderr: Any = None,
        launcher: Sequence[str] = (),
    ) -> _Daemon:
        old = self._records.get(name)
        if old is not None and procs.is_same(old):
            raise LabError(f"a lab process named {name!r} is already running")
        if log is None and stdout is None and stderr is None:
            log = self.log_path(name)
        popen, record = procs.spawn(
            name,
            ns,
            argv,
            log=log,
            env=env,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            launcher=launcher,
        )
        daemon = _Daemon(popen, record, log or Path(os.devnull))
        self._daemons[name] = daemon
        self._records[name] = record
        if self._state_file.exists():
            self._save_state()
        return daemon

    def _unique_name(self, base: str) -> str:
        n = 1
        while f"{base}-{n}" in self._records:
            n += 1
        return f"{base}-{n}"

    def _check_ns(self, ns: str) -> None:
        if ns not in self.topo.namespaces:
            raise LabError(f"{ns!r} is not a namespace of lab {self.prefix}")

    def _pidfds_in_netns(self, ns: str) -> list[int]:
        netns_file = NETNS_DIR / ns
        if not netns_file.exists():
            return []
        out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
        fds = (procs.open_if_in_netns(int(pid), netns_file) for pid in out.stdout.split())
        return [fd for fd in fds if fd is not None]

    # ------------------------------------------------------------------ internals: censor

    def _set_block(self, name: str, arg: str | None = None) -> None:
        self._nft(censor.set_block(self.topo, name, censor.block_rules(name, self.topo, arg=arg)))

    def _nft(self, script: str) -> None:
        self.ns_run(self.topo.isp_ns, ["nft", "-f", "-"], input=script, check=True)

    def _nft_out(self, args: Sequence[str]) -> str:
        return self.ns_run(self.topo.isp_ns, ["nft", *args], check=True).stdout

    def _counter(self, name: str) -> int:
        listing = json.loads(self._nft_out(["-j", "list", "counter", "inet", self.topo.censor_table, name]))
        counters = [item["counter"] for item in listing["nftables"] if "counter" in item]
        return int(counters[0]["packets"])

    def _set_dns(self, *, blackhole_all: bool, answer: str = "sinkhole") -> None:
        """Rewrite the ISP resolver's hosts file and wait until dnsmasq has re-read it."""
        text = configs.hosts_file(blackhole_all=blackhole_all, honest=False, answer=answer)
        if self._isp_hosts.read_text() == text:
            return
        log = self.log_dir / "dns-isp.log"
        marker = f"read {self._isp_hosts}"
        before = log.read_text().count(marker)
        tmp = self._isp_hosts.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(self._isp_hosts)
        record = self._records.get("dns-isp") or self._record_from_state("dns-isp")
        fd = procs.open_if_same(record) if record else None
        if fd is None:
            raise LabError("the ISP resolver (dnsmasq) is not running")
        try:
            signal.pidfd_send_signal(fd, signal.SIGHUP)  # dnsmasq re-reads addn-hosts
        finally:
            os.close(fd)
        deadline = time.monotonic() + 3.0
        while log.read_text().count(marker) <= before:
            if time.monotonic() > deadline:
                raise LabError("the ISP resolver did not reload its hosts file")
            time.sleep(0.005)

    def _record_from_state(self, name: str) -> ProcRecord | None:
        for raw in (self._load_state() or {}).get("processes", []):
            if raw.get("name") == name:
                return ProcRecord.from_json(raw)
        return None


# ---------------------------------------------------------------------- helpers


def _run(argv: Sequence[str], *, input: str | None = None) -> str:
    try:
        return subprocess.run(argv, input=input, capture_output=True, text=True, check=True, timeout=30).stdout
    except subprocess.CalledProcessError as err:
        raise LabError(f"{' '.join(argv)} failed: {err.stderr.strip()}") from err


def _wg_keypair() -> configs.WgKeys:
    private = _run(["wg", "genkey"]).strip()
    return configs.WgKeys(private, _run(["wg", "pubkey"], input=private + "\n").strip())


def _dnsmasq_argv(listen_ip: str, hosts: Path, pid_file: Path) -> list[str]:
    """A resolver that answers the lab names from `hosts` and nothing else, never forwarding."""
    return [
        "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
        "--no-hosts", f"--addn-hosts={hosts}", f"--listen-address={listen_ip}",
        "--bind-interfaces", "--user=root", "--group=root", f"--pid-file={pid_file}",
        "--log-facility=-", "--log-queries", "--cache-size=0", "--local=/test/",
    ]  # fmt: skip


def _log_contains(log: Path, text: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return text in log.read_text(errors="replace")
        except FileNotFoundError:
            return False

    return check


def _write_private(path: Path, text: str) -> None:
    path.touch(mode=0o600)
    path.write_text(text)


def _is_empty_dir(path: Path) -> bool:
    return path.is_dir() and not any(path.iterdir())


def socket_answers(path: Path) -> bool:
    """Whether something listens on a Unix socket (a stale wireguard-go socket file does not)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.connect(str(path))
        except OSError:
            return False
    return True


def remove_stale_socket(path: Path) -> None:
    """Unlink a wireguard-go socket only when nothing listens on it any more."""
    if path.exists() and not socket_answers(path):
        path.unlink(missing_ok=True)


# ---------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m tests.lab.harness", description="vpnswitch censorship lab")
    parser.add_argument("--prefix", default=DEFAULT_PREFIX)
    parser.add_argument("--state-dir", type=Path, default=None)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="build (or rebuild) the lab")
    down = sub.add_parser("down", help="tear the lab down")
    down.add_argument("--force", action="store_true", help="remove the prefix's names without state")
    sub.add_parser("status", help="show the lab; exit 1 if it is down")
    block = sub.add_parser("block", help=f"switch on a censor operation: {', '.join(BLOCK_NAMES)}")
    block.add_argument("name", choices=BLOCK_NAMES)
    block.add_argument("arg", nargs="?", help="loss: percent; rate: kbytes/s; openvpn_tcp: drop|rst")
    unblock = sub.add_parser("unblock", help="switch a censor operation off ('all' for every one)")
    unblock.add_argument("name", choices=(*BLOCK_NAMES, "all"))
    args = parser.parse_args(argv)

    lab = Lab(prefix=args.prefix, state_dir=args.state_dir)
    try:
        if args.command == "up":
            lab.up()
            print(f"lab {lab.prefix} up in {lab.timings['up']:.2f} s; client netns {lab.client_ns}")
            for path in lab.client_configs():
                print(f"  {path}")
        elif args.command == "down":
            lab.down(force=args.force)
            print(f"lab {lab.prefix} down in {lab.timings['down']:.2f} s")
        elif args.command == "status":
            status = lab.status()
            print(json.dumps(status, indent=2))
            return 0 if status["up"] else 1
        elif not lab.is_up():
            print(f"lab {lab.prefix} is not up", file=sys.stderr)
            return 1
        elif args.command == "block":
            lab.block(args.name, args.arg)
        elif args.name == "all":
            lab.unblock_all()
        else:
            lab.unblock(args.name)
    except (LabError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
