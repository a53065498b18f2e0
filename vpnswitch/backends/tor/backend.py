"""The ``tor`` backend: a tor of our own, started and owned by vpnswitch, as a local SOCKS5 proxy.

Why our own tor and not the system's tor service: we need its control port (bootstrap progress, events,
cookie authentication), our own bridges and transports per profile, and the guarantee that it goes away
with us (``__OwningControllerProcess``). Its data directory lives in the user cache dir per profile, so
later bootstraps reuse the cached consensus.

Health: while starting, bootstrap progress with a progress-aware budget (no progress for
``bootstrap_stall`` seconds fails with tor's own warning as the reason). Once bootstrapped tor's own status
stays "fine" through a total outage, so the runtime's SOCKS probes (remote DNS, short timeout) decide,
``SocksTimeout`` bounds hung streams, and ORCONN/CIRC/STREAM events are hints that trigger a probe at once.

Hot standby (``standby: true``): tor stays bootstrapped in the background while another profile is active;
``connect`` then only refreshes tor's connections (they may run through a tunnel that is gone by now) and
sets the system proxy.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vpnswitch.backends.base import Backend, BackendContext, BackendStatus, unknown_params
from vpnswitch.backends.tor import locate as tor_locate
from vpnswitch.backends.tor.control import TorControl, TorSignals
from vpnswitch.backends.tor.torrc import BridgeLineError, TorrcSpec, check_extra_line, parse_bridge, render
from vpnswitch.core.config import Profile
from vpnswitch.core.errors import AppMissing, BackendError, VpnSwitchError
from vpnswitch.core.model import Route, Transport
from vpnswitch.core.params import Param, field_keys
from vpnswitch.system.runner import ManagedProcess

log = logging.getLogger(__name__)

BRIDGE_TRANSPORTS = ("", "obfs4", "snowflake", "webtunnel", "meek_lite")
DEFAULT_BOOTSTRAP_STALL = 30.0
DEFAULT_SOCKS_TIMEOUT = 15
CONTROL_PORT_WAIT = 15.0  # tor writes its control port within a second or two of starting
POLL = 0.05
PROXY_HOST = "127.0.0.1"


def _slug(name: str) -> str:
    """A directory name for a profile: readable, unique, safe on every filesystem."""
    readable = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")[:32] or "profile"
    return f"{readable}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def _number(params: Mapping[str, Any], key: str, low: float, high: float, problems: list[tuple[str, str]],
            *, integer: bool = False) -> None:
    value = params.get(key)
    if value is None:
        return
    ok_type = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not ok_type or not low <= value <= high:
        kind = "a whole number" if integer else "a number"
        problems.append((key, f"must be {kind} from {low:g} to {high:g}"))


class TorBackend(Backend):
    name = "tor"
    display_name = "Tor"
    route_kind = "proxy"
    anonymising = True
    params_spec = (
        Param("transport", "choice", "How to reach Tor",
              choices=(("", "Automatic"), ("obfs4", "obfs4"), ("snowflake", "Snowflake"),
                       ("webtunnel", "WebTunnel"), ("meek_lite", "meek")),
              help="Where Tor is blocked, bridges with a pluggable transport hide it. With a transport "
                   "chosen, every bridge line must use it; automatic takes any."),
        Param("bridges", "lines", "Bridge lines", example="obfs4 192.0.2.1:443 FINGERPRINT cert=… iat-mode=0",
              help="One bridge per line, from bridges.torproject.org or a friend. Empty: connect to Tor "
                   "directly."),
        Param("standby", "bool", "Hot standby",
              help="Keep Tor started and ready in the background, so switching to it takes a second."),
        Param("system_proxy", "bool", "Set the system proxy",
              help="While Tor is in use, point the desktop's proxy setting at it (and restore it after)."),
        Param("socks_port", "int", "SOCKS port", minimum=1024, maximum=65535, advanced=True, example="9050"),
        Param("bootstrap_stall", "int", "Give up a stalled start after (s)", minimum=5, maximum=600,
              advanced=True),
        Param("socks_timeout", "int", "SOCKS timeout (s)", minimum=5, maximum=300, advanced=True),
        Param("tor_path", "file", "tor program", advanced=True, example="/usr/bin/tor"),
        Param("torrc", "lines", "Extra torrc lines", advanced=True, example="ExitNodes {de}"),
    )

    def __init__(self, profile: Profile, context: BackendContext) -> None:
        super().__init__(profile, context)
        self._lock = threading.RLock()
        self._signals = TorSignals(context.clock.monotonic)
        self._control: TorControl | None = None
        self._process: ManagedProcess | None = None
        self._socks_port: int | None = self.params.get("socks_port")
        self._active = False
        self._proxy_set = False
        self.data_dir = Path(context.work_dir) / "tor" / _slug(profile.name)

    # --------------------------------------------------------------------------------- parameters

    @classmethod
    def validate_params(cls, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems = unknown_params(params, field_keys(cls.params_spec))
        transport = params.get("transport", "")
        if transport not in BRIDGE_TRANSPORTS:
            problems.append(("transport", f"must be one of {', '.join(t for t in BRIDGE_TRANSPORTS if t)}, "
                                          "or empty for automatic"))
            transport = ""
        bridges = params.get("bridges")
        if bridges is not None:
            if not isinstance(bridges, list) or not all(isinstance(b, str) for b in bridges):
                problems.append(("bridges", 'must be a list of bridge lines, e.g. ["obfs4 192.0.2.1:443 FP cert=… '
                                            'iat-mode=0"]'))
            else:
                for index, line in enumerate(bridges):
                    try:
                        bridge = parse_bridge(line)
                    except BridgeLineError as exc:
                        problems.append((f"bridges[{index}]", str(exc)))
                        continue
                    if transport and (bridge.transport or "") != transport:
                        problems.append((f"bridges[{index}]", f"is not a {transport} bridge (the transport chosen); "
                                                              "choose automatic to mix kinds"))
        for key in ("standby", "system_proxy"):
            if key in params and not isinstance(params[key], bool):
                problems.append((key, "must be true or false"))
        _number(params, "socks_port", 1024, 65535, problems, integer=True)
        _number(params, "bootstrap_stall", 5, 600, problems)
        _number(params, "socks_timeout", 5, 300, problems, integer=True)
        tor_path = params.get("tor_path")
        if tor_path is not None and (not isinstance(tor_path, str) or not tor_path.strip()):
            problems.append(("tor_path", "must be the path of a tor program"))
        extra = params.get("torrc")
        if extra is not None:
            if not isinstance(extra, list):
                problems.append(("torrc", 'must be a list of torrc lines, e.g. ["ExitNodes {de}"]'))
            else:
                for index, line in enumerate(extra):
                    problem = check_extra_line(line)
                    if problem:
                        problems.append((f"torrc[{index}]", problem))
        return problems

    def _bridges(self) -> tuple[Any, ...]:
        return tuple(parse_bridge(line) for line in self.params.get("bridges") or ())

    def transport(self) -> Transport:
        return "obfuscated" if any(b.transport for b in self._bridges()) else "proxy"

    def wants_standby(self) -> bool:
        return bool(self.params.get("standby", False))

    # ---------------------------------------------------------------------------------- lifecycle

    def connect(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        try:
            if self._bootstrapped():
                self._activate()  # warm standby: no bootstrap to wait for
            else:
                self._ensure_started()
                self._wait_bootstrapped(deadline)
        except BaseException:
            self._stop()
            raise
        with self._lock:
            self._active = True
        self._enable_system_proxy()

    def disconnect(self, timeout: float) -> None:
        with self._lock:
            self._active = False
        self._restore_system_proxy()
        if not self.wants_standby():
            self._stop(min(timeout, 5.0))

    def standby(self, timeout: float, refresh: bool = False) -> None:
        """Start tor (if needed) and wait for its bootstrap; it stays running even if that takes longer.

        With ``refresh`` a bootstrapped tor drops its connections, as when it is taken into use: after the
        network came back, tor would otherwise wait tens of seconds for the dead ones to time out.
        """
        with self._lock:
            if self._active:
                return
        if refresh and self._bootstrapped():
            self._activate()
            return
        self._ensure_started()
        self._wait_bootstrapped(time.monotonic() + timeout)

    def close(self) -> None:
        with self._lock:
            self._active = False
        self._restore_system_proxy()
        self._stop()

    # ------------------------------------------------------------------------------------- status

    def status(self, timeout: float) -> BackendStatus:
        with self._lock:
            process, control = self._process, self._control
        if process is None:
            return BackendStatus("disconnected")
        if not process.alive():
            return BackendStatus("disconnected", f"tor exited with code {process.returncode}")
        if control is None or not control.alive():
            return BackendStatus("connecting", "starting tor")
        try:
            control.refresh_bootstrap()
        except Exception as exc:  # noqa: BLE001 - stem raises many kinds; all mean "cannot ask now"
            return BackendStatus("unknown", f"tor does not answer on its control port: {exc}")
        boot = self._signals.bootstrap
        if boot.progress >= 100:
            return BackendStatus("connected", "bootstrapped")
        return BackendStatus("connecting", f"bootstrapping: {boot.describe()}")

    def route(self) -> Route:
        return Route("proxy", proxy=f"socks5h://{PROXY_HOST}:{self._socks_port or 0}")

    def liveness(self) -> str | None:
        process, control = self._process, self._control
        if process is not None and not process.alive():
            why = f": {self._signals.last_warning}" if self._signals.last_warning else ""
            return f"tor exited (code {process.returncode}){why}"
        if process is not None and control is not None and not control.alive():
            return "lost the control connection to tor"
        return None

    def suspicion(self) -> str | None:
        return self._signals.take_hint() if self._active else None

    def precheck(self, timeout: float) -> bool | None:
        """A warm standby knows whether tor is bootstrapped and alive; a cold one cannot tell."""
        if self._process is None or not self._process.alive():
            return None
        try:
            if self._control is not None:
                self._control.refresh_bootstrap()
        except Exception:  # noqa: BLE001
            return False
        return self._signals.bootstrap.progress >= 100

    # ----------------------------------------------------------------------------------- internals

    def _bootstrapped(self) -> bool:
        process, control = self._process, self._control
        return (process is not None and process.alive() and control is not None and control.alive()
                and self._signals.bootstrap.progress >= 100)

    def _ensure_started(self) -> None:
        with self._lock:
            if self._process is not None and self._process.alive() and self._control is not None \
                    and self._control.alive():
                return
            self._stop_locked()
            install = tor_locate.locate(self.params.get("tor_path"))
            if install is None:
                where = self.params.get("tor_path")
                raise AppMissing(f"tor is not installed{f' at {where}' if where else ''}",
                                 hint=tor_locate.install_hint())
            bridges = self._bridges()
            missing = tor_locate.missing_plugins(install, sorted({b.transport for b in bridges if b.transport}))
            if missing:
                raise AppMissing(f"no program for {', '.join(missing)} bridges was found",
                                 hint=tor_locate.plugin_hint(missing[0]))
            self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(self.data_dir, 0o700)  # tor refuses a data directory others can read
            port_file = self.data_dir / "control.port"
            port_file.unlink(missing_ok=True)
            torrc = self.data_dir / "torrc"
            defaults = self.data_dir / "torrc-defaults"
            defaults.write_text("", encoding="utf-8")  # never pick up a system-wide torrc-defaults
            spec = TorrcSpec(
                data_dir=str(self.data_dir), control_port_file=str(port_file), owner_pid=os.getpid(),
                socks_port=self.params.get("socks_port"), bridges=bridges,
                plugins={t: install.plugins[t] for t in {b.transport for b in bridges if b.transport}},
                socks_timeout=int(self.params.get("socks_timeout", DEFAULT_SOCKS_TIMEOUT)),
                extra=tuple(self.params.get("torrc") or ()),
            )
            torrc.write_text(render(spec), encoding="utf-8")
            log_path = self.data_dir / "tor.log"
            log_path.unlink(missing_ok=True)
            self._signals.reset()
            log.info("starting %s for %s", install.tor, self.profile.name)
            self._process = self.context.runner.start(
                [install.tor, "-f", str(torrc), "--defaults-torrc", str(defaults)],
                env=install.env(), log_path=str(log_path))
            try:
                port = self._wait_control_port(port_file, log_path)
                control = TorControl(self._signals)
                control.open(port)
                self._control = control
                self._socks_port = control.socks_port() or self._socks_port
                if self._socks_port and self.params.get("socks_port") is None:
                    control.pin_socks_port(self._socks_port)
            except BaseException:
                self._stop_locked()
                raise

    def _wait_control_port(self, port_file: Path, log_path: Path) -> int:
        deadline = time.monotonic() + CONTROL_PORT_WAIT
        while time.monotonic() < deadline:
            assert self._process is not None
            if not self._process.alive():
                raise self._exit_error(log_path)
            try:
                match = re.search(r"PORT=[\d.]+:(\d+)", port_file.read_text(encoding="utf-8"))
                if match:
                    return int(match.group(1))
            except FileNotFoundError:
                pass
            time.sleep(POLL)
        raise BackendError(f"tor opened no control port within {CONTROL_PORT_WAIT:g} s")

    def _exit_error(self, log_path: Path) -> BackendError:
        """Tor quit while starting: its last warnings say why (a bad bridge line is the user's to fix)."""
        code = self._process.returncode if self._process else None
        try:
            lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            lines = []
        problems = [line.split("] ", 1)[-1] for line in lines if "[warn]" in line or "[err]" in line]
        detail = "; ".join(problems[-2:]) or f"exit code {code}"
        fatal = any("Failed to parse/validate config" in line or "Unknown option" in line for line in lines)
        return BackendError(f"tor stopped while starting: {detail}", fatal=fatal,
                            hint="Check the profile's bridge lines and torrc options." if fatal else "")

    def _wait_bootstrapped(self, deadline: float) -> None:
        stall = float(self.params.get("bootstrap_stall", DEFAULT_BOOTSTRAP_STALL))
        last_poll = 0.0
        while True:
            with self._lock:
                process, control = self._process, self._control
            if process is None or control is None:
                raise BackendError("tor was stopped while bootstrapping")
            if not process.alive():
                raise self._exit_error(self.data_dir / "tor.log")
            now = time.monotonic()
            if now - last_poll >= 1.0:  # events carry progress; a poll now and then covers a missed one
                last_poll = now
                try:
                    control.refresh_bootstrap()
                except Exception as exc:
                    raise BackendError(f"tor stopped answering on its control port: {exc}") from exc
            boot = self._signals.bootstrap
            if boot.progress >= 100:
                return
            if self._signals.stalled_for() >= stall:
                raise BackendError(f"Tor made no progress for {stall:g} s, stuck at {boot.describe()}")
            if now >= deadline:
                raise BackendError(f"Tor was not ready in time, stopped at {boot.describe()}")
            time.sleep(POLL)

    def _activate(self) -> None:
        """Take a warm tor into use: fresh connections along today's route.

        No waiting for a preemptive circuit (tor launches those on its once-a-second housekeeping, ~1 s);
        the first request builds one on demand in about 0.1 s in the lab.
        """
        control = self._control
        if control is None:
            raise BackendError("tor is not running")
        try:
            control.refresh_connections()
        except Exception as exc:
            raise BackendError(f"tor does not answer on its control port: {exc}") from exc

    def _enable_system_proxy(self) -> None:
        proxy = self.context.system_proxy
        if proxy is None or not self.params.get("system_proxy", True) or not self._socks_port:
            return
        try:
            log.info("%s", proxy.enable(PROXY_HOST, self._socks_port))
            self._proxy_set = True
        except (OSError, VpnSwitchError) as exc:
            log.warning("could not set the system proxy: %s", exc)

    def _restore_system_proxy(self) -> None:
        proxy = self.context.system_proxy
        if proxy is None or not self._proxy_set:
            return
        try:
            log.info("system proxy: %s", proxy.restore())
            self._proxy_set = False
        except (OSError, VpnSwitchError) as exc:
            log.warning("could not restore the system proxy: %s", exc)

    def _stop(self, timeout: float = 3.0) -> None:
        with self._lock:
            self._stop_locked(timeout)

    def _stop_locked(self, timeout: float = 3.0) -> None:
        control, process = self._control, self._process
        self._control, self._process = None, None
        if control is not None:
            control.close()  # first: a tor exiting under an open controller makes stem log a storm
        if process is not None:
            try:
                process.stop(timeout=timeout)
            except Exception as exc:  # noqa: BLE001 - never leave the caller with an exception on stop
                log.warning("stopping tor failed: %s", exc)
        if self.params.get("socks_port") is None:
            self._socks_port = None
        self._signals.reset()
