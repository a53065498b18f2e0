"""Shadowsocks and Outline access keys: a local SOCKS proxy through an obfuscated server."""
