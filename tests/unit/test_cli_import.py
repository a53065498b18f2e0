"""`vpnswitch import FILE`: the profile lands in the config file, nothing else changes, errors are clear."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from vpnswitch import cli
from vpnswitch.backends.nm import backend as networkmanager
from vpnswitch.core.config import Profile
from vpnswitch.core.errors import BackendError

EXISTING = {"version": 1, "profiles": [{"name": "mine", "backend": "command", "params": {
    "connect": ["a"], "disconnect": ["b"], "interface": "tun9"}}]}


@pytest.fixture
def imported(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    calls: list[Path] = []

    def fake_import(path: Path, **kwargs: Any) -> Profile:
        calls.append(path)
        return Profile(f"{kwargs.get('name') or path.stem} (NetworkManager)", "networkmanager", {"uuid": "u-1"})

    monkeypatch.setattr(networkmanager, "import_file", fake_import)
    return calls


def test_import_appends_a_profile(tmp_path: Path, imported: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(EXISTING))
    assert cli.main(["import", str(tmp_path / "home.conf"), "--config", str(config)]) == 0
    saved = json.loads(config.read_text())
    assert [p["name"] for p in saved["profiles"]] == ["mine", "home (NetworkManager)"]
    assert saved["profiles"][1] == {"name": "home (NetworkManager)", "backend": "networkmanager", "enabled": True,
                                    "params": {"uuid": "u-1"}}
    assert "added \"home (NetworkManager)\"" in capsys.readouterr().out


def test_a_duplicate_name_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(EXISTING))
    argv = ["import", str(tmp_path / "x.ovpn"), "--name", "mine", "--config", str(config)]
    monkeypatch.setattr(networkmanager, "import_file",
                        lambda *a, **k: Profile("mine", "networkmanager", {"uuid": "u"}))
    assert cli.main(argv) == 1
    assert 'a profile named "mine" already exists' in capsys.readouterr().err
    assert json.loads(config.read_text()) == EXISTING


def test_a_broken_config_stops_before_anything_is_imported(tmp_path: Path, imported: list[Path]) -> None:
    config = tmp_path / "config.json"
    config.write_bytes(b"{broken")
    assert cli.main(["import", str(tmp_path / "home.conf"), "--config", str(config)]) == 2
    assert imported == [] and config.read_bytes() == b"{broken"


def test_an_import_failure_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    def refuse(path: Path, **kwargs: Any) -> Profile:
        raise BackendError("NetworkManager's openvpn plugin is not installed")

    monkeypatch.setattr(networkmanager, "import_file", refuse)
    config = tmp_path / "config.json"
    config.write_text(json.dumps(EXISTING))
    assert cli.main(["import", str(tmp_path / "x.ovpn"), "--config", str(config)]) == 1
    assert "openvpn plugin is not installed" in capsys.readouterr().err
    assert json.loads(config.read_text()) == EXISTING
