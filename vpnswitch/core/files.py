"""Reading and writing vpnswitch's own small files safely: whole or not at all, bounded, regular files only."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


class NotARegularFile(OSError):
    """The path is a FIFO, a device or a directory: reading it could hang or never end."""


class FileTooLarge(OSError):
    """More bytes than any file of ours could hold: refused before it fills memory."""


def read_regular_file(path: Path, limit: int) -> bytes:
    """The bytes of ``path``, at most ``limit``; refuses anything but a regular file.

    Opened non-blocking, so a FIFO planted where a file should be cannot hang the caller; the size is checked
    on the open descriptor, then the read itself stops one byte past the limit (the file may grow).
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotARegularFile(f"{path} is not a regular file")
        if info.st_size > limit:
            raise FileTooLarge(f"{path} is {info.st_size} bytes, more than {limit}")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(65536, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise FileTooLarge(f"{path} is more than {limit} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` so readers see the old or the new file, never half of one; private (0600) by default."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
