"""Installed VPN apps, as the settings window shows them, whatever shape the detector reports them in.

Detection lives in ``vpnswitch.backends.detect`` (``detect() -> list[Detected]``). The settings page relies only
on a few fields, read leniently: ``display_name``, ``backend``, ``evidence`` (where it was found), ``profiles``
(the proposed profiles), ``warnings`` and ``conflicts`` (e.g. a kill switch that would block other profiles).
When the module is missing, nothing is detected. ``detect()`` may run programs: call it from a worker.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vpnswitch.core.config import Profile

log = logging.getLogger(__name__)

DETECT_MODULE = "vpnswitch.backends.detect"


@dataclass(frozen=True)
class Offer:
    """One profile the user can add with a click."""

    app: str  # what was found, for people ("Mullvad VPN")
    backend: str
    name: str  # suggested profile name
    params: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""  # where it was found
    enabled: bool = True  # the detector may propose a profile switched off until the user checks it
    warnings: tuple[str, ...] = ()  # things the user must know before relying on it

    def profile(self) -> Profile:
        return Profile(self.name, self.backend, dict(self.params), self.enabled)


def available() -> bool:
    try:
        return importlib.util.find_spec(DETECT_MODULE) is not None
    except ModuleNotFoundError:
        return False


def _text(obj: Any, *names: str) -> str:
    for name in names:
        value = obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)
        if callable(value):
            value = value()
        if isinstance(value, str) and value:
            return value
    return ""


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def _warnings(item: Any) -> tuple[str, ...]:
    out = [str(w) for w in (_get(item, "warnings") or ()) if w]
    for conflict in _get(item, "conflicts") or ():
        problem, fix = _text(conflict, "problem"), _text(conflict, "fix")
        if problem:
            out.append(f"{problem} {fix}".strip())
    return tuple(out)


def offers_from(item: Any) -> list[Offer]:
    """Offers for one detected app: its proposed profiles (none when it proposes none)."""
    app = _text(item, "display_name", "app", "name", "backend")
    note = _text(item, "evidence", "note", "detail")
    warnings = _warnings(item)
    suggested = _get(item, "profiles")
    if callable(suggested):
        suggested = suggested()
    if suggested is None:  # a record with just a backend and params: one profile
        backend = _text(item, "backend")
        params = _get(item, "params")
        if not backend:
            return []
        name = _text(item, "profile_name", "suggested_name") or app
        return [Offer(app, backend, name, dict(params) if isinstance(params, Mapping) else {}, note,
                      warnings=warnings)]
    offers: list[Offer] = []
    for s in suggested:
        backend = _text(s, "backend") or _text(item, "backend")
        params = _get(s, "params")
        enabled = _get(s, "enabled")
        if backend:
            offers.append(Offer(app, backend, _text(s, "name") or app,
                                dict(params) if isinstance(params, Mapping) else {}, note,
                                enabled if isinstance(enabled, bool) else True, warnings))
    return offers


def detect_offers() -> list[Offer]:
    """Blocking. Every profile the detector suggests; empty when there is no detector."""
    if not available():
        return []
    module = importlib.import_module(DETECT_MODULE)
    offers: list[Offer] = []
    for item in module.detect():
        try:
            offers.extend(offers_from(item))
        except Exception:
            log.exception("cannot read a detected app record")
    return offers
