"""pytest wiring for lab tests: a session-wide lab and its logs on failure.

The `lab` marker itself is registered in pyproject.toml.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator

import pytest

from tests.lab.harness import Lab

# Self-tests use their own prefix so they never disturb a lab a human brought up with
# the CLI (prefix "vsl"). The state dir is the fixed per-prefix default, so a run that
# was killed outright is cleaned up by the next run's up().
LAB_PREFIX = os.environ.get("VPNSWITCH_LAB_PREFIX", "vst")


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    """The lab, up for the whole session. Missing prerequisites FAIL the tests, never skip."""
    missing = Lab.missing_prerequisites()
    if missing:
        pytest.fail("censorship lab unavailable: " + "; ".join(missing), pytrace=False)
    instance = Lab(prefix=LAB_PREFIX)
    instance.up()
    try:
        yield instance
    finally:
        instance.down()
    leftovers = instance.leftovers()
    assert not leftovers, f"lab teardown left {leftovers}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the lab's log tails to failing tests: the logs vanish with the lab."""
    report = yield
    lab = getattr(item, "funcargs", {}).get("lab")
    if report.failed and isinstance(lab, Lab):
        tails = lab.log_tails(lines=20)
        report.sections.append(("lab logs", "\n".join(f"--- {name}\n{tail}" for name, tail in tails.items())))
    return report
