"""The files a desktop reads: the .desktop entry, AppStream metadata and the icons, checked by the real tools."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QIcon

from tests.conftest import in_ci
from vpnswitch.ui.resources import DESKTOP_ID, icons_dir
from vpnswitch.ui.status import ICON_STATES

LINUX = Path(__file__).resolve().parents[2] / "packaging" / "linux"


def tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        message = f"{name} is not installed (Debian: {package})"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


def test_desktop_entry_is_valid_and_named_after_the_app_id() -> None:
    entry = LINUX / f"{DESKTOP_ID}.desktop"
    result = subprocess.run([tool("desktop-file-validate", "desktop-file-utils"), str(entry)], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stdout.lower()


def test_appstream_metadata_is_valid_and_launches_the_entry() -> None:
    metainfo = LINUX / f"{DESKTOP_ID}.metainfo.xml"
    result = subprocess.run([tool("appstreamcli", "appstream"), "validate", "--no-net", str(metainfo)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    root = ET.parse(metainfo).getroot()
    assert root.findtext("id") == DESKTOP_ID
    assert root.findtext("launchable") == f"{DESKTOP_ID}.desktop"


@pytest.mark.parametrize("state", ICON_STATES)
def test_each_state_icon_renders_at_tray_sizes(qapp: object, state: str) -> None:
    icon = QIcon(str(icons_dir() / f"state-{state}.svg"))
    for size in (16, 22, 24):
        image = icon.pixmap(size, size).toImage()
        assert image.width() == size
        coloured = sum(1 for y in range(size) for x in range(size)
                       if QColor(image.pixel(x, y)).alpha() > 200 and QColor(image.pixel(x, y)).saturation() > 100)
        white = sum(1 for y in range(size) for x in range(size)
                    if QColor(image.pixel(x, y)).alpha() > 200 and QColor(image.pixel(x, y)).lightness() > 200)
        if state != "paused":  # grey has no saturation, on purpose
            assert coloured > size * size // 5, (state, size)
        assert white > size // 2, (state, size)  # the white sign is still there at 16 px
