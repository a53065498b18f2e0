"""The versioned configuration model: validation that names every bad field, and atomic, private writes.

The file is JSON so people can read and fix it by hand. Loading never changes the file; saving over a file
that cannot be read first keeps the old bytes aside, so nothing the user wrote is ever lost.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from vpnswitch.core.errors import ConfigError, ConfigUnreadable
from vpnswitch.core.files import FileTooLarge, NotARegularFile, atomic_write, read_regular_file

CONFIG_VERSION = 1
# A real config is a few KiB; anything near this is not one of ours (or an attack on the parser).
MAX_CONFIG_BYTES = 1024 * 1024

# What kind of way out a profile is, for the failover order: a plain VPN (WireGuard, OpenVPN, vendor apps), an
# obfuscated one (Shadowsocks, V2Ray-family, Psiphon, Lantern), Tor, or a VPN registered with the authority
# (whitelisted, so it survives a crackdown, but not private).
WayOut = Literal["plain", "obfuscated", "tor", "registered"]
WAY_OUTS: tuple[str, ...] = ("plain", "obfuscated", "tor", "registered")
Role = Literal["canary", "must-reach"]
Preference = Literal["speed", "privacy"]
ROLES: tuple[str, ...] = ("canary", "must-reach")
PREFERENCES: tuple[str, ...] = ("speed", "privacy")
DEFAULT_EXPECT: tuple[int, ...] = (200, 204, 301, 302, 303, 307, 308)


class BackendCatalog(Protocol):
    """What validation needs to know about backends, without importing them."""

    def names(self) -> Iterable[str]: ...

    def validate_params(self, backend: str, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Problems with ``params`` as ``(key, problem)`` pairs; empty when they are fine."""
        ...


@dataclass(frozen=True)
class Profile:
    """One way out that the user ranks: a backend plus its parameters."""

    name: str
    backend: str
    params: Mapping[str, Any] = field(default_factory=dict)
    enabled: bool = True
    # The kind of way out, when the user knows better than the backend (a VPN registered with the authority).
    way_out: WayOut | None = None


@dataclass(frozen=True)
class ProbeTarget:
    """A URL that must answer through the active profile with one of ``expect``."""

    url: str
    role: Role = "canary"
    expect: tuple[int, ...] = DEFAULT_EXPECT


@dataclass(frozen=True)
class Timings:
    """Every number the engine and monitors use, in seconds unless named otherwise."""

    probe_interval_min: float = 8.0
    probe_interval_max: float = 15.0
    probe_timeout: float = 2.0  # the longest wait for a site; the wait actually used is learnt per profile
    probe_timeout_min: float = 0.5  # ... and never shorter than this
    confirm_delay: float = 0.4
    failure_rounds: int = 3
    standby_failure_rounds: int = 2  # when a hot standby is ready, switching is cheap and known to work
    blocked_target_rounds: int = 6
    stall_seconds: float = 1.5
    liveness_interval: float = 0.5
    underlay_interval: float = 2.0
    connect_timeout: float = 45.0
    disconnect_timeout: float = 15.0
    verify_timeout: float = 15.0
    resume_grace: float = 3.0
    quarantine_initial: float = 60.0
    quarantine_max: float = 1800.0
    failback_interval: float = 600.0
    failback_max_rate_kbps: float = 64.0
    crash_loop_switches: int = 4
    crash_loop_window: float = 600.0


# (minimum, maximum) accepted for each timing; the settings window uses the same ranges.
TIMING_RANGES: dict[str, tuple[float, float]] = {
    "probe_interval_min": (2.0, 600.0),
    "probe_interval_max": (2.0, 900.0),
    "probe_timeout": (0.5, 30.0),
    "probe_timeout_min": (0.2, 30.0),
    "confirm_delay": (0.0, 10.0),
    "failure_rounds": (2, 10),
    "standby_failure_rounds": (2, 10),
    "blocked_target_rounds": (2, 20),
    "stall_seconds": (0.5, 30.0),
    "liveness_interval": (0.1, 10.0),
    "underlay_interval": (0.5, 60.0),
    "connect_timeout": (5.0, 300.0),
    "disconnect_timeout": (2.0, 120.0),
    "verify_timeout": (2.0, 120.0),
    "resume_grace": (0.0, 60.0),
    "quarantine_initial": (5.0, 3600.0),
    "quarantine_max": (5.0, 86400.0),
    "failback_interval": (30.0, 86400.0),
    "failback_max_rate_kbps": (0.0, 1_000_000.0),
    "crash_loop_switches": (2, 100),
    "crash_loop_window": (60.0, 86400.0),
}


# (a, b): timing a must not be larger than timing b. The settings window checks the same pairs.
TIMING_ORDER: tuple[tuple[str, str], ...] = (
    ("probe_interval_min", "probe_interval_max"),
    ("probe_timeout_min", "probe_timeout"),
    ("standby_failure_rounds", "failure_rounds"),
    ("quarantine_initial", "quarantine_max"),
)


@dataclass(frozen=True)
class Behaviour:
    auto_switch: bool = True
    failback: bool = True
    per_network_memory: bool = True
    preference: Preference = "speed"
    # Resolvers asked THROUGH a tunnel that brings none of its own, to learn where a site really is (and tell a
    # poisoned network resolver from a dead tunnel). The tunnel hides the questions from the network.
    tunnel_resolvers: tuple[str, ...] = ("1.1.1.1", "9.9.9.9")


@dataclass(frozen=True)
class Desktop:
    """Settings only the desktop app reads; kept here so one file holds everything the user chose."""

    notifications: bool = True
    language: str = "system"


@dataclass(frozen=True)
class Config:
    profiles: tuple[Profile, ...] = ()
    targets: tuple[ProbeTarget, ...] = ()
    timings: Timings = Timings()
    behaviour: Behaviour = Behaviour()
    desktop: Desktop = Desktop()
    version: int = CONFIG_VERSION

    def profile(self, name: str) -> Profile | None:
        return next((p for p in self.profiles if p.name == name), None)

    def enabled_profiles(self) -> tuple[Profile, ...]:
        return tuple(p for p in self.profiles if p.enabled)


def default_targets() -> tuple[ProbeTarget, ...]:
    """Canaries run by different companies, so one of them being blocked is not a false failure."""
    return (
        ProbeTarget("https://www.gstatic.com/generate_204", "canary", (204,)),
        ProbeTarget("https://cp.cloudflare.com/generate_204", "canary", (204,)),
        ProbeTarget("https://x.com/", "must-reach", DEFAULT_EXPECT + (400, 403)),
    )


def default_config() -> Config:
    return Config(targets=default_targets())


# ----------------------------------------------------------------------------------------------- parsing


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, problem: str) -> None:
        self.items.append(f"{where}: {problem}" if where else problem)


def _type_name(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def _expect_keys(obj: Mapping[str, Any], allowed: Iterable[str], where: str, problems: _Problems) -> None:
    allowed = list(allowed)
    for key in obj:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            problems.add(f"{where}.{key}" if where else str(key), f"unknown field{hint}")


def _get_bool(obj: Mapping[str, Any], key: str, default: bool, where: str, problems: _Problems) -> bool:
    value = obj.get(key, default)
    if not isinstance(value, bool):
        problems.add(f"{where}.{key}", f"must be true or false, not {_type_name(value)}")
        return default
    return value


def _parse_profile(raw: object, where: str, catalog: BackendCatalog | None, problems: _Problems) -> Profile | None:
    if not isinstance(raw, dict):
        problems.add(where, f"must be an object, not {_type_name(raw)}")
        return None
    _expect_keys(raw, ("name", "backend", "params", "enabled", "way_out"), where, problems)
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.add(f"{where}.name", "must be a non-empty string")
        name = None
    elif len(name) > 64:
        problems.add(f"{where}.name", "must be at most 64 characters")
    backend = raw.get("backend")
    if not isinstance(backend, str) or not backend:
        problems.add(f"{where}.backend", "must be the name of a backend")
        backend = None
    elif catalog is not None:
        known = sorted(catalog.names())
        if backend not in known:
            close = difflib.get_close_matches(backend, known, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else f" (known: {', '.join(known)})"
            problems.add(f"{where}.backend", f'unknown backend "{backend}"{hint}')
            backend = None
    params = raw.get("params", {})
    if not isinstance(params, dict):
        problems.add(f"{where}.params", f"must be an object, not {_type_name(params)}")
        params = None
    elif backend is not None and catalog is not None:
        for key, problem in catalog.validate_params(backend, params):
            problems.add(f"{where}.params.{key}" if key else f"{where}.params", problem)
    enabled = _get_bool(raw, "enabled", True, where, problems)
    way_out = raw.get("way_out")
    if way_out is not None and way_out not in WAY_OUTS:
        problems.add(f"{where}.way_out", f"must be one of {', '.join(WAY_OUTS)}, not {json.dumps(way_out)}")
        way_out = None
    if name is None or backend is None or params is None:
        return None
    return Profile(name=name, backend=backend, params=dict(params), enabled=enabled, way_out=way_out)


def _parse_target(raw: object, where: str, problems: _Problems) -> ProbeTarget | None:
    if isinstance(raw, str):
        raw = {"url": raw}
    if not isinstance(raw, dict):
        problems.add(where, f"must be an object or a URL, not {_type_name(raw)}")
        return None
    _expect_keys(raw, ("url", "role", "expect"), where, problems)
    url = raw.get("url")
    ok = True
    if not isinstance(url, str):
        problems.add(f"{where}.url", "must be a URL string")
        ok = False
    else:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            problems.add(f"{where}.url", f'"{url}" is not an http:// or https:// URL with a host')
            ok = False
    role = raw.get("role", "canary")
    if role not in ROLES:
        problems.add(f"{where}.role", f"must be one of {', '.join(ROLES)}, not {json.dumps(role)}")
        ok = False
    expect_raw = raw.get("expect", list(DEFAULT_EXPECT))
    expect: tuple[int, ...] = DEFAULT_EXPECT
    if not isinstance(expect_raw, list) or not expect_raw:
        problems.add(f"{where}.expect", "must be a non-empty list of HTTP status codes")
        ok = False
    else:
        good = [c for c in expect_raw if isinstance(c, int) and not isinstance(c, bool) and 100 <= c <= 599]
        if len(good) != len(expect_raw):
            problems.add(f"{where}.expect", "every entry must be an HTTP status code between 100 and 599")
            ok = False
        expect = tuple(good)
    if not ok:
        return None
    assert isinstance(url, str)
    return ProbeTarget(url=url, role=role, expect=expect)


def _parse_numbers(raw: object, where: str, cls: type[Timings], problems: _Problems) -> Timings:
    if raw is None:
        return cls()
    if not isinstance(raw, dict):
        problems.add(where, f"must be an object, not {_type_name(raw)}")
        return cls()
    names = [f.name for f in fields(cls)]
    _expect_keys(raw, names, where, problems)
    values: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in raw:
            continue
        value = raw[f.name]
        is_int = f.type in ("int", int)
        lo, hi = TIMING_RANGES[f.name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (is_int and not isinstance(value, int)):
            kind = "a whole number" if is_int else "a number"
            problems.add(f"{where}.{f.name}", f"must be {kind}, not {_type_name(value)}")
        elif not lo <= value <= hi or value != value:
            problems.add(f"{where}.{f.name}", f"must be between {lo:g} and {hi:g}, not {value:g}")
        else:
            values[f.name] = int(value) if is_int else float(value)
    timings = cls(**values)
    for low, high in TIMING_ORDER:
        if getattr(timings, low) > getattr(timings, high):
            problems.add(f"{where}.{low}", f"must not be larger than {high}")
    return timings


def _parse_behaviour(raw: object, problems: _Problems) -> Behaviour:
    if raw is None:
        return Behaviour()
    if not isinstance(raw, dict):
        problems.add("behaviour", f"must be an object, not {_type_name(raw)}")
        return Behaviour()
    _expect_keys(raw, [f.name for f in fields(Behaviour)], "behaviour", problems)
    preference = raw.get("preference", "speed")
    if preference not in PREFERENCES:
        problems.add("behaviour.preference", f"must be one of {', '.join(PREFERENCES)}, not {json.dumps(preference)}")
        preference = "speed"
    return Behaviour(
        auto_switch=_get_bool(raw, "auto_switch", True, "behaviour", problems),
        failback=_get_bool(raw, "failback", True, "behaviour", problems),
        per_network_memory=_get_bool(raw, "per_network_memory", True, "behaviour", problems),
        preference=preference,
        tunnel_resolvers=_get_resolvers(raw, problems),
    )


def _get_resolvers(raw: Mapping[str, Any], problems: _Problems) -> tuple[str, ...]:
    default = Behaviour.tunnel_resolvers
    value = raw.get("tunnel_resolvers", list(default))
    where = "behaviour.tunnel_resolvers"
    if not isinstance(value, list) or not value:
        problems.add(where, f"must be a non-empty list of IP addresses, e.g. {json.dumps(list(default))}")
        return default
    bad = [v for v in value if not isinstance(v, str) or not _is_ip(v)]
    if bad:
        problems.add(where, f"must hold IP addresses only (not {json.dumps(bad[0])}), e.g. {json.dumps(list(default))}")
        return default
    return tuple(value)


def _is_ip(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _parse_desktop(raw: object, problems: _Problems) -> Desktop:
    if raw is None:
        return Desktop()
    if not isinstance(raw, dict):
        problems.add("desktop", f"must be an object, not {_type_name(raw)}")
        return Desktop()
    _expect_keys(raw, [f.name for f in fields(Desktop)], "desktop", problems)
    language = raw.get("language", "system")
    if not isinstance(language, str) or not language:
        problems.add("desktop.language", "must be a language code such as \"en\" or \"ur\", or \"system\"")
        language = "system"
    return Desktop(notifications=_get_bool(raw, "notifications", True, "desktop", problems), language=language)


def config_from_dict(data: object, catalog: BackendCatalog | None = None, *, path: str = "") -> Config:
    """Build a Config, or raise ConfigError listing every problem with the field it is in."""
    problems = _Problems()
    if not isinstance(data, dict):
        raise ConfigError([f"the file must hold a JSON object, not {_type_name(data)}"], path=path)
    _expect_keys(data, ("version", "profiles", "targets", "timings", "behaviour", "desktop"), "", problems)
    version = data.get("version", CONFIG_VERSION)
    if isinstance(version, bool) or not isinstance(version, int):
        problems.add("version", f"must be a whole number, not {_type_name(version)}")
    elif version > CONFIG_VERSION:
        problems.add("version", f"{version} was written by a newer vpnswitch; this one reads version {CONFIG_VERSION}")
    elif version < 1:
        problems.add("version", f"must be at least 1, not {version}")

    profiles: list[Profile] = []
    raw_profiles = data.get("profiles", [])
    if not isinstance(raw_profiles, list):
        problems.add("profiles", f"must be a list, not {_type_name(raw_profiles)}")
        raw_profiles = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_profiles):
        profile = _parse_profile(raw, f"profiles[{index}]", catalog, problems)
        if profile is None:
            continue
        if profile.name in seen:
            first = seen[profile.name]
            problems.add(f"profiles[{index}].name", f'"{profile.name}" is already used by profiles[{first}]')
            continue
        seen[profile.name] = index
        profiles.append(profile)

    targets: list[ProbeTarget] = []
    raw_targets = data.get("targets", [t.__dict__ | {"expect": list(t.expect)} for t in default_targets()])
    if not isinstance(raw_targets, list):
        problems.add("targets", f"must be a list, not {_type_name(raw_targets)}")
        raw_targets = []
    for index, raw in enumerate(raw_targets):
        target = _parse_target(raw, f"targets[{index}]", problems)
        if target is not None:
            targets.append(target)
    if isinstance(data.get("targets"), list) and not data["targets"]:
        problems.add("targets", "needs at least one probe target (two or more from different sites is better)")

    timings = _parse_numbers(data.get("timings"), "timings", Timings, problems)
    behaviour = _parse_behaviour(data.get("behaviour"), problems)
    desktop = _parse_desktop(data.get("desktop"), problems)
    if problems.items:
        raise ConfigError(problems.items, path=path)
    return Config(tuple(profiles), tuple(targets), timings, behaviour, desktop, CONFIG_VERSION)


def config_to_dict(config: Config) -> dict[str, Any]:
    return {
        "version": CONFIG_VERSION,
        "profiles": [
            {"name": p.name, "backend": p.backend, "enabled": p.enabled, "params": dict(p.params),
             **({"way_out": p.way_out} if p.way_out else {})}
            for p in config.profiles
        ],
        "targets": [{"url": t.url, "role": t.role, "expect": list(t.expect)} for t in config.targets],
        "timings": asdict(config.timings),
        "behaviour": {**asdict(config.behaviour), "tunnel_resolvers": list(config.behaviour.tunnel_resolvers)},
        "desktop": asdict(config.desktop),
    }


# ------------------------------------------------------------------------------------------------ files


def parse_config_text(text: bytes, catalog: BackendCatalog | None = None, *, path: str = "") -> Config:
    """Parse file bytes; ConfigUnreadable when they are not JSON at all, ConfigError when fields are wrong."""
    what = path or "the configuration"
    fix = "Fix or remove the file; vpnswitch will not overwrite it until you save new settings."
    try:
        data = json.loads(text.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigUnreadable(f"{what} is not UTF-8 text (byte {exc.start})", hint=fix) from None
    except json.JSONDecodeError as exc:
        raise ConfigUnreadable(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                               hint=fix) from None
    except RecursionError:
        raise ConfigUnreadable(f"{what} is nested too deeply to be a vpnswitch configuration", hint=fix) from None
    except ValueError as exc:  # e.g. a number with more digits than Python converts
        raise ConfigUnreadable(f"{what} is not a usable JSON document: {exc}", hint=fix) from None
    where = _lone_surrogate(data, "")
    if where is not None:
        raise ConfigUnreadable(f"{what}: {where or 'the document'} holds a lone UTF-16 surrogate (\\ud800-\\udfff), "
                               "which is not text", hint=fix)
    return config_from_dict(data, catalog, path=path)


def _lone_surrogate(value: object, where: str) -> str | None:
    """Where a string holds an unpaired surrogate (JSON allows the escape; no file can store the result)."""
    stack: list[tuple[object, str]] = [(value, where)]
    while stack:  # iterative: the document may be deep, and a recursion limit must not be the judge here
        item, at = stack.pop()
        if isinstance(item, str):
            if any("\ud800" <= ch <= "\udfff" for ch in item):
                return at
        elif isinstance(item, dict):
            for key, child in item.items():
                if any("\ud800" <= ch <= "\udfff" for ch in key):
                    return f"{at}.{key!r}" if at else repr(key)
                stack.append((child, f"{at}.{key}" if at else key))
        elif isinstance(item, list):
            stack.extend((child, f"{at}[{i}]") for i, child in enumerate(item))
    return None


def load_config(path: Path, catalog: BackendCatalog | None = None) -> Config | None:
    """The config at ``path``, or None when there is none yet. Never modifies the file."""
    try:
        text = read_regular_file(path, MAX_CONFIG_BYTES)
    except FileNotFoundError:
        return None
    except NotARegularFile:
        raise ConfigUnreadable(f"{path} is not a regular file",
                               hint="Point vpnswitch at a JSON file (vpnswitch config path shows where).") from None
    except FileTooLarge:
        raise ConfigUnreadable(f"{path} is larger than {MAX_CONFIG_BYTES // 1024} KiB: not a vpnswitch configuration",
                               hint="Fix or remove the file; vpnswitch will not overwrite it.") from None
    except OSError as exc:
        raise ConfigUnreadable(f"cannot read {path}: {exc.strerror}", hint="Check the file's permissions.") from None
    return parse_config_text(text, catalog, path=str(path))


def keep_aside(path: Path, clock: Callable[[], float] = time.time) -> Path:
    """Copy an unreadable config next to itself, so saving new settings never destroys the user's text."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(clock()))
    target = path.with_name(f"{path.name}.broken-{stamp}")
    counter = 1
    while target.exists():
        target = path.with_name(f"{path.name}.broken-{stamp}-{counter}")
        counter += 1
    shutil.copy2(path, target)
    os.chmod(target, 0o600)
    return target


def save_config(path: Path, config: Config, catalog: BackendCatalog | None = None) -> Path | None:
    """Save atomically. If the file there cannot be loaded, its bytes are kept aside first; that path is returned."""
    aside: Path | None = None
    if path.exists():
        try:
            load_config(path, catalog)
        except (ConfigError, ConfigUnreadable):
            aside = keep_aside(path)
    text = json.dumps(config_to_dict(config), indent=2, ensure_ascii=False) + "\n"
    atomic_write(path, text.encode("utf-8"), 0o600)
    return aside


def with_profiles(config: Config, profiles: Iterable[Profile]) -> Config:
    return replace(config, profiles=tuple(profiles))
