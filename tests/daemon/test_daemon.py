"""The real ``vpnswitch daemon`` process, driven and observed only through the CLI.

Two ``command`` profiles stand for two VPN apps; each "app" is a SOCKS proxy on loopback that a test can
silently black-hole, which is what a censored tunnel looks like from the inside.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import fakevpn
from tests.support.servers import HttpSite, SocksProxy

SCRIPT = fakevpn.__file__


class Daemon:
    def __init__(self, tmp: Path, config: dict[str, Any]) -> None:
        self.tmp = tmp
        self.config_path = tmp / "config.json"
        self.config_path.write_text(json.dumps(config, indent=2))
        self.env = {**os.environ, "VPNSWITCH_HOME": str(tmp / "home")}
        self.proc: subprocess.Popen[str] | None = None

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "vpnswitch", *args, "--config", str(self.config_path)],
                              capture_output=True, text=True, timeout=timeout, env=self.env)

    def json(self, *args: str) -> Any:
        result = self.cli(*args, "--json")
        assert result.returncode in (0, 1), result.stderr
        return json.loads(result.stdout)

    def start(self) -> None:
        log = open(self.tmp / "daemon.log", "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vpnswitch", "--config", str(self.config_path), "daemon"],
            stdout=log, stderr=subprocess.STDOUT, text=True, env=self.env)
        self.wait(lambda: self.cli("status").returncode == 0, 30, "the daemon to answer")

    def wait(self, predicate: Callable[[], bool], limit: float, what: str) -> float:
        started = time.monotonic()
        while not predicate():
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"daemon exited: {(self.tmp / 'daemon.log').read_text()}")
            if time.monotonic() - started > limit:
                raise AssertionError(f"timed out waiting for {what}; log:\n{(self.tmp / 'daemon.log').read_text()}")
            time.sleep(0.2)
        return time.monotonic() - started

    def status(self) -> dict[str, Any]:
        return self.json("status")  # type: ignore[no-any-return]

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=40)


def profile(name: str, state: Path, proxy: SocksProxy) -> dict[str, Any]:
    return {"name": name, "backend": "command", "params": {
        "connect": [sys.executable, SCRIPT, "up", str(state)],
        "disconnect": [sys.executable, SCRIPT, "down", str(state)],
        "status": [sys.executable, SCRIPT, "status", str(state)],
        "proxy": proxy.url,
    }}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Daemon, SocksProxy, SocksProxy, HttpSite]]:
    with HttpSite() as site, SocksProxy() as first, SocksProxy() as second:
        config = {
            "version": 1,
            "profiles": [profile("first", tmp_path / "first", first), profile("second", tmp_path / "second", second)],
            "targets": [
                {"url": site.url("/generate_204"), "role": "canary", "expect": [204]},
                {"url": f"http://localhost:{site.port}/generate_204", "role": "canary", "expect": [204]},
                {"url": site.url("/status/200"), "role": "must-reach", "expect": [200]},
            ],
            "timings": {"probe_interval_min": 2, "probe_interval_max": 3, "probe_timeout": 1.0,
                        "confirm_delay": 0.2, "quarantine_initial": 300},
        }
        daemon = Daemon(tmp_path, config)
        daemon.start()
        try:
            yield daemon, first, second, site
        finally:
            if daemon.proc is not None and daemon.proc.poll() is None:
                daemon.stop()
            assert not (tmp_path / "first").exists() and not (tmp_path / "second").exists(), "a VPN was left up"


def test_daemon_switches_when_the_first_profile_stops_carrying_traffic(world: Any) -> None:
    daemon, first, second, _site = world
    daemon.wait(lambda: daemon.status()["state"] == "connected", 30, "the first connection")
    status = daemon.status()
    assert status["active"] == "first" and status["verdict"] == "healthy"
    assert [p["name"] for p in status["profiles"]] == ["first", "second"]
    assert {"name", "backend", "state", "quarantined_until"} <= set(status["profiles"][0])

    first.blackhole = True
    took = daemon.wait(lambda: daemon.status()["active"] == "second" and daemon.status()["state"] == "connected",
                       60, "the switch to the second profile")
    status = daemon.status()
    assert status["verdict"] == "healthy" and second.connections > 0
    quarantined = status["profiles"][0]
    assert quarantined["state"] == "quarantined" and quarantined["quarantined_until"]
    history = daemon.json("history")
    [switch] = [e for e in history if e["kind"] == "switch"]
    assert switch["from"] == "first" and switch["to"] == "second"
    assert "first stopped carrying traffic" in switch["reason"]
    assert 0 < switch["detect_s"] <= switch["outage_s"] < took + 10
    assert daemon.stop() == 0


def test_the_headless_daemon_records_latency_for_the_chart(world: Any, tmp_path: Path) -> None:
    daemon, *_ = world
    daemon.wait(lambda: daemon.status()["state"] == "connected", 30, "the first connection")

    def samples() -> list[dict[str, Any]]:
        found = list((tmp_path / "home").rglob("latency.jsonl"))
        lines = found[0].read_text().splitlines() if found else []
        return [json.loads(line) for line in lines]

    daemon.wait(lambda: any("latency_ms" in s for s in samples()), 30, "a latency sample")
    sample = next(s for s in samples() if "latency_ms" in s)
    assert sample["profile"] == "first" and sample["ok"] == sample["total"] == 3 and sample["latency_ms"] > 0


def test_daemon_switches_when_the_app_says_it_is_down(world: Any, tmp_path: Path) -> None:
    daemon, *_ = world
    daemon.wait(lambda: daemon.status()["state"] == "connected", 30, "the first connection")
    (tmp_path / "first.mode").write_text("down")
    daemon.wait(lambda: daemon.status()["active"] == "second" and daemon.status()["state"] == "connected",
                30, "the switch")
    [switch] = [e for e in daemon.json("history") if e["kind"] == "switch"]
    assert "it reports disconnected" in switch["reason"]


def test_cli_controls_the_running_daemon(world: Any) -> None:
    daemon, *_ = world
    daemon.wait(lambda: daemon.status()["state"] == "connected", 30, "the first connection")
    check = daemon.json("check")
    assert check["active"] == "first" and len(check["targets"]) == 3 and all(t["ok"] for t in check["targets"])
    assert daemon.cli("pause").returncode == 0
    daemon.wait(lambda: daemon.status()["state"] == "paused", 10, "pause")
    assert daemon.cli("resume").returncode == 0
    switched = daemon.cli("switch", "second")
    assert switched.returncode == 0 and "switching to second" in switched.stdout
    daemon.wait(lambda: daemon.status()["active"] == "second" and daemon.status()["state"] == "connected",
                30, "the manual switch")
    unknown = daemon.cli("switch", "nope")
    assert unknown.returncode == 1 and 'no profile named "nope"' in unknown.stderr
    human = daemon.cli("status")
    assert "connected via second (healthy)" in human.stdout
    assert "switch" in daemon.cli("history").stdout


def test_a_second_daemon_is_refused(world: Any) -> None:
    daemon, *_ = world
    result = subprocess.run([sys.executable, "-m", "vpnswitch", "--config", str(daemon.config_path), "daemon"],
                            capture_output=True, text=True, timeout=30, env=daemon.env)
    assert result.returncode == 1 and "already running" in result.stderr


def test_cli_without_a_running_instance_says_so(tmp_path: Path) -> None:
    daemon = Daemon(tmp_path, {"version": 1})
    for command in ("status", "check", "pause", "history"):
        result = daemon.cli(command)
        assert result.returncode == 1
        assert "vpnswitch is not running" in result.stderr and "Traceback" not in result.stderr


def test_reload_applies_new_settings_and_survives_a_broken_file(world: Any) -> None:
    daemon, *_ = world
    daemon.wait(lambda: daemon.status()["state"] == "connected", 30, "the first connection")
    config = json.loads(daemon.config_path.read_text())
    config["profiles"].reverse()
    daemon.config_path.write_text(json.dumps(config))
    assert daemon.cli("reload").returncode == 0
    daemon.wait(lambda: [p["name"] for p in daemon.status()["profiles"]] == ["second", "first"], 10, "the reload")
    broken = b'{"version": 1, "profiles": [{"name": "x", "backend": "comand"}]}'
    daemon.config_path.write_bytes(broken)
    result = daemon.cli("reload")
    assert result.returncode == 1 and 'unknown backend "comand" (did you mean "command"' in result.stderr
    assert daemon.config_path.read_bytes() == broken
    assert daemon.status()["state"] == "connected"  # still running, on the settings it had
