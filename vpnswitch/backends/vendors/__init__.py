"""Vendor VPN apps driven through their own command-line clients; one declarative spec per vendor."""
