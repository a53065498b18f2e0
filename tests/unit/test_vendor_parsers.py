"""Vendor status parsers and error classification on recorded outputs (formats from each vendor's source or,
for closed apps, from community scripts; see docs/backends.md for which is which)."""

from __future__ import annotations

import pytest

from vpnswitch.backends.vendors import (
    expressvpn,
    ivpn,
    mullvad,
    nordvpn,
    openvpn3,
    pia,
    tailscale,
    warp,
    windscribe,
)
from vpnswitch.backends.vendors.psiphon import PsiphonState, parse_notice
from vpnswitch.backends.vendors.spec import VendorBackend, VendorSpec, clean_output, error_for
from vpnswitch.core.errors import AuthFailed

MULLVAD_CONNECTED = (
    '{"state":"connected","details":{"endpoint":{"address":"185.213.154.68:51820","protocol":"udp",'
    '"tunnel_type":"wireguard","quantum_resistant":false,"tunnel_interface":"wg0-mullvad"},'
    '"location":{"country":"Sweden","city":"Gothenburg","hostname":"se-got-wg-001"},"feature_indicators":[]}}'
)
MULLVAD_ERROR = ('{"state":"error","details":{"cause":{"reason":"auth_failed","details":"[INVALID_ACCOUNT]"},'
                 '"block_failure":null}}')


def test_mullvad_json_states() -> None:
    state = mullvad.parse_status(MULLVAD_CONNECTED, {})
    assert (state.state, state.interface) == ("connected", "wg0-mullvad")
    assert state.detail == "se-got-wg-001, Gothenburg, Sweden"
    locked = mullvad.parse_status('{"state":"disconnected","details":{"location":null,"locked_down":true}}', {})
    assert locked.state == "disconnected" and locked.blocking
    error = mullvad.parse_status(MULLVAD_ERROR, {})
    assert error.state == "error" and error.blocking and "auth_failed ([INVALID_ACCOUNT])" in error.detail
    assert mullvad.parse_status('{"state":"disconnecting","details":"nothing"}', {}).state == "connecting"


def test_mullvad_text_format_and_events() -> None:
    text = "Connected\n    Relay:   se-got-wg-001\n    Tunnel interface:       wg0-mullvad\n"
    state = mullvad.parse_status(text, {})
    assert (state.state, state.interface) == ("connected", "wg0-mullvad")
    blocked = mullvad.parse_status("Blocked: Failed to set firewall policy", {})
    assert blocked.state == "error" and blocked.blocking
    # status listen -j mixes in other events; only tunnel states count.
    assert mullvad.parse_event('{"settings": {"lockdown_mode": true}}', {}) is None
    assert mullvad.parse_event("not json", {}) is None
    event = mullvad.parse_event('{"state":"connecting","details":{"endpoint":{}}}', {})
    assert event is not None and event.state == "connecting"


def test_mullvad_lockdown_query() -> None:
    parse = mullvad.SPEC.kill_switch.parse  # type: ignore[union-attr]
    assert parse("Block traffic when the VPN is disconnected: on") == "on"
    assert parse("Block traffic when the VPN is disconnected: off") is None


NORD_CONNECTED = """Status: Connected
Server: Germany #1234
Hostname: de1234.nordvpn.com
IP: 203.0.113.9
Country: Germany
City: Frankfurt
Current technology: OPENVPN
Current protocol: TCP
Transfer: 1.2 MiB received, 300 KiB sent
Uptime: 3 minutes 2 seconds"""


def test_nordvpn_status_and_interface_from_technology() -> None:
    state = nordvpn.parse_status(NORD_CONNECTED, {})
    assert (state.state, state.interface, state.detail) == ("connected", "nordtun", "Germany #1234, Frankfurt, Germany")
    assert nordvpn.parse_status("Status: Disconnected", {}).state == "disconnected"
    assert nordvpn.parse_status("Status: Connecting", {}).state == "connecting"
    assert nordvpn.parse_status("Status: Paused", {}).detail == "paused"


def test_nordvpn_spinner_and_colours_are_cleaned() -> None:
    raw = "\r-\r  \r\r\\\r  \r\x1b[91mWhoops! Cannot reach System Daemon.\x1b[0m\n"
    text = clean_output(raw)
    assert text == "Whoops! Cannot reach System Daemon."
    rule = nordvpn.SPEC.classify(text)
    assert rule is not None and rule.kind == "daemon-down"
    assert clean_output("\r-\r  \r-You are not logged in.") == "You are not logged in."
    assert nordvpn.SPEC.kill_switch.parse("Firewall: enabled\nKill Switch: enabled\n") == "on"  # type: ignore[union-attr]
    assert nordvpn.SPEC.kill_switch.parse("Kill Switch: disabled") is None  # type: ignore[union-attr]


def test_expressvpn_formats() -> None:
    assert expressvpn.parse_ctl_state("Connected\n", {}).state == "connected"
    assert expressvpn.parse_ctl_state("Reconnecting", {}).state == "connecting"
    assert expressvpn.parse_ctl_state("", {}).state == "unknown"
    legacy = clean_output("\x1b[1;32;49mConnected to Germany - Frankfurt - 1\x1b[0m\n\n   - If your VPN ...")
    state = expressvpn.parse_legacy_status(legacy, {})
    assert (state.state, state.detail) == ("connected", "Germany - Frankfurt - 1")
    assert expressvpn.parse_legacy_status("Not connected", {}).state == "disconnected"
    assert expressvpn.parse_legacy_status("Not Activated", {}).problem == "not-activated"


WINDSCRIBE = """Internet connectivity: available
Login state: Logged in
Connect state: Connected: Toronto
Protocol: WireGuard:443
Firewall state: Always On
Data usage: 1.2 GiB / Unlimited"""


def test_windscribe_status_variants() -> None:
    state = windscribe.parse_status(WINDSCRIBE, {})
    assert (state.state, state.detail) == ("connected", "Toronto")
    testing = windscribe.parse_status(WINDSCRIBE.replace("Connected: Toronto", "*Connected: Toronto"), {})
    assert testing.state == "connecting"
    bad = windscribe.parse_status(WINDSCRIBE.replace("Toronto", "Toronto [Network interference]"), {})
    assert bad.state == "error" and "network interference" in bad.detail
    assert windscribe.parse_status(WINDSCRIBE.replace("Connected: Toronto", "Disconnected"), {}).state \
        == "disconnected"
    assert windscribe.firewall_mode(WINDSCRIBE) == "always on"
    assert windscribe.firewall_mode(WINDSCRIBE.replace("Always On", "Off")) is None
    logged_out = windscribe.parse_status(WINDSCRIBE.replace("Logged in", "Logged out"), {})
    assert logged_out.problem == "not-logged-in"


def test_windscribe_protocol_validation_and_transport() -> None:
    assert windscribe.WindscribeBackend.validate_params({"protocol": "stealth:443"}) == []
    assert windscribe.WindscribeBackend.validate_params({"protocol": "carrier-pigeon"})[0][0] == "protocol"
    assert windscribe._transport({"protocol": "wstunnel"}) == "obfuscated"
    assert windscribe._transport({"protocol": "tcp:443"}) == "tcp"


def test_pia_words_and_monitor_lines() -> None:
    assert pia.parse_state("Connected\n", {}).state == "connected"
    assert pia.parse_state("DisconnectingToReconnect", {}).state == "connecting"
    assert pia.parse_state("Interrupted", {}).state == "error"
    assert pia.parse_event("Disconnected", {}).state == "disconnected"  # type: ignore[union-attr]
    assert pia.parse_event("garbage", {}) is None


IVPN = """VPN                         : CONNECTED
    Protocol                : WireGuard
    Server                  : nl3.wg.ivpn.net
Firewall                    : Enabled
Always-on firewall          : Disabled"""


def test_ivpn_status_and_firewall() -> None:
    assert ivpn.parse_status(IVPN, {}).state == "connected"
    assert ivpn.parse_status("VPN : ASSIGNIP", {}).state == "connecting"
    paused = ivpn.parse_status("VPN : PAUSED till 12:00", {})
    assert paused.state == "disconnected" and "paused" in paused.detail
    assert ivpn.firewall_mode(IVPN) == "on"
    assert ivpn.firewall_mode(IVPN.replace("Always-on firewall          : Disabled",
                                           "Always-on firewall          : Enabled")) == "always on"
    assert ivpn._connect({"protocol": "wg", "location": "nl"}) == ["connect", "-p", "wg", "nl"]
    assert ivpn._connect({}) == ["connect", "-fastest"]


def test_warp_json_and_text() -> None:
    assert warp.parse_status('{"status":"Connected","reason":"NetworkHealthy"}', {}).detail == ""
    degraded = warp.parse_status('{"status":"Connected","reason":"NetworkDegraded"}', {})
    assert degraded.state == "connected" and "NetworkDegraded" in degraded.detail
    missing = warp.parse_status('{"status":"Disconnected","reason":{"RegistrationMissing":"DaemonStartup"}}', {})
    assert missing.state == "error" and missing.problem == "not-logged-in"
    text = warp.parse_status("Status update: Connecting\nReason: Manual", {})
    assert text.state == "connecting"
    assert warp.parse_event("Status update: Disconnected", {}).state == "disconnected"  # type: ignore[union-attr]


def test_tailscale_exit_node_states() -> None:
    up = tailscale.parse_status('{"BackendState":"Running","ExitNodeStatus":{"ID":"n1","Online":true,'
                                '"TailscaleIPs":["100.64.0.7/32"]}}', {})
    assert (up.state, up.detail) == ("connected", "exit node 100.64.0.7")
    offline = tailscale.parse_status('{"BackendState":"Running","ExitNodeStatus":{"Online":false}}', {})
    assert offline.state == "error"
    assert tailscale.parse_status('{"BackendState":"Running"}', {}).state == "disconnected"
    assert tailscale.parse_status('{"BackendState":"NeedsLogin"}', {}).problem == "not-logged-in"
    assert tailscale.parse_status('{"BackendState":"Stopped"}', {}).state == "disconnected"
    assert tailscale._connect({"exit_node": "auto:any", "allow_lan": True}) == [
        "set", "--exit-node=auto:any", "--exit-node-allow-lan-access=true"]


SESSIONS = """-----------------------------------------------------------------------------
        Path: /net/openvpn/v3/sessions/46fff369sd155s41e5sb97fsbb9d54738124
     Created: Sun Jun 17 23:47:54 2018                  PID: 2856
       Owner: user                                Device: tun3
 Config name: /home/user/office.ovpn
Connected to: udp:203.0.113.5:1194
      Status: Connection, Client connected
-----------------------------------------------------------------------------
        Path: /net/openvpn/v3/sessions/77
 Config name: home
      Status: Connection, Client authentication failed
-----------------------------------------------------------------------------"""


def test_openvpn3_sessions_list() -> None:
    sessions = openvpn3.parse_sessions(SESSIONS)
    assert [(s.config, s.device) for s in sessions] == [("/home/user/office.ovpn", "tun3"), ("home", None)]
    office = openvpn3.parse_status(SESSIONS, {"config": "office.ovpn"})
    assert (office.state, office.interface) == ("connected", "tun3")
    assert openvpn3.parse_status(SESSIONS, {"config": "home"}).problem == "not-logged-in"
    assert openvpn3.parse_status("No sessions available", {"config": "home"}).state == "disconnected"


def test_psiphon_notices() -> None:
    state = PsiphonState()
    for line in ['{"data":{"port":1080},"noticeType":"ListeningSocksProxyPort","timestamp":"t"}',
                 '{"data":{"port":8080},"noticeType":"ListeningHttpProxyPort","timestamp":"t"}',
                 'panic: not a notice',
                 '{"data":{"count":1},"noticeType":"Tunnels","timestamp":"t"}']:
        state.feed(line)
    assert (state.socks_port, state.http_port, state.tunnels, state.ever_connected) == (1080, 8080, 1, True)
    state.feed('{"data":{"count":0},"noticeType":"Tunnels"}')
    assert state.tunnels == 0 and state.ever_connected
    state.feed('{"data":{"port":1080},"noticeType":"SocksProxyPortInUse"}')
    assert state.fatal == "its SOCKS port is already in use"
    assert parse_notice('{"noticeType": 5}') is None
    assert "panic: not a notice" in state.last


@pytest.mark.parametrize(("spec", "output", "kind"), [
    (mullvad.SPEC, "Error: Too many requests, try later", "rate-limited"),
    (mullvad.SPEC, "The account has expired", "expired"),
    (nordvpn.SPEC, "Please try again later. Too many requests", "rate-limited"),
    (nordvpn.SPEC, "Do you allow us to collect anonymous data? (y/n)", "prompt"),
    (windscribe.SPEC, "Disconnected: WireGuard key limit reached", "device-limit"),
    (windscribe.SPEC, "You are out of data", "expired"),
    (warp.SPEC, "Error: Too many requests", "rate-limited"),
    (openvpn3.SPEC, "Password:", "prompt"),
])
def test_error_rules(spec: VendorSpec, output: str, kind: str) -> None:
    rule = spec.classify(output)
    assert rule is not None and rule.kind == kind


def test_error_kinds_map_to_fatal_and_auth() -> None:
    auth = next(r for r in nordvpn.SPEC.errors if r.kind == "not-logged-in")
    error = error_for(nordvpn.SPEC, auth)
    assert isinstance(error, AuthFailed) and error.fatal and "nordvpn login" in error.hint
    busy = next(r for r in windscribe.SPEC.errors if r.kind == "busy")
    assert not error_for(windscribe.SPEC, busy).fatal


@pytest.mark.parametrize("cls", [mullvad.MullvadBackend, nordvpn.NordVpnBackend, expressvpn.ExpressVpnBackend,
                                 windscribe.WindscribeBackend, pia.PiaBackend, ivpn.IvpnBackend, warp.WarpBackend,
                                 tailscale.TailscaleBackend, openvpn3.OpenVpn3Backend])
def test_parameter_validation_names_the_field(cls: type[VendorBackend]) -> None:
    problems = cls.validate_params({"locaton": "de", "transport": "carrier"})
    keys = {key for key, _ in problems}
    assert {"locaton", "transport"} <= keys
    assert cls.name == cls.spec.name and cls.display_name
