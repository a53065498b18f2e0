"""Importing a WireGuard/OpenVPN file into NetworkManager from the profiles page's Add menu, offscreen.

NetworkManager itself is not touched: the import function and the file dialog are replaced, so what is tested
is the page — the work runs on a worker, success adds an unsaved, selected profile, failure is explained and
changes nothing.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QFileDialog

from tests.gui.fakes import FakePort, command_profile
from vpnswitch.backends.nm import backend as networkmanager
from vpnswitch.core.config import Config, Profile
from vpnswitch.core.errors import BackendError
from vpnswitch.system.autostart import XdgAutostart
from vpnswitch.ui.settings.window import SettingsWindow
from vpnswitch.ui.workers import Workers

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="NetworkManager import is Linux only")


class FakeImport:
    """Stands in for ``networkmanager.import_file``; records where and with what it was called."""

    def __init__(self, outcome: Profile | BaseException) -> None:
        self.outcome = outcome
        self.calls: list[tuple[Path, threading.Thread]] = []

    def __call__(self, path: Path, **_kwargs: Any) -> Profile:
        self.calls.append((Path(path), threading.current_thread()))
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome


@pytest.fixture
def window(qtbot: Any, tmp_path: Path, autostart: XdgAutostart, loopback_config: Config) -> SettingsWindow:
    config = replace(loopback_config, profiles=(command_profile("wg-home"), command_profile("wg-office")))
    port = FakePort(config, tmp_path / "config.json")
    w = SettingsWindow(port, Workers(), autostart, config_file=port.config_file, log_dir=tmp_path / "log")
    w.confirm_close = False
    qtbot.addWidget(w)
    w.show()
    return w


@pytest.fixture
def chosen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The file "picked" in the dialog; the dialog's arguments are checked so the filter stays right."""
    path = tmp_path / "office.conf"
    path.write_text("[Interface]\n")

    def pick(_parent: Any, _title: str, _folder: str, patterns: str) -> tuple[str, str]:
        assert "*.conf *.ovpn" in patterns
        return str(path), patterns

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(pick))
    return path


def import_action(window: SettingsWindow) -> Any:
    window.profiles._fill_add_menu()
    actions = {a.objectName(): a for a in window.profiles.add_menu.actions()}
    assert "import:networkmanager" in actions
    action = actions["import:networkmanager"]
    assert action.text() == "Import a WireGuard or OpenVPN file into NetworkManager…"
    return action


def test_an_imported_file_becomes_a_selected_unsaved_profile(qtbot: Any, window: SettingsWindow, chosen: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    profile = Profile("office (NetworkManager)", "networkmanager",
                      {"uuid": "5f0c2a4e-1d2b-4c3d-9e8f-0a1b2c3d4e5f", "interface": "wg-office"})
    fake = FakeImport(profile)
    monkeypatch.setattr(networkmanager, "import_file", fake)
    assert not window.save_button.isEnabled()

    import_action(window).trigger()
    qtbot.waitUntil(lambda: window.profiles.list.count() == 3)

    assert [(path, thread.name) for path, thread in fake.calls] == [(chosen, "vpnswitch-ui-import")]
    assert fake.calls[0][1] is not threading.main_thread()
    added = window.profiles.drafts()[-1]
    assert (added.name, added.backend, added.params) == (profile.name, "networkmanager", dict(profile.params))
    assert window.profiles.list.currentRow() == 2
    assert window.profiles.editor is not None and window.profiles.editor.draft is added
    assert window.problems() == []
    assert window.dirty and window.save_button.isEnabled()
    assert window.summary.text() == "Unsaved changes."
    assert "“office (NetworkManager)” was added to NetworkManager" in window.banner.text()
    assert window.profiles.add_button.isEnabled()


def test_a_failed_import_is_explained_and_changes_nothing(qtbot: Any, window: SettingsWindow, chosen: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeImport(BackendError("NetworkManager's openvpn plugin is not installed"))
    monkeypatch.setattr(networkmanager, "import_file", fake)
    before = [(d.name, d.backend, dict(d.params)) for d in window.profiles.drafts()]
    selected = window.profiles.list.currentRow()

    import_action(window).trigger()
    qtbot.waitUntil(lambda: "could not be imported" in window.banner.text())

    assert len(fake.calls) == 1 and fake.calls[0][1] is not threading.main_thread()
    assert "office.conf could not be imported: NetworkManager's openvpn plugin is not installed" \
        in window.banner.text()
    assert window.banner.isVisible() and "#a50e0e" in window.banner.styleSheet()  # shown as an error
    assert [(d.name, d.backend, dict(d.params)) for d in window.profiles.drafts()] == before
    assert window.profiles.list.currentRow() == selected
    assert not window.dirty and not window.save_button.isEnabled()
    assert window.profiles.add_button.isEnabled()


def test_cancelling_the_file_dialog_imports_nothing(qtbot: Any, window: SettingsWindow,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeImport(BackendError("must not be called"))
    monkeypatch.setattr(networkmanager, "import_file", fake)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *_args: ("", "")))

    import_action(window).trigger()
    qtbot.wait(50)

    assert fake.calls == [] and window.profiles.list.count() == 2 and not window.dirty
