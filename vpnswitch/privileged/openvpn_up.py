"""OpenVPN's up-script for tunnels the service starts: records what the server pushed, nothing more.

Run by openvpn (``--up``, argv fixed by ``tunneldns.openvpn_up_options``) with the accepted pushed options
in ``foreign_option_1..N`` and the device in ``dev``. It writes them to ``<state dir>/<dev>.json`` for the
service, which validates them (``tunneldns.pushed_dns``). The values come from the VPN server, so they
are only stored, never run or used as paths; it always exits 0, so a record that cannot be written costs
the tunnel its DNS, not its connection.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

_IFNAME = re.compile(r"^[A-Za-z0-9_.+=-]{1,15}$")
MAX_OPTIONS = 256
MAX_OPTION = 512


def record(state_dir: Path, environ: dict[str, str]) -> Path | None:
    dev = environ.get("dev", "")
    if not _IFNAME.match(dev):
        return None
    options = []
    for n in range(1, MAX_OPTIONS + 1):
        value = environ.get(f"foreign_option_{n}")
        if value is None:
            break
        options.append(value[:MAX_OPTION])
    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = state_dir / f"{dev}.json"
    tmp = state_dir / f".{dev}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        os.write(fd, json.dumps({"dev": dev, "options": options}).encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return path


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        return 0
    try:
        record(Path(args[0]), dict(os.environ))
    except OSError as exc:
        print(f"vpnswitch: could not record the pushed options: {exc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
