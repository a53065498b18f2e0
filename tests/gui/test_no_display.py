"""Started where Qt cannot open a window, ``vpnswitch`` says why and what to do and exits 1 (Qt itself would abort
with a core dump); ``vpnswitch daemon`` needs no display at all.

The "missing system library" case uses a stand-in xcb plugin (built here with the C compiler) that needs a real
Debian library this machine does not have, found by the app through Qt's own QT_QPA_PLATFORM_PLUGIN_PATH.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import in_ci
from tests.gui.xsession import tied_to_parent
from vpnswitch.ui import display

ROOT = Path(__file__).resolve().parents[2]
CONFIG = {
    "version": 1,
    "profiles": [{"name": "off", "backend": "command", "enabled": False,
                  "params": {"connect": ["/nonexistent/vpn", "up"], "disconnect": ["/nonexistent/vpn", "down"],
                             "interface": "vst-none0"}}],
    "targets": [{"url": "http://127.0.0.1:9/generate_204", "role": "canary", "expect": [204]}],
}
# Real Debian library packages that Qt does not need; the first one absent from this machine stands in.
ABSENT_CANDIDATES = {"libxcb-ewmh.so.2": "libxcb-ewmh2", "libxcb-xrm.so.0": "libxcb-xrm0",
                     "libxcb-imdkit.so.1": "libxcb-imdkit1"}


def headless_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "DBUS_SESSION_BUS_ADDRESS")}
    env.update(VPNSWITCH_HOME=str(home), PYTHONPATH=str(ROOT), **extra)
    return env


def run_tray(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vpnswitch", "--minimized"], env=env, capture_output=True,
                          text=True, timeout=60)


def test_without_a_display_the_tray_says_so_and_exits_1(tmp_path: Path) -> None:
    result = run_tray(headless_env(tmp_path))
    assert result.returncode == 1, result.stderr
    assert "no graphical display" in result.stderr
    assert "vpnswitch daemon" in result.stderr
    assert "core dumped" not in result.stderr and "Aborted" not in result.stderr


def test_a_display_nobody_answers_on_is_named(tmp_path: Path) -> None:
    result = run_tray(headless_env(tmp_path, DISPLAY=":87"))  # nothing listens on :87 in the tests
    assert result.returncode == 1, result.stderr
    assert "no X server answers on DISPLAY=:87" in result.stderr


def test_an_offscreen_platform_needs_no_display() -> None:
    display.check({"QT_QPA_PLATFORM": "offscreen"}, platform="linux")  # no exception


def test_a_wayland_session_uses_the_wayland_plugin() -> None:
    display.check({"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}, platform="linux")


def test_wayland_outside_a_wayland_session_is_told_how_to_choose_it() -> None:
    with pytest.raises(display.DisplayUnavailable, match="QT_QPA_PLATFORM=wayland"):
        display.check({"WAYLAND_DISPLAY": "wayland-0"}, platform="linux")


def absent_library() -> tuple[str, str]:
    listed = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, timeout=30).stdout
    for soname, package in ABSENT_CANDIDATES.items():
        if soname not in listed:
            return soname, package
    pytest.fail(f"every stand-in library is installed here ({', '.join(ABSENT_CANDIDATES)}); add another")


@pytest.fixture
def broken_plugin_dir(tmp_path: Path) -> tuple[Path, str, str]:
    """A platforms folder whose libqxcb.so needs a library that is not installed."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        message = "no C compiler to build the stand-in plugin (Debian: gcc libc6-dev)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    soname, package = absent_library()
    build = tmp_path / "build"
    build.mkdir()
    (build / "dep.c").write_text("int vpnswitch_test_dep(void) { return 1; }\n")
    (build / "plugin.c").write_text("int vpnswitch_test_dep(void);\n"
                                    "int plugin(void) { return vpnswitch_test_dep(); }\n")
    dep = build / soname
    subprocess.run([compiler, "-shared", "-fPIC", f"-Wl,-soname,{soname}", "-o", str(dep), str(build / "dep.c")],
                   check=True, timeout=60)
    platforms = tmp_path / "platforms"
    platforms.mkdir()
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(platforms / "libqxcb.so"), str(build / "plugin.c"),
                    str(dep)], check=True, timeout=60)
    dep.unlink()  # now the plugin needs a library the loader cannot find, as on a machine without the package
    return platforms, soname, package


def test_a_missing_system_library_is_named_with_its_package(tmp_path: Path,
                                                            broken_plugin_dir: tuple[Path, str, str]) -> None:
    platforms, soname, package = broken_plugin_dir
    result = run_tray(headless_env(tmp_path, DISPLAY=":87", QT_QPA_PLATFORM_PLUGIN_PATH=str(platforms)))
    assert result.returncode == 1, result.stderr
    assert f"the system library {soname} is missing" in result.stderr
    assert f"sudo apt install {package}" in result.stderr


@pytest.mark.parametrize(("soname", "package"), [
    ("libxcb-cursor.so.0", "libxcb-cursor0"),  # the one Qt 6.5+ asks for by name
    ("libxcb-icccm.so.4", "libxcb-icccm4"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
    ("libX11-xcb.so.1", "libx11-xcb1"),
    ("libxcb-xinerama.so.0", "libxcb-xinerama0"),  # not in the table: Debian's rule
    ("libfoo-2.so.0", "libfoo-2-0"),
])
def test_library_file_names_map_to_debian_packages(soname: str, package: str) -> None:
    assert display.debian_package(soname) == package


def test_ldd_not_found_lines_are_read() -> None:
    output = ("\tlibQt6XcbQpa.so.6 => /opt/qt/lib/libQt6XcbQpa.so.6 (0x00007f)\n"
              "\tlibxcb-cursor.so.0 => not found\n\tlibxcb-icccm.so.4 => not found\n"
              "\tlibxcb-cursor.so.0 => not found\n")
    assert display.missing_libraries(output) == ["libxcb-cursor.so.0", "libxcb-icccm.so.4"]


def test_the_daemon_runs_without_a_display(tmp_path: Path) -> None:
    config = tmp_path / "config" / "config.json"
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps(CONFIG))
    env = headless_env(tmp_path)
    with (tmp_path / "stderr.txt").open("wb") as stderr:
        proc = subprocess.Popen(tied_to_parent([sys.executable, "-m", "vpnswitch", "daemon"]), env=env,
                                stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        deadline = time.monotonic() + 30
        answered = False
        while time.monotonic() < deadline and not answered:
            assert proc.poll() is None, (tmp_path / "stderr.txt").read_text()
            answered = subprocess.run([sys.executable, "-m", "vpnswitch", "status", "--json"], env=env,
                                      capture_output=True, timeout=30).returncode == 0
            time.sleep(0.2)
        assert answered, "the daemon never answered on its control socket"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
