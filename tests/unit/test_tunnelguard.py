"""When the leak guard is up, and what it lets through."""

from __future__ import annotations

from dataclasses import replace

from vpnswitch.core import engine
from vpnswitch.core.config import Timings
from vpnswitch.core.model import (
    Connected,
    Connecting,
    Disconnecting,
    EngineConfig,
    Exhausted,
    Idle,
    Offline,
    ProfileInfo,
    Route,
    SwitchInfo,
    Verifying,
)
from vpnswitch.privileged.guard import GuardSpec
from vpnswitch.service import tunnelguard
from vpnswitch.service.tunnelguard import ServiceGuard, ServiceRequest, TunnelGuard, guarded_profile

STATE = engine.initial_state(EngineConfig((ProfileInfo("wg", "wireguard"), ProfileInfo("ovpn", "openvpn"),
                                            ProfileInfo("tor", "tor", route_kind="proxy")), Timings()))
SWITCH = SwitchInfo("wg", "ovpn", "wg stopped carrying traffic", "failover", 1.0, 2.0)


def test_guarded_profile_follows_the_tunnel_and_the_switch() -> None:
    assert guarded_profile(replace(STATE, phase=Idle())) is None
    assert guarded_profile(replace(STATE, phase=Connecting("wg", 0.0))) is None  # first start: no tunnel yet
    assert guarded_profile(replace(STATE, phase=Connected("wg", 0.0))) == "wg"
    assert guarded_profile(replace(STATE, phase=Offline("wg", 0.0, tunnel_up=True))) == "wg"
    assert guarded_profile(replace(STATE, phase=Offline("wg", 0.0, tunnel_up=False))) is None
    assert guarded_profile(replace(STATE, phase=Disconnecting("wg", "ovpn", 0.0), switch=SWITCH)) == "ovpn"
    assert guarded_profile(replace(STATE, phase=Verifying("ovpn", 0.0), switch=SWITCH)) == "ovpn"
    assert guarded_profile(replace(STATE, phase=Exhausted(0.0))) is None  # no tunnel left: plain network
    # The engine holds a dead tunnel when nothing else works: the guard keeps traffic inside it (fail closed).
    assert guarded_profile(replace(STATE, phase=Exhausted(0.0, holding="wg"))) == "wg"


class FakeBackend:
    def __init__(self, name: str, iface: str | None, endpoints: tuple[str, ...], kind: str = "tunnel") -> None:
        self.name, self.iface, self._endpoints, self.route_kind = name, iface, endpoints, kind

    def route(self) -> Route:
        return Route("tunnel", interface=self.iface) if self.route_kind == "tunnel" else \
            Route("proxy", proxy="socks5h://127.0.0.1:9050")

    def endpoints(self) -> tuple[str, ...]:
        return self._endpoints


class FakeLeakGuard:
    def __init__(self) -> None:
        self.calls: list[object] = []
        self.seq = 0

    def ticket(self) -> int:
        self.seq += 1
        return self.seq

    def engage(self, spec: GuardSpec, ticket: int | None = None) -> bool:
        self.calls.append(spec)
        return True

    def release(self, ticket: int | None = None) -> bool:
        self.calls.append("release")
        return True

    def recover(self) -> bool:
        self.calls.append("recover")
        return True


def make(monkeypatch: object, backends: dict[str, FakeBackend]) -> tuple[TunnelGuard, FakeLeakGuard]:
    leak = FakeLeakGuard()
    guard = TunnelGuard(leak, backends.get, lambda: [b for b in backends.values() if b.route_kind == "tunnel"])  # type: ignore[arg-type]
    monkeypatch.setattr(tunnelguard.localnet, "default_gateway", lambda tunnels: ("eth0", "192.168.1.1"))  # type: ignore[attr-defined]
    monkeypatch.setattr(tunnelguard.localnet, "subnets", lambda iface: ["192.168.1.0/24"])  # type: ignore[attr-defined]
    return guard, leak


def run(work: object) -> None:
    assert callable(work)
    work()


def test_guard_opens_every_tunnel_and_server_and_the_local_network(monkeypatch: object) -> None:
    backends = {"wg": FakeBackend("wg", "wg0", ("198.51.100.1",)),
                "ovpn": FakeBackend("ovpn", "tun7", ("203.0.113.9",)),
                "tor": FakeBackend("tor", None, (), kind="proxy")}
    guard, leak = make(monkeypatch, backends)
    run(guard.work(replace(STATE, phase=Connected("wg", 0.0)), "home"))
    assert leak.calls == [GuardSpec(("wg0", "tun7"), ("198.51.100.1", "203.0.113.9"),
                                    ("192.168.1.0/24", "192.168.1.1"))]
    assert guard.on
    assert guard.work(replace(STATE, phase=Connected("wg", 5.0)), "home") is None  # nothing changed: no nft call
    run(guard.work(replace(STATE, phase=Exhausted(9.0)), "home"))
    assert leak.calls[-1] == "release" and not guard.on


def test_no_guard_for_a_proxy_or_a_server_known_only_by_name(monkeypatch: object) -> None:
    backends = {"wg": FakeBackend("wg", "wg0", ("vpn.example.com",)), "tor": FakeBackend("tor", None, (), "proxy")}
    guard, leak = make(monkeypatch, backends)
    assert guard.work(replace(STATE, phase=Connected("wg", 0.0)), "home") is None
    assert guard.work(replace(STATE, phase=Connected("tor", 0.0)), "home") is None
    assert leak.calls == [] and not guard.on


def test_the_first_release_reports_a_guard_a_crash_left_and_later_ones_just_release(monkeypatch: object) -> None:
    guard, leak = make(monkeypatch, {})
    assert not guard.found_at_start
    guard.release_now()  # at start
    assert guard.found_at_start and leak.calls == ["recover"]
    guard.release_now()  # at exit
    assert leak.calls == ["recover", "release"]


class FakeService:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, object]]] = []

    def call(self, verb: str, timeout: float = 30.0, **args: object) -> object:
        assert timeout > 0
        self.calls.append((verb, args))
        return {"removed": True} if verb == "guard-off" else {}


def test_the_desktop_app_names_only_stored_tunnel_ids_to_the_service(monkeypatch: object) -> None:
    backends = {"wg": FakeBackend("wg", "wg0", ("vpn.example.com",)),  # a name is fine: the service resolves
                "ovpn": FakeBackend("ovpn", "tun7", ("203.0.113.9",)),
                "other": FakeBackend("other", "tun9", ("203.0.113.10",)),  # not in the store: not named
                "tor": FakeBackend("tor", None, (), kind="proxy")}
    ids = {"wg": "home-wg", "ovpn": "work-ovpn"}
    service = FakeService()
    guard = TunnelGuard(ServiceGuard(service, lambda backend: ids.get(backend.name)),  # type: ignore[attr-defined]
                        backends.get,  # type: ignore[arg-type]
                        lambda: [b for b in backends.values() if b.route_kind == "tunnel"])  # type: ignore[misc]
    guard.release_now()
    assert guard.found_at_start and service.calls == [("guard-off", {})]
    run(guard.work(replace(STATE, phase=Connected("wg", 0.0)), "home"))
    assert service.calls[-1] == ("guard", {"active": "home-wg", "standby": ["work-ovpn"]})
    assert guard.request_for("wg") == ServiceRequest("home-wg", ("work-ovpn",))
    assert guard.request_for("other") is None and guard.request_for("tor") is None
    run(guard.work(replace(STATE, phase=Exhausted(9.0)), "home"))
    assert service.calls[-1] == ("guard-off", {})
