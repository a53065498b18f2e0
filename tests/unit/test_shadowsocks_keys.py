"""Access keys as people paste them: every accepted form, and every refusal said in words."""

from __future__ import annotations

import base64
import json

import pytest

from vpnswitch.backends.shadowsocks.keys import (
    AccessKeyError,
    ServerKey,
    dynamic_url,
    parse_dynamic_answer,
    parse_key,
)


def b64(text: str, *, pad: bool = False) -> str:
    encoded = base64.urlsafe_b64encode(text.encode()).decode()
    return encoded if pad else encoded.rstrip("=")


@pytest.mark.parametrize(("key", "expected"), [
    # Outline's own keys: SIP002 with base64url userinfo, a query and a tag.
    (f"ss://{b64('chacha20-ietf-poly1305:s3cret')}@203.0.113.7:8388/?outline=1#Outline%20Server",
     ServerKey("203.0.113.7", 8388, "chacha20-ietf-poly1305", "s3cret", tag="Outline Server")),
    # Padded standard base64 is accepted too.
    (f"ss://{base64.b64encode(b'aes-256-gcm:p+w/d').decode()}@vpn.example.org:443",
     ServerKey("vpn.example.org", 443, "aes-256-gcm", "p+w/d")),
    # The older form: all of method:password@host:port in base64; the password may hold '@' and ':'.
    (f"ss://{b64('aes-128-gcm:a@b:c@198.51.100.2:9000', pad=True)}#old",
     ServerKey("198.51.100.2", 9000, "aes-128-gcm", "a@b:c", tag="old")),
    # Shadowsocks 2022: plain, percent-encoded userinfo; an IPv6 server.
    ("ss://2022-blake3-aes-256-gcm:YctPZ6U7xPPcU%2Bgp3u%2B0tx%2FtRizJN9K8y%2BuKlW2qjlI%3D@[2001:db8::1]:8888",
     ServerKey("2001:db8::1", 8888, "2022-blake3-aes-256-gcm", "YctPZ6U7xPPcU+gp3u+0tx/tRizJN9K8y+uKlW2qjlI=")),
    # A known plugin with plain options.
    (f"ss://{b64('chacha20-ietf-poly1305:x')}@192.0.2.1:80/?plugin=obfs-local%3Bobfs%3Dhttp%3Bobfs-host%3Dexample.com",
     ServerKey("192.0.2.1", 80, "chacha20-ietf-poly1305", "x", plugin="obfs-local",
               plugin_opts="obfs=http;obfs-host=example.com")),
    ("  ss://" + b64("aes-256-gcm:pw") + "@192.0.2.9:1  \n", ServerKey("192.0.2.9", 1, "aes-256-gcm", "pw")),
])
def test_accepted_keys(key: str, expected: ServerKey) -> None:
    assert parse_key(key) == expected


@pytest.mark.parametrize(("key", "said"), [
    ("vmess://abc", "does not start with ss://"),
    (f"ss://{b64('rc4-md5:pw')}@192.0.2.1:8388", "cipher 'rc4-md5', which is insecure"),
    (f"ss://{b64('aes-256-cfb:pw')}@192.0.2.1:8388", "insecure or unknown"),
    (f"ss://{b64('aes-256-gcm')}@192.0.2.1:8388", "has no password"),
    (f"ss://{b64('aes-256-gcm:pw')}@192.0.2.1", "no valid server address and port"),
    (f"ss://{b64('aes-256-gcm:pw')}@192.0.2.1:70000", "no valid server address and port"),
    (f"ss://{b64('aes-256-gcm:pw')}@bad_host!:80", "invalid server 'bad_host!'"),
    ("ss://!!!notbase64@192.0.2.1:80", "not valid base64"),
    (f"ss://{b64('aes-256-gcm:pw')}@192.0.2.1:80/?plugin=sh%3B-c%3Bid", "plugin 'sh'"),
    (f"ss://{b64('aes-256-gcm:pw')}@192.0.2.1:80/?plugin=obfs-local%3Bobfs%3D%24(id)", "not allowed"),
    ("ss://" + b64("aes-256-gcm:pw") + "@192.0.2.1:80\x00", "control characters"),
    ("ss://" + "A" * 5000 + "@192.0.2.1:80", "too long"),
])
def test_refused_keys_say_why(key: str, said: str) -> None:
    with pytest.raises(AccessKeyError, match=said.replace("(", r"\(").replace(")", r"\)")) as caught:
        parse_key(key)
    assert "ss://" in caught.value.hint


def test_dynamic_keys_are_https_addresses() -> None:
    assert dynamic_url("ssconf://keys.example.org/abc/def.json#Mine") == "https://keys.example.org/abc/def.json#Mine"
    with pytest.raises(AccessKeyError):
        dynamic_url("ss://x")


def test_dynamic_answers() -> None:
    answer = {"server": "192.0.2.4", "server_port": 443, "method": "chacha20-ietf-poly1305", "password": "p:w"}
    assert parse_dynamic_answer(json.dumps(answer).encode()) == ServerKey("192.0.2.4", 443,
                                                                          "chacha20-ietf-poly1305", "p:w")
    key = f"ss://{b64('aes-256-gcm:x')}@192.0.2.5:8443"
    assert parse_dynamic_answer(key.encode() + b"\n").host == "192.0.2.5"
    with pytest.raises(AccessKeyError, match="connection prefix"):
        parse_dynamic_answer(json.dumps({**answer, "prefix": "\u0016\u0003\u0001"}).encode())
    with pytest.raises(AccessKeyError, match="without server"):
        parse_dynamic_answer(b'{"server": "192.0.2.4"}')
    with pytest.raises(AccessKeyError, match="neither"):
        parse_dynamic_answer(b"<html>blocked</html>")
    with pytest.raises(AccessKeyError, match="insecure"):
        parse_dynamic_answer(json.dumps({**answer, "method": "rc4-md5"}).encode())


def test_description_never_holds_the_password() -> None:
    key = parse_key(f"ss://{b64('aes-256-gcm:very-secret')}@192.0.2.1:80#tag")
    assert "very-secret" not in key.describe() and "192.0.2.1:80" in key.describe()
