"""Moved to ``vpnswitch.privileged.guard``; kept for the importers that have not moved yet."""

from vpnswitch.privileged.guard import GuardSpec, LeakGuard

__all__ = ["GuardSpec", "LeakGuard"]
