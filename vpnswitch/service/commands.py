"""What the control socket can do: the same verbs for the daemon and the tray app."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from vpnswitch.core.config import Config
from vpnswitch.core.errors import VpnSwitchError
from vpnswitch.core.history import HistoryLog
from vpnswitch.service.runtime import Runtime

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 30.0


class ControlHandler:
    """Maps requests to runtime calls. ``reload`` re-reads the config file; ``show`` asks a GUI to appear."""

    def __init__(
        self,
        runtime: Runtime,
        history: HistoryLog | None,
        reload_config: Callable[[], Config] | None = None,
        show_window: Callable[[], None] | None = None,
    ) -> None:
        self.runtime = runtime
        self.history = history
        self._reload_config = reload_config
        self._show_window = show_window

    def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        cmd = request["cmd"]
        match cmd:
            case "status":
                return {"ok": True, "result": self.runtime.snapshot().to_json()}
            case "switch":
                profile = request.get("profile")
                if not isinstance(profile, str):
                    return {"ok": False, "error": "switch needs a profile name"}
                try:
                    self.runtime.switch(profile)
                except KeyError:
                    names = ", ".join(p.name for p in self.runtime.config.profiles) or "none"
                    return {"ok": False, "error": f'no profile named "{profile}" (profiles: {names})'}
                return {"ok": True, "result": f"switching to {profile}"}
            case "pause":
                self.runtime.pause()
                return {"ok": True, "result": "automatic switching paused"}
            case "resume":
                self.runtime.resume()
                return {"ok": True, "result": "automatic switching resumed"}
            case "check":
                pending = self.runtime.check()
                conflicts = self._conflicts()  # asked while the probes run
                result = asdict(pending.result(timeout=CHECK_TIMEOUT))
                result["conflicts"] = conflicts
                return {"ok": True, "result": result}
            case "history":
                limit = request.get("limit", 200)
                if not isinstance(limit, int) or limit < 1:
                    limit = 200
                entries = self.history.entries(limit=limit) if self.history else []
                return {"ok": True, "result": entries}
            case "reload":
                if self._reload_config is None:
                    return {"ok": False, "error": "this instance cannot reload its configuration"}
                try:
                    config = self._reload_config()
                except VpnSwitchError as exc:
                    return {"ok": False, "error": exc.explain(), "code": exc.code}
                self.runtime.apply_config(config)
                return {"ok": True, "result": "configuration reloaded"}
            case "show":
                if self._show_window is not None:
                    self._show_window()
                return {"ok": True, "result": "shown" if self._show_window else "no window (headless)"}
        return {"ok": False, "error": f"unknown command {cmd!r}"}

    def _conflicts(self) -> list[dict[str, Any]]:
        """Vendor kill switches and tunnels of other apps that would break the next switch; never fails check."""
        try:
            from vpnswitch.backends.conflicts import find_conflicts

            active = self.runtime.snapshot().active
            profile = self.runtime.config.profile(active) if active else None
            return [c.to_json() for c in find_conflicts(active_backend=profile.backend if profile else None)]
        except Exception:
            log.exception("looking for conflicting VPN settings failed")
            return []
