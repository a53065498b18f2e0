"""What VPN software is installed here, and the profiles vpnswitch proposes for it.

Looked at: programs on PATH and in each OS's known install locations (vendor CLIs, GUI-only apps, Tor and
its pluggable transports), WireGuard and OpenVPN configuration folders, and NetworkManager's saved
connections. Nothing is changed and nothing is connected; with ``check_conflicts`` the installed vendor
CLIs are asked (read-only) about kill switches. ``vpnswitch detect``, the settings window (off the GUI
thread) and the first start without a configuration all use this one function.
"""

from __future__ import annotations

import configparser
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from vpnswitch.backends.conflicts import Conflict, find_conflicts
from vpnswitch.backends.nm.model import PROTON_PREFIX, NmConnection
from vpnswitch.backends.tor import locate as tor_locate
from vpnswitch.core import config as config_model
from vpnswitch.core.config import Config, Profile
from vpnswitch.system.oslayout import Layout, normalise_platform, system_layout
from vpnswitch.system.runner import Runner

log = logging.getLogger(__name__)

AUTO: Any = "auto"

# Order of proposed profiles: fast full tunnels first, obfuscated and proxy ones later, Tor last.
RANK = {"networkmanager": 10, "wireguard": 20, "mullvad": 30, "nordvpn": 30, "expressvpn": 30, "windscribe": 30,
        "pia": 30, "ivpn": 30, "warp": 35, "tailscale": 40, "openvpn3": 45, "openvpn": 50, "app": 60,
        "psiphon": 70, "tor": 90}


@dataclass(frozen=True)
class Detected:
    """One installed thing, with the profile(s) vpnswitch proposes for it."""

    app_id: str
    display_name: str
    backend: str
    evidence: str
    profiles: tuple[Profile, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "app_id": self.app_id,
            "display_name": self.display_name,
            "backend": self.backend,
            "evidence": self.evidence,
            "profiles": [{"name": p.name, "backend": p.backend, "enabled": p.enabled, "params": dict(p.params)}
                         for p in self.profiles],
            "conflicts": [c.to_json() for c in self.conflicts],
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class _GuiApp:
    app_id: str
    display_name: str
    paths: dict[str, tuple[str, ...]]
    params: Callable[[str, str], dict[str, Any] | None]  # (platform, program path) → app params
    warnings: tuple[str, ...] = ()


def _proton_params(platform: str, path: str) -> dict[str, Any] | None:
    return {"executable": path, "process": ["ProtonVPN.Client.exe", "ProtonVPN.exe"], "adapter": "ProtonVPN"}


def _psiphon_params(platform: str, path: str) -> dict[str, Any] | None:
    return {"executable": path, "process": ["psiphon3.exe"], "children": True, "proxy": "system"}


def _outline_params(platform: str, path: str) -> dict[str, Any] | None:
    iface = {"windows": "outline-tap0", "linux": "outline-tun0"}.get(platform)
    return {"executable": path, "interface": iface} if iface else None


def _lantern_params(platform: str, path: str) -> dict[str, Any] | None:
    return {"executable": path, "interface": "Lantern"} if platform == "windows" else None


def _surfshark_params(platform: str, path: str) -> dict[str, Any] | None:
    return {"executable": path, "adapter": "Surfshark"} if platform == "windows" else None


GUI_APPS = (
    _GuiApp("protonvpn-windows", "Proton VPN", {"windows": ("{ProgramFiles}/Proton/VPN/ProtonVPN.Launcher.exe",
                                                            "{ProgramFiles(x86)}/Proton/VPN/ProtonVPN.Launcher.exe")},
            _proton_params,
            ("Proton VPN has no command line: vpnswitch starts it and it connects only if its own "
             "\"Auto-connect\" setting is on.",
             "Proton's kill switch cannot be seen from outside; turn it off or it blocks other profiles.")),
    _GuiApp("psiphon-windows", "Psiphon", {"windows": ("{USERPROFILE}/Desktop/psiphon3.exe",
                                                       "{USERPROFILE}/Downloads/psiphon3.exe",
                                                       "{ProgramFiles}/Psiphon3/psiphon3.exe")},
            _psiphon_params,
            ("Psiphon sets the system proxy; when vpnswitch closes it, the proxy setting is restored by vpnswitch's "
             "proxy handling, not by Psiphon.",)),
    _GuiApp("outline", "Outline", {"windows": ("{LOCALAPPDATA}/Programs/outline-client/Outline.exe",
                                               "{ProgramFiles}/Outline/Outline.exe"),
                                   "linux": ("~/Applications/Outline-Client.AppImage",
                                             "/opt/Outline/Outline-Client.AppImage")},
            _outline_params,
            ("Outline connects on start only to the server that was connected last.",)),
    _GuiApp("lantern", "Lantern", {"windows": ("{LOCALAPPDATA}/Programs/Lantern/lantern.exe",
                                               "{ProgramFiles}/Lantern/lantern.exe")},
            _lantern_params),
    _GuiApp("surfshark-windows", "Surfshark", {"windows": ("{ProgramFiles}/Surfshark/Surfshark.exe",)},
            _surfshark_params,
            ("Surfshark has no command line: turn on its auto-connect setting.",)),
)

WIREGUARD_DIRS = {"linux": ("/etc/wireguard",),
                  "darwin": ("/etc/wireguard", "/usr/local/etc/wireguard", "/opt/homebrew/etc/wireguard"),
                  "windows": ("{ProgramFiles}/WireGuard/Data/Configurations",)}
OPENVPN_DIRS = {"linux": (("/etc/openvpn/client", "*.conf"), ("/etc/openvpn", "*.conf"), ("/etc/openvpn", "*.ovpn"),
                          ("~/.config/openvpn", "*.ovpn")),
                "darwin": (("/usr/local/etc/openvpn", "*.ovpn"), ("/opt/homebrew/etc/openvpn", "*.ovpn"),
                           ("~/.config/openvpn", "*.ovpn")),
                "windows": (("{ProgramFiles}/OpenVPN/config", "*.ovpn"), ("{USERPROFILE}/OpenVPN/config", "*.ovpn"),
                            ("{ProgramFiles}/OpenVPN/config-auto", "*.ovpn"))}
TOR_PATHS = {
    "linux": ("~/.local/share/torbrowser/tbb/x86_64/tor-browser/Browser/TorBrowser/Tor/tor",
              "~/tor-browser/Browser/TorBrowser/Tor/tor"),
    "darwin": ("/Applications/Tor Browser.app/Contents/MacOS/Tor/tor", "/opt/homebrew/bin/tor", "/usr/local/bin/tor"),
    "windows": ("{USERPROFILE}/Desktop/Tor Browser/Browser/TorBrowser/Tor/tor.exe",
                "{ProgramFiles}/Tor Browser/Browser/TorBrowser/Tor/tor.exe",
                "{ProgramFiles}/Tor/tor.exe"),
}
PSIPHON_CONFIG_NAMES = ("client.json", "psiphon.config", "psiphon-tunnel-core.config")


# ----------------------------------------------------------------------------------------------- detect


def detect(
    root: Path | None = None,
    platform: str | None = None,
    *,
    layout: Layout | None = None,
    nm_connections: Any = AUTO,
    check_conflicts: bool | None = None,
    runner: Runner | None = None,
) -> list[Detected]:
    """Everything found, best candidates first.

    ``root`` and ``platform`` describe a fake filesystem laid out like Linux, Windows or macOS (tests);
    ``nm_connections`` is a callable returning NetworkManager's connections (default: ask NetworkManager,
    or read keyfiles under a fake root). ``check_conflicts`` (default: on for the real machine) runs the
    installed vendor CLIs' read-only kill-switch queries.
    """
    if layout is None:
        layout = Layout.fake(root, normalise_platform(platform)) if root is not None else system_layout()
    if check_conflicts is None:
        check_conflicts = layout.root is None
    found: list[Detected] = []
    for step in (_vendor_clis, _psiphon_console, _gui_apps, _wireguard_configs, _openvpn_configs, _tor):
        try:
            found.extend(step(layout))
        except Exception:  # one broken probe must not hide everything else (logged with its traceback)
            log.exception("detection step %s failed", step.__name__)
    connections: list[NmConnection] = []  # read once: listing them asks NetworkManager about every connection
    if layout.platform == "linux":
        try:
            connections = _nm_list(layout, nm_connections, runner)
            found.extend(_networkmanager(connections))
        except Exception:  # logged with its traceback
            log.exception("reading NetworkManager's connections failed")
    if check_conflicts:
        found = _attach_conflicts(found, layout, runner, connections)
    found.sort(key=lambda d: (RANK.get(d.backend, 80), d.display_name.lower()))
    return found


def _vendor_clis(layout: Layout) -> Iterable[Detected]:
    from vpnswitch.backends.vendors.platform_specs import specs

    seen: set[str] = set()
    for spec in specs(layout.platform):
        program = layout.find_program(spec.programs, spec.install_paths.get(layout.platform, ()))
        if program is None or spec.name in seen:
            continue
        seen.add(spec.name)
        params = dict(spec.default_params)
        warnings: list[str] = []
        enabled = True
        if spec.name == "tailscale":
            enabled = False
            warnings.append("Pick an exit node (tailscale exit-node list), then enable this profile.")
        if spec.name == "openvpn3":
            continue  # needs an imported profile name; offered by the OpenVPN config scan instead
        if spec.name == "expressvpn" and spec.programs == ("expressvpn",):
            params["cli"] = "expressvpn"
        yield Detected(spec.name, spec.display_name, spec.name, layout.display(program),
                       (Profile(spec.display_name, spec.name, params, enabled),), warnings=tuple(warnings))


def _psiphon_console(layout: Layout) -> Iterable[Detected]:
    from vpnswitch.backends.vendors import psiphon

    program = layout.find_program(psiphon.PROGRAMS, psiphon.INSTALL_PATHS.get(layout.platform, ()))
    if program is None:
        return
    candidates = [program.parent / name for name in PSIPHON_CONFIG_NAMES]
    candidates += [layout.expand(f"~/.config/psiphon/{name}") for name in PSIPHON_CONFIG_NAMES]
    config = next((c for c in candidates if c.is_file()), None)
    if config is None:
        yield Detected("psiphon", "Psiphon", "psiphon", layout.display(program),
                       warnings=("Found Psiphon's console client but no client.json next to it; "
                                 "add a Psiphon profile with your configuration file.",))
        return
    yield Detected("psiphon", "Psiphon", "psiphon", layout.display(program),
                   (Profile("Psiphon", "psiphon", {"config": str(config), "binary": str(program)}),))


def _gui_apps(layout: Layout) -> Iterable[Detected]:
    for app in GUI_APPS:
        paths = app.paths.get(layout.platform, ())
        program = next((p for p in (layout.expand(t) for t in paths) if p.is_file()), None)
        if program is None:
            continue
        params = app.params(layout.platform, str(program))
        if params is None:
            yield Detected(app.app_id, app.display_name, "app", layout.display(program),
                           warnings=("vpnswitch cannot tell which tunnel this app creates on this system.",))
            continue
        yield Detected(app.app_id, app.display_name, "app", layout.display(program),
                       (Profile(app.display_name, "app", params),), warnings=app.warnings)
    if layout.platform == "linux":
        program = layout.which("protonvpn-app")
        if program is not None:
            params = {"prefix": PROTON_PREFIX, "app": [str(program), "--start-minimized"]}
            yield Detected("protonvpn-linux", "Proton VPN", "networkmanager", layout.display(program),
                           (Profile("Proton VPN", "networkmanager", params),),
                           warnings=("Proton VPN connects on start only with its \"Auto-connect\" setting on.",))


def _wireguard_configs(layout: Layout) -> Iterable[Detected]:
    tool = (layout.find_program(("wireguard",), ("{ProgramFiles}/WireGuard/wireguard.exe",))
            if layout.platform == "windows" else layout.which("wg-quick"))
    pattern = "*.conf.dpapi" if layout.platform == "windows" else "*.conf"
    seen: set[str] = set()
    for template in WIREGUARD_DIRS.get(layout.platform, ()):
        for path in layout.glob(template, pattern):
            name = path.name.split(".conf")[0]
            if name in seen:
                continue
            seen.add(name)
            warnings = () if tool else ("WireGuard's tools are not installed (wireguard-tools / WireGuard for "
                                        "Windows); on Linux you can also import the file into NetworkManager.",)
            yield Detected(f"wireguard:{name}", f"WireGuard {name}", "wireguard", layout.display(path),
                           (Profile(f"WireGuard {name}", "wireguard", {"config": str(path)}),), warnings=warnings)


def _openvpn_configs(layout: Layout) -> Iterable[Detected]:
    tool = (layout.find_program(("openvpn",), ("{ProgramFiles}/OpenVPN/bin/openvpn.exe",))
            if layout.platform == "windows" else layout.which("openvpn"))
    seen: set[Path] = set()
    for template, pattern in OPENVPN_DIRS.get(layout.platform, ()):
        for path in layout.glob(template, pattern):
            if path in seen:
                continue
            seen.add(path)
            name = path.stem
            warnings = () if tool else ("OpenVPN is not installed; install it (or its NetworkManager plugin) to use "
                                        "this file.",)
            yield Detected(f"openvpn:{name}", f"OpenVPN {name}", "openvpn", layout.display(path),
                           (Profile(f"OpenVPN {name}", "openvpn", {"config": str(path)}),), warnings=warnings)


def _tor(layout: Layout) -> Iterable[Detected]:
    program = layout.find_program(("tor",), TOR_PATHS.get(layout.platform, ()))
    if program is None:
        return
    # The same rule the tor backend uses: the bundle's pt_config.json, then the system's transport programs.
    plugins, _ = tor_locate.find_plugins(str(program), which=lambda name: _found(layout.which(name)))
    transports = sorted(plugins)
    evidence = layout.display(program) + (f" (transports: {', '.join(transports)})" if transports else "")
    warnings = () if transports else ("No pluggable transport (lyrebird/obfs4proxy, snowflake) was found: plain Tor "
                                      "is easy to block; install obfs4proxy or lyrebird.",)
    yield Detected("tor", "Tor", "tor", evidence, (Profile("Tor", "tor", {}),), warnings=warnings)


def _found(path: Path | None) -> str | None:
    return str(path) if path is not None else None


# ------------------------------------------------------------------------------------- NetworkManager


def read_keyfiles(directory: Path) -> list[NmConnection]:
    """NetworkManager's keyfiles (``*.nmconnection``), for fake roots and when D-Bus is unavailable."""
    result = []
    try:
        files = sorted(directory.glob("*.nmconnection"))
    except OSError:
        return []
    for path in files:
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read_string(path.read_text(encoding="utf-8", errors="replace"))
        except (OSError, configparser.Error):
            continue
        if not parser.has_section("connection"):
            continue
        conn = parser["connection"]
        vpn = parser["vpn"] if parser.has_section("vpn") else {}
        data = {k: v for k, v in vpn.items() if k != "service-type"}
        result.append(NmConnection(id=conn.get("id", path.stem), uuid=conn.get("uuid", ""),
                                   type=conn.get("type", ""), path=str(path),
                                   interface_name=conn.get("interface-name") or None,
                                   vpn_service=vpn.get("service-type") or None, vpn_data=data))
    return result


def _nm_list(layout: Layout, nm_connections: Any, runner: Runner | None) -> list[NmConnection]:
    if callable(nm_connections):
        return list(nm_connections())
    if nm_connections is None:
        return []
    if layout.root is not None:
        return read_keyfiles(layout.expand("/etc/NetworkManager/system-connections"))
    from vpnswitch.backends.nm.backend import make_client
    from vpnswitch.core.errors import BackendError

    try:
        return make_client(runner or Runner()).connections()
    except BackendError as exc:
        log.info("NetworkManager not available: %s", exc.message)
        return []


def _networkmanager(connections: list[NmConnection]) -> Iterable[Detected]:
    proton = [c for c in connections if c.is_proton and c.is_vpn]
    for conn in connections:
        if not conn.is_vpn or conn.is_proton or not conn.uuid:
            continue
        kind = "WireGuard" if conn.type == "wireguard" else (conn.plugin or "VPN")
        name = _profile_name(f"{conn.id} (NetworkManager)")
        yield Detected(f"networkmanager:{conn.uuid}", f"{conn.id} ({kind} in NetworkManager)", "networkmanager",
                       f"NetworkManager connection \"{conn.id}\"",
                       (Profile(name, "networkmanager", {"uuid": conn.uuid}),))
    if proton:
        yield Detected("protonvpn-nm", "Proton VPN (NetworkManager)", "networkmanager",
                       f"NetworkManager connections: {', '.join(c.id for c in proton)}",
                       (Profile("Proton VPN (NetworkManager)", "networkmanager", {"prefix": PROTON_PREFIX}),))


def _profile_name(text: str) -> str:
    return text if len(text) <= 64 else text[:61] + "…"


# ------------------------------------------------------------------------------------------ conflicts


def _attach_conflicts(found: list[Detected], layout: Layout, runner: Runner | None,
                      connections: list[NmConnection]) -> list[Detected]:
    from vpnswitch.backends.vendors.platform_specs import specs

    wanted = {d.backend for d in found}
    vendor_specs = [s for s in specs(layout.platform) if s.name in wanted]
    nm_client: Any = None
    if layout.platform == "linux":
        nm_client = _StaticNm(connections)
    conflicts = find_conflicts(vendors=vendor_specs, runner=runner, layout=layout, nm_client=nm_client)
    by_app: dict[str, list[Conflict]] = {}
    for conflict in conflicts:
        key = "protonvpn" if conflict.code.startswith("proton") else conflict.code.split("-")[0]
        by_app.setdefault(key, []).append(conflict)
    result = []
    for item in found:
        key = "protonvpn" if item.app_id.startswith("protonvpn") else item.backend
        mine = by_app.pop(key, [])
        result.append(replace(item, conflicts=tuple(mine)) if mine else item)
    for key, rest in by_app.items():  # e.g. Proton's kill switch left behind with Proton uninstalled
        result.append(Detected(f"conflict:{key}", rest[0].app, "none", "left behind", conflicts=tuple(rest)))
    return result


@dataclass
class _StaticNm:
    """Connections already read, seen through the client interface find_conflicts expects."""

    items: list[NmConnection] = field(default_factory=list)

    def connections(self) -> list[NmConnection]:
        return self.items

    def active(self) -> list[Any]:
        return []


# ----------------------------------------------------------------------------------- default profiles


def _usable(profile: Profile) -> bool:
    from vpnswitch.backends import registry

    try:
        cls = registry.backend_class(profile.backend)
    except (KeyError, ImportError, AttributeError):
        return False
    try:
        return not cls.validate_params(profile.params)
    except Exception:  # noqa: BLE001 - a backend still being written must not break the first start
        return False


def default_profiles(detected: Iterable[Detected]) -> tuple[Profile, ...]:
    """Proposed profiles in ranked order, unique names, only for backends this build has; Tor last."""
    chosen: list[Profile] = []
    names: set[str] = set()
    for item in detected:
        for profile in item.profiles:
            if not _usable(profile):
                continue
            name = profile.name
            counter = 2
            while name in names:
                name = _profile_name(f"{profile.name} {counter}")
                counter += 1
            names.add(name)
            chosen.append(replace(profile, name=name))
    chosen.sort(key=lambda p: 1 if p.backend == "tor" else 0)
    return tuple(chosen)


def default_config(detected: Iterable[Detected] | None = None) -> Config:
    """The configuration for a first start: the defaults plus every ready profile that was found."""
    if detected is None:
        detected = detect(check_conflicts=False)
    return replace(config_model.default_config(), profiles=default_profiles(detected))
