"""Talking to our own tor over its control port (stem), and what its events say about health.

Two jobs, kept apart so the judgement can be table-tested without a tor:

- ``TorSignals`` digests events into bootstrap progress (with tor's own warning text) and *hints*.
  Once bootstrapped, tor keeps reporting 100 %, ``circuit-established=1`` and liveness "up" through minutes
  of total outage, so its status is no health signal. What does change quickly: every OR connection
  closing with TLS_ERROR/CONNECTREFUSED (milliseconds when relays answer with RST), bursts of failed
  circuits, streams failing with TIMEOUT. Those are hints: they make the runtime probe *now*; the SOCKS
  probes decide.
- ``TorControl`` is the stem connection: cookie authentication, event subscriptions, a few GETINFO/SETCONF.
"""

from __future__ import annotations

import logging
import shlex
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)
# stem logs every unrecognised event field and every closed socket at INFO; only its problems matter here.
logging.getLogger("stem").setLevel(logging.WARNING)

# ORCONN reasons that mean "the network path to that relay is broken", not "idle connection closed".
BROKEN_OR_REASONS = frozenset({"TLS_ERROR", "CONNECTREFUSED", "NOROUTE", "IOERROR", "CONNECTRESET", "TIMEOUT"})
CIRC_FAIL_BURST = 3
CIRC_FAIL_WINDOW = 5.0


@dataclass(frozen=True)
class Bootstrap:
    progress: int = 0
    tag: str = "starting"
    summary: str = "Starting"
    warning: str = ""  # tor's own words when it reported a problem in this phase
    hostaddr: str = ""

    def describe(self) -> str:
        text = f"{self.progress} % ({self.summary})"
        if self.warning:
            text += f"; tor says: {self.warning}" + (f" ({self.hostaddr})" if self.hostaddr else "")
        return text


def parse_status_args(text: str) -> tuple[str, str, dict[str, str]]:
    """'NOTICE BOOTSTRAP PROGRESS=5 TAG=conn SUMMARY="Connecting to a relay"' -> (runlevel, action, args)."""
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    runlevel = words[0] if words else ""
    action = words[1] if len(words) > 1 else ""
    args = {}
    for word in words[2:]:
        key, sep, value = word.partition("=")
        if sep:
            args[key.upper()] = value
    return runlevel, action, args


class TorSignals:
    """Event digest shared by stem's event thread and the backend's callers (hence the lock)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.bootstrap = Bootstrap()
        self.progress_at = clock()  # when the progress last moved (or tor started)
        self.last_warning = ""  # the last WARN log line, for explanations
        self._open_or: set[str] = set()
        self._circ_failures: deque[float] = deque(maxlen=16)
        self._hint: str | None = None
        self._hinted: set[str] = set()  # hint kinds raised and not yet cleared by a success

    # ------------------------------------------------------------------------------------ feeding

    def on_bootstrap(self, runlevel: str, args: dict[str, str]) -> None:
        try:
            progress = int(args.get("PROGRESS", "0"))
        except ValueError:
            return
        with self._lock:
            warning = args.get("WARNING", "") if runlevel == "WARN" else ""
            hostaddr = args.get("HOSTADDR", "") if warning else ""
            if progress > self.bootstrap.progress:
                self.progress_at = self._clock()
            elif progress == self.bootstrap.progress and not warning:
                # keep tor's reason until progress moves on
                warning, hostaddr = self.bootstrap.warning, self.bootstrap.hostaddr
            self.bootstrap = Bootstrap(progress, args.get("TAG", ""), args.get("SUMMARY", ""), warning, hostaddr)

    def on_orconn(self, status: str, reason: str, target: str) -> None:
        with self._lock:
            if status == "CONNECTED":
                self._open_or.add(target)
                self._hinted.discard("orconn")
            elif status in ("CLOSED", "FAILED"):
                self._open_or.discard(target)
                if not self._open_or and reason in BROKEN_OR_REASONS and self.bootstrap.progress >= 100:
                    self._raise("orconn", f"tor lost its connection to every relay ({reason})")

    def on_circ(self, status: str, reason: str) -> None:
        with self._lock:
            now = self._clock()
            if status == "BUILT":
                self._circ_failures.clear()
                self._hinted.discard("circ")
            elif status == "FAILED":
                self._circ_failures.append(now)
                recent = [t for t in self._circ_failures if now - t <= CIRC_FAIL_WINDOW]
                if len(recent) >= CIRC_FAIL_BURST and self.bootstrap.progress >= 100:
                    self._raise("circ", f"tor circuits keep failing ({reason or 'no reason given'})")

    def on_stream(self, status: str, reason: str) -> None:
        with self._lock:
            if status == "SUCCEEDED":
                self._hinted.discard("stream")
            elif status == "FAILED" and reason in ("TIMEOUT", "DESTROY", "CONNECTREFUSED", "EXITPOLICY", "NOROUTE"):
                self._raise("stream", f"a connection through tor failed ({reason})")

    def on_warning(self, message: str) -> None:
        with self._lock:
            self.last_warning = message.strip()[:300]

    def _raise(self, kind: str, text: str) -> None:
        if kind in self._hinted:
            return
        self._hinted.add(kind)
        self._hint = text

    # ------------------------------------------------------------------------------------ reading

    def take_hint(self) -> str | None:
        """The newest hint, once: each kind is raised again only after tor reported a success of that kind."""
        with self._lock:
            hint, self._hint = self._hint, None
            return hint

    def stalled_for(self) -> float:
        with self._lock:
            return self._clock() - self.progress_at

    def reset(self) -> None:
        with self._lock:
            self.bootstrap = Bootstrap()
            self.progress_at = self._clock()
            self._open_or.clear()
            self._circ_failures.clear()
            self._hint = None
            self._hinted.clear()


class TorControl:
    """A stem Controller on our tor's control port, feeding a TorSignals."""

    def __init__(self, signals: TorSignals) -> None:
        self.signals = signals
        self._controller: Any = None

    def open(self, port: int) -> None:
        from stem.control import Controller, EventType

        controller = Controller.from_port(address="127.0.0.1", port=port)
        try:
            controller.authenticate()  # cookie: stem reads the path from PROTOCOLINFO
            controller.add_event_listener(self._on_status, EventType.STATUS_CLIENT)
            controller.add_event_listener(self._on_orconn, EventType.ORCONN)
            controller.add_event_listener(self._on_circ, EventType.CIRC)
            controller.add_event_listener(self._on_stream, EventType.STREAM)
            controller.add_event_listener(self._on_warn, EventType.WARN)
        except Exception:
            controller.close()
            raise
        self._controller = controller
        # Catch up with what happened before we subscribed.
        runlevel, _, args = parse_status_args(controller.get_info("status/bootstrap-phase"))
        self.signals.on_bootstrap(runlevel, args)

    def alive(self) -> bool:
        return self._controller is not None and bool(self._controller.is_alive())

    def socks_port(self) -> int | None:
        """The SOCKS port tor actually listens on (it was told "auto")."""
        listeners = self._controller.get_info("net/listeners/socks", "").split()
        for item in listeners:
            host_port = item.strip('"')
            _, _, port = host_port.rpartition(":")
            if port.isdigit():
                return int(port)
        return None

    def pin_socks_port(self, port: int) -> None:
        """Keep the port tor picked: a DisableNetwork toggle reopens listeners, and "auto" would pick anew."""
        self._controller.set_conf("SocksPort", f"127.0.0.1:{port}")

    def refresh_bootstrap(self) -> None:
        runlevel, _, args = parse_status_args(self._controller.get_info("status/bootstrap-phase"))
        self.signals.on_bootstrap(runlevel, args)

    def refresh_connections(self) -> None:
        """Drop every OR connection and circuit, so new ones follow the current route.

        A standby tor bootstrapped while a VPN was up holds connections through that tunnel; once the
        tunnel is gone they are dead, and tor would wait for them to time out (tens of seconds).
        """
        from stem import Signal

        self._controller.set_conf("DisableNetwork", "1")
        self._controller.set_conf("DisableNetwork", "0")
        self._controller.signal(Signal.ACTIVE)
        if self._controller.is_newnym_available():
            self._controller.signal(Signal.NEWNYM)

    def close(self) -> None:
        if self._controller is not None:
            try:
                self._controller.close()
            except Exception as exc:  # noqa: BLE001
                log.debug("closing the control connection failed: %s", exc)
            self._controller = None

    # ------------------------------------------------------------------------------- stem listeners

    def _on_status(self, event: Any) -> None:
        if str(event.action) == "BOOTSTRAP":
            self.signals.on_bootstrap(str(event.runlevel), {str(k).upper(): str(v)
                                                            for k, v in (event.keyword_args or {}).items()})

    def _on_orconn(self, event: Any) -> None:
        self.signals.on_orconn(str(event.status), str(event.reason or ""), str(event.endpoint or ""))

    def _on_circ(self, event: Any) -> None:
        self.signals.on_circ(str(event.status), str(event.reason or ""))

    def _on_stream(self, event: Any) -> None:
        self.signals.on_stream(str(event.status), str(event.reason or ""))

    def _on_warn(self, event: Any) -> None:
        self.signals.on_warning(str(event.message))
