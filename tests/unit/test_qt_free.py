"""The core, backends, system and service layers never import Qt (DESIGN §3)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import vpnswitch

ROOT = Path(vpnswitch.__file__).parent
QT_FREE = ("core", "backends", "system", "service")


def test_no_qt_import_in_the_qt_free_layers() -> None:
    offenders = []
    for layer in QT_FREE:
        for path in (ROOT / layer).rglob("*.py"):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                if any(n.split(".")[0] in ("PySide6", "PyQt5", "PyQt6", "shiboken6") for n in names):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_the_daemon_path_loads_without_qt() -> None:
    code = ("import sys, vpnswitch.cli, vpnswitch.service.wiring, vpnswitch.service.daemon;"
            "print(any(m.startswith('PySide6') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr
