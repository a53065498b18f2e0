"""A probe round through a "tunnel" (loopback) when the system resolver lies: real dnsmasq, real HTTP site.

Two dnsmasq on loopback play the network's resolver (resolv.conf) and the tunnel's resolver; the site is
asked by name. The round must judge the tunnel by the tunnel's answer and name what the network's DNS does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.dnsmasq import Dnsmasq
from tests.support.servers import HttpSite
from vpnswitch.core.config import ProbeTarget
from vpnswitch.core.dnshealth import DnsState
from vpnswitch.core.health import classify_round
from vpnswitch.core.model import Outcome, Route
from vpnswitch.system.probe import HttpProber

SITE = "site.example"
TUNNEL_DNS = "127.0.0.3"
SYSTEM_DNS = "127.0.0.4"


@pytest.fixture(scope="module")
def site() -> Iterator[HttpSite]:
    with HttpSite() as s:
        yield s


@pytest.fixture(scope="module")
def tunnel_resolver() -> Iterator[Dnsmasq]:
    with Dnsmasq({SITE: ("127.0.0.1",)}, address=TUNNEL_DNS) as server:
        yield server


def round_with(system: dict[str, tuple[str, ...]], tunnel: Dnsmasq, site: HttpSite, tmp_path: Path,
               path: str = "/generate_204", expect: tuple[int, ...] = (204,)):  # type: ignore[no-untyped-def]
    with Dnsmasq(system, address=SYSTEM_DNS, port=tunnel.port) as network:
        resolv = tmp_path / "resolv.conf"
        resolv.write_text(f"nameserver {SYSTEM_DNS}\n")
        prober = HttpProber(tunnel_resolvers=(TUNNEL_DNS,), resolv_conf=resolv, dns_port=tunnel.port)
        try:
            target = ProbeTarget(f"http://{SITE}:{site.port}{path}", "must-reach", expect)
            canary = ProbeTarget(site.url("/generate_204"), "canary", (204,))
            result = prober.run_round(Route("tunnel", interface="lo"), (canary, target), 2.0, 0.0)
        finally:
            prober.close()
        return result, network.queries(SITE)


@pytest.mark.parametrize(("answers", "how"), [
    ({SITE: ("0.0.0.0",)}, "sinkhole"),
    ({}, "nxdomain"),  # the network's resolver says the site does not exist
])
def test_poisoned_system_resolver_is_dns_not_a_dead_tunnel(
    answers: dict[str, tuple[str, ...]], how: str, tunnel_resolver: Dnsmasq, site: HttpSite, tmp_path: Path,
) -> None:
    result, asked = round_with(answers, tunnel_resolver, site, tmp_path)
    assert all(t.ok for t in result.targets), result.targets
    assert result.leak == ""
    assert classify_round(result) is Outcome.OK
    assert result.dns is not None and (result.dns.state, result.dns.how) == (DnsState.POISONED, how)
    assert result.dns.system.server == SYSTEM_DNS
    assert asked >= 1  # the system resolver really was asked
    assert tunnel_resolver.queries(SITE) >= 1


@pytest.mark.parametrize(("body", "state", "how"), [
    (b"blocked by your network\n", DnsState.POISONED, "block-page"),
    # Another address serving the same page is what a CDN's answers look like: not a block.
    (b"vpnswitch test site\n", DnsState.OK, ""),
])
def test_a_different_address_is_asked_for_the_site(
    body: bytes, state: DnsState, how: str, tunnel_resolver: Dnsmasq, site: HttpSite, tmp_path: Path,
) -> None:
    with HttpSite(address="127.0.0.2", port=site.port, body=body) as other:
        result, _ = round_with({SITE: ("127.0.0.2",)}, tunnel_resolver, site, tmp_path, path="/", expect=(200,))
        assert other.server.hits == 1  # type: ignore[attr-defined]
    assert all(t.ok for t in result.targets)
    if state is DnsState.OK:
        assert result.dns is None
    else:
        assert result.dns is not None and (result.dns.state, result.dns.how) == (state, how)


def test_agreeing_resolvers_are_fine(tunnel_resolver: Dnsmasq, site: HttpSite, tmp_path: Path) -> None:
    result, _ = round_with({SITE: ("127.0.0.1",)}, tunnel_resolver, site, tmp_path)
    assert all(t.ok for t in result.targets)
    assert result.dns is None  # nothing worth reporting


def test_silent_system_resolver_is_dns_blocked(tunnel_resolver: Dnsmasq, site: HttpSite, tmp_path: Path) -> None:
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.9\n")  # nothing listens there: refused at once
    prober = HttpProber(tunnel_resolvers=(TUNNEL_DNS,), resolv_conf=resolv, dns_port=tunnel_resolver.port)
    try:
        target = ProbeTarget(f"http://{SITE}:{site.port}/generate_204", "must-reach", (204,))
        result = prober.run_round(Route("tunnel", interface="lo"), (target,), 2.0, 0.0)
    finally:
        prober.close()
    assert result.targets[0].ok
    assert result.dns is not None and result.dns.state is DnsState.BLOCKED


def test_dead_tunnel_resolver_and_dead_site_is_a_dead_tunnel(site: HttpSite, tmp_path: Path) -> None:
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.9\n")
    prober = HttpProber(tunnel_resolvers=("127.0.0.8",), resolv_conf=resolv, dns_port=5)
    try:
        target = ProbeTarget("http://site.example:9/", "must-reach", (200,))
        result = prober.run_round(Route("tunnel", interface="lo"), (target,), 0.5, 0.0)
    finally:
        prober.close()
    assert not result.targets[0].ok
    assert result.dns is not None and result.dns.state is DnsState.TUNNEL_DEAD


def test_behind_a_local_stub_the_leak_check_looks_at_its_upstream_servers(tmp_path: Path) -> None:
    stub, upstreams = tmp_path / "resolv.conf", tmp_path / "resolved.conf"
    stub.write_text("nameserver 127.0.0.53\noptions edns0\n")
    upstreams.write_text("nameserver 192.0.2.1\nnameserver 192.0.2.2\n")
    prober = HttpProber(resolv_conf=stub, resolved_upstreams=upstreams)
    try:
        assert prober._upstreams() == (["192.0.2.1", "192.0.2.2"], True)
        stub.write_text("nameserver 10.99.1.1\n")
        assert prober._upstreams() == (["10.99.1.1"], False)
    finally:
        prober.close()


def test_a_resolver_on_loopback_never_counts_as_outside_the_tunnel() -> None:
    from vpnswitch.system.dnsprobe import resolvers_outside

    assert resolvers_outside("wg-test0", ["127.0.0.53", "::1"]) == []
    assert resolvers_outside("lo", ["127.0.0.1"]) == []


def test_a_silent_system_resolver_is_asked_alongside_and_reads_as_a_timeout(
    tunnel_resolver: Dnsmasq, site: HttpSite, tmp_path: Path,
) -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.5", tunnel_resolver.port))  # reads questions, never answers
        resolv = tmp_path / "resolv.conf"
        resolv.write_text("nameserver 127.0.0.5\n")
        prober = HttpProber(tunnel_resolvers=(TUNNEL_DNS,), resolv_conf=resolv, dns_port=tunnel_resolver.port)
        try:
            target = ProbeTarget(f"http://{SITE}:{site.port}/generate_204", "must-reach", (204,))
            result = prober.run_round(Route("tunnel", interface="lo"), (target,), 1.0, 0.0)
        finally:
            prober.close()
        assert silent.recv(512)  # it was asked
    assert result.targets[0].ok
    assert result.dns is not None and (result.dns.state, result.dns.how) == (DnsState.BLOCKED, "timeout")


def test_a_tunnels_own_resolvers_come_first() -> None:
    from vpnswitch.system.dnsprobe import tunnel_resolvers

    assert tunnel_resolvers(Route("tunnel", "wg0", dns=("10.64.0.1", "lab.test")), ("1.1.1.1",)) == ("10.64.0.1",)
    assert tunnel_resolvers(Route("tunnel", "wg0"), ("1.1.1.1", "9.9.9.9")) == ("1.1.1.1", "9.9.9.9")


# ------------------------------------------------------------------------------------------------ HTTPS


def _openssl(*args: str, cwd: Path) -> None:
    import subprocess

    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway CA, a certificate for the site's name and one for another name (what a block page has)."""
    import shutil

    if shutil.which("openssl") is None:
        from tests.conftest import in_ci

        if in_ci():
            pytest.fail("openssl is missing (apt-get install openssl)")
        pytest.skip("openssl is not installed (apt-get install openssl)")
    d = tmp_path_factory.mktemp("pki")
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=vpnswitch test CA",
             "-days", "1", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign", cwd=d)
    for name in (SITE, "blockpage.example"):
        (d / f"{name}.ext").write_text(f"subjectAltName=DNS:{name}\n")
        _openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=d)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-days", "1", "-out", f"{name}.pem", "-extfile", f"{name}.ext", cwd=d)
    return d


@pytest.mark.parametrize(("other_cert", "state", "how"), [
    ("blockpage.example", DnsState.POISONED, "block-page"),  # no valid certificate for the site's name
    (SITE, DnsState.OK, ""),  # another address with the site's certificate: a CDN's answer
])
def test_https_by_the_tunnels_answer_with_the_sites_name_and_certificate(
    other_cert: str, state: DnsState, how: str, pki: Path, tunnel_resolver: Dnsmasq, tmp_path: Path,
) -> None:
    tls = (str(pki / f"{SITE}.pem"), str(pki / f"{SITE}.key"))
    other_tls = (str(pki / f"{other_cert}.pem"), str(pki / f"{other_cert}.key"))
    with HttpSite(tls=tls) as real, HttpSite(address="127.0.0.2", port=real.port, tls=other_tls) as other, \
            Dnsmasq({SITE: ("127.0.0.2",)}, address=SYSTEM_DNS, port=tunnel_resolver.port):
        resolv = tmp_path / "resolv.conf"
        resolv.write_text(f"nameserver {SYSTEM_DNS}\n")
        prober = HttpProber(tunnel_resolvers=(TUNNEL_DNS,), resolv_conf=resolv, dns_port=tunnel_resolver.port,
                            ca_file=str(pki / "ca.pem"))
        try:
            target = ProbeTarget(f"https://{SITE}:{real.port}/", "must-reach", (200,))
            result = prober.run_round(Route("tunnel", interface="lo"), (target,), 2.0, 0.0)
        finally:
            prober.close()
        assert real.server.hits == 1  # type: ignore[attr-defined]
        assert other.server.hits == (1 if state is DnsState.OK else 0)  # type: ignore[attr-defined]
    assert result.targets[0].ok, result.targets
    if state is DnsState.OK:
        assert result.dns is None
    else:
        assert result.dns is not None and (result.dns.state, result.dns.how) == (state, how)


def test_https_to_an_address_without_the_sites_certificate_fails(pki: Path, tunnel_resolver: Dnsmasq) -> None:
    from vpnswitch.system.dnsprobe import probe_at

    tls = (str(pki / "blockpage.example.pem"), str(pki / "blockpage.example.key"))
    with HttpSite(tls=tls) as page:
        target = ProbeTarget(f"https://{SITE}:{page.port}/", "must-reach", (200,))
        pinned = probe_at(target, "127.0.0.1", "127.0.0.1", "lo", 2.0, ca_file=str(pki / "ca.pem"))
    assert not pinned.result.ok and pinned.result.error == "TLS failed"
