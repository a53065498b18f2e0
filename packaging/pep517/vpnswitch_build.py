"""The build backend: setuptools, plus the app's icons and compiled translations as package data.

``resources/`` stays where translators and designers find it; a wheel gets a copy under ``vpnswitch/resources``
with every ``.ts`` compiled to ``.qm`` by Qt's lrelease, which comes from PySide6 (asked for only when a wheel is
built, not for editable installs, which read ``resources/`` in the checkout). Build tooling, not part of the app.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path
from typing import Any

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403 - every other hook is setuptools' own
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parents[2]
LRELEASE_TIMEOUT = 120
# Only Qt Linguist is needed, and the essentials wheel has it: the app's own pyside6 pulls in far more.
LINGUIST_REQUIREMENT = "pyside6-essentials>=6.6"


def get_requires_for_build_wheel(config_settings: dict[str, Any] | None = None) -> list[str]:
    return [*_setuptools.get_requires_for_build_wheel(config_settings), LINGUIST_REQUIREMENT]


def lrelease() -> str:
    """Qt's lrelease shipped inside PySide6 (the ``pyside6-lrelease`` wrapper is not always on PATH)."""
    spec = importlib.util.find_spec("PySide6")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        for name in ("lrelease", "lrelease.exe", "Qt/bin/lrelease", "Qt/libexec/lrelease"):
            candidate = Path(folder) / name
            if candidate.is_file():
                return str(candidate)
    found = shutil.which("pyside6-lrelease") or shutil.which("lrelease")
    if found:
        return found
    raise RuntimeError(f"Qt's lrelease was not found: install {LINGUIST_REQUIREMENT} to build the translations")


def compile_translations(ts_dir: Path, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    tool = lrelease()
    for ts in sorted(ts_dir.glob("*.ts")):
        qm = out_dir / ts.with_suffix(".qm").name
        result = subprocess.run([tool, "-silent", str(ts), "-qm", str(qm)], capture_output=True, text=True,
                                timeout=LRELEASE_TIMEOUT, check=False)
        if result.returncode != 0 or not qm.is_file():
            raise RuntimeError(f"lrelease failed for {ts}:\n{result.stdout}{result.stderr}")
        written.append(qm)
    return written


def copy_resources(source: Path, target: Path) -> list[Path]:
    """Icons as they are, translations compiled; nothing else from ``resources/``."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source / "icons", target / "icons", ignore=shutil.ignore_patterns("*.ico", "*.png"))
    qms = compile_translations(source / "i18n", target / "i18n")
    if not qms:
        raise RuntimeError(f"no translations found in {source / 'i18n'}")
    return [*sorted((target / "icons").iterdir()), *qms]


class BuildPy(build_py):  # type: ignore[misc]
    """``build_py`` that also lays ``vpnswitch/resources`` into the build tree (not for editable installs)."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        copy_resources(Path.cwd() / "resources", Path(self.build_lib) / "vpnswitch" / "resources")
