"""Lantern's headless client as a proxy profile."""
