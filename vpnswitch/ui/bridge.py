"""Runtime callbacks (on the runtime thread) re-emitted as Qt signals (delivered on the GUI thread)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from vpnswitch.ui.qtcompat import emit

if TYPE_CHECKING:
    from vpnswitch.ui.facade import RuntimePort, Snapshot


class RuntimeBridge(QObject):
    """Lives in the GUI thread; emitting from another thread queues the call, so slots run on the GUI thread."""

    snapshot = Signal(object)  # Snapshot
    notified = Signal(str, str, str)  # kind, title, message
    show_requested = Signal()

    def attach(self, port: RuntimePort) -> None:
        port.subscribe(self._on_snapshot)
        port.on_notify(self._on_notify)

    def request_show(self) -> None:
        """For the control socket's "show" verb; called from its thread."""
        emit(self.show_requested)

    def _on_snapshot(self, snapshot: Snapshot) -> None:
        emit(self.snapshot, snapshot)

    def _on_notify(self, kind: str, title: str, message: str) -> None:
        emit(self.notified, kind, title, message)
