"""The desktop app with the real engine, on a real X server with a notification server (dunst): first start →
Start → connected; a block → the switch in the status window and as a notification; a form edit → saved →
applied without a restart. In English and in Urdu, each window saved to test-artifacts/.

The app runs in its own process (tests.gui.real_flow); its two "VPN apps" are SOCKS proxies on loopback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import in_ci
from tests.gui.xsession import XSession, missing_tools, tied_to_parent

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[XSession]:
    missing = missing_tools(("Xvfb", "trayer", "dbus-daemon", "dunst"))
    if missing:
        message = "the real-runtime desktop test needs: " + ", ".join(missing)
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with XSession(tmp_path_factory.mktemp("xsession")) as s:
        yield s


def run_flow(session: XSession, root: Path, language: str) -> dict[str, dict[str, Any]]:
    env = dict(session.env, QT_QPA_PLATFORM="xcb", PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1",
               VPNSWITCH_HOME=str(root / "home"))
    done = subprocess.run(tied_to_parent([sys.executable, "-m", "tests.gui.real_flow", str(root), language,
                                          str(ARTIFACTS)]), env=env, capture_output=True, text=True, timeout=400,
                          cwd=ROOT)
    events = {}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            msg = json.loads(line)
            events[msg["event"]] = msg
    assert done.returncode == 0 and "timeout" not in events, (events, done.stderr[-4000:])
    return events


@pytest.mark.parametrize("language", ["en", "ur"])
def test_first_start_block_and_form_edit_with_the_real_engine(session: XSession, tmp_path: Path,
                                                               language: str) -> None:
    events = run_flow(session, tmp_path, language)

    welcome, before = events["welcome"], events["before-start"]
    assert welcome["offers"] == ["first", "second"] and welcome["config_file"] is False
    # Nothing connected before Start, though the engine ran for several probe intervals.
    assert before["profiles"] == 0 and before["active"] is None and before["first_up"] is False
    assert before["proxy_connections"] == 0

    connected = events["connected"]
    assert connected["config_file"] is True and connected["saved"] == ["first", "second"]

    switched = events["switched"]
    assert switched["notifier"] == "FreedesktopNotifier" and switched["sent"], "dunst did not take the notification"
    assert "second" in switched["message"] and "first" in switched["message"]
    assert "second" in switched["last_switch"] and "first" in switched["last_switch"]
    ladder = {row[0].split(". ", 1)[1]: row for row in switched["ladder"]}
    assert set(ladder) == {"first", "second"}
    if language == "en":
        assert "Why: first stopped carrying traffic" in switched["last_switch"]
        assert ladder["second"][1] == "in use"
        assert ladder["first"][1].startswith("resting after a failure, ") and "left" in ladder["first"][1]
        assert ladder["first"][2]  # why it rests

    edited = events["edited"]
    assert edited["applied"] == edited["saved"] and edited["saved"].startswith("socks5h://127.0.0.1:")
    assert edited["third_connections"] > 0  # traffic really goes through the edited proxy, same process
    assert events["exit"]["code"] == 0 and not events["exit"]["first_up"] and not events["exit"]["second_up"]
    for name in ("welcome", "status", "status-after-switch", "screen-notification", "settings-command",
                 "settings-tor", "settings-wireguard", "history"):
        assert (ARTIFACTS / f"{name}-{language}.png").stat().st_size > 1000
