"""What the desktop app needs from the engine, as one small interface.

In the app it is an ``Instance`` (the same runtime and control socket as the daemon); in tests a fake. Methods
marked *blocking* touch files, the keyring or the network and must be called from a worker, never the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # the engine is imported on a worker at start-up, after the tray icon is up
    from vpnswitch.core.config import Config
    from vpnswitch.core.secrets import SecretStore
    from vpnswitch.service.runtime import CheckReport
    from vpnswitch.service.snapshot import Snapshot


class SaveOutcome(Protocol):
    kept_aside: Path | None


class RuntimePort(Protocol):
    @property
    def config(self) -> Config: ...

    @property
    def secrets(self) -> SecretStore: ...

    def snapshot(self) -> Snapshot: ...

    def subscribe(self, callback: Callable[[Snapshot], None]) -> None:
        """``callback`` runs on the runtime thread."""

    def on_notify(self, callback: Callable[[str, str, str], None]) -> None:
        """``callback(kind, title, message)`` runs on the runtime thread."""

    def switch(self, profile: str) -> None: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def check(self) -> Future[CheckReport]: ...

    def save_config(self, config: Config) -> SaveOutcome:
        """Blocking: writes the file atomically and applies it."""

    def history(self) -> list[dict[str, Any]]:
        """Blocking: every history entry, oldest first."""

    def latency(self) -> list[dict[str, Any]]:
        """Blocking: every latency sample, oldest first."""

    def stop(self) -> None:
        """Blocking: disconnect and stop."""


class InstancePort:
    """The real engine: wraps ``vpnswitch.service.wiring.Instance``."""

    def __init__(self, instance: Any) -> None:
        self.instance = instance
        self.runtime = instance.runtime

    @property
    def config(self) -> Config:
        return self.runtime.config

    @property
    def secrets(self) -> SecretStore:
        return self.instance.secrets

    def snapshot(self) -> Snapshot:
        return self.runtime.snapshot()

    def subscribe(self, callback: Callable[[Snapshot], None]) -> None:
        self.runtime.subscribe(callback)

    def on_notify(self, callback: Callable[[str, str, str], None]) -> None:
        self.runtime.on_notify(callback)

    def switch(self, profile: str) -> None:
        self.runtime.switch(profile)

    def pause(self) -> None:
        self.runtime.pause()

    def resume(self) -> None:
        self.runtime.resume()

    def check(self) -> Future[CheckReport]:
        return self.runtime.check()

    def save_config(self, config: Config) -> SaveOutcome:
        return self.instance.save_config(config)

    def history(self) -> list[dict[str, Any]]:
        return self.instance.history.entries()

    def latency(self) -> list[dict[str, Any]]:
        return self.instance.latency.entries()

    def stop(self) -> None:
        self.instance.stop()
