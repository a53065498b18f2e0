"""A real dnsmasq on a loopback address and a high port, answering fixed names: a resolver for tests.

Nothing is forwarded anywhere (``--no-resolv``, no servers): names it does not know under its zones get
NXDOMAIN, everything else REFUSED.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from tests.conftest import in_ci
from vpnswitch.core.dnshealth import DnsStatus
from vpnswitch.system import dnsclient


def require_dnsmasq() -> None:
    if shutil.which("dnsmasq") is None:
        if in_ci():
            pytest.fail("dnsmasq is missing (apt-get install dnsmasq-base)")
        pytest.skip("dnsmasq is not installed (apt-get install dnsmasq-base)")


def free_udp_port(address: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


class Dnsmasq:
    """``records``: name -> addresses; ``zones``: domains it answers NXDOMAIN for when a name is unknown."""

    def __init__(self, records: Mapping[str, Sequence[str]], *, address: str = "127.0.0.1", port: int | None = None,
                 zones: Sequence[str] = ("example", "test")) -> None:
        self.address = address
        self.port = port or free_udp_port(address)
        self._dir = Path(tempfile.mkdtemp(prefix="vpnswitch-dnsmasq-"))
        self.log = self._dir / "dnsmasq.log"
        self._argv = [
            "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
            *(f"--host-record={name},{','.join(addrs)}" for name, addrs in records.items()),
            *(f"--local=/{zone}/" for zone in zones),
            f"--listen-address={address}", "--bind-interfaces", f"--port={self.port}", "--cache-size=0",
            f"--pid-file={self._dir / 'pid'}", "--log-facility=-", "--log-queries",
        ]  # fmt: skip
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Dnsmasq:
        require_dnsmasq()
        with self.log.open("wb") as out:
            self._proc = subprocess.Popen(self._argv, stdout=subprocess.DEVNULL, stderr=out)
        deadline = time.monotonic() + 5
        # Ready once it has read its configuration and answers (an ICMP "refused" before it binds is not it).
        while "started, version" not in self.log.read_text(errors="replace") or dnsclient.query(
                "ready.invalid", self.address, port=self.port, timeout=0.2).status is not DnsStatus.REFUSED:
            if time.monotonic() > deadline or self._proc.poll() is not None:
                log = self.log.read_text(errors="replace")
                self.__exit__()
                raise RuntimeError(f"dnsmasq did not start: {log}")
            time.sleep(0.02)
        return self

    def queries(self, name: str) -> int:
        """How many questions about ``name`` reached it."""
        return sum(1 for line in self.log.read_text(errors="replace").splitlines()
                   if "query[" in line and f" {name} from " in line)

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(5)
            self._proc = None
        shutil.rmtree(self._dir, ignore_errors=True)
