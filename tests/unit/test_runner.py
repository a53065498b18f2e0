"""The process runner: timeouts kill the whole tree, output is capped, nothing reaches a shell."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import psutil
import pytest

from vpnswitch.core.errors import AppMissing, CommandTimeout
from vpnswitch.system.runner import Runner

PY = sys.executable


def test_runs_with_c_locale_closed_stdin_and_extra_env() -> None:
    code = "import os,sys; print(os.environ['LC_ALL'], os.environ['TOKEN'], repr(sys.stdin.read()))"
    result = Runner().run([PY, "-c", code], timeout=20, env={"TOKEN": "s3cret"})
    assert result.ok and result.stdout.split() == ["C", "s3cret", "''"]


def test_a_shell_string_is_not_interpreted() -> None:
    with pytest.raises(AppMissing):
        Runner().run(["echo hello; rm -rf /tmp/nothing"], timeout=5)


def test_missing_program_is_a_clear_fatal_error() -> None:
    with pytest.raises(AppMissing) as info:
        Runner().run(["definitely-not-installed-vpn"], timeout=5)
    assert info.value.fatal and "not installed" in info.value.message


def test_timeout_kills_the_whole_tree(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    # The child starts a grandchild that escapes into its own session, then both sleep.
    code = (
        "import subprocess,sys,time;"
        f"p=subprocess.Popen([sys.executable,'-c','import time; time.sleep(60)'],start_new_session=True);"
        f"open({str(pidfile)!r},'w').write(str(p.pid));time.sleep(60)"
    )
    started = time.monotonic()
    with pytest.raises(CommandTimeout, match="did not finish within 1 s"):
        Runner().run([PY, "-c", code], timeout=1)
    assert time.monotonic() - started < 10
    grandchild = int(pidfile.read_text())
    assert not psutil.pid_exists(grandchild) or psutil.Process(grandchild).status() == psutil.STATUS_ZOMBIE


def test_output_is_capped() -> None:
    result = Runner().run([PY, "-c", "print('x' * 5_000_000)"], timeout=20, max_output=1000)
    assert len(result.stdout) == 1000 and result.truncated


def test_secrets_go_through_stdin_not_argv() -> None:
    result = Runner().run([PY, "-c", "import sys; print(sys.stdin.read()[::-1])"], timeout=20, stdin_data="abc")
    assert result.stdout.strip() == "cba"


def test_managed_process_stops_with_its_children() -> None:
    proc = Runner().start([PY, "-c", "import subprocess,sys,time; subprocess.Popen([sys.executable,'-c',"
                                     "'import time; time.sleep(60)']); time.sleep(60)"])
    deadline = time.monotonic() + 10
    while not psutil.Process(proc.pid).children() and time.monotonic() < deadline:
        time.sleep(0.05)
    children = psutil.Process(proc.pid).children(recursive=True)
    assert proc.alive() and children
    proc.stop(timeout=3)
    assert not proc.alive()
    for child in children:
        assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE


def test_exit_code_and_stderr_are_kept() -> None:
    result = Runner().run([PY, "-c", "import sys; sys.stderr.write('boom'); sys.exit(3)"], timeout=20)
    assert result.returncode == 3 and result.stderr == "boom" and not result.ok
    assert "boom" in result.output()


def test_no_descriptor_leaks_across_many_runs() -> None:
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        Runner().run([PY, "-c", "pass"], timeout=20)
    assert len(os.listdir("/proc/self/fd")) <= before + 2
