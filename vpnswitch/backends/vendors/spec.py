"""Vendor VPN command-line clients described as data, and the one backend that drives any of them.

Each vendor module is a ``VendorSpec`` (where the program lives on each OS, the argv of connect / disconnect /
status / event stream, the status parser, the error messages that mean "not logged in", "daemon not
running"…, the kill-switch query) plus a tiny ``VendorBackend`` subclass. The behaviour that matters for
failover lives here once:

* every call goes through the runner (stdin closed, ``LC_ALL=C``, timeout, tree-kill);
* output is cleaned of ANSI colours and spinners, then matched against the vendor's known error messages,
  which become typed errors with a hint (auth problems and missing apps are fatal, so never retried);
* connect returns only once the vendor *reports* connected (its status is polled, since several CLIs
  return before the tunnel is up), and leaves nothing half-up when it fails;
* disconnect is verified: the status must say disconnected, and a vendor that still blocks traffic
  afterwards (Mullvad lockdown) is reported, because it would break the next profile;
* where the app has an event stream, it is followed so a drop is seen at once instead of by polling.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from vpnswitch.backends.base import Backend, BackendContext, BackendStatus, StatusState, unknown_params
from vpnswitch.backends.vendors.stream import LineStream
from vpnswitch.core.config import Profile
from vpnswitch.core.errors import AppMissing, AuthFailed, BackendError, CommandTimeout
from vpnswitch.core.model import Route, Transport
from vpnswitch.core.params import Param
from vpnswitch.system import netinfo
from vpnswitch.system.oslayout import Layout, Platform, system_layout
from vpnswitch.system.runner import Completed

log = logging.getLogger(__name__)

POLL_INTERVAL = 0.5
STATUS_TIMEOUT = 10.0
COMMAND_TIMEOUT = 30.0
TRANSPORTS: tuple[Transport, ...] = ("udp", "tcp", "obfuscated", "unknown")

ErrorKind = Literal[
    "not-logged-in", "not-activated", "expired", "device-limit", "permission", "needs-gui", "prompt",
    "not-found", "daemon-down", "rate-limited", "busy", "failed",
]
AUTH_KINDS: frozenset[str] = frozenset({"not-logged-in", "not-activated", "expired"})
FATAL_KINDS: frozenset[str] = AUTH_KINDS | {"device-limit", "permission", "needs-gui", "prompt", "not-found"}

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][A-Za-z0-9]|\x1b[=>]")
_SPINNER_PREFIX = re.compile(r"^[-\\|/](?=[A-Za-z])")
_SPINNER_ONLY = re.compile(r"^[-\\|/]$")


def clean_output(text: str) -> str:
    """Text as a person would read it on the terminal: no colours, no spinner frames, no carriage returns."""
    text = _ANSI.sub("", text).replace("\r\n", "\n")
    lines = []
    for line in text.split("\n"):  # not splitlines(): a lone \r redraws the same terminal line
        if "\r" in line:
            parts = [p for p in line.split("\r") if p.strip()]
            line = parts[-1] if parts else ""
        line = _SPINNER_PREFIX.sub("", line.strip())
        if line and not _SPINNER_ONLY.match(line):
            lines.append(line)
    return "\n".join(lines)


@dataclass(frozen=True)
class VendorState:
    """What a vendor's status (or one event) says."""

    state: StatusState
    detail: str = ""
    interface: str | None = None
    # The app blocks all traffic in this state (Mullvad "Blocked:", lockdown mode while disconnected).
    blocking: bool = False
    # A problem the user must fix (not registered, not logged in…), found in a status that parsed fine.
    problem: ErrorKind | None = None


@dataclass(frozen=True)
class ErrorRule:
    """Output matching ``pattern`` (a case-insensitive regex) means ``kind``; ``message`` says it to people."""

    pattern: str
    kind: ErrorKind
    message: str
    hint: str = ""

    def matches(self, text: str) -> bool:
        return re.search(self.pattern, text, re.IGNORECASE | re.MULTILINE) is not None


@dataclass(frozen=True)
class KillSwitch:
    """How to ask a vendor whether it blocks traffic outside its own tunnel, and what to tell the user."""

    argv: tuple[str, ...]
    # The mode that is on ("on", "always on"…) from the command's cleaned output; None when off or unknown.
    parse: Callable[[str], str | None]
    problem: str
    fix: str
    fix_argv: tuple[str, ...] | None = None


StatusParser = Callable[[str, Mapping[str, Any]], VendorState]
EventParser = Callable[[str, Mapping[str, Any]], "VendorState | None"]


@dataclass(frozen=True)
class VendorSpec:
    name: str
    display_name: str
    programs: tuple[str, ...]
    install_paths: Mapping[Platform, tuple[str, ...]]
    connect: Callable[[Mapping[str, Any]], list[str]]
    disconnect: Callable[[Mapping[str, Any]], list[str]]
    status: Callable[[Mapping[str, Any]], list[str]] | None
    parse_status: StatusParser | None
    # True when the connect command itself waits for the tunnel (it is then given most of the time budget).
    connect_blocks: bool = False
    # Commands run before connect (e.g. "relay set location"), built from the profile's parameters.
    prepare: Callable[[Mapping[str, Any]], list[list[str]]] | None = None
    events: Callable[[Mapping[str, Any]], list[str]] | None = None
    parse_event: EventParser | None = None
    interfaces: Mapping[Platform, str | None] = field(default_factory=dict)
    transport: Callable[[Mapping[str, Any]], Transport] = lambda params: "udp"
    errors: tuple[ErrorRule, ...] = ()
    # Disconnect output matching one of these means "it was not connected", which is fine.
    already_down: tuple[str, ...] = (r"not connected", r"already disconnected")
    params: tuple[str, ...] = ()
    # Values the vendor's CLI accepts for a parameter, shown as suggestions in the form: key → (value, label).
    suggestions: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    validate: Callable[[Mapping[str, Any]], list[tuple[str, str]]] | None = None
    kill_switch: KillSwitch | None = None
    services: Mapping[Platform, tuple[str, ...]] = field(default_factory=dict)
    # Parameters for the profile that detection proposes when the app is installed.
    default_params: Mapping[str, Any] = field(default_factory=dict)
    connect_timeout_cap: float = 120.0

    def classify(self, text: str) -> ErrorRule | None:
        return next((rule for rule in self.errors if rule.matches(text)), None)


COMMON_PARAMS = ("binary", "interface", "transport")

# How the settings form names the parameters vendor CLIs take (each vendor lists which ones it takes).
VENDOR_FIELDS: dict[str, Param] = {p.key: p for p in (
    Param("location", "text", "Location", example="se-got",
          help="A country, city or server as the app's own command line names it; empty: the app's choice."),
    Param("server", "text", "Server", help="A server name as the app's own command line names it."),
    Param("protocol", "text", "Protocol", help="The protocol the app should use; empty: the app's choice."),
    Param("obfuscation", "choice", "Obfuscation", choices=(("obfs4", "obfs4"), ("v2ray", "V2Ray")),
          help="Disguise the tunnel where VPNs are blocked."),
    Param("group", "text", "Server group", example="P2P"),
    Param("region", "text", "Region", example="de-frankfurt"),
    Param("exit_node", "text", "Exit node", example="auto:any"),
    Param("allow_lan", "bool", "Allow the local network"),
    Param("cli", "file", "Command-line program", advanced=True),
    Param("config", "file", "Configuration file", file_filter="OpenVPN files (*.ovpn *.conf)"),
    Param("binary", "file", "Program", advanced=True, help="Found in the usual places when empty."),
    Param("interface", "text", "Interface", advanced=True, help="The tunnel's interface, when it is not the usual."),
    Param("transport", "choice", "Transport", advanced=True, choices=tuple((t, t) for t in TRANSPORTS)),
)}


def vendor_params_spec(spec: VendorSpec) -> tuple[Param, ...]:
    """The form's fields for one vendor: its own parameters first, the common ones after."""
    out = []
    for key in (*spec.params, *COMMON_PARAMS):
        base = VENDOR_FIELDS.get(key) or Param(key, "text", key.replace("_", " ").capitalize())
        choices = spec.suggestions.get(key, base.choices)
        out.append(Param(base.key, base.kind, base.label, help=base.help, required=key in spec.required,
                         example=base.example, choices=choices, file_filter=base.file_filter,
                         advanced=base.advanced))
    return tuple(out)


def error_for(spec: VendorSpec, rule: ErrorRule, fallback_detail: str = "") -> BackendError:
    """The typed error for a matched rule: credentials and setup problems are fatal, never retried."""
    message = f"{spec.display_name}: {rule.message}"
    if rule.kind in AUTH_KINDS:
        return AuthFailed(message, hint=rule.hint or f"Open {spec.display_name} and sign in again.")
    if rule.kind in FATAL_KINDS:
        return BackendError(message, fatal=True, hint=rule.hint)
    detail = f" ({fallback_detail})" if fallback_detail and rule.kind == "failed" else ""
    return BackendError(message + detail, hint=rule.hint)


def tail(text: str, lines: int = 3) -> str:
    return " / ".join(text.strip().splitlines()[-lines:])


def string_param(params: Mapping[str, Any], key: str, problems: list[tuple[str, str]], example: str) -> None:
    value = params.get(key)
    if value is not None and (not isinstance(value, str) or not value.strip() or len(value) > 200):
        problems.append((key, f"must be a non-empty text such as {example}"))


class VendorBackend(Backend):
    """Drives one vendor CLI described by ``spec`` (set by each subclass)."""

    spec: ClassVar[VendorSpec]

    def __init__(self, profile: Profile, context: BackendContext, layout: Layout | None = None) -> None:
        super().__init__(profile, context)
        self.layout = layout or system_layout()
        self.polls_status = True
        self._program: str | None = None
        self._interface: str | None = None
        self._stream: LineStream | None = None
        self._lost: str | None = None
        self._up = False
        self._lock = threading.Lock()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        spec = getattr(cls, "spec", None)
        if spec is not None:
            cls.name = spec.name
            cls.display_name = spec.display_name
            cls.params_spec = vendor_params_spec(spec)

    # -------------------------------------------------------------------------------------- parameters

    @classmethod
    def validate_params(cls, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        spec = cls.spec
        problems = unknown_params(params, (*COMMON_PARAMS, *spec.params))
        for key in spec.required:
            if key not in params:
                problems.append((key, "is required"))
        string_param(params, "binary", problems, '"/usr/bin/' + spec.programs[0] + '"')
        string_param(params, "interface", problems, '"wg0"')
        if params.get("transport", "unknown") not in TRANSPORTS:
            problems.append(("transport", f"must be one of {', '.join(TRANSPORTS)}"))
        if spec.validate is not None:
            problems.extend(spec.validate(params))
        return problems

    # -------------------------------------------------------------------------------------------- spec

    def current_spec(self) -> VendorSpec:
        """The spec in use (a vendor with two generations of CLI picks one here)."""
        return self.spec

    def program(self) -> str:
        if self._program is None:
            binary = self.params.get("binary")
            if binary:
                self._program = str(binary)
            else:
                spec = self.current_spec()
                found = self.layout.find_program(spec.programs, spec.install_paths.get(self.layout.platform, ()))
                self._program = str(found) if found else spec.programs[0]
        return self._program

    def _run(self, args: list[str], timeout: float) -> Completed:
        return self.context.runner.run([self.program(), *args], timeout=max(0.5, timeout))

    def _check(self, result: Completed, what: str) -> str:
        """Cleaned output; raises the vendor's typed error when it says something is wrong."""
        spec = self.current_spec()
        text = clean_output(result.output())
        rule = spec.classify(text)
        if rule is not None:
            raise error_for(spec, rule, tail(text))
        if not result.ok:
            detail = f": {tail(text)}" if text else ""
            raise BackendError(f"{spec.display_name} {what} failed (exit code {result.returncode}){detail}")
        return text

    # ------------------------------------------------------------------------------------------ status

    def query(self, timeout: float) -> VendorState:
        """The vendor's current state. Raises for problems the user must fix (not logged in…)."""
        spec = self.current_spec()
        if spec.status is None or spec.parse_status is None:
            return self._interface_state()
        try:
            result = self._run(spec.status(self.params), timeout)
        except CommandTimeout:
            return VendorState("unknown", f"{spec.display_name} did not answer within {timeout:g} s")
        text = clean_output(result.output())
        rule = spec.classify(text)
        if rule is not None:
            if rule.kind in FATAL_KINDS:
                raise error_for(spec, rule)
            return VendorState("error", f"{rule.message}", problem=rule.kind)
        state = spec.parse_status(text, self.params)
        if state.problem is not None and state.problem in FATAL_KINDS:
            rule = next((r for r in spec.errors if r.kind == state.problem), None)
            if rule is not None:
                raise error_for(spec, rule)
        if state.state == "unknown" and not result.ok:
            return VendorState("error", f"status failed (exit code {result.returncode}): {tail(text)}")
        return state

    def _interface_state(self) -> VendorState:
        """For apps with no status command: the tunnel interface up means connected."""
        name = self.route().interface
        if not name:
            return VendorState("unknown", "no status command and no interface to watch")
        up = netinfo.interface_up(name)
        return VendorState("connected" if up else "disconnected", f"interface {name}", interface=name)

    def status(self, timeout: float) -> BackendStatus:
        try:
            state = self.query(timeout)
        except BackendError as exc:
            return BackendStatus("error", exc.message, fatal=exc.fatal)
        if state.state == "connected" and state.interface:
            self._interface = state.interface
        return BackendStatus(state.state, state.detail)

    # ----------------------------------------------------------------------------------------- connect

    def connect(self, timeout: float) -> None:
        spec = self.current_spec()
        deadline = time.monotonic() + timeout
        self._stop_stream()
        self._lost = None
        self._up = False
        try:
            for args in spec.prepare(self.params) if spec.prepare else []:
                self._check(self._run(args, min(COMMAND_TIMEOUT, self._left(deadline))), "setup")
            self._run_connect(spec, deadline)
            state = self._wait_connected(deadline)
        except BaseException:
            self._cleanup_after_failure()
            raise
        self._interface = state.interface or self._interface
        self._up = True
        self._start_stream()
        log.info("%s connected (%s)", spec.display_name, state.detail or "no detail")

    def _left(self, deadline: float) -> float:
        return max(0.5, deadline - time.monotonic())

    def _run_connect(self, spec: VendorSpec, deadline: float) -> None:
        args = spec.connect(self.params)
        # A blocking connect gets the budget minus a moment to confirm; others only need to hand it over.
        budget = self._left(deadline) - (2.0 if spec.connect_blocks else 0.0)
        budget = min(max(1.0, budget), spec.connect_timeout_cap if spec.connect_blocks else COMMAND_TIMEOUT)
        try:
            result = self._run(args, budget)
        except CommandTimeout:
            if not spec.connect_blocks:
                raise BackendError(f"{spec.display_name} did not accept the connect request within "
                                   f"{budget:g} s") from None
            return  # the daemon keeps connecting on its own; its status decides below
        self._check(result, "connect")

    def _wait_connected(self, deadline: float) -> VendorState:
        spec = self.current_spec()
        last = VendorState("unknown")
        while True:
            last = self.query(min(STATUS_TIMEOUT, self._left(deadline)))
            if last.state == "connected":
                return last
            if last.state == "error":
                raise BackendError(f"{spec.display_name} reports an error: {last.detail or 'no detail'}")
            if time.monotonic() >= deadline:
                shown = last.detail or last.state
                raise BackendError(f"{spec.display_name} was not connected after the time allowed "
                                   f"(last state: {shown})")
            time.sleep(min(POLL_INTERVAL, max(0.0, deadline - time.monotonic())))

    def _cleanup_after_failure(self) -> None:
        """Never leave a half-open tunnel behind a failed connect."""
        try:
            self._disconnect(10.0, verify=False)
        except Exception as exc:  # noqa: BLE001 - the connect error is the one to report
            log.warning("cleaning up after a failed connect of %s: %s", self.profile.name, exc)

    # -------------------------------------------------------------------------------------- disconnect

    def disconnect(self, timeout: float) -> None:
        self._disconnect(timeout, verify=True)

    def _disconnect(self, timeout: float, *, verify: bool) -> None:
        spec = self.current_spec()
        deadline = time.monotonic() + timeout
        self._up = False
        self._stop_stream()
        try:
            self._request_disconnect(spec, deadline)
        except AppMissing:
            return  # not installed: nothing of it can be up
        if not verify:
            return
        retried = False
        halfway = time.monotonic() + timeout / 2
        while True:
            try:
                state = self.query(min(STATUS_TIMEOUT, self._left(deadline)))
            except BackendError as exc:
                # Logged out or its daemon is gone: it cannot hold a tunnel up.
                log.info("%s after disconnect: %s", spec.display_name, exc.message)
                return
            if state.state == "disconnected" or (state.state == "error" and state.problem == "daemon-down"):
                if state.blocking:
                    raise BackendError(
                        f"{spec.display_name} is disconnected but still blocks all traffic ({state.detail})",
                        hint=spec.kill_switch.fix if spec.kill_switch else "")
                return
            if time.monotonic() >= deadline:
                raise BackendError(f"{spec.display_name} still reports {state.detail or state.state} after "
                                   f"disconnecting")
            if not retried and time.monotonic() >= halfway:
                retried = True
                self._request_disconnect(spec, deadline)
            time.sleep(POLL_INTERVAL)

    def _request_disconnect(self, spec: VendorSpec, deadline: float) -> None:
        try:
            result = self._run(spec.disconnect(self.params), min(COMMAND_TIMEOUT, self._left(deadline)))
        except CommandTimeout:
            log.warning("%s disconnect did not return; checking its status", spec.display_name)
            return
        text = clean_output(result.output())
        if any(re.search(p, text, re.IGNORECASE) for p in spec.already_down):
            return
        rule = spec.classify(text)
        if rule is not None and rule.kind in ("daemon-down", "not-logged-in", "not-activated", "expired"):
            return  # nothing it could hold up; the status check below confirms
        if rule is not None:
            raise error_for(spec, rule, tail(text))
        if not result.ok:
            log.warning("%s disconnect exited with %s: %s", spec.display_name, result.returncode, tail(text))

    # ------------------------------------------------------------------------------------------ events

    def _start_stream(self) -> None:
        spec = self.current_spec()
        if spec.events is None or spec.parse_event is None:
            return
        parse = spec.parse_event
        params = self.params

        def on_line(line: str) -> None:
            state = parse(clean_output(line), params)
            if state is not None:
                self._on_event(state)

        log_path = self.context.work_dir / f"{_safe(self.profile.name)}.{spec.name}-events.log"
        stream = LineStream(self.context.runner, [self.program(), *spec.events(self.params)], log_path, on_line)
        try:
            stream.start()
        except BackendError as exc:
            log.warning("%s event stream unavailable (%s); polling its status instead", spec.display_name, exc)
            return
        with self._lock:
            self._stream = stream
        self.polls_status = False

    def _on_event(self, state: VendorState) -> None:
        if state.interface and state.state == "connected":
            self._interface = state.interface
        if self._up and state.state in ("disconnected", "error"):
            detail = f": {state.detail}" if state.detail else ""
            self._lost = f"{self.current_spec().display_name} reports {state.state}{detail}"

    def _stop_stream(self) -> None:
        with self._lock:
            stream, self._stream = self._stream, None
        if stream is not None:
            stream.stop()
        self.polls_status = True

    def liveness(self) -> str | None:
        if self._lost is not None:
            return self._lost
        stream = self._stream
        if stream is not None and not stream.alive():
            self.polls_status = True  # the stream ended (daemon restart?): fall back to polling
        return None

    # ------------------------------------------------------------------------------------------- route

    def route(self) -> Route:
        spec = self.current_spec()
        interface = self.params.get("interface") or self._interface or spec.interfaces.get(self.layout.platform)
        return Route("tunnel", interface=str(interface) if interface else None)

    def transport(self) -> Transport:
        value = self.params.get("transport")
        if value in TRANSPORTS:
            return value
        return self.current_spec().transport(self.params)

    def close(self) -> None:
        self._stop_stream()


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:60] or "profile"
