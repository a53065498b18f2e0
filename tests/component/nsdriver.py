"""Run one real backend inside a network namespace, driven by JSON lines on stdin.

The daemon runs under ``ip netns exec <ns>``; so does this driver, so the backends meet exactly what
they meet there (the namespace's interfaces and routes, /sys remounted, /var/run/wireguard shared).
The test process stays outside and drives it: ``Driver.call("connect", timeout=20)``.

    python -m tests.component.nsdriver WORK_DIR
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
import traceback
import urllib.request
from pathlib import Path
from typing import Any

from tests.support.memkeyring import MemoryKeyring
from vpnswitch.backends import registry
from vpnswitch.backends.base import Backend, BackendContext
from vpnswitch.core.config import Profile
from vpnswitch.core.errors import VpnSwitchError
from vpnswitch.core.secrets import SecretStore
from vpnswitch.system import netinfo, privileged
from vpnswitch.system.runner import Runner


def _error(exc: BaseException, started: float) -> dict[str, Any]:
    if isinstance(exc, VpnSwitchError):
        return {"ok": False, "error": type(exc).__name__, "code": exc.code, "message": exc.message,
                "fatal": bool(getattr(exc, "fatal", False)), "elapsed": time.monotonic() - started}
    return {"ok": False, "error": type(exc).__name__, "message": "".join(traceback.format_exception(exc)),
            "fatal": False, "elapsed": time.monotonic() - started}


class Server:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.secrets = SecretStore(MemoryKeyring())
        self.backend: Backend | None = None

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request["op"]
        started = time.monotonic()
        try:
            return {"ok": True, **getattr(self, f"op_{op}")(request), "elapsed": time.monotonic() - started}
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the test as data
            return _error(exc, started)

    def _backend(self) -> Backend:
        assert self.backend is not None, "create a backend first"
        return self.backend

    def op_create(self, r: dict[str, Any]) -> dict[str, Any]:
        if r.get("helper"):
            prefix = list(r["helper"])
            privileged.ops_for = lambda runner: privileged.HelperOps(runner, prefix=prefix)
        for key, value in r.get("secrets", {}).items():
            self.secrets.set(r["profile"], key, value)
        profile = Profile(r["profile"], r["backend"], r["params"])
        problems = registry.backend_class(r["backend"]).validate_params(profile.params)
        if problems:
            raise ValueError(f"invalid params: {problems}")
        context = BackendContext(runner=Runner(), secrets=self.secrets, work_dir=self.work)
        self.backend = registry.create(profile, context)
        return {}

    def op_connect(self, r: dict[str, Any]) -> dict[str, Any]:
        self._backend().connect(float(r.get("timeout", 20)))
        return {}

    def op_disconnect(self, r: dict[str, Any]) -> dict[str, Any]:
        self._backend().disconnect(float(r.get("timeout", 10)))
        return {}

    def op_status(self, r: dict[str, Any]) -> dict[str, Any]:
        status = self._backend().status(float(r.get("timeout", 5)))
        return {"state": status.state, "detail": status.detail, "fatal": status.fatal}

    def op_route(self, r: dict[str, Any]) -> dict[str, Any]:
        route = self._backend().route()
        return {"kind": route.kind, "interface": route.interface, "proxy": route.proxy}

    def op_transport(self, r: dict[str, Any]) -> dict[str, Any]:
        return {"transport": self._backend().transport()}

    def op_liveness(self, r: dict[str, Any]) -> dict[str, Any]:
        return {"reason": self._backend().liveness()}

    def op_wait_liveness(self, r: dict[str, Any]) -> dict[str, Any]:
        """Sample liveness as the runtime does (but faster), until it gives a reason. ``backend_only``: ask only
        the backend, not whether its interface still exists (which the runtime also checks)."""
        deadline = time.monotonic() + float(r.get("timeout", 5))
        backend = self._backend()
        interface = backend.route().interface
        while time.monotonic() < deadline:
            reason = backend.liveness()
            if reason is None and interface and not r.get("backend_only") and netinfo.interface_up(interface) is None:
                reason = f"interface {interface} disappeared"
            if reason is not None:
                return {"reason": reason}
            time.sleep(0.02)
        return {"reason": None}

    def op_fetch(self, r: dict[str, Any]) -> dict[str, Any]:
        with urllib.request.urlopen(r["url"], timeout=float(r.get("timeout", 3))) as response:
            return {"status": response.status, "body": response.read(200).decode(errors="replace")}

    def op_interface_up(self, r: dict[str, Any]) -> dict[str, Any]:
        return {"up": netinfo.interface_up(r["name"])}

    def op_close(self, r: dict[str, Any]) -> dict[str, Any]:
        if self.backend is not None:
            self.backend.close()
        return {}


def main() -> int:
    server = Server(Path(sys.argv[1]))
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "exit":
            break
        sys.stdout.write(json.dumps(server.handle(request)) + "\n")
        sys.stdout.flush()
    if server.backend is not None:
        server.backend.close()
    return 0


# ---------------------------------------------------------------------------------------- test side


class Driver:
    """The test's handle on a driver process running in a namespace."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc

    def call(self, op: str, *, wait: float = 60.0, **fields: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write((json.dumps({"op": op, **fields}) + "\n").encode())
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], wait)
        if not ready:
            raise TimeoutError(f"driver did not answer {op} within {wait} s")
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"driver exited (code {self.proc.wait(5)}) during {op}")
        return dict(json.loads(line))

    def ok(self, op: str, **fields: Any) -> dict[str, Any]:
        reply = self.call(op, **fields)
        assert reply["ok"], f"{op} failed: {reply.get('error')}: {reply.get('message')}"
        return reply

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.call("close", wait=20)
                assert self.proc.stdin is not None
                self.proc.stdin.write(b'{"op": "exit"}\n')
                self.proc.stdin.flush()
                self.proc.wait(timeout=20)
            except (OSError, TimeoutError, RuntimeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(timeout=5)


def repo_root() -> str:
    return str(Path(__file__).resolve().parents[2])


def driver_env() -> dict[str, str]:
    return {"PYTHONPATH": os.pathsep.join(filter(None, [repo_root(), os.environ.get("PYTHONPATH", "")]))}


if __name__ == "__main__":
    sys.exit(main())
