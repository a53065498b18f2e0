"""A private Tor network inside the censorship lab: one directory authority, three relays
(one of them the only exit), and an unlisted obfs4 bridge, all stock `tor` in a namespace
of their own behind the lab's ISP.

    <p>-tor  10.99.30.2  auth0 (OR 5000, Dir 7000), relay1 (5001), relay2 (5002), exit0 (5003)
             10.99.30.3  bridge0: plain ORPort 9001 and obfs4 on 443 (never published)
             ── 10.99.30.1 ── <p>-isp (router + censor) ── <p>-inet (the blocked site)

Nothing here touches the harness core: the namespace hangs off the ISP router with one
more veth pair, and the Tor censor lives in a table of its own in the ISP namespace.
The options follow the recipe measured for this kind of machine (TestingTorNetwork, short
voting intervals, no GeoIP, AssumeReachable, RefuseUnknownExits 0, DirCache 0 on the exit,
a loopback-only resolver for the exit's DNS hijack tests switched off). The exit accepts
*:80 and *:443 (a policy that names private addresses is summarised as reject-all in
microdescriptors); the namespace firewall keeps every packet inside 10.99.0.0/16.

State (what was created, which processes run) is kept in its own directory, outside the
lab's, so a run that was killed outright is cleaned up by the next `up()` even though the
lab's own teardown never knew about this namespace.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.lab import procs
from tests.lab import topology as t
from tests.lab.harness import NETNS_DIR, STATE_ROOT, Lab, LabError
from tests.lab.procs import ProcRecord

TOR_NET = "10.99.30.0/24"
TOR_GW = "10.99.30.1"
RELAY_IP = "10.99.30.2"
BRIDGE_IP = "10.99.30.3"
AUTH_DIRPORT = 7000
BRIDGE_ORPORT = 9001
BRIDGE_OBFS4_PORT = 443
OBFS4PROXY = "/usr/bin/obfs4proxy"

# nickname -> ORPort. Nicknames must match [A-Za-z0-9]{1,19}.
AUTHORITY = "auth0"
RELAYS = {"auth0": 5000, "relay1": 5001, "relay2": 5002, "exit0": 5003}
EXIT = "exit0"
GUARDS = ("auth0", "relay1", "relay2")  # the exit is never also a guard
BRIDGE = "bridge0"

REQUIRED_PROGRAMS = {"tor": "tor", "tor-gencert": "tor", "obfs4proxy": "obfs4proxy"}
UP_TIMEOUT = 120.0


@dataclass(frozen=True)
class TorNetInfo:
    """What a client of the private network needs."""

    dir_authority: str  # the DirAuthority line's value
    bridge_line: str  # "obfs4 10.99.30.3:443 FP cert=... iat-mode=0"
    plain_bridge_line: str  # "10.99.30.3:9001 FP" (the same bridge without obfs4)

    def client_torrc_lines(self) -> list[str]:
        """Options a client needs on this network (on top of its own SocksPort/ControlPort...)."""
        return [
            "TestingTorNetwork 1",
            f"DirAuthority {self.dir_authority}",
            "UseDefaultFallbackDirs 0",
            "ClientUseIPv6 0",
            "PathsNeededToBuildCircuits 0.67",
        ]

    def profile(self, name: str = "tor", *, bridges: Sequence[str] = (), standby: bool = False,
                socks_port: int | None = None, stall: float = 15.0) -> dict[str, Any]:
        """A vpnswitch ``tor`` profile (config-file form) for this network."""
        params: dict[str, Any] = {"torrc": self.client_torrc_lines(), "standby": standby, "bootstrap_stall": stall}
        if bridges:
            params["bridges"] = list(bridges)
        if socks_port:
            params["socks_port"] = socks_port
        return {"name": name, "backend": "tor", "params": params}


class TorNet:
    """The private Tor network of one lab; use as a context manager or up()/down()."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.prefix = lab.prefix
        self.ns = f"{lab.prefix}-tor"
        self.isp_if = f"{lab.prefix}-tor"
        self.leaf_if = lab.topo.uplink_if
        self.censor_table = f"{lab.prefix}_torcensor"
        # "-" never occurs in a lab prefix, so this can never be another lab's state dir.
        self.state_dir = STATE_ROOT / f"{lab.prefix}-tor"
        self.info: TorNetInfo | None = None
        self.timings: dict[str, float] = {}
        self._popens: dict[str, subprocess.Popen[bytes]] = {}
        self._records: dict[str, ProcRecord] = {}

    def __enter__(self) -> TorNet:
        self.up()
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()

    # ------------------------------------------------------------------ prerequisites

    @staticmethod
    def missing_prerequisites() -> list[str]:
        missing = {prog: pkg for prog, pkg in REQUIRED_PROGRAMS.items() if not shutil.which(prog)}
        if not missing:
            return []
        packages = " ".join(sorted(set(missing.values())))
        return [
            f"missing programs: {', '.join(missing)}; install with "
            f"`apt-get install -y --no-install-recommends {packages}`"
        ]

    # ------------------------------------------------------------------ lifecycle

    def up(self, timeout: float = UP_TIMEOUT) -> TorNetInfo:
        """Build the namespace, start the network, wait until a client could use it."""
        problems = Lab.missing_prerequisites() + self.missing_prerequisites()
        if problems:
            raise LabError("private Tor network prerequisites missing: " + "; ".join(problems))
        if not self.lab.is_up():
            raise LabError(f"lab {self.prefix} is not up: bring it up before its Tor network")
        started = time.monotonic()
        self._claim()
        try:
            self._build_network()
            fingerprints, v3ident = self._make_keys()
            self.info = self._start_nodes(fingerprints, v3ident, started + timeout)
        except BaseException:
            self.print_logs(sys.stderr)
            self.down()
            raise
        self._save_state()
        self.timings["up"] = time.monotonic() - started
        return self.info

    def load_info(self) -> TorNetInfo:
        """The client facts of a network another process brought up (e.g. with the CLI)."""
        raw = (self._load_state() or {}).get("info")
        if not raw:
            raise LabError(f"no private Tor network is up for lab {self.prefix}")
        self.info = TorNetInfo(**raw)
        return self.info

    def down(self) -> None:
        """Stop every process of the network, delete its namespace, censor table and state."""
        state = self._load_state()
        records = dict(self._records)
        for raw in (state or {}).get("processes", []):
            record = ProcRecord.from_json(raw)
            records.setdefault(record.name, record)
        fds = [fd for fd in map(procs.open_if_same, records.values()) if fd is not None]
        ns_file = NETNS_DIR / self.ns
        if ns_file.exists() and (state is not None or self._records):
            out = subprocess.run(["ip", "netns", "pids", self.ns], capture_output=True, text=True)
            fds += [
                fd for fd in (procs.open_if_in_netns(int(p), ns_file) for p in out.stdout.split()) if fd is not None
            ]
        survivors = procs.stop(fds)
        for popen in self._popens.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                popen.wait(timeout=1.0)
        self._popens.clear()
        self._records.clear()
        if state is not None or self.info is not None:
            if ns_file.exists():
                subprocess.run(["ip", "netns", "del", self.ns], check=False, capture_output=True)
            if (NETNS_DIR / self.lab.isp_ns).exists():
                subprocess.run(
                    ["ip", "netns", "exec", self.lab.isp_ns, "nft", "delete", "table", "inet", self.censor_table],
                    check=False,
                    capture_output=True,
                )
            shutil.rmtree(self.state_dir, ignore_errors=True)
        self.info = None
        if survivors:
            raise LabError(f"{survivors} Tor process(es) did not exit even after SIGKILL")

    def leftovers(self) -> list[str]:
        found = [f"netns {self.ns}"] if (NETNS_DIR / self.ns).exists() else []
        if self.state_dir.exists():
            found.append(f"path {self.state_dir}")
        return found

    # ------------------------------------------------------------------ censor

    def block_relays(self) -> None:
        """The client can no longer reach any listed relay nor the bridge's plain ORPort;
        the unlisted obfs4 port of the bridge stays open (what bridges are for)."""
        c = t.CLIENT_IP
        self._set_censor(
            [
                f"ip saddr {c} ip daddr {RELAY_IP} drop",
                f"ip saddr {RELAY_IP} ip daddr {c} drop",
                f"ip saddr {c} ip daddr {BRIDGE_IP} tcp dport {BRIDGE_ORPORT} drop",
                f"ip saddr {BRIDGE_IP} ip daddr {c} tcp sport {BRIDGE_ORPORT} drop",
            ]
        )

    def block_all(self) -> None:
        """Nothing of the Tor network is reachable from the client, bridge included."""
        c = t.CLIENT_IP
        self._set_censor([f"ip saddr {c} ip daddr {TOR_NET} drop", f"ip saddr {TOR_NET} ip daddr {c} drop"])

    def unblock(self) -> None:
        self._set_censor([])

    def _set_censor(self, rules: Sequence[str]) -> None:
        tbl = f"inet {self.censor_table}"
        script = [f"flush chain {tbl} blk_tor", *(f"add rule {tbl} blk_tor {rule}" for rule in rules)]
        self.lab.ns_run(self.lab.isp_ns, ["nft", "-f", "-"], input="\n".join(script) + "\n", check=True)

    # ------------------------------------------------------------------ diagnostics

    def log_path(self, name: str) -> Path:
        return self.state_dir / "logs" / f"{name}.log"

    def print_logs(self, stream: Any, lines: int = 15) -> None:
        logs = self.state_dir / "logs"
        if not logs.is_dir():
            return
        for log in sorted(logs.glob("*.log")):
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
            print(f"----- {self.prefix} tor {log.stem}.log (tail) -----\n{tail}", file=stream)

    def ns_run(
        self,
        argv: Sequence[str],
        *,
        timeout: float = 10.0,
        input: str | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            procs.netns_exec_argv(self.ns, argv),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=check,
        )

    # ------------------------------------------------------------------ internals

    @property
    def _state_file(self) -> Path:
        return self.state_dir / "tornet.json"

    def _load_state(self) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads(self._state_file.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as err:
            raise LabError(f"unreadable Tor network state {self._state_file}: {err}") from err
        return data

    def _save_state(self) -> None:
        state = {
            "prefix": self.prefix,
            "namespace": self.ns,
            "processes": [r.to_json() for r in self._records.values()],
            "info": self.info.__dict__ if self.info is not None else None,
        }
        tmp = self._state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1))
        tmp.replace(self._state_file)

    def _claim(self) -> None:
        if self._load_state() is not None:
            self.down()  # left over from a run that was killed: ours to clean up
        if (NETNS_DIR / self.ns).exists():
            raise LabError(f"namespace {self.ns} exists but is not recorded in {self.state_dir}; refusing")
        self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        (self.state_dir / "logs").mkdir(exist_ok=True)
        self._save_state()

    def _build_network(self) -> None:
        started = time.monotonic()
        isp = self.lab.isp_ns
        _run(["ip", "netns", "add", self.ns])
        _run(
            [
                "ip",
                "netns",
                "exec",
                self.ns,
                "sysctl",
                "-qw",
                "net.ipv6.conf.all.disable_ipv6=1",
                "net.ipv6.conf.default.disable_ipv6=1",
                "net.ipv4.ip_forward=0",
            ]
        )
        _run(
            ["ip", "-n", isp, "-batch", "-"],
            input="\n".join(
                [
                    f"link add {self.isp_if} type veth peer name {self.leaf_if} netns {self.ns}",
                    f"addr add {TOR_GW}/24 dev {self.isp_if}",
                    f"link set {self.isp_if} up",
                ]
            )
            + "\n",
        )
        _run(
            ["ip", "-n", self.ns, "-batch", "-"],
            input="\n".join(
                [
                    "link set lo up",
                    f"addr add {RELAY_IP}/24 dev {self.leaf_if}",
                    f"addr add {BRIDGE_IP}/24 dev {self.leaf_if}",
                    f"link set {self.leaf_if} up",
                    f"route add {t.UNDERLAY_NET} via {TOR_GW}",
                ]
            )
            + "\n",
        )
        # Defence in depth: whatever tor tries, nothing leaves for an address outside the lab.
        guard = "inet vsltor_guard"
        self.ns_run(
            ["nft", "-f", "-"],
            input="\n".join(
                [
                    f"add table {guard}",
                    f"add chain {guard} out {{ type filter hook output priority filter; policy drop; }}",
                    f'add rule {guard} out oifname "lo" accept',
                    f"add rule {guard} out ip daddr {t.UNDERLAY_NET} accept",
                ]
            )
            + "\n",
        )
        tbl = f"inet {self.censor_table}"
        self.lab.ns_run(
            isp,
            ["nft", "-f", "-"],
            check=True,
            input="\n".join(
                [
                    f"add table {tbl}",
                    f"add chain {tbl} blk_tor",
                    f"add chain {tbl} tor_forward {{ type filter hook forward priority filter - 5; policy accept; }}",
                    f"add rule {tbl} tor_forward jump blk_tor",
                ]
            )
            + "\n",
        )
        self.timings["network"] = time.monotonic() - started

    def _node_dir(self, name: str) -> Path:
        return self.state_dir / name

    def _make_keys(self) -> tuple[dict[str, str], str]:
        """Relay identity keys for every node and the authority's v3 keys (RSA-3072: the slow part)."""
        started = time.monotonic()
        for name in (*RELAYS, BRIDGE):
            self._node_dir(name).mkdir(mode=0o700)
        keys = self._node_dir(AUTHORITY) / "keys"
        keys.mkdir(mode=0o700)
        gencert = subprocess.Popen(
            [
                "tor-gencert",
                "--create-identity-key",
                "-m",
                "12",
                "-a",
                f"{RELAY_IP}:{AUTH_DIRPORT}",
                "-i",
                str(keys / "authority_identity_key"),
                "-s",
                str(keys / "authority_signing_key"),
                "-c",
                str(keys / "authority_certificate"),
                "--passphrase-fd",
                "0",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        fingerprints = {}
        for name in (*RELAYS, BRIDGE):
            directory = self._node_dir(name)
            port = RELAYS.get(name, BRIDGE_ORPORT)
            _run(
                [
                    "tor",
                    "--list-fingerprint",
                    "--quiet",
                    "--DataDirectory",
                    str(directory),
                    "--ORPort",
                    str(port),
                    "--Nickname",
                    name,
                    "--SocksPort",
                    "0",
                    "--DirAuthority",
                    "dummy 127.0.0.1:1 " + "f" * 40,
                    "--GeoIPFile",
                    str(self._empty_file()),
                    "--GeoIPv6File",
                    str(self._empty_file()),
                ]
            )
            fingerprints[name] = (directory / "fingerprint").read_text().split()[1]
        out, _ = gencert.communicate(input="\n", timeout=60)
        if gencert.returncode != 0:
            raise LabError(f"tor-gencert failed: {out.strip()}")
        cert = (keys / "authority_certificate").read_text()
        match = re.search(r"^fingerprint ([0-9A-F]{40})$", cert, re.MULTILINE)
        if not match:
            raise LabError("tor-gencert wrote no fingerprint")
        self.timings["keys"] = time.monotonic() - started
        return fingerprints, match.group(1)

    def _empty_file(self) -> Path:
        path = self.state_dir / "empty"
        path.touch()
        return path

    def _common(self, name: str, dir_authority: str) -> list[str]:
        directory = self._node_dir(name)
        resolv = self.state_dir / "resolv.conf"
        resolv.write_text(f"nameserver {t.HONEST_DNS_IP}\n")  # the lab's own resolver, never a real one
        return [
            "TestingTorNetwork 1",
            f"DataDirectory {directory}",
            f"Nickname {name}",
            "RunAsDaemon 0",
            "Log notice stdout",
            "SafeLogging 0",
            "ShutdownWaitLength 0",
            "SocksPort 0",
            f"DirAuthority {dir_authority}",
            "UseDefaultFallbackDirs 0",
            "ClientUseIPv6 0",
            "AddressDisableIPv6 1",
            f"GeoIPFile {self._empty_file()}",
            f"GeoIPv6File {self._empty_file()}",
            "PathsNeededToBuildCircuits 0.67",
            "AssumeReachable 1",
            f"ServerDNSResolvConfFile {resolv}",
            "ServerDNSDetectHijacking 0",
            "ServerDNSAllowNonRFC953Hostnames 1",
        ]

    def _torrc(self, name: str, fingerprints: dict[str, str], dir_authority: str) -> list[str]:
        lines = self._common(name, dir_authority)
        if name == BRIDGE:
            return lines + [
                f"Address {BRIDGE_IP}",
                f"ORPort {BRIDGE_IP}:{BRIDGE_ORPORT}",
                "BridgeRelay 1",
                "PublishServerDescriptor 0",
                "ExitRelay 0",
                "ExtORPort auto",
                f"ServerTransportPlugin obfs4 exec {OBFS4PROXY}",
                f"ServerTransportListenAddr obfs4 {BRIDGE_IP}:{BRIDGE_OBFS4_PORT}",
            ]
        lines += [f"Address {RELAY_IP}", f"ORPort {RELAY_IP}:{RELAYS[name]}"]
        if name == EXIT:
            lines += [
                "ExitRelay 1",
                "IPv6Exit 0",
                "ExitPolicyRejectPrivate 0",
                "ExitPolicyRejectLocalInterfaces 0",
                "ExitPolicy accept *:80",
                "ExitPolicy accept *:443",
                "ExitPolicy reject *:*",
                "RefuseUnknownExits 0",  # else it refuses streams until it has a consensus of its own
                "DirCache 0",  # else a client asking it too early gets a 404 and backs off ~10 s
            ]
        else:
            lines += ["ExitRelay 0", "ExitPolicy reject *:*"]
        if name == AUTHORITY:
            lines += [
                f"DirPort {RELAY_IP}:{AUTH_DIRPORT}",
                "AuthoritativeDirectory 1",
                "V3AuthoritativeDirectory 1",
                "AuthDirMaxServersPerAddr 0",
                "TestingV3AuthInitialVotingInterval 5",
                "TestingV3AuthInitialVoteDelay 2",
                "TestingV3AuthInitialDistDelay 2",
                "V3AuthVotingInterval 10",
                "V3AuthVoteDelay 2",
                "V3AuthDistDelay 2",
                "V3AuthNIntervalsValid 2",
                f"TestingDirAuthVoteExit {fingerprints[EXIT]}",
                "TestingDirAuthVoteExitIsStrict 1",
                f"TestingDirAuthVoteGuard {','.join(fingerprints[g] for g in GUARDS)}",
                "TestingDirAuthVoteGuardIsStrict 1",
                "TestingDirAuthVoteHSDir *",
                "TestingMinExitFlagThreshold 0",
            ]
        return lines

    def _start_nodes(self, fingerprints: dict[str, str], v3ident: str, deadline: float) -> TorNetInfo:
        started = time.monotonic()
        dir_authority = (
            f"{AUTHORITY} orport={RELAYS[AUTHORITY]} no-v2 v3ident={v3ident} "
            f"{RELAY_IP}:{AUTH_DIRPORT} {fingerprints[AUTHORITY]}"
        )
        for name in (*RELAYS, BRIDGE):
            torrc = self._node_dir(name) / "torrc"
            torrc.write_text("\n".join(self._torrc(name, fingerprints, dir_authority)) + "\n")
            popen, record = procs.spawn(
                name,
                self.ns,
                ["tor", "-f", str(torrc), "--defaults-torrc", str(self._empty_file())],
                log=self.log_path(name),
            )
            self._popens[name] = popen
            self._records[name] = record
            self._save_state()
        self._wait(
            "a consensus listing every relay and the exit", deadline, lambda: self._consensus_ready(fingerprints)
        )
        self.timings["consensus"] = time.monotonic() - started
        bridge_dir = self._node_dir(BRIDGE)
        line_file = bridge_dir / "pt_state" / "obfs4_bridgeline.txt"
        self._wait(
            "the bridge's obfs4 line and its consensus",
            deadline,
            lambda: line_file.exists() and self._has_consensus(bridge_dir),
        )
        cert = re.search(r"cert=(\S+)", line_file.read_text())
        if cert is None:
            raise LabError(f"no cert= in {line_file}")
        fp = fingerprints[BRIDGE]
        self.timings["nodes"] = time.monotonic() - started
        return TorNetInfo(
            dir_authority=dir_authority,
            bridge_line=f"obfs4 {BRIDGE_IP}:{BRIDGE_OBFS4_PORT} {fp} cert={cert.group(1)} iat-mode=0",
            plain_bridge_line=f"{BRIDGE_IP}:{BRIDGE_ORPORT} {fp}",
        )

    def _wait(self, what: str, deadline: float, ready: Any) -> None:
        while not ready():
            for name, popen in self._popens.items():
                if popen.poll() is not None:
                    raise LabError(f"tor node {name} exited with status {popen.returncode}")
            if time.monotonic() > deadline:
                raise LabError(f"private Tor network: no {what} in time")
            time.sleep(0.2)

    def _consensus_ready(self, fingerprints: dict[str, str]) -> bool:
        """The authority published a consensus with all relays, the exit flagged Exit."""
        path = self._node_dir(AUTHORITY) / "cached-consensus"
        try:
            text = path.read_text(errors="replace")
        except FileNotFoundError:
            return False
        flags: dict[str, str] = {}
        current = None
        for line in text.splitlines():
            if line.startswith("r "):
                current = line.split()[1]
            elif line.startswith("s ") and current:
                flags[current] = line
        return (
            all(name in flags for name in RELAYS)
            and " Exit" in flags.get(EXIT, "")
            and all(" Guard" in flags.get(g, "") for g in GUARDS)
        )

    @staticmethod
    def _has_consensus(directory: Path) -> bool:
        return any((directory / name).exists() for name in ("cached-consensus", "cached-microdesc-consensus"))


def _run(argv: Sequence[str], *, input: str | None = None) -> str:
    try:
        return subprocess.run(argv, input=input, capture_output=True, text=True, check=True, timeout=60).stdout
    except subprocess.CalledProcessError as err:
        raise LabError(f"{' '.join(argv)} failed: {(err.stderr or err.stdout).strip()}") from err


# ---------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m tests.lab.tornet", description="the lab's private Tor network (the lab must be up)"
    )
    parser.add_argument("--prefix", default="vsl")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up")
    sub.add_parser("down")
    block = sub.add_parser("block")
    block.add_argument("what", choices=["relays", "all"])
    sub.add_parser("unblock")
    args = parser.parse_args(argv)
    net = TorNet(Lab(prefix=args.prefix))
    try:
        if args.command == "up":
            info = net.up()
            print(
                json.dumps(
                    {"timings": net.timings, "bridge": info.bridge_line, "client_torrc": info.client_torrc_lines()},
                    indent=1,
                )
            )
            # Processes outlive this command; `down` finds them through the state file.
        elif args.command == "down":
            net.down()
        elif args.command == "block":
            net.block_relays() if args.what == "relays" else net.block_all()
        else:
            net.unblock()
    except LabError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    os.umask(0o077)
    sys.exit(main())
