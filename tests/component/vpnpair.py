"""Two network namespaces joined by one veth pair, with real VPN servers in the server one.

The smallest world in which the real WireGuard and OpenVPN backends can be exercised: a server namespace
(wireguard-go, openvpn server, a tiny HTTP server on the tunnel address) and a client namespace in which
the backend under test runs (through ``nsdriver``), exactly as the daemon runs under ``ip netns exec``.
No veth touches the root namespace, so nothing here can reach a real network. Everything created is
named after a random prefix and removed on close: processes inside the namespaces (by PID), the
namespaces, and the wireguard-go control sockets of the interfaces it named.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.component.nsdriver import Driver, driver_env
from tests.conftest import in_ci
from tests.lab.pki import Pki, make_pki

SERVER_IP = "10.97.0.1"
CLIENT_IP = "10.97.0.2"
DEAD_GATEWAY = "10.97.0.254"
INTERNET_IP = "10.95.0.1"
INTERNET_URL = f"http://{INTERNET_IP}:8080/"
WG_NET = "10.96.1"
WG_RUN_DIR = Path("/var/run/wireguard")
NETNS_DIR = Path("/run/netns")
PAGE = "vpnswitch component test page\n"

PACKAGES = {"ip": "iproute2", "wireguard-go": "wireguard-go", "wg": "wireguard-tools",
            "wg-quick": "wireguard-tools", "nft": "nftables", "openvpn": "openvpn", "openssl": "openssl",
            "setpriv": "util-linux"}
WIREGUARD_PROGRAMS = ("ip", "wireguard-go", "wg", "wg-quick", "nft")
OPENVPN_PROGRAMS = ("ip", "openvpn", "openssl", "setpriv")


def missing_prerequisites(programs: Sequence[str]) -> list[str]:
    problems = []
    if os.geteuid() != 0:
        problems.append("must run as root (network namespaces, TUN devices)")
    for program in programs:
        if shutil.which(program) is None:
            problems.append(f"{program} is missing (Debian package {PACKAGES[program]})")
    if not Path("/dev/net/tun").exists():
        problems.append("/dev/net/tun is missing")
    return problems


def require_prerequisites(programs: Sequence[str]) -> None:
    """Skip when the machine cannot run these tests, but FAIL under CI=true: CI must run them."""
    problems = missing_prerequisites(programs)
    if not problems:
        return
    message = "real VPN component tests need: " + "; ".join(problems)
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def report_timings(request: pytest.FixtureRequest, what: str, timings: dict[str, float]) -> None:
    """Print measured connect times under the test summary (measured, never asserted)."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or not timings:
        return
    with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
        reporter.write_line("")
        for name, seconds in sorted(timings.items()):
            reporter.write_line(f"{what} connect time  {name:<32} {seconds * 1000:7.1f} ms")


def run(argv: Sequence[str], *, timeout: float = 15.0, input: str | None = None) -> str:
    result = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, input=input, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout


def wait_for(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}")


class NetnsPair:
    """Server and client namespaces; use as a context manager."""

    def __init__(self, work: Path) -> None:
        self.prefix = "vsb" + secrets.token_hex(2)
        self.server_ns = f"{self.prefix}-srv"
        self.client_ns = f"{self.prefix}-cli"
        self.work = work
        self.work.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._procs: list[subprocess.Popen[bytes]] = []
        self._wg_ifaces: list[str] = []
        self._pki: Pki | None = None
        self.ovpn_nets: dict[int, str] = {}  # server port -> its tunnel /24 ("10.96.N"); server is .1

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> NetnsPair:
        try:
            self.up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()

    def up(self) -> None:
        for ns in (self.server_ns, self.client_ns):
            run(["ip", "netns", "add", ns])
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
        run(["ip", "-n", self.server_ns, "link", "add", "v0", "type", "veth", "peer", "name", "v0",
             "netns", self.client_ns])
        for ns, ip in ((self.server_ns, SERVER_IP), (self.client_ns, CLIENT_IP)):
            run(["ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", "v0"])
            run(["ip", "-n", ns, "link", "set", "v0", "up"])
        # "The internet": an address in the server namespace that the client reaches only through a tunnel.
        # The client's default route points at a gateway that does not exist, so it sees an underlay, but
        # nothing gets anywhere without a VPN (and nothing can leak: no veth touches the root namespace).
        run(["ip", "-n", self.server_ns, "addr", "add", f"{INTERNET_IP}/32", "dev", "lo"])
        run(["ip", "-n", self.client_ns, "route", "add", "default", "via", DEAD_GATEWAY])

    def down(self) -> None:
        """Stop every process in our namespaces (by PID), delete them and our sockets."""
        pids: set[int] = set()
        for ns in (self.server_ns, self.client_ns):
            if (NETNS_DIR / ns).exists():
                with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                    pids |= {int(p) for p in run(["ip", "netns", "pids", ns]).split()}
        pids |= {p.pid for p in self._procs if p.poll() is None}
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 3.0
        for proc in self._procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        for pid in pids:
            if _alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        for proc in self._procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=2.0)
        for ns in (self.server_ns, self.client_ns):
            if (NETNS_DIR / ns).exists():
                subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False, timeout=10)
        for iface in self._wg_ifaces:
            sock = WG_RUN_DIR / f"{iface}.sock"
            with contextlib.suppress(FileNotFoundError):
                sock.unlink()

    def leftovers(self) -> list[str]:
        found = [f"netns {ns}" for ns in (self.server_ns, self.client_ns) if (NETNS_DIR / ns).exists()]
        found += [f"socket {i}" for i in self._wg_ifaces if (WG_RUN_DIR / f"{i}.sock").exists()]
        found += [f"process {p.pid}" for p in self._procs if p.poll() is None]
        return found

    # ------------------------------------------------------------------ helpers

    def ns_run(self, ns: str, argv: Sequence[str], *, timeout: float = 15.0, input: str | None = None
               ) -> str:
        return run(["ip", "netns", "exec", ns, *argv], timeout=timeout, input=input)

    def ns_popen(self, ns: str, argv: Sequence[str], *, log: Path | None = None,
                 env: dict[str, str] | None = None, pipes: bool = False) -> subprocess.Popen[bytes]:
        """Start argv in a namespace; output to ``log``; with ``pipes``, stdin/stdout are pipes to talk to it."""
        with contextlib.ExitStack() as stack:
            out: Any = stack.enter_context(log.open("ab")) if log is not None else subprocess.DEVNULL
            proc = subprocess.Popen(
                ["ip", "netns", "exec", ns, *argv],
                stdin=subprocess.PIPE if pipes else subprocess.DEVNULL,
                stdout=subprocess.PIPE if pipes else out,
                stderr=out,
                env={**os.environ, **(env or {})},
                start_new_session=True,
            )
        self._procs.append(proc)
        return proc

    def driver(self, name: str = "driver") -> Driver:
        """A backend driver process inside the client namespace (as `ip netns exec … vpnswitch daemon`)."""
        work = self.work / name
        work.mkdir(mode=0o700, exist_ok=True)
        proc = self.ns_popen(self.client_ns, [sys.executable, "-m", "tests.component.nsdriver", str(work)],
                             log=self.work / f"{name}.log", env=driver_env(), pipes=True)
        return Driver(proc)

    def wg_iface(self, role: str) -> str:
        """A WireGuard interface name unique on this machine (its control socket is machine-wide)."""
        name = f"{self.prefix}{role}"[:15]
        self._wg_ifaces.append(name)
        return name

    def http_server(self, bind: str = "0.0.0.0", port: int = 8080) -> None:
        """A tiny HTTP server in the server namespace (reached through the tunnels), to prove traffic flows."""
        www = self.work / "www"
        www.mkdir(exist_ok=True)
        (www / "index.html").write_text(PAGE)
        self.ns_popen(self.server_ns, [sys.executable, "-m", "http.server", "--bind", bind, str(port),
                                       "--directory", str(www)], log=self.work / f"http-{port}.log")
        wait_for(lambda: _listening(self.server_ns, bind, port), 5.0, "HTTP server")

    # ------------------------------------------------------------------ WireGuard

    def wireguard_server(self, port: int = 51820) -> tuple[str, str, str]:
        """Start wireguard-go in the server namespace; return (server iface, client private key, conf text).

        The client config is full-tunnel (AllowedIPs 0.0.0.0/0), as real profiles are: wg-quick then sets up
        its fwmark policy routing inside the client namespace.
        """
        iface = self.wg_iface("s")
        server_key = run(["wg", "genkey"]).strip()
        server_pub = run(["wg", "pubkey"], input=server_key).strip()
        client_key = run(["wg", "genkey"]).strip()
        client_pub = run(["wg", "pubkey"], input=client_key).strip()
        self.ns_popen(self.server_ns, ["wireguard-go", "-f", iface], log=self.work / "wg-server.log",
                      env={"WG_PROCESS_FOREGROUND": "1"})
        wait_for(lambda: (WG_RUN_DIR / f"{iface}.sock").exists(), 5.0, "wireguard-go server socket")
        key_file = self.work / "wg-server.key"
        key_file.touch(mode=0o600)
        key_file.write_text(server_key + "\n")
        self.ns_run(self.server_ns, ["wg", "set", iface, "listen-port", str(port), "private-key", str(key_file),
                                     "peer", client_pub, "allowed-ips", f"{WG_NET}.2/32"])
        self.ns_run(self.server_ns, ["ip", "addr", "add", f"{WG_NET}.1/24", "dev", iface])
        self.ns_run(self.server_ns, ["ip", "link", "set", iface, "up"])
        conf = (f"[Interface]\nPrivateKey = {client_key}\nAddress = {WG_NET}.2/24\n\n"
                f"[Peer]\nPublicKey = {server_pub}\nEndpoint = {SERVER_IP}:{port}\n"
                f"AllowedIPs = 0.0.0.0/0\nPersistentKeepalive = 5\n")
        return iface, client_key, conf

    # ------------------------------------------------------------------ OpenVPN

    @property
    def pki(self) -> Pki:
        if self._pki is None:
            self._pki = make_pki(self.work / "pki", cn_prefix=self.prefix)
        return self._pki

    def openvpn_server(self, *, proto: str, port: int, credentials: tuple[str, str] | None = None,
                       dev: str | None = None) -> subprocess.Popen[bytes]:
        """Start an OpenVPN TLS server; with credentials, it checks user name and password by a script.

        The password check is a hook on the SERVER side (in the server namespace); client configs
        stay hook-free. Returns the server's tunnel device name.
        """
        pki = self.pki
        dev = dev or f"{self.prefix}o{port}"[:15]
        net = f"10.96.{2 + len(self.ovpn_nets)}"  # every server its own subnet, or their routes collide
        self.ovpn_nets[port] = net
        lines = [
            f"proto {proto}", f"local {SERVER_IP}", f"port {port}", f"dev {dev}", "dev-type tun",
            "topology subnet", f"server {net}.0 255.255.255.0", f"ca {pki.ca_cert}",
            f"cert {pki.server_cert}", f"key {pki.server_key}", f"tls-crypt {pki.tls_crypt_key}", "dh none",
            "remote-cert-tls client", "duplicate-cn", "keepalive 2 10", "verb 3",
            # full tunnel; "local": the server is on the client's own subnet, no host route via the gateway
            'push "redirect-gateway local def1"',
        ]
        if proto == "tcp":
            lines.append("tcp-nodelay")
        if credentials is not None:
            expected = self.work / "expected-credentials"
            expected.touch(mode=0o600)
            expected.write_text(f"{credentials[0]}\n{credentials[1]}\n")
            checker = self.work / "check-password.py"
            checker.write_text(
                f"#!{sys.executable}\n"
                "import sys\n"
                f"want = open({str(expected)!r}).read().split('\\n')[:2]\n"
                "got = open(sys.argv[1]).read().split('\\n')[:2]\n"
                "sys.exit(0 if got == want else 1)\n")
            checker.chmod(0o700)
            lines += ["script-security 2", f"auth-user-pass-verify {checker} via-file",
                      f"tmp-dir {self.work}"]
        conf = self.work / f"server-{proto}-{port}.conf"
        conf.write_text("\n".join(lines) + "\n")
        log = self.work / f"ovpn-server-{proto}-{port}.log"
        proc = self.ns_popen(self.server_ns, ["openvpn", "--config", str(conf)], log=log)
        wait_for(lambda: "Initialization Sequence Completed" in log.read_text(errors="replace"), 10.0,
                 f"openvpn {proto} server")
        return proc

    def openvpn_client_conf(self, *, proto: str, port: int, auth: bool = False, extra: Sequence[str] = ()) -> str:
        """A client profile like the ones providers hand out: inline keys, `dev tun`, no scripts."""
        pki = self.pki
        lines = ["client", "dev tun", f"proto {proto}", f"remote {SERVER_IP} {port}", "nobind",
                 "remote-cert-tls server", "connect-retry 1 2", "server-poll-timeout 5", "verb 3", *extra]
        if auth:
            lines.append("auth-user-pass")
        for tag, path in (("ca", pki.ca_cert), ("cert", pki.client_cert), ("key", pki.client_key),
                          ("tls-crypt", pki.tls_crypt_key)):
            lines.append(f"<{tag}>\n{path.read_text().strip()}\n</{tag}>")
        return "\n".join(lines) + "\n"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def _listening(ns: str, ip: str, port: int) -> bool:
    out = subprocess.run(["ip", "netns", "exec", ns, "ss", "-Hltn", f"src {ip}:{port}"], capture_output=True,
                         text=True, timeout=5, check=False).stdout
    return bool(out.strip())
