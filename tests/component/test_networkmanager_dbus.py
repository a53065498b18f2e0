"""The networkmanager backend against python-dbusmock's NetworkManager template on a private bus.

The stock template activates instantly and cannot deactivate a connection without a device, so the tests
replace those two methods (through the mock's own AddMethod) with versions that behave like
NetworkManager: activation starts in ACTIVATING and the test drives the state changes as signals.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.nmmock import NmMock, nm_mock
from vpnswitch.backends.base import BackendContext
from vpnswitch.backends.conflicts import find_conflicts
from vpnswitch.backends.nm.backend import NetworkManagerBackend, import_file
from vpnswitch.backends.nm.dbus import IF_ACTIVE, IF_VPN, NM, NM_PATH, NmDbus
from vpnswitch.core.config import Profile
from vpnswitch.core.errors import AuthFailed, BackendError

WG_CONF = """[Interface]
PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=
Address = 10.99.100.2/32
DNS = 10.99.20.53
[Peer]
PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=
Endpoint = 10.99.11.2:51820
AllowedIPs = 0.0.0.0/0
"""

# NetworkManager-like activation: the new active connection starts in ACTIVATING (1).
ACTIVATE_SLOWLY = """
import dbus
main = objects['/org/freedesktop']
acts = self.Get('org.freedesktop.NetworkManager', 'ActiveConnections')
n = 0
while dbus.ObjectPath('/org/freedesktop/NetworkManager/ActiveConnection/' + str(n)) in acts:
    n += 1
ret = dbus.ObjectPath(main.AddActiveConnection([], args[0], '/', str(n), dbus.UInt32(1)))
"""
DEACTIVATE = """
import dbus
path = dbus.ObjectPath(args[0])
acts = self.Get('org.freedesktop.NetworkManager', 'ActiveConnections')
if path not in acts:
    raise dbus.exceptions.DBusException('The connection is not active',
                                        name='org.freedesktop.NetworkManager.ConnectionNotActive')
iface = 'org.freedesktop.NetworkManager.Connection.Active'
objects[path].Set(iface, 'State', dbus.UInt32(4))
objects[path].EmitSignal(iface, 'StateChanged', 'uu', [dbus.UInt32(4), dbus.UInt32(2)])
acts.remove(path)
main = objects['/org/freedesktop']
main.SetProperty('/org/freedesktop/NetworkManager', 'org.freedesktop.NetworkManager', 'ActiveConnections',
                 dbus.Array(acts, signature='o'))
main.RemoveObject(path)
"""
REFUSE = """
import dbus
raise dbus.exceptions.DBusException('Not authorized to control networking.',
                                    name='org.freedesktop.NetworkManager.PermissionDenied')
"""
FIRST_ACTIVE = f"{NM_PATH}/ActiveConnection/0"


@pytest.fixture
def nm(tmp_path: Path) -> Iterator[NmMock]:
    with nm_mock(tmp_path / "bus") as mock:
        mock.add_method(NM_PATH, NM, "DeactivateConnection", "o", "", DEACTIVATE)
        yield mock


def add_wireguard(nm: NmMock, tmp_path: Path, name: str = "home") -> Profile:
    conf = tmp_path / f"{name}.conf"
    conf.write_text(WG_CONF)
    return import_file(conf, client=NmDbus(bus=nm.address), user="alice")


def add_vpn(nm: NmMock, name: str, service: str = "org.freedesktop.NetworkManager.openvpn") -> None:
    settings = {"connection": {"id": ("s", name), "type": ("s", "vpn"), "autoconnect": ("b", False)},
                "vpn": {"service-type": ("s", service), "data": ("a{ss}", {"dev": "tun7", "proto-tcp": "yes"})}}
    NmDbus(bus=nm.address).add_connection(settings)


def backend(nm: NmMock, tmp_path: Path, **params: object) -> NetworkManagerBackend:
    profile = Profile("nm", "networkmanager", dict(params))
    assert NetworkManagerBackend.validate_params(profile.params) == []
    return NetworkManagerBackend(profile, BackendContext(work_dir=tmp_path), client=NmDbus(bus=nm.address))


def later(seconds: float, action: object) -> threading.Thread:
    def run() -> None:
        time.sleep(seconds)
        action()  # type: ignore[operator]

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_imported_wireguard_file_is_a_user_owned_connection_that_activates_and_deactivates(
        nm: NmMock, tmp_path: Path) -> None:
    profile = add_wireguard(nm, tmp_path)
    [saved] = NmDbus(bus=nm.address).connections()
    assert saved.type == "wireguard" and saved.permissions == ("user:alice:",)
    assert saved.uuid == profile.params["uuid"] and saved.interface_name == "home"
    b = backend(nm, tmp_path, uuid=profile.params["uuid"])
    assert b.status(5).state == "disconnected"
    b.connect(10)
    assert b.status(5).state == "connected"
    assert b.route().interface == "home" and b.transport() == "udp"
    assert b.polls_status is False  # signals, not polling
    b.disconnect(10)
    assert b.status(5).state == "disconnected"
    assert NmDbus(bus=nm.address).active() == []
    b.disconnect(10)  # idempotent


def test_connect_waits_for_activated_signal(nm: NmMock, tmp_path: Path) -> None:
    nm.add_method(NM_PATH, NM, "ActivateConnection", "ooo", "o", ACTIVATE_SLOWLY)
    profile = add_wireguard(nm, tmp_path)
    b = backend(nm, tmp_path, connection="home")

    def activated() -> None:
        nm.set_property(FIRST_ACTIVE, IF_ACTIVE, "State", ("u", 2))
        nm.emit(FIRST_ACTIVE, IF_ACTIVE, "StateChanged", "uu", [2, 1])

    started = time.monotonic()
    later(0.6, activated)
    b.connect(10)
    assert time.monotonic() - started >= 0.5
    assert b.status(5).state == "connected"
    assert profile.name.startswith("home")


def test_missing_secrets_are_an_auth_failure_and_nothing_stays_active(nm: NmMock, tmp_path: Path) -> None:
    nm.add_method(NM_PATH, NM, "ActivateConnection", "ooo", "o", ACTIVATE_SLOWLY)
    add_wireguard(nm, tmp_path)
    b = backend(nm, tmp_path, connection="home")
    later(0.3, lambda: nm.emit(FIRST_ACTIVE, IF_ACTIVE, "StateChanged", "uu", [4, 9]))
    with pytest.raises(AuthFailed) as caught:
        b.connect(10)
    assert "secrets" in caught.value.message and caught.value.fatal
    assert NmDbus(bus=nm.address).active() == []


def test_vpn_login_failure_from_vpn_state_signal(nm: NmMock, tmp_path: Path) -> None:
    nm.add_method(NM_PATH, NM, "ActivateConnection", "ooo", "o", ACTIVATE_SLOWLY)
    add_vpn(nm, "office")
    b = backend(nm, tmp_path, connection="office")
    later(0.3, lambda: nm.emit(FIRST_ACTIVE, IF_VPN, "VpnStateChanged", "uu", [6, 10]))
    with pytest.raises(AuthFailed, match="refused the login"):
        b.connect(10)


def test_activation_timeout_is_reported_and_cleaned_up(nm: NmMock, tmp_path: Path) -> None:
    nm.add_method(NM_PATH, NM, "ActivateConnection", "ooo", "o", ACTIVATE_SLOWLY)
    add_wireguard(nm, tmp_path)
    b = backend(nm, tmp_path, connection="home")
    with pytest.raises(BackendError, match="did not finish activating") as caught:
        b.connect(1.5)
    assert not caught.value.fatal
    assert NmDbus(bus=nm.address).active() == []


def test_polkit_refusal_is_fatal_with_a_hint(nm: NmMock, tmp_path: Path) -> None:
    nm.add_method(NM_PATH, NM, "ActivateConnection", "ooo", "o", REFUSE)
    add_wireguard(nm, tmp_path)
    b = backend(nm, tmp_path, connection="home")
    with pytest.raises(BackendError) as caught:
        b.connect(5)
    assert caught.value.fatal and "polkit" in caught.value.hint


def test_unknown_connection_is_fatal(nm: NmMock, tmp_path: Path) -> None:
    b = backend(nm, tmp_path, connection="nope")
    with pytest.raises(BackendError, match="no connection") as caught:
        b.connect(5)
    assert caught.value.fatal


def test_a_drop_arrives_as_a_signal_and_liveness_reports_it(nm: NmMock, tmp_path: Path) -> None:
    add_wireguard(nm, tmp_path)
    b = backend(nm, tmp_path, connection="home")
    b.connect(10)
    assert b.liveness() is None
    nm.emit(FIRST_ACTIVE, IF_ACTIVE, "StateChanged", "uu", [4, 3])
    deadline = time.monotonic() + 3
    while b.liveness() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert b.liveness() == "NetworkManager took home down (the network device disconnected)"
    b.close()


def test_vpn_interface_and_transport_come_from_the_plugin_settings(nm: NmMock, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    add_vpn(nm, "office")
    monkeypatch.setattr("vpnswitch.system.netinfo.interface_up", lambda name: True if name == "tun7" else None)
    b = backend(nm, tmp_path, connection="office")
    b.connect(10)
    assert b.route().interface == "tun7"
    assert b.transport() == "tcp"
    b.disconnect(10)


def test_proton_connections_by_prefix_and_their_kill_switch(nm: NmMock, tmp_path: Path) -> None:
    add_vpn(nm, "ProtonVPN NL#12", "org.freedesktop.NetworkManager.openvpn")
    client = NmDbus(bus=nm.address)
    client.add_connection({"connection": {"id": ("s", "pvpn-killswitch"), "type": ("s", "dummy"),
                                          "interface-name": ("s", "pvpnksintrf0")}})
    b = backend(nm, tmp_path, prefix="ProtonVPN ")
    b.connect(10)
    assert b.route().interface == "proton0"
    assert b.status(5).detail == "ProtonVPN NL#12"
    b.disconnect(10)
    conflicts = find_conflicts(nm_client=client, vendors=())
    [killswitch] = [c for c in conflicts if c.app == "Proton VPN"]
    assert "pvpn-killswitch" in killswitch.problem
    assert killswitch.fix_command == ("nmcli", "connection", "delete", "pvpn-killswitch")
