"""Idle cost of the headless daemon: CPU and memory while it guards a healthy connection.

    python -m tests.bench.daemon_idle [--seconds 60] [--profiles 3] [--json PATH]

Starts the real ``vpnswitch daemon`` with ``command`` profiles whose "VPNs" are SOCKS proxies on loopback,
waits until it is connected, then samples its process for the given time. Prints a table; writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.idle import sample_idle
from tests.support import fakevpn
from tests.support.servers import HttpSite, SocksProxy


def measure(seconds: float, profiles: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, HttpSite() as site:
        proxies = [SocksProxy().__enter__() for _ in range(profiles)]
        config = {
            "version": 1,
            "profiles": [{"name": f"vpn{i}", "backend": "command", "params": {
                "connect": [sys.executable, fakevpn.__file__, "up", f"{tmp}/vpn{i}"],
                "disconnect": [sys.executable, fakevpn.__file__, "down", f"{tmp}/vpn{i}"],
                "proxy": p.url}} for i, p in enumerate(proxies)],
            "targets": [{"url": site.url("/generate_204"), "role": "canary", "expect": [204]},
                        {"url": f"http://localhost:{site.port}/generate_204", "role": "canary", "expect": [204]},
                        {"url": site.url("/status/200"), "role": "must-reach", "expect": [200]}],
        }
        path = Path(tmp) / "config.json"
        path.write_text(json.dumps(config))
        env = {**os.environ, "VPNSWITCH_HOME": f"{tmp}/home"}
        base = [sys.executable, "-m", "vpnswitch", "--config", str(path)]
        daemon = subprocess.Popen([*base, "daemon"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                out = subprocess.run([*base, "status", "--json"], capture_output=True, text=True, env=env,
                                     timeout=30)
                if out.returncode == 0 and json.loads(out.stdout)["state"] == "connected":
                    break
                time.sleep(0.5)
            else:
                raise SystemExit("the daemon did not connect")
            return {**sample_idle(daemon.pid, seconds), "profiles": profiles}
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=30)
            for p in proxies:
                p.__exit__(None, None, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--profiles", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = measure(args.seconds, args.profiles)
    print(f"{'metric':<14} value")
    for key, value in result.items():
        print(f"{key:<14} {value}")
    if args.json:
        args.json.write_text(json.dumps({"daemon_idle": result}, indent=2))


if __name__ == "__main__":
    main()
