"""Start an installed or bundled vpnswitch in a private X session with a tray host, in Urdu, and report what a
person would see: the tray icon (where the panel put it, and whether it is drawn), and the settings window's
title, which is only Urdu if the translation file was found and loaded.
"""

from __future__ import annotations

import json
import re
import select
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import in_ci
from tests.gui.xsession import XSession, missing_tools, tied_to_parent

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "packaging"
SHOWN = re.compile(r"tray icon shown ([\d.]+) s after start \(geometry (-?\d+),(-?\d+) (\d+)x(\d+)\)")
URDU_SETTINGS_TITLE = "vpnswitch کی سیٹنگز"  # "vpnswitch settings", from resources/i18n/vpnswitch_ur.ts
TRAY_WINDOWS = frozenset({"vpnswitch", "Qt Selection Owner for vpnswitch"})  # the tray's, not a window's
CONFIG = {
    "version": 1,
    "profiles": [{"name": "off", "backend": "command", "enabled": False,
                  "params": {"connect": ["/nonexistent/vpn", "up"], "disconnect": ["/nonexistent/vpn", "down"],
                             "interface": "vst-none0"}}],
    "targets": [{"url": "http://127.0.0.1:9/generate_204", "role": "canary", "expect": [204]}],
    "desktop": {"language": "ur"},
}


@dataclass
class Seen:
    seconds_to_icon: float
    geometry: tuple[int, int, int, int]
    icon_coloured_pixels: int
    window_titles: list[str]
    screenshot: Path


def need_x_tools() -> None:
    missing = missing_tools(("Xvfb", "trayer", "dbus-daemon", "xdotool", "import"))
    if missing:
        message = "needs " + ", ".join(missing)
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)


def _wait_for_icon(proc: subprocess.Popen[str], timeout: float) -> tuple[float, tuple[int, int, int, int], str]:
    assert proc.stderr is not None
    started = time.monotonic()
    seen = ""
    while time.monotonic() - started < timeout:
        ready, _, _ = select.select([proc.stderr], [], [], 1.0)
        if not ready:
            continue
        line = proc.stderr.readline()
        if not line:
            break
        seen += line
        match = SHOWN.search(line)
        if match:
            x, y, w, h = (int(match.group(i)) for i in range(2, 6))
            return time.monotonic() - started, (x, y, w, h), seen
    raise AssertionError(f"no tray icon within {timeout} s (exit code {proc.poll()}); output:\n{seen}")


def _window_titles(session: XSession, timeout: float) -> list[str]:
    """The titles of the app's top-level windows, once one more than the tray's own helper windows is there."""
    deadline = time.monotonic() + timeout
    titles: list[str] = []
    while time.monotonic() < deadline:
        found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "vpnswitch"], env=session.env,
                               capture_output=True, text=True, timeout=10)
        titles = [subprocess.run(["xdotool", "getwindowname", wid], env=session.env, capture_output=True,
                                 text=True, timeout=10).stdout.strip() for wid in found.stdout.split()]
        if any(title not in TRAY_WINDOWS for title in titles):
            return titles
        time.sleep(0.3)
    return titles


def coloured_pixels(png: Path) -> int:
    """Pixels with a clear colour: the panel is grey, so these are the icon's."""
    from PySide6.QtGui import QColor, QImage

    image = QImage(str(png))
    assert not image.isNull(), png
    return sum(1 for y in range(image.height()) for x in range(image.width())
               if QColor(image.pixel(x, y)).saturation() > 100)


def run_in_urdu(argv: list[str], root: Path, name: str, *, timeout: float = 60.0,
                extra_env: dict[str, str] | None = None) -> Seen:
    """Start ``argv`` (the app, not minimised) with Urdu chosen in its settings; stop it by PID afterwards."""
    need_x_tools()
    home = root / "home"
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.json").write_text(json.dumps(CONFIG))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with XSession(root / "session", notifications=False) as session:
        env = dict(session.env, VPNSWITCH_HOME=str(home), QT_QPA_PLATFORM="xcb", **(extra_env or {}))
        env.pop("PYTHONPATH", None)  # the installed or bundled copy, never this checkout
        proc = subprocess.Popen(tied_to_parent(argv), env=env, cwd=root, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        try:
            seconds, geometry, _output = _wait_for_icon(proc, timeout)
            titles = _window_titles(session, timeout)
            time.sleep(0.5)  # let the window finish drawing for the screenshot
            shot = session.screenshot(ARTIFACTS / f"{name}.png")
            x, y, w, h = geometry
            icon = session.screenshot(root / "icon.png", crop=geometry) if w > 0 and h > 0 and x >= 0 else None
            pixels = coloured_pixels(icon) if icon else 0
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(timeout=10)
                if proc.stderr is not None:
                    proc.stderr.close()
    return Seen(seconds, geometry, pixels, titles, shot)


def assert_tray_and_urdu(seen: Seen) -> None:
    x, y, w, h = seen.geometry
    assert w > 0 and h > 0, f"the tray host never embedded the icon (geometry {seen.geometry})"
    assert seen.icon_coloured_pixels > w * h // 5, "the tray icon is blank: the icons were not found"
    assert any(title.startswith(URDU_SETTINGS_TITLE) for title in seen.window_titles), \
        f"no settings window in Urdu; window titles: {seen.window_titles}"
