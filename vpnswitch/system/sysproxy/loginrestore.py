"""A one-shot login item that puts the user's proxy back, armed only while vpnswitch's proxy is set.

If vpnswitch crashes (or the machine loses power) while Tor is the system proxy, every app stays pointed at a
proxy that no longer exists — and the user may never start vpnswitch again to recover it. So the moment the
proxy is changed, the OS is asked to run ``vpnswitch proxy restore`` at the next login; a normal restore
removes the item again. On Windows it is a ``RunOnce`` value, which the OS deletes as it runs it.
"""

from __future__ import annotations

from pathlib import Path

from vpnswitch import APP_ID
from vpnswitch.system.autostart import Autostart, LoginItem, for_platform

RESTORE_ITEM = LoginItem(
    ident=f"{APP_ID}-restore-proxy",
    launchd_label="io.github.vpnswitch.restore-proxy",
    title="vpnswitch: restore proxy",
    comment="Puts back your proxy setting if vpnswitch stopped while it was using Tor",
    args=("proxy", "restore"),
    one_shot=True,
)


def login_restore_item(config_home: Path | None = None, platform: str | None = None) -> Autostart:
    """The restore item for this OS; ``config_home`` relocates the XDG entry (tests, portable installs)."""
    return for_platform(platform, RESTORE_ITEM, config_home)
