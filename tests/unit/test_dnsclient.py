"""The tiny DNS client against a real dnsmasq on loopback (a high port; nothing leaves 127.0.0.1)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.dnsmasq import Dnsmasq, free_udp_port
from vpnswitch.core.dnshealth import DnsStatus
from vpnswitch.system import dnsclient
from vpnswitch.system.dnsclient import MalformedReply, build_query, parse_reply

RECORDS = {"real.example": ("104.244.42.1",), "sinkhole.example": ("0.0.0.0", "::")}


@pytest.fixture(scope="module")
def resolver() -> Iterator[int]:
    """A dnsmasq answering the names above and NXDOMAIN for the rest of .example; yields its port."""
    with Dnsmasq(RECORDS) as server:
        yield server.port


def test_answers(resolver: int) -> None:
    assert dnsclient.query("real.example", "127.0.0.1", port=resolver).addresses == ("104.244.42.1",)
    sink = dnsclient.query("sinkhole.example", "127.0.0.1", port=resolver, qtype=dnsclient.QTYPE_AAAA)
    assert (sink.status, sink.addresses, sink.server) == (DnsStatus.ANSWER, ("::",), "127.0.0.1")
    assert dnsclient.query("missing.example", "127.0.0.1", port=resolver).status is DnsStatus.NXDOMAIN
    nodata = dnsclient.query("real.example", "127.0.0.1", port=resolver, qtype=dnsclient.QTYPE_AAAA)
    assert nodata.status is DnsStatus.NODATA


def test_bound_to_a_source_address(resolver: int) -> None:
    answer = dnsclient.query("real.example", "127.0.0.1", port=resolver, source="127.0.0.1", device="lo")
    assert answer.addresses == ("104.244.42.1",)


def test_resolve_goes_on_past_a_silent_server(resolver: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.2", resolver))  # same port, another loopback address: reads, never answers
        answer = dnsclient.resolve("sinkhole.example", ["127.0.0.2", "127.0.0.1"], port=resolver, timeout=1.0,
                                   ipv6=True)
    assert (answer.status, answer.server) == (DnsStatus.ANSWER, "127.0.0.1")
    assert set(answer.addresses) == {"0.0.0.0", "::"}


def test_silence_is_a_timeout_within_the_deadline() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        started = time.monotonic()
        answer = dnsclient.query("x.com", "127.0.0.1", port=silent.getsockname()[1], timeout=0.3)
        took = time.monotonic() - started
        assert silent.recv(512)  # the question did arrive
    assert answer.status is DnsStatus.TIMEOUT
    assert took < 1.0


def test_no_listener_is_refused() -> None:
    port = free_udp_port()
    assert dnsclient.query("x.com", "127.0.0.1", port=port, timeout=1.0).status is DnsStatus.REFUSED


def test_forged_replies_are_ignored() -> None:
    """A reply with another id, or to another question, is not believed; the real one still counts."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        port = server.getsockname()[1]
        def answer() -> None:
            question, peer = server.recvfrom(512)
            forged_id = bytes([question[0] ^ 0xFF, question[1]]) + question[2:]
            other = build_query("other.example", 1, int.from_bytes(question[:2], "big"))
            real = bytearray(question)
            real[2] |= 0x80  # a reply with no answer: NODATA
            for fake in (forged_id, other):
                fake = bytearray(fake)
                fake[2] |= 0x80
                server.sendto(bytes(fake), peer)
            server.sendto(bytes(real), peer)

        thread = threading.Thread(target=answer)
        thread.start()
        result = dnsclient.query("x.com", "127.0.0.1", port=port, timeout=1.0)
        thread.join()
    assert result.status is DnsStatus.NODATA


@pytest.mark.parametrize("reply", [b"", b"\x12\x34", bytes(12)])
def test_malformed(reply: bytes) -> None:
    with pytest.raises(MalformedReply):
        parse_reply(reply, build_query("x.com", 1, 0x1234))


def test_bad_names_are_refused_before_sending() -> None:
    with pytest.raises(ValueError):
        build_query("a..b", 1, 1)
    with pytest.raises(ValueError):
        build_query("x" * 64 + ".com", 1, 1)


def test_resolv_conf(tmp_path: Path) -> None:
    conf = tmp_path / "resolv.conf"
    conf.write_text("# comment\nnameserver 10.99.1.1\nnameserver fe80::1%eth0\nnameserver bogus\nsearch lan\n")
    assert dnsclient.system_resolvers(conf) == ["10.99.1.1", "fe80::1"]
    assert dnsclient.system_resolvers(tmp_path / "missing") == []
