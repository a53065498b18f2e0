"""Configuration: field-named errors, defaults, atomic private writes, and nothing the user wrote is lost."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vpnswitch.backends.registry import CATALOG
from vpnswitch.core.config import (
    Config,
    Profile,
    Timings,
    config_from_dict,
    config_to_dict,
    default_config,
    load_config,
    save_config,
)
from vpnswitch.core.errors import ConfigError, ConfigUnreadable

GOOD = {
    "version": 1,
    "profiles": [
        {"name": "home", "backend": "command", "params": {
            "connect": ["myvpn", "up"], "disconnect": ["myvpn", "down"], "interface": "tun7"}},
    ],
    "targets": [
        {"url": "https://example.test/", "role": "canary", "expect": [200]},
        {"url": "https://x.com/", "role": "must-reach"},
    ],
    "timings": {"probe_timeout": 3},
    "behaviour": {"preference": "privacy"},
}


def problems_of(data: object) -> list[str]:
    with pytest.raises(ConfigError) as info:
        config_from_dict(data, CATALOG)
    return info.value.problems


def test_a_good_config_loads_with_defaults_filled_in() -> None:
    config = config_from_dict(GOOD, CATALOG)
    assert config.profiles[0] == Profile("home", "command", GOOD["profiles"][0]["params"], True)  # type: ignore[index]
    assert config.timings.probe_timeout == 3.0
    assert config.timings.failure_rounds == Timings().failure_rounds
    assert config.behaviour.preference == "privacy"
    assert config.targets[1].role == "must-reach"


def test_round_trip_is_lossless() -> None:
    config = config_from_dict(GOOD, CATALOG)
    assert config_from_dict(config_to_dict(config), CATALOG) == config


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        ({"profiles": [{"name": "a", "backend": "comand", "params": {}}]},
         'profiles[0].backend: unknown backend "comand" (did you mean "command"?)'),
        ({"profiles": [{"name": "", "backend": "command"}]}, "profiles[0].name: must be a non-empty string"),
        ({"profiles": [{"name": "a", "backend": "command", "params": {"connect": "myvpn up", "disconnect": ["x"],
                                                                      "interface": "tun0"}}]},
         "profiles[0].params.connect: must be a command as a non-empty list of strings"),
        ({"profiles": [{"name": "a", "backend": "command", "params": {"connect": ["x"], "disconnect": ["y"]}}]},
         'profiles[0].params: needs exactly one of "interface"'),
        ({"profiles": [{"name": "a", "backend": "command", "enabled": "yes",
                        "params": {"connect": ["x"], "disconnect": ["y"], "interface": "tun0"}}]},
         "profiles[0].enabled: must be true or false, not a string"),
        ({"targets": [{"url": "ftp://example.test/"}]}, 'targets[0].url: "ftp://example.test/" is not an http'),
        ({"targets": [{"url": "https://a.test/", "role": "must"}]}, "targets[0].role: must be one of canary"),
        ({"targets": [{"url": "https://a.test/", "expect": [200, 999]}]}, "targets[0].expect: every entry"),
        ({"targets": []}, "targets: needs at least one probe target"),
        ({"timings": {"probe_timeout": 0}}, "timings.probe_timeout: must be between 0.5 and 30, not 0"),
        ({"timings": {"failure_rounds": 1.5}}, "timings.failure_rounds: must be a whole number, not a number"),
        ({"timings": {"probe_intervl_min": 5}}, 'timings.probe_intervl_min: unknown field (did you mean'),
        ({"timings": {"probe_interval_min": 60, "probe_interval_max": 30}},
         "timings.probe_interval_min: must not be larger than probe_interval_max"),
        ({"behaviour": {"preference": "fast"}}, "behaviour.preference: must be one of speed, privacy"),
        ({"behaviour": {"tunnel_resolvers": ["dns.example"]}},
         'behaviour.tunnel_resolvers: must hold IP addresses only (not "dns.example")'),
        ({"behaviour": {"tunnel_resolvers": []}}, "behaviour.tunnel_resolvers: must be a non-empty list"),
        ({"version": 99}, "version: 99 was written by a newer vpnswitch"),
        ({"profile": []}, 'profile: unknown field (did you mean "profiles"?)'),
    ],
)
def test_each_problem_names_its_field(patch: dict[str, object], expected: str) -> None:
    data = {**GOOD, **patch}
    problems = problems_of(data)
    assert any(p.startswith(expected) for p in problems), problems


def test_duplicate_profile_names_are_refused() -> None:
    profile = GOOD["profiles"][0]  # type: ignore[index]
    problems = problems_of({**GOOD, "profiles": [profile, profile]})
    assert problems == ['profiles[1].name: "home" is already used by profiles[0]']


def test_every_problem_is_reported_at_once() -> None:
    problems = problems_of({"profiles": "x", "targets": 5, "timings": [], "behaviour": 1})
    assert len(problems) == 4


def test_missing_file_means_no_config(tmp_path: Path) -> None:
    assert load_config(tmp_path / "nope.json", CATALOG) is None


def test_save_is_private_and_atomic(tmp_path: Path) -> None:
    path = tmp_path / "dir" / "config.json"
    save_config(path, default_config(), CATALOG)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_config(path, CATALOG) == default_config()
    assert [p.name for p in path.parent.iterdir()] == ["config.json"]  # no temp file left behind


def test_saving_over_an_unreadable_file_keeps_the_old_bytes(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    broken = b'{"profiles": [ {"name": "mine", '
    path.write_bytes(broken)
    aside = save_config(path, default_config(), CATALOG)
    assert aside is not None and aside.read_bytes() == broken
    assert load_config(path, CATALOG) == default_config()


def test_not_utf8_is_unreadable_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(b"\xff\xfe{}")
    with pytest.raises(ConfigUnreadable, match="not UTF-8"):
        load_config(path, CATALOG)


# ------------------------------------------------------------------------ malformed files (hypothesis)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
field_names = st.sampled_from(["version", "profiles", "targets", "timings", "behaviour", "desktop"])


def _good_text() -> bytes:
    return json.dumps(GOOD, indent=2).encode()


@st.composite
def broken_files(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["truncated", "wrong-type", "garbage", "nested-wrong-type"]))
    text = _good_text()
    if kind == "truncated":
        return text[: draw(st.integers(min_value=0, max_value=len(text) - 2))]
    if kind == "garbage":
        return draw(st.binary(min_size=1, max_size=64)) + b"\x00{"
    data = json.loads(text)
    if kind == "wrong-type":
        data[draw(field_names)] = draw(json_values.filter(lambda v: not isinstance(v, dict | list)))
    else:
        field = draw(st.sampled_from(["name", "backend", "params", "enabled"]))
        data["profiles"][0][field] = draw(json_values.filter(lambda v: v is None or isinstance(v, int | float)))
    return json.dumps(data).encode()


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(content=broken_files())
def test_malformed_configs_give_a_clear_error_and_stay_intact(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(content)
    try:
        load_config(path, CATALOG)
    except ConfigError as exc:
        assert exc.problems and all(":" in p for p in exc.problems)
        assert str(path) in exc.message
    except ConfigUnreadable as exc:
        assert str(path) in exc.message and ("JSON" in exc.message or "UTF-8" in exc.message)
    else:
        # Some "wrong types" are still valid (e.g. version 1 drawn as an integer): then it must load cleanly.
        pass
    assert path.read_bytes() == content


@pytest.mark.parametrize("content", [b"", b"{", b'{"version": "one"}', b'{"profiles": [{"backend": 3}]}', b"[]"])
def test_cli_exits_2_and_leaves_the_file_alone(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(content)
    for argv in (["config", "check"], ["daemon"]):
        result = subprocess.run(
            [sys.executable, "-m", "vpnswitch", *argv, "--config", str(path)],
            capture_output=True, text=True, timeout=60, env={**os.environ, "VPNSWITCH_HOME": str(tmp_path / "h")},
        )
        assert result.returncode == 2, result.stderr
        assert "config" in result.stderr and str(path) in result.stderr
        assert "Traceback" not in result.stderr
    assert path.read_bytes() == content


def test_config_has_sensible_defaults() -> None:
    config = Config()
    assert config.timings.failure_rounds >= 2
    assert config.timings.probe_interval_min < config.timings.probe_interval_max
    assert len(default_config().targets) >= 2


@pytest.mark.parametrize(("content", "said"), [
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"version": 1, "profiles": [{"name": "\\ud800", "backend": "command"}]}', "profiles[0].name holds a lone"),
    (b'{"version": 1, "\\udfff": 1}', "holds a lone UTF-16 surrogate"),
    (b'{"version": ' + b"9" * 5000 + b"}", "not a usable JSON document"),
])
def test_parser_abuse_is_a_clear_error_and_the_file_stays(tmp_path: Path, content: bytes, said: str) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(content)
    with pytest.raises(ConfigUnreadable, match=said.replace("[", r"\[").replace("]", r"\]")):
        load_config(path, CATALOG)
    assert path.read_bytes() == content


def test_only_regular_files_of_a_sane_size_are_read(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)  # a FIFO with no writer: a blocking open would hang here for ever
    with pytest.raises(ConfigUnreadable, match="is not a regular file"):
        load_config(fifo, CATALOG)
    with pytest.raises(ConfigUnreadable, match="is not a regular file"):
        load_config(tmp_path, CATALOG)
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (1024 * 1024 + 1))
    with pytest.raises(ConfigUnreadable, match="larger than 1024 KiB"):
        load_config(big, CATALOG)


def test_way_out_is_optional_checked_and_kept() -> None:
    data = json.loads(json.dumps(GOOD))
    data["profiles"][0]["way_out"] = "registered"
    config = config_from_dict(data, CATALOG)
    assert config.profiles[0].way_out == "registered"
    assert config_to_dict(config)["profiles"][0]["way_out"] == "registered"
    assert "way_out" not in config_to_dict(config_from_dict(GOOD, CATALOG))["profiles"][0]
    data["profiles"][0]["way_out"] = "fast"
    with pytest.raises(ConfigError, match=r"profiles\[0\]\.way_out: must be one of plain, obfuscated, tor, registered"):
        config_from_dict(data, CATALOG)


def test_tunnel_resolvers_are_kept() -> None:
    config = config_from_dict({**GOOD, "behaviour": {"tunnel_resolvers": ["10.99.20.53", "2606:4700::1111"]}}, CATALOG)
    assert config.behaviour.tunnel_resolvers == ("10.99.20.53", "2606:4700::1111")
    assert config_from_dict(config_to_dict(config), CATALOG) == config
