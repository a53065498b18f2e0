"""A private desktop session for tests: its own D-Bus session bus, an Xvfb screen, a tray host and a
notification server, with a throw-away HOME. Every process is started here and stopped here by PID.

    with XSession(tmp_path) as session:
        subprocess.Popen([...], env=session.env)
        session.click(x, y, button=3)
        session.screenshot(path)

Used by the real-X tray test and by the start-up benchmark.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

TOOLS = {
    "Xvfb": "xvfb",
    "trayer": "trayer",
    "xdotool": "xdotool",
    "import": "imagemagick",
    "dbus-daemon": "dbus-daemon",
    "dunst": "dunst",
}


def tied_to_parent(argv: list[str]) -> list[str]:
    """``argv`` run so that it is terminated if this test process dies first (a crash must not leave a bus,
    an X server or an app behind): util-linux's setpriv sets the parent-death signal, then executes it."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--", *argv] if setpriv else argv


def missing_tools(needed: tuple[str, ...] = tuple(TOOLS)) -> list[str]:
    """Tools not on PATH, with the Debian package that provides each."""
    return [f"{tool} (Debian package {TOOLS[tool]})" for tool in needed if shutil.which(tool) is None]


class XSession:
    def __init__(self, root: Path, *, tray: bool = True, notifications: bool = True, width: int = 1280,
                 height: int = 800, panel_color: str = "0x303030") -> None:
        self.root = root
        self.tray = tray
        self.notifications = notifications
        self.width, self.height = width, height
        self.panel_color = panel_color
        self.procs: list[subprocess.Popen[bytes]] = []
        self.env: dict[str, str] = {}
        self.display = ""
        self.bus_address = ""
        self.logs = root / "session-logs"

    # ------------------------------------------------------------------------------------------- start

    def __enter__(self) -> XSession:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, argv: list[str], name: str, **kwargs: object) -> subprocess.Popen[bytes]:
        self.logs.mkdir(parents=True, exist_ok=True)
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - owned by the child
        kwargs.setdefault("stdout", log)
        proc = subprocess.Popen(tied_to_parent(argv), stdin=subprocess.DEVNULL, stderr=log,
                                env=kwargs.pop("env", self.env),
                                **kwargs)  # type: ignore[call-overload]
        log.close()
        self.procs.append(proc)
        return proc

    def start(self) -> None:
        home = self.root / "home"
        runtime = self.root / "runtime"
        for d in (home, runtime):
            d.mkdir(parents=True, exist_ok=True)
        os.chmod(runtime, 0o700)
        env = {k: v for k, v in os.environ.items()
               if k not in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "QT_QPA_PLATFORM")}
        env.update(HOME=str(home), XDG_RUNTIME_DIR=str(runtime), XDG_CONFIG_HOME=str(home / ".config"),
                   XDG_CACHE_HOME=str(home / ".cache"), XDG_DATA_HOME=str(home / ".local/share"),
                   XDG_STATE_HOME=str(home / ".local/state"), NO_AT_BRIDGE="1")
        self.env = env

        bus = self._spawn(["dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1"], "dbus",
                          stdout=subprocess.PIPE)
        assert bus.stdout is not None
        self.bus_address = bus.stdout.readline().decode().strip()
        if not self.bus_address:
            raise RuntimeError("dbus-daemon did not print its address")
        env["DBUS_SESSION_BUS_ADDRESS"] = self.bus_address

        read_fd, write_fd = os.pipe()
        self._spawn(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{self.width}x{self.height}x24",
                     "-nolisten", "tcp", "-noreset", "-wr"], "xvfb", pass_fds=(write_fd,))
        os.close(write_fd)
        number = b""
        deadline = time.monotonic() + 15
        while not number.endswith(b"\n") and time.monotonic() < deadline:
            chunk = os.read(read_fd, 16)
            if not chunk:
                break
            number += chunk
        os.close(read_fd)
        if not number.strip():
            raise RuntimeError("Xvfb did not start (see session-logs/xvfb.log)")
        self.display = f":{number.decode().strip()}"
        env["DISPLAY"] = self.display

        if self.tray:
            self.start_tray()
        if self.notifications:
            self._spawn(["dunst"], "dunst")
            self._wait_for_bus_name("org.freedesktop.Notifications")

    def start_tray(self) -> None:
        """The tray host: trayer, an XEmbed system tray in a top-right panel. (Also for a panel that comes late.)"""
        self._spawn(["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel", "--width", "160",
                     "--heighttype", "pixel", "--height", "32", "--SetDockType", "true", "--transparent", "true",
                     "--alpha", "0", "--tint", self.panel_color, "--expand", "true"], "trayer")
        self._wait_for_window("trayer")

    def _wait_for_window(self, classname: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = subprocess.run(["xdotool", "search", "--classname", classname], env=self.env,
                                   capture_output=True, timeout=10)
            if found.returncode == 0 and found.stdout.strip():
                time.sleep(0.3)  # the tray selection is claimed right after the window maps
                return
            time.sleep(0.1)
        raise RuntimeError(f"no {classname} window appeared")

    def _wait_for_bus_name(self, name: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = subprocess.run(["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
                                  "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner", f"string:{name}"],
                                 env=self.env, capture_output=True, text=True, timeout=10)
            if "boolean true" in out.stdout:
                return
            time.sleep(0.1)
        raise RuntimeError(f"{name} did not appear on the session bus")

    # ------------------------------------------------------------------------------------------ driving

    def xdotool(self, *args: str) -> None:
        subprocess.run(["xdotool", *args], env=self.env, check=True, capture_output=True, timeout=10)

    def click(self, x: int, y: int, button: int = 1) -> None:
        self.xdotool("mousemove", "--sync", str(x), str(y))
        time.sleep(0.1)
        self.xdotool("click", str(button))

    def screenshot(self, path: Path, crop: tuple[int, int, int, int] | None = None) -> Path:
        """The whole X screen (or ``crop`` = x, y, width, height) as PNG."""
        argv = ["import", "-window", "root"]
        if crop is not None:
            x, y, w, h = crop
            argv += ["-crop", f"{w}x{h}+{x}+{y}", "+repage"]
        subprocess.run([*argv, str(path)], env=self.env, check=True, capture_output=True, timeout=30)
        return path

    # -------------------------------------------------------------------------------------------- stop

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
            if proc.stdout is not None:
                proc.stdout.close()
        self.procs.clear()
