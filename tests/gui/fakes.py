"""A runtime port the GUI tests drive by hand, and an in-memory keyring for widget tests.

The port saves for real (the atomic config writer, into a temp dir) and records what reached "the runtime";
snapshots can be pushed from any thread, as the real runtime does from its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tests.support.memkeyring import MemoryKeyring
from vpnswitch.backends import registry
from vpnswitch.core import config as config_io
from vpnswitch.core.config import Config, Profile
from vpnswitch.core.secrets import SecretStore
from vpnswitch.service.runtime import CheckReport
from vpnswitch.service.snapshot import EMPTY, ProfileStatus, Snapshot


@dataclass
class Saved:
    kept_aside: Path | None


class FakePort:
    def __init__(self, config: Config, config_file: Path, *, snapshot: Snapshot | None = None,
                 history: list[dict[str, Any]] | None = None, latency: list[dict[str, Any]] | None = None) -> None:
        self._config = config
        self.config_file = config_file
        self._snapshot = snapshot or snapshot_for(config)
        self.keyring = MemoryKeyring()
        self.secrets = SecretStore(self.keyring)
        self.calls: list[tuple[str, ...]] = []
        self.applied: list[Config] = []
        self._subscribers: list[Callable[[Snapshot], None]] = []
        self._notify: list[Callable[[str, str, str], None]] = []
        self.history_entries = history or []
        self.latency_entries = latency or []
        self.check_report: CheckReport | None = None
        self.save_delay = threading.Event()
        self.save_delay.set()

    @property
    def config(self) -> Config:
        return self._config

    def snapshot(self) -> Snapshot:
        return self._snapshot

    def subscribe(self, callback: Callable[[Snapshot], None]) -> None:
        self._subscribers.append(callback)

    def on_notify(self, callback: Callable[[str, str, str], None]) -> None:
        self._notify.append(callback)

    def push(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        for callback in list(self._subscribers):
            callback(snapshot)

    def notify(self, kind: str, title: str, message: str) -> None:
        for callback in list(self._notify):
            callback(kind, title, message)

    def switch(self, profile: str) -> None:
        if self._config.profile(profile) is None:
            raise KeyError(profile)
        self.calls.append(("switch", profile))

    def pause(self) -> None:
        self.calls.append(("pause",))

    def resume(self) -> None:
        self.calls.append(("resume",))

    def check(self) -> Future[CheckReport]:
        self.calls.append(("check",))
        future: Future[CheckReport] = Future()
        report = self.check_report or CheckReport(self._snapshot.active, self._snapshot.verdict)
        threading.Timer(0.05, lambda: future.set_result(report)).start()
        return future

    def save_config(self, config: Config) -> Saved:
        self.save_delay.wait(10)
        aside = config_io.save_config(self.config_file, config, registry.CATALOG)
        self._config = config
        self.applied.append(config)
        self.push(snapshot_for(config, base=self._snapshot))
        return Saved(aside)

    def history(self) -> list[dict[str, Any]]:
        return list(self.history_entries)

    def latency(self) -> list[dict[str, Any]]:
        return list(self.latency_entries)

    def stop(self) -> None:
        self.calls.append(("stop",))


def snapshot_for(config: Config, *, base: Snapshot | None = None, state: str = "idle", active: str | None = None,
                 verdict: str = "unknown", **overrides: Any) -> Snapshot:
    """A snapshot listing ``config``'s profiles, with ``active`` in the matching per-profile state."""
    base = base or EMPTY
    profile_state = {"connected": "active", "switching": "connecting", "connecting": "connecting",
                     "verifying": "verifying"}.get(state, "standby")
    profiles = tuple(
        ProfileStatus(p.name, p.backend, p.enabled,
                      "disabled" if not p.enabled else profile_state if p.name == active else "standby",
                      None, "", 42.0 if p.name == active and state == "connected" else None)
        for p in config.profiles)
    return replace(base, state=state, active=active, verdict=verdict, profiles=profiles, **overrides)


def command_profile(name: str, **params: Any) -> Profile:
    defaults: dict[str, Any] = {"connect": ["/usr/bin/myvpn", "up"], "disconnect": ["/usr/bin/myvpn", "down"],
                                "interface": "tun0"}
    return Profile(name, "command", {**defaults, **params})


class StrictBackend:
    """A stand-in backend (registered through VPNSWITCH_BACKENDS) with parameter rules, for the generic editor."""

    name = "strict"
    display_name = "Strict test VPN"
    secret_keys = ("token",)

    @classmethod
    def validate_params(cls, params: Any) -> list[tuple[str, str]]:
        problems = []
        server = params.get("server")
        if not isinstance(server, str) or not server:
            problems.append(("server", "is required"))
        for key in params:
            if key != "server":
                problems.append((key, "unknown parameter"))
        return problems


def _as_backend() -> type:
    """StrictBackend as a real Backend subclass (the registry checks the type)."""
    from vpnswitch.backends.base import Backend

    class Strict(StrictBackend, Backend):  # type: ignore[misc]
        def connect(self, timeout: float) -> None:
            raise NotImplementedError

        def disconnect(self, timeout: float) -> None:
            raise NotImplementedError

        def status(self, timeout: float) -> Any:
            raise NotImplementedError

        def route(self) -> Any:
            raise NotImplementedError

    return Strict


StrictVpn = _as_backend()


def sample_history(end: float, *, days: int = 2) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Plausible history and latency records ending at ``end`` (epoch seconds), oldest first."""
    import math

    from vpnswitch.core.history import iso

    def entry(t: float, kind: str, **data: Any) -> dict[str, Any]:
        return {"ts": iso(t), "t": round(t, 3), "kind": kind, **data}

    from datetime import date, datetime, timedelta
    from datetime import time as daytime

    history: list[dict[str, Any]] = []
    latency: list[dict[str, Any]] = []
    first_day = date.fromtimestamp(end) - timedelta(days=days - 1)
    # each day runs from 01:00 to 21:00 local time
    plan = [("wg-home", 0.0), ("ovpn-tcp", 0.35), ("wg-home", 0.55), ("tor-bridges", 0.8)]
    for day in range(days):
        base = datetime.combine(first_day + timedelta(days=day), daytime(1, 0)).timestamp()
        for index, (profile, at) in enumerate(plan):
            t = base + at * 20 * 3600
            previous = plan[index - 1][0] if index else None
            if previous is None:
                history.append(entry(t, "connected", profile=profile, trigger="start", took_s=2.1))
            else:
                reason = f"{previous} stopped carrying traffic (x.com unreachable 3 times)"
                history.append(entry(t - 6, "verdict", profile=previous, verdict="failing", reason=reason,
                                     detect_s=4.8))
                history.append(entry(t, "switch", **{"from": previous, "to": profile, "reason": reason,
                                                     "trigger": "failover", "detect_s": 4.8, "outage_s": 6.2}))
        history.append(entry(base + 0.2 * 20 * 3600, "user", action="pause"))
        history.append(entry(base + 0.21 * 20 * 3600, "user", action="resume"))
        history.append(entry(base + 0.7 * 20 * 3600, "offline", reason="no default route"))
        history.append(entry(base + 0.71 * 20 * 3600, "online", network="home-wifi", changed=False))
        for minute in range(0, 20 * 60, 12):
            t = base + minute * 60
            share = minute / (20 * 60)
            profile = [p for p, at in plan if at <= share][-1]
            typical = {"wg-home": 45.0, "ovpn-tcp": 110.0, "tor-bridges": 420.0}[profile]
            value = typical * (1 + 0.25 * math.sin(minute / 37.0)) + (day * 7)
            latency.append(entry(t, "latency", profile=profile, ok=3, total=3, latency_ms=round(value, 1)))
    history.sort(key=lambda e: e["t"])
    return history, latency


def cell(table: Any, row: int, column: int) -> Any:
    """A QTableWidget item that must exist (tests read and edit cells by position)."""
    item = table.item(row, column)
    assert item is not None, f"no item at {row},{column}"
    return item
