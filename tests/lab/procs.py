"""Start daemons inside namespaces and stop exactly those processes again.

Processes are stopped through pidfds after re-checking their identity (start time and
command line, or membership of a lab namespace), so a recycled PID is never signalled and
nothing is ever matched by name. Waiting on pidfds also sidesteps lazily reaped zombies
(the PID 1 of some CI VMs reaps orphans only every few seconds): a pidfd is readable as
soon as the process has exited, zombie or not.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ProcRecord:
    """What is needed to recognise a started process later, from any process."""

    name: str
    pid: int
    starttime: int
    argv: tuple[str, ...]  # the command itself, without `ip netns exec NS` or a launcher

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "pid": self.pid,
            "starttime": self.starttime,
            "argv": list(self.argv),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProcRecord:
        return cls(
            name=str(data["name"]),
            pid=int(data["pid"]),
            starttime=int(data["starttime"]),
            argv=tuple(data["argv"]),
        )


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (which may contain spaces)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rfind(")") + 2 :].split()


def starttime(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[19]) if fields is not None else None


def is_running(pid: int) -> bool:
    """True unless the process is gone or a zombie (which is as good as dead)."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def cmdline(pid: int) -> tuple[str, ...] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return tuple(part.decode(errors="replace") for part in raw.split(b"\0")[:-1])


def netns_exec_argv(ns: str, argv: Sequence[str]) -> tuple[str, ...]:
    return ("ip", "netns", "exec", ns, *argv)


def spawn(
    name: str,
    ns: str,
    argv: Sequence[str],
    *,
    log: Path | None = None,
    env: Mapping[str, str] | None = None,
    stdin: Any = subprocess.DEVNULL,
    stdout: Any = None,
    stderr: Any = None,
    launcher: Sequence[str] = (),
) -> tuple[subprocess.Popen[bytes], ProcRecord]:
    """Run argv in namespace ns in its own session (so no terminal signal reaches it).

    With `log`, stdout and stderr go to that file; otherwise `stdout`/`stderr` are used.
    A launcher (a command that ends by exec'ing its arguments) may sit between
    `ip netns exec` and argv.
    """
    wrapper = netns_exec_argv(ns, [*launcher, *argv])
    full_env = None if env is None else {**os.environ, **env}
    with contextlib.ExitStack() as stack:
        if log is not None:
            stdout = stack.enter_context(log.open("ab"))
            stderr = subprocess.STDOUT
        proc = subprocess.Popen(
            wrapper,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            env=full_env,
            start_new_session=True,
        )
    # The start time survives exec, so it identifies the process even before
    # `ip netns exec` has replaced itself with argv.
    record = ProcRecord(name, proc.pid, starttime(proc.pid) or 0, tuple(argv))
    return proc, record


def is_same(record: ProcRecord) -> bool:
    """Is the recorded process still running (not a zombie) under its PID?

    `ip netns exec` and launchers exec their arguments, so at every stage of its life the
    process's command line ends with the recorded argv; the start time rules out reuse.
    """
    cmd = cmdline(record.pid)
    return (
        is_running(record.pid)
        and starttime(record.pid) == record.starttime
        and cmd is not None
        and cmd[len(cmd) - len(record.argv) :] == record.argv
    )


def open_if_same(record: ProcRecord) -> int | None:
    """A pidfd for the recorded process, or None if it is gone or the PID was reused."""
    fd = _pidfd_open(record.pid)
    if fd is None:
        return None
    if is_same(record):  # checked after opening: the pidfd pins this very process
        return fd
    os.close(fd)
    return None


def open_if_in_netns(pid: int, netns_file: Path) -> int | None:
    """A pidfd for pid if (after opening it) the process still lives in that netns."""
    fd = _pidfd_open(pid)
    if fd is None:
        return None
    try:
        want = netns_file.stat()
        have = os.stat(f"/proc/{pid}/ns/net")
        if (want.st_dev, want.st_ino) == (have.st_dev, have.st_ino):
            return fd
    except OSError:
        pass
    os.close(fd)
    return None


def _pidfd_open(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except ProcessLookupError:
        return None


def stop(pidfds: Iterable[int], *, grace: float = 1.0) -> int:
    """SIGTERM all at once, SIGKILL what is left after `grace`; closes the fds.

    Signalling everything first and waiting once keeps teardown well under a second.
    Returns how many processes had still not exited after SIGKILL (normally none).
    """
    fds = list(pidfds)
    try:
        _signal_all(fds, signal.SIGTERM)
        left = _wait_exit(fds, grace)
        _signal_all(left, signal.SIGKILL)
        return len(_wait_exit(left, 2.0))
    finally:
        for fd in fds:
            os.close(fd)


def _signal_all(fds: Iterable[int], sig: signal.Signals) -> None:
    for fd in fds:
        with contextlib.suppress(ProcessLookupError):
            signal.pidfd_send_signal(fd, sig)


def _wait_exit(fds: list[int], timeout: float) -> list[int]:
    """Wait until every pidfd is readable (its process exited); return the others."""
    left = list(fds)
    deadline = time.monotonic() + timeout
    while left:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        ready, _, _ = select.select(left, [], [], remaining)
        left = [fd for fd in left if fd not in ready]
    return left
