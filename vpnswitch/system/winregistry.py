"""Values under HKEY_CURRENT_USER: the one place that calls ``winreg`` (autostart, Internet Settings).

``winreg`` exists only on Windows and is imported on first use, so this module loads everywhere; on other
systems every call raises ``NotOnWindows`` (an ``OSError``), which callers already treat as "cannot read".
"""

from __future__ import annotations

import sys
from typing import Any

REG_SZ = 1
REG_DWORD = 4


class NotOnWindows(OSError):
    def __init__(self) -> None:
        super().__init__("the Windows registry exists only on Windows")


def read_value(key: str, name: str) -> tuple[Any, int] | None:
    """``(value, kind)`` of ``HKCU\\key\\name``; None when the key or the value does not exist."""
    if sys.platform != "win32":
        raise NotOnWindows()
    import winreg

    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key, 0, winreg.KEY_READ) as handle:
            value, kind = winreg.QueryValueEx(handle, name)
    except FileNotFoundError:
        return None
    return value, int(kind)


def write_value(key: str, name: str, value: Any, kind: int) -> None:
    """Create or replace ``HKCU\\key\\name`` (the key is created when missing)."""
    if sys.platform != "win32":
        raise NotOnWindows()
    import winreg

    with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, key, 0, winreg.KEY_SET_VALUE) as handle:
        winreg.SetValueEx(handle, name, 0, kind, value)


def delete_value(key: str, name: str) -> None:
    """Remove ``HKCU\\key\\name``; nothing to do when it is already gone."""
    if sys.platform != "win32":
        raise NotOnWindows()
    import winreg

    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key, 0, winreg.KEY_SET_VALUE) as handle:
            winreg.DeleteValue(handle, name)
    except FileNotFoundError:
        pass
