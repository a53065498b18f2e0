"""What a fake vendor's "daemon" runs to bring a real lab tunnel up or down (see tests/fakes/vendorfake.py).

    vendor_hooks.py wg-up CONF | wg-down CONF
    vendor_hooks.py ovpn-up CONF PIDFILE LOG | ovpn-down PIDFILE

It runs inside the lab's client namespace (it inherits it from the daemon that ran the fake CLI), and
only ever talks to the lab's own servers. Every step has a deadline; failures print why and exit 1.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def wg(action: str, conf: str) -> int:
    proc = subprocess.run(["wg-quick", action, conf], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=30)
    if proc.returncode != 0:
        print(proc.stderr or proc.stdout, file=sys.stderr)
    return proc.returncode


def ovpn_up(conf: str, pidfile: str, log: str) -> int:
    Path(log).write_text("")
    proc = subprocess.run(["openvpn", "--config", conf, "--daemon", "fake-vendor-openvpn", "--writepid", pidfile,
                           "--log", log], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        print(proc.stderr or proc.stdout, file=sys.stderr)
        return proc.returncode
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = Path(log).read_text(errors="replace")
        if "Initialization Sequence Completed" in text:
            return 0
        if "Exiting due to fatal error" in text:
            break
        time.sleep(0.1)
    print("\n".join(Path(log).read_text(errors="replace").splitlines()[-10:]), file=sys.stderr)
    ovpn_down(pidfile)
    return 1


def ovpn_down(pidfile: str) -> int:
    try:
        pid = int(Path(pidfile).read_text().strip())
    except (OSError, ValueError):
        return 0
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return 0
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    return 0


def main(argv: list[str]) -> int:
    match argv:
        case ["wg-up", conf]:
            return wg("up", conf)
        case ["wg-down", conf]:
            return wg("down", conf)
        case ["ovpn-up", conf, pidfile, log]:
            return ovpn_up(conf, pidfile, log)
        case ["ovpn-down", pidfile]:
            return ovpn_down(pidfile)
    print(f"usage: {sys.argv[0]} wg-up|wg-down CONF | ovpn-up CONF PIDFILE LOG | ovpn-down PIDFILE", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
