"""Logging: a rotating file in the user log dir, plus the console when running in a terminal."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup(log_dir: Path | None, *, verbose: bool = False, console: bool = True) -> None:
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    if log_dir is not None:
        try:
            log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            file_handler = logging.handlers.RotatingFileHandler(
                log_dir / "vpnswitch.log", maxBytes=2 << 20, backupCount=3, encoding="utf-8")
            file_handler.setFormatter(logging.Formatter(FORMAT))
            root.addHandler(file_handler)
        except OSError as exc:
            print(f"vpnswitch: cannot write logs to {log_dir}: {exc.strerror}", file=sys.stderr)
    if console:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(stream)
    for noisy in ("urllib3", "keyring", "stem"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
