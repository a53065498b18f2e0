"""Imports go one way: core ← system ← backends ← service ← ui, and the desktop app reaches the layers below only
through its facade (``vpnswitch/ui/facade.py``).

Every import counts, also those inside functions and under ``TYPE_CHECKING``: a lazy import is still a
dependency. The test reads the sources, so it needs none of the optional packages the layers use.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import vpnswitch

ROOT = Path(vpnswitch.__file__).parent
LAYERS = ("core", "system", "backends", "service", "ui", "cli")
# What each layer must never import (the layers above it).
FORBIDDEN = {
    "core": {"system", "backends", "service", "ui", "cli"},
    "system": {"backends", "service", "ui", "cli"},
    "backends": {"service", "ui", "cli"},
    "service": {"ui", "cli"},
}
UI_FACADE = ROOT / "ui" / "facade.py"


def package_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import of this package in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.startswith("vpnswitch")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                package = path.relative_to(ROOT.parent).with_suffix("").parts[:-node.level]
                module = ".".join((*package, node.module)) if node.module else ".".join(package)
            else:
                module = node.module or ""
            if module.startswith("vpnswitch"):
                found.append((node.lineno, module))
    return found


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def modules(layer: str) -> list[Path]:
    base = ROOT / layer
    return sorted(base.rglob("*.py")) if base.is_dir() else [base.with_suffix(".py")]


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_no_layer_imports_a_layer_above_it(layer: str) -> None:
    offenders = [f"{path.relative_to(ROOT)}:{line} imports {module}"
                 for path in modules(layer) for line, module in package_imports(path)
                 if layer_of(module) in FORBIDDEN[layer]]
    assert offenders == []


def test_the_desktop_app_reaches_the_rest_only_through_its_facade() -> None:
    offenders = [f"{path.relative_to(ROOT)}:{line} imports {module}"
                 for path in modules("ui") if path != UI_FACADE
                 for line, module in package_imports(path)
                 if layer_of(module) not in ("ui", "core", None)]
    assert offenders == []


def test_the_checks_see_a_violation() -> None:
    """The reader finds what the rules forbid (else every test above would pass on nothing)."""
    facade = {module for _, module in package_imports(UI_FACADE)}
    assert any(layer_of(m) == "backends" for m in facade)
    assert layer_of("vpnswitch.service.runtime") == "service" and layer_of("vpnswitch") is None
