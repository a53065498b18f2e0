"""One node of one group in an app running a sing-box or mihomo core, as a profile.

"Node N of group G in app A": connecting selects N in G through the app's controller and drops the
connections still open through the previous node, so traffic moves at once; probes go through the app's
local mixed/SOCKS port (or its TUN interface). Several profiles on the same app fail over between nodes
inside it; profiles on different apps fail over between apps. The controller's own delay test is the
precheck: it says whether a node answers without disturbing the active one.

Disconnecting leaves the app as it is: it belongs to the user, and turning its group to DIRECT would send
traffic around every tunnel. Use such apps in proxy mode (system proxy off) under vpnswitch.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from vpnswitch.backends.base import Backend, BackendContext, BackendStatus
from vpnswitch.backends.clashapi.client import ClashController, ControllerError, controller_problem
from vpnswitch.core.config import Profile
from vpnswitch.core.errors import BackendError, SecretsUnavailable
from vpnswitch.core.model import Route, RouteKind, Transport
from vpnswitch.core.params import Param, validate

log = logging.getLogger(__name__)

APPS: tuple[tuple[str, str], ...] = (
    ("hiddify", "Hiddify"), ("clash-verge-rev", "Clash Verge Rev"), ("v2rayn", "v2rayN"),
    ("nekobox", "NekoBox / Throne"), ("flclash", "FlClash"), ("other", "another app (sing-box or mihomo core)"),
)
DELAY_URL = "https://www.gstatic.com/generate_204"


def _controller_check(value: Any) -> str | None:
    return controller_problem(value) if isinstance(value, str) else None


def _proxy_check(value: Any) -> str | None:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("socks5h", "socks5", "http") or not parts.port:
        return "must look like socks5h://127.0.0.1:7897 (the app's mixed or SOCKS port)"
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        return "must be a port on this computer"
    return None


class ClashApiBackend(Backend):
    name = "clash-api"
    display_name = "App with a sing-box / mihomo core (Clash API)"
    route_kind: RouteKind = "proxy"
    polls_status = True  # one small HTTP request to loopback
    params_spec: ClassVar[tuple[Param, ...]] = (
        Param("app", "choice", "App", choices=APPS, help="Which app runs the core (for names and help only)."),
        Param("controller", "text", "Controller address", required=True, example="http://127.0.0.1:9097",
              help="The app's external controller: http://127.0.0.1:PORT or unix:///path/to.sock.",
              check=_controller_check),
        Param("secret", "secret", "Controller secret", help="The app's controller secret, if it has one."),
        Param("group", "text", "Group", required=True, example="GLOBAL",
              help="A selector group (one where you pick the node yourself)."),
        Param("node", "text", "Node", required=True, example="Germany 1",
              help="The node in that group this profile uses."),
        Param("proxy", "text", "Local proxy", example="socks5h://127.0.0.1:7897", check=_proxy_check,
              help="The app's mixed or SOCKS port, through which vpnswitch checks the node."),
        Param("interface", "text", "TUN interface", example="Mihomo", advanced=True,
              help="Instead of a proxy: the app's TUN interface (the app must run in TUN mode)."),
    )
    secret_keys = ("secret",)

    def __init__(self, profile: Profile, context: BackendContext) -> None:
        super().__init__(profile, context)
        self.route_kind = "tunnel" if self.params.get("interface") and not self.params.get("proxy") else "proxy"

    @classmethod
    def validate_params(cls, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems = validate(cls.params_spec, params)
        if not params.get("proxy") and not params.get("interface"):
            problems.append(("proxy", "is required (or a TUN interface under Advanced): vpnswitch checks the node "
                                      "through it"))
        return problems

    def _controller(self) -> ClashController:
        """The controller, with the secret when one is stored. Many apps run without a secret, so a keyring
        that cannot be read is not an error by itself — only if the controller then asks for a secret."""
        try:
            secret = self.context.secrets.get(self.profile.name, "secret")
            keyring_problem = ""
        except SecretsUnavailable as exc:
            secret, keyring_problem = None, exc.message
        return ClashController(str(self.params["controller"]), secret, keyring_problem=keyring_problem)

    @property
    def group(self) -> str:
        return str(self.params["group"])

    @property
    def node(self) -> str:
        return str(self.params["node"])

    def connect(self, timeout: float) -> None:
        controller = self._controller()
        per_call = max(1.0, timeout / 4)
        log.info("%s at %s", controller.version(per_call), controller.address)
        group = controller.proxy(self.group, per_call)
        if not group.is_selector:
            raise BackendError(f"the group {self.group!r} is a {group.type} group, which picks its node by itself",
                               fatal=True, hint="Pick a selector group (GLOBAL or the app's manual-choice group).")
        if group.all and self.node not in group.all:
            raise BackendError(f"the group {self.group!r} has no node named {self.node!r}", fatal=True,
                               hint="Pick the node again in the profile: the app's subscription may have changed.")
        if group.now != self.node:
            controller.select(self.group, self.node, per_call)
            try:
                controller.close_connections(per_call)
            except ControllerError as exc:  # older cores: connections then move as they are reopened
                log.info("could not drop old connections: %s", exc.message)
        now = controller.proxy(self.group, per_call).now
        if now != self.node:
            raise BackendError(f"the app still uses {now!r} after selecting {self.node!r} in {self.group!r}")

    def disconnect(self, timeout: float) -> None:
        """Nothing to undo: the app keeps running with the node selected (see the module's note)."""

    def status(self, timeout: float) -> BackendStatus:
        try:
            group = self._controller().proxy(self.group, timeout)
        except ControllerError as exc:
            return BackendStatus("error", exc.message, fatal=exc.fatal)
        if group.now == self.node:
            return BackendStatus("connected", f"{self.node} in {self.group}")
        return BackendStatus("disconnected", f"the app uses {group.now or 'no node'} in {self.group}")

    def precheck(self, timeout: float) -> bool | None:
        """The core's own delay test of this node: whether it answers, without touching the active one."""
        try:
            delay = self._controller().delay(self.node, DELAY_URL, int(max(0.5, timeout - 0.5) * 1000), timeout)
        except BackendError:
            return None
        return delay is not None

    def route(self) -> Route:
        if self.route_kind == "tunnel":
            return Route("tunnel", interface=str(self.params["interface"]))
        return Route("proxy", proxy=str(self.params["proxy"]))

    def transport(self) -> Transport:
        return "obfuscated"
