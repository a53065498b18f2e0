"""The PyInstaller one-folder app, built from packaging/pyinstaller/vpnswitch.spec and started on Xvfb with a tray
host: the lazily imported desktop app and every backend are inside, the icons and the compiled Urdu translation
travel with it, and started in Urdu it shows its tray icon and an Urdu settings window."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import in_ci
from tests.packaging.desktop_check import assert_tray_and_urdu, run_in_urdu
from vpnswitch.backends import registry

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "packaging" / "pyinstaller" / "vpnswitch.spec"
BUILD_TIMEOUT = 300

pytestmark = [pytest.mark.slow, pytest.mark.gui]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the app folder, PyInstaller's work folder), built once for this module."""
    pyinstaller = shutil.which("pyinstaller", path=str(Path(sys.executable).parent))
    if pyinstaller is None:
        message = "PyInstaller is not installed (pip install -e '.[dev]')"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    root = tmp_path_factory.mktemp("pyinstaller")
    result = subprocess.run([pyinstaller, "--noconfirm", "--log-level", "WARN", "--distpath", str(root / "dist"),
                             "--workpath", str(root / "work"), str(SPEC)], capture_output=True, text=True,
                            timeout=BUILD_TIMEOUT, cwd=root)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return root / "dist" / "vpnswitch", root / "work" / "vpnswitch"


def bundled_modules(work: Path) -> set[str]:
    """Module names in the app's PYZ archive, from PyInstaller's own table of contents."""
    toc = ast.literal_eval((work / "PYZ-00.toc").read_text())
    entries = toc[-1] if isinstance(toc, tuple) else toc
    return {entry[0] for entry in entries}


def test_the_lazily_imported_app_and_every_backend_are_bundled(bundle: tuple[Path, Path]) -> None:
    modules = bundled_modules(bundle[1])
    for name in ("vpnswitch.ui.app", "vpnswitch.ui.tray", "vpnswitch.ui.settings.window",
                 "vpnswitch.ui.history_window", "vpnswitch.service.wiring", "vpnswitch.backends.detect"):
        assert name in modules, name
    for backend in registry.CATALOG.names():
        assert registry.backend_class(backend).__module__ in modules, backend


def test_icons_and_the_compiled_translation_are_bundled(bundle: tuple[Path, Path]) -> None:
    resources = bundle[0] / "_internal" / "vpnswitch" / "resources"
    assert sorted(p.name for p in (resources / "icons").glob("*.svg")) == sorted(
        p.name for p in (ROOT / "resources" / "icons").glob("*.svg"))
    qm = resources / "i18n" / "vpnswitch_ur.qm"
    assert qm.stat().st_size > 1000


def test_the_bundle_answers_on_the_command_line(bundle: tuple[Path, Path]) -> None:
    from vpnswitch import __version__

    result = subprocess.run([str(bundle[0] / "vpnswitch"), "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert __version__ in result.stdout + result.stderr


def test_the_bundle_without_a_display_says_so(bundle: tuple[Path, Path], tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["VPNSWITCH_HOME"] = str(tmp_path)
    result = subprocess.run([str(bundle[0] / "vpnswitch")], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 1, result.stderr
    assert "no graphical display" in result.stderr


def test_the_bundle_shows_its_tray_icon_and_speaks_urdu(bundle: tuple[Path, Path], tmp_path: Path) -> None:
    seen = run_in_urdu([str(bundle[0] / "vpnswitch")], tmp_path, "pyinstaller-bundle-ur")
    assert_tray_and_urdu(seen)
