"""The desktop app's one way into the rest of vpnswitch: the engine, the backends, detection and the OS.

Windows import this module and ``vpnswitch.core``, nothing else of the package (a test keeps it so); everything
here imports the layers below lazily, so the tray starts without them. Two halves:

- ``RuntimePort``: the running engine. In the app an ``Instance`` (the same runtime and control socket as the
  daemon); in tests a fake.
- module functions: the backend catalog (labels, declared parameters, secret keys, validation), detection of
  installed apps as typed offers, importing a WireGuard/OpenVPN file, NetworkManager's connections, start at
  login.

Whatever is marked *blocking* touches files, the keyring, D-Bus or the network: call it from a worker, never the
GUI thread.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from vpnswitch.core.config import WAY_OUTS, Profile
from vpnswitch.core.errors import VpnSwitchError
from vpnswitch.core.params import Param, Problems

if TYPE_CHECKING:  # the engine is imported on a worker at start-up, after the tray icon is up
    from vpnswitch.backends.detect import Detected
    from vpnswitch.core.config import Config
    from vpnswitch.core.paths import Paths
    from vpnswitch.core.secrets import SecretStore
    from vpnswitch.service.runtime import CheckReport as CheckReport
    from vpnswitch.service.snapshot import EMPTY as EMPTY
    from vpnswitch.service.snapshot import ProfileStatus as ProfileStatus
    from vpnswitch.service.snapshot import Snapshot as Snapshot
    from vpnswitch.system.autostart import Autostart as Autostart
    from vpnswitch.system.autostart import AutostartStatus as AutostartStatus

log = logging.getLogger(__name__)

# Types of the layers below that windows name: loaded on first use (PEP 562), so importing this module stays cheap.
_LAZY_TYPES = {
    "CheckReport": "vpnswitch.service.runtime",
    "ProfileStatus": "vpnswitch.service.snapshot",
    "Snapshot": "vpnswitch.service.snapshot",
    "EMPTY": "vpnswitch.service.snapshot",
    "Autostart": "vpnswitch.system.autostart",
    "AutostartStatus": "vpnswitch.system.autostart",
}


def __getattr__(name: str) -> Any:
    module = _LAZY_TYPES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


class SaveOutcome(Protocol):
    kept_aside: Path | None


class RuntimePort(Protocol):
    @property
    def config(self) -> Config: ...

    @property
    def secrets(self) -> SecretStore: ...

    def snapshot(self) -> Snapshot: ...

    def subscribe(self, callback: Callable[[Snapshot], None]) -> None:
        """``callback`` runs on the runtime thread."""

    def on_notify(self, callback: Callable[[str, str, str], None]) -> None:
        """``callback(kind, title, message)`` runs on the runtime thread."""

    def switch(self, profile: str) -> None: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def check(self) -> Future[CheckReport]: ...

    def save_config(self, config: Config) -> SaveOutcome:
        """Blocking: writes the file atomically and applies it."""

    def history(self) -> list[dict[str, Any]]:
        """Blocking: every history entry, oldest first."""

    def latency(self) -> list[dict[str, Any]]:
        """Blocking: every latency sample, oldest first."""

    def stop(self) -> None:
        """Blocking: disconnect and stop."""


class InstancePort:
    """The real engine: wraps ``vpnswitch.service.wiring.Instance``."""

    def __init__(self, instance: Any) -> None:
        self.instance = instance
        self.runtime = instance.runtime

    @property
    def config(self) -> Config:
        return self.runtime.config

    @property
    def secrets(self) -> SecretStore:
        return self.instance.secrets

    def snapshot(self) -> Snapshot:
        return self.runtime.snapshot()

    def subscribe(self, callback: Callable[[Snapshot], None]) -> None:
        self.runtime.subscribe(callback)

    def on_notify(self, callback: Callable[[str, str, str], None]) -> None:
        self.runtime.on_notify(callback)

    def switch(self, profile: str) -> None:
        self.runtime.switch(profile)

    def pause(self) -> None:
        self.runtime.pause()

    def resume(self) -> None:
        self.runtime.resume()

    def check(self) -> Future[CheckReport]:
        return self.runtime.check()

    def save_config(self, config: Config) -> SaveOutcome:
        return self.instance.save_config(config)

    def history(self) -> list[dict[str, Any]]:
        return self.instance.history.entries()

    def latency(self) -> list[dict[str, Any]]:
        return self.instance.latency.entries()

    def stop(self) -> None:
        self.instance.stop()


def start_instance(paths: Paths, config: Config, show_window: Callable[[], None],
                   attach: Callable[[RuntimePort], None]) -> InstancePort:
    """Blocking. The engine with ``config``, its control socket claimed; ``attach`` subscribes before it runs, so
    no snapshot is missed."""
    from vpnswitch.service.wiring import Instance

    instance = Instance(paths, config, show_window=show_window)
    port = InstancePort(instance)
    attach(port)
    instance.start()
    return port


def load_settings(paths: Paths) -> Config:
    """Blocking. The user's settings; ``ConfigError`` / ``ConfigUnreadable`` when the file cannot be used. With
    no file yet, the defaults and a profile for everything detected (see ``first_start``)."""
    from vpnswitch.service.wiring import load_or_default

    return load_or_default(paths)


@dataclass(frozen=True)
class FirstStart:
    """No settings file yet: what was found, proposed in the recommended order, for the user to agree to."""

    proposal: Config  # the defaults plus the detected profiles, in ``offers`` order
    offers: tuple[Offer, ...]


def first_start(paths: Paths) -> FirstStart | None:
    """Blocking (detection runs programs). None when a settings file exists: later starts run as configured."""
    if paths.config_file.exists():
        return None
    from vpnswitch.core.config import default_config

    try:
        from vpnswitch.backends import detect

        found = detect.detect(check_conflicts=False)
        config = detect.default_config(found)
    except Exception:  # detection must never stop vpnswitch from starting (logged with its traceback)
        log.exception("detecting installed VPN apps failed; starting with no profiles")
        return FirstStart(default_config(), ())
    by_params = {(p.backend, repr(sorted(p.params.items()))): item for item in found for p in item.profiles}
    offers = []
    for profile in config.profiles:
        item = by_params.get((profile.backend, repr(sorted(profile.params.items()))))
        made = offers_from(item) if item is not None else []
        base = next((o for o in made if o.backend == profile.backend and dict(o.params) == profile.params), None)
        offers.append(Offer(base.app if base else profile.name, profile.backend, profile.name,
                            dict(profile.params), base.note if base else "", profile.enabled,
                            base.warnings if base else (), needs_of(profile.backend),
                            way_out_of(profile.backend, profile.params)))
    ordered = recommended(offers)
    by_name = {p.name: p for p in config.profiles}
    return FirstStart(replace(config, profiles=tuple(by_name[o.name] for o in ordered)), tuple(ordered))


# ------------------------------------------------------------------------------------------ the catalog


@dataclass(frozen=True)
class BackendInfo:
    """One kind of profile the user can add: what the form needs to know about it."""

    name: str
    display_name: str
    params_spec: tuple[Param, ...]
    secret_keys: tuple[str, ...]
    _validate: Callable[[Mapping[str, Any]], Problems] = field(repr=False, compare=False)

    def validate(self, params: Mapping[str, Any]) -> Problems:
        """The backend's own judgement of ``params``: (key, problem in words) pairs."""
        return self._validate(params)


def backend_info(name: str) -> BackendInfo | None:
    """None when this version has no such backend (or its module cannot load here)."""
    return _backend_info(name, os.environ.get("VPNSWITCH_BACKENDS", ""))


@functools.cache
def _backend_info(name: str, _extra_backends: str) -> BackendInfo | None:
    from vpnswitch.backends import registry

    try:
        cls = registry.backend_class(name)
    except (KeyError, ImportError):
        return None
    return BackendInfo(name, cls.display_name, tuple(cls.params_spec), tuple(cls.secret_keys),
                       cls.validate_params)


def backend_names() -> list[str]:
    from vpnswitch.backends import registry

    return list(registry.CATALOG.names())


def config_from_dict(raw: Mapping[str, Any]) -> Config:
    """The settings as the engine will read them, checked against the installed backends."""
    from vpnswitch.backends import registry
    from vpnswitch.core.config import config_from_dict as parse

    return parse(dict(raw), registry.CATALOG)


# ------------------------------------------------------------------------------------------ detection

# Kinds of way out, in the order a first start recommends them: fastest first, obfuscated next, Tor last.
RECOMMENDED_ORDER = ("plain", "registered", "obfuscated", "tor")
VENDOR_BACKENDS = frozenset({"mullvad", "nordvpn", "expressvpn", "windscribe", "pia", "ivpn", "warp", "tailscale",
                             "openvpn3", "psiphon", "lantern", "app"})
OBFUSCATING_BACKENDS = frozenset({"shadowsocks", "proxy-core", "clash-api", "lantern", "psiphon"})


@dataclass(frozen=True)
class Offer:
    """One profile the user can add with a click, from a detected app."""

    app: str  # what was found, for people ("Mullvad VPN")
    backend: str
    name: str  # suggested profile name
    params: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""  # where it was found
    enabled: bool = True  # the detector may propose a profile switched off until the user checks it
    warnings: tuple[str, ...] = ()  # things the user must know before relying on it
    needs: tuple[str, ...] = ()  # what the user still has to do before it can work ("login", "import")
    way_out: str = "plain"  # plain / obfuscated / tor (registered only when the user says so)

    def profile(self) -> Profile:
        return Profile(self.name, self.backend, dict(self.params), self.enabled)


def way_out_of(backend: str, params: Mapping[str, Any]) -> str:
    """The kind of way out a detected profile most likely is (the user can correct it)."""
    if backend == "tor":
        return "tor"
    if backend in OBFUSCATING_BACKENDS or params.get("transport") == "obfuscated" or params.get("obfuscation"):
        return "obfuscated"
    return "plain"


def needs_of(backend: str) -> tuple[str, ...]:
    """What a detected profile needs from the user before it can connect."""
    if backend in VENDOR_BACKENDS:
        return ("login",)  # vendors' apps keep their own account: vpnswitch cannot sign in for the user
    return ()


def recommended(offers: list[Offer]) -> list[Offer]:
    """Fastest kinds first, obfuscated next, Tor last; the detector's order within a kind."""
    return sorted(offers, key=lambda o: RECOMMENDED_ORDER.index(o.way_out) if o.way_out in RECOMMENDED_ORDER
                  else len(RECOMMENDED_ORDER))


def offers_from(item: Detected) -> list[Offer]:
    """The profiles one detected app proposes, each with what it still needs and its kind of way out."""
    warnings = tuple(item.warnings) + tuple(f"{c.problem} {c.fix}".strip() for c in item.conflicts)
    return [Offer(item.display_name, profile.backend, profile.name, dict(profile.params), item.evidence,
                  profile.enabled, warnings, needs_of(profile.backend), way_out_of(profile.backend, profile.params))
            for profile in item.profiles]


def detect_offers() -> list[Offer]:
    """Blocking (runs programs, asks NetworkManager). Every profile the detector proposes, recommended order."""
    from vpnswitch.backends.detect import detect

    return recommended([offer for item in detect() for offer in offers_from(item)])


# -------------------------------------------------------------------------------------------- imports


class ImportRefused(VpnSwitchError):
    """A chosen file that is not a usable WireGuard or OpenVPN configuration."""


TUNNEL_FILE_BACKENDS = frozenset({"wireguard", "openvpn"})


def import_tunnel_file(backend: str, path: Path) -> dict[str, Any]:
    """Blocking (reads the file). The params that make a ``backend`` profile use the WireGuard / AmneziaWG /
    OpenVPN file at ``path``, after checking it is one vpnswitch may run; ``ImportRefused`` says why not."""
    from vpnswitch.system import configrules

    path = path.expanduser().resolve()
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ImportRefused(f"{path.name} cannot be read: {exc.strerror or exc}",
                            hint="Choose a file you can open, or copy it somewhere you can.") from None
    trusted = configrules.trusted_path(path)
    if backend == "wireguard":
        problems = configrules.wg_problems(text, trusted=trusted)
    elif backend == "openvpn":
        directives = configrules.ovpn_directives(text)
        if not any(d.name == "remote" for d in directives):
            problems = ["it names no server (no \"remote\" line), so it is not an OpenVPN client config"]
        else:
            problems = configrules.ovpn_problems(directives, trusted=trusted)
    else:
        raise ImportRefused(f"{backend} profiles are not made from a file")
    if problems:
        raise ImportRefused(f"{path.name} cannot be used: {'; '.join(problems)}")
    return {"config": str(path)}


def import_into_networkmanager(path: Path) -> Profile:
    """Blocking (D-Bus, nmcli). The file becomes a NetworkManager connection; its profile is returned."""
    from vpnswitch.backends.nm import backend as networkmanager

    return networkmanager.import_file(path)


def can_import_into_networkmanager() -> bool:
    return sys.platform.startswith("linux") and backend_info("networkmanager") is not None


def networkmanager_connections() -> list[str]:
    """Blocking (D-Bus or nmcli). Names of the VPN and WireGuard connections NetworkManager has saved."""
    from vpnswitch.backends.nm.backend import make_client
    from vpnswitch.system.runner import Runner

    return sorted({c.id for c in make_client(Runner()).connections() if c.is_vpn})


# Whether this version can fetch Tor bridges for the user; the form shows its button disabled until then.
def can_fetch_bridges() -> bool:
    return False


# ------------------------------------------------------------------------------------- start at login


def autostart() -> Autostart:
    from vpnswitch.system.autostart import for_platform

    return for_platform()


def way_outs() -> tuple[str, ...]:
    return WAY_OUTS
