"""The ``command`` backend: the user's own commands for connect, disconnect and status.

It is how people hook up a VPN app vpnswitch does not know yet. A profile names either the tunnel
interface the app creates or the local proxy it opens, so health checks know where traffic goes.
A secret (password, token) can be handed to the commands in an environment variable — never in argv.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from vpnswitch.backends.base import (
    DECLARED_TRANSPORTS,
    Backend,
    BackendContext,
    BackendStatus,
    declared_transport,
    param_list,
    proxy_endpoint,
    unknown_params,
)
from vpnswitch.core.config import Profile
from vpnswitch.core.errors import AuthFailed, BackendError
from vpnswitch.core.model import Route, Transport
from vpnswitch.core.params import Param, field_keys
from vpnswitch.system import netinfo
from vpnswitch.system.runner import ManagedProcess

MODES = ("oneshot", "foreground")
# Exit codes with a meaning: 77 (EX_NOPERM) means "credentials refused", which is not retried.
EXIT_AUTH_FAILED = 77
READY_POLL = 0.1


class CommandBackend(Backend):
    name = "command"
    display_name = "Custom commands"
    secret_keys = ("secret",)
    params_spec = (
        Param("connect", "argv", "Connect command", required=True, example="wg-quick up wg0"),
        Param("disconnect", "argv", "Disconnect command", example="wg-quick down wg0",
              help="Required when the connect command returns once connected (one-shot mode)."),
        Param("status", "argv", "Status command", help="Exits 0 while connected (optional)."),
        Param("interface", "text", "Tunnel interface", example="wg0",
              help="The interface it creates; or give a local proxy instead."),
        Param("proxy", "text", "Local proxy", example="socks5h://127.0.0.1:1080",
              help="The proxy it opens; or give a tunnel interface instead."),
        Param("mode", "choice", "Mode", choices=(("oneshot", "Connect command returns"),
                                                 ("foreground", "Connect command keeps running"))),
        Param("secret_env", "text", "Secret as environment variable", example="VPN_PASSWORD", advanced=True),
        Param("transport", "choice", "Transport", advanced=True,
              choices=tuple((t, t) for t in DECLARED_TRANSPORTS)),
        Param("secret", "secret", "Secret", help="Kept in your keyring; given to the commands in the variable "
                                                 "named above."),
    )

    def __init__(self, profile: Profile, context: BackendContext) -> None:
        super().__init__(profile, context)
        self._process: ManagedProcess | None = None
        self.route_kind = "proxy" if self.params.get("proxy") else "tunnel"
        self.polls_status = bool(self.params.get("status"))

    @classmethod
    def validate_params(cls, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems = unknown_params(params, field_keys(cls.params_spec))
        param_list(params, "connect", problems, required=True)
        param_list(params, "disconnect", problems, required=False)
        param_list(params, "status", problems, required=False)
        interface, proxy = params.get("interface"), params.get("proxy")
        if (interface is None) == (proxy is None):
            problems.append(("", 'needs exactly one of "interface" (the tunnel it creates) or "proxy" '
                                 '(e.g. "socks5h://127.0.0.1:1080")'))
        if interface is not None and (not isinstance(interface, str) or not interface or len(interface) > 64):
            problems.append(("interface", "must be an interface name such as \"wg0\" or \"tun0\""))
        if proxy is not None and (not isinstance(proxy, str) or proxy_endpoint(proxy) is None):
            problems.append(("proxy", "must look like socks5h://127.0.0.1:1080 or http://127.0.0.1:8080"))
        mode = params.get("mode", "oneshot")
        if mode not in MODES:
            problems.append(("mode", f"must be one of {', '.join(MODES)}"))
        if mode == "oneshot" and "disconnect" not in params and "connect" in params:
            problems.append(("disconnect", "is required in oneshot mode (how else would it stop?)"))
        secret_env = params.get("secret_env")
        if secret_env is not None and (not isinstance(secret_env, str) or not secret_env.isidentifier()):
            problems.append(("secret_env", "must be an environment variable name such as VPN_PASSWORD"))
        if params.get("transport", "unknown") not in DECLARED_TRANSPORTS:
            problems.append(("transport", f"must be one of {', '.join(DECLARED_TRANSPORTS)}"))
        return problems

    # ------------------------------------------------------------------------------------------ helpers

    def _env(self) -> dict[str, str]:
        name = self.params.get("secret_env")
        if not name:
            return {}
        secret = self.context.secrets.get(self.profile.name, "secret")
        if secret is None:
            raise AuthFailed(f"no secret is stored for {self.profile.name}",
                             hint="Enter it in Settings; it is kept in your keyring.")
        return {str(name): secret}

    def _ready(self, timeout: float) -> bool:
        if self.params.get("status"):
            return self.status(timeout).state == "connected"
        route = self.route()
        if route.interface:
            return netinfo.interface_up(route.interface) is True
        endpoint = proxy_endpoint(route.proxy or "")
        return bool(endpoint and netinfo.tcp_port_open(*endpoint, timeout=min(timeout, 0.5)))

    def _fail(self, what: str, returncode: int, output: str) -> BackendError:
        tail = output.strip().splitlines()[-3:] if output.strip() else []
        detail = f": {' / '.join(tail)}" if tail else ""
        if returncode == EXIT_AUTH_FAILED:
            return AuthFailed(f"{what} refused the credentials{detail}")
        return BackendError(f"{what} failed (exit code {returncode}){detail}")

    # -------------------------------------------------------------------------------------- interface

    def connect(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        env = self._env()
        if self.params.get("mode", "oneshot") == "foreground":
            self._process = self.context.runner.start(self.params["connect"], env=env)
        else:
            result = self.context.runner.run(self.params["connect"], timeout=timeout, env=env)
            if not result.ok:
                raise self._fail("the connect command", result.returncode, result.output())
        while time.monotonic() < deadline:
            if self._process is not None and not self._process.alive():
                code = self._process.returncode or 0
                self._process = None
                raise self._fail("the connect command", code, "exited before the connection was up")
            if self._ready(max(0.5, deadline - time.monotonic())):
                return
            time.sleep(READY_POLL)
        self.disconnect(min(timeout, 10.0))
        raise BackendError(f"not connected after {timeout:g} s ({self.route().describe()} never came up)")

    def disconnect(self, timeout: float) -> None:
        errors = []
        if self.params.get("disconnect"):
            try:
                result = self.context.runner.run(self.params["disconnect"], timeout=timeout, env=self._env_quiet())
                if not result.ok:
                    errors.append(self._fail("the disconnect command", result.returncode, result.output()).message)
            except BackendError as exc:
                errors.append(exc.message)
        if self._process is not None:
            self._process.stop(timeout=min(timeout, 5.0))
            self._process = None
        if errors:
            raise BackendError("; ".join(errors))

    def _env_quiet(self) -> dict[str, str]:
        try:
            return self._env()
        except BackendError:
            return {}

    def status(self, timeout: float) -> BackendStatus:
        argv = self.params.get("status")
        if argv:
            result = self.context.runner.run(argv, timeout=timeout, env=self._env_quiet())
            detail = result.output().splitlines()[0] if result.output() else ""
            return BackendStatus("connected" if result.ok else "disconnected", detail)
        if self._process is not None and not self._process.alive():
            return BackendStatus("disconnected", f"exited with code {self._process.returncode}")
        route = self.route()
        if route.interface:
            up = netinfo.interface_up(route.interface)
            return BackendStatus("connected" if up else "disconnected")
        endpoint = proxy_endpoint(route.proxy or "")
        return BackendStatus("connected" if endpoint and netinfo.tcp_port_open(*endpoint) else "disconnected")

    def route(self) -> Route:
        if self.params.get("proxy"):
            return Route("proxy", proxy=str(self.params["proxy"]))
        return Route("tunnel", interface=str(self.params["interface"]))

    def transport(self) -> Transport:
        return declared_transport(self.params)

    def liveness(self) -> str | None:
        if self._process is not None and not self._process.alive():
            return f"its process exited (code {self._process.returncode})"
        return None

    def close(self) -> None:
        if self._process is not None and self._process.alive():
            self._process.stop()
        self._process = None



