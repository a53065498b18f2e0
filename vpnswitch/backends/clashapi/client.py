"""A small client for the Clash REST controller that sing-box and mihomo serve.

The endpoints and error bodies are mihomo's (``hub/route``), which sing-box's ``clash_api`` reproduces:
``GET /version``; ``GET /proxies`` and ``GET /proxies/{name}`` (``type``, ``now``, ``all``);
``PUT /proxies/{group}`` with ``{"name": node}`` → 204, or 400 ``{"message": "Must be a Selector"}`` /
``"Selector update error: …"``; ``GET /proxies/{name}/delay?url=&timeout=`` → ``{"delay": ms}``, 504
``Timeout`` or 503 ``An error occurred in the delay test``; 404 ``Resource not found``; 401 ``Unauthorized``
when the ``Authorization: Bearer <secret>`` header is missing or wrong; ``DELETE /connections``.

Controllers listen on loopback TCP (``http://127.0.0.1:9090``) or a unix socket (mihomo's
``external-controller-unix``, written ``unix:///path/to.sock``). Every call has a timeout. Names may hold
any characters (flags, spaces, slashes), so they are percent-encoded whole.
"""

from __future__ import annotations

import http.client
import json
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from vpnswitch.core.errors import AuthFailed, BackendError

MAX_BODY = 4 * 1024 * 1024  # a /proxies answer with thousands of nodes stays well below this
SELECTABLE = ("selector",)  # the only group type PUT accepts ("Must be a Selector")


class ControllerError(BackendError):
    """The controller answered with an error; ``status`` is its HTTP status (0: no answer)."""

    def __init__(self, message: str, status: int = 0, *, fatal: bool = False, hint: str = "") -> None:
        super().__init__(message, fatal=fatal, hint=hint)
        self.status = status


@dataclass(frozen=True)
class ProxyInfo:
    name: str
    type: str
    now: str = ""
    all: tuple[str, ...] = ()

    @property
    def is_selector(self) -> bool:
        return self.type.lower() in SELECTABLE


def controller_problem(address: str) -> str | None:
    """Why an address cannot be a controller, in words; None when it can."""
    parts = urlsplit(address)
    if parts.scheme == "unix":
        return None if parts.path.startswith("/") else "a unix socket address needs an absolute path"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must look like http://127.0.0.1:9090 or unix:///path/to/controller.sock"
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        return "must be on this computer (127.0.0.1, ::1 or a unix socket): the secret is sent to it"
    return None


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class ClashController:
    def __init__(self, address: str, secret: str | None = None, *, keyring_problem: str = "") -> None:
        problem = controller_problem(address)
        if problem:
            raise ControllerError(f"the controller address {address!r} {problem}", fatal=True)
        self.address = address
        self._secret = secret or ""
        self._keyring_problem = keyring_problem  # why no secret could be read, said if one is asked for
        parts = urlsplit(address)
        self._unix = parts.path if parts.scheme == "unix" else None
        self._scheme = parts.scheme
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port
        self._prefix = "" if self._unix else parts.path.rstrip("/")

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        if self._unix is not None:
            return _UnixConnection(self._unix, timeout)
        if self._scheme == "https":
            return http.client.HTTPSConnection(self._host, self._port, timeout=timeout)
        return http.client.HTTPConnection(self._host, self._port, timeout=timeout)

    def request(self, method: str, path: str, *, timeout: float, body: Any = None) -> tuple[int, Any]:
        """(status, decoded JSON or None); raises ControllerError when nothing usable came back."""
        headers = {"Accept": "application/json"}
        if self._secret:
            headers["Authorization"] = f"Bearer {self._secret}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn = self._connection(timeout)
        try:
            conn.request(method, self._prefix + path, body=data, headers=headers)
            answer = conn.getresponse()
            raw = answer.read(MAX_BODY + 1)
        except (OSError, http.client.HTTPException) as exc:
            raise ControllerError(f"the core's controller at {self.address} does not answer ({_why(exc)})",
                                  hint="Start the app (its core must be running) and check the controller "
                                       "address in its settings.") from None
        finally:
            conn.close()
        if len(raw) > MAX_BODY:
            raise ControllerError("the controller's answer is too large")
        if answer.status == 401:
            if self._keyring_problem:
                raise AuthFailed(f"the core's controller asks for a secret, and {self._keyring_problem}",
                                 hint="Unlock or set up your keyring, then open the profile and save the secret.")
            raise AuthFailed("the core's controller refused the secret (401 Unauthorized)",
                             hint="Copy the controller secret from the app's settings into the profile.")
        decoded: Any = None
        if raw.strip():
            try:
                decoded = json.loads(raw)
            except (ValueError, RecursionError):
                raise ControllerError(f"the controller answered HTTP {answer.status} with something that is "
                                      "not JSON", answer.status) from None
        return answer.status, decoded

    def version(self, timeout: float) -> str:
        status, data = self.request("GET", "/version", timeout=timeout)
        if status != 200 or not isinstance(data, dict):
            raise ControllerError(f"the controller answered HTTP {status} to /version", status)
        kind = "mihomo" if data.get("meta") else ("sing-box" if "sing-box" in str(data.get("version")) else "clash")
        return f"{kind} {data.get('version', '?')}"

    def proxy(self, name: str, timeout: float) -> ProxyInfo:
        status, data = self.request("GET", f"/proxies/{_name(name)}", timeout=timeout)
        if status == 404:
            raise ControllerError(f"the core has no proxy or group named {name!r}", 404, fatal=True,
                                  hint="Pick the group and node again in the profile: the app's subscription "
                                       "may have renamed them.")
        if status != 200 or not isinstance(data, dict):
            raise ControllerError(f"the controller answered HTTP {status} for {name!r}", status)
        return _info(name, data)

    def proxies(self, timeout: float) -> dict[str, ProxyInfo]:
        status, data = self.request("GET", "/proxies", timeout=timeout)
        table = data.get("proxies") if isinstance(data, dict) else None
        if status != 200 or not isinstance(table, dict):
            raise ControllerError(f"the controller answered HTTP {status} to /proxies", status)
        return {str(k): _info(str(k), v) for k, v in table.items() if isinstance(v, dict)}

    def select(self, group: str, node: str, timeout: float) -> None:
        status, data = self.request("PUT", f"/proxies/{_name(group)}", timeout=timeout, body={"name": node})
        if status in (200, 204):
            return
        message = data.get("message") if isinstance(data, dict) else None
        if status == 404:
            raise ControllerError(f"the core has no group named {group!r}", 404, fatal=True)
        if status == 400 and message == "Must be a Selector":
            raise ControllerError(f"{group!r} chooses its node by itself (not a selector group)", 400, fatal=True,
                                  hint="Pick a selector group (GLOBAL or the app's manual-choice group).")
        if status == 400 and isinstance(message, str) and message.startswith("Selector update error"):
            raise ControllerError(f"the group {group!r} has no node named {node!r}", 400, fatal=True,
                                  hint="Pick the node again in the profile: the subscription may have changed.")
        raise ControllerError(f"selecting {node!r} in {group!r} failed: HTTP {status} {message or ''}".strip(), status)

    def delay(self, name: str, url: str, timeout_ms: int, timeout: float) -> int | None:
        """The node's delay to ``url`` in ms, measured by the core; None when it failed or timed out."""
        query = urlencode({"url": url, "timeout": str(timeout_ms)})
        status, data = self.request("GET", f"/proxies/{_name(name)}/delay?{query}", timeout=timeout)
        if status == 200 and isinstance(data, dict) and isinstance(data.get("delay"), int) and data["delay"] > 0:
            return int(data["delay"])
        if status in (503, 504):
            return None
        if status == 404:
            raise ControllerError(f"the core has no node named {name!r}", 404, fatal=True)
        raise ControllerError(f"the delay test answered HTTP {status}", status)

    def close_connections(self, timeout: float) -> None:
        """Drop connections still open through the previous node, so apps reconnect through the new one."""
        self.request("DELETE", "/connections", timeout=timeout)


def _name(name: str) -> str:
    return quote(name, safe="")


def _info(name: str, data: dict[str, Any]) -> ProxyInfo:
    members = data.get("all")
    return ProxyInfo(name=str(data.get("name", name)), type=str(data.get("type", "")), now=str(data.get("now") or ""),
                     all=tuple(str(m) for m in members) if isinstance(members, list) else ())


def _why(exc: BaseException) -> str:
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, FileNotFoundError):
        return "no such socket"
    return type(exc).__name__
