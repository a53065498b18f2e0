"""Build the translations: every ``resources/i18n/*.ts`` into a ``.qm`` next to it (``.qm`` files are not kept in git).

Run by the install and test commands: ``python -m vpnswitch.ui.i18n_build``. ``--update`` first refreshes the
``.ts`` files from the sources (new strings appear there, marked unfinished, for translators).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

TIMEOUT = 120.0


def _tool(name: str) -> str:
    """The Qt tool shipped with PySide6 next to this Python, else one on PATH."""
    here = Path(sys.executable).parent
    for candidate in (here / f"pyside6-{name}", here / f"pyside6-{name}.exe"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which(f"pyside6-{name}") or shutil.which(name)
    if not found:
        raise SystemExit(f"pyside6-{name} not found: install PySide6 (it ships the Qt Linguist tools)")
    return found


def sources() -> list[Path]:
    ui = Path(__file__).resolve().parent
    return sorted(p for p in ui.rglob("*.py") if p.name != "i18n_build.py")


def _run(argv: list[str]) -> tuple[bool, str]:
    """A build tool, not the app: plain subprocess, argv only, with a timeout."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    return done.returncode == 0, (done.stdout + done.stderr).strip()


def update(ts_files: list[Path]) -> None:
    argv = [_tool("lupdate"), "-no-obsolete", "-locations", "none", *map(str, sources()), "-ts", *map(str, ts_files)]
    ok, output = _run(argv)
    if not ok:
        raise SystemExit(f"lupdate failed:\n{output}")


def build(i18n_dir: Path | None = None, *, refresh: bool = False) -> list[Path]:
    """Compile every .ts; returns the .qm files written."""
    from vpnswitch.ui.resources import i18n_dir as default_dir

    folder = i18n_dir or default_dir()
    ts_files = sorted(folder.glob("*.ts"))
    if refresh and ts_files:
        update(ts_files)
    written = []
    for ts in ts_files:
        qm = ts.with_suffix(".qm")
        ok, output = _run([_tool("lrelease"), str(ts), "-qm", str(qm)])
        if not ok or not qm.exists():
            raise SystemExit(f"lrelease failed for {ts}:\n{output}")
        written.append(qm)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--update", action="store_true", help="refresh the .ts files from the sources first")
    args = parser.parse_args(argv)
    for qm in build(refresh=args.update):
        print(f"built {qm}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
