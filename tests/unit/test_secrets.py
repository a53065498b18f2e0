"""The keyring wrapper: refuses storage that would lose or expose secrets, and explains each failure."""

from __future__ import annotations

import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest

from tests.support.memkeyring import MemoryKeyring
from vpnswitch.core.errors import SecretsUnavailable
from vpnswitch.core.secrets import SecretStore


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
