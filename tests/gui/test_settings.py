"""The settings window, offscreen: editing, validation as you type, reordering, saving, applying, secrets."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.gui.fakes import FakePort, cell, command_profile, snapshot_for
from vpnswitch.backends import registry
from vpnswitch.core.config import Config, ProbeTarget, Profile, config_to_dict
from vpnswitch.core.paths import Paths
from vpnswitch.service.runtime import CheckReport
from vpnswitch.system.autostart import XdgAutostart
from vpnswitch.ui import facade as detection
from vpnswitch.ui.facade import Offer
from vpnswitch.ui.settings.window import SettingsWindow
from vpnswitch.ui.workers import Workers


@pytest.fixture(autouse=True)
def strict_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VPNSWITCH_BACKENDS", "strict=tests.gui.fakes:StrictVpn")


@pytest.fixture
def config(loopback_config: Config) -> Config:
    from dataclasses import replace

    return replace(loopback_config, profiles=(command_profile("wg-home"), command_profile("wg-office"),
                                              command_profile("ovpn-tcp", transport="tcp")))


@pytest.fixture
def port(tmp_path: Path, config: Config) -> FakePort:
    return FakePort(config, tmp_path / "config.json")


def open_window(qtbot: Any, port: FakePort, autostart: XdgAutostart, tmp_path: Path, notice: str = ""
                ) -> SettingsWindow:
    window = SettingsWindow(port, Workers(), autostart, config_file=port.config_file, log_dir=tmp_path / "log",
                            notice=notice)
    window.confirm_close = False  # tests that close a dirty window must not meet a modal question
    qtbot.addWidget(window)
    window.show()
    return window


@pytest.fixture
def window(qtbot: Any, port: FakePort, autostart: XdgAutostart, tmp_path: Path) -> Iterator[SettingsWindow]:
    w = open_window(qtbot, port, autostart, tmp_path)
    yield w
    w.dirty = False


def save_and_wait(qtbot: Any, window: SettingsWindow) -> None:
    assert window.save_button.isEnabled(), window.summary.text()
    with qtbot.waitSignal(window.saved, timeout=10_000):
        window.save_button.click()


def editor(window: SettingsWindow) -> Any:
    assert window.profiles.editor is not None
    return window.profiles.editor


# ------------------------------------------------------------------------------------------------ editing


def test_command_editor_validates_as_you_type(qtbot: Any, window: SettingsWindow) -> None:
    window.profiles.list.setCurrentRow(0)
    ed = editor(window)
    connect = ed.params_editor.commands["connect"]
    assert window.problems() == [] and not window.save_button.isEnabled()  # nothing changed yet

    qtbot.keyClicks(connect, " 'unterminated")
    assert ed.problems.isVisible()
    assert "Connect command: has an unmatched quote" in ed.problems.text()
    assert not window.save_button.isEnabled()
    assert window.summary.text().startswith("Profile “wg-home”, Connect command")

    connect.clear()
    assert "Connect command: is required" in ed.problems.text()
    qtbot.keyClicks(connect, "/usr/bin/myvpn up --server 'home nl'")
    assert ed.problems.text() == ""
    assert ed.draft.params["connect"] == ["/usr/bin/myvpn", "up", "--server", "home nl"]  # argv, never a shell line

    ed.params_editor.route_kind.setCurrentIndex(1)  # a local proxy
    ed.params_editor.route_value.setText("not a url")
    assert "Local proxy: must look like socks5h://" in ed.problems.text()
    ed.params_editor.route_value.setText("socks5h://127.0.0.1:1080")
    assert ed.problems.text() == ""
    assert ed.draft.params["proxy"] == "socks5h://127.0.0.1:1080" and "interface" not in ed.draft.params
    ed.params_editor.secret_env.setText("1BAD")
    assert "Secret variable: must be an environment variable name" in ed.problems.text()
    ed.params_editor.secret_env.setText("VPN_PASSWORD")

    ed.name.setText("wg-office")
    assert "Name: is already used by another profile" in ed.problems.text()
    ed.name.setText("")
    assert "Name: must not be empty" in ed.problems.text()
    ed.name.setText("home (proxy)")
    assert window.problems() == [] and window.save_button.isEnabled()
    assert window.profiles.list.item(0).text() == "home (proxy) — Custom commands"


def test_generic_editor_validates_json_and_backend_rules(qtbot: Any, window: SettingsWindow) -> None:
    window.profiles.add_profile("strict")
    ed = editor(window)
    assert ed.draft.name == "Strict test VPN"
    text = ed.params_editor.text
    assert "Parameters: " not in ed.problems.text() and "server: is required" in ed.problems.text()
    text.setPlainText('{"server": ')
    assert "Parameters: line 1, column 11: Expecting value" in ed.problems.text()
    text.setPlainText('["server"]')
    assert "must be a JSON object" in ed.problems.text()
    text.setPlainText('{"server": "nl-1", "sever": 1}')
    assert "sever: unknown parameter" in ed.problems.text()
    text.setPlainText('{"server": "nl-1"}')
    assert ed.problems.text() == ""
    assert ed.secret_fields.keys() == {"token"}  # the backend's secret keys get password fields
    assert ed.secret_fields["token"].echoMode() == ed.secret_fields["token"].EchoMode.Password


def test_reorder_by_drag_and_by_buttons_and_enable_disable(qtbot: Any, window: SettingsWindow,
                                                            port: FakePort) -> None:
    names = lambda: [d.name for d in window.profiles.drafts()]  # noqa: E731
    model = window.profiles.list.model()
    # What an internal drag-and-drop does: the list model moves the row.
    assert model.moveRow(model.index(0, 0).parent(), 2, model.index(0, 0).parent(), 0)
    assert names() == ["ovpn-tcp", "wg-home", "wg-office"]
    assert window.dirty
    window.profiles.list.setCurrentRow(2)
    window.profiles.up_button.click()
    assert names() == ["ovpn-tcp", "wg-office", "wg-home"]
    window.profiles.down_button.click()
    assert names() == ["ovpn-tcp", "wg-home", "wg-office"]
    window.profiles.list.item(1).setCheckState(Qt.CheckState.Unchecked)
    save_and_wait(qtbot, window)
    saved = port.applied[-1]
    assert [p.name for p in saved.profiles] == ["ovpn-tcp", "wg-home", "wg-office"]
    assert [p.enabled for p in saved.profiles] == [True, False, True]
    on_disk = json.loads(port.config_file.read_text())
    assert [p["name"] for p in on_disk["profiles"]] == ["ovpn-tcp", "wg-home", "wg-office"]
    assert on_disk["profiles"][1]["enabled"] is False


def test_add_from_menu_and_remove(qtbot: Any, window: SettingsWindow, port: FakePort) -> None:
    window.profiles._fill_add_menu()
    actions = {a.objectName(): a for a in window.profiles.add_menu.actions()}
    assert {"add:command", "add:strict"} <= actions.keys()
    actions["add:command"].trigger()
    actions["add:command"].trigger()
    assert [d.name for d in window.profiles.drafts()][-2:] == ["Custom commands", "Custom commands 2"]
    assert not window.save_button.isEnabled()  # the new ones have no commands yet
    window.profiles.remove_selected()
    window.profiles.remove_selected()
    assert window.problems() == []


def test_detected_apps_are_added_with_one_click(qtbot: Any, window: SettingsWindow,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    offer = Offer("Strict VPN 1.2", "strict", "Strict NL", {"server": "nl-1"}, "found in /opt/strict",
                  enabled=False, warnings=("signed out",))
    monkeypatch.setattr(detection, "detect_offers", lambda: [offer])
    window.tabs.setCurrentWidget(window.detected)
    qtbot.waitUntil(lambda: window.detected.offers == [offer])
    button = window.detected.findChild(type(window.save_button), "add_offer:strict:Strict NL")
    assert button is not None and button.isEnabled()
    button.click()
    assert window.tabs.currentWidget() is window.profiles
    assert window.profiles.drafts()[-1].params == {"server": "nl-1"}
    assert window.profiles.drafts()[-1].enabled is False  # proposed switched off, added switched off
    assert window.problems() == []
    button = window.detected.findChild(type(window.save_button), "add_offer:strict:Strict NL")
    assert button is not None and not button.isEnabled() and button.text() == "Added"


def test_nothing_detected_says_so(qtbot: Any, window: SettingsWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(detection, "detect_offers", lambda: [])
    window.tabs.setCurrentWidget(window.detected)
    qtbot.waitUntil(lambda: window.detected.rescan.isEnabled())
    assert window.detected.offers == []
    assert "No VPN apps were detected" in window.detected.status.text()


def test_detected_apps_become_typed_offers_in_the_recommended_order() -> None:
    from vpnswitch.backends.conflicts import Conflict
    from vpnswitch.backends.detect import Detected

    mullvad = Detected("mullvad", "Mullvad VPN", "mullvad", "/usr/bin/mullvad",
                       (Profile("Mullvad", "mullvad", {"location": "nl"}),
                        Profile("Mullvad TCP", "mullvad", {"location": "nl"}, enabled=False)),
                       (Conflict("mullvad-killswitch", "mullvad", "Mullvad's kill switch blocks every other VPN.",
                                 "Turn it off: mullvad lockdown-mode set off"),),
                       ("signed out",))
    tor = Detected("tor", "Tor", "tor", "/usr/sbin/tor", (Profile("Tor", "tor", {}),))
    shadow = Detected("outline", "Outline", "shadowsocks", "ss-local", (Profile("Outline", "shadowsocks", {}),))
    offers = detection.recommended([o for item in (tor, shadow, mullvad) for o in detection.offers_from(item)])
    assert [(o.name, o.way_out) for o in offers] == [("Mullvad", "plain"), ("Mullvad TCP", "plain"),
                                                    ("Outline", "obfuscated"), ("Tor", "tor")]
    assert offers[0].note == "/usr/bin/mullvad" and offers[1].enabled is False
    assert offers[0].needs == ("login",) and offers[-1].needs == ()
    assert offers[0].warnings == ("signed out", "Mullvad's kill switch blocks every other VPN. Turn it off: "
                                                "mullvad lockdown-mode set off")


def test_the_real_detector_runs_on_a_fake_root(tmp_path: Path) -> None:
    """Against the detector that ships: a fake Linux tree with a WireGuard config gives an offer for it."""
    from vpnswitch.backends import detect

    wg = tmp_path / "etc" / "wireguard"
    wg.mkdir(parents=True)
    (wg / "home-nl.conf").write_text("[Interface]\nPrivateKey = x\nAddress = 10.0.0.2/32\n\n[Peer]\n"
                                     "PublicKey = y\nEndpoint = 127.0.0.1:51820\nAllowedIPs = 0.0.0.0/0\n")
    offers = [o for item in detect.detect(tmp_path, "linux", nm_connections=lambda: [])
              for o in detection.offers_from(item)]
    assert any(o.backend == "wireguard" and "home-nl" in o.name for o in offers), offers


# ----------------------------------------------------------------------------------------- targets, timings


def test_targets_are_validated_per_cell(qtbot: Any, window: SettingsWindow, port: FakePort) -> None:
    page = window.targets
    page.add_target(ProbeTarget("https://", "must-reach"))
    assert any("Site 3:" in p and "is not an http:// or https:// URL with a host" in p for p in page.problems())
    assert not window.save_button.isEnabled()
    cell(page.table, 2, 0).setText("https://x.com/")
    cell(page.table, 2, 2).setText("200, 3xx")
    assert any("Site 3: every entry must be an HTTP status code" in p for p in page.problems())
    cell(page.table, 2, 2).setText("200 301, 302")
    assert page.problems() == []
    save_and_wait(qtbot, window)
    target = port.applied[-1].targets[2]
    assert (target.url, target.role, target.expect) == ("https://x.com/", "must-reach", (200, 301, 302))
    for _ in range(3):
        page.table.setCurrentCell(0, 0)
        page.remove_selected()
    assert page.problems() == ["At least one site is needed (two or more from different companies is better)."]


def test_test_now_shows_results_off_the_gui_thread(qtbot: Any, window: SettingsWindow, port: FakePort,
                                                   config: Config) -> None:
    port.push(snapshot_for(config, state="connected", active="wg-home", verdict="degraded"))
    window.update_snapshot(port.snapshot())
    port.check_report = CheckReport("wg-home", "degraded", [
        {"url": "http://127.0.0.1:9/generate_204", "role": "canary", "ok": True, "status": 204, "latency_ms": 31.5,
         "error": ""},
        {"url": "http://localhost:9/generate_204", "role": "canary", "ok": False, "status": None,
         "latency_ms": None, "error": "connection refused"}])
    window.targets.test_button.click()
    assert not window.targets.test_button.isEnabled()
    qtbot.waitUntil(lambda: window.targets.results.rowCount() == 2)
    assert window.targets.test_status.text() == "Tested through wg-home: partly working"
    assert cell(window.targets.results, 0, 1).text() == "answered (204)"
    assert cell(window.targets.results, 0, 2).text() == "32 ms"
    assert cell(window.targets.results, 1, 1).text() == "failed: connection refused"
    profiles = window.targets.profiles
    assert [cell(profiles, r, 0).text() for r in range(profiles.rowCount())] == ["wg-home", "wg-office", "ovpn-tcp"]
    assert cell(profiles, 0, 1).text() == "active" and cell(profiles, 0, 2).text() == "42 ms"


def test_timings_keep_to_their_ranges_and_rules(qtbot: Any, window: SettingsWindow, port: FakePort) -> None:
    spins = window.timings.spins
    spins["probe_timeout"].setValue(1000)
    assert spins["probe_timeout"].value() == 30.0  # TIMING_RANGES upper bound
    spins["failure_rounds"].setValue(1)
    assert spins["failure_rounds"].value() == 2
    spins["probe_interval_min"].setValue(60)
    spins["probe_interval_max"].setValue(30)
    assert window.timings.problems() == [
        "“Shortest pause between checks” must not be more than “Longest pause between checks”."]
    assert not window.save_button.isEnabled()
    spins["probe_interval_max"].setValue(90)
    # Every order rule of the config is checked as you type, e.g. the ones between counts and between waits.
    spins["standby_failure_rounds"].setValue(3)
    spins["probe_timeout"].setValue(1.0)
    spins["probe_timeout_min"].setValue(2.0)
    assert window.timings.problems() == [
        "“Shortest wait for a site” must not be more than “Wait for a site”.",
        "“Failed rounds before a ready standby” must not be more than “Failed rounds before switching”."]
    assert not window.save_button.isEnabled()
    spins["standby_failure_rounds"].setValue(2)
    spins["probe_timeout_min"].setValue(0.5)
    spins["probe_timeout"].setValue(30.0)
    assert window.timings.problems() == []
    window.timings.auto_switch.setChecked(False)
    window.timings.preference.setCurrentIndex(window.timings.preference.findData("privacy"))
    save_and_wait(qtbot, window)
    saved = port.applied[-1]
    assert (saved.timings.probe_interval_min, saved.timings.probe_interval_max) == (60.0, 90.0)
    assert saved.timings.probe_timeout == 30.0 and saved.timings.failure_rounds == 2
    assert saved.behaviour.auto_switch is False and saved.behaviour.preference == "privacy"


# ------------------------------------------------------------------------------------------------ saving


def test_save_writes_atomically_applies_and_keeps_secrets_in_the_keyring(qtbot: Any, window: SettingsWindow,
                                                                         port: FakePort) -> None:
    window.profiles.list.setCurrentRow(1)
    ed = editor(window)
    ed.params_editor.secret_env.setText("VPN_PASSWORD")
    ed.secret_fields["secret"].setText("hunter2-ü")
    assert "Will be saved to the keyring" in ed.secret_labels["secret"].text()
    save_and_wait(qtbot, window)
    assert port.keyring.items == {("vpnswitch", "wg-office/secret"): "hunter2-ü"}
    text = port.config_file.read_text()
    assert "hunter2" not in text
    assert json.loads(text) == config_to_dict(port.applied[-1])
    assert port.config_file.stat().st_mode & 0o777 == 0o600
    assert port.applied[-1].profile("wg-office").params["secret_env"] == "VPN_PASSWORD"  # type: ignore[union-attr]
    assert "Saved. The new settings are in use now." in window.banner.text()
    assert ed.secret_fields["secret"].text() == "hunter2-ü"  # the field is left as typed …
    assert ed.draft.new_secrets == {}  # … but nothing is pending any more
    assert not window.save_button.isEnabled() and not window.dirty
    assert [p.name for p in port.snapshot().profiles] == ["wg-home", "wg-office", "ovpn-tcp"]


def test_rename_moves_secrets_and_remove_deletes_them(qtbot: Any, port: FakePort, autostart: XdgAutostart,
                                                     tmp_path: Path) -> None:
    port.keyring.items[("vpnswitch", "wg-office/secret")] = "s1"
    port.keyring.items[("vpnswitch", "ovpn-tcp/secret")] = "s2"
    window = open_window(qtbot, port, autostart, tmp_path)
    window.profiles.list.setCurrentRow(1)
    qtbot.waitUntil(lambda: editor(window).draft.secret_state.get("secret") == "stored")
    assert "Stored in the keyring" in editor(window).secret_labels["secret"].text()
    editor(window).name.setText("office")
    window.profiles.list.setCurrentRow(2)
    window.profiles.remove_selected()
    save_and_wait(qtbot, window)
    assert port.keyring.items == {("vpnswitch", "office/secret"): "s1"}


def test_a_locked_keyring_is_explained_and_the_rest_is_saved(qtbot: Any, window: SettingsWindow,
                                                             port: FakePort) -> None:
    window.profiles.list.setCurrentRow(0)
    ed = editor(window)
    ed.secret_fields["secret"].setText("pw")
    port.keyring.locked = True
    ed.params_editor.transport.setCurrentIndex(ed.params_editor.transport.findData("tcp"))
    save_and_wait(qtbot, window)
    assert "the keyring is locked" in window.banner.text()
    assert "Unlock your keyring" in window.banner.text()
    assert port.applied[-1].profile("wg-home").params["transport"] == "tcp"  # type: ignore[union-attr]
    assert ed.draft.new_secrets == {"secret": "pw"}  # kept, so Save can be pressed again
    assert window.save_button.isEnabled()
    port.keyring.locked = False
    save_and_wait(qtbot, window)
    assert port.keyring.items == {("vpnswitch", "wg-home/secret"): "pw"}
    assert "Secrets were not saved" not in window.banner.text()


def test_a_broken_settings_file_is_kept_aside_when_saving(qtbot: Any, port: FakePort, autostart: XdgAutostart,
                                                          tmp_path: Path) -> None:
    port.config_file.write_text('{"profiles": [ oops')
    window = open_window(qtbot, port, autostart, tmp_path, notice="the settings file is not valid JSON")
    assert window.banner.isVisible() and "not valid JSON" in window.banner.text()
    window.general.notifications.setChecked(False)
    save_and_wait(qtbot, window)
    kept = list(tmp_path.glob("config.json.broken-*"))
    assert len(kept) == 1 and kept[0].read_text() == '{"profiles": [ oops'
    assert f"kept as {kept[0]}" in window.banner.text()
    assert "not valid JSON" not in window.banner.text()
    assert json.loads(port.config_file.read_text())["desktop"]["notifications"] is False


def test_the_gui_thread_stays_free_while_saving(qtbot: Any, window: SettingsWindow, port: FakePort) -> None:
    port.save_delay.clear()  # the save blocks in its worker until released
    window.general.notifications.setChecked(False)
    window.save_button.click()
    assert window.summary.text() == "Saving…" and not window.save_button.isEnabled()
    ticks = []
    threading.Timer(0.3, port.save_delay.set).start()
    with qtbot.waitSignal(window.saved, timeout=5000):
        while not port.save_delay.is_set():
            qtbot.wait(20)
            ticks.append(1)
    assert len(ticks) >= 5  # the event loop kept running while the save waited


def test_autostart_shows_the_os_state_and_is_applied_on_save(qtbot: Any, port: FakePort, autostart: XdgAutostart,
                                                             tmp_path: Path) -> None:
    autostart.enable()
    window = open_window(qtbot, port, autostart, tmp_path)
    assert window.general.autostart.isChecked()
    assert str(autostart.path) in window.general.autostart_status.text()
    window.general.autostart.setChecked(False)
    assert window.save_button.isEnabled()
    save_and_wait(qtbot, window)
    assert not autostart.path.exists()
    assert window.general.autostart_status.text() == "Off."
    window.general.autostart.setChecked(True)
    save_and_wait(qtbot, window)
    assert autostart.status().enabled
    autostart.path.write_text(autostart.path.read_text().replace("X-GNOME-Autostart-enabled=true",
                                                                 "X-GNOME-Autostart-enabled=false"))
    window.revert()
    assert not window.general.autostart.isChecked()
    assert "switched off in your system's startup settings" in window.general.autostart_status.text()


def test_saving_applies_to_a_real_running_engine(qtbot: Any, tmp_path: Path, autostart: XdgAutostart,
                                                 loopback_config: Config) -> None:
    """The real Instance (runtime, control socket, atomic save); its profiles stay disabled, so nothing connects."""
    from dataclasses import replace

    from vpnswitch.service.wiring import Instance
    from vpnswitch.ui.facade import InstancePort

    paths = Paths(config_file=tmp_path / "config.json", state_dir=tmp_path / "state", cache_dir=tmp_path / "cache",
                  log_dir=tmp_path / "log", runtime_dir=tmp_path / "run")
    config = replace(loopback_config, profiles=(replace(command_profile("wg-home"), enabled=False),))
    instance = Instance(paths, config)
    instance.start()
    try:
        port = InstancePort(instance)
        window = SettingsWindow(port, Workers(), autostart, config_file=paths.config_file, log_dir=paths.log_dir)
        window.confirm_close = False
        qtbot.addWidget(window)
        window.profiles.add_profile("command", "ovpn-backup", {"connect": ["/usr/bin/ovpn", "up"],
                                                               "disconnect": ["/usr/bin/ovpn", "down"],
                                                               "interface": "tun9"})
        window.profiles.list.item(1).setCheckState(Qt.CheckState.Unchecked)
        save_and_wait(qtbot, window)
        qtbot.waitUntil(lambda: [p.name for p in instance.runtime.snapshot().profiles] == ["wg-home", "ovpn-backup"])
        assert instance.runtime.config.profile("ovpn-backup") is not None
        on_disk = json.loads(paths.config_file.read_text())
        assert [p["name"] for p in on_disk["profiles"]] == ["wg-home", "ovpn-backup"]
        assert registry.CATALOG  # the saved file passes the same validation the daemon uses:
        from vpnswitch.core.config import load_config

        assert load_config(paths.config_file, registry.CATALOG) == instance.runtime.config
    finally:
        instance.stop(timeout=5)
