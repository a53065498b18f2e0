"""vpnswitch: keeps you online through whichever installed VPN or Tor still works."""

__version__ = "0.1.0"
APP_ID = "vpnswitch"
