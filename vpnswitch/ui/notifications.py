"""Desktop notifications: freedesktop ``Notify`` over D-Bus on Linux, the tray balloon elsewhere.

The D-Bus call goes through jeepney (already a keyring dependency on Linux) on one worker thread with a
timeout: QtDBus cannot marshal Notify's ``u``/``as`` argument types, and a slow notification server must never
stall the GUI. Successive notifications replace the previous one while it is recent, so a burst stays one
bubble. If the session has no notification server, the tray balloon is used instead.
"""

from __future__ import annotations

import logging
import os
import queue
import sys
import threading
import time
import weakref
from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QSystemTrayIcon

from vpnswitch.ui import texts
from vpnswitch.ui.notify_policy import Note, NotificationPolicy
from vpnswitch.ui.qtcompat import emit
from vpnswitch.ui.resources import DESKTOP_ID, icons_dir

log = logging.getLogger(__name__)

NOTIFY_TIMEOUT = 3.0
EXPIRE_MS = 8000
REPLACE_WITHIN = 30.0  # seconds: a newer notification replaces a bubble this young instead of stacking


class Notifier(Protocol):
    def show(self, note: Note) -> None: ...


class TrayNotifier:
    def __init__(self, tray: QSystemTrayIcon) -> None:
        self.tray = tray

    def show(self, note: Note) -> None:
        icon = (QSystemTrayIcon.MessageIcon.Warning if note.kind in ("failure", "error", "dns")
                else QSystemTrayIcon.MessageIcon.Information)
        self.tray.showMessage(note.title, note.message, icon, EXPIRE_MS)


class FreedesktopNotifier(QObject):
    """org.freedesktop.Notifications.Notify from a worker thread; ``failed`` fires when the bus cannot show it.

    The thread holds only a plain ``_Sender`` and a weak reference to this object, so the QObject is never
    destroyed on the worker thread (Qt objects must die on the thread they live on).
    """

    failed = Signal(object)  # the Note that could not be shown

    def __init__(self, parent: QObject | None = None, *, bus_address: str | None = None) -> None:
        super().__init__(parent)
        self._sender = _Sender(bus_address, weakref.ref(self))

    @property
    def sent(self) -> list[int]:
        """Ids the notification server returned, for diagnostics and tests."""
        return self._sender.sent

    @staticmethod
    def available() -> bool:
        if not sys.platform.startswith("linux") or not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
            return False
        try:
            import jeepney  # type: ignore[import-untyped]  # noqa: F401
        except ImportError:
            return False
        return True

    def show(self, note: Note) -> None:
        self._sender.put(note)

    def close(self) -> None:
        self._sender.put(None)


class _Sender:
    """The D-Bus side: one connection, one thread, one call at a time, each with a timeout."""

    def __init__(self, bus_address: str | None, owner: weakref.ref[FreedesktopNotifier]) -> None:
        self.bus_address = bus_address
        self.owner = owner
        self.queue: queue.Queue[Note | None] = queue.Queue()
        self.thread: threading.Thread | None = None
        self.last_id = 0
        self.last_at = 0.0
        self.sent: list[int] = []

    def put(self, note: Note | None) -> None:
        if self.thread is None and note is not None:
            self.thread = threading.Thread(target=self.run, name="vpnswitch-notify", daemon=True)
            self.thread.start()
        self.queue.put(note)

    def run(self) -> None:
        from jeepney import DBusAddress, new_method_call
        from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped]

        address = DBusAddress("/org/freedesktop/Notifications", bus_name="org.freedesktop.Notifications",
                              interface="org.freedesktop.Notifications")
        connection = None
        while True:
            note = self.queue.get()
            if note is None:
                break
            try:
                if connection is None:
                    connection = open_dbus_connection(bus=self.bus_address or "SESSION")
                now = time.monotonic()
                replaces = self.last_id if now - self.last_at < REPLACE_WITHIN else 0
                urgency = 2 if note.kind == "error" else 1
                icon = str(icons_dir() / ("state-down.svg" if note.kind in ("failure", "error")
                                          else "state-healthy.svg" if note.kind in ("switch", "recovered")
                                          else "vpnswitch.svg"))
                message = new_method_call(address, "Notify", "susssasa{sv}i", (
                    "vpnswitch", replaces, icon, note.title, note.message, [],
                    {"urgency": ("y", urgency), "desktop-entry": ("s", DESKTOP_ID)}, EXPIRE_MS))
                reply = connection.send_and_get_reply(message, timeout=NOTIFY_TIMEOUT)
                if reply.header.message_type.name == "error":
                    raise RuntimeError(f"{reply.header.fields} {reply.body}")
                self.last_id = int(reply.body[0])
                self.last_at = now
                self.sent.append(self.last_id)
            except Exception as exc:  # noqa: BLE001 - no server, bus gone, timeout: fall back, keep running
                log.info("desktop notification failed (%s); using the tray instead", type(exc).__name__)
                if connection is not None:
                    try:
                        connection.close()
                    except OSError:
                        pass
                    connection = None
                self._report_failure(note)
        if connection is not None:
            connection.close()

    def _report_failure(self, note: Note) -> None:
        owner = self.owner()
        if owner is None:
            return
        try:
            emit(owner.failed, note)
        except RuntimeError:
            pass  # the app is shutting down


class NotificationCenter(QObject):
    """Applies the user's switch and the rate rules, translates the engine's titles, picks the backend."""

    shown = Signal(object)  # Note, after the policy let it through (tests and logs)

    def __init__(self, primary: Notifier, fallback: Notifier | None = None, *, enabled: bool = True,
                 policy: NotificationPolicy | None = None, clock: Callable[[], float] = time.monotonic,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.primary = primary
        self.fallback = fallback
        self.enabled = enabled
        self.policy = policy or NotificationPolicy()
        self.clock = clock
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._flush)
        if isinstance(primary, FreedesktopNotifier):
            if primary.parent() is None:
                primary.setParent(self)  # owned on the GUI side, so it is only ever destroyed there
            primary.failed.connect(self._primary_failed)  # emitted on its worker; this slot runs on ours

    def offer(self, kind: str, title: str, message: str) -> None:
        """An engine notification: merged with others nearby and rate-limited; dropped when turned off."""
        if not self.enabled:
            return
        self.policy.offer(Note(kind, texts.engine_title(title), message), self.clock())
        self._arm()

    def show_now(self, kind: str, title: str, message: str) -> None:
        """Something the user asked for (a check result): shown at once, even when automatic ones are off."""
        note = Note(kind, title, message)
        self.primary.show(note)
        emit(self.shown, note)

    def _primary_failed(self, note: Note) -> None:
        if self.fallback is not None:
            self.fallback.show(note)

    def _arm(self) -> None:
        due = self.policy.due(self.clock())
        if due is None:
            return
        delay_ms = max(0, int((due - self.clock()) * 1000))
        self._timer.start(delay_ms)

    def _flush(self) -> None:
        note = self.policy.flush(self.clock())
        if note is not None and self.enabled:
            log.info("notification: %s — %s", note.title, note.message.replace("\n", " / "))
            self.primary.show(note)
            emit(self.shown, note)
        self._arm()
