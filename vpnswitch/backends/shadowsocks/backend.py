"""Shadowsocks as a proxy profile: vpnswitch runs ``ss-local`` (shadowsocks-libev) or ``sslocal``
(shadowsocks-rust) itself, with the access key the user pasted (kept in the keyring), and probes through
its local SOCKS5 port.

The key's password reaches the client in a 0600 config file in the profile's private cache folder, never
on the command line (where every local user could read it); the file is removed as soon as the client
listens, since the client has read it by then.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Mapping
from typing import Any, ClassVar

import requests

from vpnswitch.backends.base import BackendContext
from vpnswitch.backends.localproxy import ProxyProcessBackend, free_port
from vpnswitch.backends.shadowsocks.keys import (
    CIPHERS_2022,
    AccessKeyError,
    ServerKey,
    dynamic_url,
    is_dynamic,
    parse_dynamic_answer,
    parse_key,
)
from vpnswitch.core.config import Profile
from vpnswitch.core.errors import BackendError
from vpnswitch.core.files import atomic_write
from vpnswitch.core.params import Param, validate

log = logging.getLogger(__name__)

LIBEV = "ss-local"
RUST = "sslocal"
FETCH_TIMEOUT = 10.0
MAX_ANSWER = 16 * 1024


def key_problem(value: Any) -> str | None:
    """For the form: whether a pasted key can be used, in words (a dynamic key is checked when fetched)."""
    if not isinstance(value, str) or not value.strip():
        return "paste the access key you were given (ss://… or ssconf://…)"
    try:
        dynamic_url(value) if is_dynamic(value) else parse_key(value)
    except AccessKeyError as exc:
        return exc.message
    return None


def client_config(key: ServerKey, local_port: int) -> dict[str, Any]:
    """The client's JSON config (the same keys for ss-local and sslocal)."""
    config: dict[str, Any] = {
        "server": key.host, "server_port": key.port, "method": key.method, "password": key.password,
        "local_address": "127.0.0.1", "local_port": local_port, "mode": "tcp_and_udp", "timeout": 60,
    }
    if key.plugin:
        config["plugin"] = key.plugin
        config["plugin_opts"] = key.plugin_opts
    return config


class ShadowsocksBackend(ProxyProcessBackend):
    name = "shadowsocks"
    display_name = "Shadowsocks / Outline"
    client_label = "the Shadowsocks client"
    folder_prefix = "shadowsocks"
    params_spec: ClassVar[tuple[Param, ...]] = (
        Param("access_key", "secret", "Access key",
              help="The ss:// or ssconf:// key from your provider or Outline server; kept in your keyring.",
              required=True, check=key_problem),
        Param("local_port", "int", "Local SOCKS port", minimum=0, maximum=65535, example="1080", advanced=True,
              help="0 or empty: any free port."),
        Param("binary", "file", "Shadowsocks client program", example="/usr/bin/ss-local", advanced=True,
              help="ss-local (shadowsocks-libev) or sslocal (shadowsocks-rust); found on PATH when empty."),
    )
    secret_keys = ("access_key",)

    def __init__(self, profile: Profile, context: BackendContext) -> None:
        super().__init__(profile, context)
        self._server: ServerKey | None = None

    @classmethod
    def validate_params(cls, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        return validate(cls.params_spec, params)

    # ------------------------------------------------------------------------------------ the key

    def _server_key(self) -> ServerKey:
        key = self.context.secrets.get(self.profile.name, "access_key")
        if not key:
            raise BackendError(f"{self.profile.name} has no access key", fatal=True,
                               hint="Open Settings, select the profile and paste its ss:// or ssconf:// key.")
        try:
            return self._fetch_dynamic(key) if is_dynamic(key) else parse_key(key)
        except AccessKeyError as exc:
            raise BackendError(f"{self.profile.name}: {exc.message}", fatal=True, hint=exc.hint) from None

    def _fetch_dynamic(self, key: str) -> ServerKey:
        """Outline's dynamic keys: the real key is fetched over HTTPS each time (servers move)."""
        url = dynamic_url(key)
        try:
            with requests.get(url, timeout=FETCH_TIMEOUT, stream=True, allow_redirects=True) as answer:
                if answer.status_code != 200:
                    raise BackendError(f"the key server answered HTTP {answer.status_code}",
                                       fatal=answer.status_code in (401, 403, 404, 410))
                body = answer.raw.read(MAX_ANSWER + 1, decode_content=True)
        except requests.RequestException as exc:
            raise BackendError(f"cannot fetch the dynamic access key ({type(exc).__name__})") from None
        if len(body) > MAX_ANSWER:
            raise BackendError("the key server's answer is too large to be an access key", fatal=True)
        return parse_dynamic_answer(body)

    # ------------------------------------------------------------------------------------ control

    def program(self, server: ServerKey) -> str:
        if self.params.get("binary"):
            return str(self.params["binary"])
        return RUST if server.method in CIPHERS_2022 else LIBEV

    def connect(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        self.stop_client()
        server = self._server_key()
        port = int(self.params.get("local_port") or 0) or free_port()
        config_path = self.folder() / "client.json"
        atomic_write(config_path, json.dumps(client_config(server, port)).encode(), 0o600)
        try:
            self._server = server
            self.launch([self.program(server), "-c", str(config_path)], "socks5h", "127.0.0.1", port, deadline)
            log.info("Shadowsocks client for %s listening on 127.0.0.1:%d", server.describe(), port)
        finally:
            config_path.unlink(missing_ok=True)  # read at start: the password does not stay on disk

    def refused(self, lines: deque[str]) -> bool:
        text = " ".join(lines).lower()
        return any(word in text for word in ("invalid", "unsupported", "error in config", "unknown cipher"))

    def status_detail(self) -> str:
        return self._server.describe() if self._server else ""

    def endpoints(self) -> tuple[str, ...]:
        return (self._server.host,) if self._server else ()
