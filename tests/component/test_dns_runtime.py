"""The runtime when the network's DNS lies, in simulated time: one profile, the state names DNS, no cascade.

The engine decides (tests/unit/test_engine_dns.py); this checks what the runtime makes of it — the snapshot
people read (status line, tray), the notification, the history — over half an hour.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.simruntime import Sim
from vpnswitch.core.dnshealth import DnsAnswer, DnsStatus, classify

ISP = "192.168.1.1"
POISONED = classify("site.test", DnsAnswer(DnsStatus.ANSWER, ("0.0.0.0",), ISP),
                    DnsAnswer(DnsStatus.ANSWER, ("104.244.42.1",), "1.1.1.1"), True)


def test_a_poisoned_resolver_keeps_the_first_profile_and_says_so(tmp_path: Path) -> None:
    sim = Sim(tmp_path)
    sim.world.dns = POISONED
    sim.world.dns_leak = (ISP,)
    sim.start()
    sim.run(30 * 60)
    snap = sim.snap
    assert (snap.state, snap.active, snap.verdict) == ("connected", "wg", "dns-poisoned")
    assert ISP in snap.message and "0.0.0.0" in snap.message and "site.test" in snap.message
    assert not sim.switches()
    assert all(s.state in ("idle", "connecting", "verifying", "connected") for s in sim.snapshots)
    assert not [e for e in sim.history.entries() if e.get("kind") in ("verify-failed", "exhausted")]
    titles = [title for _, title, _ in sim.notifications]
    assert titles.count("This network's DNS lies about a site") == 1
    assert titles.count("DNS lookups leave outside wg") == 1
    assert not any("No working VPN" in t or "not working" in t for t in titles)


def test_when_the_network_stops_lying_the_message_goes(tmp_path: Path) -> None:
    sim = Sim(tmp_path)
    sim.world.dns = POISONED
    sim.start()
    sim.run(60)
    assert sim.snap.verdict == "dns-poisoned"
    sim.world.dns = None
    sim.run(60)
    assert (sim.snap.verdict, sim.snap.message) == ("healthy", "")
