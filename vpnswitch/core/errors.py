"""Typed errors with stable codes, so every layer (CLI, GUI, history) can explain them the same way."""

from __future__ import annotations


class VpnSwitchError(Exception):
    """Base class. ``code`` is stable and machine-readable; the message is for people."""

    code = "error"

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def explain(self) -> str:
        """The message plus what the user can do about it."""
        return f"{self.message}\n{self.hint}" if self.hint else self.message


class ConfigError(VpnSwitchError):
    """The configuration file is invalid; ``problems`` lists each field and what is wrong with it."""

    code = "config-invalid"

    def __init__(self, problems: list[str], *, path: str = "") -> None:
        where = f" in {path}" if path else ""
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"invalid configuration{where}:\n{lines}")
        self.problems = problems
        self.path = path


class ConfigUnreadable(VpnSwitchError):
    """The configuration file could not be parsed at all; it was moved aside, never overwritten."""

    code = "config-unreadable"


class SecretsUnavailable(VpnSwitchError):
    """No usable keyring backend, or the keyring is locked."""

    code = "secrets-unavailable"


class BackendError(VpnSwitchError):
    """A backend operation failed. ``fatal`` errors (bad credentials, missing app) are not retried."""

    code = "backend-failed"

    def __init__(self, message: str, *, fatal: bool = False, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.fatal = fatal


class AuthFailed(BackendError):
    code = "auth-failed"

    def __init__(self, message: str, *, hint: str = "Check the user name and password in Settings.") -> None:
        super().__init__(message, fatal=True, hint=hint)


class AppMissing(BackendError):
    code = "app-missing"

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message, fatal=True, hint=hint)


class CommandTimeout(BackendError):
    code = "timeout"


class NotRunning(VpnSwitchError):
    """No vpnswitch instance is running for this user (the CLI has nothing to talk to)."""

    code = "not-running"


def backend_failure(error: BaseException | None) -> tuple[str, bool]:
    """(message, fatal) for a failed backend call: a fatal one says what to do, others are retried."""
    if error is None:
        return "", False
    if isinstance(error, VpnSwitchError):
        fatal = bool(getattr(error, "fatal", False))
        return error.explain() if fatal else error.message, fatal
    return f"{type(error).__name__}: {error}", False
