"""Find a usable ``tor`` and the pluggable transports next to it or on the system.

Where tor comes from: the system package (Linux, Homebrew), the Tor Expert Bundle (Windows: tor.exe with a
``pluggable_transports`` folder), or a Tor Browser install (its bundled tor and transports). A bundle's
``pt_config.json`` is read instead of hard-coding plugin names: it says which program serves which
transport and also carries the built-in bridge lines.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vpnswitch.core.errors import VpnSwitchError
from vpnswitch.system.runner import Runner

log = logging.getLogger(__name__)

# System programs (on PATH) and the transports each serves, best first.
SYSTEM_PLUGINS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("lyrebird", ("obfs4", "meek_lite", "webtunnel")),
    ("obfs4proxy", ("obfs4", "meek_lite")),
    ("snowflake-client", ("snowflake",)),
    ("webtunnel-client", ("webtunnel",)),
)
PT_DIR_NAMES = ("pluggable_transports", "PluggableTransports")
_PLUGIN_RE = re.compile(r"^\s*ClientTransportPlugin\s+(\S+)\s+exec\s+(.+?)\s*$")


@dataclass(frozen=True)
class TorInstall:
    """A tor program, where it came from, and the transports it can use."""

    tor: str
    source: str  # "configured" | "system" | "expert-bundle" | "tor-browser"
    plugins: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # transport -> plugin argv
    builtin_bridges: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    version: str = ""

    def env(self) -> dict[str, str]:
        """A bundled tor on Linux needs its own libraries (libevent, OpenSSL) next to it."""
        if self.source in ("tor-browser", "expert-bundle") and sys.platform.startswith("linux"):
            folder = str(Path(self.tor).parent)
            existing = os.environ.get("LD_LIBRARY_PATH", "")
            return {"LD_LIBRARY_PATH": f"{folder}:{existing}" if existing else folder}
        return {}



def _home() -> Path:
    return Path(os.path.expanduser("~"))


def bundle_candidates(platform: str, env: Mapping[str, str], home: Path) -> list[tuple[Path, str]]:
    """Where Tor Browser and the Expert Bundle usually live on each platform (tor program, source)."""
    tb_rel = Path("Browser", "TorBrowser", "Tor")
    if platform == "win32":
        roots = [env.get("LOCALAPPDATA", ""), env.get("ProgramFiles", ""), env.get("ProgramFiles(x86)", ""),
                 str(home / "Desktop"), str(home)]
        found: list[tuple[Path, str]] = []
        for root in filter(None, roots):
            base = Path(root)
            found += [(base / "Tor" / "tor" / "tor.exe", "expert-bundle"), (base / "Tor" / "tor.exe", "expert-bundle"),
                      (base / "Programs" / "Tor" / "tor" / "tor.exe", "expert-bundle"),
                      (base / "Tor Browser" / tb_rel / "tor.exe", "tor-browser")]
        return found
    if platform == "darwin":
        return [(Path(app, "Tor Browser.app", "Contents", "MacOS", "Tor", "tor"), "tor-browser")
                for app in ("/Applications", str(home / "Applications"))]
    launcher = Path("torbrowser", "tbb", "x86_64", "tor-browser") / tb_rel / "tor"
    return [
        (home / ".local" / "share" / launcher, "tor-browser"),
        (home / ".var" / "app" / "org.torproject.torbrowser-launcher" / "data" / launcher, "tor-browser"),
        (home / "tor-browser" / tb_rel / "tor", "tor-browser"),
        (home / "tor-browser_en-US" / tb_rel / "tor", "tor-browser"),
    ]


def _executable(path: Path) -> bool:
    return path.is_file() and (sys.platform == "win32" or os.access(path, os.X_OK))


def find_tor(
    configured: str | None = None,
    *,
    platform: str = sys.platform,
    env: Mapping[str, str] | None = None,
    which: Callable[[str], str | None] = shutil.which,
    home: Path | None = None,
    exists: Callable[[Path], bool] = _executable,
) -> tuple[str, str] | None:
    """(path, source) of the tor to use: the profile's own choice, the system's, then a bundle's."""
    env = os.environ if env is None else env
    if configured:
        path = Path(configured).expanduser()
        return (str(path), "configured") if exists(path) else None
    system = which("tor")
    if system:
        return system, "system"
    if platform == "darwin":
        for candidate in ("/opt/homebrew/bin/tor", "/usr/local/bin/tor"):
            if exists(Path(candidate)):
                return candidate, "system"
    for path, source in bundle_candidates(platform, env, home or _home()):
        if exists(path):
            return str(path), source
    return None


def read_pt_config(path: Path) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """(transport -> plugin argv, transport -> built-in bridge lines) from a bundle's pt_config.json."""
    data = json.loads(path.read_text(encoding="utf-8"))
    pt_path = str(path.parent) + os.sep
    plugins: dict[str, tuple[str, ...]] = {}
    for template in (data.get("pluggableTransports") or {}).values():
        match = _PLUGIN_RE.match(str(template))
        if not match:
            continue
        # Split first, substitute after: the folder may contain spaces ("Program Files").
        argv = tuple(word.replace("${pt_path}", pt_path) for word in shlex.split(match.group(2)))
        for transport in match.group(1).split(","):
            plugins.setdefault(transport, argv)
    bridges = {str(name): tuple(str(line) for line in lines)
               for name, lines in (data.get("bridges") or {}).items() if isinstance(lines, list)}
    return plugins, bridges


def find_plugins(tor: str, which: Callable[[str], str | None] = shutil.which
                 ) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """Transports a bundle ships next to its tor first, then the system's programs for the rest."""
    plugins: dict[str, tuple[str, ...]] = {}
    bridges: dict[str, tuple[str, ...]] = {}
    folder = Path(tor).parent
    for name in PT_DIR_NAMES:
        config = folder / name / "pt_config.json"
        if config.is_file():
            try:
                plugins, bridges = read_pt_config(config)
            except (OSError, ValueError) as exc:
                log.warning("cannot read %s: %s", config, exc)
            break
    for program, transports in SYSTEM_PLUGINS:
        path = which(program)
        if path:
            for transport in transports:
                plugins.setdefault(transport, (path,))
    return plugins, bridges


def locate(configured: str | None = None, runner: Runner | None = None, timeout: float = 5.0) -> TorInstall | None:
    """The tor to use with its transports; with a runner, also its version (one short subprocess)."""
    found = find_tor(configured)
    if found is None:
        return None
    tor, source = found
    plugins, bridges = find_plugins(tor)
    install = TorInstall(tor, source, plugins, bridges)
    if runner is not None:
        try:
            result = runner.run([tor, "--version"], timeout=timeout, env=install.env())
            match = re.search(r"Tor version ([0-9][^\s]*?)\.?(\s|$)", result.stdout)
            if match:
                install = TorInstall(tor, source, plugins, bridges, match.group(1))
        except VpnSwitchError as exc:
            log.info("tor --version failed: %s", exc)
    return install


def install_hint(platform: str = sys.platform) -> str:
    if platform == "win32":
        return "Install the Tor Expert Bundle or Tor Browser from the Tor Project."
    if platform == "darwin":
        return "Install Tor Browser, or `brew install tor`."
    return "Install the tor package (e.g. `apt install tor obfs4proxy`), or Tor Browser."


def plugin_hint(transport: str) -> str:
    programs = [program for program, transports in SYSTEM_PLUGINS if transport in transports]
    return f"{transport} bridges need {' or '.join(programs) or 'a plugin'}; install it, or use Tor Browser's tor."


def missing_plugins(install: TorInstall, transports: Sequence[str]) -> list[str]:
    return [t for t in transports if t not in install.plugins]
