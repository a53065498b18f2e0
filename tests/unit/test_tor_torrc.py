"""Bridge lines as users paste them, extra torrc lines, and the torrc vpnswitch writes."""

from __future__ import annotations

import pytest

from vpnswitch.backends.tor.torrc import Bridge, BridgeLineError, TorrcSpec, check_extra_line, parse_bridge, render

FP = "C9D097D3DC8062DB09810DDF36ABC9ADCE81C448"


@pytest.mark.parametrize(("line", "expected"), [
    (f"obfs4 192.0.2.1:443 {FP} cert=abc+/= iat-mode=0",
     Bridge("obfs4", "192.0.2.1:443", FP, ("cert=abc+/=", "iat-mode=0"))),
    (f"Bridge obfs4 192.0.2.1:443 {FP.lower()} cert=x iat-mode=1",
     Bridge("obfs4", "192.0.2.1:443", FP, ("cert=x", "iat-mode=1"))),
    (f"snowflake 192.0.2.3:80 {FP} fingerprint={FP} url=https://snowflake-broker.example/ ice=stun:stun.example:3478",
     Bridge("snowflake", "192.0.2.3:80", FP, (f"fingerprint={FP}", "url=https://snowflake-broker.example/",
                                              "ice=stun:stun.example:3478"))),
    (f"webtunnel [2001:db8::1]:443 {FP} url=https://example.org/path ver=0.0.1",
     Bridge("webtunnel", "[2001:db8::1]:443", FP, ("url=https://example.org/path", "ver=0.0.1"))),
    (f"198.51.100.7:9001 {FP}", Bridge(None, "198.51.100.7:9001", FP)),
    ("198.51.100.7:9001", Bridge(None, "198.51.100.7:9001")),
])
def test_bridge_lines_parse(line: str, expected: Bridge) -> None:
    assert parse_bridge(line) == expected


@pytest.mark.parametrize(("line", "problem"), [
    ("", "empty"),
    ("Bridge", "empty"),
    ("obfs5 192.0.2.1:443", "unknown transport"),
    ("obfs4", "has no address"),
    ("obfs4 example.org:443", "not an IP address"),
    ("obfs4 192.0.2.1:99999", "not an IP address"),
    ("obfs4 192.0.2.1:443 cert", "key=value"),
    ("192.0.2.1:443 cert=x", "no key=value"),
    ("obfs4 192.0.2.1:443\nControlPort 9051", "single line"),
])
def test_bad_bridge_lines_say_why(line: str, problem: str) -> None:
    with pytest.raises(BridgeLineError, match=problem):
        parse_bridge(line)


def test_bridge_line_round_trips() -> None:
    line = f"obfs4 192.0.2.1:443 {FP} cert=abc iat-mode=0"
    assert parse_bridge(parse_bridge(line).line()) == parse_bridge(line)


@pytest.mark.parametrize(("line", "ok"), [
    ("ExitNodes {de}", True),
    ("StrictNodes 1", True),
    ("ControlPort 9051", False),
    ("controlport 9051", False),
    ("__OwningControllerProcess 1", False),
    ("HashedControlPassword 16:AB", False),
    ("Bridge obfs4 192.0.2.1:443", False),
    ("Log debug file /tmp/x", False),
    ("Exit Nodes", True),  # a real torrc option name is not checked against tor's list, only the syntax
    ("9Lives 1", False),
    ("ExitNodes {de}\nControlPort 1", False),
    ("", False),
])
def test_extra_lines_cannot_take_over_what_vpnswitch_manages(line: str, ok: bool) -> None:
    assert (check_extra_line(line) is None) is ok


def test_render_has_every_managed_option_and_bridges() -> None:
    bridges = (parse_bridge(f"obfs4 192.0.2.1:443 {FP} cert=x iat-mode=0"),
               parse_bridge("snowflake 192.0.2.3:80 url=https://b.example/"),
               parse_bridge("198.51.100.7:9001"))
    text = render(TorrcSpec(
        data_dir="/home/u/.cache/vpnswitch/tor/Tor-1", control_port_file="/c/control.port", owner_pid=4242,
        bridges=bridges,
        plugins={"obfs4": ("/usr/bin/lyrebird",), "snowflake": ("C:\\Program Files\\Tor\\snowflake.exe", "-log", "x")},
        socks_timeout=15, extra=("ExitNodes {de}",)))
    lines = text.splitlines()
    assert "SocksPort 127.0.0.1:auto" in lines
    assert "ControlPort 127.0.0.1:auto" in lines
    assert "CookieAuthentication 1" in lines
    assert "__OwningControllerProcess 4242" in lines
    assert "SocksTimeout 15" in lines
    assert "UseBridges 1" in lines
    assert "ClientTransportPlugin obfs4 exec /usr/bin/lyrebird" in lines
    assert 'ClientTransportPlugin snowflake exec "C:\\\\Program Files\\\\Tor\\\\snowflake.exe" -log x' in lines
    assert f"Bridge obfs4 192.0.2.1:443 {FP} cert=x iat-mode=0" in lines
    assert "Bridge 198.51.100.7:9001" in lines
    assert lines[-1] == "ExitNodes {de}"
    assert not any(line.startswith("HashedControlPassword") for line in lines)


def test_one_plugin_serving_two_transports_is_declared_once() -> None:
    bridges = (parse_bridge("obfs4 192.0.2.1:443 cert=x iat-mode=0"), parse_bridge("webtunnel 192.0.2.2:443 url=u"))
    text = render(TorrcSpec(data_dir="/d", control_port_file="/d/p", owner_pid=1, bridges=bridges,
                            plugins={"obfs4": ("/usr/bin/lyrebird",), "webtunnel": ("/usr/bin/lyrebird",)}))
    assert text.count("ClientTransportPlugin") == 1
    assert "ClientTransportPlugin obfs4,webtunnel exec /usr/bin/lyrebird" in text


def test_fixed_socks_port_and_no_bridges() -> None:
    text = render(TorrcSpec(data_dir="/d", control_port_file="/d/p", owner_pid=1, socks_port=9150))
    assert "SocksPort 127.0.0.1:9150" in text
    assert "UseBridges" not in text and "ClientTransportPlugin" not in text
