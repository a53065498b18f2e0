"""nftables rule sets of the lab: the ISP censor and the VPN servers' NAT.

Every censor operation owns one (normally empty) chain that the base chains always jump
to. Switching an operation on is "flush chain + add rules" and off is "flush chain", each
applied as a single atomic `nft -f` transaction, so every operation is idempotent and
reversible and two operations never interfere. There is no `netem` or nft `queue` on the
target kernels, so loss uses `numgen random` and the rate limit is an nft policer.
"""

from __future__ import annotations

from tests.lab import topology as t
from tests.lab.topology import Topology

# Censor operations done in the ISP's forward path (transit traffic only).
FORWARD_BLOCKS = ("wireguard_port", "wireguard_payload", "openvpn_udp", "openvpn_tcp", "all_vpn")
# Impairments of the client's access link (they also hit the ISP's own resolver).
LINK_BLOCKS = ("link", "loss", "rate")
# Rewrites of the client's traffic as it arrives (nat prerouting): every DNS packet, whatever
# resolver it was sent to, is answered by the ISP's resolver.
NAT_BLOCKS = ("dns_intercept",)
NFT_BLOCKS = FORWARD_BLOCKS + LINK_BLOCKS + NAT_BLOCKS

COUNTER_DIRECT = "client_direct_inet"
COUNTER_ISP_DNS = "client_isp_dns"

# WireGuard messages start with a type byte (1 initiation, 2 response, 3 cookie, 4 data)
# and three zero bytes; the smallest message (a keepalive) has 32 bytes of UDP payload.
_WG_TYPES = "{ 0x01000000, 0x02000000, 0x03000000, 0x04000000 }"


def chain(name: str) -> str:
    if name not in NFT_BLOCKS:
        raise ValueError(f"unknown nft block {name!r}; known: {', '.join(NFT_BLOCKS)}")
    return f"blk_{name}"


def isp_ruleset(topo: Topology) -> str:
    """The ISP table: leak guard, the permanent site censorship, hooks for every block."""
    tbl = f"inet {topo.censor_table}"
    cli = topo.isp_client_if
    lines = [
        f"add table {tbl}",
        f"add counter {tbl} {COUNTER_DIRECT}",
        f"add counter {tbl} {COUNTER_ISP_DNS}",
        *(f"add chain {tbl} {chain(name)}" for name in NFT_BLOCKS),
        # Counters come first so that a leak is counted even if an impairment drops it.
        f"add chain {tbl} isp_pre {{ type filter hook prerouting priority raw; policy accept; }}",
        f'add rule {tbl} isp_pre iifname "{cli}" ip saddr {t.CLIENT_IP} ip daddr {t.INET_NET}'
        f' counter name "{COUNTER_DIRECT}"',
        f'add rule {tbl} isp_pre iifname "{cli}" ip daddr {t.CLIENT_GW} meta l4proto {{ tcp, udp }}'
        f' th dport 53 counter name "{COUNTER_ISP_DNS}"',
        *(f'add rule {tbl} isp_pre iifname "{cli}" jump {chain(name)}' for name in LINK_BLOCKS),
        f"add chain {tbl} isp_dnat {{ type nat hook prerouting priority dstnat; policy accept; }}",
        *(f'add rule {tbl} isp_dnat iifname "{cli}" jump {chain(name)}' for name in NAT_BLOCKS),
        f"add chain {tbl} isp_post {{ type filter hook postrouting priority filter; policy accept; }}",
        *(f'add rule {tbl} isp_post oifname "{cli}" jump {chain(name)}' for name in LINK_BLOCKS),
        # Leak guard: the ISP forwards only inside the lab range, never IPv6.
        f"add chain {tbl} isp_forward {{ type filter hook forward priority filter; policy drop; }}",
        f"add rule {tbl} isp_forward meta nfproto ipv6 drop",
        f"add rule {tbl} isp_forward ip saddr != {t.UNDERLAY_NET} drop",
        f"add rule {tbl} isp_forward ip daddr != {t.UNDERLAY_NET} drop",
        *(f"add rule {tbl} isp_forward jump {chain(name)}" for name in FORWARD_BLOCKS),
        # The permanent censorship: the blocked site gets a TCP RST (anything else is
        # dropped) and the honest resolver is unreachable, unless through a tunnel.
        f"add rule {tbl} isp_forward ip saddr {t.CLIENT_IP} ip daddr {t.BLOCKED_IP}"
        " meta l4proto tcp reject with tcp reset",
        f"add rule {tbl} isp_forward ip saddr {t.CLIENT_IP} ip daddr {t.BLOCKED_IP} drop",
        f"add rule {tbl} isp_forward ip saddr {t.CLIENT_IP} ip daddr {t.HONEST_DNS_IP} drop",
        f"add rule {tbl} isp_forward accept",
        f"add chain {tbl} isp_input {{ type filter hook input priority filter; policy drop; }}",
        f'add rule {tbl} isp_input iifname "lo" accept',
        f"add rule {tbl} isp_input ip saddr {t.UNDERLAY_NET} accept",
        f"add chain {tbl} isp_output {{ type filter hook output priority filter; policy drop; }}",
        f'add rule {tbl} isp_output oifname "lo" accept',
        f"add rule {tbl} isp_output ip daddr {t.UNDERLAY_NET} accept",
    ]
    return "\n".join(lines) + "\n"


def block_rules(name: str, topo: Topology, *, arg: str | None = None) -> list[str]:
    """Rule bodies of one censor operation; arg is its single parameter, if any."""
    if name == "wireguard_port":
        return [f"udp dport {t.WG_PORT} drop", f"udp sport {t.WG_PORT} drop"]
    if name == "wireguard_payload":
        return [f"udp length >= 40 @th,64,32 {_WG_TYPES} drop"]
    if name == "openvpn_udp":
        return [f"udp dport {t.OVPN_UDP_PORT} drop", f"udp sport {t.OVPN_UDP_PORT} drop"]
    if name == "openvpn_tcp":
        mode = arg or "drop"
        if mode not in ("drop", "rst"):
            raise ValueError(f"openvpn_tcp mode must be 'drop' or 'rst', not {mode!r}")
        verdict = "drop" if mode == "drop" else "reject with tcp reset"
        return [f"tcp dport {t.OVPN_TCP_PORT} {verdict}", f"tcp sport {t.OVPN_TCP_PORT} {verdict}"]
    if name == "all_vpn":
        servers = f"{{ {t.WG_SERVER_IP}, {t.OVPN_SERVER_IP} }}"
        return [f"ip daddr {servers} drop", f"ip saddr {servers} drop"]
    if name == "link":
        return ["drop"]
    if name == "dns_intercept":
        return [f"meta l4proto {{ tcp, udp }} th dport 53 dnat ip to {t.CLIENT_GW}"]
    if name == "loss":
        percent = int(arg or "0")
        if not 0 < percent <= 100:
            raise ValueError(f"loss percent must be in 1..100, not {percent}")
        return [f"numgen random mod 100 < {percent} drop"]
    if name == "rate":
        kbytes = int(arg or "0")
        if kbytes <= 0:
            raise ValueError(f"rate must be a positive number of kbytes/s, not {kbytes}")
        # One policer per direction. Its bucket holds one second of traffic (the kernel
        # sizes byte buckets as rate + burst), so a transfer's first second passes fast.
        limit = f"limit rate over {kbytes} kbytes/second drop"
        cli = topo.isp_client_if
        return [f'iifname "{cli}" {limit}', f'oifname "{cli}" {limit}']
    raise ValueError(f"unknown nft block {name!r}; known: {', '.join(NFT_BLOCKS)}")


def set_block(topo: Topology, name: str, rules: list[str]) -> str:
    """One transaction that replaces the content of a block's chain."""
    tbl = f"inet {topo.censor_table}"
    lines = [f"flush chain {tbl} {chain(name)}"]
    lines += [f"add rule {tbl} {chain(name)} {rule}" for rule in rules]
    return "\n".join(lines) + "\n"


def vpn_server_ruleset(topo: Topology) -> str:
    """NAT tunnel clients behind the server and refuse to send anything outside the lab."""
    tbl = f"inet {topo.prefix}_vpn"
    lab = f"{{ {t.UNDERLAY_NET}, {t.TUNNEL_NET} }}"
    lines = [
        f"add table {tbl}",
        f"add chain {tbl} vpn_nat {{ type nat hook postrouting priority srcnat; policy accept; }}",
        f'add rule {tbl} vpn_nat oifname "{topo.uplink_if}" ip saddr {t.TUNNEL_NET} masquerade',
        f"add chain {tbl} isp_forward {{ type filter hook forward priority filter; policy drop; }}",
        f"add rule {tbl} isp_forward ct state established,related accept",
        f"add rule {tbl} isp_forward ip saddr {t.TUNNEL_NET} ip daddr {t.UNDERLAY_NET} accept",
        f"add chain {tbl} isp_output {{ type filter hook output priority filter; policy drop; }}",
        f'add rule {tbl} isp_output oifname "lo" accept',
        f"add rule {tbl} isp_output ip daddr {lab} accept",
    ]
    return "\n".join(lines) + "\n"
