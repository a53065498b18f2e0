"""The one way vpnswitch runs other programs.

Rules every call follows: an argv list (never a shell), stdin closed, ``LC_ALL=C`` so output can be
parsed, a timeout on every call, the whole process tree killed on timeout, output capped, and secrets only
through the environment or stdin — never argv, never logs.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO

import psutil

from vpnswitch.core.errors import AppMissing, BackendError, CommandTimeout

log = logging.getLogger(__name__)

DEFAULT_MAX_OUTPUT = 1 << 20
KILL_GRACE = 2.0


@dataclass(frozen=True)
class Completed:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    duration: float
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def output(self) -> str:
        """stdout and stderr together, for messages."""
        return "\n".join(part for part in (self.stdout.strip(), self.stderr.strip()) if part)


def _base_env(extra: Mapping[str, str] | None) -> dict[str, str]:
    env = dict(os.environ)
    env["LC_ALL"] = "C"
    env["LANG"] = "C"
    if extra:
        env.update(extra)
    return env


def _spawn(argv: tuple[str, ...], *, stdin: int, stdout: int | IO[bytes], stderr: int, env: dict[str, str],
           cwd: str | None) -> subprocess.Popen[bytes]:
    """Start ``argv`` in a process group of its own, so the whole tree can be stopped together."""
    if sys.platform == "win32":
        flags = subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.CREATE_NO_WINDOW
        return subprocess.Popen(argv, stdin=stdin, stdout=stdout, stderr=stderr, env=env, cwd=cwd,
                                creationflags=flags)
    return subprocess.Popen(argv, stdin=stdin, stdout=stdout, stderr=stderr, env=env, cwd=cwd,
                            start_new_session=True)


def kill_tree(pid: int, grace: float = KILL_GRACE) -> None:
    """Terminate ``pid`` and every descendant (even those that left its process group), then kill stragglers."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return
    if sys.platform != "win32":
        try:
            os.killpg(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError, OSError):
            pass
    for proc in procs:
        try:
            proc.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(procs, timeout=grace)
    for proc in alive:
        try:
            proc.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(alive, timeout=grace)


def stop_process(proc: subprocess.Popen[bytes], grace: float = KILL_GRACE) -> int | None:
    """Stop one child by its handle: SIGTERM, then SIGKILL if it has not exited within ``grace``; its exit code.

    For a single process that needs no tree-kill (a helper daemon, a test's server); ``kill_tree`` is for a
    program whose children must go too.
    """
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=grace)
    return proc.returncode


class _CappedReader(threading.Thread):
    """Drains a pipe so the child never blocks, keeping at most ``limit`` bytes."""

    def __init__(self, pipe: IO[bytes], limit: int) -> None:
        super().__init__(daemon=True)
        self.pipe = pipe
        self.limit = limit
        self.chunks: list[bytes] = []
        self.size = 0
        self.truncated = False

    def run(self) -> None:
        try:
            while chunk := self.pipe.read1(65536) if hasattr(self.pipe, "read1") else self.pipe.read(65536):
                room = self.limit - self.size
                if room > 0:
                    self.chunks.append(chunk[:room])
                    self.size += min(room, len(chunk))
                if len(chunk) > room:
                    self.truncated = True
        except (OSError, ValueError):
            pass

    def text(self) -> str:
        return b"".join(self.chunks).decode("utf-8", errors="replace")


class Runner:
    """Runs programs. Injected everywhere, so tests can put fake executables on PATH or replace it."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self._env = dict(env) if env else None

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        env: Mapping[str, str] | None = None,
        stdin_data: str | None = None,
        cwd: str | None = None,
        max_output: int = DEFAULT_MAX_OUTPUT,
    ) -> Completed:
        """Run to completion. Raises AppMissing when the program is absent, CommandTimeout on timeout."""
        argv = tuple(argv)
        if not argv:
            raise ValueError("empty argv")
        merged = _base_env({**(self._env or {}), **(env or {})})
        started = time.monotonic()
        try:
            proc = _spawn(
                argv,
                stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=merged,
                cwd=cwd,
            )
        except FileNotFoundError:
            raise AppMissing(f"{argv[0]} is not installed (not found on PATH)",
                             hint="Install it, or fix the profile's command in Settings.") from None
        except PermissionError:
            raise BackendError(f"{argv[0]} is not executable", fatal=True) from None
        assert proc.stdout is not None and proc.stderr is not None
        readers = [_CappedReader(proc.stdout, max_output), _CappedReader(proc.stderr, max_output)]
        for reader in readers:
            reader.start()
        if stdin_data is not None and proc.stdin is not None:
            try:
                proc.stdin.write(stdin_data.encode("utf-8"))
                proc.stdin.close()
            except OSError:
                pass
        try:
            returncode = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_tree(proc.pid)
            proc.wait(timeout=KILL_GRACE)
            for reader in readers:
                reader.join(timeout=1.0)
            _close_pipes(proc)
            log.warning("%s timed out after %.1f s and was stopped", argv[0], timeout)
            raise CommandTimeout(f"{os.path.basename(argv[0])} did not finish within {timeout:g} s") from None
        # A finished child may leave a grandchild holding the pipes; don't wait for it forever.
        for reader in readers:
            reader.join(timeout=max(0.1, timeout - (time.monotonic() - started)))
        _close_pipes(proc)
        return Completed(
            argv=argv,
            returncode=returncode,
            stdout=readers[0].text(),
            stderr=readers[1].text(),
            duration=time.monotonic() - started,
            truncated=readers[0].truncated or readers[1].truncated,
        )

    def start(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        log_path: str | None = None,
    ) -> ManagedProcess:
        """Start a long-running program (a VPN client in the foreground) that vpnswitch owns."""
        argv = tuple(argv)
        merged = _base_env({**(self._env or {}), **(env or {})})
        out: int | IO[bytes] = subprocess.DEVNULL
        if log_path:
            out = open(log_path, "ab")  # noqa: SIM115 - handed to the child, closed below
        try:
            proc = _spawn(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=merged, cwd=cwd)
        except FileNotFoundError:
            raise AppMissing(f"{argv[0]} is not installed (not found on PATH)") from None
        except PermissionError:
            raise BackendError(f"{argv[0]} is not executable", fatal=True) from None
        finally:
            if not isinstance(out, int):
                out.close()
        return ManagedProcess(proc, argv)


def _close_pipes(proc: subprocess.Popen[bytes]) -> None:
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        if pipe is not None:
            try:
                pipe.close()
            except OSError:
                pass


class ManagedProcess:
    """A child vpnswitch started and must stop: cheap liveness checks, tree-kill on stop."""

    def __init__(self, proc: subprocess.Popen[bytes], argv: tuple[str, ...]) -> None:
        self._proc = proc
        self.argv = argv

    @property
    def pid(self) -> int:
        return self._proc.pid

    def alive(self) -> bool:
        return self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return self._proc.poll()

    def stop(self, timeout: float = KILL_GRACE) -> None:
        if self._proc.poll() is None:
            kill_tree(self._proc.pid, grace=timeout)
        try:
            self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=timeout)
