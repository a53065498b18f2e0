"""Declared backend parameters: one description per field drives validation and the settings form.

A backend lists its fields once (``Backend.params_spec``): what kind of value, a label and help in words, the
choices, whether it is a file to pick or a secret for the keyring. ``validate`` checks a profile's params
against that list with a message per field, and the settings window builds its form from the same list, so
a new backend gets both for free and the two can never disagree.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

ParamKind = Literal["text", "file", "int", "bool", "choice", "argv", "lines", "secret"]
Problems = list[tuple[str, str]]
MAX_TEXT = 500


@dataclass(frozen=True)
class Param:
    """One field of a backend's parameters.

    ``secret`` fields never appear in the config file: the form saves them to the keyring under the
    profile's name and the backend reads them there.
    """

    key: str
    kind: ParamKind
    label: str
    help: str = ""
    required: bool = False
    example: str = ""
    choices: tuple[tuple[str, str], ...] = ()  # (value, label shown)
    minimum: int | None = None
    maximum: int | None = None
    file_filter: str = ""  # e.g. "WireGuard files (*.conf)"
    advanced: bool = False  # shown under "Advanced" in the form
    # A check beyond the kind (e.g. an address format): returns a problem in words, or None.
    check: Callable[[Any], str | None] | None = None

    @property
    def secret(self) -> bool:
        return self.kind == "secret"


def secret_keys(spec: Sequence[Param]) -> tuple[str, ...]:
    return tuple(p.key for p in spec if p.secret)


def field_keys(spec: Sequence[Param]) -> tuple[str, ...]:
    """The keys a profile's params may hold (secrets live in the keyring, never there), in declared order."""
    return tuple(p.key for p in spec if not p.secret)


def validate(spec: Sequence[Param], params: Mapping[str, Any]) -> Problems:
    """Every problem with ``params`` as (key, problem in words); empty when they are fine."""
    fields = {p.key: p for p in spec if not p.secret}
    problems: Problems = []
    for key in params:
        if key not in fields:
            if key in {p.key for p in spec if p.secret}:
                problems.append((key, "is a secret: it belongs in the keyring, not in the configuration file"))
                continue
            close = difflib.get_close_matches(key, list(fields), n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else f" (known: {', '.join(fields) or 'none'})"
            problems.append((key, f"unknown parameter{hint}"))
    for param in fields.values():
        if param.key not in params or params[param.key] is None:
            if param.required:
                example = f", e.g. {param.example}" if param.example else ""
                problems.append((param.key, f"is required: {param.label.lower()}{example}"))
            continue
        problem = _check_kind(param, params[param.key])
        if problem is None and param.check is not None:
            problem = param.check(params[param.key])
        if problem is not None:
            problems.append((param.key, problem))
    return problems


def _check_kind(param: Param, value: Any) -> str | None:
    example = f" such as {param.example}" if param.example else ""
    match param.kind:
        case "text" | "file":
            if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT or "\n" in value:
                return f"must be one line of text{example}"
        case "int":
            if isinstance(value, bool) or not isinstance(value, int):
                return f"must be a whole number{example}"
            if param.minimum is not None and value < param.minimum:
                return f"must be at least {param.minimum}"
            if param.maximum is not None and value > param.maximum:
                return f"must be at most {param.maximum}"
        case "bool":
            if not isinstance(value, bool):
                return "must be true or false"
        case "choice":
            allowed = [c for c, _ in param.choices]
            if value not in allowed:
                return f"must be one of {', '.join(allowed)}"
        case "argv":
            if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
                return f"must be a command as a non-empty list of strings{example}"
        case "lines":
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() and "\n" not in v
                                                      for v in value):
                return f"must be a list of one-line texts{example}"
    return None
