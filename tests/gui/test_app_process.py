"""The real `vpnswitch` tray app as a process (offscreen Qt): the CLI drives it like the daemon, a second launch
raises its window, a broken settings file neither stops it nor gets overwritten, SIGTERM ends it cleanly.

Its profiles point at nothing reachable and are disabled, so the engine runs but never connects anywhere.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gui.xsession import tied_to_parent

ROOT = Path(__file__).resolve().parents[2]
CONFIG = {
    "version": 1,
    "profiles": [{"name": "wg-home", "backend": "command", "enabled": False,
                  "params": {"connect": ["/nonexistent/vpn", "up"], "disconnect": ["/nonexistent/vpn", "down"],
                             "interface": "vst-none0"}}],
    "targets": [{"url": "http://127.0.0.1:9/generate_204", "role": "canary", "expect": [204]}],
}


class App:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "DBUS_SESSION_BUS_ADDRESS")}
        self.env.update(VPNSWITCH_HOME=str(home), QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(home / "xdg"),
                        PYTHONPATH=str(ROOT))
        self.log = home / "log" / "vpnswitch.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "vpnswitch", *args], env=self.env, capture_output=True,
                              text=True, timeout=timeout)

    def start(self, *args: str) -> None:
        with (self.home / "stderr.txt").open("wb") as stderr:
            self.proc = subprocess.Popen(tied_to_parent([sys.executable, "-m", "vpnswitch", *args]), env=self.env,
                                         stdout=subprocess.DEVNULL, stderr=stderr)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.cli("status", "--json").returncode == 0:
                return
            assert self.proc.poll() is None, (self.home / "stderr.txt").read_text()
            time.sleep(0.2)
        raise AssertionError("the tray app never answered on its control socket")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.json").write_text(json.dumps(CONFIG))
    a = App(tmp_path)
    yield a
    if a.proc is not None and a.proc.poll() is None:
        a.proc.kill()
        a.proc.wait(timeout=10)


def test_the_cli_drives_the_tray_app_like_the_daemon(app: App) -> None:
    app.start("--minimized")
    status = json.loads(app.cli("status", "--json").stdout)
    assert [p["name"] for p in status["profiles"]] == ["wg-home"]
    assert app.cli("pause").stdout.strip() == "automatic switching paused"
    assert json.loads(app.cli("status", "--json").stdout)["paused"] is True
    assert app.cli("resume").returncode == 0
    missing = app.cli("switch", "nope")
    assert missing.returncode == 1 and 'no profile named "nope"' in missing.stderr

    second = app.cli()  # `vpnswitch` again: hands over to the running one and exits
    assert second.returncode == 0, second.stderr
    assert "already running" in second.stdout
    assert app.proc is not None and app.proc.poll() is None

    assert app.stop() == 0
    assert not (app.home / "run" / "control.sock").exists()
    assert "tray icon shown" in app.log_text() or "no system tray yet" in app.log_text()


def test_a_broken_settings_file_is_reported_and_left_alone(app: App) -> None:
    broken = b'{"profiles": [ {"name": "wg-home", '  # cut off mid-edit
    config_file = app.home / "config" / "config.json"
    config_file.write_bytes(broken)
    app.start("--minimized")
    assert app.cli("status").returncode == 0  # running, on defaults
    assert "settings file not usable, running on defaults" in app.log_text()
    assert app.stop() == 0
    assert config_file.read_bytes() == broken
    assert list(config_file.parent.glob("*.broken-*")) == []  # nothing is moved until the user saves


def test_a_second_launch_while_the_daemon_runs_says_so(app: App) -> None:
    daemon = subprocess.Popen(tied_to_parent([sys.executable, "-m", "vpnswitch", "daemon"]), env=app.env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while app.cli("status").returncode != 0:
            assert time.monotonic() < deadline, "the daemon did not start"
            time.sleep(0.2)
        tray = subprocess.Popen(tied_to_parent([sys.executable, "-m", "vpnswitch", "--minimized"]), env=app.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while "the engine could not start" not in app.log_text():
                assert time.monotonic() < deadline, app.log_text()
                assert tray.poll() is None
                time.sleep(0.2)
            assert "already running" in app.log_text()  # and the window says so until the user closes it
            assert app.cli("status").returncode == 0  # the daemon was not disturbed
        finally:
            tray.send_signal(signal.SIGTERM)
            assert tray.wait(timeout=30) == 1
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=30)
