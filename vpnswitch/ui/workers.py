"""Run blocking work (keyring, files, waiting on the runtime) off the GUI thread; get the result back on it.

Each call gets a daemon thread: the work is rare and user-triggered, and a keyring call stuck on an unlock
prompt must never keep the app from quitting (a thread pool would be waited for at exit). The result travels
back through a queued Qt signal, so callbacks run on the GUI thread. A callback owned by a widget that is gone
by then is simply not called.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from vpnswitch.ui.qtcompat import emit

log = logging.getLogger(__name__)


class _Relay(QObject):
    finished = Signal(object, object)  # result, error


# Relays have no Qt parent and live here until their result is delivered, so a window (or a Workers object)
# that goes away while work is still running cannot take the relay down with it under a worker's feet.
_pending: set[_Relay] = set()


class Workers(QObject):
    """``submit(fn, on_done, on_error)``; at most one result per call, always on the GUI thread."""

    def submit(self, fn: Callable[[], Any], on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None, *, name: str = "vpnswitch-ui-work") -> None:
        relay = _Relay()
        _pending.add(relay)

        def deliver(result: Any, error: BaseException | None) -> None:
            _pending.discard(relay)
            relay.deleteLater()
            try:
                if error is not None:
                    if on_error is not None:
                        on_error(error)
                    else:
                        log.error("background work failed: %s", error, exc_info=error)
                elif on_done is not None:
                    on_done(result)
            except RuntimeError as exc:
                if "already deleted" not in str(exc):
                    raise
                log.debug("a window closed before its background work finished")

        relay.finished.connect(deliver)
        # The thread takes its work and relay out of this box and lets go of them as soon as it is done, so
        # nothing it held can end up destroyed on it later (Qt objects must die on their own thread).
        box: list[Any] = [fn, relay]

        def run() -> None:
            work, sender = box.pop(0), box.pop(0)
            try:
                result, error = work(), None
            except BaseException as exc:  # noqa: BLE001 - handed to the GUI thread
                result, error = None, exc
            del work
            try:
                emit(sender.finished, result, error)
            except RuntimeError:
                pass  # the app is shutting down
            del sender, result, error

        threading.Thread(target=run, name=name, daemon=True).start()
