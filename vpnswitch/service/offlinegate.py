"""Before a dead tunnel counts against its profile, make sure it is not the local network that died.

When every probe through the tunnel fails (or the tunnel reports a hard failure), the runtime holds that
result back for a moment and asks whether the local network still answers (``system/localnet``). If it
does — the usual case, a few milliseconds — the result goes on to the engine, which may switch. If what
used to answer on this network is silent, the underlay is reported down instead: the engine goes offline,
switches nothing, and re-verifies the same profile when the local network answers again. Without this a
Wi-Fi dropout looks exactly like a blocked VPN and every dropout would cost a switch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from vpnswitch.core.model import Event, UnderlayDown, UnderlayUp

log = logging.getLogger(__name__)

REASON = "the local network stopped answering (no reply from the router or the local DNS server)"
LEARN_AGAIN_AFTER = 300.0  # how soon to try again to learn what answers on a network where nothing did


class LocalCheck(Protocol):
    timeout: float

    def knows(self, network: str | None) -> bool: ...

    def check(self, network: str | None, tunnels: frozenset[str] = frozenset()) -> bool | None: ...


RunTask = Callable[[Callable[[], Any], float, Callable[[Any], None], str], None]


class OfflineGate:
    def __init__(self, check: LocalCheck, run_task: RunTask, handle: Callable[[Event], None],
                 network: Callable[[], str | None], tunnels: Callable[[], frozenset[str]]) -> None:
        self._check = check
        self._run_task = run_task
        self._handle = handle
        self._network = network
        self._tunnels = tunnels
        self._held: list[Callable[[], None]] = []
        self._busy = False
        self._learned_at: dict[str, float] = {}
        self.unreachable: str | None = None

    def hold(self, deliver: Callable[[], None]) -> bool:
        """Keep a bad result back until the local network has been checked; False: deliver it now."""
        if self.unreachable is not None or not self._check.knows(self._network()):
            return False
        self._held.append(deliver)
        self._start()
        return True

    def learn(self) -> None:
        """While things work, find out what answers on this network (once, then again only if nothing did)."""
        network = self._network()
        if self._busy or network is None or self._check.knows(network):
            return
        last = self._learned_at.get(network)
        if last is not None and time.monotonic() - last < LEARN_AGAIN_AFTER:
            return
        self._learned_at[network] = time.monotonic()
        self._start()

    def recheck(self) -> None:
        """While offline because of silence: ask again (every underlay interval)."""
        if self.unreachable is not None and not self._busy:
            self._start()

    def forget(self) -> None:
        """The link itself changed (down, up, another network): the passive signals speak for themselves."""
        self.unreachable = None

    def _start(self) -> None:
        if self._busy:
            return
        self._busy = True
        network, tunnels, check = self._network(), self._tunnels(), self._check
        self._run_task(lambda: check.check(network, tunnels), check.timeout + 2.0, self._done, "local network check")

    def _done(self, result: Any) -> None:
        self._busy = False
        if result is False and self.unreachable is None:
            self.unreachable = REASON
            log.info("%s: offline, no switch", REASON)
            self._handle(UnderlayDown(REASON))
        elif result is not False and self.unreachable is not None:
            self.unreachable = None
            log.info("the local network answers again")
            self._handle(UnderlayUp(self._network()))
        held, self._held = self._held, []
        for deliver in held:
            deliver()
