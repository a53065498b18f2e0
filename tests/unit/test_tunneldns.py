"""Tunnel DNS: the three ways it is applied, crash-safe restore of resolv.conf, and pushed OpenVPN options.

The resolv.conf way is also exercised for real in a lab namespace (tests/lab/test_tunneldns_lab.py).
systemd-resolved and resolvconf cannot run on the test machines (no systemd; installing resolvconf would
take over the machine's own resolv.conf), so their command lines are checked here with a recording runner.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from vpnswitch.privileged import openvpn_up, tunneldns
from vpnswitch.privileged.tunneldns import (
    DnsError,
    DnsSettings,
    TunnelDns,
    openvpn_up_options,
    parse_foreign_options,
    pushed_dns,
    resolv_conf_text,
)
from vpnswitch.system.runner import Completed

ORIGINAL = "nameserver 192.168.1.1\nsearch home\n"
TUNNEL = DnsSettings(("10.64.0.1", "fd00::53"), ("corp.example",))


class Recorder:
    def __init__(self, fail: str | None = None) -> None:
        self.calls: list[tuple[list[str], str | None]] = []
        self.fail = fail

    def run(self, argv: Sequence[str], *, timeout: float, stdin_data: str | None = None, **_: Any) -> Completed:
        assert timeout > 0
        self.calls.append((list(argv), stdin_data))
        code = 1 if self.fail and self.fail in argv else 0
        return Completed(tuple(argv), code, "", "Failed" if code else "", 0.01)


@pytest.fixture(autouse=True)
def machine_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests stand for a machine in its own network namespace, wherever they run."""
    monkeypatch.setattr(tunneldns, "_own_network_namespace", lambda: False)


def make(tmp_path: Path, method: tunneldns.Method | None = "file", runner: Recorder | None = None) -> TunnelDns:
    conf = tmp_path / "resolv.conf"
    if not conf.exists() and not conf.is_symlink():
        conf.write_text(ORIGINAL)
    return TunnelDns(runner or Recorder(), state_dir=tmp_path / "state", resolv_conf=conf,  # type: ignore[arg-type]
                     method=method)


def test_the_file_way_writes_the_tunnels_resolvers_and_puts_the_original_back(tmp_path: Path) -> None:
    dns = make(tmp_path)
    assert dns.apply("tun0", TUNNEL) == "file"
    text = dns.resolv_conf.read_text()
    assert tunneldns.nameservers(text) == ["10.64.0.1", "fd00::53"] and "search corp.example" in text
    assert dns.applied() == ["tun0"]
    assert dns.restore("tun0") is True
    assert dns.resolv_conf.read_text() == ORIGINAL and dns.applied() == []
    assert dns.restore("tun0") is False  # again: nothing to do


def test_the_original_is_on_disk_before_resolv_conf_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dns = make(tmp_path)
    real_write = dns._write
    seen: list[dict[str, Any]] = []

    def crash(path: Path, text: str) -> None:
        if not seen:  # the first write is the change itself: the state file must already hold the original
            seen.append(json.loads((tmp_path / "state" / "tun0.json").read_text()))
            raise KeyboardInterrupt  # interrupted halfway
        real_write(path, text)

    monkeypatch.setattr(dns, "_write", crash)
    with pytest.raises(KeyboardInterrupt):
        dns.apply("tun0", TUNNEL)
    assert seen[0]["original"] == ORIGINAL and seen[0]["written"] == resolv_conf_text(TUNNEL)
    assert dns.resolv_conf.read_text() == ORIGINAL and dns.applied() == []  # and an interrupted apply undoes itself


def test_recover_after_a_crash_and_reconcile_after_the_interface_went(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    make(tmp_path).apply("tun0", TUNNEL)
    after_crash = make(tmp_path)  # a new process: only the state file remembers
    monkeypatch.setattr(after_crash, "_link_exists", lambda name: True)
    assert after_crash.reconcile() == []  # the tunnel is still there
    monkeypatch.setattr(after_crash, "_link_exists", lambda name: False)
    assert after_crash.reconcile() == ["tun0"]
    assert after_crash.resolv_conf.read_text() == ORIGINAL
    make(tmp_path).apply("tun1", TUNNEL)
    assert make(tmp_path).recover() == ["tun1"] and (tmp_path / "resolv.conf").read_text() == ORIGINAL


def test_what_someone_else_wrote_meanwhile_is_left_alone(tmp_path: Path) -> None:
    dns = make(tmp_path)
    dns.apply("tun0", TUNNEL)
    dns.resolv_conf.write_text("nameserver 192.168.7.1\n")  # DHCP renewed on a new network
    assert dns.restore("tun0") is True
    assert dns.resolv_conf.read_text() == "nameserver 192.168.7.1\n" and dns.applied() == []


def test_a_symlinked_resolv_conf_comes_back_as_the_same_symlink(tmp_path: Path) -> None:
    target = tmp_path / "managed-resolv.conf"
    target.write_text(ORIGINAL)
    (tmp_path / "resolv.conf").symlink_to(target)
    dns = make(tmp_path)
    dns.apply("tun0", TUNNEL)
    assert not dns.resolv_conf.is_symlink() and target.read_text() == ORIGINAL  # the other program's file: untouched
    dns.restore("tun0")
    assert os.readlink(dns.resolv_conf) == str(target)


def test_one_tunnel_at_a_time_owns_resolv_conf(tmp_path: Path) -> None:
    dns = make(tmp_path)
    dns.apply("tun0", TUNNEL)
    dns.apply("wg1", DnsSettings(("10.9.0.1",)))
    assert dns.applied() == ["wg1"]
    dns.restore("wg1")
    assert dns.resolv_conf.read_text() == ORIGINAL


def test_a_namespace_sharing_the_machines_resolv_conf_is_refused(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tunneldns, "_own_network_namespace", lambda: True)
    dns = make(tmp_path)
    with pytest.raises(DnsError, match="whole machine") as caught:
        dns.apply("tun0", TUNNEL)
    assert "/etc/netns/" in caught.value.hint
    assert dns.resolv_conf.read_text() == ORIGINAL and dns.applied() == []


def test_systemd_resolved_gets_servers_domains_and_default_route_per_link(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    runner = Recorder()
    dns = make(tmp_path, "resolved", runner)
    assert dns.apply("tun0", TUNNEL) == "resolved"
    assert [argv for argv, _ in runner.calls] == [
        ["resolvectl", "dns", "tun0", "10.64.0.1", "fd00::53"],
        ["resolvectl", "domain", "tun0", "corp.example", "~."],  # ~.: this link answers for every name
        ["resolvectl", "default-route", "tun0", "yes"],
    ]
    assert dns.resolv_conf.read_text() == ORIGINAL
    monkeypatch.setattr(dns, "_link_exists", lambda name: True)
    dns.restore("tun0")
    assert runner.calls[-1][0] == ["resolvectl", "revert", "tun0"]


def test_resolvconf_gets_the_settings_on_stdin_and_a_failure_leaves_nothing_recorded(tmp_path: Path) -> None:
    runner = Recorder()
    dns = make(tmp_path, "resolvconf", runner)
    dns.apply("tun0", TUNNEL)
    assert runner.calls == [(["resolvconf", "-a", "tun0"], resolv_conf_text(TUNNEL))]
    dns.restore("tun0")
    assert runner.calls[-1] == (["resolvconf", "-d", "tun0"], None)
    failing = make(tmp_path, "resolvconf", Recorder(fail="-a"))
    with pytest.raises(DnsError, match="resolvconf -a failed"):
        failing.apply("tun0", TUNNEL)
    assert failing.applied() == []


@pytest.mark.parametrize("settings", [DnsSettings(("resolver.example",)), DnsSettings(("10.0.0.1",), ("a b",)),
                                      DnsSettings(("10.0.0.1",), ("x\nnameserver 6.6.6.6",)), DnsSettings(())])
def test_bad_settings_are_refused_before_anything_changes(tmp_path: Path, settings: DnsSettings) -> None:
    dns = make(tmp_path)
    with pytest.raises((ValueError, DnsError)):
        dns.apply("tun0", settings)
    with pytest.raises(ValueError):
        dns.apply("../../etc/x", TUNNEL)
    assert dns.resolv_conf.read_text() == ORIGINAL and dns.applied() == []


def test_detection_prefers_resolved_only_when_it_is_the_system_resolver(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tunneldns.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(tunneldns, "RESOLVED_DIR", tmp_path)
    stub = make(tmp_path, None)
    stub.resolv_conf.write_text("nameserver 127.0.0.53\n")
    assert stub.method() == "resolved"
    plain = make(tmp_path, None)
    plain.resolv_conf.write_text(ORIGINAL)
    assert plain.method() == "resolvconf"  # resolved runs, but apps do not ask it
    monkeypatch.setattr(tunneldns.shutil, "which", lambda name: None)
    assert make(tmp_path, None).method() == "file"


# ---------------------------------------------------------------------- OpenVPN's pushed options


def test_pushed_options_keep_only_well_formed_resolvers_and_domains() -> None:
    options = ["dhcp-option DNS 10.8.0.1", "dhcp-option DNS6 fd00::1", "dhcp-option DOMAIN corp.example",
               "dhcp-option DOMAIN-SEARCH eng.corp.example", "dhcp-option DNS evil.example",
               "dhcp-option DOMAIN a;rm -rf /", "dhcp-option DNS 10.8.0.1", "dhcp-option WINS 10.8.0.2",
               "route 0.0.0.0 0.0.0.0", "dhcp-option DNS 1.2.3.4 extra"]
    assert parse_foreign_options(options) == DnsSettings(("10.8.0.1", "fd00::1"),
                                                         ("corp.example", "eng.corp.example"))


def test_the_up_script_records_what_openvpn_hands_it_and_the_service_reads_it(tmp_path: Path) -> None:
    env = {"dev": "tun3", "foreign_option_1": "dhcp-option DNS 10.8.0.1",
           "foreign_option_2": "dhcp-option DOMAIN corp.example", "foreign_option_4": "dhcp-option DNS 6.6.6.6"}
    assert openvpn_up.record(tmp_path, env) == tmp_path / "tun3.json"
    assert pushed_dns("tun3", tmp_path) == DnsSettings(("10.8.0.1",), ("corp.example",))  # stops at the gap
    assert openvpn_up.record(tmp_path, {"dev": "../../etc/passwd"}) is None  # a device name only
    assert pushed_dns("tun9", tmp_path) is None
    assert openvpn_up.main([str(tmp_path / "unwritable" / "\0")]) == 0  # never fails the connection


def test_openvpn_runs_only_our_up_script_with_a_fixed_argv(tmp_path: Path) -> None:
    options = openvpn_up_options(tmp_path / "pushed", python="/usr/bin/python3")
    assert options == ["--script-security", "2",
                       "--up", f"/usr/bin/python3 -I -m vpnswitch.privileged.openvpn_up {tmp_path / 'pushed'}",
                       "--up-restart"]
    with pytest.raises(ValueError):
        openvpn_up_options(Path("/run/with space"))
