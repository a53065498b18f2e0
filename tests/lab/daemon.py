"""The real ``vpnswitch daemon`` inside the lab's client namespace, and what a user's apps see there.

``LabDaemon`` starts the daemon (as a child of ``ip netns exec``, recorded by the lab so a crashed test
still gets it stopped) with a config dict and ``VPNSWITCH_HOME`` in a directory of its own, talks to it
over its control socket (a socket file, so it is reachable from any namespace), and stops it by PID.
``SiteWatch`` plays the user: it keeps requesting a site through whatever route is in charge and says
when the site answered. Failures carry the daemon's log and history, because they vanish with the test.

    with LabDaemon(lab, daemon_config(lab, [wg_profile(lab), ovpn_tcp_profile(lab)]), home) as daemon:
        daemon.wait_for(lambda: daemon.connected_on("wg"), 60, "connected on wg")
        lab.block_wireguard_port()
        daemon.wait_for(lambda: daemon.connected_on("ovpn-tcp"), 60, "the switch")
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.lab.harness import Lab
from vpnswitch.core.errors import VpnSwitchError
from vpnswitch.core.paths import Paths
from vpnswitch.service import controlsocket
from vpnswitch.system.runner import stop_process

REPO = Path(__file__).resolve().parents[2]
_SITEWATCH = Path(__file__).resolve().with_name("sitewatch.py")
_POLL = 0.1
_counter = 0


# ------------------------------------------------------------------------------------------ configs


def wg_profile(lab: Lab, name: str = "wg", *, alt: bool = False) -> dict[str, Any]:
    """The lab's WireGuard server (udp/51820, or udp/443 with alt) through the real wireguard backend."""
    conf = lab.wg_alt_client_conf if alt else lab.wg_client_conf
    return {"name": name, "backend": "wireguard", "params": {"config": str(conf)}}


def ovpn_udp_profile(lab: Lab, name: str = "ovpn-udp") -> dict[str, Any]:
    return {"name": name, "backend": "openvpn", "params": {"config": str(lab.ovpn_udp_conf)}}


def ovpn_tcp_profile(lab: Lab, name: str = "ovpn-tcp") -> dict[str, Any]:
    return {"name": name, "backend": "openvpn", "params": {"config": str(lab.ovpn_tcp_conf)}}


def lab_targets(lab: Lab) -> list[dict[str, Any]]:
    """IP URLs only: the lab's DNS is censored. Two canaries and the blocked site as the must-reach one."""
    return [
        {"url": lab.canary_204_url, "role": "canary", "expect": [204]},
        {"url": lab.canary_ip_url, "role": "canary", "expect": [200]},
        {"url": lab.blocked_ip_url, "role": "must-reach", "expect": [200]},
    ]


def daemon_config(
    lab: Lab,
    profiles: Sequence[Mapping[str, Any]],
    *,
    timings: Mapping[str, float] | None = None,
    behaviour: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A config file's content: default timings unless a test says otherwise (and says why)."""
    config: dict[str, Any] = {"version": 1, "profiles": [dict(p) for p in profiles], "targets": lab_targets(lab)}
    if timings:
        config["timings"] = dict(timings)
    if behaviour:
        config["behaviour"] = dict(behaviour)
    return config


# ------------------------------------------------------------------------------------------- daemon


class DaemonFailed(AssertionError):
    """The daemon did not do what was waited for; the message carries its log and history."""


class LabDaemon:
    """One ``vpnswitch daemon`` in ``lab.client_ns``; a context manager that always stops it."""

    def __init__(self, lab: Lab, config: Mapping[str, Any], home: Path | None = None, *, verbose: bool = True) -> None:
        global _counter
        _counter += 1
        self.lab = lab
        self.name = f"vpnswitch-{os.getpid()}-{_counter}"
        self._own_home = home is None
        self.home = Path(tempfile.mkdtemp(prefix="vpnswitch-lab-")) if home is None else Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.verbose = verbose
        # The layout VPNSWITCH_HOME gives (vpnswitch.core.paths.Paths.default without --config).
        self.paths = Paths(
            config_file=self.home / "config" / "config.json",
            state_dir=self.home / "state",
            cache_dir=self.home / "cache",
            log_dir=self.home / "log",
            runtime_dir=self.home / "run",
        )
        self.output = self.home / "daemon.out"
        self.write_config(config)
        self.proc: subprocess.Popen[bytes] | None = None

    # -------------------------------------------------------------------------------- lifecycle

    def write_config(self, config: Mapping[str, Any]) -> None:
        self.paths.config_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.paths.config_file.write_text(json.dumps(config, indent=2))
        os.chmod(self.paths.config_file, 0o600)

    @property
    def env(self) -> dict[str, str]:
        return {"VPNSWITCH_HOME": str(self.home), "PYTHONPATH": str(REPO)}

    def start(self, answer_within: float = 30.0) -> LabDaemon:
        argv = [sys.executable, "-m", "vpnswitch", "daemon", *(["--verbose"] if self.verbose else [])]
        with self.output.open("ab") as out:
            self.proc = self.lab.client_popen(argv, name=self.name, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        self.wait_for(self._answers, answer_within, "the daemon to answer on its control socket")
        return self

    def _answers(self) -> bool:
        try:
            self.request("status")
        except VpnSwitchError:
            return False
        return True

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def stop(self, timeout: float = 40.0) -> int | None:
        """SIGTERM by PID (the daemon takes its VPN down), SIGKILL if it does not finish; the exit code."""
        if self.proc is None:
            return None
        return stop_process(self.proc, grace=timeout)

    def __enter__(self) -> LabDaemon:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
        if self._own_home and exc is None:  # a home it made itself is kept only to explain a failure
            shutil.rmtree(self.home, ignore_errors=True)

    # ---------------------------------------------------------------------------------- control

    def request(self, cmd: str, timeout: float = 10.0, **args: Any) -> Any:
        """One control-socket request (what the CLI sends); the result, or VpnSwitchError."""
        answer = controlsocket.request(self.paths.control_socket, cmd, timeout=timeout, **args)
        if not answer.get("ok"):
            raise VpnSwitchError(str(answer.get("error", "failed")))
        return answer["result"]

    def status(self) -> dict[str, Any]:
        result: dict[str, Any] = self.request("status")
        return result

    def history(self, limit: int = 1000) -> list[dict[str, Any]]:
        """History entries, oldest first."""
        result: list[dict[str, Any]] = self.request("history", limit=limit)
        return result

    def cli(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        """The real ``vpnswitch`` command line against this daemon (run from the test's namespace)."""
        return subprocess.run(
            [sys.executable, "-m", "vpnswitch", *args],
            capture_output=True, text=True, timeout=timeout, env={**os.environ, **self.env}, cwd=REPO,
        )

    def connected_on(self, profile: str, verdict: str | None = "healthy") -> bool:
        """Whether the daemon is connected through ``profile`` (and, unless None, with that verdict)."""
        try:
            s = self.status()
        except VpnSwitchError:
            return False
        return s["state"] == "connected" and s["active"] == profile and (verdict is None or s["verdict"] == verdict)

    def failed_at(self, profile: str, since: float) -> float | None:
        """Wall time of the first verdict at or after ``since`` that gave ``profile`` up (failing, down, leaking)."""
        for entry in self.entries("verdict", since=since):
            if entry.get("profile") == profile and entry.get("verdict") in ("failing", "down", "leaking"):
                return float(entry["t"])
        return None

    def entries(self, *kinds: str, since: float | None = None) -> list[dict[str, Any]]:
        """History entries of these kinds (all when none), optionally only those at or after wall time ``since``."""
        return [e for e in self.history()
                if (not kinds or e.get("kind") in kinds) and (since is None or float(e.get("t", 0)) >= since)]

    def wait_for(self, predicate: Callable[[], Any], limit: float, what: str) -> Any:
        """Poll until predicate() is truthy and return its value; DaemonFailed with the logs after ``limit`` s."""
        deadline = time.monotonic() + limit
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                raise DaemonFailed(f"the daemon exited ({self.proc.returncode}) while waiting for {what}\n"
                                   + self.describe())
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise DaemonFailed(f"timed out after {limit:g} s waiting for {what}\n" + self.describe())
            time.sleep(_POLL)

    # ------------------------------------------------------------------------------ diagnostics

    def log_text(self, lines: int = 80) -> str:
        """The tail of the daemon's own log (the file under VPNSWITCH_HOME, else its console output)."""
        path = self.paths.log_dir / "vpnswitch.log"
        if not path.exists():
            path = self.output
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def describe(self, lines: int = 80) -> str:
        """Status, history and log tail, for a failure message."""
        parts = []
        try:
            parts.append("status: " + json.dumps(self.status()))
        except VpnSwitchError as exc:
            parts.append(f"status: unavailable ({exc})")
        try:
            history = self.paths.history_file.read_text(errors="replace").splitlines()[-40:]
            parts.append("history (tail):\n  " + "\n  ".join(history))
        except OSError:
            parts.append("history: none")
        parts.append(f"client interfaces: {', '.join(client_interfaces(self.lab)) or 'none'}")
        parts.append(f"daemon log (tail):\n{self.log_text(lines)}")
        return "\n".join(parts)


# ------------------------------------------------------------------------------ the client namespace


def client_interfaces(lab: Lab) -> list[str]:
    """Interfaces in the client namespace other than loopback and the underlay: tunnels somebody left up."""
    out = lab.client_run(["ip", "-o", "link", "show"], check=True).stdout
    names = [line.split(":", 2)[1].strip().split("@")[0] for line in out.splitlines() if line.strip()]
    return [n for n in names if n not in ("lo", lab.client_iface)]


def client_processes(lab: Lab) -> list[str]:
    """Processes running in the client namespace (pid and command line)."""
    out = subprocess.run(["ip", "netns", "pids", lab.client_ns], capture_output=True, text=True, timeout=10)
    found = []
    for pid in (int(p) for p in out.stdout.split()):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        found.append(f"{pid} {cmd}")
    return found


_DEFAULT_RULES = {"from all lookup local", "from all lookup main", "from all lookup default"}


def client_leftovers(lab: Lab) -> list[str]:
    """What a stopped daemon must not leave in the client namespace: tunnels, VPN processes, policy-routing
    rules, firewall tables (the lab itself runs nothing there)."""
    found = [f"interface {name}" for name in client_interfaces(lab)]
    found += [f"process {proc}" for proc in client_processes(lab)]
    rules = lab.client_run(["ip", "rule", "show"], check=True).stdout.splitlines()
    found += [f"rule {r.strip()}" for r in rules if r.strip() and r.split(":", 1)[-1].strip() not in _DEFAULT_RULES]
    tables = lab.client_run(["nft", "list", "tables"], check=True).stdout.splitlines()
    found += [f"nft {t.strip()}" for t in tables if t.strip()]
    return found


def client_routing(lab: Lab) -> str:
    """Routes and rules of the client namespace, for messages."""
    routes = lab.client_run(["ip", "route", "show", "table", "all"]).stdout
    rules = lab.client_run(["ip", "rule", "show"]).stdout
    return f"routes:\n{routes}rules:\n{rules}"


def pids_of(lab: Lab, program: str) -> list[int]:
    """PIDs of one program (by its executable's base name) in the client namespace only."""
    out = subprocess.run(["ip", "netns", "pids", lab.client_ns], capture_output=True, text=True, timeout=10)
    found = []
    for pid in (int(p) for p in out.stdout.split()):
        try:
            argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
        except OSError:
            continue
        if Path(argv0).name == program:
            found.append(pid)
    return found


# -------------------------------------------------------------------------------------- the user


class SiteWatch:
    """Keeps requesting one URL from the client namespace, like a user reloading a page.

    Every attempt uses a new connection along the namespace's normal routes. ``answered_after(t)`` is
    the wall time a request started at or after ``t`` first succeeded: "the site works again". Created with
    ``armed=True`` it starts up but sends nothing until ``go()`` (an idle user who comes back).
    """

    def __init__(self, lab: Lab, url: str, *, period: float = 0.2, timeout: float = 2.0, armed: bool = False,
                 socks5: str | None = None) -> None:
        global _counter
        _counter += 1
        self.lab = lab
        self.url = url
        self.name = f"sitewatch-{os.getpid()}-{_counter}"
        fd, out = tempfile.mkstemp(prefix="sitewatch-", suffix=".jsonl")
        os.close(fd)
        self._out = Path(out)
        self._trigger = self._out.with_suffix(".go")
        self._argv = [sys.executable, str(_SITEWATCH), url, "--period", str(period), "--timeout", str(timeout)]
        if armed:
            self._argv += ["--wait-for", str(self._trigger)]
        if socks5:
            self._argv += ["--socks5", socks5]  # an app set to use a proxy (tor's SOCKS port)
        self.proc: subprocess.Popen[bytes] | None = None

    def go(self) -> None:
        """Let an armed watch start sending."""
        self._trigger.touch()

    def start(self) -> SiteWatch:
        with self._out.open("ab") as out:
            self.proc = self.lab.client_popen(self._argv, name=self.name, stdout=out, stderr=subprocess.DEVNULL)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, grace=5)

    def close(self) -> None:
        self.stop()
        self._out.unlink(missing_ok=True)
        self._trigger.unlink(missing_ok=True)

    def __enter__(self) -> SiteWatch:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def attempts(self) -> list[dict[str, Any]]:
        records = []
        for line in self._out.read_text(errors="replace").splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                continue  # a line being written right now
        return records

    def answered_after(self, since: float, via: Collection[str] | None = None) -> float | None:
        """End time of the first successful attempt that started at or after ``since`` (wall clock).

        With ``via``, only answers the site saw coming from one of these source addresses count (the way
        out that carried them: a VPN server's NAT address, a Tor exit's).
        """
        first = self.first_answer(since, via)
        return float(first["end"]) if first else None

    def first_answer(self, since: float, via: Collection[str] | None = None) -> dict[str, Any] | None:
        """The attempt behind ``answered_after`` (its start, end and the ``via`` the site saw), or None."""
        done = [a for a in self.attempts()
                if a["ok"] and a["start"] >= since and (via is None or a.get("via") in via)]
        return min(done, key=lambda a: a["end"]) if done else None

    def ok_ratio(self, since: float | None = None) -> float:
        done = [a for a in self.attempts() if since is None or a["start"] >= since]
        return sum(1 for a in done if a["ok"]) / len(done) if done else 0.0
