"""The docs' benchmark tables, written from the benchmark's JSON, never by hand.

    python -m tests.bench.report RESULTS.json [MORE.json ...] [--update-docs] [--check]

Prints the tables; ``--update-docs`` rewrites the marked regions of the docs::

    <!-- bench:begin failover -->
    (generated: anything here is replaced)
    <!-- bench:end -->

``--check`` prints the targets table and exits 1 when a target is missed or any sample failed (see
``tests.bench.targets``). Several JSON files are merged in order, a later file's scenario replacing an
earlier one's (e.g. the long loss runs done separately); every file used is named in the tables.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.bench.targets import Summary, check, check_exit_code, check_table, fmt_range, is_failed, summarize
from tests.lab import topology as t
from tests.lab import tornet

ROOT = Path(__file__).resolve().parents[2]

LABELS = {
    "wg-blocked-traffic": "WireGuard blocked, user browsing",
    "wg-blocked-idle": "WireGuard blocked, idle (block anywhere in a probe cycle)",
    "wg-blocked-idle-worst": "WireGuard blocked, idle, worst case (right after a probe, longest interval)",
    "wg-killed": "wireguard-go killed",
    "ovpn-tcp-rst": "OpenVPN-TCP reset by the censor",
    "loss-10pct": "10 % loss",
    "loss-20pct": "20 % loss",
    "link-outage-30s": "link cut for 30 s",
    "openvpn-alone": "baseline: openvpn alone (keepalive 10 60, UDP then TCP)",
    "vpn-blocked-to-tor": "every VPN blocked → cold tor, user browsing",
    "vpn-blocked-to-tor-standby": "every VPN blocked → tor standby, user browsing",
    "vpn-blocked-to-tor-standby-idle": "every VPN blocked → tor standby, idle (block anywhere in a probe cycle)",
    "loss-10pct-tor-standby": "10 % loss, tor standby ready",
    "link-outage-tor-standby": "link cut for 30 s, tor standby ready",
}
FAILOVER = ("wg-blocked-traffic", "wg-blocked-idle", "wg-blocked-idle-worst", "wg-killed", "ovpn-tcp-rst",
            "openvpn-alone")
NO_SWITCH = ("loss-10pct", "loss-20pct", "link-outage-30s")
TOR = ("vpn-blocked-to-tor", "vpn-blocked-to-tor-standby", "vpn-blocked-to-tor-standby-idle")
TOR_NO_SWITCH = ("loss-10pct-tor-standby", "link-outage-tor-standby")

# Source addresses the lab's web server sees, by the way out that carried the request.
EXITS = {t.WG_SERVER_IP: "WireGuard server", t.OVPN_SERVER_IP: "OpenVPN server", tornet.RELAY_IP: "Tor exit",
         t.CLIENT_IP: "client itself (no tunnel)"}

BEGIN = "<!-- bench:begin {name} -->"
END = "<!-- bench:end -->"


# ---------------------------------------------------------------------------------------------- merging


def merge(runs: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """One result from several JSON files: scenarios of later files replace earlier ones; ``sources`` says
    which file each scenario came from."""
    merged: dict[str, Any] = {"scenarios": {}, "idle": None, "notes": [], "sources": {}, "meta": {}}
    for name, data in runs:
        for scenario, series in data.get("scenarios", {}).items():
            merged["scenarios"][scenario] = series
            merged["sources"][scenario] = name
        if data.get("idle"):
            merged["idle"] = data["idle"]
        merged["notes"] += list(data.get("notes", []))
        merged["meta"][name] = data.get("meta", {})
    return merged


# ----------------------------------------------------------------------------------------------- tables


def _cell(summary: Summary) -> str:
    return fmt_range(summary)


def _count(samples: Sequence[Mapping[str, Any]], metric: str) -> str:
    summary = summarize(samples, metric)
    return "—" if summary.total is None else f"{summary.total:g}"


def _n(samples: Sequence[Mapping[str, Any]]) -> str:
    failed = sum(1 for s in samples if is_failed(s))
    return f"{len(samples)}" + (f" (**{failed} failed**)" if failed else "")


def _span(samples: Sequence[Mapping[str, Any]], key: str, unit: str = " s", scale: float = 1.0) -> str:
    summary = summarize(samples, key)
    if summary.low is None or summary.high is None:
        return "—"
    low, high = summary.low * scale, summary.high * scale
    return f"{low:.2f}{unit}" if low == high else f"{low:.2f}–{high:.2f}{unit}"


def _rules(samples: Sequence[Mapping[str, Any]]) -> str:
    """How many dead rounds the verdicts needed (from the daemon's own reason text), e.g. ``2×2, 3×3``."""
    counts: dict[str, int] = {}
    for s in samples:
        match = re.search(r"(\d+) times in a row", str(s.get("verdict_reason", "")))
        key = match.group(1) if match else ("hard failure" if s.get("verdict_reason") else "")
        if key:
            counts[key] = counts.get(key, 0) + 1
    parts = [f"{k} dead rounds ×{v}" if k.isdigit() else f"a {k} ×{v}" for k, v in sorted(counts.items())]
    return ", ".join(parts) or "—"


def _failures(samples: Sequence[Mapping[str, Any]]) -> str:
    reasons = [str(s["failed"]).splitlines()[0][:100] for s in samples if is_failed(s)]
    return "; ".join(f"failed: {r}" for r in reasons)


def _rows(results: Mapping[str, Any], names: Sequence[str], columns: Sequence[tuple[str, Callable[..., str]]]) -> str:
    scenarios = results.get("scenarios", {})
    head = "| scenario | n | " + " | ".join(title for title, _ in columns) + " |"
    lines = [head, "|" + "---|" * (len(columns) + 2)]
    for name in names:
        if name not in scenarios:
            continue
        samples = scenarios[name]["samples"]
        cells = [render(samples) for _, render in columns]
        lines.append(f"| {LABELS.get(name, name)} (`{name}`) | {_n(samples)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _notes(samples: Sequence[Mapping[str, Any]]) -> str:
    parts = []
    if any("since_probe_s" in s for s in samples):
        parts.append(f"blocked {_span(samples, 'since_probe_s')} after a probe")
    rules = _rules(samples)
    if rules != "—":
        parts.append(f"verdict after {rules}")
    vias = sorted({str(s["answered_via"]) for s in samples if s.get("answered_via")})
    if vias:
        parts.append("answers came from the " + ", ".join(f"{EXITS.get(v, v)} ({v})" for v in vias))
    failures = _failures(samples)
    if failures:
        parts.append(failures)
    return "; ".join(parts) or "—"


def failover_table(results: Mapping[str, Any]) -> str:
    return _rows(results, FAILOVER, (
        ("detect (rule → verdict)", lambda s: _cell(summarize(s, "detect_s"))),
        ("outage (rule → first answer through the backup)", lambda s: _cell(summarize(s, "outage_s"))),
        ("false switches", lambda s: _count(s, "false_switches")),
        ("notes", _notes),
    ))


def no_switch_table(names: Sequence[str], results: Mapping[str, Any], *, standby: bool = False) -> str:
    columns: list[tuple[str, Callable[..., str]]] = [
        ("lasted", lambda s: _span(s, "loss_s") if summarize(s, "loss_s").values else _span(s, "cut_s")),
        ("switches", lambda s: _count(s, "switches")),
        ("site answered during it", lambda s: _span(s, "site_ok_ratio", " %", 100.0)),
        ("site back after repair", lambda s: _span(s, "recovered_s")),
    ]
    if standby:
        columns.append(("standby ready again", lambda s: _span(s, "standby_ready_again_s")))
    columns.append(("notes", lambda s: _failures(s) or "—"))
    return _rows(results, names, columns)


def tor_table(results: Mapping[str, Any]) -> str:
    return _rows(results, TOR, (
        ("detect (rule → verdict)", lambda s: _cell(summarize(s, "detect_s"))),
        ("outage (rule → first answer through tor)", lambda s: _cell(summarize(s, "outage_s"))),
        ("daemon's outage", lambda s: _cell(summarize(s, "daemon_outage_s"))),
        ("switch_s", lambda s: _cell(summarize(s, "switch_s"))),
        ("notes", _notes),
    ))


def provenance(results: Mapping[str, Any], names: Sequence[str]) -> str:
    """Which JSON file and run the table's rows come from."""
    sources = results.get("sources", {})
    used = sorted({sources[n] for n in names if n in sources})
    metas = results.get("meta", {})
    parts = []
    for source in used:
        meta = metas.get(source, {})
        parts.append(f"`{source}` ({meta.get('started', '?')}, commit {meta.get('commit', '?')}, "
                     f"{meta.get('cpus', '?')} cores, default timings)")
    return "Generated by `python -m tests.bench.report` from " + ", ".join(parts) + "." if parts else ""


def regions(results: Mapping[str, Any]) -> dict[str, str]:
    """The body of every docs region, by name."""
    def block(table: str, names: Sequence[str]) -> str:
        return f"{table}\n\n{provenance(results, names)}"

    idle = results.get("idle")
    idle_line = (f"\n\nThe daemon itself while it guards a healthy WireGuard tunnel (`idle`, {idle['seconds']:g} s): "
                 f"{idle['cpu_percent']:.2f} % of one core, {idle['rss_mb']:.1f} MB resident." if idle else "")
    return {
        "failover": block(failover_table(results) + idle_line, FAILOVER),
        "no-switch": block(no_switch_table(NO_SWITCH, results), NO_SWITCH),
        "targets": block(check_table(results), [*FAILOVER, *NO_SWITCH, *TOR, *TOR_NO_SWITCH]),
        "tor": block(tor_table(results), TOR),
        "tor-no-switch": block(no_switch_table(TOR_NO_SWITCH, results, standby=True), TOR_NO_SWITCH),
    }


def results_table(results: Mapping[str, Any]) -> str:
    """Everything, for the console."""
    return "\n\n".join(f"## {name}\n{body}" for name, body in regions(results).items())


# ------------------------------------------------------------------------------------------ doc regions


class RegionError(ValueError):
    """A marked region is missing, unterminated or doubled."""


def replace_region(text: str, name: str, body: str) -> str:
    """``text`` with the region ``name`` holding ``body`` (markers kept, exactly one such region)."""
    begin = BEGIN.format(name=name)
    count = text.count(begin)
    if count != 1:
        raise RegionError(f"{count} '{begin}' markers; add exactly one, followed by a '{END}' line")
    start = text.index(begin) + len(begin)
    end = text.find(END, start)
    nested = text.find("<!-- bench:begin", start)
    if end < 0 or 0 <= nested < end:
        raise RegionError(f"'{begin}' has no '{END}' before the next region")
    return text[:start] + "\n" + body.strip("\n") + "\n" + text[end:]


def region_names(text: str) -> list[str]:
    return re.findall(r"<!-- bench:begin ([\w-]+) -->", text)


DOCS = (ROOT / "docs" / "architecture.md", ROOT / "docs" / "tor.md")


def update_docs(results: Mapping[str, Any], docs: Sequence[Path] = DOCS) -> list[str]:
    """Rewrite every marked region of these files; the names of the regions written."""
    bodies = regions(results)
    written = []
    for path in docs:
        text = path.read_text()
        new = text
        for name in region_names(text):
            if name not in bodies:
                raise RegionError(f"{path.name}: unknown region {name!r}; known: {', '.join(bodies)}")
            new = replace_region(new, name, bodies[name])
            written.append(f"{path.name}:{name}")
        if new != text:
            path.write_text(new)
    return written


def load(paths: Sequence[Path]) -> dict[str, Any]:
    runs = []
    for path in paths:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise SystemExit(f"cannot read {path}: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("scenarios"), dict):
            raise SystemExit(f"{path} is not the failover benchmark's JSON (no 'scenarios')")
        try:
            name = str(path.resolve().relative_to(ROOT))
        except ValueError:
            name = path.name
        runs.append((name, data))
    return merge(runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.report", description=__doc__.split("\n")[0])
    parser.add_argument("results", type=Path, nargs="+", help="the benchmark's JSON (later files win)")
    parser.add_argument("--update-docs", action="store_true", help="rewrite the marked regions of the docs")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed or a sample failed")
    args = parser.parse_args(argv)
    results = load(args.results)
    if args.update_docs:
        for written in update_docs(results):
            print(f"updated {written}")
    else:
        print(results_table(results))
    if args.check:
        print(check_table(results))
        verdicts, failed = check(results)
        return check_exit_code(verdicts, failed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
