"""The ``app`` backend: VPN apps with no command line (Proton VPN and Psiphon on Windows, Outline, Lantern…).

What can be done from outside, in order: start the app (it connects if its own auto-connect is on),
recognise its process (by name or executable path, and optionally its children — Psiphon's tunnel child
runs under a random name), find its tunnel adapter (on Windows by the adapter *description*, since the
alias is arbitrary) or its local proxy, and stop it by closing it politely, then terminating its process
tree. Health is vpnswitch's own probes: the app itself says nothing.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import psutil

from vpnswitch.backends.base import (
    DECLARED_TRANSPORTS,
    Backend,
    BackendContext,
    BackendStatus,
    declared_transport,
    proxy_endpoint,
    unknown_params,
)
from vpnswitch.core.config import Profile
from vpnswitch.core.errors import BackendError
from vpnswitch.core.model import Route, Transport
from vpnswitch.core.params import Param, field_keys
from vpnswitch.system import netadapters, netinfo
from vpnswitch.system.oslayout import Layout, system_layout
from vpnswitch.system.runner import ManagedProcess, kill_tree
from vpnswitch.system.sysproxy.windows import wininet_proxy_url

log = logging.getLogger(__name__)

READY_POLL = 0.25
DEFAULT_CLOSE = 5.0


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


class AppBackend(Backend):
    name = "app"
    display_name = "VPN app (no command line)"
    params_spec = (
        Param("executable", "file", "The app's program", required=True,
              example="C:\\Program Files\\Proton\\VPN\\ProtonVPN.Launcher.exe"),
        Param("process", "lines", "Process names", advanced=True, example="ProtonVPN.Client.exe",
              help="The names its running processes have, when they differ from the program's."),
        Param("children", "bool", "Also close its child processes", advanced=True),
        Param("interface", "text", "Tunnel interface", example="ProtonVPN",
              help="Its network adapter's name; or an adapter description, or a proxy."),
        Param("adapter", "text", "Adapter description (Windows)", advanced=True),
        Param("proxy", "text", "Local proxy", example="socks5h://127.0.0.1:1080",
              help='The proxy it opens, or "system" for the system proxy it sets.'),
        Param("close_timeout", "int", "Seconds to wait for it to close", minimum=1, maximum=60, advanced=True),
        Param("transport", "choice", "Transport", advanced=True,
              choices=tuple((t, t) for t in DECLARED_TRANSPORTS)),
    )

    def __init__(self, profile: Profile, context: BackendContext, layout: Layout | None = None,
                 system_proxy: Callable[[], str | None] | None = None) -> None:
        super().__init__(profile, context)
        self.layout = layout or system_layout()
        self.route_kind = "proxy" if self.params.get("proxy") else "tunnel"
        self._system_proxy = system_proxy or (wininet_proxy_url if sys.platform == "win32" else lambda: None)
        self._started: ManagedProcess | None = None
        self._alias: str | None = str(self.params["interface"]) if self.params.get("interface") else None
        self._proxy: str | None = None
        self._watched: tuple[int, float] | None = None  # (pid, create_time) of the app's main process

    # -------------------------------------------------------------------------------------- parameters

    @classmethod
    def validate_params(cls, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems = unknown_params(params, field_keys(cls.params_spec))
        exe = params.get("executable")
        if isinstance(exe, list):
            if not exe or not all(isinstance(v, str) and v for v in exe):
                problems.append(("executable", "must be a path, or a command as a list of strings"))
        elif not isinstance(exe, str) or not exe.strip():
            problems.append(("executable", "is required: the app's program, e.g. "
                                           "\"C:\\\\Program Files\\\\Proton\\\\VPN\\\\ProtonVPN.Launcher.exe\""))
        process = params.get("process")
        if process is not None and not _names(process):
            problems.append(("process", "must be a process name or a list of names, e.g. [\"ProtonVPN.Client.exe\"]"))
        routes = [key for key in ("interface", "adapter", "proxy") if params.get(key) is not None]
        if len(routes) != 1:
            problems.append(("", 'needs exactly one of "interface" (its adapter name), "adapter" (part of the '
                                 'adapter description, Windows) or "proxy" ("socks5h://127.0.0.1:1080" or "system")'))
        proxy = params.get("proxy")
        if proxy is not None and proxy != "system" and (not isinstance(proxy, str)
                                                        or proxy_endpoint(proxy) is None):
            problems.append(("proxy", 'must look like socks5h://127.0.0.1:1080, or be "system"'))
        for key in ("interface", "adapter"):
            value = params.get(key)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                problems.append((key, "must be a non-empty text"))
        if params.get("children") is not None and not isinstance(params["children"], bool):
            problems.append(("children", "must be true or false"))
        close = params.get("close_timeout", DEFAULT_CLOSE)
        if isinstance(close, bool) or not isinstance(close, (int, float)) or not 0 < close <= 60:
            problems.append(("close_timeout", "must be a number of seconds between 0 and 60"))
        if params.get("transport", "unknown") not in DECLARED_TRANSPORTS:
            problems.append(("transport", f"must be one of {', '.join(DECLARED_TRANSPORTS)}"))
        return problems

    # --------------------------------------------------------------------------------------- processes

    def _argv(self) -> list[str]:
        exe = self.params["executable"]
        return [str(v) for v in exe] if isinstance(exe, list) else [str(exe)]

    def _process_names(self) -> list[str]:
        names = _names(self.params.get("process"))
        return names or [Path(self._argv()[0]).name]

    def _matches(self, info: Mapping[str, Any], names: list[str]) -> bool:
        name = str(info.get("name") or "").lower()
        exe = str(info.get("exe") or "")
        for wanted in names:
            lower = wanted.lower()
            if os.sep in wanted or "/" in wanted:
                if exe and os.path.normcase(exe) == os.path.normcase(wanted):
                    return True
            elif name == lower or Path(exe).name.lower() == lower:
                return True
        return False

    def processes(self) -> list[psutil.Process]:
        """The app's processes: those matching by name or path, plus (with ``children``) their descendants."""
        names = self._process_names()
        found: dict[int, psutil.Process] = {}
        for proc in psutil.process_iter(["pid", "name", "exe"]):
            try:
                if self._matches(proc.info, names):
                    found[proc.pid] = proc
            except psutil.Error:
                continue
        if self._started is not None and self._started.alive():
            try:
                found.setdefault(self._started.pid, psutil.Process(self._started.pid))
            except psutil.Error:
                pass
        if self.params.get("children"):
            for proc in list(found.values()):
                try:
                    for child in proc.children(recursive=True):
                        found.setdefault(child.pid, child)
                except psutil.Error:
                    continue
        return list(found.values())

    def _main_processes(self) -> list[psutil.Process]:
        procs = self.processes()
        pids = {p.pid for p in procs}
        roots = []
        for proc in procs:
            try:
                if proc.ppid() not in pids:
                    roots.append(proc)
            except psutil.Error:
                continue
        return roots

    # ---------------------------------------------------------------------------------------- the route

    def _resolve(self) -> None:
        if self.params.get("proxy"):
            proxy = str(self.params["proxy"])
            self._proxy = self._system_proxy() if proxy == "system" else proxy
            return
        if self.params.get("adapter"):
            self._alias = netadapters.resolve_alias(self.context.runner, self.layout.platform, alias=None,
                                                    description=str(self.params["adapter"]))

    def _route_up(self) -> bool:
        if self.params.get("proxy"):
            endpoint = proxy_endpoint(self._proxy or "")
            return bool(endpoint and netinfo.tcp_port_open(*endpoint, timeout=0.5))
        return bool(self._alias) and netinfo.interface_up(self._alias or "") is True

    # ------------------------------------------------------------------------------------------ connect

    def connect(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        label = Path(self._argv()[0]).name
        self._watched = None
        if not self._main_processes():
            self._started = self.context.runner.start(self._argv())
        while time.monotonic() < deadline:
            self._resolve()
            if self._route_up():
                main = self._main_processes()
                if main:
                    self._watch(main[0])
                log.info("%s is up (%s)", label, self.route().describe())
                return
            if not self.processes():
                code = self._started.returncode if self._started is not None else None
                raise BackendError(f"{label} exited (code {code}) before its tunnel came up")
            time.sleep(READY_POLL)
        self._close_app(min(10.0, timeout))
        raise BackendError(f"{label} started but its tunnel did not come up within {timeout:g} s",
                           hint=f"Turn on {label}'s own auto-connect (\"connect on launch\") setting: vpnswitch "
                                "can start the app but cannot press its connect button.")

    def _watch(self, proc: psutil.Process) -> None:
        try:
            self._watched = (proc.pid, proc.create_time())
        except psutil.Error:
            self._watched = None

    # --------------------------------------------------------------------------------------- disconnect

    def disconnect(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        self._watched = None
        self._close_app(timeout)
        # A service may keep the tunnel after its GUI is gone (Proton, Outline, Lantern, WARP on Windows).
        while time.monotonic() < deadline:
            if not self._route_up():
                return
            time.sleep(READY_POLL)
        raise BackendError(f"{self.route().describe()} is still up after closing {Path(self._argv()[0]).name}",
                           hint="Its background service keeps the tunnel: disconnect it in the app, or turn off "
                                "the app's \"always on\" / kill-switch setting.")

    def _close_app(self, timeout: float) -> None:
        grace = min(float(self.params.get("close_timeout", DEFAULT_CLOSE)), max(0.5, timeout / 2))
        roots = self._main_processes()
        # The whole tree now: children are re-parented once their parent exits, and must go too.
        everything = {p.pid: p for p in self.processes()}
        for root in roots:
            try:
                everything.update({c.pid: c for c in root.children(recursive=True)})
            except psutil.Error:
                pass
        for proc in roots:
            self._close_politely(proc)
        if self._started is not None:
            self._reap_started(grace)
        psutil.wait_procs(roots, timeout=grace)
        for proc in everything.values():
            try:
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    kill_tree(proc.pid, grace=min(2.0, grace))
            except psutil.Error:
                continue
        if self._started is not None:
            self._started.stop(timeout=1.0)
            self._started = None

    def _reap_started(self, grace: float) -> None:
        """Collect our own child's exit so it does not linger as a zombie that looks alive."""
        started = self._started
        deadline = time.monotonic() + grace
        while started is not None and started.alive() and time.monotonic() < deadline:
            time.sleep(0.05)

    def _close_politely(self, proc: psutil.Process) -> None:
        """Windows: ``taskkill`` without /F sends WM_CLOSE, as closing the window would. Elsewhere SIGTERM."""
        try:
            if sys.platform == "win32":
                self.context.runner.run(["taskkill", "/PID", str(proc.pid), "/T"], timeout=5.0)
            else:
                proc.terminate()
        except (psutil.Error, BackendError) as exc:
            log.info("closing %s politely failed: %s", proc.pid, exc)

    # ------------------------------------------------------------------------------------------- status

    def status(self, timeout: float) -> BackendStatus:
        running = bool(self._main_processes())
        if self.params.get("adapter") and not self._alias:
            self._resolve()
        up = self._route_up()
        if up:
            return BackendStatus("connected", "" if running else "the app is closed but its tunnel is up")
        return BackendStatus("connecting" if running else "disconnected")

    def liveness(self) -> str | None:
        watched = self._watched
        if watched is None:
            return None
        pid, created = watched
        started = self._started
        if started is not None and started.pid == pid:
            alive = started.alive()  # also reaps it: a zombie still has a create time
        else:
            try:
                proc = psutil.Process(pid)
                alive = proc.create_time() == created and proc.status() != psutil.STATUS_ZOMBIE
            except psutil.Error:
                alive = False
        if alive:
            return None
        return f"{Path(self._argv()[0]).name} quit"  # stays reported until the next connect or disconnect

    def route(self) -> Route:
        if self.params.get("proxy"):
            return Route("proxy", proxy=self._proxy)
        return Route("tunnel", interface=self._alias)

    def transport(self) -> Transport:
        return declared_transport(self.params)

    def close(self) -> None:
        self._watched = None
