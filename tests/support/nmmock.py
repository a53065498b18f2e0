"""A private D-Bus bus with one of python-dbusmock's templates on it: NetworkManager for the networkmanager
backend, logind for the sleep watcher.

The test starts its own ``dbus-daemon`` (never the machine's system bus) and the mock as a child process,
drives the mock through its ``org.freedesktop.DBus.Mock`` interface (over jeepney), and stops both by
PID. python-dbusmock may live in another interpreter than the tests (Debian's python3-dbusmock), so the
mock runs under the first python that can import it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from jeepney import DBusAddress, new_method_call  # type: ignore[import-untyped]
from jeepney.bus_messages import message_bus  # type: ignore[import-untyped]
from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped]
from jeepney.wrappers import unwrap_msg  # type: ignore[import-untyped]

from tests.conftest import in_ci
from vpnswitch.system.runner import stop_process

NM = "org.freedesktop.NetworkManager"
MAIN = "/org/freedesktop"
MOCK = "org.freedesktop.DBus.Mock"

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def _mock_python() -> str | None:
    """An interpreter that has python-dbusmock (and dbus-python, which it needs)."""
    candidates = [sys.executable, shutil.which("python3"), "/usr/bin/python3"]
    for candidate in dict.fromkeys(c for c in candidates if c):
        try:
            probe = subprocess.run([candidate, "-c", "import dbusmock, dbus"], capture_output=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return candidate
    return None


def require_prerequisites(what: str = "NetworkManager") -> str:
    """The mock's interpreter; fails under CI, skips elsewhere, when something is missing."""
    problems = []
    if shutil.which("dbus-daemon") is None:
        problems.append("dbus-daemon is missing (apt-get install dbus-daemon)")
    python = _mock_python()
    if python is None:
        problems.append("python-dbusmock is missing (apt-get install python3-dbusmock, or pip install "
                        "python-dbusmock dbus-python)")
    if problems:
        message = f"{what} D-Bus mock unavailable: " + "; ".join(problems)
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    assert python is not None
    return python


class NmMock:
    """The bus address plus helpers that call the mock's own methods."""

    def __init__(self, address: str, log: Path, bus_name: str = NM) -> None:
        self.address = address
        self.log = log
        self.bus_name = bus_name

    def call(self, path: str, interface: str, method: str, signature: str = "", body: tuple[Any, ...] = (),
             destination: str | None = None) -> tuple[Any, ...]:
        with open_dbus_connection(bus=self.address) as conn:
            message = new_method_call(DBusAddress(path, bus_name=destination or self.bus_name, interface=interface),
                                      method,
                                      signature or None, body)
            result: tuple[Any, ...] = unwrap_msg(conn.send_and_get_reply(message, timeout=10))
            return result

    def mock(self, path: str, method: str, signature: str, body: tuple[Any, ...]) -> tuple[Any, ...]:
        return self.call(path, MOCK, method, signature, body)

    def add_method(self, path: str, interface: str, name: str, in_sig: str, out_sig: str, code: str) -> None:
        self.mock(path, "AddMethod", "sssss", (interface, name, in_sig, out_sig, code))

    def emit(self, path: str, interface: str, name: str, signature: str, args: list[Any]) -> None:
        """Emit a signal from ``path`` (values as jeepney variants for the ``av`` list)."""
        variants = [(sig, value) for sig, value in zip(_split(signature), args, strict=True)]
        self.mock(path, "EmitSignal", "sssav", (interface, name, signature, variants))

    def set_property(self, path: str, interface: str, name: str, value: tuple[str, Any]) -> None:
        self.mock(path, "UpdateProperties", "sa{sv}", (interface, {name: value}))

    def add_ethernet(self, name: str, iface: str) -> str:
        (path,) = self.mock(MAIN, "AddEthernetDevice", "ssi", (name, iface, 100))
        return str(path)


def _split(signature: str) -> list[str]:
    """Single complete types of a simple signature (enough for "uu", "u", "s")."""
    return list(signature)


@contextmanager
def nm_mock(tmp: Path) -> Iterator[NmMock]:
    with dbus_mock(tmp, "networkmanager", NM) as mock:
        yield mock


@contextmanager
def dbus_mock(tmp: Path, template: str, bus_name: str) -> Iterator[NmMock]:
    """A private system bus with python-dbusmock's ``template`` on it, owning ``bus_name``."""
    python = require_prerequisites(template)
    tmp.mkdir(parents=True, exist_ok=True)
    socket = tmp / "system_bus_socket"
    config = tmp / "bus.conf"
    config.write_text(BUS_CONFIG.format(socket=socket))
    bus = subprocess.Popen(["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address=1"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    mock: subprocess.Popen[bytes] | None = None
    try:
        assert bus.stdout is not None
        address = bus.stdout.readline().decode().strip()
        if not address:
            raise RuntimeError(f"dbus-daemon did not start: {bus.stderr.read().decode() if bus.stderr else ''}")
        env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": address}
        log = tmp / f"{template}-mock.log"
        with open(log, "wb") as out:
            mock = subprocess.Popen([python, "-m", "dbusmock", "--system", "--template", template],
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env)
        _wait_for_name(address, mock, log, bus_name)
        yield NmMock(address, log, bus_name)
    finally:
        for proc in (mock, bus):
            if proc is not None:
                stop_process(proc, grace=5)


def _wait_for_name(address: str, mock: subprocess.Popen[bytes], log: Path, bus_name: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if mock.poll() is not None:
            raise RuntimeError(f"the {bus_name} mock exited: {log.read_text()[-2000:]}")
        try:
            with open_dbus_connection(bus=address) as conn:
                if unwrap_msg(conn.send_and_get_reply(message_bus.NameHasOwner(bus_name), timeout=2))[0]:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the {bus_name} mock did not appear on the bus")
