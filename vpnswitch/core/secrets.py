"""Secrets (VPN passwords, tokens) through the OS keyring only.

There is deliberately no plaintext fallback: when no real keyring is usable the user is told what is
missing and what to install. Call these off the GUI thread — an unlock prompt can block.
"""

from __future__ import annotations

import logging
from typing import Any

from vpnswitch.core.errors import SecretsUnavailable

log = logging.getLogger(__name__)

SERVICE = "vpnswitch"

# Backends that store nothing, or store it in a plain file: using them would lose or expose secrets.
_REFUSED_MODULES = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")

NO_KEYRING_HINT = (
    "Install and unlock a keyring: GNOME Keyring (gnome-keyring) or KDE Wallet on Linux; "
    "Windows Credential Manager and the macOS Keychain work out of the box."
)


def _username(profile: str, key: str) -> str:
    return f"{profile}/{key}"


class SecretStore:
    """Per-profile secrets in the keyring, under service "vpnswitch" and user "<profile>/<key>"."""

    def __init__(self, backend: Any | None = None) -> None:
        self._backend = backend

    def _keyring(self) -> Any:
        import keyring  # imported on first use: about 3 MB the tray app need not hold while no profile has secrets

        backend = self._backend if self._backend is not None else keyring.get_keyring()
        module = type(backend).__module__
        if module.startswith(_REFUSED_MODULES):
            raise SecretsUnavailable("no usable keyring was found", hint=NO_KEYRING_HINT)
        # A chainer with nothing behind it is as useless as no keyring.
        backends = getattr(backend, "backends", None)
        if backends is not None and not [b for b in backends if not type(b).__module__.startswith(_REFUSED_MODULES)]:
            raise SecretsUnavailable("no usable keyring was found", hint=NO_KEYRING_HINT)
        return backend

    def backend_name(self) -> str:
        try:
            backend = self._keyring()
        except SecretsUnavailable:
            return "none"
        return f"{type(backend).__module__}.{type(backend).__name__}"

    def _call(self, what: str, fn: Any, *args: str) -> Any:
        import keyring.errors

        backend = self._keyring()
        try:
            return getattr(backend, fn)(*args)
        except keyring.errors.KeyringLocked:
            raise SecretsUnavailable(f"the keyring is locked, so the {what} cannot be read or saved",
                                     hint="Unlock your keyring (log in again, or open your password manager) "
                                          "and try again.") from None
        except keyring.errors.PasswordDeleteError:
            return None
        except keyring.errors.InitError as exc:
            raise SecretsUnavailable(f"the keyring could not be opened: {exc}", hint=NO_KEYRING_HINT) from None
        except keyring.errors.NoKeyringError:
            raise SecretsUnavailable("no usable keyring was found", hint=NO_KEYRING_HINT) from None
        except keyring.errors.KeyringError as exc:
            raise SecretsUnavailable(f"the keyring refused: {exc}", hint=NO_KEYRING_HINT) from None
        except Exception as exc:  # noqa: BLE001 - D-Bus and OS errors surface as many types
            log.warning("keyring %s failed: %s", fn, type(exc).__name__)
            raise SecretsUnavailable(f"the keyring failed ({type(exc).__name__})", hint=NO_KEYRING_HINT) from None

    def get(self, profile: str, key: str) -> str | None:
        value = self._call("secret", "get_password", SERVICE, _username(profile, key))
        return value if isinstance(value, str) else None

    def set(self, profile: str, key: str, value: str) -> None:
        self._call("secret", "set_password", SERVICE, _username(profile, key), value)

    def delete(self, profile: str, key: str) -> None:
        self._call("secret", "delete_password", SERVICE, _username(profile, key))
