"""The StatusNotifierItem tray (what GNOME's AppIndicator extension, KDE Plasma and most panels host) against a
real watcher on a private session bus.

The watcher is ``status-notifier-watcher`` (Debian: haskell-status-notifier-item-utils), a standalone
``org.kde.StatusNotifierWatcher`` that needs no panel or GTK; the test registers itself as the host, as a panel
would, and then reads the app's item as a panel does: its tooltip, its menu over com.canonical.dbusmenu, and a
left click (Activate) that opens the status window. The app is the real DesktopApp (tests.gui.tray_harness) with
a fake runtime.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import in_ci
from tests.gui.test_tray_x11 import Harness
from tests.gui.xsession import XSession, missing_tools

WATCHER = "org.kde.StatusNotifierWatcher"


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[XSession]:
    missing = missing_tools(("Xvfb", "dbus-daemon"))
    if shutil.which("status-notifier-watcher") is None:
        missing.append("status-notifier-watcher (Debian package haskell-status-notifier-item-utils)")
    try:
        import jeepney  # noqa: F401
    except ImportError:
        missing.append("jeepney (pip)")
    if missing:
        message = "the StatusNotifierItem test needs: " + ", ".join(missing)
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with XSession(tmp_path_factory.mktemp("sni"), tray=False, notifications=False) as s:
        s._spawn(["status-notifier-watcher"], "watcher")
        s._wait_for_bus_name(WATCHER)
        yield s


class Bus:
    """A jeepney connection to the session's bus, acting as the tray host."""

    def __init__(self, address: str) -> None:
        from jeepney.io.blocking import open_dbus_connection

        self.conn = open_dbus_connection(address)

    def call(self, dest: str, path: str, interface: str, method: str, signature: str = "", body: tuple = ()) -> Any:
        from jeepney import DBusAddress, new_method_call

        msg = new_method_call(DBusAddress(path, bus_name=dest, interface=interface), method, signature, body)
        reply = self.conn.send_and_get_reply(msg, timeout=10)
        assert reply.header.message_type.name == "method_return", reply.body
        return reply.body

    def prop(self, dest: str, path: str, interface: str, name: str) -> Any:
        (_, value), = self.call(dest, path, "org.freedesktop.DBus.Properties", "Get", "ss", (interface, name))
        return value

    def close(self) -> None:
        self.conn.close()


def labels(layout: Any) -> list[str]:
    _id, props, children = layout
    out = [props["label"][1]] if "label" in props else []
    for _sig, child in children:
        out += labels(child)
    return out


def wait(predicate: Any, limit: float, what: str) -> Any:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_tray_is_a_status_notifier_item_a_panel_can_read_and_click(session: XSession, tmp_path: Path) -> None:
    bus = Bus(session.bus_address)
    try:
        host = f"org.kde.StatusNotifierHost-{os.getpid()}"
        bus.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "RequestName", "su",
                 (host, 0))
        bus.call(WATCHER, "/StatusNotifierWatcher", WATCHER, "RegisterStatusNotifierHost", "s", (host,))
        assert bus.prop(WATCHER, "/StatusNotifierWatcher", WATCHER, "IsStatusNotifierHostRegistered") is True

        harness = Harness(session, tmp_path)
        try:
            harness.wait_for("started", timeout=30)
            items = wait(lambda: bus.prop(WATCHER, "/StatusNotifierWatcher", WATCHER,
                                          "RegisteredStatusNotifierItems"), 20, "the app's item")
            assert len(items) == 1
            service, _, path = items[0].partition("/")
            path = "/" + path if path else "/StatusNotifierItem"
            item = "org.kde.StatusNotifierItem"
            assert bus.prop(service, path, item, "Status") in ("Active", "Passive")

            harness.send(cmd="push", state="connected", active="wg-home", verdict="healthy")
            harness.wait_for("icon", state="healthy")
            tooltip = wait(lambda: bus.prop(service, path, item, "ToolTip"), 10, "a tooltip")
            assert "Connected via wg-home: working" in " ".join(str(part) for part in tooltip)

            menu_path = bus.prop(service, path, item, "Menu")
            _revision, layout = bus.call(service, menu_path, "com.canonical.dbusmenu", "GetLayout", "iias",
                                         (0, -1, []))
            entries = [label.replace("_", "") for label in labels(layout) if label]
            for wanted in ("Connected via wg-home: working", "wg-home", "Pause automatic switching", "Status…",
                           "Settings…", "History…", "Quit"):
                assert wanted in entries, entries

            bus.call(service, path, item, "Activate", "ii", (10, 10))  # a left click on the panel's icon
            harness.wait_for("activated", reason="Trigger")
            harness.send(cmd="windows")
            windows = harness.wait_for("windows")
            assert windows["status"] is True
        finally:
            harness.close()
    finally:
        bus.close()
