"""The OpenVPN management protocol: parsing recorded transcripts, quoting, the session state, the client."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from vpnswitch.backends.openvpn.management import (
    ByteCount,
    Fatal,
    Hold,
    LogLine,
    ManagementClient,
    Notice,
    PasswordPrompt,
    SessionTracker,
    StateChange,
    credential_commands,
    parse_notification,
    pushed_dns,
    quote,
)
from vpnswitch.core.errors import BackendError

DATA = Path(__file__).resolve().parents[1] / "data" / "openvpn"


def received(name: str) -> list[str]:
    """What openvpn sent in a recorded transcript (not the client's commands, not comments)."""
    return [line for line in (DATA / name).read_text().splitlines()
            if line and not line.startswith((">>> ", "#"))]


def replay(name: str) -> SessionTracker:
    tracker = SessionTracker()
    for line in received(name):
        if line.startswith(">"):
            tracker.feed(parse_notification(line))
    return tracker


# ------------------------------------------------------------------------------------------ parsing


def test_every_recorded_notification_parses_to_a_known_kind() -> None:
    for path in DATA.glob("*.txt"):
        for line in received(path.name):
            if line.startswith(">"):
                event = parse_notification(line)
                assert not (isinstance(event, Notice) and event.kind not in ("INFO",)), (path.name, line)


@pytest.mark.parametrize(("line", "expected"), [
    (">STATE:1795872493,CONNECTED,SUCCESS,10.96.2.2,10.97.0.1,443,10.97.0.2,45636",
     StateChange(1795872493, "CONNECTED", "SUCCESS", "10.96.2.2", "10.97.0.1", "443")),
    (">STATE:1795872509,RECONNECTING,connection-reset,,,,,",
     StateChange(1795872509, "RECONNECTING", "connection-reset")),
    (">STATE:1795872493,EXITING,auth-failure,,,,,", StateChange(1795872493, "EXITING", "auth-failure")),
    (">BYTECOUNT:2313,2397", ByteCount(2313, 2397)),
    (">PASSWORD:Need 'Auth' username/password", PasswordPrompt("need", "Auth", "username/password")),
    (">PASSWORD:Need 'Private Key' password", PasswordPrompt("need", "Private Key", "password")),
    (">PASSWORD:Need 'Auth' username/password SC:1,Enter your code",
     PasswordPrompt("need", "Auth", "username/password SC:1,Enter your code")),
    (">PASSWORD:Verification Failed: 'Auth'", PasswordPrompt("failed", "Auth", "")),
    (">HOLD:Waiting for hold release:0", Hold("Waiting for hold release:0")),
    (">FATAL:ERROR: Cannot ioctl TUNSETIFF tunvs0test: Device or resource busy (errno=16)",
     Fatal("ERROR: Cannot ioctl TUNSETIFF tunvs0test: Device or resource busy (errno=16)")),
    (">LOG:1795872493,I,TUN/TAP device tunvs0test opened", LogLine("I", "TUN/TAP device tunvs0test opened")),
    (">LOG:1795872493,,Data Channel: cipher 'AES-256-GCM', peer-id: 0",
     LogLine("", "Data Channel: cipher 'AES-256-GCM', peer-id: 0")),
    (">INFOMSG:WEB_AUTH::https://auth.example/x", Notice("INFOMSG", "WEB_AUTH::https://auth.example/x")),
])
def test_parse_notification(line: str, expected: object) -> None:
    assert parse_notification(line) == expected


def test_quote_escapes_like_the_config_parser() -> None:
    assert quote('p"a ss\\w0rd') == '"p\\"a ss\\\\w0rd"'
    assert quote("") == '""'
    with pytest.raises(ValueError):
        quote("two\nlines")


def test_credentials_answer_the_auth_prompt_with_quoted_values() -> None:
    prompt = PasswordPrompt("need", "Auth", "username/password")
    assert credential_commands(prompt, "alice", 'p"w') == ['username "Auth" "alice"', 'password "Auth" "p\\"w"']


@pytest.mark.parametrize(("prompt", "username", "password", "message"), [
    (PasswordPrompt("need", "Private Key", "password"), "a", "b", "'Private Key' password"),
    (PasswordPrompt("need", "Auth", "username/password SC:1,Enter your code"), "a", "b", "one-time code"),
    (PasswordPrompt("need", "Auth", "username/password"), "a", None, "none is stored"),
    (PasswordPrompt("need", "Auth", "username/password"), None, "b", "has none"),
    (PasswordPrompt("other", "", "something new"), "a", "b", "cannot answer"),
])
def test_credentials_refuse_what_cannot_be_answered(prompt: PasswordPrompt, username: str | None,
                                                    password: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        credential_commands(prompt, username, password)


# ------------------------------------------------------------------------------------ session state


def test_a_successful_session_ends_connected_with_its_device_and_counters() -> None:
    state = replay("auth-ok-tcp.txt").state
    assert state.state == "EXITING" and state.desc == "SIGTERM"  # the recording ends with our SIGTERM
    assert state.was_connected and not state.connected
    assert state.device == "tunvs0test" and state.tunnel_ip == "10.96.2.2" and state.remote == "10.97.0.1:443"
    assert (state.received, state.sent) == (2313, 2397)


def test_the_recorded_session_is_connected_right_after_the_connected_state() -> None:
    tracker = SessionTracker()
    for line in received("auth-ok-tcp.txt"):
        if line.startswith(">"):
            tracker.feed(parse_notification(line))
        if line.startswith(">STATE:") and ",CONNECTED,SUCCESS" in line:
            break
    assert tracker.state.connected and tracker.state.state == "CONNECTED"


def test_auth_failed_is_recognised() -> None:
    state = replay("auth-failed.txt").state
    assert state.auth_failed and not state.was_connected and state.state == "EXITING"


def test_fatal_is_kept() -> None:
    assert "TUNSETIFF" in replay("fatal-tunsetiff.txt").state.fatal


def test_reconnecting_after_connected() -> None:
    state = replay("reconnecting-tcp.txt").state
    assert state.was_connected and state.state == "RECONNECTING" and state.desc == "connection-reset"


def test_a_client_that_never_reaches_its_server_was_never_connected() -> None:
    state = replay("no-server-udp.txt").state
    assert not state.was_connected and not state.auth_failed


def test_log_tail_keeps_meaningful_lines_only() -> None:
    tracker = replay("auth-ok-tcp.txt")
    assert "Initialization Sequence Completed" in tracker.log_tail
    assert not any(line.startswith("MANAGEMENT: CMD") for line in tracker.log_tail)  # D-flagged lines dropped


def test_wait_returns_when_the_predicate_holds() -> None:
    tracker = SessionTracker()
    timer = threading.Timer(0.05, tracker.feed, [parse_notification(">STATE:1,CONNECTED,SUCCESS,10.0.0.2,1.2.3.4,1")])
    timer.start()
    started = time.monotonic()
    state = tracker.wait(lambda s: s.connected, 5.0)
    assert state.connected and time.monotonic() - started < 4.0
    assert not tracker.wait(lambda s: s.auth_failed, 0.05).auth_failed


# ------------------------------------------------------------------------------------------- client


class Peer:
    """The openvpn end of a socket pair."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def send(self, *lines: str) -> None:
        self.sock.sendall("".join(f"{line}\r\n" for line in lines).encode())

    def read_line(self, timeout: float = 5.0) -> str:
        self.sock.settimeout(timeout)
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise EOFError
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()


@pytest.fixture
def pair() -> Iterator[tuple[ManagementClient, Peer, list[object]]]:
    ours, theirs = socket.socketpair()
    events: list[object] = []
    client = ManagementClient(events.append)
    client.attach(ours)
    yield client, Peer(theirs), events
    client.close()
    theirs.close()


def test_replies_pair_with_commands_in_order_and_events_flow_between(pair) -> None:  # type: ignore[no-untyped-def]
    client, peer, events = pair
    results: list[str] = []
    thread = threading.Thread(target=lambda: results.append(client.command("state on", 5.0)))
    thread.start()
    assert peer.read_line() == "state on"
    peer.send(">BYTECOUNT:1,2", "SUCCESS: real-time state notification set to ON")
    thread.join(5.0)
    assert results == ["SUCCESS: real-time state notification set to ON"]
    assert events == [ByteCount(1, 2)]


def test_error_replies_raise(pair) -> None:  # type: ignore[no-untyped-def]
    client, peer, _ = pair
    threading.Timer(0.05, peer.send, ["ERROR: unknown command, enter 'help' for more options"]).start()
    with pytest.raises(BackendError, match="refused 'bogus'"):
        client.command("bogus", 5.0)


def test_the_reader_thread_can_answer_without_waiting() -> None:
    ours, theirs = socket.socketpair()
    peer = Peer(theirs)
    client: ManagementClient

    def on_event(event: object) -> None:
        if isinstance(event, PasswordPrompt):
            for command in credential_commands(event, "alice", "pw"):
                client.send_nowait(command)

    client = ManagementClient(on_event)
    client.attach(ours)
    peer.send(">PASSWORD:Need 'Auth' username/password")
    assert peer.read_line() == 'username "Auth" "alice"'
    assert peer.read_line() == 'password "Auth" "pw"'
    # their replies are consumed by the waiters nobody waits on, so a later command still pairs correctly
    peer.send("SUCCESS: 'Auth' username entered, but not yet verified",
              "SUCCESS: 'Auth' password entered, but not yet verified")
    threading.Timer(0.1, peer.send, ["SUCCESS: bytecount interval changed"]).start()
    assert client.command("bytecount 1", 5.0) == "SUCCESS: bytecount interval changed"
    client.close()
    theirs.close()


def test_a_closed_connection_wakes_waiters_and_reports_close() -> None:
    ours, theirs = socket.socketpair()
    closed = threading.Event()
    client = ManagementClient(lambda e: None, closed.set)
    client.attach(ours)
    threading.Timer(0.05, theirs.close).start()
    with pytest.raises(BackendError, match="closed"):
        client.command("signal SIGTERM", 5.0)
    assert closed.wait(5.0) and not client.connected
    with pytest.raises(BackendError, match="closed"):
        client.send_nowait("state")
    client.close()


def test_no_reply_times_out(pair) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = pair
    with pytest.raises(BackendError, match="did not answer 'state'"):
        client.command("state on", 0.1)


def _tcp_server(password: str, answer: bytes) -> tuple[int, threading.Thread, list[bytes]]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    got: list[bytes] = []

    def serve() -> None:
        conn, _ = server.accept()
        conn.sendall(b"ENTER PASSWORD:")  # openvpn sends the prompt without a line break
        got.append(conn.recv(4096))
        conn.sendall(answer)
        time.sleep(0.2)
        conn.close()
        server.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return server.getsockname()[1], thread, got


def test_tcp_management_sends_its_password_first() -> None:
    port, thread, got = _tcp_server("s3cret", b"SUCCESS: password is correct\r\n>INFO:OpenVPN Management "
                                              b"Interface Version 5 -- type 'help' for more info\r\n")
    events: list[object] = []
    client = ManagementClient(events.append)
    client.connect_tcp("127.0.0.1", port, "s3cret", 5.0)
    thread.join(5.0)
    assert got == [b"s3cret\n"]
    deadline = time.monotonic() + 2
    while not events and time.monotonic() < deadline:
        time.sleep(0.01)
    assert isinstance(events[0], Notice) and events[0].kind == "INFO"
    client.close()


def test_tcp_management_with_a_wrong_password_fails_clearly() -> None:
    port, thread, _ = _tcp_server("s3cret", b"ERROR: bad password\r\n")
    client = ManagementClient(lambda e: None)
    with pytest.raises(BackendError, match="refused vpnswitch's management password"):
        client.connect_tcp("127.0.0.1", port, "wrong", 5.0)
    thread.join(5.0)


def test_unix_connect_gives_up_when_the_process_died(tmp_path: Path) -> None:
    client = ManagementClient(lambda e: None)
    with pytest.raises(BackendError, match="exited before"):
        client.connect_unix(tmp_path / "absent.sock", 5.0, alive=lambda: False)
    with pytest.raises(BackendError, match="could not reach"):
        client.connect_unix(tmp_path / "absent.sock", 0.2)


def test_pushed_resolvers_are_kept_from_the_push_reply() -> None:
    """The recorded server pushed no DNS; the same line with the options a server that does adds."""
    assert replay("auth-ok-tcp.txt").state.dns == ()
    [recorded] = [line for line in received("auth-ok-tcp.txt") if "PUSH_REPLY" in line]
    with_dns = recorded.replace("PUSH_REPLY,", "PUSH_REPLY,dhcp-option DNS 10.99.20.53,dhcp-option DOMAIN lab.test,"
                                "dhcp-option DNS6 2001:db8::53,")
    tracker = SessionTracker()
    tracker.feed(parse_notification(with_dns))
    assert tracker.state.dns == ("10.99.20.53", "2001:db8::53")
    assert pushed_dns("dhcp-option DNS 10.0.0.1") == ()  # only a push reply counts
