"""Shared fixtures: every test gets its own vpnswitch home, so no test touches the user's files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "vpnswitch-home"
    monkeypatch.setenv("VPNSWITCH_HOME", str(home))
    yield home


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
