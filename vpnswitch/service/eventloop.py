"""The runtime's event loop: one thread that owns all state, named timers, and workers with timeouts.

Everything that can block (a VPN command, a probe, the keyring) runs on a worker; its result comes back to
the loop thread as a callback. A worker that overruns its timeout is reported as timed out at once; its
late result is dropped.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from vpnswitch.core.clock import Clock, SystemClock
from vpnswitch.core.errors import CommandTimeout

log = logging.getLogger(__name__)

T = TypeVar("T")
Done = Callable[[Any], None]


class Loop(Protocol):
    def now(self) -> float: ...

    def call_soon(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the loop thread. Safe to call from any thread."""

    def call_at(self, name: str, at: float, fn: Callable[[], None]) -> None:
        """(Re)arm the timer ``name``; loop thread only."""

    def cancel(self, name: str) -> None: ...

    def run_task(self, fn: Callable[[], Any], timeout: float, done: Done, label: str = "") -> None:
        """Run ``fn`` on a worker; ``done(result or exception)`` runs on the loop thread."""


class ThreadedLoop:
    def __init__(self, clock: Clock | None = None, workers: int = 8) -> None:
        self.clock = clock or SystemClock()
        self._cond = threading.Condition()
        self._soon: deque[Callable[[], None]] = deque()
        self._heap: list[tuple[float, int, str]] = []
        self._timers: dict[str, tuple[int, Callable[[], None]]] = {}
        self._seq = itertools.count()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vpnswitch-worker")
        self._thread: threading.Thread | None = None
        self._running = False

    def now(self) -> float:
        return self.clock.monotonic()

    def start(self) -> None:
        self._running = True
        self._thread = threading.Thread(target=self._run, name="vpnswitch-runtime", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._running = False
            self._cond.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def in_loop(self) -> bool:
        return threading.current_thread() is self._thread

    def call_soon(self, fn: Callable[[], None]) -> None:
        with self._cond:
            self._soon.append(fn)
            self._cond.notify()

    def call_at(self, name: str, at: float, fn: Callable[[], None]) -> None:
        with self._cond:
            seq = next(self._seq)
            self._timers[name] = (seq, fn)
            heapq.heappush(self._heap, (at, seq, name))
            self._cond.notify()

    def cancel(self, name: str) -> None:
        with self._cond:
            self._timers.pop(name, None)

    def run_task(self, fn: Callable[[], Any], timeout: float, done: Done, label: str = "") -> None:
        finished = threading.Event()
        timer_name = f"task:{next(self._seq)}"

        def deliver(value: Any) -> None:
            if finished.is_set():
                return
            finished.set()
            self.cancel(timer_name)
            try:
                done(value)
            except Exception:
                log.exception("callback for %s failed", label or fn)

        def work() -> None:
            try:
                value: Any = fn()
            except BaseException as exc:  # noqa: BLE001 - delivered to the loop as a value
                value = exc
            self.call_soon(lambda: deliver(value))

        def overrun() -> None:
            log.warning("%s did not finish within %.1f s", label or "a task", timeout)
            deliver(CommandTimeout(f"{label or 'the operation'} did not finish within {timeout:g} s"))

        self.call_at(timer_name, self.now() + timeout, overrun)
        self._pool.submit(work)

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._running:
                    return
                due: list[Callable[[], None]] = list(self._soon)
                self._soon.clear()
                now = self.now()
                while self._heap and self._heap[0][0] <= now:
                    _, seq, name = heapq.heappop(self._heap)
                    current = self._timers.get(name)
                    if current is not None and current[0] == seq:
                        del self._timers[name]
                        due.append(current[1])
                if not due:
                    wait = self._heap[0][0] - now if self._heap else None
                    self._cond.wait(timeout=wait)
                    continue
            for fn in due:
                try:
                    fn()
                except Exception:
                    log.exception("runtime handler failed")
