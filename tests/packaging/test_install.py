"""``pip install .`` (not editable) of a clean copy of the sources into a fresh virtual environment, as pipx does:
the wheel built by the project's build backend carries the icons and the compiled Urdu translation, and the
installed ``vpnswitch`` shows its tray icon and speaks Urdu on Xvfb, run from outside any checkout.

The dependencies (PySide6 and the rest, several hundred MB) are not installed again: the new environment sees
those of the running one through a path file, which Python does not read packages' own path files from, so
the checkout installed in editable mode there stays invisible (checked).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.packaging.desktop_check import assert_tray_and_urdu, run_in_urdu

ROOT = Path(__file__).resolve().parents[2]
IGNORED = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "test-artifacts",
                                 "bench-results", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis",
                                 "*.qm", "*.ico")

pytestmark = [pytest.mark.slow, pytest.mark.gui]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with vpnswitch installed from a copy of the sources (no .qm in it: the build makes them)."""
    root = tmp_path_factory.mktemp("install")
    source = root / "source"
    shutil.copytree(ROOT, source, ignore=IGNORED)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True, timeout=60).stdout.strip())
    (site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                             "--no-build-isolation", "--no-index", str(source)], capture_output=True, text=True,
                            timeout=300, cwd=root, env=env)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return venv


def test_the_package_carries_icons_and_compiled_translations(installed: Path) -> None:
    python = installed / "bin" / "python"
    code = ("import vpnswitch, pathlib; from vpnswitch.ui.resources import resources_dir; "
            "print(vpnswitch.__file__); print(resources_dir())")
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True, timeout=60,
                         cwd=installed, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    package_file, resources = (Path(line) for line in out.stdout.splitlines())
    assert package_file.is_relative_to(installed), f"imported {package_file}, not the installed copy"
    assert resources == package_file.parent / "resources"
    assert sorted(p.name for p in (resources / "icons").glob("*.svg")) == sorted(
        p.name for p in (ROOT / "resources" / "icons").glob("*.svg"))
    assert (resources / "i18n" / "vpnswitch_ur.qm").stat().st_size > 1000


def test_the_installed_command_shows_its_tray_icon_and_speaks_urdu(installed: Path, tmp_path: Path) -> None:
    seen = run_in_urdu([str(installed / "bin" / "vpnswitch")], tmp_path, "pip-install-ur")
    assert_tray_and_urdu(seen)
