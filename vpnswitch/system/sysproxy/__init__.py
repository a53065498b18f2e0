"""The desktop's system proxy: point it at a local SOCKS5 proxy (Tor) and put the user's own setting back.

The user's previous setting is written to the state dir *before* anything is changed, so it is restored
when switching away, on quit, and — after a crash — at the next start (``SystemProxy.recover``). A setting
the user changed by hand while ours was active is left alone rather than overwritten.
"""

from vpnswitch.system.sysproxy.manager import ProxyDesktop, SystemProxy, detect_desktops

__all__ = ["ProxyDesktop", "SystemProxy", "detect_desktops"]
