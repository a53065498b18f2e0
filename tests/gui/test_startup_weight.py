"""What the tray app loads to reach the tray and run the engine stays small: windows, Qt Charts, the keyring and
Tor's controller are imported when first needed, not at start (each costs megabytes the idle app would hold).
The measured figures come from ``python -m tests.bench.startup``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_AT_START = ("PySide6.QtCharts", "vpnswitch.ui.settings.window", "vpnswitch.ui.history_window", "keyring", "stem",
                "vpnswitch.backends.detect")


def test_start_up_imports_leave_windows_charts_and_keyring_for_later() -> None:
    code = ("import sys, vpnswitch.cli, vpnswitch.ui.app, vpnswitch.service.wiring; "
            "print('\\n'.join(sorted(sys.modules)))")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env,
                                timeout=60).stdout.split())
    assert "vpnswitch.ui.tray" in loaded  # the check itself sees the start-up modules
    assert sorted(loaded & set(NOT_AT_START)) == []
