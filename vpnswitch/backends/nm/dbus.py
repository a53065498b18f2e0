"""NetworkManager over D-Bus, with jeepney (pure Python, blocking, already a dependency of keyring on
Linux): list connections, activate and deactivate them, follow their state as signals, add new ones.

Why D-Bus and not nmcli first: signals arrive the moment NetworkManager changes state (no polling), errors
come back as named D-Bus errors instead of translated text, and adding a connection owned by the user
(``connection.permissions``) needs only polkit's ``settings.modify.own``, which desktop sessions have.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from jeepney import DBusAddress, MatchRule, Properties, new_method_call  # type: ignore[import-untyped]
from jeepney.bus_messages import message_bus  # type: ignore[import-untyped]
from jeepney.io.blocking import DBusConnection, open_dbus_connection  # type: ignore[import-untyped]
from jeepney.low_level import HeaderFields  # type: ignore[import-untyped]
from jeepney.wrappers import DBusErrorResponse, unwrap_msg  # type: ignore[import-untyped]

from vpnswitch.backends.nm.model import (
    ACTIVE_ACTIVATED,
    ACTIVE_DEACTIVATED,
    ACTIVE_DEACTIVATING,
    VPN_ACTIVATED,
    VPN_DISCONNECTED,
    VPN_FAILED,
    NmActive,
    NmConnection,
    activation_error,
    connection_from_settings,
)
from vpnswitch.core.errors import AppMissing, BackendError, CommandTimeout

log = logging.getLogger(__name__)

NM = "org.freedesktop.NetworkManager"
NM_PATH = "/org/freedesktop/NetworkManager"
SETTINGS_PATH = f"{NM_PATH}/Settings"
IF_SETTINGS = f"{NM}.Settings"
IF_CONNECTION = f"{NM}.Settings.Connection"
IF_ACTIVE = f"{NM}.Connection.Active"
IF_VPN = f"{NM}.VPN.Connection"
IF_DEVICE = f"{NM}.Device"
IF_PROPERTIES = "org.freedesktop.DBus.Properties"
CALL_TIMEOUT = 5.0

# D-Bus error names → what they mean for the user.
PERMISSION_ERRORS = ("PermissionDenied", "NotAuthorized", "AccessDenied")
_MEMBER = HeaderFields.member
_INTERFACE = HeaderFields.interface


def _value(variant: Any) -> Any:
    """jeepney hands variants over as (signature, value)."""
    if isinstance(variant, tuple) and len(variant) == 2 and isinstance(variant[0], str):
        return variant[1]
    return variant


class NmDbus:
    """A thin client: every call opens its own connection, so it is safe from any worker thread."""

    def __init__(self, bus: str = "SYSTEM", timeout: float = CALL_TIMEOUT) -> None:
        self.bus = bus
        self.timeout = timeout

    # ------------------------------------------------------------------------------------------ basics

    def _open(self) -> DBusConnection:
        try:
            return open_dbus_connection(bus=self.bus, auth_timeout=self.timeout)
        except (OSError, ValueError, KeyError) as exc:
            raise AppMissing(f"cannot reach the D-Bus system bus ({exc})",
                             hint="NetworkManager needs D-Bus; is this a desktop Linux session?") from None

    def _call(self, conn: DBusConnection, path: str, interface: str, method: str, signature: str = "",
              body: tuple[Any, ...] = (), timeout: float | None = None) -> tuple[Any, ...]:
        address = DBusAddress(path, bus_name=NM, interface=interface)
        message = new_method_call(address, method, signature or None, body)
        try:
            reply = conn.send_and_get_reply(message, timeout=timeout or self.timeout)
        except TimeoutError:
            raise CommandTimeout(f"NetworkManager did not answer {method} within {timeout or self.timeout:g} s"
                                 ) from None
        try:
            result: tuple[Any, ...] = unwrap_msg(reply)
        except DBusErrorResponse as exc:
            raise _translate(exc, method) from None
        return result

    def _get(self, conn: DBusConnection, path: str, interface: str, name: str) -> Any:
        address = DBusAddress(path, bus_name=NM, interface=interface)
        try:
            reply = conn.send_and_get_reply(Properties(address).get(name), timeout=self.timeout)
        except TimeoutError:
            raise CommandTimeout(f"NetworkManager did not answer within {self.timeout:g} s") from None
        try:
            return _value(unwrap_msg(reply)[0])
        except DBusErrorResponse as exc:
            raise _translate(exc, f"reading {name}") from None

    def _get_all(self, conn: DBusConnection, path: str, interface: str) -> dict[str, Any]:
        address = DBusAddress(path, bus_name=NM, interface=interface)
        try:
            reply = conn.send_and_get_reply(Properties(address).get_all(), timeout=self.timeout)
            values = unwrap_msg(reply)[0]
        except TimeoutError:
            raise CommandTimeout(f"NetworkManager did not answer within {self.timeout:g} s") from None
        except DBusErrorResponse as exc:
            raise _translate(exc, "reading properties") from None
        return {key: _value(value) for key, value in values.items()}

    def available(self) -> bool:
        """Whether NetworkManager runs on this bus."""
        try:
            with self._open() as conn:
                reply = conn.send_and_get_reply(message_bus.NameHasOwner(NM), timeout=self.timeout)
                return bool(unwrap_msg(reply)[0])
        except (BackendError, OSError, TimeoutError, DBusErrorResponse):
            return False

    # ----------------------------------------------------------------------------------------- queries

    def connections(self) -> list[NmConnection]:
        with self._open() as conn:
            (paths,) = self._call(conn, SETTINGS_PATH, IF_SETTINGS, "ListConnections")
            result = []
            for path in paths:
                try:
                    (settings,) = self._call(conn, path, IF_CONNECTION, "GetSettings")
                except BackendError as exc:  # removed meanwhile, or not ours to read
                    log.debug("skipping %s: %s", path, exc)
                    continue
                result.append(connection_from_settings(path, _plain(settings)))
            return result

    def active(self) -> list[NmActive]:
        with self._open() as conn:
            paths = self._get(conn, NM_PATH, NM, "ActiveConnections")
            result = []
            for path in paths:
                try:
                    result.append(self._read_active(conn, path))
                except BackendError:
                    continue  # it went away while we looked
            return result

    def _read_active(self, conn: DBusConnection, path: str) -> NmActive:
        props = self._get_all(conn, path, IF_ACTIVE)
        vpn_state = None
        if props.get("Vpn"):
            try:
                vpn_state = int(self._get(conn, path, IF_VPN, "VpnState"))
            except BackendError:
                vpn_state = None
        interface = None
        devices = tuple(props.get("Devices") or ())
        for device in devices:
            try:
                interface = self._get(conn, device, IF_DEVICE, "IpInterface") or \
                    self._get(conn, device, IF_DEVICE, "Interface")
            except BackendError:
                continue
            if interface:
                break
        return NmActive(path=path, id=str(props.get("Id", "")), uuid=str(props.get("Uuid", "")),
                        type=str(props.get("Type", "")), state=int(props.get("State", 0)),
                        vpn=bool(props.get("Vpn", False)), devices=devices,
                        connection=str(props.get("Connection", "/")), vpn_state=vpn_state,
                        device_interface=str(interface) if interface else None)

    # ---------------------------------------------------------------------------------------- changes

    def activate(self, connection_path: str, timeout: float, *, name: str = "") -> NmActive:
        """Activate and wait for ACTIVATED; raises with NetworkManager's reason when it fails."""
        deadline = time.monotonic() + timeout
        label = name or connection_path
        with self._open() as conn:
            (active_path,) = self._call(conn, NM_PATH, NM, "ActivateConnection", "ooo",
                                        (connection_path, "/", "/"), timeout=min(timeout, 30.0))
            queue: deque[Any] = deque()
            rule = MatchRule(type="signal", path=active_path)
            self._call_bus(conn, message_bus.AddMatch(rule))
            with conn.filter(rule, queue=queue):
                try:
                    state = int(self._get(conn, active_path, IF_ACTIVE, "State"))
                except BackendError:
                    state = ACTIVE_DEACTIVATED  # already gone again
                reason = 0
                vpn_reason: int | None = None
                while True:
                    if state == ACTIVE_ACTIVATED:
                        return self._read_active(conn, active_path)
                    if state in (ACTIVE_DEACTIVATING, ACTIVE_DEACTIVATED) or vpn_reason is not None:
                        raise activation_error(label, reason, vpn_reason)
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        self._deactivate_quietly(active_path)
                        raise BackendError(f"NetworkManager did not finish activating {label} within "
                                           f"{timeout:g} s")
                    try:
                        message = conn.recv_until_filtered(queue, timeout=remaining)
                    except TimeoutError:
                        continue
                    member = message.header.fields.get(_MEMBER)
                    interface = message.header.fields.get(_INTERFACE)
                    if interface == IF_ACTIVE and member == "StateChanged":
                        state, reason = int(message.body[0]), int(message.body[1])
                    elif interface == IF_VPN and member == "VpnStateChanged":
                        vpn_state, why = int(message.body[0]), int(message.body[1])
                        if vpn_state in (VPN_FAILED, VPN_DISCONNECTED):
                            vpn_reason = why
                        elif vpn_state == VPN_ACTIVATED:
                            state = ACTIVE_ACTIVATED
                    else:
                        changed_state = _state_from_properties(interface, member, message.body)
                        if changed_state is not None:
                            state = changed_state

    def _call_bus(self, conn: DBusConnection, message: Any) -> None:
        try:
            unwrap_msg(conn.send_and_get_reply(message, timeout=self.timeout))
        except (TimeoutError, DBusErrorResponse) as exc:
            raise BackendError(f"cannot subscribe to NetworkManager's signals: {exc}") from None

    def deactivate(self, active_path: str, timeout: float) -> None:
        """Deactivate and wait until it is gone (or DEACTIVATED)."""
        deadline = time.monotonic() + timeout
        with self._open() as conn:
            try:
                self._call(conn, NM_PATH, NM, "DeactivateConnection", "o", (active_path,),
                           timeout=min(timeout, 30.0))
            except BackendError as exc:
                if "not active" in exc.message.lower() or "unknown" in exc.message.lower():
                    return
                raise
            while time.monotonic() < deadline:
                paths = self._get(conn, NM_PATH, NM, "ActiveConnections")
                if active_path not in paths:
                    return
                try:
                    if int(self._get(conn, active_path, IF_ACTIVE, "State")) == ACTIVE_DEACTIVATED:
                        return
                except BackendError:
                    return
                time.sleep(0.1)
        raise BackendError(f"NetworkManager still shows {active_path} as active after {timeout:g} s")

    def _deactivate_quietly(self, active_path: str) -> None:
        try:
            self.deactivate(active_path, 5.0)
        except BackendError as exc:
            log.warning("could not deactivate %s: %s", active_path, exc.message)

    def add_connection(self, settings: Mapping[str, Mapping[str, Any]]) -> str:
        """Add a saved connection (settings already as (signature, value) variants); returns its path."""
        with self._open() as conn:
            (path,) = self._call(conn, SETTINGS_PATH, IF_SETTINGS, "AddConnection", "a{sa{sv}}", (settings,))
            return str(path)

    def delete_connection(self, path: str) -> None:
        with self._open() as conn:
            self._call(conn, path, IF_CONNECTION, "Delete")

    def watch(self, active_path: str, on_change: Callable[[int, int, bool], None]) -> NmWatcher:
        """Follow one active connection; ``on_change(state, reason, is_vpn_state)`` runs on a thread."""
        watcher = NmWatcher(self, active_path, on_change)
        watcher.start()
        return watcher


class NmWatcher:
    """Listens for one active connection's state signals, and for NetworkManager itself going away."""

    def __init__(self, client: NmDbus, active_path: str, on_change: Callable[[int, int, bool], None]) -> None:
        self.client = client
        self.active_path = active_path
        self.on_change = on_change
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="nm-watch", daemon=True)
        self.ready = threading.Event()
        self.failed: str | None = None

    def start(self) -> None:
        self._thread.start()
        self.ready.wait(self.client.timeout)

    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)

    def _run(self) -> None:
        try:
            with self.client._open() as conn:
                queue: deque[Any] = deque()
                rule = MatchRule(type="signal", path=self.active_path)
                owner = MatchRule(type="signal", interface="org.freedesktop.DBus", member="NameOwnerChanged")
                owner.add_arg_condition(0, NM)
                self.client._call_bus(conn, message_bus.AddMatch(rule))
                self.client._call_bus(conn, message_bus.AddMatch(owner))
                with conn.filter(rule, queue=queue), conn.filter(owner, queue=queue):
                    self.ready.set()
                    # A change before we subscribed is caught by reading the state once now.
                    try:
                        state = int(self.client._get(conn, self.active_path, IF_ACTIVE, "State"))
                    except BackendError:
                        state = ACTIVE_DEACTIVATED
                    if state != ACTIVE_ACTIVATED:
                        self.on_change(state, 0, False)
                    while not self._stop.is_set():
                        try:
                            message = conn.recv_until_filtered(queue, timeout=0.5)
                        except TimeoutError:
                            continue
                        self._dispatch(message)
        except Exception as exc:  # noqa: BLE001 - a dead watcher falls back to polling; say why
            self.failed = str(exc)
            log.warning("NetworkManager watcher stopped: %s", exc)
        finally:
            self.ready.set()

    def _dispatch(self, message: Any) -> None:
        member = message.header.fields.get(_MEMBER)
        interface = message.header.fields.get(_INTERFACE)
        if member == "NameOwnerChanged":
            if len(message.body) == 3 and message.body[0] == NM and not message.body[2]:
                self.on_change(ACTIVE_DEACTIVATED, -1, False)
        elif interface == IF_ACTIVE and member == "StateChanged":
            self.on_change(int(message.body[0]), int(message.body[1]), False)
        elif interface == IF_VPN and member == "VpnStateChanged":
            self.on_change(int(message.body[0]), int(message.body[1]), True)
        else:
            state = _state_from_properties(interface, member, message.body)
            if state is not None:
                self.on_change(state, 0, False)


def _state_from_properties(interface: str | None, member: str | None, body: tuple[Any, ...]) -> int | None:
    """``State`` from org.freedesktop.DBus.Properties.PropertiesChanged, or from the older per-interface
    ``Connection.Active.PropertiesChanged(a{sv})`` that NetworkManager also emits."""
    if member != "PropertiesChanged" or not body:
        return None
    changed: Any = None
    if interface == IF_PROPERTIES and len(body) > 1 and body[0] == IF_ACTIVE:
        changed = body[1]
    elif interface == IF_ACTIVE and isinstance(body[0], dict):
        changed = body[0]
    if isinstance(changed, dict) and "State" in changed:
        return int(_value(changed["State"]))
    return None


def _plain(settings: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    return {group: {key: _value(value) for key, value in values.items()} for group, values in settings.items()}


def _translate(exc: DBusErrorResponse, what: str) -> BackendError:
    name = str(exc.name or "")
    text = str(exc.data[0]) if exc.data else name
    short = name.rsplit(".", 1)[-1]
    if any(p in short for p in PERMISSION_ERRORS):
        return BackendError(f"NetworkManager refused {what}: {text}", fatal=True,
                            hint="Your session is not allowed to control this connection (polkit). Log in on the "
                                 "desktop, or make the connection available to your user in its settings.")
    if short in ("UnknownConnection", "UnknownMethod", "UnknownObject", "InvalidConnection"):
        return BackendError(f"NetworkManager: {text}", fatal=short == "UnknownConnection")
    if name == "org.freedesktop.DBus.Error.ServiceUnknown":
        return AppMissing("NetworkManager is not running", hint="Start NetworkManager, or use another profile.")
    return BackendError(f"NetworkManager {what} failed: {text} ({short})")
