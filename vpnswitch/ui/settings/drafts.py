"""The settings being edited, before they are saved; and the keyring work a save implies. Qt-free.

Secrets are keyed by profile name in the keyring, so renaming a profile moves its secrets and removing one
deletes them — planned here as plain operations, carried out by a worker.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from vpnswitch.core.config import Profile
from vpnswitch.core.errors import VpnSwitchError
from vpnswitch.core.secrets import SecretStore

SecretState = Literal["unknown", "stored", "missing", "unavailable"]


@dataclass
class ProfileDraft:
    name: str
    backend: str
    params: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True
    way_out: str | None = None  # None: follows from the backend
    original_name: str | None = None  # the saved name; None for a profile added in this session
    new_secrets: dict[str, str] = field(default_factory=dict)  # typed in, not yet in the keyring
    secret_state: dict[str, SecretState] = field(default_factory=dict)
    secret_error: str = ""

    @classmethod
    def from_profile(cls, profile: Profile) -> ProfileDraft:
        return cls(profile.name, profile.backend, dict(profile.params), profile.enabled, profile.way_out,
                   profile.name)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name.strip(), "backend": self.backend, "enabled": self.enabled,
                "params": dict(self.params), **({"way_out": self.way_out} if self.way_out else {})}


@dataclass(frozen=True)
class SecretOp:
    op: Literal["set", "move", "delete"]
    profile: str
    key: str
    value: str = ""  # for "set"
    to_profile: str = ""  # for "move"


def plan_secret_ops(drafts: Iterable[ProfileDraft], saved_names: Iterable[str],
                    secret_keys: Mapping[str, tuple[str, ...]]) -> list[SecretOp]:
    """Keyring operations that make the keyring match the drafts being saved.

    ``secret_keys`` maps a backend name to the parameter names it keeps in the keyring.
    """
    ops: list[SecretOp] = []
    kept: set[str] = set()
    for draft in drafts:
        name = draft.name.strip()
        keys = secret_keys.get(draft.backend, ())
        if draft.original_name:
            kept.add(draft.original_name)
            if draft.original_name != name:
                ops.extend(SecretOp("move", draft.original_name, key, to_profile=name) for key in keys
                           if key not in draft.new_secrets)
        for key, value in draft.new_secrets.items():
            if value:
                ops.append(SecretOp("set", name, key, value))
    all_keys = sorted({k for keys in secret_keys.values() for k in keys})
    for gone in saved_names:
        if gone not in kept:
            ops.extend(SecretOp("delete", gone, key) for key in all_keys)
    return ops


def apply_secret_ops(store: SecretStore, ops: Iterable[SecretOp]) -> list[str]:
    """Blocking (keyring). Returns the problems, one line each; the rest is done even if one fails."""
    problems: list[str] = []
    for op in ops:
        try:
            if op.op == "set":
                store.set(op.profile, op.key, op.value)
            elif op.op == "move":
                value = store.get(op.profile, op.key)
                if value is not None:
                    store.set(op.to_profile, op.key, value)
                    store.delete(op.profile, op.key)
            else:
                store.delete(op.profile, op.key)
        except VpnSwitchError as exc:
            line = exc.explain().replace("\n", " ")
            if line not in problems:
                problems.append(line)
    return problems


def secret_states(store: SecretStore, profile: str, keys: Iterable[str]) -> tuple[dict[str, SecretState], str]:
    """Blocking (keyring): whether each secret is stored, never its value; plus the keyring's problem, if any."""
    states: dict[str, SecretState] = {}
    for key in keys:
        try:
            states[key] = "stored" if store.get(profile, key) is not None else "missing"
        except VpnSwitchError as exc:
            return {k: "unavailable" for k in keys}, exc.explain()
    return states, ""
