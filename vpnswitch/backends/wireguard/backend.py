"""The ``wireguard`` backend: wg-quick on Linux/macOS, the WireGuard tunnel service on Windows.

Linux/macOS: ``wg-quick up|down <config>`` (a path ``…/<iface>.conf`` or a bare name looked up in
/etc/wireguard). Without the kernel module wg-quick falls back to ``wireguard-go`` by itself (or to
``$WG_QUICK_USERSPACE_IMPLEMENTATION``); that userspace process keeps its control socket in
/var/run/wireguard, a directory every network namespace shares, so a same-named interface elsewhere
is detected and refused instead of silently read. Passive signals come from ``wg show <if> dump``:
a background poll (as root only: it is cheap then) turns WireGuard's own timers into a certain-death
reason for ``liveness``; ``status`` reports handshake age and traffic.
Windows: ``wireguard.exe /installtunnelservice <path>`` / ``/uninstalltunnelservice <name>`` and the
state of the service ``WireGuardTunnel$<name>`` (written against recorded ``sc query`` output; not yet
run on a real Windows machine).
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vpnswitch.backends import wgparse
from vpnswitch.backends.base import Backend, BackendContext, BackendStatus, unknown_params
from vpnswitch.core.config import Profile
from vpnswitch.core.errors import AppMissing, BackendError
from vpnswitch.core.model import Route, Transport
from vpnswitch.core.params import Param, field_keys
from vpnswitch.system import configrules, netinfo, privileged
from vpnswitch.system.privileged import Ops

log = logging.getLogger(__name__)

WG_RUN_DIR = Path("/var/run/wireguard")
WATCH_INTERVAL = 5.0
POLL = 0.05
CLOSE_TIMEOUT = 10.0
WINDOWS_SERVICE_PREFIX = "WireGuardTunnel$"


def _windows_name(config: str) -> str:
    """The tunnel name for a Windows config (a name, or a path to <name>.conf / <name>.conf.dpapi)."""
    base = config.replace("\\", "/").rsplit("/", 1)[-1]
    for suffix in (".conf.dpapi", ".conf"):
        if base.lower().endswith(suffix):
            base = base[: -len(suffix)]
            break
    if not configrules.WG_WINDOWS_NAME_RE.match(base):
        raise ValueError(f"\"{base}\" is not a valid WireGuard tunnel name (1–32 of letters, digits and _=+.-)")
    return base


def socket_in_use(path: Path) -> bool:
    """Whether a live wireguard-go answers on this control socket (a stale file is not in use)."""
    if not path.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        try:
            sock.connect(str(path))
        except OSError:
            return False
    return True


class _HandshakeWatch(threading.Thread):
    """Polls ``wg show <if> dump`` every few seconds and keeps a reason once the peer is certainly dead."""

    def __init__(self, ops: Ops, iface: str, wall: Any, interval: float = WATCH_INTERVAL) -> None:
        super().__init__(name=f"wg-watch-{iface}", daemon=True)
        self.ops, self.iface, self.wall, self.interval = ops, iface, wall, interval
        self.reason: str | None = None
        self.latest: wgparse.WgDump | None = None
        self._stop_event = threading.Event()

    def run(self) -> None:
        first: wgparse.Sample | None = None
        previous: wgparse.Sample | None = None
        while not self._stop_event.is_set():
            sample = self._sample()
            if sample is not None:
                self.latest = sample.dump
                if first is None:
                    first = sample
                elif previous is not None and self.reason is None:
                    self.reason = wgparse.dead_reason(first, previous, sample)
                previous = sample
            self._stop_event.wait(self.interval)

    def _sample(self) -> wgparse.Sample | None:
        try:
            result = self.ops.wg_dump(self.iface, min(3.0, self.interval))
            if result.ok:
                return wgparse.Sample(self.wall(), wgparse.parse_dump(result.stdout))
        except (BackendError, ValueError) as exc:
            log.debug("wg show %s failed: %s", self.iface, exc)
        return None

    def stop(self) -> None:
        self._stop_event.set()
        if self is not threading.current_thread() and self.is_alive():
            self.join(timeout=5.0)


class WireGuardBackend(Backend):
    name = "wireguard"
    display_name = "WireGuard"
    params_spec = (
        Param("config", "file", "WireGuard configuration", required=True, example="/etc/wireguard/wg0.conf",
              help="The tunnel's .conf file (or, on Linux, an installed tunnel's name such as wg0). Choose a "
                   "file to import it.",
              file_filter="WireGuard / AmneziaWG files (*.conf)"),
    )

    def __init__(self, profile: Profile, context: BackendContext) -> None:
        super().__init__(profile, context)
        self.platform = sys.platform
        self._ops: Ops | None = None
        self._watch: _HandshakeWatch | None = None
        self._was_up = False
        self._dns: tuple[str, ...] = ()  # the config's "DNS =" resolvers (addresses; search domains left out)

    # ------------------------------------------------------------------------------------ parameters

    @classmethod
    def validate_params(cls, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems = unknown_params(params, field_keys(cls.params_spec))
        config = params.get("config")
        if config is None:
            problems.append(("config", "is required: a config path such as /etc/wireguard/wg0.conf, or a name "
                                       "such as wg0"))
            return problems
        if not isinstance(config, str) or not config:
            problems.append(("config", "must be a config path or an interface name"))
            return problems
        try:
            if sys.platform == "win32":
                _windows_name(config)
            else:
                configrules.wg_interface_name(config)
                if ("/" in config or config.endswith(".conf")) and not Path(config).is_absolute():
                    problems.append(("config", "must be an absolute path (e.g. /etc/wireguard/wg0.conf)"))
        except ValueError as exc:
            problems.append(("config", str(exc)))
        return problems

    # ------------------------------------------------------------------------------------ helpers

    @property
    def _config(self) -> str:
        return str(self.params["config"])

    @property
    def config_name(self) -> str:
        """The tunnel's name: the config's file name without .conf (what wg-quick names the interface)."""
        if self.platform == "win32":
            return _windows_name(self._config)
        return configrules.wg_interface_name(self._config)

    def interface(self) -> str:
        """The interface as the OS shows it (macOS: the utunN wg-quick recorded for the name)."""
        name = self.config_name
        if self.platform == "darwin":
            try:
                return (WG_RUN_DIR / f"{name}.name").read_text().strip() or name
            except OSError:
                return name
        return name

    def _get_ops(self) -> Ops:
        if self._ops is None:
            self._ops = privileged.ops_for(self.context.runner)
        return self._ops

    def _present(self) -> bool:
        return netinfo.interface_up(self.interface()) is not None

    def _stop_watch(self) -> None:
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.stop()

    def _start_watch(self, ops: Ops) -> None:
        self._stop_watch()
        if ops.direct:  # through the helper each poll would be a pkexec call: not cheap, so not done
            self._watch = _HandshakeWatch(ops, self.interface(), self.context.clock.wall, WATCH_INTERVAL)
            self._watch.start()

    # ----------------------------------------------------------------------------------- interface

    def connect(self, timeout: float) -> None:
        if self.platform == "win32":
            self._windows_connect(timeout)
            return
        deadline = time.monotonic() + timeout
        name = self.config_name
        ops = self._get_ops()
        self._check_config(ops)
        if self._present():
            log.info("WireGuard interface %s is already up; taking it over", name)
            self._was_up = True
            self._start_watch(ops)
            return
        control = WG_RUN_DIR / f"{name}.sock"
        if self.platform.startswith("linux") and socket_in_use(control):
            raise BackendError(
                f"another WireGuard interface named {name} is running outside this network namespace "
                f"(its control socket {control} is shared by all of them)",
                hint="Give this config file a name no other tunnel on this machine uses.")
        result = ops.wg_quick("up", self._config, max(1.0, deadline - time.monotonic()))
        if not result.ok:
            why = wgparse.wg_quick_error(result.output()) or f"exit code {result.returncode}"
            fatal = result.returncode == 2 or "does not exist" in why or "must be" in why
            raise BackendError(f"wg-quick could not bring {name} up: {why}", fatal=fatal)
        self._was_up = True
        while not self._present():
            if time.monotonic() >= deadline:
                self.disconnect(min(10.0, timeout))
                raise BackendError(f"wg-quick said {name} is up, but the interface did not appear")
            time.sleep(POLL)
        self._start_watch(ops)
        log.info("WireGuard %s is up on %s", self.profile.name, self.interface())

    def _check_config(self, ops: Ops) -> None:
        """Refuse what wg-quick would run unsafely or fail on, with a message that says what to change."""
        path = configrules.wg_config_path(self._config)
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            raise BackendError(f"the WireGuard config {path} does not exist", fatal=True,
                               hint="Check the path in the profile's settings.") from None
        except OSError:
            if ops.direct:
                raise BackendError(f"cannot read the WireGuard config {path}", fatal=True) from None
            return  # e.g. /etc/wireguard is root-only: the privileged helper reads and checks it
        if ops.direct:
            problems = configrules.wg_problems(text, trusted=configrules.trusted_path(path))
            if problems:
                raise BackendError(f"{path} cannot be used: " + "; ".join(problems), fatal=True)
        facts = configrules.wg_config_facts(text)
        self._dns = tuple(d for d in facts.dns if netinfo.is_ip(d))
        if facts.dns and self.platform.startswith("linux") and shutil.which(
                "resolvconf", path=os.pathsep.join([os.environ.get("PATH", ""), *privileged.EXTRA_BIN_DIRS])) is None:
            raise AppMissing(
                f"{path.name} sets DNS = {', '.join(facts.dns)}, and wg-quick needs the resolvconf program for that, "
                "which is not installed",
                hint="Install resolvconf (openresolv or systemd-resolved's resolvconf), or remove the DNS line "
                     "from the config.")

    def disconnect(self, timeout: float) -> None:
        self._stop_watch()
        if self.platform == "win32":
            self._windows_disconnect(timeout)
            return
        ops = self._get_ops()
        if self._present():
            result = ops.wg_quick("down", self._config, timeout)
            if not result.ok and self._present():
                why = wgparse.wg_quick_error(result.output()) or f"exit code {result.returncode}"
                raise BackendError(f"wg-quick could not take {self.config_name} down: {why}")
        elif self._was_up:
            # It vanished on its own (wireguard-go died): undo its routing rules and firewall table.
            try:
                ops.wg_cleanup(self.config_name, self._config, timeout)
            except BackendError as exc:
                log.warning("cleaning up after %s failed: %s", self.config_name, exc.message)
        self._was_up = False

    def status(self, timeout: float) -> BackendStatus:
        if self.platform == "win32":
            return self._windows_status(timeout)
        if not self._present():
            return BackendStatus("disconnected", f"interface {self.interface()} is not present")
        try:
            result = self._get_ops().wg_dump(self.interface(), timeout)
            if result.ok:
                dump = wgparse.parse_dump(result.stdout)
                return BackendStatus("connected", wgparse.describe(dump, self.context.clock.wall()))
        except (BackendError, ValueError) as exc:
            log.debug("wg show failed: %s", exc)
        return BackendStatus("connected", f"interface {self.interface()} is up")

    def route(self) -> Route:
        return Route("tunnel", interface=self.interface(), dns=self._dns)

    def transport(self) -> Transport:
        return "udp"

    def endpoints(self) -> tuple[str, ...]:
        """The peers' Endpoint hosts from the config (without the port); () when it cannot be read."""
        if self.platform == "win32":
            return ()
        try:
            text = configrules.wg_config_path(self._config).read_text(encoding="utf-8", errors="replace")
        except (OSError, ValueError):
            return ()
        return wgparse.config_endpoints(text)

    def liveness(self) -> str | None:
        watch = self._watch
        return watch.reason if watch is not None else None

    def close(self) -> None:
        """Stop the watch, and take down a tunnel this backend brought up: vpnswitch leaves none behind."""
        self._stop_watch()
        if self._was_up and self.platform != "win32" and self._present():
            try:
                self.disconnect(CLOSE_TIMEOUT)
            except BackendError as exc:
                log.warning("taking %s down on close failed: %s", self.config_name, exc.message)

    # ------------------------------------------------------------------------------------- Windows

    def _windows_exe(self) -> str:
        installed = Path(os.environ.get("PROGRAMFILES", r"C:\Program Files")) / "WireGuard" / "wireguard.exe"
        if installed.exists():
            return str(installed)
        found = shutil.which("wireguard.exe") or shutil.which("wireguard")
        if found is None:
            raise AppMissing("WireGuard for Windows is not installed (wireguard.exe not found)",
                             hint="Install it from wireguard.com, or fix the profile.")
        return found

    def _windows_config_path(self) -> str:
        config = self._config
        if "\\" in config or "/" in config:
            return config
        data = Path(os.environ.get("PROGRAMFILES", r"C:\Program Files")) / "WireGuard" / "Data" / "Configurations"
        return str(data / f"{config}.conf.dpapi")

    def _service_state(self, timeout: float) -> str:
        result = self.context.runner.run(["sc", "query", WINDOWS_SERVICE_PREFIX + self.config_name], timeout=timeout)
        return wgparse.parse_sc_query(result.output(), result.returncode)

    def _windows_connect(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        name = self.config_name
        if self._service_state(min(10.0, timeout)) == "running":
            return
        result = self.context.runner.run([self._windows_exe(), "/installtunnelservice", self._windows_config_path()],
                                         timeout=max(1.0, deadline - time.monotonic()))
        if not result.ok and "already installed and running" not in result.output():
            raise BackendError(f"WireGuard could not install the tunnel service for {name}: "
                               f"{result.output().strip() or f'exit code {result.returncode}'}")
        # /installtunnelservice returns as soon as the service was asked to start: wait for it.
        state = "unknown"
        while time.monotonic() < deadline:
            state = self._service_state(max(1.0, min(10.0, deadline - time.monotonic())))
            if state == "running":
                return
            if state in ("stopped", "missing"):
                break
            time.sleep(0.25)
        self._windows_disconnect(min(15.0, timeout))
        raise BackendError(f"the WireGuard tunnel service for {name} did not start (state {state})",
                           hint="`wireguard /dumplog` shows why.")

    def _windows_disconnect(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        if self._service_state(min(10.0, timeout)) == "missing":
            return
        result = self.context.runner.run([self._windows_exe(), "/uninstalltunnelservice", self.config_name],
                                         timeout=max(1.0, deadline - time.monotonic()))
        while time.monotonic() < deadline:
            if self._service_state(max(1.0, min(10.0, deadline - time.monotonic()))) == "missing":
                return
            time.sleep(0.25)
        raise BackendError(f"the WireGuard tunnel service for {self.config_name} is still installed "
                           f"({result.output().strip() or f'exit code {result.returncode}'})")

    def _windows_status(self, timeout: float) -> BackendStatus:
        state = self._service_state(timeout)
        if state == "running":
            return BackendStatus("connected", f"service {WINDOWS_SERVICE_PREFIX}{self.config_name} is running")
        if state in ("start-pending", "continue-pending"):
            return BackendStatus("connecting", state)
        if state == "unknown":
            return BackendStatus("unknown", "sc query gave no state")
        return BackendStatus("disconnected", f"service is {state}")
