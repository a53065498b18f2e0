"""What tor's control-port events say: bootstrap progress with tor's own words, and probe-now hints.

The event sequences are the ones recorded from a real tor (see the lab facts): relays answering with RST
close every OR connection with TLS_ERROR/CONNECTREFUSED within milliseconds; a dead exit shows as a burst
of failed circuits; bootstrap warnings carry WARNING=… REASON=… HOSTADDR=….
"""

from __future__ import annotations

from vpnswitch.backends.tor.control import TorSignals, parse_status_args


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def boot(signals: TorSignals, line: str) -> None:
    runlevel, action, args = parse_status_args(line)
    assert action == "BOOTSTRAP"
    signals.on_bootstrap(runlevel, args)


def bootstrapped(clock: Clock) -> TorSignals:
    signals = TorSignals(clock)
    boot(signals, 'NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY="Done"')
    return signals


def test_parse_status_line_from_getinfo() -> None:
    runlevel, action, args = parse_status_args(
        'WARN BOOTSTRAP PROGRESS=5 TAG=conn SUMMARY="Connecting to a relay" WARNING="Connection refused" '
        'REASON=CONNECTREFUSED COUNT=3 RECOMMENDATION=warn HOSTADDR="10.99.20.2:9001"')
    assert (runlevel, action) == ("WARN", "BOOTSTRAP")
    assert args["PROGRESS"] == "5" and args["SUMMARY"] == "Connecting to a relay"
    assert args["WARNING"] == "Connection refused" and args["HOSTADDR"] == "10.99.20.2:9001"


def test_progress_resets_the_stall_clock_and_warnings_explain_a_stall() -> None:
    clock = Clock()
    signals = TorSignals(clock)
    clock.now += 3
    boot(signals, 'NOTICE BOOTSTRAP PROGRESS=5 TAG=conn SUMMARY="Connecting to a relay"')
    assert signals.stalled_for() == 0
    clock.now += 10
    boot(signals, 'WARN BOOTSTRAP PROGRESS=5 TAG=conn SUMMARY="Connecting to a relay" WARNING="Connection refused" '
                  'REASON=CONNECTREFUSED COUNT=1 RECOMMENDATION=ignore HOSTADDR="10.99.20.2:9001"')
    assert signals.stalled_for() == 10  # a warning is no progress
    # A later NOTICE at the same phase keeps tor's explanation until progress moves on.
    boot(signals, 'NOTICE BOOTSTRAP PROGRESS=5 TAG=conn SUMMARY="Connecting to a relay"')
    text = signals.bootstrap.describe()
    assert "5 %" in text and "Connection refused" in text and "10.99.20.2:9001" in text
    clock.now += 1
    boot(signals, 'NOTICE BOOTSTRAP PROGRESS=10 TAG=conn_done SUMMARY="Connected to a relay"')
    assert signals.stalled_for() == 0 and signals.bootstrap.warning == ""


def test_losing_every_relay_connection_is_one_hint() -> None:
    clock = Clock()
    signals = bootstrapped(clock)
    signals.on_orconn("CONNECTED", "", "$A~auth0")
    signals.on_orconn("CONNECTED", "", "$B~relay1")
    signals.on_orconn("CLOSED", "TLS_ERROR", "$A~auth0")
    assert signals.take_hint() is None  # one connection is still open
    signals.on_orconn("CLOSED", "TLS_ERROR", "$B~relay1")
    hint = signals.take_hint()
    assert hint is not None and "every relay" in hint and "TLS_ERROR" in hint
    # Retries keep failing: no new hint until a connection succeeds again.
    for _ in range(5):
        signals.on_orconn("FAILED", "CONNECTREFUSED", "$A~auth0")
    assert signals.take_hint() is None
    signals.on_orconn("CONNECTED", "", "$A~auth0")
    signals.on_orconn("CLOSED", "CONNECTREFUSED", "$A~auth0")
    assert signals.take_hint() is not None


def test_idle_connections_closing_normally_are_no_hint() -> None:
    signals = bootstrapped(Clock())
    signals.on_orconn("CONNECTED", "", "$A~auth0")
    signals.on_orconn("CLOSED", "DONE", "$A~auth0")
    assert signals.take_hint() is None


def test_burst_of_failed_circuits_is_a_hint_but_scattered_failures_are_not() -> None:
    clock = Clock()
    signals = bootstrapped(clock)
    for _ in range(3):
        signals.on_circ("FAILED", "TIMEOUT")
        clock.now += 3  # spread over 9 s: never 3 within 5 s
    assert signals.take_hint() is None
    for _ in range(3):
        signals.on_circ("FAILED", "DESTROYED")
        clock.now += 0.2
    hint = signals.take_hint()
    assert hint is not None and "circuits keep failing" in hint and "DESTROYED" in hint
    signals.on_circ("BUILT", "")  # a success ends the episode: the next run of failures is told again
    for _ in range(3):
        signals.on_circ("FAILED", "TIMEOUT")
        clock.now += 0.2
    hint = signals.take_hint()
    assert hint is not None and "TIMEOUT" in hint


def test_stream_timeouts_hint_and_nothing_is_hinted_before_bootstrap() -> None:
    signals = bootstrapped(Clock())
    signals.on_stream("FAILED", "TIMEOUT")
    assert "TIMEOUT" in (signals.take_hint() or "")
    signals.on_stream("FAILED", "TIMEOUT")
    assert signals.take_hint() is None  # once, until a stream succeeds
    signals.on_stream("SUCCEEDED", "")
    signals.on_stream("FAILED", "DESTROY")
    assert signals.take_hint() is not None

    starting = TorSignals(Clock())
    starting.on_orconn("CONNECTED", "", "$A")
    starting.on_orconn("CLOSED", "CONNECTREFUSED", "$A")
    for _ in range(5):
        starting.on_circ("FAILED", "TIMEOUT")
    assert starting.take_hint() is None  # while bootstrapping, progress is what counts


def test_reset_forgets_everything() -> None:
    clock = Clock()
    signals = bootstrapped(clock)
    signals.on_stream("FAILED", "TIMEOUT")
    signals.reset()
    assert signals.take_hint() is None and signals.bootstrap.progress == 0
