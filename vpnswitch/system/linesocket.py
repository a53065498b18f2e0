"""Serving one-line requests on a local stream socket without letting a caller exhaust the server.

Both of vpnswitch's sockets (the per-user control socket and the privileged service's socket) take one
JSON line per connection. What they share, and what a hostile or broken local caller must not defeat:
a request line that must arrive whole within a deadline (a slow sender is cut off, however it trickles),
a size cap, a cap on connections served at once (over it, a short "busy" answer), and an accept loop that
backs off when the process runs out of file descriptors instead of spinning.
"""

from __future__ import annotations

import errno
import logging
import socket
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

ACCEPT_BACKOFF = 0.2
RESOURCE_ERRNOS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)


class LineError(Exception):
    """The request line could not be read: ``kind`` is "timeout", "too-large" or "closed"."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


def read_line(conn: socket.socket, limit: int, deadline_s: float) -> bytes:
    """One line (without its newline), at most ``limit`` bytes, arriving whole within ``deadline_s``."""
    deadline = time.monotonic() + deadline_s
    chunks: list[bytes] = []
    size = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise LineError(f"the request did not arrive within {deadline_s:g} s", "timeout")
        conn.settimeout(left)
        try:
            chunk = conn.recv(65536)
        except TimeoutError:
            raise LineError(f"the request did not arrive within {deadline_s:g} s", "timeout") from None
        if not chunk:
            if chunks:
                return b"".join(chunks)  # a last line without its newline
            raise LineError("the connection closed before a whole request arrived", "closed")
        newline = chunk.find(b"\n")
        if newline >= 0:
            chunk = chunk[:newline]
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise LineError(f"a request may be at most {limit} bytes", "too-large")
        if newline >= 0:
            return b"".join(chunks)


def serve_connections(sock: socket.socket, stopping: threading.Event, max_connections: int,
                      serve_one: Callable[[socket.socket], None], refuse_busy: Callable[[socket.socket], None],
                      *, name: str) -> None:
    """Accept until ``stopping`` is set; each connection on its own thread, at most ``max_connections``."""
    slots = threading.BoundedSemaphore(max_connections)
    sock.settimeout(0.5)

    def run(conn: socket.socket) -> None:
        try:
            serve_one(conn)
        finally:
            slots.release()

    while not stopping.is_set():
        try:
            conn, _ = sock.accept()
        except TimeoutError:
            continue
        except OSError as exc:
            if stopping.is_set():
                return
            if exc.errno in RESOURCE_ERRNOS:
                log.warning("%s: accept failed (%s); backing off", name, exc.strerror)
                time.sleep(ACCEPT_BACKOFF)
                continue
            if exc.errno == errno.EBADF:  # closed under us by stop()
                return
            log.warning("%s: accept failed (%s)", name, exc)
            time.sleep(ACCEPT_BACKOFF)
            continue
        if not slots.acquire(blocking=False):
            refuse_busy(conn)
            continue
        try:
            threading.Thread(target=run, args=(conn,), name=f"{name}-conn", daemon=True).start()
        except RuntimeError:  # no thread can be started now
            slots.release()
            refuse_busy(conn)


def refuse(conn: socket.socket, reply: bytes) -> None:
    """Send a short answer and close, never waiting long on a caller that does not read."""
    try:
        conn.settimeout(0.5)
        conn.sendall(reply)
    except OSError:
        pass
    finally:
        conn.close()
