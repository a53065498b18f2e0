"""A guard against a reference-counting bug in PySide6 6.12.0: ``SignalInstance.emit`` on Python < 3.12.

That ``emit()`` returns ``True`` without owning a reference to it, so every call made from Python takes one
reference away from the interpreter's ``True``. A tray app emits on every runtime snapshot and would abort with
"Fatal Python error: bool_dealloc" after a few thousand signals (hours to days). Python 3.12 made the bools
immortal, and PySide6 6.11 is not affected. Every emit in ``vpnswitch.ui`` goes through ``emit()`` below, which
gives the reference back when — and only when — a probe at import time shows the bug.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal

_PROBES = 16


def _incref(obj: object) -> None:
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(obj))


def _emit_loses_a_reference() -> bool:
    if sys.version_info >= (3, 12):
        return False

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(_PROBES):
        probe.ping.emit()
    lost = before - sys.getrefcount(True)
    for _ in range(max(0, lost)):
        _incref(True)  # give back what the probe itself took
    return lost >= _PROBES


EMIT_LOSES_REFERENCE = _emit_loses_a_reference()


def emit(signal: Any, *args: Any) -> None:
    """``signal.emit(*args)``, with the reference PySide6 6.12.0 drops put back."""
    result = signal.emit(*args)
    if EMIT_LOSES_REFERENCE and isinstance(result, bool):
        _incref(result)
