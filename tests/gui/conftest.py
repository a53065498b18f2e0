"""GUI tests: real Qt widgets on the offscreen platform (no display needed), driven with pytest-qt.

The translations are built once per session, as the install does, so the Urdu tests run on the real .qm.
Screenshots go to test-artifacts/ for people to look at.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any Qt import; the tray test spawns its own X
os.environ.setdefault("PYTEST_QT_API", "pyside6")

from collections.abc import Iterator
from pathlib import Path

import pytest

from vpnswitch.core.config import Config, ProbeTarget, default_config
from vpnswitch.system.autostart import XdgAutostart

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
GUI_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if GUI_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.gui)


@pytest.fixture(scope="session", autouse=True)
def translations() -> list[Path]:
    """Compile resources/i18n/*.ts → .qm, as `python -m vpnswitch.ui.i18n_build` does at install time."""
    from vpnswitch.ui.i18n_build import build

    return build()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def localizer(qapp: object) -> Iterator[object]:
    """The app's language switcher; every test ends back in English, left to right."""
    from PySide6.QtWidgets import QApplication

    from vpnswitch.ui.i18n import Localizer

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    loc = Localizer(app)
    yield loc
    loc.apply("en")


@pytest.fixture
def autostart(tmp_path: Path) -> XdgAutostart:
    return XdgAutostart(config_home=tmp_path / "xdg-config", command=["/opt/vpnswitch/bin/vpnswitch", "--minimized"])


@pytest.fixture
def loopback_config() -> Config:
    """Defaults, with probe targets on loopback only."""
    targets = (ProbeTarget("http://127.0.0.1:9/generate_204", "canary", (204,)),
               ProbeTarget("http://localhost:9/generate_204", "canary", (204,)))
    base = default_config()
    return Config(targets=targets, timings=base.timings, behaviour=base.behaviour, desktop=base.desktop)
