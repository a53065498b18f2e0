"""Windows: the per-user WinINet settings (HKCU ... Internet Settings), plus a refresh so apps notice.

WinINet's own SOCKS entry (``socks=host:port``) is SOCKS4 to Chromium-based browsers, which then resolve
names locally — a DNS leak, and useless under DNS poisoning. So the proxy is set as a PAC script that says
``SOCKS5``, served from a tiny loopback HTTP server (WinINet does not reliably accept file:// PAC URLs).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from vpnswitch.core.errors import BackendError
from vpnswitch.system.sysproxy.pac import PacServer

log = logging.getLogger(__name__)

KEY_PATH = r"Software\Microsoft\Windows\CurrentVersion\Internet Settings"
REG_SZ = 1
REG_DWORD = 4
VALUES = ("ProxyEnable", "ProxyServer", "ProxyOverride", "AutoConfigURL")
INTERNET_OPTION_REFRESH = 37
INTERNET_OPTION_SETTINGS_CHANGED = 39


class Registry(Protocol):
    def get(self, name: str) -> tuple[Any, int] | None: ...

    def set(self, name: str, value: Any, kind: int) -> None: ...

    def delete(self, name: str) -> None: ...


class WinRegistry:
    """HKEY_CURRENT_USER\\...\\Internet Settings through winreg."""

    def __init__(self, path: str = KEY_PATH) -> None:
        self._path = path

    def get(self, name: str) -> tuple[Any, int] | None:
        if sys.platform != "win32":
            raise OSError("the Windows registry exists only on Windows")
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, self._path) as key:
                value, kind = winreg.QueryValueEx(key, name)
                return value, int(kind)
        except FileNotFoundError:
            return None

    def set(self, name: str, value: Any, kind: int) -> None:
        if sys.platform != "win32":
            raise OSError("the Windows registry exists only on Windows")
        import winreg

        with winreg.CreateKey(winreg.HKEY_CURRENT_USER, self._path) as key:
            winreg.SetValueEx(key, name, 0, kind, value)

    def delete(self, name: str) -> None:
        if sys.platform != "win32":
            raise OSError("the Windows registry exists only on Windows")
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, self._path, 0, winreg.KEY_SET_VALUE) as key:
                winreg.DeleteValue(key, name)
        except FileNotFoundError:
            pass


def wininet_refresh() -> None:
    """Tell running programs the settings changed (INTERNET_OPTION_SETTINGS_CHANGED, then REFRESH)."""
    if sys.platform != "win32":
        return
    import ctypes

    wininet = ctypes.windll.wininet
    for option in (INTERNET_OPTION_SETTINGS_CHANGED, INTERNET_OPTION_REFRESH):
        if not wininet.InternetSetOptionW(None, option, None, 0):
            log.warning("InternetSetOption(%d) failed", option)


class WindowsInternetSettings:
    name = "windows"

    def __init__(self, registry: Registry | None = None, refresh: Callable[[], None] | None = None,
                 pac_server: Callable[[str, int], PacServer] = PacServer) -> None:
        self._registry = registry or WinRegistry()
        self._refresh = refresh or wininet_refresh
        self._pac_factory = pac_server
        self._pac: PacServer | None = None

    def read(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in VALUES:
            found = self._registry.get(name)
            values[name] = None if found is None else [found[0], found[1]]
        return values

    def apply(self, host: str, port: int) -> None:
        if self._pac is None or self._pac.socks != (host, port):
            self.close()
            self._pac = self._pac_factory(host, port)
        try:
            self._registry.set("AutoConfigURL", self._pac.url, REG_SZ)
            # A manual proxy left enabled would be used wherever the PAC script is not: switch it off.
            self._registry.set("ProxyEnable", 0, REG_DWORD)
        except OSError as exc:
            raise BackendError(f"cannot write the Internet Settings: {exc}") from exc
        self._refresh()

    def write(self, settings: Mapping[str, Any]) -> None:
        try:
            for name in VALUES:
                if name not in settings:
                    continue
                saved = settings[name]
                if saved is None:
                    self._registry.delete(name)
                else:
                    self._registry.set(name, saved[0], int(saved[1]))
        except OSError as exc:
            raise BackendError(f"cannot write the Internet Settings: {exc}") from exc
        self._refresh()

    def close(self) -> None:
        if self._pac is not None:
            self._pac.stop()
            self._pac = None
