"""The tray on a real X server with a real tray host (trayer) and a real notification server (dunst).

The app runs in its own process (tests.gui.tray_harness) with a fake runtime the test drives; clicks are real
X events from xdotool; the icon's colour is read back from the screen. Screenshots land in test-artifacts/.
Needs: Xvfb, trayer, xdotool, ImageMagick (import), dbus-daemon, dunst. With CI=true a missing tool fails.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import in_ci
from tests.gui.xsession import XSession, missing_tools, tied_to_parent

ROOT = Path(__file__).resolve().parents[2]
# Fill colours of resources/icons/state-*.svg.
COLOURS = {"healthy": (0x1E, 0x8E, 0x3E), "switching": (0xB2, 0x6A, 0x00), "down": (0xD9, 0x30, 0x25),
           "checking": (0x1A, 0x73, 0xE8)}


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[XSession]:
    missing = missing_tools()
    if missing:
        message = "the real-X tray test needs: " + ", ".join(missing)
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with XSession(tmp_path_factory.mktemp("xsession")) as s:
        yield s


class Harness:
    def __init__(self, session: XSession, root: Path) -> None:
        self.session = session
        env = dict(session.env, QT_QPA_PLATFORM="xcb", PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
        self.stderr = root / "harness.stderr"
        with self.stderr.open("wb") as stderr:
            self.proc = subprocess.Popen(tied_to_parent([sys.executable, "-m", "tests.gui.tray_harness", str(root)]),
                                         env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                                         text=True, cwd=ROOT)
        self.events: list[dict[str, Any]] = []

    def send(self, **msg: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()

    def wait_for(self, event: str, timeout: float = 15.0, **match: Any) -> dict[str, Any]:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            line = self.proc.stdout.readline()
            if not line:
                break
            msg = json.loads(line)
            self.events.append(msg)
            if msg["event"] == event and all(msg.get(k) == v for k, v in match.items()):
                return msg
        tail = self.stderr.read_text(errors="replace")[-3000:] if self.stderr.exists() else ""
        raise AssertionError(f"no {event} {match} within {timeout} s; seen {self.events[-8:]}\n{tail}")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.send(cmd="quit")
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()


@pytest.fixture
def harness(session: XSession, tmp_path: Path) -> Iterator[Harness]:
    h = Harness(session, tmp_path)
    try:
        yield h
    finally:
        h.close()


def icon_colour(session: XSession, tray: list[int], path: Path) -> tuple[int, int, int]:
    """The average colour of the saturated pixels of the tray icon, read from the screen."""
    from PySide6.QtGui import QImage

    x, y, w, h = tray
    session.screenshot(path, (x, y, w, h))
    image = QImage(str(path))
    assert not image.isNull()
    picked = []
    for py in range(image.height()):
        for px in range(image.width()):
            c = image.pixelColor(px, py)
            if c.saturation() > 120 and c.value() > 60:
                picked.append((c.red(), c.green(), c.blue()))
    assert len(picked) > 20, f"no icon visible at {tray}"
    return tuple(sum(p[i] for p in picked) // len(picked) for i in range(3))  # type: ignore[return-value]


def closest_state(colour: tuple[int, int, int]) -> str:
    return min(COLOURS, key=lambda s: sum((a - b) ** 2 for a, b in zip(COLOURS[s], colour, strict=True)))


def test_tray_icon_menu_and_switching_on_a_real_x_server(session: XSession, harness: Harness,
                                                         artifacts: Path) -> None:
    ready = harness.wait_for("ready")
    assert ready["available"] is True
    x, y, w, h = tray = ready["tray"]
    assert w > 0 and h > 0, "the tray host did not embed the icon"

    harness.send(cmd="push", state="connected", active="wg-home", verdict="healthy",
                 last_check="2026-11-28T10:00:00.000Z")
    icon = harness.wait_for("icon", state="healthy")
    assert "Connected via wg-home" in icon["tooltip"] and "Last check" in icon["tooltip"]
    time.sleep(0.3)
    assert closest_state(icon_colour(session, tray, artifacts / "x11-icon-healthy.png")) == "healthy"

    # A real right-click on the icon opens the menu, built fresh with the runtime's profiles. (Clicked near the
    # icon's lower edge, so the menu, which opens at the pointer, leaves the icon visible in the screenshot.)
    session.click(x + w // 2, y + h - 3, button=3)
    menu = harness.wait_for("menu")
    assert menu["visible"]
    assert menu["entries"] == ["Connected via wg-home: working", "wg-home", "wg-office", "ovpn-tcp",
                               "Pause automatic switching", "Check now", "Status…", "Settings…", "History…", "Quit"]
    assert menu["enabled"][0] is False  # the status line is information, not a command
    mx, my, mw, mh = menu["geometry"]
    left = max(0, min(mx, x) - 30)
    right = min(session.width, max(mx + mw, x + w) + 30)
    session.screenshot(artifacts / "tray-menu.png", (left, 0, right - left, my + mh + 20))

    # Clicking a profile in the menu reaches the runtime.
    ax, ay, aw, ah = menu["actions"]["profile:wg-office"]
    session.click(ax + aw // 2, ay + ah // 2, button=1)
    assert harness.wait_for("call")["call"] == ["switch", "wg-office"]

    # The icon and tooltip follow the runtime: switching, then down.
    harness.send(cmd="push", state="switching", active="wg-office", verdict="unknown")
    icon = harness.wait_for("icon", state="switching")
    assert "Switching to wg-office" in icon["tooltip"]
    time.sleep(0.3)
    assert closest_state(icon_colour(session, tray, artifacts / "x11-icon-switching.png")) == "switching"
    harness.send(cmd="push", state="exhausted", active=None, verdict="down")
    icon = harness.wait_for("icon", state="down")
    assert "No VPN works right now" in icon["tooltip"]
    time.sleep(0.3)
    assert closest_state(icon_colour(session, tray, artifacts / "x11-icon-down.png")) == "down"

    # Quit from the menu stops the runtime and ends the process.
    session.click(x + w // 2, y + h // 2, button=3)
    menu = harness.wait_for("menu")
    qx, qy, qw, qh = menu["actions"]["quit"]
    session.click(qx + qw // 2, qy + qh // 2, button=1)
    assert harness.wait_for("call")["call"] == ["stop"]
    assert harness.wait_for("exit")["code"] == 0
    assert harness.proc.wait(timeout=10) == 0


def test_a_failover_burst_becomes_one_desktop_notification(session: XSession, harness: Harness,
                                                           artifacts: Path) -> None:
    monitor = subprocess.Popen(tied_to_parent(["dbus-monitor", "--address", session.bus_address,
                                               "type='method_call',interface='org.freedesktop.Notifications',"
                                               "member='Notify'"]),
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=session.env)
    try:
        harness.wait_for("ready")
        time.sleep(0.5)  # let the monitor subscribe
        harness.send(cmd="notify", kind="failure", title="wg-home is not working",
                     message="wg-home stopped carrying traffic (x.com unreachable 3 times).")
        harness.send(cmd="notify", kind="switch", title="Switched to ovpn-tcp",
                     message="wg-home stopped carrying traffic (x.com unreachable 3 times); switched to ovpn-tcp "
                             "in 6.2 s.")
        shown = harness.wait_for("notified")
        assert shown["title"] == "Switched to ovpn-tcp"
        assert "switched to ovpn-tcp in 6.2 s" in shown["message"]
        time.sleep(1.0)
        harness.send(cmd="sent")
        sent = harness.wait_for("sent")
        assert len(sent["ids"]) == 1 and sent["ids"][0] > 0, "dunst did not accept exactly one notification"
        session.screenshot(artifacts / "notification.png", (session.width - 420, 0, 420, 200))
    finally:
        monitor.terminate()
        out, _ = monitor.communicate(timeout=10)
    calls = out.count("member=Notify")
    assert calls == 1, out
    assert 'string "Switched to ovpn-tcp"' in out


def test_a_panel_that_starts_after_the_app_still_gets_the_icon(tmp_path_factory: pytest.TempPathFactory,
                                                               artifacts: Path) -> None:
    """KDE and others run autostart entries before the panel exists: the app waits, with its window open."""
    missing = missing_tools(("Xvfb", "trayer", "xdotool", "import", "dbus-daemon"))
    if missing:
        if in_ci():
            pytest.fail("the late-panel test needs: " + ", ".join(missing), pytrace=False)
        pytest.skip("needs: " + ", ".join(missing))
    with XSession(tmp_path_factory.mktemp("late-panel"), tray=False, notifications=False) as late:
        harness = Harness(late, tmp_path_factory.mktemp("late-app"))
        try:
            harness.wait_for("started")
            window = harness.wait_for("window")  # no tray: the settings window is shown instead of quitting
            assert window["geometry"][2] > 0
            time.sleep(3)
            assert harness.proc.poll() is None
            late.start_tray()
            ready = harness.wait_for("ready", timeout=20)
            assert ready["available"] is True and ready["tray"][2] > 0
            late.screenshot(artifacts / "x11-late-panel.png")
        finally:
            harness.close()


def test_profiles_are_reordered_by_a_real_drag_and_drop(session: XSession, harness: Harness,
                                                        artifacts: Path) -> None:
    harness.wait_for("ready")
    harness.send(cmd="settings")
    harness.wait_for("window")
    harness.send(cmd="rows")
    before = harness.wait_for("rows")
    assert before["names"] == ["wg-home", "wg-office", "ovpn-tcp"]
    (x0, y0, w0, h0), _, (x2, y2, w2, h2) = before["rows"]
    # Press on the last profile, move in steps (past the drag distance), release over the top of the first.
    session.xdotool("mousemove", "--sync", str(x2 + w2 // 3), str(y2 + h2 // 2))
    session.xdotool("mousedown", "1")
    for step in range(1, 11):
        y = y2 + h2 // 2 - (y2 - y0) * step // 10
        session.xdotool("mousemove", "--sync", str(x2 + w2 // 3), str(y))
        time.sleep(0.05)
    session.xdotool("mousemove", "--sync", str(x0 + w0 // 3), str(y0 + 2))
    time.sleep(0.2)
    session.xdotool("mouseup", "1")
    time.sleep(0.5)
    harness.send(cmd="rows")
    after = harness.wait_for("rows")
    assert after["names"] == ["ovpn-tcp", "wg-home", "wg-office"]
