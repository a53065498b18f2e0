"""Shadowsocks access keys as people are given them: ``ss://`` (SIP002 and the older all-base64 form) and
Outline's dynamic ``ssconf://`` keys, whose real key is fetched over HTTPS.

Keys are shared by strangers in chat groups, so a key is data, never a command: the cipher must be one of
the AEAD ciphers (the old stream ciphers are broken and fingerprinted by DPI), a plugin must be one we
know, and its options may hold only plain characters (ss-local hands them to the plugin's environment).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from vpnswitch.core.errors import VpnSwitchError

AEAD_CIPHERS = ("chacha20-ietf-poly1305", "xchacha20-ietf-poly1305", "aes-128-gcm", "aes-192-gcm", "aes-256-gcm")
# Shadowsocks 2022: only shadowsocks-rust's sslocal speaks it.
CIPHERS_2022 = ("2022-blake3-aes-128-gcm", "2022-blake3-aes-256-gcm", "2022-blake3-chacha20-poly1305")
PLUGINS = ("obfs-local", "v2ray-plugin")
_PLUGIN_OPTS = re.compile(r"^[A-Za-z0-9=;._/:,-]{0,300}$")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")
MAX_KEY = 4096


class AccessKeyError(VpnSwitchError):
    """An access key that cannot be used; the message says what is wrong with it."""

    code = "access-key-invalid"


@dataclass(frozen=True)
class ServerKey:
    host: str
    port: int
    method: str
    password: str
    plugin: str = ""
    plugin_opts: str = ""
    tag: str = ""

    def describe(self) -> str:
        """For logs and the UI: never the password."""
        name = f"{self.tag} " if self.tag else ""
        return f"{name}{self.host}:{self.port} ({self.method}{', ' + self.plugin if self.plugin else ''})"


def _bad(message: str) -> AccessKeyError:
    return AccessKeyError(f"the access key {message}",
                     hint="Paste the whole key exactly as you were given it (it starts with ss:// or ssconf://).")


def _b64(text: str) -> str:
    padded = text + "=" * (-len(text) % 4)
    try:
        return base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_")).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _bad("is not valid base64 where the cipher and password should be") from None


def is_dynamic(key: str) -> bool:
    return key.strip().lower().startswith("ssconf://")


def dynamic_url(key: str) -> str:
    """The HTTPS address behind an ``ssconf://`` key (Outline's dynamic access keys)."""
    key = key.strip()
    if not is_dynamic(key) or len(key) > MAX_KEY:
        raise _bad("is not an ssconf:// key")
    return "https://" + key[len("ssconf://"):]


def parse_key(key: str) -> ServerKey:
    """One ``ss://`` key; raises AccessKeyError with a message in words."""
    key = key.strip()
    if len(key) > MAX_KEY or any(ord(c) < 0x20 or ord(c) == 0x7F for c in key):
        raise _bad("is too long or holds control characters")
    if not key.lower().startswith("ss://"):
        raise _bad("does not start with ss://")
    body, _, fragment = key[5:].partition("#")
    tag = unquote(fragment)[:64]
    if "@" not in body.split("?", 1)[0].split("/", 1)[0]:
        # The older form: everything before "#" is base64 of method:password@host:port.
        body = _b64(body.split("?", 1)[0].split("/", 1)[0]) + ("?" + body.split("?", 1)[1] if "?" in body else "")
    parts = urlsplit("ss://" + body)
    userinfo, _, _ = parts.netloc.rpartition("@")
    if not userinfo:
        raise _bad("has no cipher and password before the server")
    decoded = unquote(userinfo) if ":" in unquote(userinfo) and "%" in userinfo else None
    method, sep, password = (decoded or (userinfo if ":" in userinfo else _b64(userinfo))).partition(":")
    if not sep or not password:
        raise _bad("has no password")
    method = method.lower()
    if method not in AEAD_CIPHERS + CIPHERS_2022:
        raise _bad(f"uses the cipher {method!r}, which is insecure or unknown; ask for a key with one of "
                   f"{', '.join(AEAD_CIPHERS)}")
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        port = None
    if not host or port is None or not 0 < port < 65536:
        raise _bad("has no valid server address and port")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _HOST.match(host):
            raise _bad(f"names an invalid server {host!r}") from None
    plugin = plugin_opts = ""
    query = parse_qs(parts.query)
    if "plugin" in query:
        name, _, plugin_opts = query["plugin"][0].partition(";")
        if name not in PLUGINS:
            raise _bad(f"asks for the plugin {name!r}; only {', '.join(PLUGINS)} are supported")
        if not _PLUGIN_OPTS.match(plugin_opts):
            raise _bad("has plugin options with characters that are not allowed")
        plugin = name
    return ServerKey(host=host, port=port, method=method, password=password, plugin=plugin,
                     plugin_opts=plugin_opts, tag=tag)


def parse_dynamic_answer(body: bytes) -> ServerKey:
    """What an ``ssconf://`` address answers: an ``ss://`` key, or Outline's JSON object."""
    text = body.decode("utf-8", errors="replace").strip()
    if text.lower().startswith("ss://"):
        return parse_key(text)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise _bad("server answered something that is neither an ss:// key nor JSON") from None
    if not isinstance(data, dict):
        raise _bad("server answered JSON that is not an object")
    if data.get("prefix"):
        raise _bad("uses Outline's connection prefix, which only the Outline app supports; "
                   "add Outline itself as an app profile instead")
    try:
        host, port = str(data["server"]), int(data["server_port"])
        method, password = str(data["method"]), str(data["password"])
    except (KeyError, TypeError, ValueError):
        raise _bad("server answered JSON without server, server_port, method and password") from None
    userinfo = base64.urlsafe_b64encode(f"{method}:{password}".encode()).decode().rstrip("=")
    bracketed = f"[{host}]" if ":" in host else host
    return parse_key(f"ss://{userinfo}@{bracketed}:{port}")
