"""The vendor specs that apply on each platform, for detection and the conflict check (cheap: they are data)."""

from __future__ import annotations

from vpnswitch.backends.vendors import (
    expressvpn,
    ivpn,
    mullvad,
    nordvpn,
    openvpn3,
    pia,
    tailscale,
    warp,
    windscribe,
)
from vpnswitch.backends.vendors.spec import VendorSpec
from vpnswitch.system.oslayout import Platform


def specs(platform: Platform) -> list[VendorSpec]:
    """The specs that apply on ``platform`` (some vendors have a different CLI per OS or generation)."""
    result = [
        mullvad.SPEC,
        nordvpn.WINDOWS_SPEC if platform == "windows" else nordvpn.SPEC,
        expressvpn.CTL_SPEC,
        windscribe.SPEC,
        pia.SPEC,
        ivpn.SPEC,
        warp.SPEC,
        tailscale.SPEC,
        openvpn3.SPEC,
    ]
    if platform == "linux":
        result.insert(3, expressvpn.LEGACY_SPEC)
    return result
