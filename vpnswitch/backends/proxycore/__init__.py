"""Cores of the V2Ray family (sing-box, Xray, V2Ray) run by vpnswitch with the user's own config file."""
