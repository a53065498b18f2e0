"""Re-records the DNS replies in this folder from a real dnsmasq on loopback.

Each ``<case>.query`` / ``<case>.reply`` pair (hex) is one question and dnsmasq's reply to it.
``servfail-a.reply`` is the NXDOMAIN reply with the rcode changed to 2 (SERVFAIL) and nothing else:
dnsmasq sends SERVFAIL only for upstream or DNSSEC failures, which need an upstream to break. The hosts are
only names in dnsmasq's hosts file: nothing is sent anywhere but to 127.0.0.1.

    sudo python -m tests.data.dns.record_dns
"""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
from pathlib import Path

from vpnswitch.system.dnsclient import QTYPE_A, QTYPE_AAAA, build_query

HERE = Path(__file__).resolve().parent
PORT = 53535
HOSTS = """\
104.244.42.1 real.example
0.0.0.0 sinkhole.example
:: sinkhole.example
39.42.0.80 blockpage.example
"""
CASES = {  # case -> (name, qtype)
    "real-a": ("real.example", QTYPE_A),
    "real-aaaa": ("real.example", QTYPE_AAAA),  # exists, no IPv6 address: NODATA
    "sinkhole-a": ("sinkhole.example", QTYPE_A),
    "sinkhole-aaaa": ("sinkhole.example", QTYPE_AAAA),
    "blockpage-a": ("blockpage.example", QTYPE_A),
    "nxdomain-a": ("missing.example", QTYPE_A),
    "refused-a": ("elsewhere.invalid", QTYPE_A),  # outside its zone, and it has no upstream
}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        hosts = Path(tmp) / "hosts"
        hosts.write_text(HOSTS)
        proc = subprocess.Popen([
            "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
            f"--addn-hosts={hosts}", "--listen-address=127.0.0.1", "--bind-interfaces", f"--port={PORT}",
            "--cache-size=0", "--local=/example/",
            "--user=root", "--group=root", f"--pid-file={tmp}/pid",
        ])  # fmt: skip
        try:
            time.sleep(0.5)
            for case, (name, qtype) in CASES.items():
                question = build_query(name, qtype, 0x1234)
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                    sock.settimeout(5)
                    sock.sendto(question, ("127.0.0.1", PORT))
                    reply = sock.recv(4096)
                (HERE / f"{case}.query").write_text(question.hex() + "\n")
                (HERE / f"{case}.reply").write_text(reply.hex() + "\n")
            nxdomain = bytearray.fromhex((HERE / "nxdomain-a.reply").read_text())
            nxdomain[3] = (nxdomain[3] & 0xF0) | 2
            (HERE / "servfail-a.query").write_text((HERE / "nxdomain-a.query").read_text())
            (HERE / "servfail-a.reply").write_text(nxdomain.hex() + "\n")
        finally:
            proc.terminate()
            proc.wait(5)


if __name__ == "__main__":
    main()
