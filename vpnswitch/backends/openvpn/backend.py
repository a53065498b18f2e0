"""The ``openvpn`` backend: vpnswitch starts and owns an OpenVPN 2.x client and follows it live.

openvpn runs in the foreground as vpnswitch's child, held at start (``--management-hold``) until
vpnswitch has connected to its management interface — a unix socket in a private directory on
Linux/macOS, a localhost TCP port with a one-time password on Windows — and asked for ``>STATE:`` and
``>BYTECOUNT:`` events. The password comes from the keyring and goes over that socket only. vpnswitch
picks the tunnel device name (``--dev``) so it knows the interface before the tunnel exists.
Liveness is read from the state the reader thread keeps: no subprocess, no blocking.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psutil

from vpnswitch.backends.base import Backend, BackendContext, BackendStatus, unknown_params
from vpnswitch.backends.openvpn.management import (
    Event,
    Hold,
    LiveState,
    ManagementClient,
    PasswordPrompt,
    SessionTracker,
    credential_commands,
)
from vpnswitch.core.config import Profile
from vpnswitch.core.errors import AuthFailed, BackendError
from vpnswitch.core.model import Route, Transport
from vpnswitch.core.params import Param, field_keys
from vpnswitch.system import configrules, netinfo, privileged
from vpnswitch.system.privileged import OpenVpnLaunch, Ops
from vpnswitch.system.runner import ManagedProcess

log = logging.getLogger(__name__)

SETUP_COMMANDS = ("state on", "bytecount 1", "log on", "hold off", "hold release")
COMMAND_TIMEOUT = 5.0
STOP_WAIT = 5.0
MAX_SOCKET_PATH = 100


def device_name(profile_name: str) -> str:
    """A stable tunnel name per profile ("tunvs" + 8 hex digits: 13 bytes, fits IFNAMSIZ, looks like a tunnel)."""
    return "tunvs" + hashlib.sha256(profile_name.encode("utf-8")).hexdigest()[:8]


def windows_argv(program: str, config: Path, port: int, password_file: Path, dev_node: str | None,
                 ask_credentials: bool) -> list[str]:
    """Windows: management on localhost TCP, guarded by a password file (not verified on Windows yet)."""
    argv = [program, "--cd", str(config.parent), "--config", str(config),
            "--management", "127.0.0.1", str(port), str(password_file),
            "--management-hold", "--management-query-passwords", "--auth-retry", "none",
            "--server-poll-timeout", "10", "--connect-retry-max", "1",  # fail fast; vpnswitch does the retrying
            "--suppress-timestamps", "--script-security", "1"]
    if dev_node:
        argv += ["--dev-node", dev_node]
    if ask_credentials:
        argv += ["--auth-user-pass"]
    return argv


def orphan_pids(sock: Path) -> list[int]:
    """openvpn processes whose command line names this management socket (cheap: /proc only)."""
    wanted = str(sock)
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            cmdline = proc.info["cmdline"] or []
            if proc.info["name"] == "openvpn" and "--management" in cmdline:
                at = cmdline.index("--management")
                if cmdline[at + 1:at + 2] == [wanted]:
                    found.append(proc.pid)
        except (psutil.Error, ValueError):
            continue
    return found


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OpenVpnBackend(Backend):
    name = "openvpn"
    display_name = "OpenVPN"
    secret_keys = ("password",)
    params_spec = (
        Param("config", "file", "OpenVPN configuration", required=True, example="/etc/openvpn/client/work.ovpn",
              help="The .ovpn or .conf file from your provider. Choose a file to import it.",
              file_filter="OpenVPN files (*.ovpn *.conf)"),
        Param("username", "text", "User name", help="Only if the server asks for a user name and password."),
        Param("password", "secret", "Password", help="Kept in your keyring, never in the settings file."),
    )

    def __init__(self, profile: Profile, context: BackendContext) -> None:
        super().__init__(profile, context)
        self._lock = threading.Lock()
        self._process: ManagedProcess | None = None
        self._client: ManagementClient | None = None
        self._tracker: SessionTracker | None = None
        self._credentials: tuple[str | None, str | None] = (None, None)
        self._released = False
        self._run_dir: Path | None = None
        self._temp_run_dir = False  # a private directory under /tmp, used when work_dir is too deep
        self._ops: Ops | None = None
        self._dev = device_name(profile.name)
        self.platform = sys.platform

    # ------------------------------------------------------------------------------------ parameters

    @classmethod
    def validate_params(cls, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems = unknown_params(params, field_keys(cls.params_spec))
        config = params.get("config")
        if config is None:
            problems.append(("config", "is required: the path of the .ovpn or .conf file"))
        elif not isinstance(config, str) or not config.strip():
            problems.append(("config", "must be the path of an .ovpn or .conf file"))
        elif not Path(config).is_absolute() and not (len(config) > 2 and config[1] == ":"):
            problems.append(("config", "must be an absolute path (e.g. /etc/openvpn/client/work.ovpn)"))
        username = params.get("username")
        if username is not None and (not isinstance(username, str) or not username
                                     or any(c in username for c in "\r\n\0") or len(username) > 256):
            problems.append(("username", "must be a non-empty user name on one line"))
        return problems

    # ------------------------------------------------------------------------------------ helpers

    @property
    def _config(self) -> Path:
        return Path(str(self.params["config"]))

    def _read_config(self) -> list[configrules.Directive]:
        try:
            text = self._config.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise BackendError(f"cannot read the OpenVPN config {self._config}: {exc.strerror or exc}",
                               fatal=True, hint="Check the path in the profile's settings.") from None
        return configrules.ovpn_directives(text)

    def _get_ops(self) -> Ops:
        if self._ops is None:
            self._ops = privileged.ops_for(self.context.runner)
        return self._ops

    def _prepare_run_dir(self) -> Path:
        """A private (0700) directory for the socket and log; short enough for a unix socket path."""
        digest = hashlib.sha256(self.profile.name.encode("utf-8")).hexdigest()[:12]
        run_dir = Path(self.context.work_dir) / "openvpn" / digest
        if len(str(run_dir / "mgmt.sock")) > MAX_SOCKET_PATH:
            if not self._temp_run_dir or self._run_dir is None or not self._run_dir.exists():
                self._run_dir = Path(tempfile.mkdtemp(prefix="vpnswitch-ovpn-"))  # 0700
                self._temp_run_dir = True
            return self._run_dir
        run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(run_dir, 0o700)
        self._run_dir = run_dir
        return run_dir

    def _live(self) -> LiveState:
        tracker = self._tracker
        return tracker.state if tracker is not None else LiveState()

    def _on_event(self, event: Event) -> None:
        """Runs on the management reader thread: fold the event in, answer what must be answered."""
        tracker, client = self._tracker, self._client
        if tracker is None or client is None:
            return
        tracker.feed(event)
        if isinstance(event, PasswordPrompt) and event.kind != "failed":
            username, password = self._credentials
            try:
                for command in credential_commands(event, username, password):
                    client.send_nowait(command)
            except ValueError as exc:
                tracker.set_unsupported(str(exc))
            except BackendError:
                pass  # the connection is closing; the waiter sees that
        elif isinstance(event, Hold) and self._released:
            client.send_nowait("hold release")  # a restart that still holds: let it go on

    def _log_tail(self, lines: int = 3) -> str:
        """The last meaningful lines openvpn printed (from the management log, else its output file)."""
        tracker = self._tracker
        tail = list(tracker.log_tail)[-lines:] if tracker is not None and tracker.log_tail else []
        if not tail and self._run_dir is not None:
            try:
                text = (self._run_dir / "openvpn.log").read_text(errors="replace")
                tail = [line for line in text.splitlines() if line.strip()][-lines:]
            except OSError:
                pass
        return " / ".join(tail)

    # ----------------------------------------------------------------------------------- interface

    def connect(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._lock:
            process = self._process
        if process is not None and process.alive() and self._live().connected:
            return
        if process is not None:
            self.disconnect(min(timeout, 10.0))

        directives = self._read_config()
        has_auth_line = configrules.ovpn_needs_credentials(directives)
        username = self.params.get("username")
        password: str | None = None
        if has_auth_line or username:
            if not username:
                raise AuthFailed(f"{self._config.name} asks for a user name and password, but the profile has no "
                                 "user name", hint="Set the user name in the profile's settings.")
            password = self.context.secrets.get(self.profile.name, "password")
            if password is None:
                raise AuthFailed(f"no password is stored for {self.profile.name}",
                                 hint="Enter it in Settings; it is kept in your keyring.")
        self._check_config(directives)
        explicit_dev, dev_type = configrules.ovpn_device(directives)
        dev = explicit_dev or ("utun" if self.platform == "darwin" else self._dev)

        run_dir = self._prepare_run_dir()
        log_path = run_dir / "openvpn.log"
        log_path.write_bytes(b"")  # one log per attempt: its tail explains this attempt's failure
        os.chmod(log_path, 0o600)
        tracker = SessionTracker()
        client = ManagementClient(self._on_event, tracker.mark_closed)
        with self._lock:
            self._tracker, self._client = tracker, client
            self._credentials = (str(username) if username else None, password)
            self._released = False

        try:
            if self.platform == "win32":
                process = self._start_windows(directives, run_dir, log_path, client, deadline, bool(username)
                                              and not has_auth_line)
            else:
                process = self._start_unix(directives, run_dir, log_path, client, dev, dev_type, deadline,
                                           bool(username) and not has_auth_line)
            try:
                for command in SETUP_COMMANDS:
                    client.command(command, min(COMMAND_TIMEOUT, max(0.5, deadline - time.monotonic())))
            except BackendError:
                if process.alive() and not tracker.state.closed:
                    raise
                raise self._failure(tracker.state, process, timeout) from None  # it died: say why
            self._released = True
            state = tracker.wait(lambda s: s.connected or s.auth_failed or bool(s.fatal or s.unsupported)
                                 or s.closed or not process.alive(), max(0.0, deadline - time.monotonic()))
            if state.connected:
                log.info("OpenVPN %s connected on %s (%s via %s)", self.profile.name, state.device or dev,
                         state.tunnel_ip, state.remote)
                return
            raise self._failure(state, process, timeout)
        except BaseException:
            self._teardown(min(10.0, max(2.0, deadline - time.monotonic())))
            raise

    def _start_unix(self, directives: list[configrules.Directive], run_dir: Path, log_path: Path,
                    client: ManagementClient, dev: str, dev_type: str, deadline: float,
                    ask_credentials: bool) -> ManagedProcess:
        ops = self._get_ops()
        trusted = configrules.trusted_path(self._config)
        sock = run_dir / "mgmt.sock"
        self._stop_orphans(ops, sock)
        sock.unlink(missing_ok=True)
        launch = OpenVpnLaunch(config=self._config, socket=sock, dev=dev, dev_type=dev_type,
                               ask_credentials=ask_credentials, allow_scripts=trusted)
        process = ops.openvpn_start(launch, log_path)
        with self._lock:
            self._process = process
        try:
            client.connect_unix(sock, max(0.5, deadline - time.monotonic()), alive=process.alive)
        except BackendError:
            if not process.alive():
                raise self._exited(process) from None
            raise
        return process

    def _check_config(self, directives: list[configrules.Directive]) -> None:
        """Refuse a config that could make root run or write something (the helper checks again itself)."""
        if self.platform == "win32":
            problems = configrules.ovpn_problems(directives, trusted=False)
        elif self._get_ops().direct:
            problems = configrules.ovpn_problems(directives, trusted=configrules.trusted_path(self._config))
        else:
            return
        if problems:
            raise BackendError(f"{self._config} cannot be used: " + "; ".join(problems), fatal=True)

    def _stop_orphans(self, ops: Ops, sock: Path) -> None:
        """An openvpn still serving this profile's socket was left by a vpnswitch that died: it holds the
        device name and would make this start fail, so stop it (it is ours: the socket path says so)."""
        for pid in orphan_pids(sock):
            log.warning("stopping openvpn %d left running for %s by an earlier vpnswitch", pid, self.profile.name)
            try:
                ops.stop_pid(pid, 5.0)
            except BackendError as exc:
                log.warning("could not stop openvpn %d: %s", pid, exc.message)

    def _start_windows(self, directives: list[configrules.Directive], run_dir: Path, log_path: Path,
                       client: ManagementClient, deadline: float, ask_credentials: bool) -> ManagedProcess:
        token = secrets.token_urlsafe(24)
        password_file = run_dir / "mgmt.pw"
        fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(token + "\n")
        port = _free_port()
        argv = windows_argv(privileged.find_program("openvpn"), self._config, port, password_file, None,
                            ask_credentials)
        try:
            process = self.context.runner.start(argv, cwd=str(self._config.parent), log_path=str(log_path))
            with self._lock:
                self._process = process
            try:
                client.connect_tcp("127.0.0.1", port, token, max(0.5, deadline - time.monotonic()),
                                   alive=process.alive)
            except BackendError:
                if not process.alive():
                    raise self._exited(process) from None
                raise
        finally:
            password_file.unlink(missing_ok=True)  # openvpn has read it once it listens
        return process

    def _failure(self, state: LiveState, process: ManagedProcess, timeout: float) -> BackendError:
        if state.auth_failed:
            return AuthFailed(f"the OpenVPN server refused the user name or password of {self.profile.name} "
                              "(AUTH_FAILED)")
        if state.unsupported:
            return BackendError(state.unsupported, fatal=True)
        if state.fatal:
            return BackendError(f"OpenVPN stopped: {state.fatal}")
        if not process.alive() or state.closed:
            return self._exited(process)
        where = f"last state {state.state}{'/' + state.desc if state.desc else ''}" if state.state else "no state"
        return BackendError(f"OpenVPN did not connect within {timeout:g} s ({where})")

    def _exited(self, process: ManagedProcess) -> BackendError:
        """Why openvpn (or the privileged helper in front of it) ended, from the last lines it printed."""
        deadline = time.monotonic() + 1.0
        while process.alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        tail = self._log_tail()
        # A config openvpn rejects, or one the helper refuses, will fail the same way next time.
        fatal = "Options error" in tail or "refused:" in tail
        return BackendError(f"OpenVPN exited (code {process.returncode}): {tail or 'no output'}", fatal=fatal)

    def disconnect(self, timeout: float) -> None:
        self._teardown(timeout)

    def _teardown(self, timeout: float) -> None:
        """Ask openvpn to stop over its management socket; kill its process tree if it does not."""
        deadline = time.monotonic() + timeout
        with self._lock:
            process, client = self._process, self._client
            self._process = None
            self._credentials = (None, None)
        try:
            if process is not None and process.alive() and client is not None and client.connected:
                try:
                    client.command("signal SIGTERM", min(2.0, max(0.2, deadline - time.monotonic())))
                except BackendError:
                    pass
                wait_until = min(deadline, time.monotonic() + STOP_WAIT)
                while process.alive() and time.monotonic() < wait_until:
                    time.sleep(0.02)
            if process is not None and process.alive():
                log.warning("OpenVPN %s did not stop when asked; stopping its process tree", self.profile.name)
                self._get_ops().stop(process, max(1.0, deadline - time.monotonic()))
        finally:
            if client is not None:
                client.close()
            if self._run_dir is not None:
                (self._run_dir / "mgmt.sock").unlink(missing_ok=True)
                (self._run_dir / "mgmt.pw").unlink(missing_ok=True)

    def status(self, timeout: float) -> BackendStatus:
        with self._lock:
            process = self._process
        state = self._live()
        if process is None:
            return BackendStatus("disconnected")
        if not process.alive():
            if state.auth_failed:
                return BackendStatus("error", "the server refused the user name or password", fatal=True)
            return BackendStatus("disconnected", f"openvpn exited (code {process.returncode})")
        if state.fatal or state.unsupported:
            return BackendStatus("error", state.fatal or state.unsupported, fatal=bool(state.unsupported))
        if state.connected:
            return BackendStatus("connected", f"{state.tunnel_ip} via {state.remote}, "
                                              f"received {state.received} B, sent {state.sent} B")
        return BackendStatus("connecting", state.state.lower() + (f" ({state.desc})" if state.desc else ""))

    def route(self) -> Route:
        live = self._live()
        device = live.device
        if not device:
            try:
                explicit, _ = configrules.ovpn_device(self._read_config())
            except BackendError:
                explicit = None
            device = explicit or self._dev
        return Route("tunnel", interface=device, dns=tuple(d for d in live.dns if netinfo.is_ip(d)))

    def transport(self) -> Transport:
        try:
            value = configrules.ovpn_transport(self._read_config())
        except BackendError:
            return "unknown"
        return "tcp" if value == "tcp" else "udp" if value == "udp" else "unknown"

    def endpoints(self) -> tuple[str, ...]:
        """The hosts of the config's ``remote`` lines; () when it cannot be read."""
        try:
            directives = self._read_config()
        except BackendError:
            return ()
        hosts: list[str] = []
        for directive in directives:
            if directive.name == "remote" and directive.args and directive.args[0] not in hosts:
                hosts.append(directive.args[0])
        return tuple(hosts)

    def liveness(self) -> str | None:
        process = self._process
        if process is None:
            return None
        state = self._live()
        if not process.alive():
            detail = f": {state.fatal}" if state.fatal else ""
            return f"openvpn exited (code {process.returncode}){detail}"
        if state.fatal:
            return f"OpenVPN reported a fatal error: {state.fatal}"
        if state.was_connected and state.state in ("RECONNECTING", "EXITING"):
            return f"OpenVPN is {state.state.lower()}" + (f" ({state.desc})" if state.desc else "")
        if state.was_connected and state.closed:
            return "the OpenVPN management connection closed"
        return None

    def close(self) -> None:
        if self._process is not None or self._client is not None:
            self._teardown(5.0)
        if self._temp_run_dir and self._run_dir is not None:
            shutil.rmtree(self._run_dir, ignore_errors=True)
            self._run_dir, self._temp_run_dir = None, False
