"""Forms built from the backends' declared parameters: each kind of field, validation in words as you type,
files checked through the facade's import, NetworkManager's connections offered, the way-out kind saved, the
JSON editor only behind "Advanced"."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox, QPlainTextEdit, QPushButton

from tests.gui.fakes import FakePort
from tests.gui.test_settings import editor, open_window, save_and_wait
from vpnswitch.core.config import Config, Profile
from vpnswitch.system.autostart import XdgAutostart
from vpnswitch.ui import facade
from vpnswitch.ui.settings import specform
from vpnswitch.ui.settings.editors import JsonParamsEditor
from vpnswitch.ui.settings.specform import SpecEditor
from vpnswitch.ui.settings.window import SettingsWindow

OBFS4 = "obfs4 192.0.2.1:443 " + "A" * 40 + " cert=abc iat-mode=0"
WG = "[Interface]\nPrivateKey = x\nAddress = 10.0.0.2/32\n\n[Peer]\nPublicKey = y\nEndpoint = 127.0.0.1:51820\n" \
     "AllowedIPs = 0.0.0.0/0\n"


@pytest.fixture
def window(qtbot: Any, tmp_path: Path, loopback_config: Config, autostart: XdgAutostart,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[SettingsWindow]:
    monkeypatch.setitem(specform.DYNAMIC_CHOICES, ("networkmanager", "connection"), lambda: ["Office", "Proton NL"])
    config = Config(profiles=(Profile("Tor", "tor", {"bridges": [OBFS4], "transport": "obfs4"}),),
                    targets=loopback_config.targets)
    w = open_window(qtbot, FakePort(config, tmp_path / "config.json"), autostart, tmp_path)
    yield w
    w.dirty = False


def form(window: SettingsWindow) -> SpecEditor:
    params_editor = editor(window).params_editor
    assert isinstance(params_editor, SpecEditor)
    return params_editor


def test_tor_form_has_transport_bridges_and_check_boxes(qtbot: Any, window: SettingsWindow) -> None:
    tor = form(window)
    transport = tor.findChild(QComboBox, "param_transport")
    bridges = tor.findChild(QPlainTextEdit, "param_bridges")
    standby = tor.findChild(QCheckBox, "param_standby")
    proxy = tor.findChild(QCheckBox, "param_system_proxy")
    assert transport is not None and bridges is not None and standby is not None and proxy is not None
    assert [transport.itemText(i) for i in range(transport.count())] == [
        "Automatic", "obfs4", "Snowflake", "WebTunnel", "meek"]
    assert transport.currentData() == "obfs4" and bridges.toPlainText() == OBFS4
    get = tor.findChild(QPushButton, "get_bridges")
    assert get is not None and not get.isEnabled() and "bridges.torproject.org" in get.toolTip()
    assert not tor.more.isChecked()  # SOCKS port, tor program… wait under "More options"

    standby.setChecked(True)
    assert window.profiles.drafts()[0].params == {"transport": "obfs4", "bridges": [OBFS4], "standby": True}
    assert window.problems() == []

    transport.setCurrentIndex(transport.findData("snowflake"))  # says, in words, what is wrong and where
    assert window.problems() == ["Profile “Tor”, Bridge lines, line 1: is not a snowflake bridge (the transport "
                                 "chosen); choose automatic to mix kinds"]
    assert not window.save_button.isEnabled()
    transport.setCurrentIndex(transport.findData(""))
    bridges.setPlainText("obfs4 nonsense")
    assert window.problems() and window.problems()[0].startswith("Profile “Tor”, Bridge lines, line 1:")
    bridges.setPlainText(OBFS4)
    assert window.problems() == []


def test_a_wireguard_file_is_checked_through_the_import(qtbot: Any, window: SettingsWindow, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    good, bad = tmp_path / "home.conf", tmp_path / "notes.conf"
    good.write_text(WG)
    bad.write_text("hello\n")
    window.profiles.add_profile("wireguard")
    wg = form(window)
    choose = wg.findChild(QPushButton, "choose_config")
    assert choose is not None
    assert any("WireGuard configuration: is required" in p for p in window.problems())

    monkeypatch.setattr(wg, "choose_file", lambda _param: bad)
    choose.click()
    qtbot.waitUntil(lambda: any("notes.conf cannot be used: it has no [Interface] section" in p
                                for p in window.problems()))
    monkeypatch.setattr(wg, "choose_file", lambda _param: good)
    choose.click()
    qtbot.waitUntil(lambda: window.profiles.drafts()[-1].params == {"config": str(good.resolve())})
    assert window.problems() == []


def test_networkmanager_connections_are_offered(qtbot: Any, window: SettingsWindow) -> None:
    window.profiles.add_profile("networkmanager")
    combo = form(window).findChild(QComboBox, "param_connection")
    assert combo is not None
    qtbot.waitUntil(lambda: combo.findText("Proton NL") >= 0)
    combo.setCurrentIndex(combo.findText("Proton NL"))
    assert window.profiles.drafts()[-1].params == {"connection": "Proton NL"}
    assert window.problems() == []


def test_the_way_out_kind_is_saved_and_json_only_behind_advanced(qtbot: Any, window: SettingsWindow) -> None:
    profile_editor = editor(window)
    assert "only you can know it is registered" in profile_editor.findChild(type(window.summary), "way_out_help").text()
    profile_editor.way_out.setCurrentIndex(profile_editor.way_out.findData("registered"))
    profile_editor.as_json.setChecked(True)
    assert isinstance(editor(window).params_editor, JsonParamsEditor)
    profile_editor.as_json.setChecked(False)
    assert isinstance(editor(window).params_editor, SpecEditor)
    save_and_wait(qtbot, window)
    saved = json.loads(window.port.config_file.read_text())["profiles"][0]
    assert saved["way_out"] == "registered" and saved["params"]["bridges"] == [OBFS4]


@pytest.mark.parametrize(("backend", "text", "problem"), [
    ("wireguard", "hello\n", "it has no [Interface] section"),
    ("openvpn", "client\ndev tun\n", "no \"remote\" line"),
    ("openvpn", "client\nremote 127.0.0.1 1194\nup /tmp/x.sh\n", "it runs programs as root"),
])
def test_import_refuses_files_it_must_not_run(tmp_path: Path, backend: str, text: str, problem: str) -> None:
    path = tmp_path / "tunnel.conf"
    path.write_text(text)
    with pytest.raises(facade.ImportRefused, match=problem.replace("[", r"\[").replace("]", r"\]")):
        facade.import_tunnel_file(backend, path)


def test_import_accepts_a_good_file(tmp_path: Path) -> None:
    path = tmp_path / "home.conf"
    path.write_text(WG)
    assert facade.import_tunnel_file("wireguard", path) == {"config": str(path.resolve())}
    ovpn = tmp_path / "office.ovpn"
    ovpn.write_text("client\ndev tun\nremote 127.0.0.1 1194 udp\n")
    assert facade.import_tunnel_file("openvpn", ovpn) == {"config": str(ovpn.resolve())}
