"""Benchmark scenarios for DNS blocks: the must-reach site asked by name, the block landing mid-session.

    dns-<how>-outside   lookups go to the ISP's resolver (a WireGuard file without "DNS ="): the ISP's
                        resolver starts answering 0.0.0.0 / a block page's address / NXDOMAIN for the site,
                        or the censor starts answering every DNS packet from the client itself (intercept)
    dns-<how>-tunnel    the same block while lookups go through the tunnel (the client's resolver is reached
                        only through it, as tunnel DNS makes it)

Every sample starts healthy on WireGuard with the ISP's resolver honest about the site, applies the block,
and holds it for ``HOLD_SECONDS``:

    detect_s        block → the daemon's "dns" history entry naming the problem (outside only)
    switches        switches during the hold; every one is a false switch (the VPN works throughout)
    isp_lookups     lookups of the site from the client that reached the ISP's resolver during the hold
    site_ok_ratio   share of a user's requests to the site by name that got the real page (tunnel only)
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.lab.daemon import LabDaemon, SiteWatch, daemon_config, ovpn_tcp_profile, ovpn_udp_profile, wg_profile
from tests.lab.harness import Lab

Sample = dict[str, Any]
HOLD_SECONDS = 45.0
LIMIT = 60.0
HOWS = ("sinkhole", "blockpage", "nxdomain", "intercept")


def _config(lab: Lab) -> dict[str, Any]:
    config = daemon_config(lab, [wg_profile(lab), ovpn_udp_profile(lab), ovpn_tcp_profile(lab)],
                           behaviour={"tunnel_resolvers": [lab.honest_dns_ip]})
    config["targets"] = [
        {"url": lab.canary_204_url, "role": "canary", "expect": [204]},
        {"url": lab.canary_ip_url, "role": "canary", "expect": [200]},
        {"url": lab.blocked_url, "role": "must-reach", "expect": [200]},
    ]
    return config


def _block(lab: Lab, how: str) -> None:
    if how == "intercept":
        lab.isp_dns_answer("sinkhole")  # what the censor's resolver answers to whatever it intercepts
        lab.intercept_dns()
    else:
        lab.isp_dns_answer(how)


def _dns_entry(daemon: LabDaemon, host: str, since: float) -> float | None:
    for entry in daemon.entries("dns", since=since):
        if entry.get("host") == host:
            return float(entry["t"])
    return None


def run(lab: Lab, workdir: Path, how: str, *, through_tunnel: bool) -> Sample:
    lab.unblock_all()
    lab.isp_dns_answer("honest")
    if through_tunnel:
        lab.set_client_resolver(lab.honest_dns_ip)
    home = Path(tempfile.mkdtemp(prefix="home-", dir=workdir))
    try:
        with LabDaemon(lab, _config(lab), home, verbose=False) as daemon:
            daemon.wait_for(lambda: daemon.connected_on("wg"), LIMIT, "connected on wg, healthy")
            with SiteWatch(lab, lab.blocked_url, period=0.5) as watch:
                watch.go()
                time.sleep(2.0)
                before = lab.isp_dns_queries_for(lab.blocked_host)
                blocked_at = time.time()
                _block(lab, how)
                detected = None
                if not through_tunnel:
                    detected = daemon.wait_for(lambda: _dns_entry(daemon, lab.blocked_host, blocked_at), LIMIT,
                                               "the DNS problem named")
                time.sleep(max(0.0, blocked_at + HOLD_SECONDS - time.time()))
                ok_ratio = watch.ok_ratio(blocked_at)
            switches = daemon.entries("switch", since=blocked_at)
            lookups = lab.isp_dns_queries_for(lab.blocked_host) - before
    finally:
        lab.unblock_all()
    return {"detect_s": round(detected - blocked_at, 3) if detected else None, "outage_s": None,
            "switches": len(switches), "false_switches": len(switches), "isp_lookups": lookups,
            "site_ok_ratio": round(ok_ratio, 3) if through_tunnel else None}


def _scenario(how: str, through_tunnel: bool) -> Callable[[Lab, Path], Sample]:
    return lambda lab, workdir: run(lab, workdir, how, through_tunnel=through_tunnel)


SCENARIOS: dict[str, Callable[[Lab, Path], Sample]] = {
    **{f"dns-{how}-outside": _scenario(how, False) for how in HOWS},
    **{f"dns-{how}-tunnel": _scenario(how, True) for how in HOWS},
}
TARGETS = {
    **{f"dns-{how}-outside": "named, 0 false switches" for how in HOWS},
    **{f"dns-{how}-tunnel": "0 false switches, site by name" for how in HOWS},
}
