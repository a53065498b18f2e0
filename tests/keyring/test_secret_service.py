"""Secrets against a real Secret Service (gnome-keyring): stored, read back, locked, and absent."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.keyring.conftest import SecretService
from vpnswitch.core.errors import SecretsUnavailable
from vpnswitch.core.secrets import SecretStore

ROOT = Path(__file__).resolve().parents[2]


def secret_service_store() -> SecretStore:
    from keyring.backends import SecretService as backend

    return SecretStore(backend.Keyring())


def lock_login_collection() -> None:
    import secretstorage

    connection = secretstorage.dbus_init()
    try:
        collection = secretstorage.get_default_collection(connection)
        collection.lock()
        assert collection.is_locked()
    finally:
        connection.close()


def test_round_trip_through_gnome_keyring(secret_service: SecretService) -> None:
    store = secret_service_store()
    assert store.get("wg-home", "secret") is None
    store.set("wg-home", "secret", "s3cret-پاس")
    store.set("ovpn", "password", "other")
    assert store.get("wg-home", "secret") == "s3cret-پاس"
    assert store.get("ovpn", "password") == "other"
    store.delete("wg-home", "secret")
    assert store.get("wg-home", "secret") is None
    store.delete("wg-home", "secret")  # deleting what is not there is fine
    keyrings = secret_service.home / ".local/share/keyrings"
    stored = b"".join(p.read_bytes() for p in keyrings.glob("*.keyring"))
    assert stored and b"other" not in stored  # on disk, encrypted


def test_a_second_process_reads_what_the_first_stored(secret_service: SecretService) -> None:
    secret_service_store().set("wg-home", "secret", "shared")
    code = ("from vpnswitch.core.secrets import SecretStore; print(SecretStore().get('wg-home', 'secret'))")
    out = subprocess.run([sys.executable, "-c", code], env={**secret_service.env, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "shared", out.stderr


def test_a_locked_keyring_is_explained_not_prompted_for(secret_service: SecretService) -> None:
    store = secret_service_store()
    store.set("wg-home", "secret", "before-lock")
    lock_login_collection()
    with pytest.raises(SecretsUnavailable) as caught:
        store.get("wg-home", "secret")
    assert "locked" in caught.value.message
    assert "Unlock your keyring" in caught.value.hint


@pytest.mark.parametrize("with_bus", [False, True], ids=["no-session-bus", "bus-without-secret-service"])
def test_no_keyring_at_all_is_a_clear_error_never_plaintext(with_bus: bool, bare_bus: dict[str, str],
                                                            tmp_path: Path) -> None:
    env = dict(bare_bus)
    if not with_bus:
        env.pop("DBUS_SESSION_BUS_ADDRESS")
    code = ("from vpnswitch.core.secrets import SecretStore\n"
            "from vpnswitch.core.errors import SecretsUnavailable\n"
            "try:\n    SecretStore().set('wg-home', 'secret', 'x')\n"
            "except SecretsUnavailable as e:\n    print('UNAVAILABLE', e.explain())\n"
            "else:\n    print('STORED')\n")
    out = subprocess.run([sys.executable, "-c", code], env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True,
                         text=True, timeout=60)
    assert out.stdout.startswith("UNAVAILABLE"), out.stdout + out.stderr
    assert "gnome-keyring" in out.stdout  # says what to install
    home = Path(env["HOME"])
    assert not list(home.rglob("*.cfg")) and not list(home.rglob("keyring_pass*"))  # no plaintext fallback


def test_settings_window_saves_to_and_reports_the_real_keyring(secret_service: SecretService, qtbot: Any,
                                                               tmp_path: Path) -> None:
    from tests.gui.fakes import FakePort, command_profile
    from vpnswitch.core.config import Config, ProbeTarget
    from vpnswitch.system.autostart import XdgAutostart
    from vpnswitch.ui.settings.window import SettingsWindow
    from vpnswitch.ui.workers import Workers

    config = Config(profiles=(command_profile("wg-home", secret_env="VPN_PASSWORD"),),
                    targets=(ProbeTarget("http://127.0.0.1:9/generate_204", "canary", (204,)),))
    port = FakePort(config, tmp_path / "config.json")
    port.secrets = secret_service_store()

    def open_window() -> SettingsWindow:
        window = SettingsWindow(port, Workers(), XdgAutostart(tmp_path / "xdg", ["vpnswitch", "--minimized"]),
                                config_file=port.config_file, log_dir=tmp_path / "log")
        window.confirm_close = False
        qtbot.addWidget(window)
        window.profiles.list.setCurrentRow(0)
        return window

    window = open_window()
    editor = window.profiles.editor
    assert editor is not None
    qtbot.waitUntil(lambda: editor.draft.secret_state.get("secret") == "missing")
    editor.secret_fields["secret"].setText("typed-in-settings")
    with qtbot.waitSignal(window.saved, timeout=15_000):
        window.save_button.click()
    assert secret_service_store().get("wg-home", "secret") == "typed-in-settings"
    assert "typed-in-settings" not in port.config_file.read_text()

    reopened = open_window()
    label = reopened.profiles.editor.secret_labels["secret"]  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: "Stored in the keyring" in label.text())

    lock_login_collection()
    locked = open_window()
    label = locked.profiles.editor.secret_labels["secret"]  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: "The keyring cannot be used" in label.text(), timeout=15_000)
    assert "locked" in label.text()
