"""The interface every backend implements, and what a backend gets from the runtime.

A backend instance drives one profile. ``connect``/``disconnect``/``status``/``precheck`` may block (they
run on worker threads with a timeout); ``liveness`` must be cheap and non-blocking (it runs every half
second on the runtime thread: check a process handle, an in-memory state, an interface — no subprocess).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

from vpnswitch.core.clock import Clock, SystemClock
from vpnswitch.core.config import Profile
from vpnswitch.core.model import Route, RouteKind, Transport
from vpnswitch.core.params import Param
from vpnswitch.core.secrets import SecretStore
from vpnswitch.system.runner import Runner
from vpnswitch.system.sysproxy import SystemProxy

StatusState = Literal["connected", "connecting", "disconnected", "error", "unknown"]
# What a user may declare for software vpnswitch cannot look into (the ``transport`` parameter).
DECLARED_TRANSPORTS = ("udp", "tcp", "obfuscated", "unknown")


@dataclass(frozen=True)
class BackendStatus:
    state: StatusState
    detail: str = ""
    fatal: bool = False


@dataclass
class BackendContext:
    """Every system touchpoint a backend may use, injected so tests can replace each."""

    runner: Runner = field(default_factory=Runner)
    secrets: SecretStore = field(default_factory=SecretStore)
    clock: Clock = field(default_factory=SystemClock)
    work_dir: Path = field(default_factory=lambda: Path("."))
    # The desktop's proxy setting, for proxy backends (Tor) while active; None leaves it alone (tests).
    system_proxy: SystemProxy | None = None


class Backend(ABC):
    """Drives one profile of one kind of VPN software."""

    name: ClassVar[str]
    display_name: ClassVar[str]
    route_kind: RouteKind = "tunnel"
    # Whether the runtime should poll ``status`` (a subprocess) every few seconds as a liveness signal.
    polls_status: bool = False
    # Whether it hides the user from the sites they reach (Tor): the privacy preference ranks it first.
    anonymising: ClassVar[bool] = False
    # Parameter names that hold no value in the config but a secret in the keyring.
    secret_keys: ClassVar[tuple[str, ...]] = ()
    # Every field a profile of this backend takes, for the settings form (and, where it fits, validation).
    params_spec: ClassVar[tuple[Param, ...]] = ()

    def __init__(self, profile: Profile, context: BackendContext) -> None:
        self.profile = profile
        self.params: Mapping[str, Any] = profile.params
        self.context = context

    @classmethod
    @abstractmethod
    def validate_params(cls, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Problems with ``params`` as (key, problem) pairs; empty when they are fine."""

    @abstractmethod
    def connect(self, timeout: float) -> None:
        """Bring the profile up; return once it says it is connected. On failure, leave nothing running."""

    @abstractmethod
    def disconnect(self, timeout: float) -> None:
        """Take it down. Idempotent: disconnecting something that is down is fine."""

    @abstractmethod
    def status(self, timeout: float) -> BackendStatus:
        """The backend's own view of its state."""

    @abstractmethod
    def route(self) -> Route:
        """Where its traffic goes, for probes and the leak check."""

    def transport(self) -> Transport:
        """udp / tcp / obfuscated / proxy: lets the policy prefer a different kind after a DPI-style kill."""
        return "proxy" if self.route_kind == "proxy" else "unknown"

    def liveness(self) -> str | None:
        """A reason when the profile is certainly down (its process died…), else None. Must not block."""
        return None

    def precheck(self, timeout: float) -> bool | None:
        """Whether the profile looks usable without disturbing the active one; None when it cannot tell."""
        return None

    def close(self) -> None:
        """Release resources (threads, sockets) when the profile is removed or the app quits."""

    # Optional hooks. A hot standby (Tor) keeps itself ready in the background while another profile is
    # active, so that switching to it takes well under a second and its health is known before it is needed.

    def wants_standby(self) -> bool:
        """Whether the runtime should keep this profile warm with ``standby`` while it is not active."""
        return False

    def standby(self, timeout: float, refresh: bool = False) -> None:
        """Get ready without taking over traffic (blocks up to ``timeout``; runs on a worker). Idempotent.

        ``refresh``: the last check found nothing answering through it, so start its connections afresh
        instead of waiting for the old ones to time out (the network they used may have gone and come back).
        """

    def suspicion(self) -> str | None:
        """A fresh hint that traffic may be failing (each hint returned once), so the runtime probes at once.

        Must not block. Hints never fail a profile by themselves: the probes decide.
        """
        return None

    def endpoints(self) -> tuple[str, ...]:
        """The servers this profile connects to (IP literals or host names); () when unknown.

        While a switch is under way the leak guard lets only these (and the tunnels) through, so a tunnel
        profile whose servers are unknown is switched to without the guard. Must not block for long (reads a
        config file at most).
        """
        return ()


def param_list(params: Mapping[str, Any], key: str, problems: list[tuple[str, str]], *, required: bool) -> None:
    """Check that ``params[key]`` is a non-empty argv list of strings."""
    value = params.get(key)
    if value is None:
        if required:
            problems.append((key, "is required (a command as a list, e.g. [\"/usr/bin/myvpn\", \"up\"])"))
        return
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        problems.append((key, "must be a command as a non-empty list of strings, e.g. [\"myvpn\", \"up\"]"))


def unknown_params(params: Mapping[str, Any], allowed: tuple[str, ...]) -> list[tuple[str, str]]:
    import difflib

    problems = []
    for key in params:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else f" (known: {', '.join(allowed)})"
            problems.append((key, f"unknown parameter{hint}"))
    return problems


def proxy_endpoint(url: str) -> tuple[str, int] | None:
    """Host and port of a local proxy URL (socks5, socks5h or http); None when it is not one."""
    parts = urlsplit(url)
    if parts.scheme not in ("socks5", "socks5h", "http") or not parts.hostname or not parts.port:
        return None
    return parts.hostname, parts.port


def declared_transport(params: Mapping[str, Any]) -> Transport:
    """A profile with a ``proxy`` is a proxy; otherwise what its ``transport`` parameter says, else unknown."""
    if params.get("proxy"):
        return "proxy"
    value = params.get("transport", "unknown")
    return value if value in DECLARED_TRANSPORTS else "unknown"

