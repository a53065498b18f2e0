"""Start-up time and idle cost of the tray app on a real X server with a tray host.

    python -m tests.bench.startup [--repeat 5] [--idle-seconds 60] [--json PATH] [--app PATH]

``--app`` measures an installed or bundled ``vpnswitch`` (a PyInstaller folder's executable, a venv's script)
instead of this checkout.

Runs the real ``vpnswitch --minimized`` in a private session (Xvfb, trayer, its own D-Bus) with three
``command`` profiles whose "VPNs" are SOCKS proxies on loopback, so the engine really probes while idle.
"Launch → icon" is from process spawn to the app's own log line saying the tray host embedded the icon
(the icon has a size on screen). Then one instance stays up: once connected, its RSS and CPU are sampled for
``--idle-seconds``. Prints a table; writes JSON. Measurements, not assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from tests.bench.idle import sample_idle
from tests.gui.xsession import XSession, missing_tools
from tests.support import fakevpn
from tests.support.servers import HttpSite, SocksProxy

ROOT = Path(__file__).resolve().parents[2]
APP = [sys.executable, "-m", "vpnswitch"]  # the checkout; --app replaces it
SHOWN = re.compile(r"tray icon shown ([\d.]+) s after start")


def write_config(path: Path, work: Path, site: HttpSite, proxies: list[SocksProxy]) -> None:
    work.mkdir(parents=True, exist_ok=True)
    config = {
        "version": 1,
        "profiles": [{"name": f"vpn{i}", "backend": "command", "params": {
            "connect": [sys.executable, fakevpn.__file__, "up", str(work / f"vpn{i}")],
            "disconnect": [sys.executable, fakevpn.__file__, "down", str(work / f"vpn{i}")],
            "proxy": p.url}} for i, p in enumerate(proxies)],
        "targets": [{"url": site.url("/generate_204"), "role": "canary", "expect": [204]},
                    {"url": f"http://localhost:{site.port}/generate_204", "role": "canary", "expect": [204]},
                    {"url": site.url("/status/200"), "role": "must-reach", "expect": [200]}],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config))


def launch(session: XSession, home: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    env = dict(session.env, VPNSWITCH_HOME=str(home), QT_QPA_PLATFORM="xcb", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([*APP, "--minimized"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    return proc, env


def wait_for_icon(proc: subprocess.Popen[str], started: float, timeout: float = 30.0) -> tuple[float, float]:
    """(seconds from spawn, seconds the app itself reports from creating its tray) when the icon is embedded."""
    assert proc.stderr is not None
    deadline = started + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stderr], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        line = proc.stderr.readline()
        if not line:
            break
        match = SHOWN.search(line)
        if match:
            return time.monotonic() - started, float(match.group(1))
    raise SystemExit(f"no tray icon within {timeout} s (exit code {proc.poll()})")


def stop(proc: subprocess.Popen[str]) -> float:
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    if proc.stderr is not None:
        proc.stderr.close()
    return time.monotonic() - started


def drain(proc: subprocess.Popen[str]) -> None:
    """Keep reading the app's log output so a full pipe never stalls it."""
    import threading

    def run() -> None:
        assert proc.stderr is not None
        for _ in proc.stderr:
            pass

    threading.Thread(target=run, daemon=True).start()


def wait_connected(env: dict[str, str], timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = subprocess.run([*APP, "status", "--json"], env=env, capture_output=True,
                             text=True, timeout=30)
        if out.returncode == 0:
            state = json.loads(out.stdout)
            if state["state"] == "connected" and state["verdict"] == "healthy":
                return str(state["active"])
        time.sleep(0.5)
    raise SystemExit("the tray app did not connect")


def measure(repeat: int, idle_seconds: float) -> dict[str, Any]:
    missing = missing_tools(("Xvfb", "trayer", "dbus-daemon", "xdotool"))
    if missing:
        raise SystemExit("needs: " + ", ".join(missing))
    with tempfile.TemporaryDirectory() as tmp, HttpSite() as site:
        root = Path(tmp)
        proxies = [SocksProxy().__enter__() for _ in range(3)]
        try:
            with XSession(root / "session", notifications=False) as session:
                spawn_to_icon, in_app, quit_s = [], [], []
                for run in range(repeat):
                    home = root / f"home{run}"
                    write_config(home / "config" / "config.json", root / f"work{run}", site, proxies)
                    started = time.monotonic()
                    proc, _env = launch(session, home)
                    total, own = wait_for_icon(proc, started)
                    spawn_to_icon.append(total)
                    in_app.append(own)
                    drain(proc)
                    time.sleep(1.0)
                    quit_s.append(stop(proc))
                home = root / "idle"
                write_config(home / "config" / "config.json", root / "work-idle", site, proxies)
                started = time.monotonic()
                proc, env = launch(session, home)
                wait_for_icon(proc, started)
                drain(proc)
                active = wait_connected(env)
                idle = sample_idle(proc.pid, idle_seconds)
                uss = psutil.Process(proc.pid).memory_full_info().uss
                rounds = site.server.hits  # type: ignore[attr-defined]
                quit_s.append(stop(proc))
        finally:
            for p in proxies:
                p.__exit__(None, None, None)
    return {
        "launch_to_icon_s": [round(x, 3) for x in spawn_to_icon],
        "launch_to_icon_median_s": round(statistics.median(spawn_to_icon), 3),
        "tray_created_to_icon_median_s": round(statistics.median(in_app), 3),
        **{f"idle_{key}": value for key, value in idle.items()},
        "idle_active_profile": active,
        "idle_uss_mb": round(uss / 2**20, 1),
        "probe_requests_seen": rounds,
        "quit_median_s": round(statistics.median(quit_s), 3),
        "python": sys.version.split()[0],
        "platform": "xcb + trayer (XEmbed) on Xvfb",
        "cpus": os.cpu_count(),
    }


TARGETS = {"launch_to_icon_median_s": ("<=", 1.0), "idle_rss_mb": ("<=", 90.0), "idle_cpu_percent": ("<", 0.5)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--app", type=Path, help="an installed or bundled vpnswitch executable to measure")
    args = parser.parse_args()
    if args.app:
        APP[:] = [str(args.app.resolve())]
    result = measure(args.repeat, args.idle_seconds)
    print(f"{'metric':<32} {'value':>24}  target")
    for key, value in result.items():
        target = TARGETS.get(key)
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        print(f"{key:<32} {shown:>24}  {f'{target[0]} {target[1]:g}' if target else ''}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"tray_startup": result}, indent=2))


if __name__ == "__main__":
    main()
