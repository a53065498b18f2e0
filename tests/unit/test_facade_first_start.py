"""The first-start proposal the welcome page shows: only without a settings file, in the recommended order
(plain first, obfuscated next, Tor last), each with what it still needs; and detection that breaks never stops
the start."""

from __future__ import annotations

from pathlib import Path

import pytest

from vpnswitch.backends import detect
from vpnswitch.backends.detect import Detected
from vpnswitch.core.config import Profile
from vpnswitch.core.paths import Paths
from vpnswitch.ui import facade


def paths(tmp_path: Path) -> Paths:
    return Paths(config_file=tmp_path / "config.json", state_dir=tmp_path / "state", cache_dir=tmp_path / "cache",
                 log_dir=tmp_path / "log", runtime_dir=tmp_path / "run")


def found() -> list[Detected]:
    return [
        Detected("tor", "Tor", "tor", "/usr/sbin/tor", (Profile("Tor", "tor", {}),)),
        Detected("outline", "Outline", "shadowsocks", "ss-local", (Profile("Outline", "shadowsocks", {}),)),
        Detected("mullvad", "Mullvad VPN", "mullvad", "/usr/bin/mullvad", (Profile("Mullvad", "mullvad", {}),)),
        Detected("wireguard", "WireGuard", "wireguard", "/etc/wireguard/home.conf",
                 (Profile("home", "wireguard", {"config": "/etc/wireguard/home.conf"}),)),
    ]


def test_a_first_start_proposes_what_was_found_in_the_recommended_order(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(detect, "detect", lambda *a, **k: found())
    first = facade.first_start(paths(tmp_path))
    assert first is not None
    names = [o.name for o in first.offers]
    assert names[-1] == "Tor" and names.index("Outline") > max(names.index("Mullvad"), names.index("home"))
    assert [p.name for p in first.proposal.profiles] == names  # the order to save is the order shown
    by_name = {o.name: o for o in first.offers}
    assert by_name["Mullvad"].needs == ("login",) and by_name["home"].needs == ()
    assert by_name["Outline"].way_out == "obfuscated" and by_name["Tor"].way_out == "tor"
    assert by_name["home"].note == "/etc/wireguard/home.conf" and by_name["Mullvad"].app == "Mullvad VPN"


def test_later_starts_run_as_configured(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    assert facade.first_start(paths(tmp_path)) is None


def test_broken_detection_still_gives_a_first_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_a: object, **_k: object) -> list[Detected]:
        raise RuntimeError("boom")

    monkeypatch.setattr(detect, "detect", broken)
    first = facade.first_start(paths(tmp_path))
    assert first is not None and first.offers == () and first.proposal.profiles == ()
