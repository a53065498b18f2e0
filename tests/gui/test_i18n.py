"""Urdu: a complete translation, right-to-left layout, a font that has every letter, and a live switch."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTabWidget,
    QWidget,
)

from tests.gui.fakes import FakePort, cell, command_profile, sample_history, snapshot_for
from vpnswitch.core.config import Config, Profile
from vpnswitch.core.paths import Paths
from vpnswitch.ui import i18n
from vpnswitch.ui.app import DesktopApp
from vpnswitch.ui.history_window import HistoryWindow
from vpnswitch.ui.resources import i18n_dir
from vpnswitch.ui.settings.window import SettingsWindow
from vpnswitch.ui.tray import TrayController
from vpnswitch.ui.workers import Workers

TS = i18n_dir() / "vpnswitch_ur.ts"
PLACEHOLDER = re.compile(r"%\d")
# Latin words that are not English prose: brands, protocols, file and variable names, the product's own name.
NOT_ENGLISH = {
    "vpnswitch", "VPN", "JSON", "UDP", "TCP", "WireGuard", "OpenVPN", "Tor", "Tailscale", "VPN_PASSWORD", "key",
    "value", "usr", "bin", "myvpn", "connect", "disconnect", "server", "home", "socks", "wg", "tun", "ms",
    "English",  # the language's own name in the language list, so English speakers can find it
    # names of protocols, files and Tor's transports, written the same in every language
    "SOCKS", "torrc", "obfs", "Snowflake", "WebTunnel", "meek",
}


def messages() -> list[tuple[str, str, str, str | None]]:
    """(context, source, translation, type) for every message in the Urdu .ts."""
    out = []
    for context in ET.parse(TS).getroot().iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            translation = message.find("translation")
            assert translation is not None
            out.append((name, message.findtext("source") or "", translation.text or "", translation.get("type")))
    return out


def test_the_urdu_translation_is_complete_and_keeps_placeholders() -> None:
    found = messages()
    assert len(found) > 250
    for context, source, translation, kind in found:
        assert kind is None, f"{context}: “{source}” is {kind}"
        assert translation.strip(), f"{context}: “{source}” has no translation"
        assert sorted(PLACEHOLDER.findall(source)) == sorted(PLACEHOLDER.findall(translation)), (context, source)
        if re.search("[A-Za-z]", PLACEHOLDER.sub("", source)):
            assert re.search("[\u0600-\u06ff]", translation), f"{context}: “{source}” → “{translation}” is not Urdu"


def test_the_ts_file_lists_every_string_in_the_sources(tmp_path: Path) -> None:
    """lupdate over the current sources finds nothing the .ts does not already have."""
    from vpnswitch.ui.i18n_build import _tool, sources

    copy = tmp_path / TS.name
    shutil.copy(TS, copy)
    result = subprocess.run([_tool("lupdate"), "-no-obsolete", "-locations", "none", *map(str, sources()),
                             "-ts", str(copy)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    new = [(c, s) for c, s, _t, kind in [(m[0], m[1], m[2], m[3]) for m in _messages_of(copy)] if kind]
    assert new == [], f"strings missing from {TS.name}: {new}"


def _messages_of(path: Path) -> list[tuple[str, str, str, str | None]]:
    out = []
    for context in ET.parse(path).getroot().iter("context"):
        for message in context.iter("message"):
            translation = message.find("translation")
            assert translation is not None
            out.append((context.findtext("name") or "", message.findtext("source") or "", translation.text or "",
                        translation.get("type")))
    return out


def test_qm_is_built_not_committed(translations: list[Path]) -> None:
    assert [p.name for p in translations] == ["vpnswitch_ur.qm"]
    gitignore = (Path(__file__).resolve().parents[2] / ".gitignore").read_text().split()
    assert "*.qm" in gitignore


@pytest.mark.parametrize(("setting", "system", "expected"), [
    ("system", "ur_PK", "ur"), ("system", "ur-IN", "ur"), ("system", "en_GB", "en"), ("system", "de_DE", "en"),
    ("ur", "en_US", "ur"), ("en", "ur_PK", "en"), ("xx", "ur_PK", "en"),
])
def test_language_comes_from_the_setting_or_the_system(setting: str, system: str, expected: str) -> None:
    assert i18n.resolve(setting, system) == expected


def test_urdu_font_has_every_letter_of_the_translation(localizer: Any) -> None:
    assert localizer.apply("ur") == "ur"
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    family = i18n.pick_font_family("ur")
    assert family is not None, "no font with Urdu letters is installed (Debian: fonts-noto-core)"
    assert family in app.font().families()
    metrics = QFontMetrics(QFont(family))
    letters = {ch for _c, _s, translation, _k in messages() for ch in translation if "\u0600" <= ch <= "\u06ff"}
    missing = sorted(ch for ch in letters if not metrics.inFontUcs4(ord(ch)))
    assert missing == []


# ---------------------------------------------------------------------------------------------- walking UI


def visible_strings(root: QWidget) -> list[str]:
    """Every string a person can see in ``root``: labels, buttons, titles, placeholders, items, headers, tips."""
    out: list[str] = [root.windowTitle()]
    for w in [root, *root.findChildren(QWidget)]:
        if isinstance(w, (QLabel, QAbstractButton)):
            out.append(w.text())
        elif isinstance(w, QGroupBox):
            out.append(w.title())
        elif isinstance(w, QLineEdit):
            out.append(w.placeholderText())
        elif isinstance(w, QComboBox):
            out.extend(w.itemText(i) for i in range(w.count()))
        elif isinstance(w, QTabWidget):
            out.extend(w.tabText(i) for i in range(w.count()))
        if isinstance(w, QTableWidget):
            headers = [w.horizontalHeaderItem(i) for i in range(w.columnCount())]
            out.extend(h.text() for h in headers if h is not None)
        out.append(w.toolTip())
    return [s for s in out if s]


def english_words(strings: list[str], data: set[str]) -> list[str]:
    """Strings that still contain English words (after removing user data and names that stay Latin)."""
    allowed = NOT_ENGLISH | {word for item in data for word in re.findall(r"[A-Za-z_]+", item)}
    bad = []
    for text in strings:
        stripped = re.sub(r"<[^>]+>", " ", text)  # rich-text tags
        stripped = re.sub(r"https?://\S+|socks5h://\S+|/[\w/.-]+|\b[\w-]+\.(com|org|net)\b", " ", stripped)
        words = [w for w in re.findall(r"[A-Za-z][A-Za-z_]+", stripped) if w not in allowed]
        if words:
            bad.append(f"{text!r} ({', '.join(words)})")
    return bad


@pytest.fixture
def urdu(localizer: Any) -> Any:
    assert localizer.apply("ur") == "ur"
    return localizer


def config_with_data() -> Config:
    return Config(profiles=(command_profile("WireGuard home"), command_profile("OpenVPN TCP", transport="tcp"),
                            replace(Profile("Tor bridges", "tor", {}), enabled=False)))


def test_settings_window_in_urdu_is_right_to_left_with_nothing_left_in_english(
        qtbot: Any, urdu: Any, tmp_path: Path, autostart: Any, loopback_config: Config, artifacts: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from vpnswitch.ui import facade as detection

    found = detection.Offer("Tor", "tor", "Tor", {}, "/usr/sbin/tor")  # what the detector reports is data
    monkeypatch.setattr(detection, "detect_offers", lambda: [found])
    config = replace(loopback_config, profiles=config_with_data().profiles)
    port = FakePort(config, tmp_path / "config.json",
                    snapshot=snapshot_for(config, state="connected", active="WireGuard home", verdict="healthy"))
    window = SettingsWindow(port, Workers(), autostart, config_file=port.config_file, log_dir=tmp_path / "log")
    window.confirm_close = False
    qtbot.addWidget(window)
    window.show()
    assert window.layoutDirection() == Qt.LayoutDirection.RightToLeft
    assert window.windowTitle() == "vpnswitch کی سیٹنگز"
    data = {p.name for p in config.profiles} | {t.url for t in config.targets} | {str(tmp_path), "command", "tor"}
    seen: list[str] = []
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        qtbot.wait(50)
        seen += visible_strings(window)
    window.profiles.list.setCurrentRow(2)  # a backend without a form: the JSON editor
    seen += visible_strings(window)
    leftover = english_words(seen, data)
    assert leftover == [], "\n".join(leftover)
    window.tabs.setCurrentIndex(0)
    window.profiles.list.setCurrentRow(0)
    qtbot.wait(100)
    window.grab().save(str(artifacts / "settings-ur.png"))


def test_settings_window_in_english_screenshot(qtbot: Any, localizer: Any, tmp_path: Path, autostart: Any,
                                               loopback_config: Config, artifacts: Path) -> None:
    localizer.apply("en")
    config = replace(loopback_config, profiles=config_with_data().profiles)
    port = FakePort(config, tmp_path / "config.json",
                    snapshot=snapshot_for(config, state="connected", active="WireGuard home", verdict="healthy"))
    window = SettingsWindow(port, Workers(), autostart, config_file=port.config_file, log_dir=tmp_path / "log")
    qtbot.addWidget(window)
    window.show()
    assert window.layoutDirection() == Qt.LayoutDirection.LeftToRight
    qtbot.wait(100)
    window.grab().save(str(artifacts / "settings-en.png"))


def test_history_and_tray_menu_in_urdu(qtbot: Any, urdu: Any, tmp_path: Path, artifacts: Path) -> None:
    import time

    history, latency = sample_history(time.mktime((2026, 11, 28, 21, 0, 0, 0, 0, -1)))
    config = Config(profiles=tuple(command_profile(n) for n in ("wg-home", "ovpn-tcp", "tor-bridges")))
    port = FakePort(config, tmp_path / "config.json", history=history, latency=latency)
    window = HistoryWindow(port, Workers())
    qtbot.addWidget(window)
    window.resize(1000, 720)
    window.show()
    qtbot.waitUntil(lambda: not window.loading)
    assert window.layoutDirection() == Qt.LayoutDirection.RightToLeft
    rows = [cell(window.table, r, c).text() for r in range(window.table.rowCount()) for c in range(3)]
    data = {p.name for p in config.profiles} | {"home-wifi"}
    strings = visible_strings(window) + rows + [window.chart.title()]
    assert english_words(strings, data) == []
    qtbot.wait(200)
    window.grab().save(str(artifacts / "history-ur.png"))

    tray = TrayController()
    tray.update(snapshot_for(config, state="connected", active="wg-home", verdict="healthy",
                             last_check="2026-11-28T10:00:00.000Z"))
    labels = [a.text() for a in tray.actions()] + [tray.tray.toolTip()]
    assert english_words(labels, data) == []
    assert labels[0] == "wg-home کے ذریعے جڑا ہوا: کام کر رہا ہے"
    tray.hide()


def test_switching_language_in_settings_rebuilds_the_windows_right_to_left(
        qtbot: Any, localizer: Any, tmp_path: Path, autostart: Any, loopback_config: Config) -> None:
    config = replace(loopback_config, profiles=(command_profile("wg-home"),))
    port = FakePort(config, tmp_path / "config.json")
    paths = Paths(config_file=port.config_file, state_dir=tmp_path / "state", cache_dir=tmp_path / "cache",
                  log_dir=tmp_path / "log", runtime_dir=tmp_path / "run")

    def starter(bridge: Any) -> FakePort:
        bridge.attach(port)
        return port

    app = QApplication.instance()
    desktop = DesktopApp(app, paths, starter=starter, localizer=localizer,  # type: ignore[arg-type]
                         autostart=autostart, notifier=type("Quiet", (), {"show": lambda self, note: None})())
    desktop.exit = lambda code: None  # type: ignore[method-assign]
    desktop.start()
    qtbot.waitUntil(lambda: desktop.settings_window is not None)
    window = desktop.settings_window
    window.confirm_close = False
    assert QApplication.layoutDirection() == Qt.LayoutDirection.LeftToRight
    window.tabs.setCurrentWidget(window.general)
    window.general.language.setCurrentIndex(window.general.language.findData("ur"))
    with qtbot.waitSignal(window.saved, timeout=10_000):
        window.save_button.click()
    qtbot.waitUntil(lambda: desktop.settings_window is not None and desktop.settings_window is not window)
    urdu_window = desktop.settings_window
    urdu_window.confirm_close = False
    assert QApplication.layoutDirection() == Qt.LayoutDirection.RightToLeft
    assert urdu_window.layoutDirection() == Qt.LayoutDirection.RightToLeft
    assert urdu_window.windowTitle() == "vpnswitch کی سیٹنگز"
    assert urdu_window.tabs.currentWidget() is urdu_window.general  # the same page, now in Urdu
    desktop.tray.rebuild_menu()
    assert [a.text() for a in desktop.tray.actions()][-1] == "بند کریں"
    assert port.applied[-1].desktop.language == "ur"
    urdu_window.general.language.setCurrentIndex(urdu_window.general.language.findData("en"))
    with qtbot.waitSignal(urdu_window.saved, timeout=10_000):
        urdu_window.save_button.click()
    qtbot.waitUntil(lambda: QApplication.layoutDirection() == Qt.LayoutDirection.LeftToRight)
    qtbot.waitUntil(lambda: desktop.settings_window is not None and desktop.settings_window is not urdu_window)
    desktop.settings_window.confirm_close = False
    assert desktop.settings_window.windowTitle() == "vpnswitch settings"
    desktop.settings_window.close()
    desktop.tray.hide()


def test_i18n_build_is_a_runnable_module() -> None:
    result = subprocess.run([sys.executable, "-m", "vpnswitch.ui.i18n_build"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "vpnswitch_ur.qm" in result.stdout


def test_the_english_word_check_does_find_english(qtbot: Any, localizer: Any, tmp_path: Path, autostart: Any) -> None:
    """The Urdu checks above would pass vacuously if the walker saw nothing; in English it must see plenty."""
    localizer.apply("en")
    port = FakePort(config_with_data(), tmp_path / "config.json")
    window = SettingsWindow(port, Workers(), autostart, config_file=port.config_file, log_dir=tmp_path / "log")
    qtbot.addWidget(window)
    found = english_words(visible_strings(window), {p.name for p in port.config.profiles})
    assert len(found) > 20
    assert any("Profiles" in line for line in found)


def test_welcome_and_status_windows_in_urdu_leave_nothing_in_english(
        qtbot: Any, urdu: Any, tmp_path: Path, loopback_config: Config) -> None:
    from vpnswitch.service.snapshot import ProfileStatus
    from vpnswitch.ui import facade
    from vpnswitch.ui.status_window import StatusWindow
    from vpnswitch.ui.welcome import WelcomeWindow

    config = replace(loopback_config, profiles=config_with_data().profiles)
    offers = (facade.Offer("Mullvad VPN", "mullvad", "WireGuard home", {}, "/usr/bin/mullvad", needs=("login",)),
              facade.Offer("Tor", "tor", "Tor bridges", {}, "/usr/sbin/tor", way_out="tor"))
    port = FakePort(config, tmp_path / "config.json")
    welcome = WelcomeWindow(port, Workers(), facade.FirstStart(config, offers))
    qtbot.addWidget(welcome)
    welcome.show()
    assert welcome.layoutDirection() == Qt.LayoutDirection.RightToLeft
    data = {p.name for p in config.profiles} | {"Mullvad", "/usr/bin/mullvad", "/usr/sbin/tor", "command", "tor"}
    assert english_words(visible_strings(welcome), data) == []

    resting = ProfileStatus("OpenVPN TCP", "command", True, "quarantined", "2999-01-01T00:00:00+00:00",
                            "data from the engine", None)
    snapshot = snapshot_for(config, state="connected", active="WireGuard home", verdict="healthy")
    port.push(replace(snapshot, profiles=(snapshot.profiles[0], resting, snapshot.profiles[2])))
    status = StatusWindow(port, Workers())
    qtbot.addWidget(status)
    status.show()
    qtbot.waitUntil(lambda: status.switch is None and status.last.text() != "")
    ladder = [status.ladder.topLevelItem(i) for i in range(status.ladder.topLevelItemCount())]
    header = status.ladder.headerItem()
    seen = visible_strings(status) + [header.text(i) for i in range(3)] + [
        item.text(1) for item in ladder if item is not None]
    assert english_words(seen, data | {"data", "from", "the", "engine"}) == []
