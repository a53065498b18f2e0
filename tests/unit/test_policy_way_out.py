"""Failover order by kind of way out: after a DPI-style kill of a plain tunnel, disguised ways out first;
where Tor and registered VPNs sit follows the speed/privacy preference; a network remembers what worked."""

from __future__ import annotations

from dataclasses import replace

import pytest

from vpnswitch.core import policy
from vpnswitch.core.config import Timings
from vpnswitch.core.engine import WAY_OUT_KEY
from vpnswitch.core.model import EngineConfig, ProfileInfo

WG = ProfileInfo("wg", "wireguard", "udp")
WG2 = ProfileInfo("wg2", "wireguard", "udp")
OVPN_TCP = ProfileInfo("ovpn-tcp", "openvpn", "tcp")
SS = ProfileInfo("outline", "shadowsocks", "obfuscated")
CORE = ProfileInfo("vless", "proxy-core", "obfuscated")
TOR = ProfileInfo("tor", "tor", "proxy", "proxy", anonymising=True)
PTA = ProfileInfo("office", "openvpn", "udp", declared_way_out="registered")
PSIPHON = ProfileInfo("psiphon", "psiphon", "proxy", "proxy")


def config(*profiles: ProfileInfo, preference: str = "speed") -> EngineConfig:
    return EngineConfig(tuple(profiles), Timings(), preference=preference)  # type: ignore[arg-type]


def test_kinds_are_derived_and_the_users_word_wins() -> None:
    assert [p.way_out for p in (WG, OVPN_TCP, SS, TOR, PTA, PSIPHON)] == [
        "plain", "plain", "obfuscated", "tor", "registered", "obfuscated"]


@pytest.mark.parametrize(("preference", "expected"), [
    ("speed", ["outline", "vless", "office", "ovpn-tcp", "tor", "wg2"]),
    ("privacy", ["tor", "outline", "vless", "ovpn-tcp", "wg2", "office"]),
])
def test_after_a_dpi_kill_of_plain_udp(preference: str, expected: list[str]) -> None:
    cfg = config(WG, WG2, OVPN_TCP, TOR, PTA, SS, CORE, preference=preference)
    order = policy.candidates(cfg, 0.0, {}, {}, exclude=("wg",), after_dpi_kill_of=WG)
    assert [p.name for p in order] == expected


def test_a_dpi_kill_of_plain_tcp_puts_other_tcp_last_and_udp_before_it() -> None:
    cfg = config(OVPN_TCP, replace(OVPN_TCP, name="ovpn-tcp2"), WG, SS)
    order = policy.candidates(cfg, 0.0, {}, {}, exclude=("ovpn-tcp",), after_dpi_kill_of=OVPN_TCP)
    assert [p.name for p in order] == ["outline", "wg", "ovpn-tcp2"]


def test_no_reordering_when_an_obfuscated_way_out_died_or_without_a_dpi_kill() -> None:
    cfg = config(WG, SS, CORE, TOR)
    assert [p.name for p in policy.candidates(cfg, 0.0, {}, {}, exclude=("outline",), after_dpi_kill_of=SS)] == [
        "wg", "vless", "tor"]
    assert [p.name for p in policy.candidates(cfg, 0.0, {}, {})] == ["wg", "outline", "vless", "tor"]


def test_privacy_moves_registered_last_and_speed_keeps_the_users_order() -> None:
    assert [p.name for p in policy.ranked(config(PTA, WG, TOR, preference="privacy"))] == ["tor", "wg", "office"]
    assert [p.name for p in policy.ranked(config(PTA, WG, TOR))] == ["office", "wg", "tor"]


def test_start_choice_remembers_the_kind_that_worked_on_a_network() -> None:
    options = [WG, OVPN_TCP, CORE]
    assert policy.start_choice(options, "outline", "obfuscated") == "vless"  # outline is quarantined here
    assert policy.start_choice(options, "ovpn-tcp", "plain") == "ovpn-tcp"
    assert policy.start_choice(options, None, None) == "wg"
    assert policy.start_choice([], "wg", "plain") is None


def test_the_engine_starts_with_and_remembers_the_kind_that_works() -> None:
    from tests.unit.test_engine import Driver
    from vpnswitch.core.model import Connect, Remember, Start

    d = Driver(config(WG, SS))
    d(Start("home", memory={"home" + WAY_OUT_KEY: "obfuscated"}))
    assert [c.profile for c in d.of(Connect)] == ["outline"]  # the kind that worked here, though wg is first
    d.up_on("outline")
    assert d.state.memory == {"home": "outline", "home" + WAY_OUT_KEY: "obfuscated"}
    d2 = Driver(config(WG, SS))
    d2.up_on("wg")
    assert Remember("net-1" + WAY_OUT_KEY, "plain") in d2.actions and Remember("net-1", "wg") in d2.actions
