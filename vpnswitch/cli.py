"""The ``vpnswitch`` command: the tray app with no command, a headless daemon, and the control verbs."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from vpnswitch import __version__
from vpnswitch.core.errors import ConfigError, ConfigUnreadable, NotRunning, VpnSwitchError
from vpnswitch.core.paths import Paths

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vpnswitch",
        description="Keeps you online through whichever installed VPN or Tor still works. "
                    "With no command, starts the tray app.",
    )
    parser.add_argument("--version", action="version", version=f"vpnswitch {__version__}")
    # Accepted before or after the command; SUPPRESS keeps a subcommand from resetting what came before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, metavar="PATH", default=argparse.SUPPRESS,
                        help="use this configuration file")
    common.add_argument("--verbose", "-v", action="store_true", default=argparse.SUPPRESS, help="log more")
    parser.add_argument("--config", type=Path, metavar="PATH", help="use this configuration file")
    parser.add_argument("--verbose", "-v", action="store_true", help="log more")
    parser.add_argument("--minimized", action="store_true", help="start in the tray without opening a window")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_text, description=help_text, parents=[common])

    add("daemon", "run without a window (the same engine as the tray app)")
    p = add("status", "show the active profile, its health and every profile's state")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p = add("switch", "switch to a profile now")
    p.add_argument("profile")
    add("pause", "pause automatic switching (the connection stays as it is)")
    add("resume", "resume automatic switching")
    p = add("check", "probe every target through the active profile now")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p = add("history", "show recent switches, verdicts and state changes")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--limit", type=int, default=50, help="how many entries (default 50)")
    add("reload", "re-read the configuration file in the running instance")
    p = add("config", "check or locate the configuration file")
    p.add_argument("action", choices=["check", "path"])
    p = add("detect", "list the VPN apps, configurations and Tor found here, with the profiles they would get")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p = add("import", "add a WireGuard (.conf) or OpenVPN (.ovpn) file to NetworkManager (no root needed) "
                      "and a profile for it to vpnswitch")
    p.add_argument("file", type=Path)
    p.add_argument("--name", help="the connection's name (default: the file's name)")
    p = add("autostart", "start vpnswitch at login (minimised to the tray), or stop doing so")
    p.add_argument("action", choices=["on", "off", "status"])
    p = add("proxy", "put back the proxy setting vpnswitch changed for Tor (run at login after a crash)")
    p.add_argument("action", choices=["restore"])
    p = add("guard", "the leak guard: `guard off` lets traffic out without a tunnel again (the emergency exit)")
    p.add_argument("action", choices=["off", "status"])
    return parser


def _paths(args: argparse.Namespace) -> Paths:
    return Paths.default(args.config.expanduser() if args.config else None)


def _err(message: str) -> None:
    print(f"vpnswitch: {message}", file=sys.stderr)


def _local_time(iso_text: str | None) -> str:
    if not iso_text:
        return "never"
    try:
        return datetime.fromisoformat(iso_text.replace("Z", "+00:00")).astimezone().strftime("%H:%M:%S")
    except ValueError:
        return iso_text


def _print_status(s: dict[str, Any]) -> None:
    active = s.get("active")
    line = f"{s['state']}"
    if active:
        line += f" via {active} ({s['verdict']})"
    if s.get("paused"):
        line += " — automatic switching paused"
    if s.get("holding"):
        line += " — holding: switched too often"
    print(f"vpnswitch: {line}; last check {_local_time(s.get('last_check'))}")
    if s.get("message"):
        print(f"  {s['message']}")
    if s.get("preference") == "privacy":
        print("  preference: privacy — Tor profiles come first; browsing will be slower")
    elif s.get("preference"):
        print(f"  preference: {s['preference']} — Tor is the last resort")
    width = max((len(p["name"]) for p in s["profiles"]), default=4)
    for p in s["profiles"]:
        marker = "●" if p["state"] == "active" else " "
        extra = ""
        if p["state"] == "quarantined":
            extra = f" until {_local_time(p['quarantined_until'])}"
        if p.get("warm"):
            extra = f" (hot standby: {p['warm']})"
        if p.get("reason"):
            extra += f" — {p['reason']}"
        print(f"  {marker} {p['name']:<{width}}  {p['backend']:<14} {p['state']}{extra}")
    if not s["profiles"]:
        print("  no profiles yet: add one in Settings or in the configuration file")


def _print_check(r: dict[str, Any]) -> None:
    print(f"{r['active'] or 'no profile'}: {r['verdict']}" + (f" — {r['message']}" if r.get("message") else ""))
    for t in r.get("targets", []):
        mark = "ok " if t["ok"] else "FAIL"
        detail = f"{t['status']} in {t['latency_ms']:.0f} ms" if t["ok"] else (t["error"] or f"status {t['status']}")
        print(f"  {mark} {t['url']} ({t['role']}): {detail}")
    for c in r.get("conflicts", []):
        print(f"  {'BLOCKS' if c.get('blocking') else 'WARN  '} {c['app']}: {c['problem']}")
        print(f"         {c['fix']}" + (f" (`{' '.join(c['fix_command'])}`)" if c.get("fix_command") else ""))


def _print_history(entries: list[dict[str, Any]]) -> None:
    for e in entries:
        when = _local_time(e.get("ts"))
        kind = e.get("kind")
        if kind == "switch":
            print(f"{when}  switch {e.get('from')} → {e.get('to')}: {e.get('reason')} "
                  f"(detected in {e.get('detect_s')} s, outage {e.get('outage_s')} s)")
        elif kind == "verdict":
            print(f"{when}  {e.get('profile')}: {e.get('verdict')}" + (f" — {e['reason']}" if e.get("reason") else ""))
        elif kind in ("dns", "dns-leak"):
            print(f"{when}  {kind} {e.get('profile')}: {e.get('message')}")
        elif kind == "state":
            print(f"{when}  state {e.get('state')}" + (f" ({e['profile']})" if e.get("profile") else ""))
        else:
            rest = {k: v for k, v in e.items() if k not in ("ts", "t", "kind")}
            print(f"{when}  {kind} {json.dumps(rest, ensure_ascii=False)}")


def _remote(args: argparse.Namespace, cmd: str, timeout: float = 30.0, **extra: Any) -> dict[str, Any]:
    from vpnswitch.service import controlsocket

    answer = controlsocket.request(_paths(args).control_socket, cmd, timeout=timeout, **extra)
    if not answer.get("ok"):
        raise VpnSwitchError(str(answer.get("error", "failed")))
    return answer


def _load_config(paths: Paths) -> Any:
    from vpnswitch.service.wiring import load_or_default

    return load_or_default(paths)


def cmd_daemon(args: argparse.Namespace) -> int:
    from vpnswitch.core import logs
    from vpnswitch.service import daemon

    paths = _paths(args)
    config = _load_config(paths)
    logs.setup(paths.log_dir, verbose=args.verbose)
    return daemon.run(paths, config)


def cmd_status(args: argparse.Namespace) -> int:
    result = _remote(args, "status")["result"]
    print(json.dumps(result, indent=2, ensure_ascii=False)) if args.json else _print_status(result)
    return EXIT_OK


def cmd_switch(args: argparse.Namespace) -> int:
    print(_remote(args, "switch", profile=args.profile)["result"])
    return EXIT_OK


def cmd_simple(verb: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        print(_remote(args, verb)["result"])
        return EXIT_OK

    return run


def cmd_check(args: argparse.Namespace) -> int:
    result = _remote(args, "check", timeout=40.0)["result"]
    print(json.dumps(result, indent=2, ensure_ascii=False)) if args.json else _print_check(result)
    return EXIT_OK if result["verdict"] in ("healthy", "degraded") else EXIT_FAILED


def cmd_history(args: argparse.Namespace) -> int:
    result = _remote(args, "history", limit=max(1, args.limit))["result"]
    print(json.dumps(result, indent=2, ensure_ascii=False)) if args.json else _print_history(result)
    return EXIT_OK


def cmd_config(args: argparse.Namespace) -> int:
    paths = _paths(args)
    if args.action == "path":
        print(paths.config_file)
        return EXIT_OK
    from vpnswitch.backends import registry
    from vpnswitch.core.config import load_config

    config = load_config(paths.config_file, registry.CATALOG)
    if config is None:
        print(f"no configuration file at {paths.config_file} yet (defaults are used)")
    else:
        print(f"{paths.config_file}: valid, {len(config.profiles)} profiles, {len(config.targets)} targets")
    return EXIT_OK


def cmd_detect(args: argparse.Namespace) -> int:
    from vpnswitch.backends.detect import detect

    found = detect()
    if args.json:
        print(json.dumps([d.to_json() for d in found], indent=2, ensure_ascii=False))
        return EXIT_OK
    if not found:
        print("no VPN app, VPN configuration or Tor was found")
    for d in found:
        print(f"{d.display_name}  [{d.backend}]  {d.evidence}")
        for p in d.profiles:
            print(f"  profile \"{p.name}\" {json.dumps(dict(p.params), ensure_ascii=False)}"
                  + ("" if p.enabled else " (disabled)"))
        for w in d.warnings:
            print(f"  note: {w}")
        for c in d.conflicts:
            print(f"  {'BLOCKS' if c.blocking else 'warning'}: {c.problem}")
            print(f"    fix: {c.fix}" + (f" (`{' '.join(c.fix_command)}`)" if c.fix_command else ""))
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from vpnswitch.backends import registry
    from vpnswitch.backends.nm.backend import import_file
    from vpnswitch.core.config import save_config

    paths = _paths(args)
    config = _load_config(paths)  # a broken file stops here, untouched
    profile = import_file(args.file.expanduser(), name=args.name)
    if config.profile(profile.name) is not None:
        raise VpnSwitchError(f'a profile named "{profile.name}" already exists', hint="Choose another with --name.")
    aside = save_config(paths.config_file, replace(config, profiles=(*config.profiles, profile)), registry.CATALOG)
    if aside is not None:
        print(f"the old, unreadable configuration was kept as {aside}")
    print(f'added "{profile.name}" to NetworkManager and as the last profile in {paths.config_file}')
    try:
        _remote(args, "reload")
    except NotRunning:
        pass
    return EXIT_OK


def cmd_autostart(args: argparse.Namespace) -> int:
    from vpnswitch.system import autostart

    backend = autostart.for_platform()
    status = {"on": backend.enable, "off": backend.disable, "status": backend.status}[args.action]()
    print(status.describe())
    return EXIT_OK if args.action == "status" or status.enabled == (args.action == "on") else EXIT_FAILED


def cmd_proxy(args: argparse.Namespace) -> int:
    from vpnswitch.system.sysproxy import SystemProxy
    from vpnswitch.system.sysproxy.loginrestore import login_restore_item

    paths = _paths(args)
    proxy = SystemProxy(paths.state_dir, login_restore=login_restore_item(paths.login_items_home))
    message = proxy.recover()
    print(f"vpnswitch: {message or 'no proxy setting of vpnswitch was left in place'}")
    return EXIT_FAILED if proxy.engaged else EXIT_OK


def cmd_guard(args: argparse.Namespace) -> int:
    """As root, directly; as a user, through the privileged service (which holds the guard for the app)."""
    import importlib
    import os

    from vpnswitch.privileged.guard import TABLE, LeakGuard
    from vpnswitch.system.runner import Runner

    if os.geteuid() == 0:
        guard = LeakGuard(Runner())
        on = guard.active()
        if args.action == "off" and on:
            guard.remove()
            print("vpnswitch: leak guard removed; traffic may leave outside a tunnel until vpnswitch sets it again")
        else:
            print(f"vpnswitch: leak guard is {'on' if on else 'off'}")
        return EXIT_OK
    if args.action == "status":
        _err("only root can read the firewall; `vpnswitch status` shows what the app knows")
        return EXIT_FAILED
    try:
        client = importlib.import_module("vpnswitch.privileged.client").ServiceClient()
    except ImportError:
        client = None
    if client is None:
        _err(f"no vpnswitch service here; as root: `sudo vpnswitch guard off` (or `nft delete table inet {TABLE}`)")
        return EXIT_FAILED
    client.call("guard-off", timeout=15.0)
    print("vpnswitch: leak guard removed; traffic may leave outside a tunnel until vpnswitch sets it again")
    return EXIT_OK


def cmd_tray(args: argparse.Namespace) -> int:
    import importlib

    from vpnswitch.ui import display  # no Qt in it: Qt aborts the process where it cannot start

    try:
        display.check()
    except display.DisplayUnavailable as exc:
        _err(str(exc))
        return EXIT_FAILED
    try:
        run_tray = importlib.import_module("vpnswitch.ui.app").run_tray  # Qt is imported only for the tray
    except ImportError as exc:
        _err(f"the desktop app is not available ({exc}); `vpnswitch daemon` runs without a window")
        return EXIT_FAILED
    return run_tray(_paths(args), minimized=args.minimized, verbose=args.verbose)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "daemon": cmd_daemon,
    "status": cmd_status,
    "switch": cmd_switch,
    "pause": cmd_simple("pause"),
    "resume": cmd_simple("resume"),
    "reload": cmd_simple("reload"),
    "check": cmd_check,
    "history": cmd_history,
    "config": cmd_config,
    "autostart": cmd_autostart,
    "proxy": cmd_proxy,
    "guard": cmd_guard,
    "detect": cmd_detect,
    "import": cmd_import,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    handler = COMMANDS.get(args.command or "", cmd_tray)
    try:
        return handler(args)
    except (ConfigError, ConfigUnreadable) as exc:
        _err(exc.explain())
        return EXIT_USAGE
    except NotRunning as exc:
        _err(exc.explain())
        return EXIT_FAILED
    except VpnSwitchError as exc:
        _err(exc.explain())
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
