"""Windows: the per-user WinINet settings (HKCU ... Internet Settings), plus a refresh so apps notice.

WinINet's own SOCKS entry (``socks=host:port``) is SOCKS4 to Chromium-based browsers, which then resolve
names locally — a DNS leak, and useless under DNS poisoning. So the proxy is set as a PAC script that says
``SOCKS5``, served from a tiny loopback HTTP server (WinINet does not reliably accept file:// PAC URLs).
The same settings also tell where an app without a command line (Psiphon) has put its own local proxy.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from vpnswitch.core.errors import BackendError
from vpnswitch.system import winregistry
from vpnswitch.system.sysproxy.pac import PacServer

log = logging.getLogger(__name__)

KEY_PATH = r"Software\Microsoft\Windows\CurrentVersion\Internet Settings"
REG_SZ = winregistry.REG_SZ
REG_DWORD = winregistry.REG_DWORD
VALUES = ("ProxyEnable", "ProxyServer", "ProxyOverride", "AutoConfigURL")
INTERNET_OPTION_REFRESH = 37
INTERNET_OPTION_SETTINGS_CHANGED = 39


class Registry(Protocol):
    def get(self, name: str) -> tuple[Any, int] | None: ...

    def set(self, name: str, value: Any, kind: int) -> None: ...

    def delete(self, name: str) -> None: ...


class WinRegistry:
    """HKEY_CURRENT_USER\\...\\Internet Settings through the shared registry wrapper."""

    def __init__(self, path: str = KEY_PATH) -> None:
        self._path = path

    def get(self, name: str) -> tuple[Any, int] | None:
        return winregistry.read_value(self._path, name)

    def set(self, name: str, value: Any, kind: int) -> None:
        winregistry.write_value(self._path, name, value, kind)

    def delete(self, name: str) -> None:
        winregistry.delete_value(self._path, name)


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


# ------------------------------------------------------------------------ the proxy a VPN app has set

_WININET_SOCKS = re.compile(r"(?:^|;)\s*socks=([^;:\s]+):(\d+)", re.IGNORECASE)
_WININET_HTTP = re.compile(r"(?:^|;)\s*(?:https?=)?([^;=:\s]+):(\d+)\s*(?:;|$)", re.IGNORECASE)


def proxy_from_wininet(proxy_server: str) -> str | None:
    """``ProxyServer`` as apps like Psiphon set it (``http=127.0.0.1:P;https=…;socks=127.0.0.1:S``) → a URL
    for probes: SOCKS with remote DNS when offered, else HTTP. Only local proxies count."""
    socks = _WININET_SOCKS.search(proxy_server)
    if socks and _is_local(socks.group(1)):
        return f"socks5h://{socks.group(1)}:{socks.group(2)}"
    http = _WININET_HTTP.search(proxy_server)
    if http and _is_local(http.group(1)):
        return f"http://{http.group(1)}:{http.group(2)}"
    return None


def _is_local(host: str) -> bool:
    return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")


def wininet_proxy_url(registry: Registry | None = None) -> str | None:
    """The per-user WinINet proxy (what Psiphon sets) as a probe URL; None when off, not local or unreadable."""
    registry = registry or WinRegistry()
    try:
        enabled = registry.get("ProxyEnable")
        server = registry.get("ProxyServer")
    except OSError:
        return None
    if enabled is None or not enabled[0] or server is None:
        return None
    return proxy_from_wininet(str(server[0]))
