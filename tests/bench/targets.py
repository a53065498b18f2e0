"""The failover benchmark's targets, written down once, and the check that compares a run with them.

A run's results are ``{"scenarios": {NAME: {"samples": [SAMPLE, ...], ...}}, ...}`` where a SAMPLE is either
a measurement (``{"detect_s": 1.2, "outage_s": 1.9, "switches": 1, "false_switches": 0, ...}``) or a
failure (``{"failed": "TimeoutError: ..."}``). A failed sample is never dropped: it shows in every table
and makes the check fail, because a benchmark that loses its bad runs can only ever say yes.

The targets are those of the "failover in about a second" plan: lab, default timings, median of five,
measured from the moment the censor's rule is in place to the first answer that came through the backup.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Sample = Mapping[str, Any]
MEDIAN_SAMPLES = 5  # "median of 5"


@dataclass(frozen=True)
class Summary:
    """One metric of one scenario: the numbers of the samples that worked, and how many did not."""

    values: tuple[float, ...]
    failed: int

    @property
    def n(self) -> int:
        """Samples attempted (worked or failed)."""
        return len(self.values) + self.failed

    @property
    def median(self) -> float | None:
        return statistics.median(self.values) if self.values else None

    @property
    def low(self) -> float | None:
        return min(self.values) if self.values else None

    @property
    def high(self) -> float | None:
        return max(self.values) if self.values else None

    @property
    def total(self) -> float | None:
        return math.fsum(self.values) if self.values else None

    def stat(self, name: str) -> float | None:
        return {"median": self.median, "max": self.high, "min": self.low, "sum": self.total}[name]


def is_failed(sample: Sample) -> bool:
    return "failed" in sample


def summarize(samples: Sequence[Sample], metric: str) -> Summary:
    """The metric's values over the samples that worked (a None or missing value is not a number)."""
    values = tuple(float(s[metric]) for s in samples
                   if not is_failed(s) and isinstance(s.get(metric), (int, float)) and not isinstance(s[metric], bool))
    return Summary(values, sum(1 for s in samples if is_failed(s)))


def fmt_range(summary: Summary, unit: str = " s") -> str:
    """``1.92 s (1.89–1.97)``; ``—`` without numbers; failures appended, e.g. ``1.92 s; 1 of 5 failed``."""
    if summary.median is None:
        text = "—"
    elif len(summary.values) == 1:
        text = f"{summary.median:.2f}{unit}"
    else:
        text = f"{summary.median:.2f}{unit} ({summary.low:.2f}–{summary.high:.2f})"
    if summary.failed:
        text += f"; {summary.failed} of {summary.n} failed"
    return text


# ------------------------------------------------------------------------------------------------ targets


@dataclass(frozen=True)
class Target:
    """``stat(metric) op bound`` over at least ``min_samples`` samples, each meeting ``conditions``.

    ``conditions`` are sample fields that must be at least the given number for the sample to count as
    the scenario the target speaks of (e.g. loss that lasted ten minutes, not two).
    """

    scenario: str
    label: str  # the scenario in the plan's words
    metric: str
    stat: str  # median | max | sum
    op: str  # <= | ==
    bound: float
    min_samples: int = MEDIAN_SAMPLES
    conditions: tuple[tuple[str, float], ...] = ()

    @property
    def wanted(self) -> str:
        unit = " s" if self.metric.endswith("_s") else ""
        bound = f"{self.bound:g}{unit}"
        return f"{self.stat} {self.metric} {'≤' if self.op == '<=' else '='} {bound}"


def _no_false_switches(scenario: str, label: str, **conditions: float) -> Target:
    return Target(scenario, label, "false_switches", "sum", "==", 0, min_samples=1,
                  conditions=tuple(conditions.items()))


TARGETS: tuple[Target, ...] = (
    Target("wg-blocked-traffic", "WireGuard blocked, traffic flowing", "outage_s", "median", "<=", 1.5),
    Target("wg-blocked-traffic", "WireGuard blocked, traffic flowing", "detect_s", "median", "<=", 1.2),
    Target("wg-blocked-idle", "WireGuard blocked, idle (block spread over a probe cycle)", "outage_s", "median",
           "<=", 10.0),
    Target("wg-killed", "wireguard-go killed", "outage_s", "median", "<=", 0.3),
    Target("vpn-blocked-to-tor-standby-idle", "blocked VPN → warm Tor, idle user", "outage_s", "median", "<=", 10.0),
    _no_false_switches("loss-10pct", "10 % loss for 10 min", loss_s=600),
    _no_false_switches("loss-20pct", "20 % loss for 10 min", loss_s=600),
    _no_false_switches("link-outage-30s", "link cut for 30 s", cut_s=30),
    _no_false_switches("loss-10pct-tor-standby", "10 % loss, Tor standby ready", loss_s=600),
    _no_false_switches("link-outage-tor-standby", "link cut for 30 s, Tor standby ready", cut_s=30),
)

# Targets of the plan that no scenario measures yet, said so in every check instead of silently missing.
UNMEASURED: tuple[tuple[str, str], ...] = (
    ("suspend/resume with a warm standby", "0 false switches"),
    ("idle cost of one warm standby", "≤ +0.3 % CPU, ≤ +15 MB"),
)

# Statements rather than bounds: the check prints them next to the targets.
WORST_CASE_SCENARIO = "wg-blocked-idle-worst"


@dataclass(frozen=True)
class Verdict:
    target: Target
    measured: str
    ok: bool | None  # None: not run
    why: str


def judge(target: Target, samples: Sequence[Sample] | None) -> Verdict:
    """Whether one target is met by a scenario's samples; failed samples and too few samples are not."""
    if samples is None:
        return Verdict(target, "—", None, "not run")
    summary = summarize(samples, target.metric)
    measured = fmt_range(summary) if target.stat == "median" else _fmt_stat(summary, target.stat)
    if summary.failed:
        return Verdict(target, measured, False, f"{summary.failed} of {summary.n} samples failed")
    short = [f"{key} {s.get(key)} < {need:g}" for s in samples for key, need in target.conditions
             if not isinstance(s.get(key), (int, float)) or float(s[key]) < need]
    if short:
        return Verdict(target, measured, False, "not the scenario of the target: " + "; ".join(sorted(set(short))))
    if len(summary.values) < target.min_samples:
        return Verdict(target, measured, False, f"{len(summary.values)} samples, the target needs {target.min_samples}")
    value = summary.stat(target.stat)
    if value is None:
        return Verdict(target, measured, False, f"no {target.metric} measured")
    met = value <= target.bound if target.op == "<=" else math.isclose(value, target.bound, abs_tol=1e-9)
    return Verdict(target, measured, met, "met" if met else "missed")


def _fmt_stat(summary: Summary, stat: str) -> str:
    value = summary.stat(stat)
    text = "—" if value is None else f"{value:g} in {len(summary.values)}"
    if summary.failed:
        text += f"; {summary.failed} of {summary.n} failed"
    return text


def check(results: Mapping[str, Any]) -> tuple[list[Verdict], list[str]]:
    """Every target's verdict, and the scenarios without a target whose samples failed (they fail too)."""
    scenarios: Mapping[str, Any] = results.get("scenarios", {})
    verdicts = [judge(t, scenarios[t.scenario]["samples"] if t.scenario in scenarios else None) for t in TARGETS]
    judged = {t.scenario for t in TARGETS}
    failed = []
    for name, scenario in scenarios.items():
        bad = sum(1 for s in scenario["samples"] if is_failed(s))
        if name not in judged and bad:
            failed.append(f"{name}: {bad} of {len(scenario['samples'])} samples failed")
    return verdicts, failed


def check_exit_code(verdicts: Sequence[Verdict], failed: Sequence[str]) -> int:
    """1 when a target that was run is missed or any sample failed, else 0."""
    return 1 if failed or any(v.ok is False for v in verdicts) else 0


def check_table(results: Mapping[str, Any]) -> str:
    """The plan's targets against this run, as a Markdown table, with what is not measured and why."""
    verdicts, failed = check(results)
    lines = ["| scenario | target | measured (median, min–max) | verdict |", "|---|---|---|---|"]
    for v in verdicts:
        verdict = "met" if v.ok else ("not run" if v.ok is None else f"**NOT MET**: {v.why}")
        lines.append(f"| {v.target.label} (`{v.target.scenario}`) | {v.target.wanted} | {v.measured} | {verdict} |")
    for label, wanted in UNMEASURED:
        lines.append(f"| {label} | {wanted} | — | no scenario measures it yet |")
    worst = results.get("scenarios", {}).get(WORST_CASE_SCENARIO)
    if worst is not None:
        detect = fmt_range(summarize(worst["samples"], "detect_s"))
        outage = fmt_range(summarize(worst["samples"], "outage_s"))
        lines.append(f"| worst case, idle: block right after a probe, longest probe interval "
                     f"(`{WORST_CASE_SCENARIO}`) | stated | detect {detect}, outage {outage} | stated |")
    lines += [f"| {line} | every sample works | | **FAILED** |" for line in failed]
    return "\n".join(lines)
