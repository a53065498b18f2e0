"""OpenVPN's management interface: the protocol (parsing, quoting), the live session state, and one client.

OpenVPN serves one management client at a time, so vpnswitch holds that one connection for the whole life
of the process and learns everything from it: ``>STATE:`` changes, ``>BYTECOUNT:`` every second,
``>PASSWORD:`` requests (answered from the keyring — the password goes over this socket only, never argv,
files or logs), ``>FATAL:``. Replies to commands (``SUCCESS:``/``ERROR:``) arrive in the order the
commands were sent, so a FIFO of waiters pairs them up and the reader thread itself can answer a prompt
without waiting. Reading uses ``select`` + ``recv``: a timed-out ``makefile()`` cannot be read again.
"""

from __future__ import annotations

import collections
import logging
import re
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from vpnswitch.core.errors import BackendError

log = logging.getLogger(__name__)

MAX_LINE = 64 * 1024

# ------------------------------------------------------------------------------------------ protocol


@dataclass(frozen=True)
class StateChange:
    """``>STATE:time,NAME,desc,tunnel_ip,remote_ip,remote_port,local_ip,local_port[,tunnel_ipv6]``"""

    time: int
    name: str
    desc: str = ""
    tunnel_ip: str = ""
    remote_ip: str = ""
    remote_port: str = ""


@dataclass(frozen=True)
class ByteCount:
    received: int
    sent: int


@dataclass(frozen=True)
class PasswordPrompt:
    kind: Literal["need", "failed", "other"]
    realm: str  # "Auth", "Private Key", …
    detail: str  # the rest of the line: "username/password", "password", "SC:1,…", "CRV1:…"


@dataclass(frozen=True)
class Hold:
    text: str


@dataclass(frozen=True)
class Fatal:
    message: str


@dataclass(frozen=True)
class LogLine:
    flags: str  # I info, F fatal, N non-fatal, W warning, D debug
    message: str


@dataclass(frozen=True)
class Notice:
    """Any other real-time line (>INFO:, >INFOMSG:, >NEED-OK:, >CLIENT:, …)."""

    kind: str
    payload: str


Event = StateChange | ByteCount | PasswordPrompt | Hold | Fatal | LogLine | Notice

# ">PASSWORD:Need 'Auth' username/password", ">PASSWORD:Verification Failed: 'Auth'"
_PROMPT = re.compile(r"^(Need|Verification Failed):? '([^']*)'\s*(.*)$")


def parse_notification(line: str) -> Event:
    """Parse one real-time line (it starts with ">")."""
    kind, _, payload = line[1:].partition(":")
    if kind == "STATE":
        fields = payload.split(",")
        fields += [""] * (6 - len(fields))
        try:
            stamp = int(fields[0])
        except ValueError:
            stamp = 0
        return StateChange(stamp, fields[1], fields[2], fields[3], fields[4], fields[5])
    if kind == "BYTECOUNT":
        received, _, sent = payload.partition(",")
        try:
            return ByteCount(int(received), int(sent))
        except ValueError:
            return Notice(kind, payload)
    if kind == "PASSWORD":
        match = _PROMPT.match(payload)
        if match is None:
            return PasswordPrompt("other", "", payload)
        if match.group(1) == "Need":
            return PasswordPrompt("need", match.group(2), match.group(3))
        return PasswordPrompt("failed", match.group(2), match.group(3))
    if kind == "HOLD":
        return Hold(payload)
    if kind == "FATAL":
        return Fatal(payload)
    if kind == "LOG":
        parts = payload.split(",", 2)
        if len(parts) == 3:
            return LogLine(parts[1], parts[2])
        return LogLine("", payload)
    return Notice(kind, payload)


def quote(value: str) -> str:
    """Quote a value the way OpenVPN's config parser reads it: in double quotes, with \\ and " escaped."""
    if "\n" in value or "\r" in value or "\0" in value:
        raise ValueError("a value sent to OpenVPN cannot contain line breaks or NUL")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def credential_commands(prompt: PasswordPrompt, username: str | None, password: str | None) -> list[str]:
    """The commands that answer ``prompt``; ValueError with a message for the user when we cannot."""
    if prompt.kind != "need":
        raise ValueError(f"OpenVPN asked for something vpnswitch cannot answer: {prompt.realm} {prompt.detail}")
    if prompt.realm != "Auth":
        raise ValueError(f"OpenVPN needs the '{prompt.realm}' password; vpnswitch only supplies the user "
                         "name and password of the connection (remove the passphrase from the key)")
    if "SC:" in prompt.detail or "CRV1:" in prompt.detail:
        raise ValueError("the server asks for a one-time code (challenge/response), which vpnswitch cannot "
                         "answer automatically")
    if password is None:
        raise ValueError("OpenVPN asks for a password, but none is stored for this profile")
    commands = []
    if "username" in prompt.detail or not prompt.detail:
        if not username:
            raise ValueError("OpenVPN asks for a user name, but the profile has none (set \"username\")")
        commands.append(f"username {quote(prompt.realm)} {quote(username)}")
    commands.append(f"password {quote(prompt.realm)} {quote(password)}")
    return commands


# ---------------------------------------------------------------------------------------- live state

_DEVICE = (re.compile(r"TUN/TAP device (\S+) opened"), re.compile(r"Opened utun device (\S+)"))
_PUSHED_DNS = re.compile(r"(?:^|,)dhcp-option DNS6? ([0-9A-Fa-f.:]+)")


def pushed_dns(message: str) -> tuple[str, ...]:
    """The resolvers in a ``PUSH_REPLY`` log line (``dhcp-option DNS``/``DNS6``), in order; () for other lines.

    OpenVPN on Linux does not apply them by itself; vpnswitch asks them through the tunnel to learn where a
    site really is.
    """
    if "PUSH_REPLY" not in message:
        return ()
    return tuple(m.group(1) for m in _PUSHED_DNS.finditer(message.split("PUSH_REPLY", 1)[1]))


@dataclass(frozen=True)
class LiveState:
    state: str = ""  # the last >STATE name (CONNECTING … CONNECTED, RECONNECTING, EXITING)
    desc: str = ""
    tunnel_ip: str = ""
    remote: str = ""
    connected: bool = False  # the last state is CONNECTED
    was_connected: bool = False
    received: int = 0
    sent: int = 0
    fatal: str = ""
    auth_failed: bool = False
    unsupported: str = ""  # a request vpnswitch cannot answer (challenge/response, key passphrase…)
    device: str = ""
    dns: tuple[str, ...] = ()  # the resolvers the server pushed
    closed: bool = False  # the management connection ended (openvpn exited, normally)


class SessionTracker:
    """Folds management events into a LiveState that other threads read without blocking."""

    def __init__(self) -> None:
        self._state = LiveState()
        self._cond = threading.Condition()
        self.log_tail: collections.deque[str] = collections.deque(maxlen=30)

    @property
    def state(self) -> LiveState:
        return self._state

    def _update(self, **changes: object) -> None:
        with self._cond:
            self._state = replace(self._state, **changes)  # type: ignore[arg-type]
            self._cond.notify_all()

    def feed(self, event: Event) -> None:
        match event:
            case StateChange():
                remote = f"{event.remote_ip}:{event.remote_port}" if event.remote_ip else self._state.remote
                connected = event.name == "CONNECTED"
                auth_failed = self._state.auth_failed or (event.name == "EXITING" and event.desc == "auth-failure")
                self._update(state=event.name, desc=event.desc, tunnel_ip=event.tunnel_ip or self._state.tunnel_ip,
                             remote=remote, connected=connected,
                             was_connected=self._state.was_connected or connected, auth_failed=auth_failed)
            case ByteCount():
                self._state = replace(self._state, received=event.received, sent=event.sent)  # no waiter cares
            case PasswordPrompt(kind="failed"):
                self._update(auth_failed=True)
            case Fatal():
                self._update(fatal=event.message)
            case LogLine():
                if event.flags != "D":
                    self.log_tail.append(event.message)
                for pattern in _DEVICE:
                    match = pattern.search(event.message)
                    if match:
                        self._update(device=match.group(1))
                dns = pushed_dns(event.message)
                if dns:
                    self._update(dns=dns)
            case _:
                pass

    def set_unsupported(self, message: str) -> None:
        self._update(unsupported=message)

    def mark_closed(self) -> None:
        self._update(closed=True)

    def wait(self, done: Callable[[LiveState], bool], timeout: float, poll: float = 0.2) -> LiveState:
        """Block until ``done(state)`` or the timeout; re-checks every ``poll`` s for outside changes."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not done(self._state):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(min(poll, remaining))
            return self._state


# -------------------------------------------------------------------------------------------- client


class _Waiter:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.reply: str | None = None


class ManagementClient:
    """One connection to one openvpn's management interface, read by a daemon thread."""

    def __init__(self, on_event: Callable[[Event], None], on_close: Callable[[], None] = lambda: None) -> None:
        self._on_event = on_event
        self._on_close = on_close
        self._sock: socket.socket | None = None
        self._send_lock = threading.Lock()
        self._waiters: collections.deque[_Waiter] = collections.deque()
        self._reader: threading.Thread | None = None
        self._closed = threading.Event()

    # ------------------------------------------------------------------ connecting

    def connect_unix(self, path: Path, timeout: float, alive: Callable[[], bool] = lambda: True) -> None:
        """Connect once openvpn has created its socket; fail early when the process has died."""
        deadline = time.monotonic() + timeout
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(max(0.1, min(2.0, deadline - time.monotonic())))
                sock.connect(str(path))
                self.attach(sock)
                return
            except OSError as exc:
                sock.close()
                if not alive():
                    raise BackendError("openvpn exited before its management interface was ready") from None
                if time.monotonic() >= deadline:
                    raise BackendError(f"could not reach OpenVPN's management interface: {exc.strerror or exc}") \
                        from None
                time.sleep(0.02)

    def connect_tcp(self, host: str, port: int, password: str, timeout: float,
                    alive: Callable[[], bool] = lambda: True) -> None:
        """Connect to a localhost TCP management port that asks for a password first (Windows)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.create_connection((host, port), timeout=max(0.1, min(2.0, deadline - time.monotonic())))
                break
            except OSError as exc:
                if not alive():
                    raise BackendError("openvpn exited before its management interface was ready") from None
                if time.monotonic() >= deadline:
                    raise BackendError(f"could not reach OpenVPN's management interface: {exc.strerror or exc}") \
                        from None
                time.sleep(0.05)
        try:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            buffer = b""
            while b"ENTER PASSWORD:" not in buffer:  # sent without a line break
                chunk = sock.recv(4096)
                if not chunk:
                    raise BackendError("OpenVPN closed its management interface before asking for its password")
                buffer += chunk
                if len(buffer) > MAX_LINE:
                    raise BackendError("unexpected greeting from OpenVPN's management interface")
            sock.sendall(password.encode() + b"\n")
            buffer = buffer.split(b"ENTER PASSWORD:", 1)[1]
            while b"\n" not in buffer:
                chunk = sock.recv(4096)
                if not chunk:
                    raise BackendError("OpenVPN refused vpnswitch's management password")
                buffer += chunk
            first, _, rest = buffer.partition(b"\n")
            if not first.strip().startswith(b"SUCCESS"):
                raise BackendError("OpenVPN refused vpnswitch's management password")
        except (OSError, BackendError) as exc:
            sock.close()
            if isinstance(exc, BackendError):
                raise
            raise BackendError(f"OpenVPN's management interface failed: {exc}") from None
        self.attach(sock, rest)

    def attach(self, sock: socket.socket, pending: bytes = b"") -> None:
        """Start reading ``sock`` (already connected)."""
        sock.settimeout(5.0)  # bounds sendall(); reads only happen after select() says there is data
        self._sock = sock
        self._reader = threading.Thread(target=self._read_loop, args=(pending,), name="openvpn-management",
                                        daemon=True)
        self._reader.start()

    # ------------------------------------------------------------------ commands

    @property
    def connected(self) -> bool:
        return self._sock is not None and not self._closed.is_set()

    def _send(self, command: str) -> _Waiter:
        waiter = _Waiter()
        with self._send_lock:
            if self._sock is None or self._closed.is_set():
                raise BackendError("the OpenVPN management connection is closed")
            self._waiters.append(waiter)
            try:
                self._sock.sendall(command.encode("utf-8") + b"\n")
            except OSError as exc:
                self._waiters.remove(waiter)
                raise BackendError(f"could not talk to OpenVPN: {exc.strerror or exc}") from None
        return waiter

    def command(self, command: str, timeout: float) -> str:
        """Send a command and return its SUCCESS reply; BackendError on ERROR, timeout or a closed socket.
        (Commands are never logged: some carry secrets.)"""
        waiter = self._send(command)
        if not waiter.done.wait(timeout):
            raise BackendError(f"OpenVPN did not answer '{command.split(' ', 1)[0]}' within {timeout:g} s")
        if waiter.reply is None:
            raise BackendError("the OpenVPN management connection closed")
        if waiter.reply.startswith("ERROR"):
            raise BackendError(f"OpenVPN refused '{command.split(' ', 1)[0]}': {waiter.reply}")
        return waiter.reply

    def send_nowait(self, command: str) -> None:
        """Send without waiting for the reply (safe from the reader thread itself)."""
        self._send(command)

    # ------------------------------------------------------------------ reading

    def _read_loop(self, pending: bytes) -> None:
        sock = self._sock
        assert sock is not None
        buffer = pending
        try:
            while not self._closed.is_set():
                while b"\n" in buffer:
                    raw, buffer = buffer.split(b"\n", 1)
                    self._dispatch(raw.decode("utf-8", errors="replace").rstrip("\r"))
                if len(buffer) > MAX_LINE:
                    buffer = b""  # a runaway line: drop it rather than grow without bound
                ready, _, _ = select.select([sock], [], [], 0.5)
                if not ready:
                    continue
                chunk = sock.recv(65536)
                if not chunk:
                    break
                buffer += chunk
        except (OSError, ValueError):
            pass
        finally:
            self._finish()

    def _dispatch(self, line: str) -> None:
        if not line:
            return
        if line.startswith(">"):
            try:
                self._on_event(parse_notification(line))
            except Exception:  # a bad handler must not kill the only reader
                log.exception("handling an OpenVPN management event failed")
            return
        with self._send_lock:
            waiter = self._waiters.popleft() if self._waiters else None
        if waiter is not None:
            waiter.reply = line
            waiter.done.set()

    def _finish(self) -> None:
        self._closed.set()
        with self._send_lock:
            waiters, self._waiters = list(self._waiters), collections.deque()
        for waiter in waiters:
            waiter.done.set()
        try:
            self._on_close()
        except Exception:
            log.exception("OpenVPN management close handler failed")

    def close(self) -> None:
        self._closed.set()
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        reader = self._reader
        if reader is not None and reader is not threading.current_thread():
            reader.join(timeout=2.0)
