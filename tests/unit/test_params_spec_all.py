"""Every backend declares its parameters, and the declaration matches what its validation accepts.

The settings form is built from ``params_spec`` alone: a key missing from it could not be edited, and a key the
backend rejects would make every form-made profile invalid.
"""

from __future__ import annotations

import pytest

from vpnswitch.backends import registry
from vpnswitch.core.params import secret_keys

BACKENDS = sorted(registry.Catalog().names())


def unknown(problems: list[tuple[str, str]], key: str) -> bool:
    return any(k == key and problem.startswith("unknown parameter") for k, problem in problems)


@pytest.mark.parametrize("name", BACKENDS)
def test_every_backend_declares_its_parameters(name: str) -> None:
    cls = registry.backend_class(name)
    assert cls.params_spec, f"{name} declares no parameters"
    keys = [p.key for p in cls.params_spec]
    assert len(keys) == len(set(keys)), f"{name} declares a key twice"
    for param in cls.params_spec:
        assert param.label, f"{name}.{param.key} has no label"


@pytest.mark.parametrize("name", BACKENDS)
def test_declared_keys_are_the_accepted_keys(name: str) -> None:
    cls = registry.backend_class(name)
    assert set(secret_keys(cls.params_spec)) == set(cls.secret_keys)
    for param in cls.params_spec:
        if param.secret:
            continue
        assert not unknown(cls.validate_params({param.key: "x"}), param.key), f"{name} rejects its {param.key}"
    assert unknown(cls.validate_params({"no_such_field": 1}), "no_such_field")


def test_tor_transport_must_match_the_bridges() -> None:
    cls = registry.backend_class("tor")
    obfs4 = "obfs4 192.0.2.1:443 " + "A" * 40 + " cert=abc iat-mode=0"
    assert cls.validate_params({"transport": "obfs4", "bridges": [obfs4]}) == []
    problems = cls.validate_params({"transport": "snowflake", "bridges": [obfs4]})
    assert problems and problems[0][0] == "bridges[0]" and "snowflake" in problems[0][1]
    assert cls.validate_params({"transport": "carrier-pigeon"})[0][0] == "transport"


def test_vendor_protocols_are_offered_from_its_cli() -> None:
    spec = {p.key: p for p in registry.backend_class("windscribe").params_spec}
    assert ("stealth", "stealth") in spec["protocol"].choices
    assert spec["protocol"].kind == "text"  # a port may follow (stealth:443): suggestions, not a closed list
