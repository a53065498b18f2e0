"""A real Secret Service for keyring tests: gnome-keyring on a private D-Bus session bus, with a fresh HOME.

The keyring is created unlocked from a password on stdin (no prompt: a prompt would hang without a display).
Every process is started and stopped here by PID. With CI=true, missing tools fail the tests instead of skipping.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import in_ci
from tests.gui.xsession import tied_to_parent
from vpnswitch.system.runner import stop_process

KEYRING_PASSWORD = "test-login-password"


@dataclass
class SecretService:
    address: str
    home: Path
    env: dict[str, str]


def _has_name(env: dict[str, str], name: str) -> bool:
    out = subprocess.run(["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
                          "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner", f"string:{name}"],
                         env=env, capture_output=True, text=True, timeout=10)
    return "boolean true" in out.stdout


def _start_bus(root: Path) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    home, runtime = root / "home", root / "runtime"
    home.mkdir()
    runtime.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS")}
    env.update(HOME=str(home), XDG_RUNTIME_DIR=str(runtime), XDG_DATA_HOME=str(home / ".local/share"),
               XDG_CONFIG_HOME=str(home / ".config"), XDG_CACHE_HOME=str(home / ".cache"))
    bus = subprocess.Popen(tied_to_parent(["dbus-daemon", "--session", "--nofork", "--nopidfile",
                                           "--print-address=1"]),
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=env)
    assert bus.stdout is not None
    env["DBUS_SESSION_BUS_ADDRESS"] = bus.stdout.readline().decode().strip()
    return bus, env


def _stop(*procs: subprocess.Popen[bytes] | None) -> None:
    for proc in procs:
        if proc is not None:
            stop_process(proc, grace=5)
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()


def _require(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        message = f"keyring tests need {', '.join(missing)} (Debian: gnome-keyring, dbus-daemon, dbus-bin)"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@pytest.fixture
def secret_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SecretService]:
    """An unlocked "login" collection served by gnome-keyring; this process talks to it through the env."""
    _require("dbus-daemon", "dbus-send", "gnome-keyring-daemon")
    bus, env = _start_bus(tmp_path)
    daemon = None
    try:
        daemon = subprocess.Popen(tied_to_parent(["gnome-keyring-daemon", "--foreground", "--unlock",
                                                  "--components=secrets"]),
                                  stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  env=env)
        assert daemon.stdin is not None
        daemon.stdin.write(KEYRING_PASSWORD.encode())
        daemon.stdin.close()
        deadline = time.monotonic() + 15
        while not _has_name(env, "org.freedesktop.secrets"):
            assert time.monotonic() < deadline, "gnome-keyring did not claim org.freedesktop.secrets"
            assert daemon.poll() is None, "gnome-keyring-daemon exited"
            time.sleep(0.1)
        for key in ("DISPLAY", "WAYLAND_DISPLAY"):
            monkeypatch.delenv(key, raising=False)  # an unlock prompt must fail fast, never wait for a person
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", env["DBUS_SESSION_BUS_ADDRESS"])
        monkeypatch.setenv("HOME", env["HOME"])
        yield SecretService(env["DBUS_SESSION_BUS_ADDRESS"], Path(env["HOME"]), env)
    finally:
        _stop(daemon, bus)


@pytest.fixture
def bare_bus(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A session bus with no Secret Service on it."""
    _require("dbus-daemon", "dbus-send")
    bus, env = _start_bus(tmp_path)
    try:
        yield env
    finally:
        _stop(bus)
