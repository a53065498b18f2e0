"""`vpnswitch detect`, conflicts in `vpnswitch check`, and the first start without a configuration file."""

from __future__ import annotations

import json
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from vpnswitch import cli
from vpnswitch.backends import conflicts as conflicts_module
from vpnswitch.backends import detect as detect_module
from vpnswitch.backends.conflicts import Conflict
from vpnswitch.backends.detect import Detected
from vpnswitch.core.config import Config, Profile
from vpnswitch.core.paths import Paths
from vpnswitch.service import wiring
from vpnswitch.service.commands import ControlHandler
from vpnswitch.service.runtime import CheckReport

FOUND = [
    Detected("mullvad", "Mullvad VPN", "mullvad", "/usr/bin/mullvad", (Profile("Mullvad VPN", "mullvad", {}),),
             conflicts=(Conflict("mullvad-killswitch", "Mullvad VPN", "lockdown blocks everything (it is on)",
                                 "Turn it off.", ("/usr/bin/mullvad", "lockdown-mode", "set", "off")),)),
    Detected("tor", "Tor", "tor", "/usr/bin/tor", (Profile("Tor", "tor", {}),),
             warnings=("No pluggable transport was found",)),
]


def test_detect_command_prints_apps_profiles_and_conflicts(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(detect_module, "detect", lambda: FOUND)
    assert cli.main(["detect"]) == 0
    out = capsys.readouterr().out
    assert "Mullvad VPN  [mullvad]  /usr/bin/mullvad" in out
    assert "BLOCKS: lockdown blocks everything" in out and "`/usr/bin/mullvad lockdown-mode set off`" in out
    assert "note: No pluggable transport was found" in out
    assert cli.main(["detect", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["app_id"] for d in data] == ["mullvad", "tor"]
    assert data[0]["conflicts"][0]["fix_command"] == ["/usr/bin/mullvad", "lockdown-mode", "set", "off"]


class StubRuntime:
    """Just what the check verb touches."""

    def __init__(self) -> None:
        self.config = Config(profiles=(Profile("nord", "nordvpn", {}),))

    def check(self) -> Future[CheckReport]:
        future: Future[CheckReport] = Future()
        future.set_result(CheckReport("nord", "healthy", [], ""))
        return future

    def snapshot(self) -> Any:
        return type("Snap", (), {"active": "nord"})()


def test_check_verb_reports_conflicts_and_the_active_backend_is_excused(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_find(**kwargs: Any) -> list[Conflict]:
        seen.update(kwargs)
        return [FOUND[0].conflicts[0]]

    monkeypatch.setattr(conflicts_module, "find_conflicts", fake_find)
    handler = ControlHandler(StubRuntime(), None)  # type: ignore[arg-type]
    answer = handler({"cmd": "check"})
    assert answer["ok"] and answer["result"]["verdict"] == "healthy"
    assert answer["result"]["conflicts"][0]["code"] == "mullvad-killswitch"
    assert seen["active_backend"] == "nordvpn"


def test_check_verb_survives_a_failing_conflict_search(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**kwargs: Any) -> list[Conflict]:
        raise RuntimeError("boom")

    monkeypatch.setattr(conflicts_module, "find_conflicts", broken)
    answer = ControlHandler(StubRuntime(), None)({"cmd": "check"})  # type: ignore[arg-type]
    assert answer["ok"] and answer["result"]["conflicts"] == []


def test_print_check_shows_conflicts(capsys: pytest.CaptureFixture[str]) -> None:
    cli._print_check({"active": "nord", "verdict": "healthy", "targets": [],
                      "conflicts": [FOUND[0].conflicts[0].to_json(),
                                    Conflict("x-connected", "X", "it is connected outside vpnswitch", "Disconnect X.",
                                             blocking=False).to_json()]})
    out = capsys.readouterr().out
    assert "BLOCKS Mullvad VPN: lockdown blocks everything" in out
    assert "WARN   X: it is connected outside vpnswitch" in out


def test_first_start_uses_detected_profiles_and_writes_nothing(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(detect_module, "detect", lambda **kwargs: FOUND)
    paths = Paths.default(tmp_path / "config.json")
    config = wiring.load_or_default(paths)
    assert [p.name for p in config.profiles] == ["Mullvad VPN", "Tor"]
    assert config.targets  # the defaults are still there
    assert not paths.config_file.exists()


def test_first_start_survives_a_broken_detection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**kwargs: Any) -> list[Detected]:
        raise RuntimeError("boom")

    monkeypatch.setattr(detect_module, "detect", broken)
    config = wiring.load_or_default(Paths.default(tmp_path / "config.json"))
    assert config.profiles == () and config.targets


def test_an_existing_file_is_used_as_it_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(detect_module, "detect", lambda **kwargs: FOUND)
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"version": 1, "profiles": []}))
    assert wiring.load_or_default(Paths.default(path)).profiles == ()
