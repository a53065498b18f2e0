"""Start at login on each OS, against temporary roots: a real .desktop file, a fake registry, a real plist."""

from __future__ import annotations

import plistlib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import in_ci
from vpnswitch import cli
from vpnswitch.system import autostart
from vpnswitch.system.autostart import (
    RUN_KEY,
    RUN_VALUE_NAME,
    STARTUP_APPROVED_KEY,
    MacAutostart,
    WindowsAutostart,
    XdgAutostart,
    exec_line,
    launch_command,
    parse_exec,
)

COMMAND = ["/opt/vpn switch/bin/vpnswitch", "--minimized"]


class FakeRegistry:
    """HKEY_CURRENT_USER as a dict of (key, value name) → data."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str | bytes] = {}

    def get(self, key: str, name: str) -> str | bytes | None:
        return self.values.get((key, name))

    def set_string(self, key: str, name: str, value: str) -> None:
        self.values[(key, name)] = value

    def delete(self, key: str, name: str) -> None:
        self.values.pop((key, name), None)


# ------------------------------------------------------------------------------------------------ Linux


def test_xdg_enable_writes_a_foreground_minimized_entry_and_reads_it_back(tmp_path: Path) -> None:
    backend = XdgAutostart(config_home=tmp_path, command=COMMAND)
    assert backend.status().state == "off"
    status = backend.enable()
    path = tmp_path / "autostart" / "vpnswitch.desktop"
    assert path.is_file()  # the missing autostart folder was created
    text = path.read_text()
    assert text.startswith("[Desktop Entry]\n")
    assert 'Exec="/opt/vpn switch/bin/vpnswitch" --minimized\n' in text
    assert "--daemon" not in text and "fork" not in text
    assert "X-GNOME-Autostart-enabled=true" in text and "X-KDE-autostart-after=panel" in text
    assert status.state == "on" and status.enabled and status.location == str(path)
    assert backend.disable().state == "off"
    assert not path.exists()
    assert backend.disable().state == "off"  # idempotent


def test_xdg_entry_passes_desktop_file_validate(tmp_path: Path) -> None:
    validator = "/usr/bin/desktop-file-validate"
    if not Path(validator).exists():
        if in_ci():
            pytest.fail("desktop-file-validate is missing: apt-get install desktop-file-utils", pytrace=False)
        pytest.skip("desktop-file-validate (desktop-file-utils) is not installed")
    backend = XdgAutostart(config_home=tmp_path, command=COMMAND)
    backend.enable()
    result = subprocess.run([validator, str(backend.path)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr


def test_xdg_status_reports_what_the_file_says_not_what_we_wished(tmp_path: Path) -> None:
    backend = XdgAutostart(config_home=tmp_path, command=COMMAND)
    backend.enable()
    text = backend.path.read_text()
    backend.path.write_text(text.replace("X-GNOME-Autostart-enabled=true", "X-GNOME-Autostart-enabled=false"))
    status = backend.status()
    assert status.state == "off" and status.disabled_by_user
    backend.path.write_text(text + "Hidden=true\n")
    assert backend.status().disabled_by_user
    backend.path.write_text(text.replace(exec_line(COMMAND), "/usr/local/bin/old-vpnswitch --minimized"))
    status = backend.status()
    assert status.state == "other" and "old-vpnswitch" in status.command
    assert backend.enable().state == "on"  # turning it on again writes our own command


def test_xdg_defaults_to_xdg_config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    assert XdgAutostart(command=COMMAND).path == tmp_path / "cfg" / "autostart" / "vpnswitch.desktop"
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/not/allowed")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert XdgAutostart(command=COMMAND).path == tmp_path / "home" / ".config" / "autostart" / "vpnswitch.desktop"


@pytest.mark.parametrize("argv", [
    ["/usr/bin/vpnswitch", "--minimized"],
    ["/opt/my apps/vpnswitch", "--minimized"],
    ['/weird/"quoted"/vpn$witch', "100%", "back\\slash", "tab\there"],
])
def test_exec_quoting_round_trips(argv: list[str]) -> None:
    assert parse_exec(exec_line(argv)) == argv


def test_exec_parsing_drops_field_codes() -> None:
    assert parse_exec("vpnswitch --minimized %U") == ["vpnswitch", "--minimized"]


def test_launch_command_is_absolute_and_minimized(tmp_path: Path) -> None:
    assert launch_command(frozen=True, executable="C:\\Program Files\\vpnswitch\\vpnswitch.exe") == [
        "C:\\Program Files\\vpnswitch\\vpnswitch.exe", "--minimized"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "vpnswitch").write_text("#!/bin/sh\n")
    assert launch_command(frozen=False, prefix=str(tmp_path), platform="linux") == [
        str(bin_dir / "vpnswitch"), "--minimized"]
    command = launch_command()
    assert Path(command[0]).is_absolute() and command[-1] == "--minimized"


# ---------------------------------------------------------------------------------------------- Windows


def test_windows_run_value_quotes_the_executable() -> None:
    registry = FakeRegistry()
    backend = WindowsAutostart(registry, command=["C:\\Program Files\\vpnswitch\\vpnswitch.exe", "--minimized"])
    assert backend.status().state == "off"
    status = backend.enable()
    assert registry.values[(RUN_KEY, RUN_VALUE_NAME)] == '"C:\\Program Files\\vpnswitch\\vpnswitch.exe" --minimized'
    assert status.state == "on"
    assert backend.disable().state == "off"
    assert (RUN_KEY, RUN_VALUE_NAME) not in registry.values


def test_windows_honours_task_manager_disable_and_clears_it_on_enable() -> None:
    registry = FakeRegistry()
    backend = WindowsAutostart(registry, command=["C:\\vpnswitch\\vpnswitch.exe", "--minimized"])
    backend.enable()
    registry.values[(STARTUP_APPROVED_KEY, RUN_VALUE_NAME)] = b"\x03" + b"\x00" * 11  # "Disabled" in Task Manager
    status = backend.status()
    assert status.state == "off" and status.disabled_by_user
    registry.values[(STARTUP_APPROVED_KEY, RUN_VALUE_NAME)] = b"\x02" + b"\x00" * 11  # "Enabled"
    assert backend.status().state == "on"
    registry.values[(STARTUP_APPROVED_KEY, RUN_VALUE_NAME)] = b"\x03" + b"\x00" * 11
    assert backend.enable().state == "on"
    assert (STARTUP_APPROVED_KEY, RUN_VALUE_NAME) not in registry.values


def test_windows_value_of_another_install_is_reported_as_other() -> None:
    registry = FakeRegistry()
    registry.set_string(RUN_KEY, RUN_VALUE_NAME, '"D:\\old\\vpnswitch.exe"')
    status = WindowsAutostart(registry, command=["C:\\vpnswitch\\vpnswitch.exe", "--minimized"]).status()
    assert status.state == "other" and "D:\\old" in status.command


def test_windows_registry_refuses_to_run_elsewhere() -> None:
    if sys.platform == "win32":
        pytest.skip("this checks the guard on other systems")
    with pytest.raises(autostart.AutostartError):
        autostart.WinRegistry().get(RUN_KEY, RUN_VALUE_NAME)


# ------------------------------------------------------------------------------------------------ macOS


def test_mac_launch_agent_round_trip(tmp_path: Path) -> None:
    backend = MacAutostart(home=tmp_path, command=["/Applications/vpnswitch.app/Contents/MacOS/vpnswitch",
                                                   "--minimized"])
    assert backend.status().state == "off"
    assert backend.enable().state == "on"
    data = plistlib.loads((tmp_path / "Library" / "LaunchAgents" / "io.github.vpnswitch.plist").read_bytes())
    assert data["RunAtLoad"] is True and data["Label"] == "io.github.vpnswitch"
    assert data["ProgramArguments"][-1] == "--minimized"
    data["Disabled"] = True
    backend.path.write_bytes(plistlib.dumps(data))
    assert backend.status().disabled_by_user
    backend.path.write_bytes(b"not a plist")
    assert backend.status().state == "other"
    assert backend.disable().state == "off"


# -------------------------------------------------------------------------------------------------- CLI


def test_cli_autostart_on_off_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(autostart, "for_platform", lambda platform=None: XdgAutostart(tmp_path, COMMAND))
    assert cli.main(["autostart", "status"]) == 0
    assert "off" in capsys.readouterr().out
    assert cli.main(["autostart", "on"]) == 0
    assert capsys.readouterr().out.startswith("on:")
    assert (tmp_path / "autostart" / "vpnswitch.desktop").exists()
    assert cli.main(["autostart", "off"]) == 0
    assert not (tmp_path / "autostart" / "vpnswitch.desktop").exists()


def test_cli_reports_a_failure_to_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    monkeypatch.setattr(autostart, "for_platform", lambda platform=None: XdgAutostart(blocked, COMMAND))
    assert cli.main(["autostart", "on"]) == 1
    assert "cannot write" in capsys.readouterr().err
