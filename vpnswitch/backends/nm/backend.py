"""The ``networkmanager`` backend: VPN and WireGuard connections saved in NetworkManager, driven without
root (polkit lets the desktop session control them).

State comes from NetworkManager's D-Bus signals (an active connection's ``StateChanged`` /
``VpnStateChanged``), so a drop is seen the moment NetworkManager sees it; when D-Bus cannot be used,
``nmcli`` terse output is polled instead. A profile names a connection by ``uuid`` or ``connection`` (its
id), or by ``prefix`` for apps that create connections on the fly — Proton VPN's Linux app names them
``ProtonVPN <server>`` on device ``proton0`` and can be started (``app``) to connect on its own.
"""

from __future__ import annotations

import getpass
import logging
import shutil
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from vpnswitch.backends.base import Backend, BackendContext, BackendStatus, param_list, unknown_params
from vpnswitch.backends.nm.model import (
    ACTIVE_ACTIVATED,
    ACTIVE_ACTIVATING,
    ACTIVE_DEACTIVATED,
    ACTIVE_DEACTIVATING,
    PROTON_INTERFACE,
    PROTON_PREFIX,
    VPN_ACTIVATED,
    VPN_DISCONNECTED,
    VPN_FAILED,
    NmActive,
    NmConnection,
    describe_reason,
)
from vpnswitch.backends.nm.nmcli import NmCli
from vpnswitch.core.config import Profile
from vpnswitch.core.errors import AppMissing, BackendError
from vpnswitch.core.model import Route, Transport
from vpnswitch.core.params import Param, field_keys
from vpnswitch.system import netinfo
from vpnswitch.system.runner import ManagedProcess, Runner

log = logging.getLogger(__name__)

POLL = 0.5


class NmClient(Protocol):
    """What the backend needs; NmDbus and NmCli both provide it."""

    def connections(self) -> list[NmConnection]: ...

    def active(self) -> list[NmActive]: ...

    def activate(self, target: str, timeout: float, *, name: str = "") -> NmActive: ...

    def deactivate(self, target: str, timeout: float) -> None: ...


def dbus_client() -> Any | None:
    """The D-Bus client when jeepney is importable and NetworkManager answers on the system bus."""
    try:
        from vpnswitch.backends.nm.dbus import NmDbus
    except ImportError:
        return None
    client = NmDbus()
    return client if client.available() else None


def make_client(runner: Runner) -> NmClient:
    client = dbus_client()
    if client is not None:
        return client
    program = shutil.which("nmcli")
    if program is None:
        raise AppMissing("NetworkManager cannot be reached (no D-Bus access and no nmcli)",
                         hint="This profile needs NetworkManager (Linux desktops).")
    return NmCli(runner, program)


class NetworkManagerBackend(Backend):
    name = "networkmanager"
    display_name = "NetworkManager"
    polls_status = True
    params_spec = (
        Param("connection", "choice", "Connection",
              help="A VPN connection saved in NetworkManager, by its name (choose one from the list)."),
        Param("uuid", "text", "Connection UUID", advanced=True,
              help="Instead of the name: the connection's UUID (nmcli connection show)."),
        Param("prefix", "text", "Name prefix", advanced=True, example="ProtonVPN ",
              help="Instead of one connection: any connection whose name starts with this (for apps that "
                   "create their own connections)."),
        Param("app", "argv", "App that creates the connections", advanced=True,
              help="Started when no connection with the prefix exists; only with a prefix."),
        Param("interface", "text", "Interface", advanced=True, example="proton0",
              help="The tunnel's interface, when NetworkManager does not report it."),
    )

    def __init__(self, profile: Profile, context: BackendContext, client: NmClient | None = None) -> None:
        super().__init__(profile, context)
        self._client = client
        self._active: NmActive | None = None
        self._saved: NmConnection | None = None
        self._interface: str | None = None
        self._watcher: Any = None
        self._lost: str | None = None
        self._app: ManagedProcess | None = None
        self._lock = threading.Lock()

    # -------------------------------------------------------------------------------------- parameters

    @classmethod
    def validate_params(cls, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems = unknown_params(params, field_keys(cls.params_spec))
        named = [key for key in ("connection", "uuid", "prefix") if key in params]
        if len(named) != 1:
            problems.append(("", 'needs exactly one of "connection" (its name), "uuid", or "prefix" '
                                 '(e.g. "ProtonVPN ")'))
        for key in named:
            if not isinstance(params[key], str) or not params[key].strip():
                problems.append((key, "must be a non-empty text"))
        param_list(params, "app", problems, required=False)
        if "app" in params and "prefix" not in params:
            problems.append(("app", 'is only used with "prefix" (an app that creates its own connections)'))
        interface = params.get("interface")
        if interface is not None and (not isinstance(interface, str) or not interface or len(interface) > 15):
            problems.append(("interface", "must be an interface name such as \"wg0\" or \"proton0\""))
        return problems

    # ------------------------------------------------------------------------------------------ helpers

    def client(self) -> NmClient:
        if self._client is None:
            self._client = make_client(self.context.runner)
        return self._client

    def _describe(self) -> str:
        for key in ("connection", "uuid"):
            if self.params.get(key):
                return f'"{self.params[key]}"'
        return f'"{self.params.get("prefix", "")}…"'

    def _matches(self, name: str, uuid: str) -> bool:
        if self.params.get("uuid"):
            return uuid == self.params["uuid"]
        if self.params.get("connection"):
            return name == self.params["connection"]
        return name.startswith(str(self.params.get("prefix", "\0")))

    def _saved_connection(self) -> NmConnection | None:
        found = [c for c in self.client().connections() if self._matches(c.id, c.uuid)]
        return found[0] if found else None

    def _mine(self) -> list[NmActive]:
        return [a for a in self.client().active() if self._matches(a.id, a.uuid)]

    def _is_dbus(self) -> bool:
        return not isinstance(self._client, NmCli)

    # ----------------------------------------------------------------------------------------- connect

    def connect(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        self._stop_watch()
        self._lost = None
        saved = self._saved_connection()
        before = _tunnel_interfaces()
        if saved is None and self.params.get("prefix") and self.params.get("app"):
            active = self._start_app_and_wait(deadline)
        elif saved is None:
            raise BackendError(f"NetworkManager has no connection {self._describe()}", fatal=True,
                               hint="It was deleted or renamed; pick it again in Settings.")
        else:
            target = saved.path if self._is_dbus() else saved.uuid
            try:
                active = self.client().activate(target, max(1.0, deadline - time.monotonic()), name=saved.id)
            except BaseException:
                self._deactivate_all(5.0, quiet=True)
                raise
        self._saved = saved
        self._active = active
        self._interface = self._resolve_interface(saved, active, before)
        self._watch(active)
        log.info("NetworkManager activated %s (interface %s)", active.id, self._interface)

    def _start_app_and_wait(self, deadline: float) -> NmActive:
        """Apps like Proton VPN connect on their own once started (with their auto-connect setting)."""
        argv = list(self.params["app"])
        if self._app is None or not self._app.alive():
            self._app = self.context.runner.start(argv)
        while time.monotonic() < deadline:
            for active in self._mine():
                if active.state == ACTIVE_ACTIVATED and active.vpn_state in (None, VPN_ACTIVATED):
                    return active
            if not self._app.alive():
                code = self._app.returncode
                self._app = None
                raise BackendError(f"{Path(argv[0]).name} exited (code {code}) before a connection "
                                   f"{self._describe()} came up")
            time.sleep(POLL)
        self._stop_app()
        raise BackendError(f"{Path(argv[0]).name} did not bring up a connection {self._describe()}",
                           hint="Turn on its auto-connect setting so it connects when started.")

    def _resolve_interface(self, saved: NmConnection | None, active: NmActive, before: set[str]) -> str | None:
        if self.params.get("interface"):
            return str(self.params["interface"])
        if active.id.startswith(PROTON_PREFIX) or (saved is not None and saved.is_proton):
            return PROTON_INTERFACE
        if saved is not None and saved.interface_name and saved.type != "vpn":
            return saved.interface_name
        if active.type != "vpn":
            return active.device_interface
        dev = saved.vpn_data.get("dev") if saved is not None else None
        if dev and netinfo.interface_up(dev) is not None:
            return dev
        new = sorted(_tunnel_interfaces() - before)  # a plugin VPN's tun/ppp device is not in the settings
        return new[0] if new else None

    # --------------------------------------------------------------------------------------- watching

    def _watch(self, active: NmActive) -> None:
        client = self.client()
        watch = getattr(client, "watch", None)
        if watch is None:
            self.polls_status = True
            return
        name = active.id

        def on_change(state: int, reason: int, is_vpn: bool) -> None:
            down = (is_vpn and state in (VPN_FAILED, VPN_DISCONNECTED)) or \
                (not is_vpn and state in (ACTIVE_DEACTIVATING, ACTIVE_DEACTIVATED))
            if down and self._lost is None:
                self._lost = f"NetworkManager took {name} down ({describe_reason(reason)})"

        try:
            self._watcher = watch(active.path, on_change)
        except BackendError as exc:
            log.warning("cannot follow NetworkManager's signals (%s); polling instead", exc.message)
            self.polls_status = True
            return
        self.polls_status = False

    def _stop_watch(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()
        self.polls_status = True

    def liveness(self) -> str | None:
        if self._lost is not None:
            return self._lost
        watcher = self._watcher
        if watcher is not None and not watcher.alive():
            self.polls_status = True
        if self._app is not None and not self._app.alive() and self.params.get("app"):
            return None  # the app may quit while NetworkManager keeps the tunnel: the state decides
        return None

    # -------------------------------------------------------------------------------------- disconnect

    def disconnect(self, timeout: float) -> None:
        self._stop_watch()
        self._stop_app()  # first, or its auto-reconnect undoes what follows
        self._deactivate_all(timeout, quiet=False)
        self._active = None

    def _deactivate_all(self, timeout: float, *, quiet: bool) -> None:
        deadline = time.monotonic() + timeout
        try:
            mine = self._mine()
        except AppMissing:
            return
        errors = []
        for active in mine:
            target = active.path if self._is_dbus() else active.uuid
            try:
                self.client().deactivate(target, max(1.0, deadline - time.monotonic()))
            except BackendError as exc:
                errors.append(exc.message)
        remaining = [a for a in self._mine() if a.state != ACTIVE_DEACTIVATED] if mine else []
        if (errors or remaining) and not quiet:
            still = ", ".join(a.id for a in remaining)
            raise BackendError("; ".join(errors) or f"NetworkManager still has {still} active")

    def _stop_app(self) -> None:
        app, self._app = self._app, None
        if app is not None and app.alive():
            app.stop(timeout=5.0)

    # ------------------------------------------------------------------------------------------ status

    def status(self, timeout: float) -> BackendStatus:
        try:
            mine = self._mine()
        except BackendError as exc:
            return BackendStatus("error", exc.message, fatal=exc.fatal)
        if not mine:
            return BackendStatus("disconnected", self._lost or "")
        active = mine[0]
        if active.state == ACTIVE_ACTIVATED and active.vpn_state in (None, VPN_ACTIVATED):
            return BackendStatus("connected", active.id)
        if active.vpn_state in (VPN_FAILED, VPN_DISCONNECTED):
            return BackendStatus("error", f"{active.id}: VPN failed")
        if active.state in (ACTIVE_ACTIVATING, ACTIVE_ACTIVATED, ACTIVE_DEACTIVATING):
            return BackendStatus("connecting", f"{active.id}: {active.state_name}")
        return BackendStatus("disconnected", active.state_name)

    def route(self) -> Route:
        interface = self.params.get("interface") or self._interface
        if interface is None and str(self.params.get("prefix", "")).startswith(PROTON_PREFIX.strip()):
            interface = PROTON_INTERFACE
        return Route("tunnel", interface=str(interface) if interface else None)

    def transport(self) -> Transport:
        saved = self._saved
        if saved is None:
            return "unknown"
        if saved.type == "wireguard":
            return "udp"
        if saved.plugin == "openvpn":
            return "tcp" if saved.vpn_data.get("proto-tcp") == "yes" else "udp"
        return "unknown"

    def close(self) -> None:
        self._stop_watch()
        self._stop_app()


def _tunnel_interfaces() -> set[str]:
    try:
        import psutil

        return {name for name in psutil.net_if_stats() if netinfo.is_tunnel_name(name)}
    except Exception:  # noqa: BLE001 - only a hint for naming the interface
        return set()


# ------------------------------------------------------------------------------------------ importing


def import_file(path: Path, *, client: Any | None = None, runner: Runner | None = None, user: str | None = None,
                name: str | None = None) -> Profile:
    """Add a WireGuard ``.conf`` or OpenVPN ``.ovpn`` file to NetworkManager; the profile that drives it.

    WireGuard files are converted here and added over D-Bus as a connection owned by the user (no root,
    no password prompt). OpenVPN files need NetworkManager's openvpn plugin, which parses them itself.
    """
    from vpnswitch.backends.nm import wgimport

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BackendError(f"cannot read {path}: {exc}") from None
    label = name or path.stem
    if path.suffix == ".conf" and "[Interface]" in text:
        config = wgimport.parse_wg_conf(text)
        iface = wgimport.interface_name(path.stem)
        settings = wgimport.nm_settings(config, label, user or getpass.getuser(), iface=iface)
        dbus = client if client is not None else dbus_client()
        if dbus is None:
            cli = NmCli(runner or Runner(), shutil.which("nmcli") or "nmcli")
            uuid = cli.import_file("wireguard", str(path))
            return Profile(f"{label} (NetworkManager)", "networkmanager", {"uuid": uuid})
        dbus.add_connection(settings)
        uuid = settings["connection"]["uuid"][1]
        return Profile(f"{label} (NetworkManager)", "networkmanager", {"uuid": uuid, "interface": iface})
    if path.suffix in (".ovpn", ".conf"):
        cli = NmCli(runner or Runner(), shutil.which("nmcli") or "nmcli")
        uuid = cli.import_file("openvpn", str(path))
        return Profile(f"{label} (NetworkManager)", "networkmanager", {"uuid": uuid})
    raise BackendError(f"{path.name} is neither a WireGuard .conf nor an OpenVPN .ovpn file")
