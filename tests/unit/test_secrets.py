"""The keyring wrapper: refuses storage that would lose or expose secrets, and explains each failure."""

from __future__ import annotations

import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest

from vpnswitch.core.errors import SecretsUnavailable
from vpnswitch.core.secrets import SecretStore


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self, locked: bool = False) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}
        self.locked = locked

    def get_password(self, service: str, username: str) -> str | None:
        if self.locked:
            raise keyring.errors.KeyringLocked("locked")
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.locked:
            raise keyring.errors.KeyringLocked("locked")
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.items:
            raise keyring.errors.PasswordDeleteError("absent")
        del self.items[(service, username)]


def test_round_trip_under_the_vpnswitch_service() -> None:
    backend = MemoryKeyring()
    store = SecretStore(backend)
    store.set("WireGuard home", "password", "hunter2")
    assert store.get("WireGuard home", "password") == "hunter2"
    assert backend.items == {("vpnswitch", "WireGuard home/password"): "hunter2"}
    store.delete("WireGuard home", "password")
    store.delete("WireGuard home", "password")  # deleting twice is fine
    assert store.get("WireGuard home", "password") is None


def test_no_keyring_is_a_clear_error_never_a_plaintext_fallback() -> None:
    store = SecretStore(keyring.backends.fail.Keyring())
    with pytest.raises(SecretsUnavailable) as info:
        store.set("p", "password", "x")
    assert "no usable keyring" in info.value.message and "gnome-keyring" in info.value.hint
    assert store.backend_name() == "none"


def test_a_locked_keyring_says_so() -> None:
    with pytest.raises(SecretsUnavailable, match="locked") as info:
        SecretStore(MemoryKeyring(locked=True)).get("p", "password")
    assert "Unlock" in info.value.hint


def test_a_crashing_backend_becomes_a_clear_error() -> None:
    class Broken(MemoryKeyring):
        def get_password(self, service: str, username: str) -> str | None:
            raise RuntimeError("dbus went away")

    with pytest.raises(SecretsUnavailable, match="RuntimeError"):
        SecretStore(Broken()).get("p", "password")
