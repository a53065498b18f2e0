"""The machinery behind the fake vendor executables in tests/fakes/bin.

Each fake keeps its state in ``$FAKE_VPN_STATE_DIR/<vendor>.json`` and behaves like the vendor's daemon
plus CLI: connecting takes time (a detached "daemon" process finishes it, so a CLI that returns at once
really returns before the tunnel is up), states change, errors appear (not logged in, daemon not
running…), and any verb can be made to hang. Tests (and the lab) change the state through ``update()``.

Lab hooks: ``up_cmd`` / ``down_cmd`` (argv lists) run when the fake tunnel comes up / goes down, so a fake
vendor can bring up a real WireGuard or OpenVPN tunnel while printing the vendor's real status format.
Only the standard library is used: the fakes run under whichever python3 is on PATH.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {
    "state": "disconnected",  # disconnected | connecting | connected | disconnecting | error
    "since": 0.0,
    "connect_seconds": 0.6,
    "disconnect_seconds": 0.2,
    "logged_in": True,
    "daemon": True,
    "hang": [],  # verbs that never return (e.g. ["status"], ["connect"])
    "fail_connect": "",  # non-empty: connecting ends in the error state with this cause
    "killswitch": False,
    "killswitch_mode": "on",  # Windscribe: "on" or "always on"
    "location": "Frankfurt",
    "interface": "",
    "up_cmd": None,
    "down_cmd": None,
    "hook_error": "",
    "extra": {},
}


def state_dir() -> Path:
    value = os.environ.get("FAKE_VPN_STATE_DIR")
    if not value:
        sys.stderr.write("FAKE_VPN_STATE_DIR is not set\n")
        sys.exit(70)
    path = Path(value)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _path(vendor: str, directory: Path | None = None) -> Path:
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
    return (directory or state_dir()) / f"{vendor}.json"


@contextlib.contextmanager
def _locked(vendor: str, directory: Path | None = None) -> Iterator[None]:
    lock_path = _path(vendor, directory).with_suffix(".lock")
    with open(lock_path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read(vendor: str, directory: Path | None = None) -> dict[str, Any]:
    path = _path(vendor, directory)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    return {**DEFAULTS, **data}


def _write(vendor: str, data: dict[str, Any], directory: Path | None = None) -> None:
    path = _path(vendor, directory)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def update(vendor: str, directory: Path | None = None, **changes: Any) -> dict[str, Any]:
    """Change the fake's state (used by tests and by the fakes themselves)."""
    with _locked(vendor, directory):
        data = read(vendor, directory)
        data.update(changes)
        _write(vendor, data, directory)
        return data


def log_call(vendor: str, argv: list[str]) -> None:
    with open(state_dir() / f"{vendor}.calls", "a") as handle:
        handle.write(json.dumps(argv) + "\n")


def calls(vendor: str, directory: Path) -> list[list[str]]:
    try:
        return [json.loads(line) for line in (directory / f"{vendor}.calls").read_text().splitlines()]
    except OSError:
        return []


# ----------------------------------------------------------------------------------------- behaviour

def hang_if(data: dict[str, Any], verb: str) -> None:
    if verb in data["hang"]:
        time.sleep(3600)


def _run_hook(argv: list[str] | None) -> str:
    if not argv:
        return ""
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return "" if proc.returncode == 0 else (proc.stderr or proc.stdout or f"exit {proc.returncode}").strip()


def begin_connect(vendor: str, script: str, **extra: Any) -> None:
    """The daemon starts connecting; a detached worker finishes it after ``connect_seconds``."""
    update(vendor, state="connecting", since=time.time(), **extra)
    subprocess.Popen([sys.executable, script, "--fake-daemon", "connect"], stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                     env=dict(os.environ))


def begin_disconnect(vendor: str, script: str) -> None:
    with _locked(vendor):
        data = read(vendor)
        data.update(was=data["state"], state="disconnecting", since=time.time())
        _write(vendor, data)
    subprocess.Popen([sys.executable, script, "--fake-daemon", "disconnect"], stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                     env=dict(os.environ))


def daemon_work(vendor: str, action: str) -> int:
    """Runs detached: finish a connect or disconnect the way a vendor daemon would."""
    data = read(vendor)
    if action == "connect":
        time.sleep(float(data["connect_seconds"]))
        data = read(vendor)
        if data["state"] != "connecting":
            return 0  # cancelled by a disconnect meanwhile
        if data["fail_connect"]:
            update(vendor, state="error", since=time.time())
            return 0
        problem = _run_hook(data["up_cmd"])
        if problem:
            update(vendor, state="error", since=time.time(), hook_error=problem)
            return 0
        update(vendor, state="connected", since=time.time())
        return 0
    time.sleep(float(data["disconnect_seconds"]))
    if data.get("was") in ("connected", "error"):
        _run_hook(data["down_cmd"])
    update(vendor, state="disconnected", since=time.time())
    return 0


def wait_settled(vendor: str, limit: float = 300.0) -> dict[str, Any]:
    """What a blocking CLI does: wait until the daemon reaches a final state."""
    deadline = time.time() + limit
    while time.time() < deadline:
        data = read(vendor)
        if data["state"] not in ("connecting", "disconnecting"):
            return data
        time.sleep(0.05)
    return read(vendor)


def watch(vendor: str, render: Callable[[dict[str, Any]], str | None], interval: float = 0.05) -> int:
    """An event stream: print the current state, then each change, until killed."""
    last: str | None = None
    while True:
        data = read(vendor)
        if not data["daemon"]:
            print("Error: lost the connection to the daemon", flush=True)
            return 1
        text = render(data)
        if text is not None and text != last:
            print(text, flush=True)
            last = text
        time.sleep(interval)


def entry(vendor: str, main: Callable[[list[str], dict[str, Any]], int]) -> None:
    """Common start of every fake: the daemon worker mode, the call log, and hangs."""
    argv = sys.argv[1:]
    if argv[:1] == ["--fake-daemon"]:
        sys.exit(daemon_work(vendor, argv[1]))
    log_call(vendor, argv)
    data = read(vendor)
    try:
        code = main(argv, data)
    except BrokenPipeError:
        code = 0
    sys.stdout.flush()
    sys.exit(code)


def out(text: str, *, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    stream.write(text if text.endswith("\n") else text + "\n")
    stream.flush()
