"""A stand-in for a user's VPN tool, driven by the ``command`` backend in tests.

    fakevpn.py up|down|status STATE_FILE

State lives in STATE_FILE. A test makes it misbehave by writing into ``STATE_FILE.mode``: ``auth`` (refuse
the credentials, exit 77), ``hang`` (never finish), ``fail`` (exit 1), ``down`` (status says disconnected).
``up`` also checks the secret handed over in $FAKEVPN_SECRET when ``STATE_FILE.secret`` exists.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def main() -> int:
    verb, state = sys.argv[1], Path(sys.argv[2])
    mode_file = state.with_name(state.name + ".mode")
    mode = mode_file.read_text().strip() if mode_file.exists() else ""
    log = state.with_name(state.name + ".log")
    with log.open("a") as handle:
        handle.write(f"{verb} argv={sys.argv[1:]}\n")
    if mode == "hang" and verb != "down":
        time.sleep(3600)
    if verb == "up":
        expected = state.with_name(state.name + ".secret")
        if expected.exists() and os.environ.get("FAKEVPN_SECRET") != expected.read_text():
            print("AUTH_FAILED: the server refused the credentials", file=sys.stderr)
            return 77
        if mode == "auth":
            print("AUTH_FAILED", file=sys.stderr)
            return 77
        if mode == "fail":
            print("cannot reach the server", file=sys.stderr)
            return 1
        state.write_text("up")
        print("connected")
        return 0
    if verb == "down":
        state.unlink(missing_ok=True)
        return 0
    if verb == "status":
        if mode == "down" or not state.exists():
            print("disconnected")
            return 1
        print("connected")
        return 0
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
