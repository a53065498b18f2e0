"""Reading a core's config: the local proxy to probe through and the servers, for each core's dialect."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vpnswitch.backends.proxycore.backend import argv_for
from vpnswitch.backends.proxycore.coreconfig import CoreConfigError, LocalProxy, facts, parse, strip_comments

V2RAY = """
// exported by v2rayN
{
  "inbounds": [
    {"tag": "api", "port": 10085, "protocol": "dokodemo-door"},
    {"port": 10809, "listen": "127.0.0.1", "protocol": "http"},
    {"port": "10808", "listen": "0.0.0.0", "protocol": "socks", "settings": {"udp": true}}  # both
  ],
  /* the node */
  "outbounds": [
    {"protocol": "vmess", "settings": {"vnext": [{"address": "node.example.org", "port": 443}]}},
    {"protocol": "shadowsocks", "settings": {"servers": [{"address": "192.0.2.7", "port": 8388}]}},
    {"protocol": "freedom", "tag": "direct"}
  ]
}
"""

SING_BOX = {
    "inbounds": [
        {"type": "tun", "interface_name": "singbox_tun", "address": ["172.19.0.1/30"]},
        {"type": "mixed", "listen": "127.0.0.1", "listen_port": 2080},
    ],
    "outbounds": [{"type": "vless", "server": "203.0.113.9", "server_port": 443}, {"type": "direct"}],
}


def test_v2ray_and_xray_dialect_with_comments() -> None:
    found = facts(parse(V2RAY), "v2ray")
    assert found.proxy == LocalProxy("socks5h", "127.0.0.1", 10808)  # socks preferred; 0.0.0.0 reached locally
    assert found.servers == ("node.example.org", "192.0.2.7")
    assert facts(parse(V2RAY), "xray") == found


def test_sing_box_dialect() -> None:
    found = facts(SING_BOX, "sing-box")
    assert found.proxy == LocalProxy("socks5h", "127.0.0.1", 2080)
    assert found.tun_interface == "singbox_tun"
    assert found.servers == ("203.0.113.9",)


def test_only_http_inbound_is_probed_as_http() -> None:
    data = {"inbounds": [{"type": "http", "listen": "::1", "listen_port": 8080}]}
    proxy = facts(data, "sing-box").proxy
    assert proxy is not None and proxy.url() == "http://::1:8080"


def test_tun_only_and_no_inbound() -> None:
    tun_only = facts({"inbounds": [{"type": "tun"}]}, "sing-box")
    assert tun_only.proxy is None and tun_only.tun_interface == "tun0"
    assert facts({"outbounds": []}, "xray").proxy is None


def test_comment_markers_inside_strings_are_kept() -> None:
    text = '{"path": "/ws//x#y", "note": "/* not a comment */"} // tail'
    assert json.loads(strip_comments(text)) == {"path": "/ws//x#y", "note": "/* not a comment */"}


@pytest.mark.parametrize(("text", "said"), [
    ("{", "not valid JSON"),
    ("[1, 2]", "not a JSON object"),
    ("{/* open", "never closed"),
    ("[" * 50_000 + "]" * 50_000, "nested too deeply|not a JSON object"),
])
def test_bad_configs_say_why(text: str, said: str) -> None:
    with pytest.raises(CoreConfigError, match=said):
        parse(text)


def test_each_core_is_started_its_own_way() -> None:
    config = Path("/c.json")
    assert argv_for("v2ray", "v2ray", config, 4) == ["v2ray", "-config", "/c.json"]
    assert argv_for("v2ray", "v2ray", config, 5) == ["v2ray", "run", "-c", "/c.json"]
    assert argv_for("xray", "xray", config) == ["xray", "run", "-c", "/c.json"]
    assert argv_for("sing-box", "/opt/sing-box", config) == ["/opt/sing-box", "run", "-c", "/c.json"]
