"""Reading the underlay's gateway and resolvers, and judging silence only against what answered before."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from vpnswitch.system import localnet

HEADER = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"


def routes(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "route"
    path.write_text(HEADER + "".join(line + "\n" for line in lines))
    return path


def test_default_gateway_skips_openvpn_halves_tunnels_and_loopback(tmp_path: Path) -> None:
    table = routes(
        tmp_path,
        "tun0\t00000000\t01024D0A\t0003\t0\t0\t0\t00000080\t0\t0\t0",  # 0.0.0.0/1 via the tunnel
        "lo\t00000000\t0100007F\t0003\t0\t0\t0\t00000000\t0\t0\t0",
        "myvpn\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0",
        "eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0",  # default via 192.168.1.1
    )
    assert localnet.default_gateway(frozenset({"myvpn"}), table) == ("eth0", "192.168.1.1")
    assert localnet.default_gateway(frozenset({"myvpn", "eth0"}), table) is None
    assert localnet.default_gateway(route_file=tmp_path / "missing") is None


def test_resolvers_are_the_ipv4_nameservers(tmp_path: Path) -> None:
    conf = tmp_path / "resolv.conf"
    conf.write_text("# x\nnameserver 192.168.1.1\nnameserver fd00::1\nnameserver bogus\nsearch lan\n"
                    "nameserver 127.0.0.53\n")
    assert localnet.resolvers(conf) == ["192.168.1.1", "127.0.0.53"]
    assert localnet.resolvers(tmp_path / "missing") == []


@pytest.fixture
def udp_server() -> Iterator[tuple[int, threading.Event]]:
    """A UDP server on loopback that answers only while told to."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    answering = threading.Event()
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(512)
            except TimeoutError:
                continue
            if answering.is_set():
                sock.sendto(data[:2] + b"\x81\x80" + data[4:], peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield sock.getsockname()[1], answering
    stop.set()
    thread.join(2)
    sock.close()


def test_answering_counts_replies_and_silence(udp_server: tuple[int, threading.Event]) -> None:
    port, answering = udp_server
    assert localnet.answering("lo", ["127.0.0.1"], timeout=0.3, port=port) == {"127.0.0.1": False}
    answering.set()
    assert localnet.answering("lo", ["127.0.0.1"], timeout=0.5, port=port) == {"127.0.0.1": True}


def test_a_closed_port_still_proves_the_host_is_there() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    assert localnet.answering("lo", ["127.0.0.1"], timeout=0.5, port=closed) == {"127.0.0.1": True}


def test_silence_counts_only_where_something_answered_before(monkeypatch: pytest.MonkeyPatch) -> None:
    replies: dict[str, bool] = {"192.168.1.1": False}
    monkeypatch.setattr(localnet, "local_targets", lambda *a: ("eth0", list(replies)))
    monkeypatch.setattr(localnet, "answering", lambda iface, addrs, timeout: dict(replies))
    net = localnet.LocalNetwork(timeout=0.1)
    assert net.check("home") is None and not net.knows("home")  # never heard from it: cannot tell
    replies["192.168.1.1"] = True
    assert net.check("home") is True and net.knows("home")
    replies["192.168.1.1"] = False
    assert net.check("home") is False  # it answered before and is silent now: the network is down
    assert net.check("elsewhere") is None  # another network: nothing learned there yet
    monkeypatch.setattr(localnet, "local_targets", lambda *a: None)
    assert net.check("home") is None  # no gateway at all is the passive sensor's business
