"""A long-running vendor command whose output lines are events (``mullvad status listen -j``,
``piactl monitor connectionstate``, Psiphon's JSON notices).

The runner gives long-running programs a log file rather than a pipe, so a small thread follows that file
as it grows and hands each complete line to a callback. The file stays behind for troubleshooting and is
truncated when the stream is started again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from vpnswitch.system.runner import ManagedProcess, Runner

log = logging.getLogger(__name__)

FOLLOW_INTERVAL = 0.1
MAX_LINE = 64 * 1024


class LineStream:
    """Runs ``argv`` and calls ``on_line(text)`` on its own thread for every line it prints."""

    def __init__(self, runner: Runner, argv: Sequence[str], log_path: Path, on_line: Callable[[str], None],
                 *, env: dict[str, str] | None = None, cwd: str | None = None) -> None:
        self._runner = runner
        self._argv = list(argv)
        self._log_path = log_path
        self._on_line = on_line
        self._env = env
        self._cwd = cwd
        self._process: ManagedProcess | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.lines_seen = 0

    def start(self) -> None:
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_path.write_bytes(b"")
        self._stop.clear()
        self._process = self._runner.start(self._argv, env=self._env, cwd=self._cwd, log_path=str(self._log_path))
        self._thread = threading.Thread(target=self._follow, name=f"stream:{Path(self._argv[0]).name}",
                                        daemon=True)
        self._thread.start()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def alive(self) -> bool:
        return self._process is not None and self._process.alive()

    @property
    def returncode(self) -> int | None:
        return self._process.returncode if self._process is not None else None

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._process is not None:
            self._process.stop(timeout=timeout)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=timeout + 1.0)
        self._thread = None

    def _follow(self) -> None:
        pending = b""
        try:
            with open(self._log_path, "rb") as handle:
                while True:
                    chunk = handle.read(65536)
                    if chunk:
                        pending += chunk
                        *lines, pending = pending.split(b"\n")
                        for raw in lines:
                            self._deliver(raw)
                        if len(pending) > MAX_LINE:
                            pending = b""
                        continue
                    # Nothing new: finish once the process is gone and its last bytes were read.
                    if self._stop.is_set() or not self.alive():
                        rest = handle.read()
                        if rest:
                            pending += rest
                            *lines, pending = pending.split(b"\n")
                            for raw in lines:
                                self._deliver(raw)
                        if pending.strip():
                            self._deliver(pending)
                        return
                    time.sleep(FOLLOW_INTERVAL)
        except OSError as exc:
            log.warning("cannot follow %s: %s", self._log_path, exc)

    def _deliver(self, raw: bytes) -> None:
        text = raw.decode("utf-8", errors="replace").rstrip("\r")
        if not text.strip():
            return
        self.lines_seen += 1
        try:
            self._on_line(text)
        except Exception:
            log.exception("handling a line from %s failed", self._argv[0])
