"""Finding tor (system, Expert Bundle, Tor Browser) and its pluggable transports."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.conftest import in_ci
from vpnswitch.backends.tor import locate as tor_locate
from vpnswitch.backends.tor.locate import TorInstall, find_plugins, find_tor, read_pt_config
from vpnswitch.system.runner import Runner

# The shape of the Expert Bundle's pt_config.json (15.x).
PT_CONFIG = {
    "recommendedDefault": "obfs4",
    "pluggableTransports": {
        "lyrebird": "ClientTransportPlugin meek_lite,obfs2,obfs3,obfs4,scramblesuit,webtunnel exec ${pt_path}lyrebird",
        "snowflake": "ClientTransportPlugin snowflake exec ${pt_path}snowflake-client",
        "conjure": "ClientTransportPlugin conjure exec ${pt_path}conjure-client -registerURL https://r.example/",
    },
    "bridges": {"obfs4": ["obfs4 192.0.2.1:443 FP cert=x iat-mode=0", "obfs4 192.0.2.2:443 FP cert=y iat-mode=0"],
                "snowflake": ["snowflake 192.0.2.3:80 FP url=u"]},
}


def test_pt_config_with_spaces_in_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "Program Files" / "Tor" / "pluggable_transports"
    folder.mkdir(parents=True)
    (folder / "pt_config.json").write_text(json.dumps(PT_CONFIG))
    plugins, bridges = read_pt_config(folder / "pt_config.json")
    assert plugins["obfs4"] == (f"{folder}{os.sep}lyrebird",)
    assert plugins["webtunnel"] == plugins["obfs4"]
    assert plugins["snowflake"] == (f"{folder}{os.sep}snowflake-client",)
    assert plugins["conjure"] == (f"{folder}{os.sep}conjure-client", "-registerURL", "https://r.example/")
    assert len(bridges["obfs4"]) == 2 and len(bridges["snowflake"]) == 1


def test_bundle_transports_win_over_system_ones(tmp_path: Path) -> None:
    tor = tmp_path / "tor" / "tor.exe"
    pt = tmp_path / "tor" / "pluggable_transports"
    pt.mkdir(parents=True)
    tor.write_text("")
    (pt / "pt_config.json").write_text(json.dumps(PT_CONFIG))
    plugins, _ = find_plugins(str(tor), which=lambda name: f"/usr/bin/{name}" if name == "obfs4proxy" else None)
    assert plugins["obfs4"][0].endswith("lyrebird")


def test_system_transports_on_path() -> None:
    found = {"obfs4proxy": "/usr/bin/obfs4proxy", "snowflake-client": "/usr/bin/snowflake-client"}
    plugins, bridges = find_plugins("/usr/sbin/tor", which=found.get)
    assert plugins == {"obfs4": ("/usr/bin/obfs4proxy",), "meek_lite": ("/usr/bin/obfs4proxy",),
                       "snowflake": ("/usr/bin/snowflake-client",)}
    assert bridges == {}


def test_search_order_configured_system_bundle(tmp_path: Path) -> None:
    present = {tmp_path / "my" / "tor"}
    exists = present.__contains__
    assert find_tor(str(tmp_path / "my" / "tor"), which=lambda _: "/usr/bin/tor", exists=exists) == (
        str(tmp_path / "my" / "tor"), "configured")
    assert find_tor(str(tmp_path / "none"), which=lambda _: "/usr/bin/tor", exists=exists) is None
    assert find_tor(None, which=lambda _: "/usr/bin/tor", exists=exists) == ("/usr/bin/tor", "system")
    home = tmp_path / "home"
    browser = home / ".local/share/torbrowser/tbb/x86_64/tor-browser/Browser/TorBrowser/Tor/tor"
    assert find_tor(None, platform="linux", which=lambda _: None, home=home, exists={browser}.__contains__) == (
        str(browser), "tor-browser")


def test_windows_expert_bundle_and_tor_browser(tmp_path: Path) -> None:
    local = tmp_path / "AppData" / "Local"
    bundle = local / "Tor" / "tor" / "tor.exe"
    browser = tmp_path / "Desktop" / "Tor Browser" / "Browser" / "TorBrowser" / "Tor" / "tor.exe"
    env = {"LOCALAPPDATA": str(local)}
    assert find_tor(None, platform="win32", env=env, which=lambda _: None, home=tmp_path,
                    exists={bundle, browser}.__contains__) == (str(bundle), "expert-bundle")
    assert find_tor(None, platform="win32", env=env, which=lambda _: None, home=tmp_path,
                    exists={browser}.__contains__) == (str(browser), "tor-browser")


def test_macos_tor_browser_and_homebrew(tmp_path: Path) -> None:
    app = Path("/Applications/Tor Browser.app/Contents/MacOS/Tor/tor")
    assert find_tor(None, platform="darwin", which=lambda _: None, home=tmp_path,
                    exists={app}.__contains__) == (str(app), "tor-browser")
    assert find_tor(None, platform="darwin", which=lambda _: None, home=tmp_path,
                    exists={app, Path("/opt/homebrew/bin/tor")}.__contains__) == ("/opt/homebrew/bin/tor", "system")


def test_bundled_tor_on_linux_gets_its_library_folder() -> None:
    install = TorInstall("/opt/tb/Browser/TorBrowser/Tor/tor", "tor-browser")
    if os.name == "posix" and os.uname().sysname == "Linux":
        assert install.env()["LD_LIBRARY_PATH"].startswith("/opt/tb/Browser/TorBrowser/Tor")
    assert TorInstall("/usr/bin/tor", "system").env() == {}


def test_the_real_tor_is_located_with_its_version_and_transports() -> None:
    """Against whatever is installed here; the version comes from the real `tor --version`."""
    install = tor_locate.locate(runner=Runner())
    if install is None:
        if in_ci():
            pytest.fail("tor is not installed: apt-get install -y --no-install-recommends tor obfs4proxy")
        pytest.skip("tor is not installed on this machine")
    assert Path(install.tor).exists()
    assert install.version.count(".") >= 2
    if Path("/usr/bin/obfs4proxy").exists():
        assert "obfs4" in install.plugins


def test_fake_bundle_tor_version_is_read(tmp_path: Path) -> None:
    fake = tmp_path / "tor"
    fake.write_text("#!/bin/sh\necho 'Tor version 0.4.8.12.'\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    install = tor_locate.locate(str(fake), Runner())
    assert install is not None and install.version == "0.4.8.12" and install.source == "configured"
