"""Turning probe rounds into a verdict — pure functions, so the evidence rule is a table test.

One probe never decides anything: a round probes several targets, and a verdict that leads to a switch
needs the same bad outcome in consecutive rounds (``failure_rounds`` for a dead tunnel,
``blocked_target_rounds`` for a site blocked through a working tunnel, which is rarer and costlier to
get wrong).
"""

from __future__ import annotations

from collections.abc import Sequence

from vpnswitch.core.model import Outcome, RoundResult, Verdict


def classify_round(result: RoundResult) -> Outcome:
    """What one round says. A round with no targets tells nothing and counts as OK."""
    if result.leak:
        return Outcome.LEAK
    targets = result.targets
    if not targets:
        return Outcome.OK
    failed = [t for t in targets if not t.ok]
    if not failed:
        return Outcome.OK
    if len(failed) == len(targets):
        return Outcome.DEAD
    canaries = [t for t in targets if t.role == "canary"]
    must_reach_failed = any(t.role == "must-reach" for t in failed)
    if must_reach_failed and canaries and all(t.ok for t in canaries):
        return Outcome.BLOCKED_TARGET
    return Outcome.DEGRADED


def _streak(outcomes: Sequence[Outcome], kinds: set[Outcome]) -> int:
    count = 0
    for outcome in reversed(outcomes):
        if outcome not in kinds:
            break
        count += 1
    return count


def verdict_for(outcomes: Sequence[Outcome], failure_rounds: int, blocked_target_rounds: int) -> Verdict:
    """The verdict from the most recent rounds of the active profile (oldest first)."""
    if not outcomes:
        return Verdict.UNKNOWN
    if _streak(outcomes, {Outcome.LEAK}) >= failure_rounds:
        return Verdict.LEAKING
    if _streak(outcomes, {Outcome.DEAD}) >= failure_rounds:
        return Verdict.FAILING
    if _streak(outcomes, {Outcome.BLOCKED_TARGET}) >= blocked_target_rounds:
        return Verdict.BLOCKED_TARGET
    if outcomes[-1] is Outcome.OK:
        return Verdict.HEALTHY
    return Verdict.DEGRADED


def describe_failure(verdict: Verdict, result: RoundResult | None, rounds: int) -> str:
    """A sentence for people: what failed, how often."""
    failed = ", ".join(_host(u) for u in result.failed_urls) if result else ""
    if verdict is Verdict.FAILING:
        return f"stopped carrying traffic ({failed or 'every target'} unreachable {rounds} times in a row)"
    if verdict is Verdict.BLOCKED_TARGET:
        return f"cannot reach {failed or 'a must-reach site'} ({rounds} times in a row)"
    if verdict is Verdict.LEAKING:
        detail = result.leak if result else "traffic left outside the tunnel"
        return f"is leaking: {detail}"
    return str(verdict)


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname or url
