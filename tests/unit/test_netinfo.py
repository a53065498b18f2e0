from __future__ import annotations

from pathlib import Path

from vpnswitch.system import netinfo

ROUTES = """Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
{wan}\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
{wan}\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0
wg0\t00000000\t00000000\t0001\t0\t0\t0\t00000080\t0\t0\t0
"""


def test_underlay_is_up_with_a_gateway_and_fingerprints_the_network(tmp_path: Path) -> None:
    routes = tmp_path / "route"
    routes.write_text(ROUTES.format(wan="lo"))
    # "lo" never counts as an underlay.
    assert not netinfo.underlay(route_file=routes).up
    real = next(n for n, s in __import__("psutil").net_if_stats().items() if s.isup and n != "lo")
    routes.write_text(ROUTES.format(wan=real))
    first = netinfo.underlay(route_file=routes)
    assert first.up and first.network and len(first.network) == 12
    assert netinfo.underlay(route_file=routes).network == first.network
    routes.write_text(ROUTES.format(wan=real).replace("0101A8C0", "FE01A8C0"))
    assert netinfo.underlay(route_file=routes).network != first.network  # another gateway, another network
    assert not netinfo.underlay(frozenset({real}), route_file=routes).up  # that interface is a tunnel


def test_no_routes_means_offline(tmp_path: Path) -> None:
    routes = tmp_path / "route"
    routes.write_text(ROUTES.splitlines()[0] + "\n")
    state = netinfo.underlay(route_file=routes)
    assert not state.up and "no network connection" in state.reason


def test_interface_facts() -> None:
    assert netinfo.interface_up("lo") is True
    assert netinfo.interface_up("no-such-if0") is None
    assert netinfo.interface_ipv4("lo") == "127.0.0.1"
    assert netinfo.egress_interface("127.0.0.1") == "lo"
    counters = netinfo.interface_counters("lo")
    assert counters is not None and counters.rx >= 0
    assert netinfo.is_tunnel_name("wg0") and netinfo.is_tunnel_name("tun3") and not netinfo.is_tunnel_name("eth0")


def test_tunnels_are_recognised_by_the_kernels_view_not_only_by_name(tmp_path: Path) -> None:
    (tmp_path / "office").mkdir()
    (tmp_path / "office" / "tun_flags").write_text("0x1001\n")
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "uevent").write_text("DEVTYPE=wireguard\nINTERFACE=home\nIFINDEX=9\n")
    (tmp_path / "enp3s0").mkdir()
    (tmp_path / "enp3s0" / "uevent").write_text("INTERFACE=enp3s0\nIFINDEX=2\n")
    (tmp_path / "wwan0").mkdir()
    (tmp_path / "wwan0" / "type").write_text("65534\n")  # a modem's raw-IP link is the underlay
    assert netinfo.is_tunnel_name("office", sysfs=tmp_path)
    assert netinfo.is_tunnel_name("home", sysfs=tmp_path)
    assert not netinfo.is_tunnel_name("enp3s0", sysfs=tmp_path)
    assert not netinfo.is_tunnel_name("wwan0", sysfs=tmp_path)
    assert not netinfo.is_tunnel_name("absent", sysfs=tmp_path)
