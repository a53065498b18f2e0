"""Where programs and files live on each OS, so detection and backends look in the same places.

A ``Layout`` is either the running system or a fake filesystem root laid out like Linux, Windows or macOS:
detection is tested on such roots, and a backend resolves its program through the same code at run time.
Path templates use ``/`` and named bases: ``{ProgramFiles}/Mullvad VPN/resources/mullvad.exe``,
``~/.local/bin/x``, ``/usr/bin/x``.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

Platform = Literal["linux", "windows", "darwin"]
PLATFORMS: tuple[Platform, ...] = ("linux", "windows", "darwin")

_TEMPLATE = re.compile(r"\{([A-Za-z0-9_()]+)\}")
_FAKE_USER = "user"


def current_platform() -> Platform:
    if sys.platform == "win32":
        return "windows"
    if sys.platform == "darwin":
        return "darwin"
    return "linux"


def normalise_platform(value: str | None) -> Platform:
    if value is None:
        return current_platform()
    value = value.lower()
    aliases: dict[str, Platform] = {"win32": "windows", "win": "windows", "macos": "darwin", "mac": "darwin",
                                    "osx": "darwin"}
    value = aliases.get(value, value)
    if value not in PLATFORMS:
        raise ValueError(f"unknown platform {value!r} (known: {', '.join(PLATFORMS)})")
    return value


_LINUX_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin", "/snap/bin")
_DARWIN_PATH = ("/opt/homebrew/bin", "/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin")


@dataclass(frozen=True)
class Layout:
    """One machine's directories. ``root`` is None for the real filesystem, else a fake root for tests."""

    platform: Platform
    root: Path | None
    home: Path
    bases: Mapping[str, Path] = field(default_factory=dict)
    path_dirs: tuple[Path, ...] = ()

    # ------------------------------------------------------------------------------------ constructors

    @classmethod
    def system(cls) -> Layout:
        platform = current_platform()
        home = Path.home()
        path_dirs = tuple(Path(p) for p in os.environ.get("PATH", "").split(os.pathsep) if p)
        bases: dict[str, Path] = {}
        if platform == "windows":
            env = os.environ
            defaults = {
                "ProgramFiles": r"C:\Program Files",
                "ProgramFiles(x86)": r"C:\Program Files (x86)",
                "ProgramData": r"C:\ProgramData",
                "LOCALAPPDATA": str(home / "AppData" / "Local"),
                "APPDATA": str(home / "AppData" / "Roaming"),
                "USERPROFILE": str(home),
                "TEMP": str(home / "AppData" / "Local" / "Temp"),
            }
            bases = {key: Path(env.get(key) or default) for key, default in defaults.items()}
        return cls(platform, None, home, bases, path_dirs)

    @classmethod
    def fake(cls, root: Path, platform: str) -> Layout:
        """A machine laid out under ``root``: ``root/usr/bin``, ``root/Program Files``, ``root/Applications``…"""
        plat = normalise_platform(platform)
        if plat == "windows":
            home = root / "Users" / _FAKE_USER
            bases = {
                "ProgramFiles": root / "Program Files",
                "ProgramFiles(x86)": root / "Program Files (x86)",
                "ProgramData": root / "ProgramData",
                "LOCALAPPDATA": home / "AppData" / "Local",
                "APPDATA": home / "AppData" / "Roaming",
                "USERPROFILE": home,
                "TEMP": home / "AppData" / "Local" / "Temp",
            }
            path_dirs = (root / "Windows" / "System32", root / "Windows")
            return cls(plat, root, home, bases, path_dirs)
        if plat == "darwin":
            home = root / "Users" / _FAKE_USER
            return cls(plat, root, home, {}, tuple(_under(root, d) for d in _DARWIN_PATH))
        home = root / "home" / _FAKE_USER
        dirs = tuple(_under(root, d) for d in _LINUX_PATH) + (home / ".local" / "bin",)
        return cls(plat, root, home, {}, dirs)

    # ------------------------------------------------------------------------------------------ lookups

    def expand(self, template: str) -> Path:
        """A path template resolved on this layout (see the module docstring)."""
        if template.startswith("~/") or template == "~":
            return self.home / template[2:]
        match = _TEMPLATE.match(template)
        if match:
            base = self.bases.get(match.group(1))
            if base is None:
                base = (self.root or Path("C:/")) / match.group(1)
            rest = template[match.end():].lstrip("/")
            return base / rest if rest else base
        if self.root is not None and template.startswith("/"):
            return _under(self.root, template)
        return Path(template)

    def which(self, name: str) -> Path | None:
        """The program ``name`` as the OS would find it on PATH (with ``.exe`` on Windows)."""
        if self.root is None:
            found = shutil.which(name)
            return Path(found) if found else None
        names = [name]
        if self.platform == "windows" and not name.lower().endswith(".exe"):
            names.insert(0, f"{name}.exe")
        for directory in self.path_dirs:
            for candidate in names:
                path = directory / candidate
                if path.is_file() and (self.platform == "windows" or os.access(path, os.X_OK)):
                    return path
        return None

    def find_program(self, names: Iterable[str], templates: Iterable[str] = ()) -> Path | None:
        """PATH first (what the user would run), then the OS's known install locations."""
        for name in names:
            found = self.which(name)
            if found is not None:
                return found
        for template in templates:
            path = self.expand(template)
            if path.is_file():
                return path
        return None

    def glob(self, template: str, pattern: str) -> list[Path]:
        """Files matching ``pattern`` in a directory template, sorted; empty when unreadable or absent."""
        directory = self.expand(template)
        try:
            return sorted(p for p in directory.glob(pattern) if p.is_file())
        except OSError:
            return []

    def display(self, path: Path) -> str:
        """A path as the user would recognise it: fake roots are shown relative to their root."""
        if self.root is None:
            return str(path)
        try:
            rel = PurePosixPath(path.relative_to(self.root).as_posix())
        except ValueError:
            return str(path)
        if self.platform == "windows":
            return "C:\\" + str(rel).replace("/", "\\")
        return f"/{rel}"


def _under(root: Path, absolute: str) -> Path:
    return root / absolute.lstrip("/")


_SYSTEM: Layout | None = None


def system_layout() -> Layout:
    """The running machine's layout (computed once; PATH changes after start are not seen)."""
    global _SYSTEM
    if _SYSTEM is None:
        _SYSTEM = Layout.system()
    return _SYSTEM
