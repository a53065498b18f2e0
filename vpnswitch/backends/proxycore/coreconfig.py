"""What vpnswitch needs to know of a core's config file: where its local proxy listens, and its servers.

The three cores share the shape (``inbounds``/``outbounds`` arrays) with different key names:
V2Ray/Xray use ``protocol``, ``port``, ``listen`` and ``settings.vnext[].address`` / ``settings.servers[]``;
sing-box uses ``type``, ``listen_port``, ``listen`` and ``server``. V2Ray and Xray accept comments in their
JSON, so comments are removed (outside strings) before parsing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

CoreKind = Literal["sing-box", "xray", "v2ray"]
PROXY_INBOUNDS = ("socks", "mixed", "http")  # in order of preference for probes (socks: remote DNS)
MAX_CONFIG = 2 * 1024 * 1024


class CoreConfigError(ValueError):
    """The config cannot be used as a proxy profile; the message says why in words."""


@dataclass(frozen=True)
class LocalProxy:
    scheme: Literal["socks5h", "http"]
    host: str
    port: int

    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


@dataclass(frozen=True)
class CoreFacts:
    proxy: LocalProxy | None
    tun_interface: str | None  # sing-box tun inbound's interface_name, when it has one
    servers: tuple[str, ...]  # outbound server addresses (for the leak guard and the UI)


def strip_comments(text: str) -> str:
    """``//`` and ``/* */`` comments removed, strings kept intact (V2Ray's and Xray's JSON dialect)."""
    out: list[str] = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        ch = text[i]
        if in_string:
            out.append(ch)
            if ch == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if ch == '"':
                in_string = False
            i += 1
        elif ch == '"':
            in_string = True
            out.append(ch)
            i += 1
        elif text.startswith("//", i) or text.startswith("#", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise CoreConfigError("a /* comment is never closed")
            i = end + 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def parse(text: str) -> dict[str, Any]:
    if len(text) > MAX_CONFIG:
        raise CoreConfigError("the file is larger than 2 MiB: not a core configuration")
    try:
        data = json.loads(strip_comments(text))
    except json.JSONDecodeError as exc:
        raise CoreConfigError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise CoreConfigError("nested too deeply") from None
    if not isinstance(data, dict):
        raise CoreConfigError("the top level is not a JSON object")
    return data


def _listen_host(value: Any) -> str:
    host = str(value or "127.0.0.1")
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def _port(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and 0 < value < 65536:
        return value
    if isinstance(value, str) and value.isdigit() and 0 < int(value) < 65536:
        return int(value)
    return None


def facts(data: dict[str, Any], kind: CoreKind) -> CoreFacts:
    """The local proxy to probe through, the TUN interface, and the servers, from a parsed config."""
    inbounds = data.get("inbounds")
    if not isinstance(inbounds, list):
        inbounds = [data["inbound"]] if isinstance(data.get("inbound"), dict) else []  # V2Ray's v3 form
    found: dict[str, LocalProxy] = {}
    tun: str | None = None
    for inbound in inbounds:
        if not isinstance(inbound, dict):
            continue
        protocol = str(inbound.get("type" if kind == "sing-box" else "protocol", "")).lower()
        if protocol == "tun":
            name = inbound.get("interface_name")
            tun = str(name) if isinstance(name, str) and name else "tun0"
            continue
        port = _port(inbound.get("listen_port" if kind == "sing-box" else "port"))
        if protocol in PROXY_INBOUNDS and port and protocol not in found:
            scheme: Literal["socks5h", "http"] = "http" if protocol == "http" else "socks5h"
            found[protocol] = LocalProxy(scheme, _listen_host(inbound.get("listen")), port)
    proxy = next((found[p] for p in PROXY_INBOUNDS if p in found), None)
    return CoreFacts(proxy=proxy, tun_interface=tun, servers=_servers(data, kind))


def _servers(data: dict[str, Any], kind: CoreKind) -> tuple[str, ...]:
    outbounds = data.get("outbounds")
    if not isinstance(outbounds, list):
        return ()
    servers: list[str] = []
    for outbound in outbounds:
        if not isinstance(outbound, dict):
            continue
        if kind == "sing-box":
            if isinstance(outbound.get("server"), str):
                servers.append(outbound["server"])
            continue
        settings = outbound.get("settings")
        if not isinstance(settings, dict):
            continue
        for group in ("vnext", "servers"):
            for entry in settings.get(group) or []:
                if isinstance(entry, dict) and isinstance(entry.get("address"), str):
                    servers.append(entry["address"])
    return tuple(dict.fromkeys(servers))
