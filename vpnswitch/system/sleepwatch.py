"""logind's ``PrepareForSleep`` signal: the machine is about to sleep, or has just woken.

The clock-gap detector (``service/monitors.SleepDetector``) notices a sleep only on the first tick after
waking, and not at all while the machine is going down. In those last moments the network is taken away
before the VPN, so probes fail and — without this — could count against a healthy VPN. logind says so
before it happens (``True``) and again on waking (``False``), on every systemd Linux.

A daemon thread follows the signal over the system bus with jeepney (a blocking connection, polled with a
short timeout so it stops promptly) and reconnects if the bus goes away. Where there is no system bus or no
logind (Windows, macOS, containers) ``start`` says so and vpnswitch relies on the clock gap alone.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from jeepney import MatchRule  # type: ignore[import-untyped]
from jeepney.bus_messages import message_bus  # type: ignore[import-untyped]
from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped]
from jeepney.low_level import HeaderFields  # type: ignore[import-untyped]
from jeepney.wrappers import unwrap_msg  # type: ignore[import-untyped]

log = logging.getLogger(__name__)

LOGIND = "org.freedesktop.login1"
MANAGER_PATH = "/org/freedesktop/login1"
MANAGER = "org.freedesktop.login1.Manager"
CALL_TIMEOUT = 5.0
POLL = 0.5  # how often the thread looks whether it should stop
RECONNECT_AFTER = 10.0


class SleepWatch:
    """Calls ``on_change(True)`` before the machine sleeps and ``on_change(False)`` when it woke."""

    def __init__(self, on_change: Callable[[bool], None], bus: str = "SYSTEM") -> None:
        self._on_change = on_change
        self._bus = bus
        self._stop = threading.Event()
        self._subscribed = threading.Event()
        self._thread: threading.Thread | None = None
        self.problem = ""

    def start(self, wait: float = CALL_TIMEOUT) -> bool:
        """Subscribe; True once logind's signal is followed, False (with ``problem``) when it cannot be."""
        self._thread = threading.Thread(target=self._run, name="sleep-watch", daemon=True)
        self._thread.start()
        self._subscribed.wait(wait)
        return self._subscribed.is_set() and not self.problem

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2 * POLL + 1.0)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._follow()
            except Exception as exc:  # noqa: BLE001 - no bus, no logind, or the bus went away: say so, retry
                first = not self._subscribed.is_set()
                self.problem = f"cannot follow logind's sleep signal ({type(exc).__name__}: {exc})"
                if first:
                    self._subscribed.set()
                    log.info("%s; suspend is noticed by the clock gap alone", self.problem)
                    return
                log.warning("%s; trying again in %.0f s", self.problem, RECONNECT_AFTER)
                self._stop.wait(RECONNECT_AFTER)

    def _follow(self) -> None:
        with open_dbus_connection(bus=self._bus, auth_timeout=CALL_TIMEOUT) as conn:
            reply = conn.send_and_get_reply(message_bus.NameHasOwner(LOGIND), timeout=CALL_TIMEOUT)
            if not unwrap_msg(reply)[0]:
                raise LookupError("logind is not running")
            rule = MatchRule(type="signal", interface=MANAGER, member="PrepareForSleep", path=MANAGER_PATH)
            unwrap_msg(conn.send_and_get_reply(message_bus.AddMatch(rule), timeout=CALL_TIMEOUT))
            queue: deque[Any] = deque()
            with conn.filter(rule, queue=queue):
                self.problem = ""
                self._subscribed.set()
                while not self._stop.is_set():
                    try:
                        message = conn.recv_until_filtered(queue, timeout=POLL)
                    except TimeoutError:
                        continue
                    self._dispatch(message)

    def _dispatch(self, message: Any) -> None:
        if message.header.fields.get(HeaderFields.member) != "PrepareForSleep" or not message.body:
            return
        going = bool(message.body[0])
        log.info("logind: %s", "going to sleep" if going else "woke up")
        try:
            self._on_change(going)
        except Exception:
            log.exception("handling the sleep signal failed")
