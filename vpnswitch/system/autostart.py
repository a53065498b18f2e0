r"""Start at login, the way each operating system expects it, with the state read back from the OS itself.

- Linux (and other XDG desktops): ``$XDG_CONFIG_HOME/autostart/vpnswitch.desktop`` running
  ``vpnswitch --minimized`` in the foreground. No forking: session managers track the process they started,
  and a forking launcher breaks KDE autostart.
- Windows: the value ``vpnswitch`` under ``HKCU\Software\Microsoft\Windows\CurrentVersion\Run`` with the
  executable quoted (paths with spaces are the rule there). Task Manager's "Disabled" flag is honoured.
- macOS: a LaunchAgent plist in ``~/Library/LaunchAgents`` with ``RunAtLoad``.

The same three mechanisms carry other login items (``LoginItem``): the one-shot "put the proxy back" entry
that a crash must not leave undone (``system/sysproxy/loginrestore.py``) uses Windows' ``RunOnce`` key.

What the settings window shows is ``status()``, read from the file or registry each time, never a remembered
flag: the user (or another tool) may have changed it behind our back. Every root — config dir, home, registry —
is injectable, so tests never touch the real ones.
"""

from __future__ import annotations

import os
import plistlib
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from vpnswitch import APP_ID
from vpnswitch.core.errors import VpnSwitchError
from vpnswitch.core.files import atomic_write
from vpnswitch.system import winregistry

State = Literal["on", "off", "other"]

RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_ONCE_KEY = r"Software\Microsoft\Windows\CurrentVersion\RunOnce"
STARTUP_APPROVED_KEY = r"Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"
RUN_VALUE_NAME = APP_ID
LAUNCH_AGENT_LABEL = "io.github.vpnswitch"
MINIMIZED_FLAG = "--minimized"


class AutostartError(VpnSwitchError):
    code = "autostart-failed"


@dataclass(frozen=True)
class LoginItem:
    """One thing the OS starts at login: its name in each OS's list, what it is, and what it runs."""

    ident: str  # XDG file stem and Windows value name
    launchd_label: str
    title: str
    comment: str
    args: tuple[str, ...]  # after the program itself
    one_shot: bool = False  # Windows: RunOnce (removed by the OS when run); elsewhere the command removes it


MAIN_ITEM = LoginItem(
    ident=APP_ID,
    launchd_label=LAUNCH_AGENT_LABEL,
    title="vpnswitch",
    comment="Keeps you online through whichever installed VPN or Tor still works",
    args=(MINIMIZED_FLAG,),
)


@dataclass(frozen=True)
class AutostartStatus:
    """What the OS will do at the next login.

    ``state`` is "on" (it starts this vpnswitch), "off", or "other" (an entry under our name exists but runs a
    different command — typically an older install at another path). ``disabled_by_user`` is set when the
    entry exists but the desktop's own startup settings switched it off.
    """

    state: State
    location: str
    command: str = ""
    disabled_by_user: bool = False

    @property
    def enabled(self) -> bool:
        return self.state == "on"

    def describe(self) -> str:
        if self.state == "on":
            return f"on: vpnswitch starts at login ({self.location})"
        if self.disabled_by_user:
            return f"off: the entry {self.location} is disabled in your desktop's startup settings"
        if self.state == "other":
            return f"off: {self.location} starts a different program: {self.command}"
        return "off: vpnswitch does not start at login"


class Autostart(Protocol):
    platform: str

    def status(self) -> AutostartStatus: ...

    def enable(self) -> AutostartStatus: ...

    def disable(self) -> AutostartStatus: ...


def launch_command(*, frozen: bool | None = None, executable: str | None = None, prefix: str | None = None,
                   platform: str | None = None, args: Sequence[str] = (MINIMIZED_FLAG,)) -> list[str]:
    """The argv that runs this installation with ``args`` (default: minimised to the tray), absolute paths.

    Login sessions often have a shorter PATH than a terminal, so the command is never a bare name.
    """
    frozen = getattr(sys, "frozen", False) if frozen is None else frozen
    executable = executable or sys.executable
    platform = platform or sys.platform
    if frozen:
        return [executable, *args]
    prefix = prefix or sys.prefix
    script_dir = Path(prefix) / ("Scripts" if platform == "win32" else "bin")
    for name in ("vpnswitch.exe", "vpnswitch") if platform == "win32" else ("vpnswitch",):
        candidate = script_dir / name
        if candidate.is_file():
            return [str(candidate), *args]
    found = shutil.which("vpnswitch")
    if found:
        return [str(Path(found).absolute()), *args]
    return [executable, "-m", "vpnswitch", *args]


# Characters that force an argument to be quoted in an Exec line (Desktop Entry Specification, "Exec key").
_EXEC_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def _quote_exec_arg(arg: str) -> str:
    arg = arg.replace("%", "%%")
    if arg and not (set(arg) & _EXEC_RESERVED):
        return arg
    inner = "".join("\\" + ch if ch in '"`$\\' else ch for ch in arg)
    return f'"{inner}"'


def exec_line(argv: Sequence[str]) -> str:
    """An Exec value for argv: quoted per the spec, then escaped as a desktop-file string (backslashes doubled)."""
    quoted = " ".join(_quote_exec_arg(a) for a in argv)
    return quoted.replace("\\", "\\\\")


def _unescape_string(value: str) -> str:
    out, i = [], 0
    escapes = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value) and value[i + 1] in escapes:
            out.append(escapes[value[i + 1]])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def parse_exec(value: str) -> list[str]:
    """The argv an Exec value means; the inverse of ``exec_line`` (field codes such as %U are dropped)."""
    text = _unescape_string(value)
    args: list[str] = []
    current: list[str] = []
    in_arg = quoted = False
    i = 0
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == "\\" and i + 1 < len(text) and text[i + 1] in '"`$\\':
                current.append(text[i + 1])
                i += 2
                continue
            if ch == '"':
                quoted = False
            else:
                current.append(ch)
        elif ch == '"':
            quoted = in_arg = True
        elif ch in " \t":
            if in_arg:
                args.append("".join(current))
                current, in_arg = [], False
        else:
            current.append(ch)
            in_arg = True
        i += 1
    if in_arg:
        args.append("".join(current))
    result = []
    for arg in args:
        if len(arg) == 2 and arg[0] == "%" and arg[1] != "%":
            continue  # a field code such as %U: expanded by the launcher, not part of the command
        result.append(arg.replace("%%", "%"))
    return result


def _desktop_entry(path: Path) -> dict[str, str]:
    """The keys of the [Desktop Entry] group (no locale handling: we only read Exec, Hidden and the GNOME flag)."""
    entry: dict[str, str] = {}
    group = ""
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1]
            continue
        if group == "Desktop Entry" and "=" in line:
            key, _, value = line.partition("=")
            entry.setdefault(key.strip(), value.strip())
    return entry


class _FileEntry:
    """A login item kept as one file (XDG desktop entry, LaunchAgent plist): written whole, removed whole."""

    path: Path

    def render(self) -> bytes:
        raise NotImplementedError

    def status(self) -> AutostartStatus:
        raise NotImplementedError

    def enable(self) -> AutostartStatus:
        try:
            atomic_write(self.path, self.render(), 0o644)
        except OSError as exc:
            raise AutostartError(f"cannot write {self.path}: {exc.strerror}") from None
        return self.status()

    def disable(self) -> AutostartStatus:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise AutostartError(f"cannot remove {self.path}: {exc.strerror}") from None
        return self.status()


class XdgAutostart(_FileEntry):
    """An XDG autostart entry; ``config_home`` defaults to $XDG_CONFIG_HOME or ~/.config."""

    platform = "linux"

    def __init__(self, config_home: Path | None = None, command: Sequence[str] | None = None,
                 item: LoginItem = MAIN_ITEM) -> None:
        if config_home is None:
            env = os.environ.get("XDG_CONFIG_HOME", "")
            config_home = Path(env) if env and Path(env).is_absolute() else Path.home() / ".config"
        self.item = item
        self.path = config_home / "autostart" / f"{item.ident}.desktop"
        self.command = list(command) if command is not None else launch_command(args=item.args)

    def render(self) -> bytes:
        return "\n".join([
            "[Desktop Entry]",
            "Type=Application",
            f"Name={self.item.title}",
            f"Comment={self.item.comment}",
            f"Exec={exec_line(self.command)}",
            "Icon=vpnswitch",
            "Terminal=false",
            "StartupNotify=false",
            "X-GNOME-Autostart-enabled=true",
            # Give the panel a moment, so the tray exists when we start (KDE runs autostart before the panel).
            "X-GNOME-Autostart-Delay=5",
            "X-KDE-autostart-after=panel",
            "",
        ]).encode("utf-8")

    def status(self) -> AutostartStatus:
        try:
            entry = _desktop_entry(self.path)
        except FileNotFoundError:
            return AutostartStatus("off", str(self.path))
        except OSError as exc:
            raise AutostartError(f"cannot read {self.path}: {exc.strerror}") from None
        argv = parse_exec(entry.get("Exec", ""))
        shown = " ".join(argv)
        if entry.get("Hidden", "").lower() == "true" or entry.get("X-GNOME-Autostart-enabled", "").lower() == "false":
            return AutostartStatus("off", str(self.path), shown, disabled_by_user=True)
        return AutostartStatus("on" if argv == self.command else "other", str(self.path), shown)


# ------------------------------------------------------------------------------------------------ Windows


class Registry(Protocol):
    """The few HKEY_CURRENT_USER operations autostart needs; a dict-backed fake replaces it in tests."""

    def get(self, key: str, name: str) -> str | bytes | None: ...

    def set_string(self, key: str, name: str, value: str) -> None: ...

    def delete(self, key: str, name: str) -> None: ...


class WinRegistry:
    """HKEY_CURRENT_USER through the shared registry wrapper, with its errors said as autostart errors."""

    def get(self, key: str, name: str) -> str | bytes | None:
        try:
            found = winregistry.read_value(key, name)
        except winregistry.NotOnWindows as exc:
            raise AutostartError(str(exc)) from None
        if found is None:
            return None
        value = found[0]
        return value if isinstance(value, (str, bytes)) else str(value)

    def set_string(self, key: str, name: str, value: str) -> None:
        try:
            winregistry.write_value(key, name, value, winregistry.REG_SZ)
        except winregistry.NotOnWindows as exc:
            raise AutostartError(str(exc)) from None

    def delete(self, key: str, name: str) -> None:
        try:
            winregistry.delete_value(key, name)
        except winregistry.NotOnWindows as exc:
            raise AutostartError(str(exc)) from None


def windows_command_line(argv: Sequence[str]) -> str:
    """The Run value: the executable always quoted, arguments quoted when they need it."""
    import subprocess

    first = f'"{argv[0]}"'
    rest = subprocess.list2cmdline(list(argv[1:]))
    return f"{first} {rest}" if rest else first


class WindowsAutostart:
    platform = "win32"

    def __init__(self, registry: Registry | None = None, command: Sequence[str] | None = None,
                 item: LoginItem = MAIN_ITEM) -> None:
        self.registry: Registry = registry if registry is not None else WinRegistry()
        self.command = list(command) if command is not None else launch_command(args=item.args)
        self.key = RUN_ONCE_KEY if item.one_shot else RUN_KEY
        self.value_name = item.ident
        self.location = f"HKCU\\{self.key}\\{self.value_name}"

    def status(self) -> AutostartStatus:
        try:
            value = self.registry.get(self.key, self.value_name)
            approved = self.registry.get(STARTUP_APPROVED_KEY, self.value_name)
        except OSError as exc:
            raise AutostartError(f"cannot read {self.location}: {exc}") from None
        if not isinstance(value, str) or not value:
            return AutostartStatus("off", self.location)
        # Task Manager's "Disable" keeps the Run value and marks it here: an odd first byte means disabled.
        if isinstance(approved, bytes) and approved and approved[0] & 1:
            return AutostartStatus("off", self.location, value, disabled_by_user=True)
        ours = value.strip() == windows_command_line(self.command)
        return AutostartStatus("on" if ours else "other", self.location, value)

    def enable(self) -> AutostartStatus:
        try:
            self.registry.set_string(self.key, self.value_name, windows_command_line(self.command))
            # Turning it on here is an explicit wish: clear a "disabled" mark Task Manager may have left.
            self.registry.delete(STARTUP_APPROVED_KEY, self.value_name)
        except OSError as exc:
            raise AutostartError(f"cannot write {self.location}: {exc}") from None
        return self.status()

    def disable(self) -> AutostartStatus:
        try:
            self.registry.delete(self.key, self.value_name)
            self.registry.delete(STARTUP_APPROVED_KEY, self.value_name)
        except OSError as exc:
            raise AutostartError(f"cannot remove {self.location}: {exc}") from None
        return self.status()


# -------------------------------------------------------------------------------------------------- macOS


class MacAutostart(_FileEntry):
    """A per-user LaunchAgent; launchd reads it at the next login."""

    platform = "darwin"

    def __init__(self, home: Path | None = None, command: Sequence[str] | None = None,
                 item: LoginItem = MAIN_ITEM) -> None:
        self.label = item.launchd_label
        self.path = (home or Path.home()) / "Library" / "LaunchAgents" / f"{self.label}.plist"
        self.command = list(command) if command is not None else launch_command(args=item.args)

    def render(self) -> bytes:
        return plistlib.dumps({
            "Label": self.label,
            "ProgramArguments": self.command,
            "RunAtLoad": True,
            "ProcessType": "Interactive",
            "LimitLoadToSessionType": "Aqua",
        })

    def status(self) -> AutostartStatus:
        try:
            data = plistlib.loads(self.path.read_bytes())
        except FileNotFoundError:
            return AutostartStatus("off", str(self.path))
        except (OSError, plistlib.InvalidFileException, ValueError) as exc:
            return AutostartStatus("other", str(self.path), f"unreadable ({type(exc).__name__})")
        args = data.get("ProgramArguments") if isinstance(data, dict) else None
        shown = " ".join(str(a) for a in args) if isinstance(args, list) else ""
        if not isinstance(data, dict) or data.get("Disabled") is True or data.get("RunAtLoad") is not True:
            return AutostartStatus("off", str(self.path), shown, disabled_by_user=isinstance(data, dict))
        return AutostartStatus("on" if args == self.command else "other", str(self.path), shown)


def for_platform(platform: str | None = None, item: LoginItem = MAIN_ITEM,
                 config_home: Path | None = None) -> Autostart:
    """The login-item backend for this OS (XDG for Linux and the BSDs); ``config_home`` only for XDG."""
    platform = platform or sys.platform
    if platform == "win32":
        return WindowsAutostart(item=item)
    if platform == "darwin":
        return MacAutostart(item=item)
    return XdgAutostart(config_home, item=item)
