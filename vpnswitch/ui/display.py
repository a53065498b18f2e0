"""Can Qt open a window here? Checked before Qt is imported, because Qt aborts the process (a core dump and a
message about plugins) when it has no display or its platform plugin cannot load.

Linux and other X11/Wayland systems only; Windows and macOS always have their platform. Nothing here imports Qt.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

LDD_TIMEOUT = 10.0
LIBXCB = "libxcb.so.1"
# Platforms that draw without a display server (tests, VNC, framebuffers): nothing to check.
NO_DISPLAY_NEEDED = frozenset({"offscreen", "minimal", "vnc", "linuxfb", "eglfs", "minimalegl", "vkkhrdisplay"})

# The libraries Qt's xcb and wayland plugins need, by file name, and the Debian/Ubuntu package with each.
# Anything else is named by Debian's rule for library packages (libfoo.so.1 → libfoo1, libfoo-2.so.0 → libfoo-2-0).
DEBIAN_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
}
_SONAME = re.compile(r"^(?P<name>lib[\w.+-]+?)\.so\.(?P<major>\d+)$")
_NOT_FOUND = re.compile(r"^\s*(\S+)\s*=>\s*not found", re.MULTILINE)


class DisplayUnavailable(Exception):
    """Qt could not start here; the message says why and what to do."""


def debian_package(soname: str) -> str:
    """The Debian/Ubuntu package that ships a library, from the table or by Debian's naming rule."""
    if soname in DEBIAN_PACKAGES:
        return DEBIAN_PACKAGES[soname]
    match = _SONAME.match(soname)
    if not match:
        return soname
    name, major = match["name"].lower(), match["major"]
    return f"{name}-{major}" if name[-1].isdigit() else f"{name}{major}"


def missing_libraries(ldd_output: str) -> list[str]:
    """The ``=> not found`` lines of ldd, in order, without repeats."""
    return list(dict.fromkeys(_NOT_FOUND.findall(ldd_output)))


@dataclass(frozen=True)
class Plan:
    """The platform plugins Qt will try, in order (an explicit QT_QPA_PLATFORM or the session's default)."""

    platforms: tuple[str, ...]
    explicit: bool


def platform_plan(env: dict[str, str]) -> Plan:
    chosen = env.get("QT_QPA_PLATFORM", "")
    if chosen:
        names = tuple(part.split(":")[0].strip() for part in chosen.split(";") if part.strip())
        return Plan(names, explicit=True)
    if env.get("WAYLAND_DISPLAY") and env.get("XDG_SESSION_TYPE") == "wayland":
        return Plan(("wayland", "xcb"), explicit=False)
    return Plan(("xcb",), explicit=False)


def plugin_dirs(env: dict[str, str]) -> list[Path]:
    """Where Qt looks for platform plugins: QT_QPA_PLATFORM_PLUGIN_PATH, QT_PLUGIN_PATH, then PySide6's own."""
    dirs = [Path(p) for p in env.get("QT_QPA_PLATFORM_PLUGIN_PATH", "").split(os.pathsep) if p]
    dirs += [Path(p) / "platforms" for p in env.get("QT_PLUGIN_PATH", "").split(os.pathsep) if p]
    try:
        spec = importlib.util.find_spec("PySide6")
    except (ImportError, ValueError):
        spec = None
    for location in (spec.submodule_search_locations or []) if spec else []:
        dirs.append(Path(location) / "Qt" / "plugins" / "platforms")
    return dirs


def find_plugin(platform: str, env: dict[str, str]) -> Path | None:
    for folder in plugin_dirs(env):
        candidate = folder / f"libq{platform}.so"
        if candidate.is_file():
            return candidate
    return None


def plugin_load_error(plugin: Path) -> str | None:
    """None if the plugin and every library it needs load; else the loader's message."""
    try:
        ctypes.CDLL(str(plugin))
    except OSError as exc:
        return str(exc)
    return None


def ldd_missing(plugin: Path) -> list[str]:
    try:
        result = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True, timeout=LDD_TIMEOUT,
                                check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    return missing_libraries(result.stdout)


def x_server_reachable(display: str) -> bool | None:
    """Whether an X server answers on ``display`` (None when libxcb itself is not there to ask)."""
    try:
        xcb = ctypes.CDLL(LIBXCB)  # by its file name: ctypes.util.find_library would run ldconfig, ~0.1 s
    except OSError:
        return None
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(display.encode(), None)
    try:
        return bool(connection) and xcb.xcb_connection_has_error(connection) == 0
    finally:
        if connection:
            xcb.xcb_disconnect(connection)


def _explain_plugin(platform: str, plugin: Path, error: str) -> str:
    missing = ldd_missing(plugin)
    if not missing:
        match = re.search(r"(lib[\w.+-]+\.so[\w.]*): cannot open shared object file", error)
        missing = [match[1]] if match else []
    if not missing:
        return f"Qt's {platform} platform plugin ({plugin}) cannot be loaded: {error}"
    packages = " ".join(dict.fromkeys(debian_package(lib) for lib in missing))
    return (f"Qt's {platform} platform plugin cannot be loaded: the system library {', '.join(missing)} is missing.\n"
            f"Install it with your package manager; on Debian or Ubuntu: sudo apt install {packages}")


def check(env: dict[str, str] | None = None, platform: str = sys.platform) -> None:
    """Raise DisplayUnavailable with what to do, when Qt would abort for lack of a display or a system library."""
    if platform in ("win32", "darwin", "cygwin"):
        return
    env = dict(os.environ if env is None else env)
    plan = platform_plan(env)
    if any(name in NO_DISPLAY_NEEDED for name in plan.platforms):
        return
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        raise DisplayUnavailable(
            "no graphical display: neither DISPLAY nor WAYLAND_DISPLAY is set. The tray app needs a desktop "
            "session; start it from one, or run `vpnswitch daemon` to keep the failover going without a window.")
    problems = []
    for name in plan.platforms:
        if name == "wayland" and not env.get("WAYLAND_DISPLAY"):
            continue
        if name == "xcb" and not env.get("DISPLAY"):
            hint = " For a Wayland session, set QT_QPA_PLATFORM=wayland." if env.get("WAYLAND_DISPLAY") else ""
            problems.append("DISPLAY is not set, so Qt's xcb (X11) platform cannot be used." + hint)
            continue
        plugin = find_plugin(name, env)
        if plugin is None:
            return  # not a layout we know (a distribution's Qt): let Qt decide and speak for itself
        error = plugin_load_error(plugin)
        if error is not None:
            problems.append(_explain_plugin(name, plugin, error))
            continue
        if name == "xcb" and x_server_reachable(env["DISPLAY"]) is False:
            problems.append(f"no X server answers on DISPLAY={env['DISPLAY']}: is the desktop session still "
                            "running, and may this user open windows on it?")
            continue
        return
    if problems:
        raise DisplayUnavailable("\n".join(problems) + "\n`vpnswitch daemon` keeps the failover going without a "
                                 "window.")
