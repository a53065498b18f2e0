"""Exec a command with a private directory mounted over /var/run/wireguard.

wireguard-go keeps its control socket in /var/run/wireguard, a directory all network
namespaces share. The lab runs its WireGuard *servers*, and the `wg` calls that
configure them, behind a private mount, so `wg show` inside the client namespace lists
only the tunnels of the app under test (as on a real machine) and no server socket ever
lands in the host-wide directory. unshare(2) and mount(2) are called through ctypes
because os.unshare needs Python 3.12.

Usage: wgprivate.py DIR COMMAND [ARG...]
"""

from __future__ import annotations

import ctypes
import os
import sys

CLONE_NEWNS = 0x00020000
MS_BIND = 0x1000
MS_REC = 0x4000
MS_SLAVE = 0x80000
WG_RUN_DIR = "/var/run/wireguard"


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    private_dir, command = sys.argv[1], sys.argv[2:]
    libc = ctypes.CDLL(None, use_errno=True)
    _check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    # Slave propagation first, so the bind mount below can never leak to the host.
    _check(libc.mount(b"none", b"/", None, MS_REC | MS_SLAVE, None), "make / rslave")
    os.makedirs(WG_RUN_DIR, exist_ok=True)
    _check(
        libc.mount(private_dir.encode(), WG_RUN_DIR.encode(), None, MS_BIND, None),
        f"bind {private_dir} on {WG_RUN_DIR}",
    )
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
