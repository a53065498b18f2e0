"""One running vpnswitch — the headless daemon or the engine inside the tray app.

It wires the real system touchpoints (runner, probes, network sensors, keyring) to the runtime, runs it on
its own thread, serves the control socket, and saves settings so that nothing the user wrote is lost.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vpnswitch.backends import registry
from vpnswitch.backends.base import Backend, BackendContext
from vpnswitch.core import config as config_io
from vpnswitch.core.clock import SystemClock
from vpnswitch.core.config import Config, Profile
from vpnswitch.core.history import HistoryLog
from vpnswitch.core.paths import Paths, ensure_private_dir
from vpnswitch.core.secrets import SecretStore
from vpnswitch.service.commands import ControlHandler
from vpnswitch.service.controlsocket import ControlServer
from vpnswitch.service.eventloop import ThreadedLoop
from vpnswitch.service.latencylog import LATENCY_FILE, LatencyRecorder
from vpnswitch.service.runtime import MemoryStore, Runtime
from vpnswitch.system import netinfo
from vpnswitch.system.leakguard import LeakGuard
from vpnswitch.system.localnet import LocalNetwork
from vpnswitch.system.netinfo import Counters, Underlay
from vpnswitch.system.probe import HttpProber
from vpnswitch.system.runner import Runner
from vpnswitch.system.sysproxy import SystemProxy
from vpnswitch.system.sysproxy.loginrestore import login_restore_item

if TYPE_CHECKING:
    from vpnswitch.system.sleepwatch import SleepWatch

log = logging.getLogger(__name__)


class SystemSensors:
    """The machine's real network state, read cheaply."""

    def underlay(self, tunnels: frozenset[str]) -> Underlay:
        return netinfo.underlay(tunnels)

    def interface_up(self, name: str) -> bool | None:
        return netinfo.interface_up(name)

    def counters(self, name: str) -> Counters | None:
        return netinfo.interface_counters(name)


def load_or_default(paths: Paths) -> Config:
    """The user's config; raises ConfigError/ConfigUnreadable (file untouched).

    With no file yet (first start), the defaults plus a profile for every VPN app, configuration and Tor
    found on this machine. Nothing is written: the file appears when the user saves settings, so loading
    never changes anything on disk and an app installed before that first save is picked up next start.
    """
    loaded = config_io.load_config(paths.config_file, registry.CATALOG)
    if loaded is not None:
        return loaded
    try:
        from vpnswitch.backends.detect import default_config

        return default_config()
    except Exception:  # detection must never stop vpnswitch from starting (logged with its traceback)
        log.exception("detecting installed VPN apps failed; starting with no profiles")
        return config_io.default_config()


def _sleep_watch(on_change: Callable[[bool], None]) -> SleepWatch | None:
    if not sys.platform.startswith("linux"):
        return None
    from vpnswitch.system.sleepwatch import SleepWatch

    return SleepWatch(on_change)


@dataclass
class SaveResult:
    kept_aside: Path | None


class Instance:
    def __init__(self, paths: Paths, config: Config, *, show_window: Callable[[], None] | None = None) -> None:
        self.paths = paths
        ensure_private_dir(paths.state_dir)
        ensure_private_dir(paths.cache_dir)
        self.clock = SystemClock()
        self.loop = ThreadedLoop(self.clock)
        self.history = HistoryLog(paths.history_file)
        self.secrets = SecretStore()
        runner = Runner()
        # The desktop proxy (set while Tor is active); the user's own setting is kept under the state dir.
        self.system_proxy = SystemProxy(paths.state_dir, runner,
                                        login_restore=login_restore_item(paths.login_items_home))
        self.context = BackendContext(runner=runner, secrets=self.secrets, clock=self.clock,
                                      work_dir=paths.cache_dir, system_proxy=self.system_proxy)
        self.prober = HttpProber(tunnel_resolvers=lambda: self.runtime.config.behaviour.tunnel_resolvers)
        self.runtime = Runtime(
            config,
            loop=self.loop,
            backend_factory=self._create_backend,
            prober=self.prober,
            sensors=SystemSensors(),
            clock=self.clock,
            history=self.history,
            memory=MemoryStore(paths.memory_file),
            local_network=LocalNetwork(),
            leak_guard=LeakGuard(runner) if LeakGuard.supported() else None,
        )
        # Subscribed before the start, so no round is missed; read by the desktop's chart.
        self.latency = LatencyRecorder(paths.state_dir / LATENCY_FILE)
        self.runtime.subscribe(self.latency)
        # logind says before the machine sleeps; elsewhere the runtime's clock-gap detector does it alone.
        self.sleep_watch = _sleep_watch(self.runtime.sleep_signal)
        self.control = ControlServer(
            paths.control_socket,
            ControlHandler(self.runtime, self.history, reload_config=self.reload, show_window=show_window),
        )

    def _create_backend(self, profile: Profile) -> Backend:
        return registry.create(profile, self.context)

    def start(self) -> None:
        """Claim the control socket first: a second instance must not touch the VPNs."""
        self.control.start()
        # Only now that this is the one instance: put back a system proxy a crashed run left behind.
        self.system_proxy.recover_in_background()
        self.loop.start()
        self.runtime.start()
        if self.sleep_watch is not None:
            self.sleep_watch.start(wait=0)  # subscribes in its own thread; never holds up the start
        log.info("vpnswitch started with %d profiles", len(self.runtime.config.profiles))

    def stop(self, timeout: float = 20.0) -> None:
        self.control.stop()
        if self.sleep_watch is not None:
            self.sleep_watch.stop()
        if not self.runtime.stop(timeout):
            log.warning("stopping took longer than %.0f s; some VPN may still be up", timeout)
        self.loop.stop()
        self.prober.close()
        try:
            self.system_proxy.restore()  # a safety net: normally disconnecting Tor already restored it
        except Exception:
            log.exception("restoring the system proxy failed")

    def reload(self) -> Config:
        return load_or_default(self.paths)

    def save_config(self, config: Config) -> SaveResult:
        """Write settings atomically and apply them now. A broken old file is kept aside, never lost."""
        aside = config_io.save_config(self.paths.config_file, config, registry.CATALOG)
        if aside is not None:
            log.warning("the old, unreadable configuration was kept as %s", aside)
        self.runtime.apply_config(config)
        return SaveResult(aside)
