"""A stand-in for an openvpn process that replays a recorded management-interface transcript.

It serves the management protocol on a unix socket the way OpenVPN 2.6 does (banner, hold, SUCCESS
replies in order) and, after `hold release`, plays back the real-time lines (">...") recorded from a
real openvpn in the transcript. At a recorded ">PASSWORD:Need ..." it waits for the client's
`password` command, as openvpn does. A "# EOF" line closes the socket and exits with code 1, like
openvpn after a fatal error. `signal SIGTERM` ends it cleanly. Used by unit tests that need no root.

    replay_openvpn.py --socket PATH --transcript FILE [--record FILE] [--stall] [--ignore-term]
"""

from __future__ import annotations

import argparse
import os
import select
import signal
import socket
import sys
import time
from pathlib import Path

REPLIES = {
    "state on": "SUCCESS: real-time state notification set to ON",
    "log on": "SUCCESS: real-time log notification set to ON",
    "hold off": "SUCCESS: hold flag set to OFF",
    "hold release": "SUCCESS: hold release succeeded",
    "signal SIGTERM": "SUCCESS: signal SIGTERM thrown",
}


def playback_lines(transcript: Path) -> list[str]:
    """The real-time lines that followed the hold release in the recording (plus "# EOF" markers)."""
    lines = transcript.read_text().splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("SUCCESS: hold release")), len(lines))
    kept = []
    for line in lines[start + 1:]:
        if line.startswith("# EOF"):
            kept.append("# EOF")
        elif line.startswith(">") and not line.startswith(">>> "):
            kept.append(line)
    return kept


def reply_to(command: str) -> str:
    if command in REPLIES:
        return REPLIES[command]
    if command.startswith("bytecount "):
        return "SUCCESS: bytecount interval changed"
    if command.startswith("username "):
        return "SUCCESS: 'Auth' username entered, but not yet verified"
    if command.startswith("password "):
        return "SUCCESS: 'Auth' password entered, but not yet verified"
    return "ERROR: unknown command, enter 'help' for more options"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", required=True)
    parser.add_argument("--transcript", required=True)
    parser.add_argument("--record")
    parser.add_argument("--stall", action="store_true", help="never play anything back (never connects)")
    parser.add_argument("--ignore-term", action="store_true", help="ignore SIGTERM, however it is asked")
    args, _unknown = parser.parse_known_args()  # tolerate openvpn-style arguments after ours
    if args.ignore_term:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    pending = [] if args.stall else playback_lines(Path(args.transcript))
    record = open(args.record, "a") if args.record else None  # noqa: SIM115 - lives as long as the process

    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(args.socket)
    os.chmod(args.socket, 0o600)
    server.listen(1)
    print(f"MANAGEMENT: unix domain socket listening on {args.socket}", flush=True)
    conn, _ = server.accept()

    def send(line: str) -> None:
        conn.sendall(line.encode() + b"\r\n")

    send(">INFO:OpenVPN Management Interface Version 5 -- type 'help' for more info")
    send(">HOLD:Waiting for hold release:0")
    released = waiting_for_password = False
    buffer = b""
    while True:
        busy = released and pending and not waiting_for_password
        ready, _, _ = select.select([conn], [], [], 0.005 if busy else 0.5)
        if ready:
            chunk = conn.recv(4096)
            if not chunk:
                return 0
            buffer += chunk
            while b"\n" in buffer:
                raw, buffer = buffer.split(b"\n", 1)
                command = raw.decode().strip()
                if record is not None:
                    record.write(command + "\n")
                    record.flush()
                send(reply_to(command))
                if command == "hold release":
                    released = True
                elif command.startswith("password "):
                    waiting_for_password = False
                elif command == "signal SIGTERM" and not args.ignore_term:
                    send(f">STATE:{int(time.time())},EXITING,SIGTERM,,,,,")
                    conn.close()
                    return 0
        elif busy:
            line = pending.pop(0)
            if line == "# EOF":
                conn.close()
                return 1
            send(line)
            if line.startswith(">PASSWORD:Need"):
                waiting_for_password = True


if __name__ == "__main__":
    sys.exit(main())
