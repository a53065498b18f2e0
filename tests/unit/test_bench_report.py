"""The benchmark's pure parts: statistics with failed samples, target checks, the --check exit code,
rewriting the docs' generated regions, and spreading block moments over a probe cycle."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from tests.bench import report, targets
from tests.bench.moments import stratified_delays
from tests.bench.targets import TARGETS, Target, check, check_exit_code, judge, summarize


def ok(**values: Any) -> dict[str, Any]:
    return {"switches": 1, "false_switches": 0, **values}


FAILED = {"failed": "DaemonFailed: timed out after 240 s waiting for the verdict"}


# ------------------------------------------------------------------------------------------- statistics


def test_summary_keeps_failed_samples_in_the_count() -> None:
    summary = summarize([ok(outage_s=3.0), FAILED, ok(outage_s=1.0), ok(outage_s=2.0)], "outage_s")
    assert summary.values == (3.0, 1.0, 2.0)
    assert summary.failed == 1
    assert summary.n == 4
    assert (summary.median, summary.low, summary.high) == (2.0, 1.0, 3.0)


def test_summary_ignores_missing_none_and_bool_values() -> None:
    summary = summarize([ok(outage_s=None), ok(), ok(outage_s=True), ok(outage_s=4)], "outage_s")
    assert summary.values == (4.0,)
    assert summary.failed == 0


def test_format_shows_failures() -> None:
    text = targets.fmt_range(summarize([ok(outage_s=1.5), ok(outage_s=2.5), FAILED], "outage_s"))
    assert text == "2.00 s (1.50–2.50); 1 of 3 failed"
    assert targets.fmt_range(summarize([FAILED], "outage_s")) == "—; 1 of 1 failed"


# ---------------------------------------------------------------------------------------------- targets

OUTAGE = Target("s", "s", "outage_s", "median", "<=", 1.5)


def test_median_target_met_and_missed() -> None:
    assert judge(OUTAGE, [ok(outage_s=v) for v in (1.0, 1.2, 1.4, 9.0, 9.0)]).ok is True
    missed = judge(OUTAGE, [ok(outage_s=v) for v in (1.0, 1.2, 1.6, 9.0, 9.0)])
    assert missed.ok is False and missed.why == "missed"


def test_a_failed_sample_fails_a_target_that_the_others_meet() -> None:
    verdict = judge(OUTAGE, [*(ok(outage_s=0.1) for _ in range(5)), FAILED])
    assert verdict.ok is False
    assert "1 of 6 samples failed" in verdict.why


def test_too_few_samples_do_not_meet_a_median_of_five() -> None:
    verdict = judge(OUTAGE, [ok(outage_s=0.1)] * 4)
    assert verdict.ok is False and "needs 5" in verdict.why


def test_not_run_is_neither_met_nor_missed() -> None:
    assert judge(OUTAGE, None).ok is None


def test_condition_rejects_a_shorter_scenario_than_the_target_speaks_of() -> None:
    target = Target("loss", "loss", "false_switches", "sum", "==", 0, min_samples=1, conditions=(("loss_s", 600),))
    assert judge(target, [ok(false_switches=0, loss_s=600.2)]).ok is True
    short = judge(target, [ok(false_switches=0, loss_s=120.0)])
    assert short.ok is False and "loss_s 120.0 < 600" in short.why
    assert judge(target, [ok(false_switches=1, loss_s=600.0)]).ok is False


def test_targets_are_those_of_the_plan() -> None:
    wanted = {(t.scenario, t.metric): (t.stat, t.bound) for t in TARGETS}
    assert wanted[("wg-blocked-traffic", "outage_s")] == ("median", 1.5)
    assert wanted[("wg-blocked-traffic", "detect_s")] == ("median", 1.2)
    assert wanted[("wg-blocked-idle", "outage_s")] == ("median", 10.0)
    assert wanted[("wg-killed", "outage_s")] == ("median", 0.3)
    assert wanted[("vpn-blocked-to-tor-standby-idle", "outage_s")] == ("median", 10.0)
    assert wanted[("loss-10pct", "false_switches")] == ("sum", 0)


def _all_met() -> dict[str, Any]:
    fast = [ok(detect_s=0.1, outage_s=0.1) for _ in range(5)]
    calm = [ok(switches=0, false_switches=0, loss_s=600.0, cut_s=30.0)]
    return {"scenarios": {t.scenario: {"samples": fast if t.metric != "false_switches" else calm}
                          for t in TARGETS}}


def test_check_exit_code_zero_only_when_everything_holds() -> None:
    results = _all_met()
    assert check_exit_code(*check(results)) == 0
    results["scenarios"]["wg-killed"]["samples"] = [ok(outage_s=0.67)] * 5
    assert check_exit_code(*check(results)) == 1


def test_check_fails_on_a_failed_sample_of_a_scenario_without_target() -> None:
    results = _all_met()
    results["scenarios"]["ovpn-tcp-rst"] = {"samples": [ok(outage_s=0.5), FAILED]}
    verdicts, failed = check(results)
    assert failed == ["ovpn-tcp-rst: 1 of 2 samples failed"]
    assert check_exit_code(verdicts, failed) == 1


def test_check_table_names_unmeasured_targets_and_failures() -> None:
    results = {"scenarios": {"wg-killed": {"samples": [ok(outage_s=0.67), FAILED]}}}
    table = targets.check_table(results)
    assert "**NOT MET**: 1 of 2 samples failed" in table
    assert "idle cost of one warm standby" in table
    assert "not run" in table


def test_report_check_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_all_met()))
    assert report.main([str(good), "--check"]) == 0
    bad = _all_met()
    bad["scenarios"]["wg-blocked-traffic"]["samples"].append(FAILED)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    assert report.main([str(path), "--check"]) == 1
    assert "NOT MET" in capsys.readouterr().out


def test_report_refuses_a_file_that_is_not_benchmark_output(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text("[1, 2]")
    with pytest.raises(SystemExit, match="not the failover benchmark"):
        report.main([str(path)])


# ------------------------------------------------------------------------------------------ doc regions


DOC = """# Doc
intro
<!-- bench:begin failover -->
| old | hand-typed |
<!-- bench:end -->
middle
<!-- bench:begin tor -->
<!-- bench:end -->
end
"""


def test_replace_region_rewrites_only_between_its_markers() -> None:
    new = report.replace_region(DOC, "failover", "| new |")
    assert "hand-typed" not in new
    assert new.startswith("# Doc\nintro\n<!-- bench:begin failover -->\n| new |\n<!-- bench:end -->\nmiddle\n")
    assert new.endswith("<!-- bench:begin tor -->\n<!-- bench:end -->\nend\n")
    assert report.replace_region(new, "failover", "| new |") == new  # idempotent


def test_replace_region_errors_say_what_to_fix() -> None:
    with pytest.raises(report.RegionError, match="0 '<!-- bench:begin nope -->' markers"):
        report.replace_region(DOC, "nope", "x")
    with pytest.raises(report.RegionError, match="2 '<!-- bench:begin tor -->' markers"):
        report.replace_region(DOC + DOC, "tor", "x")
    unterminated = "<!-- bench:begin a -->\nx\n<!-- bench:begin b -->\n<!-- bench:end -->\n"
    with pytest.raises(report.RegionError, match="no '<!-- bench:end -->'"):
        report.replace_region(unterminated, "a", "y")


def test_update_docs_writes_tables_from_the_json(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(DOC)
    results = report.merge([("run.json", {"meta": {"started": "then", "commit": "abc", "cpus": 2},
                                          "scenarios": {"wg-killed": {"samples": [ok(detect_s=0.3, outage_s=0.6),
                                                                                  FAILED]}}})])
    written = report.update_docs(results, [doc])
    text = doc.read_text()
    assert written == ["doc.md:failover", "doc.md:tor"]
    assert "| wireguard-go killed (`wg-killed`) | 2 (**1 failed**) | 0.30 s; 1 of 2 failed |" in text
    assert "failed: DaemonFailed: timed out" in text
    assert "`run.json` (then, commit abc" in text


def test_update_docs_rejects_an_unknown_region(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text("<!-- bench:begin mystery -->\n<!-- bench:end -->\n")
    with pytest.raises(report.RegionError, match="unknown region 'mystery'"):
        report.update_docs(report.merge([]), [doc])


def test_merge_later_files_win() -> None:
    a = {"scenarios": {"x": {"samples": [ok(outage_s=1)]}, "y": {"samples": []}}}
    b = {"scenarios": {"x": {"samples": [ok(outage_s=2)]}}}
    merged = report.merge([("a.json", a), ("b.json", b)])
    assert merged["scenarios"]["x"]["samples"][0]["outage_s"] == 2
    assert merged["sources"] == {"x": "b.json", "y": "a.json"}


def test_the_docs_have_every_region_the_report_writes() -> None:
    names = {n for path in report.DOCS for n in report.region_names(path.read_text())}
    assert names == set(report.regions(report.merge([])))


# ------------------------------------------------------------------------------------- block moments


def test_stratified_delays_cover_every_slice_of_the_cycle() -> None:
    delays = stratified_delays(5, 15.0, random.Random(7).random)
    assert sorted(int(d // 3.0) for d in delays) == [0, 1, 2, 3, 4]
    assert all(0.0 <= d < 15.0 for d in delays)


def test_stratified_delays_reach_right_after_a_probe() -> None:
    delays = stratified_delays(5, 15.0, lambda: 0.0)
    assert min(delays) == 0.0


# ------------------------------------------------------------------------------ which way out answered


class _LabAddresses:
    wg_server_ip = "10.99.11.2"
    ovpn_server_ip = "10.99.12.2"


def test_backup_addresses_leave_out_the_broken_profiles_exit() -> None:
    from tests.bench.moments import backup_addresses

    wg = {"name": "wg", "backend": "wireguard"}
    udp = {"name": "ovpn-udp", "backend": "openvpn"}
    tcp = {"name": "ovpn-tcp", "backend": "openvpn"}
    lab: Any = _LabAddresses()
    assert backup_addresses(lab, [wg, udp, tcp]) == {"10.99.12.2"}
    assert backup_addresses(lab, [tcp, wg, udp]) == {"10.99.11.2"}
    with pytest.raises(ValueError, match="could not be told apart"):
        backup_addresses(lab, [udp, tcp])


def test_sitewatch_reads_the_source_the_site_saw() -> None:
    import socket

    from tests.lab.sitewatch import _header, _read_head

    left, right = socket.socketpair()
    with left, right:
        left.sendall(b"HTTP/1.0 200 OK\r\nServer: x\r\nX-Seen-From: 10.99.12.2\r\n\r\nbody")
        head = _read_head(right)
    assert head.startswith(b"HTTP/1.0 200 OK")
    assert _header(head, b"x-seen-from") == "10.99.12.2"
    assert _header(head, b"x-missing") is None
