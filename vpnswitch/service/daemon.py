"""``vpnswitch daemon``: the runtime without a window, until SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from vpnswitch.core.config import Config
from vpnswitch.core.paths import Paths
from vpnswitch.service.wiring import Instance

log = logging.getLogger(__name__)


def run(paths: Paths, config: Config) -> int:
    instance = Instance(paths, config)
    instance.start()
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, lambda *_: instance.runtime.apply_config(instance.reload()))
    while not stop.wait(3600):
        pass
    instance.stop()
    log.info("stopped")
    return 0
