"""Reference VPN clients for the lab's self-tests (the app under test brings its own).

They use the very profiles the lab hands out, but leave routing alone: probes bind to
the tunnel interface (curl --interface, i.e. SO_BINDTODEVICE), so all tunnels can be up
at once and each one is checked on its own.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.lab import configs
from tests.lab.harness import WG_RUN_DIR, Lab, LabError, remove_stale_socket, socket_answers

_DNSQ = Path(__file__).resolve().with_name("dnsq.py")


def fetch(lab: Lab, url: str, *, iface: str | None = None, timeout: float = 1.0) -> str | None:
    """GET url from the client namespace; the body, or None if the request failed."""
    argv = ["curl", "-sS", "--max-time", str(timeout)]
    if iface:
        argv += ["--interface", iface]
    result = lab.client_run([*argv, url], timeout=timeout + 5)
    return result.stdout if result.returncode == 0 else None


def fetch_error(lab: Lab, url: str, *, iface: str | None = None, timeout: float = 1.0) -> int:
    """curl's exit status for a GET (7 = refused/reset on connect, 28 = timeout)."""
    argv = ["curl", "-sS", "-o", "/dev/null", "--max-time", str(timeout)]
    if iface:
        argv += ["--interface", iface]
    return lab.client_run([*argv, url], timeout=timeout + 5).returncode


def resolve(lab: Lab, name: str, *, server: str, iface: str | None = None, timeout: float = 1.0) -> list[str] | None:
    """A records of name from one resolver (optionally through one tunnel); None on timeout."""
    argv = [sys.executable, str(_DNSQ), "--server", server, "--timeout", str(timeout)]
    if iface:
        argv += ["--iface", iface]
    result = lab.client_run([*argv, name], timeout=timeout + 5)
    return result.stdout.split() if result.returncode == 0 else None


def wait_until(what: str, check: Callable[[], object], timeout: float, interval: float = 0.05) -> None:
    """Poll check() until it is truthy; raise TimeoutError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not true after {timeout} s")
        time.sleep(interval)


class WgClient:
    """wireguard-go + `wg setconf` from a wg-quick profile, without wg-quick's routing."""

    def __init__(self, lab: Lab, conf: Path, iface: str) -> None:
        self.lab = lab
        self.conf = conf
        self.iface = iface
        self.name = f"ref-{iface}"
        self._popen: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 5.0) -> None:
        text = self.conf.read_text()
        address = next(
            line.split("=", 1)[1].strip() for line in text.splitlines() if line.lower().startswith("address")
        )
        stripped = self.lab.state_dir / f"{self.name}.conf"
        stripped.touch(mode=0o600)
        stripped.write_text(configs.wg_strip(text))
        sock = WG_RUN_DIR / f"{self.iface}.sock"
        # A wireguard-go killed by an earlier test leaves its socket behind; `wg` would connect to nothing and
        # fall back to kernel netlink ("Protocol not supported"). Wait for a socket that answers.
        remove_stale_socket(sock)
        self._popen = self.lab.client_popen(
            ["wireguard-go", "-f", self.iface], name=self.name, env={"LOG_LEVEL": "verbose"}
        )
        wait_until(f"{self.iface} socket", lambda: socket_answers(sock), timeout)
        for argv in (
            ["wg", "setconf", self.iface, str(stripped)],
            ["ip", "addr", "add", address, "dev", self.iface],
            ["ip", "link", "set", self.iface, "up"],
        ):
            self.lab.client_run(argv, check=True)

    def stop(self) -> None:
        if self._popen is not None:
            self._popen.terminate()
            self._popen.wait(timeout=5)
            self._popen = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def latest_handshake(self) -> int:
        """Unix time of the last handshake; 0 if there never was one."""
        out = self.lab.client_run(["wg", "show", self.iface, "latest-handshakes"], check=True)
        return int(out.stdout.split()[1])

    def transfer(self) -> tuple[int, int]:
        """(rx, tx) bytes."""
        out = self.lab.client_run(["wg", "show", self.iface, "transfer"], check=True)
        _, rx, tx = out.stdout.split()
        return int(rx), int(tx)


class OvpnClient:
    """openvpn with the lab profile plus a management socket, ignoring pushed routes."""

    def __init__(self, lab: Lab, conf: Path, iface: str) -> None:
        self.lab = lab
        self.conf = conf
        self.iface = iface
        self.name = f"ref-{iface}"
        self.mgmt_socket = lab.state_dir / f"{self.name}.mgmt"
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.lab.log_path(self.name)

    def start(self, timeout: float = 10.0) -> None:
        self._popen = self.lab.client_popen(
            [
                "openvpn", "--config", str(self.conf),
                "--pull-filter", "ignore", "redirect-gateway",
                "--pull-filter", "ignore", "dhcp-option",
                "--management", str(self.mgmt_socket), "unix",
            ],
            name=self.name,
        )  # fmt: skip
        self.wait_connected(timeout, after=0)

    def log_count(self, text: str) -> int:
        try:
            return self.log.read_text(errors="replace").count(text)
        except FileNotFoundError:
            return 0

    def wait_connected(self, timeout: float, *, after: int) -> None:
        """Wait for the (after+1)-th "Initialization Sequence Completed"."""

        def connected() -> bool:
            if self._popen is not None and self._popen.poll() is not None:
                raise LabError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            return self.log_count("Initialization Sequence Completed") > after

        wait_until(f"{self.name} connected", connected, timeout)

    def mgmt_state(self) -> str:
        """The management interface's current `state` line, e.g. "…,CONNECTED,SUCCESS,…"."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2.0)
            sock.connect(str(self.mgmt_socket))
            sock.sendall(b"state\n")
            data = b""
            while b"\r\nEND\r\n" not in data:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
        lines = [ln for ln in data.decode().splitlines() if ln and not ln.startswith(">")]
        return lines[0] if lines else ""

    def stop(self) -> None:
        if self._popen is not None:
            self._popen.terminate()
            self._popen.wait(timeout=5)
            self._popen = None
