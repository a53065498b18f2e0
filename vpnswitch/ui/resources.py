"""Where icons and translations are, in a source checkout, an installed tree or a frozen app."""

from __future__ import annotations

import os
import sys
from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon

from vpnswitch.ui.status import IconState

# Reverse-DNS id: names the .desktop file and the AppStream metadata, and lets the desktop match our windows.
DESKTOP_ID = "io.github.vpnswitch.VpnSwitch"


@cache
def resources_dir() -> Path:
    """Where the icons and translations are, the first that exists of: ``VPNSWITCH_RESOURCES``; the package's own
    ``vpnswitch/resources`` (an installed wheel, pipx, or the PyInstaller bundle, which keeps that layout); the
    ``resources/`` folder of a source checkout (an editable install)."""
    package = Path(__file__).resolve().parents[1]
    candidates = []
    if os.environ.get("VPNSWITCH_RESOURCES"):
        candidates.append(Path(os.environ["VPNSWITCH_RESOURCES"]))
    candidates.append(package / "resources")
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.append(Path(bundle) / "vpnswitch" / "resources")
    candidates.append(package.parent / "resources")
    for candidate in candidates:
        if (candidate / "icons").is_dir():
            return candidate
    return candidates[-1]


def icons_dir() -> Path:
    return resources_dir() / "icons"


def i18n_dir() -> Path:
    return resources_dir() / "i18n"


def state_icon_path(state: IconState) -> Path:
    return icons_dir() / f"state-{state}.svg"


_icons: dict[str, QIcon] = {}


def state_icon(state: IconState) -> QIcon:
    """Cached: the tray asks for an icon on every snapshot."""
    icon = _icons.get(state)
    if icon is None:
        icon = QIcon(str(state_icon_path(state)))
        _icons[state] = icon
    return icon


def app_icon() -> QIcon:
    icon = _icons.get("app")
    if icon is None:
        icon = QIcon(str(icons_dir() / "vpnswitch.svg"))
        _icons["app"] = icon
    return icon
