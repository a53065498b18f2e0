"""The clash-api backend against a controller that answers as mihomo does (endpoints and error bodies from
mihomo's own source), over loopback TCP and over a unix socket; then failover between nodes of one app and
between two apps, by the real ``vpnswitch daemon``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.daemon.test_daemon import Daemon
from tests.fakes.clashcore import FakeClashCore
from tests.support.memkeyring import MemoryKeyring
from tests.support.servers import HttpSite
from vpnswitch.backends.base import BackendContext
from vpnswitch.backends.clashapi.backend import ClashApiBackend
from vpnswitch.core.config import Profile
from vpnswitch.core.errors import AuthFailed, BackendError
from vpnswitch.core.secrets import SecretStore

NODES = ["🇩🇪 Germany 1", "Netherlands/2", "Singapore 3"]


def backend(core: FakeClashCore, node: str, *, group: str = "GLOBAL", secret: str | None = None,
            name: str = "app") -> ClashApiBackend:
    secrets = SecretStore(MemoryKeyring())
    if secret is not None:
        secrets.set(name, "secret", secret)
    params = {"app": "clash-verge-rev", "controller": core.controller, "group": group, "node": node,
              "proxy": core.proxy.url}
    assert ClashApiBackend.validate_params(params) == []
    return ClashApiBackend(Profile(name, "clash-api", params), BackendContext(secrets=secrets))


@pytest.fixture(params=["tcp", "unix"])
def core(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FakeClashCore]:
    sock = tmp_path / "mihomo.sock" if request.param == "unix" else None
    with FakeClashCore(NODES, secret="s3cret", unix_socket=sock) as fake:
        yield fake


def test_selects_the_node_and_traffic_follows(core: FakeClashCore) -> None:
    b = backend(core, NODES[1], secret="s3cret")
    with HttpSite() as site:
        b.connect(timeout=5)
        assert core.selected == NODES[1] and core.connections_closed == 1
        assert ("PUT", "/proxies/GLOBAL") in core.requests
        assert requests.get(site.url("/generate_204"), proxies={"http": b.route().proxy or ""},
                            timeout=5).status_code == 204
    assert b.status(timeout=2).state == "connected"
    assert b.precheck(timeout=2) is True
    core.block(NODES[1])
    assert b.precheck(timeout=2) is False
    core.selected = NODES[0]  # the user picked another node in the app
    assert b.status(timeout=2).state == "disconnected" and NODES[0] in b.status(timeout=2).detail
    b.connect(timeout=5)  # already selected → no second PUT needed, still verified
    assert core.selected == NODES[1]


@pytest.mark.parametrize(("kwargs", "error", "said", "fatal"), [
    ({"secret": "wrong"}, AuthFailed, "refused the secret", True),
    ({"secret": None}, AuthFailed, "401", True),
    ({"secret": "s3cret", "group": "Streaming"}, BackendError, "no proxy or group named 'Streaming'", True),
    ({"secret": "s3cret", "group": "Auto"}, BackendError, "URLTest group, which picks its node by itself", True),
])
def test_refusals_are_fatal_and_explained(core: FakeClashCore, kwargs: dict[str, Any], error: type[Exception],
                                          said: str, fatal: bool) -> None:
    b = backend(core, NODES[0], **kwargs)
    with pytest.raises(error, match=said) as caught:
        b.connect(timeout=5)
    assert getattr(caught.value, "fatal", None) is fatal


def test_a_node_that_vanished_from_the_subscription(core: FakeClashCore) -> None:
    with pytest.raises(BackendError, match="no node named 'Iceland 9'") as caught:
        backend(core, "Iceland 9", secret="s3cret").connect(timeout=5)
    assert caught.value.fatal and "subscription" in caught.value.hint


def test_core_not_running_is_retryable_and_says_what_to_do(tmp_path: Path) -> None:
    with FakeClashCore(NODES) as fake:
        controller = fake.controller
    params = {"controller": controller, "group": "GLOBAL", "node": NODES[0], "proxy": "socks5h://127.0.0.1:7897"}
    b = ClashApiBackend(Profile("app", "clash-api", params), BackendContext(secrets=SecretStore(MemoryKeyring())))
    with pytest.raises(BackendError, match="does not answer") as caught:
        b.connect(timeout=2)
    assert not caught.value.fatal and "Start the app" in caught.value.hint
    assert b.status(timeout=1).state == "error" and b.precheck(timeout=1) is None


@pytest.mark.parametrize(("params", "key", "said"), [
    ({"controller": "http://192.0.2.1:9090", "group": "G", "node": "n", "proxy": "socks5h://127.0.0.1:1"},
     "controller", "must be on this computer"),
    ({"controller": "ftp://x", "group": "G", "node": "n", "proxy": "socks5h://127.0.0.1:1"},
     "controller", "http://127.0.0.1:9090"),
    ({"controller": "http://127.0.0.1:9090", "group": "G", "node": "n"}, "proxy", "is required"),
    ({"controller": "http://127.0.0.1:9090", "group": "G", "node": "n", "proxy": "socks5h://10.0.0.1:1"},
     "proxy", "on this computer"),
    ({"controller": "http://127.0.0.1:9090", "node": "n", "proxy": "socks5h://127.0.0.1:1"}, "group", "required"),
    ({"controller": "http://127.0.0.1:9090", "group": "G", "node": "n", "proxy": "socks5h://127.0.0.1:1",
      "secret": "x"}, "secret", "belongs in the keyring"),
])
def test_parameters_are_checked_per_field(params: dict[str, Any], key: str, said: str) -> None:
    problems = dict(ClashApiBackend.validate_params(params))
    assert said in problems.get(key, ""), problems


def test_failover_between_nodes_of_one_app_then_to_another_app(tmp_path: Path) -> None:
    """The real daemon: a blocked node is replaced by the next node of the same app; when every node of that
    app is blocked, the next app takes over."""
    with HttpSite() as site, FakeClashCore(NODES[:2]) as verge, FakeClashCore(["Tokyo 1"], group="Proxy") as hiddify:
        def profile(name: str, core: FakeClashCore, node: str, group: str = "GLOBAL") -> dict[str, Any]:
            return {"name": name, "backend": "clash-api", "params": {
                "controller": core.controller, "group": group, "node": node, "proxy": core.proxy.url}}

        config = {
            "version": 1,
            "profiles": [profile("verge-de", verge, NODES[0]), profile("verge-nl", verge, NODES[1]),
                         profile("hiddify-jp", hiddify, "Tokyo 1", "Proxy")],
            "targets": [
                {"url": site.url("/generate_204"), "role": "canary", "expect": [204]},
                {"url": f"http://localhost:{site.port}/generate_204", "role": "canary", "expect": [204]},
            ],
            "timings": {"probe_interval_min": 2, "probe_interval_max": 3, "probe_timeout": 1.0,
                        "confirm_delay": 0.2, "quarantine_initial": 300},
        }
        daemon = Daemon(tmp_path, config)
        daemon.start()
        try:
            daemon.wait(lambda: daemon.status()["state"] == "connected", 30, "the first node")
            assert daemon.status()["active"] == "verge-de" and verge.selected == NODES[0]
            verge.block(NODES[0])
            daemon.wait(lambda: daemon.status()["active"] == "verge-nl" and daemon.status()["state"] == "connected",
                        60, "the next node of the same app")
            assert verge.selected == NODES[1]
            verge.block(NODES[1])
            daemon.wait(lambda: daemon.status()["active"] == "hiddify-jp"
                        and daemon.status()["state"] == "connected", 60, "the other app")
            assert hiddify.selected == "Tokyo 1"
            switches = [e for e in daemon.json("history") if e["kind"] == "switch" and e.get("from")]
            assert [(s["from"], s["to"]) for s in switches][-2:] == [("verge-de", "verge-nl"),
                                                                    ("verge-nl", "hiddify-jp")]
        finally:
            assert daemon.stop() == 0


def test_no_keyring_is_fine_until_the_controller_asks_for_a_secret(tmp_path: Path) -> None:
    params = {"controller": "", "group": "GLOBAL", "node": NODES[0], "proxy": "socks5h://127.0.0.1:1"}
    with FakeClashCore(NODES) as open_core, FakeClashCore(NODES, secret="s3cret") as locked_core:
        for core, works in ((open_core, True), (locked_core, False)):
            b = ClashApiBackend(Profile("app", "clash-api", {**params, "controller": core.controller}),
                                BackendContext(secrets=SecretStore(MemoryKeyring(locked=True))))
            if works:
                b.connect(timeout=5)
                continue
            with pytest.raises(AuthFailed, match="asks for a secret, and the keyring is locked") as caught:
                b.connect(timeout=5)
            assert "keyring" in caught.value.hint
