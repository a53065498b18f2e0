"""Active probes against real servers on loopback: through an interface, through a SOCKS proxy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.servers import HttpSite, SocksProxy
from vpnswitch.core.config import ProbeTarget
from vpnswitch.core.model import Route
from vpnswitch.system.probe import HttpProber, leak_check


@pytest.fixture(scope="module")
def site() -> Iterator[HttpSite]:
    with HttpSite() as s:
        yield s


@pytest.fixture
def prober() -> Iterator[HttpProber]:
    p = HttpProber(leak_checker=lambda route, targets: "")
    yield p
    p.close()


def test_round_through_an_interface(site: HttpSite, prober: HttpProber) -> None:
    targets = (ProbeTarget(site.url("/generate_204"), "canary", (204,)),
               ProbeTarget(site.url("/status/403"), "must-reach", (200,)))
    result = prober.run_round(Route("tunnel", interface="lo"), targets, 2.0, started=1.0)
    ok, blocked = result.targets
    assert ok.ok and ok.status == 204 and ok.latency_ms is not None
    assert not blocked.ok and blocked.status == 403 and "unexpected status 403" in blocked.error
    assert result.started == 1.0


def test_an_interface_without_an_address_fails_every_target(prober: HttpProber, site: HttpSite) -> None:
    result = prober.run_round(Route("tunnel", interface="no-such-if0"), (ProbeTarget(site.url()),), 1.0, 0.0)
    assert not result.targets[0].ok and "no IPv4 address" in result.targets[0].error


def test_a_hanging_site_times_out_on_the_round_deadline(prober: HttpProber, site: HttpSite) -> None:
    result = prober.run_round(Route("tunnel", interface="lo"), (ProbeTarget(site.url("/hang")),), 0.5, 0.0)
    assert not result.targets[0].ok and result.targets[0].error == "timed out"


def test_round_through_a_socks_proxy_with_remote_dns(site: HttpSite, prober: HttpProber) -> None:
    with SocksProxy() as proxy:
        # "localhost" is resolved by the proxy (socks5h), never locally.
        target = ProbeTarget(f"http://localhost:{site.port}/generate_204", "canary", (204,))
        result = prober.run_round(Route("proxy", proxy=proxy.url), (target,), 2.0, 0.0)
        assert result.targets[0].ok and proxy.connections == 1
        proxy.blackhole = True
        result = prober.run_round(Route("proxy", proxy=proxy.url), (target,), 0.5, 0.0)
        assert not result.targets[0].ok and result.targets[0].error == "timed out"


def test_a_dead_proxy_is_a_failure_not_an_exception(prober: HttpProber) -> None:
    result = prober.run_round(Route("proxy", proxy="socks5h://127.0.0.1:9"), (ProbeTarget("http://a.test/"),), 1.0, 0)
    assert not result.targets[0].ok


def test_leak_check_sees_which_interface_traffic_would_take() -> None:
    target = (ProbeTarget("http://127.0.0.1/"),)
    assert leak_check(Route("tunnel", interface="lo"), target) == ""
    leak = leak_check(Route("tunnel", interface="wg-test0"), target)
    assert "would leave through lo, not wg-test0" in leak
    assert leak_check(Route("proxy", proxy="socks5h://127.0.0.1:1"), target) == ""
