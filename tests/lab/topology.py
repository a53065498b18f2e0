"""Names and addresses of one lab instance.

Everything the lab creates outside its own namespaces (namespace names, /etc/netns,
wireguard-go control sockets) is derived from the prefix here, so two labs with
different prefixes never collide and teardown deletes exact names instead of globbing.
Addresses are fixed: they only exist inside the lab's namespaces, so every lab can
reuse them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A prefix must stay short (interface names are limited to 15 bytes) and must not
# contain "-", so "<prefix>-client" can never be confused with another lab's name.
PREFIX_RE = re.compile(r"[a-z][a-z0-9]{1,5}")

UNDERLAY_NET = "10.99.0.0/16"
TUNNEL_NET = "10.77.0.0/16"

CLIENT_IP = "10.99.1.2"
CLIENT_GW = "10.99.1.1"  # ISP router; also the ISP resolver
WG_SERVER_IP = "10.99.11.2"
WG_SERVER_GW = "10.99.11.1"
OVPN_SERVER_IP = "10.99.12.2"
OVPN_SERVER_GW = "10.99.12.1"
INET_GW = "10.99.20.1"
BLOCKED_IP = "10.99.20.2"
CANARY_IP = "10.99.20.3"
HONEST_DNS_IP = "10.99.20.53"
BLOCKPAGE_IP = "10.99.20.80"  # where a DNS-poisoning ISP can send the blocked site instead: a block page
INET_NET = "10.99.20.0/24"

WG_PORT = 51820
WG_ALT_PORT = 443  # udp/443: the "just change the port" evasion the payload rule defeats
OVPN_UDP_PORT = 1194
OVPN_TCP_PORT = 443

WG_NET = "10.77.1"  # /24; server .1, client .2
WG_ALT_NET = "10.77.4"
OVPN_TCP_NET = "10.77.2"
OVPN_UDP_NET = "10.77.3"

# RFC 6761 reserves .test: these names can never resolve to a real host.
BLOCKED_HOST = "blocked.test"
CANARY_HOST = "canary.test"
PUSHED_DOMAIN = "lab.test"  # the search domain the OpenVPN servers push
BLOCKED_BODY = b"vpnswitch-lab: blocked site\n"
CANARY_BODY = b"vpnswitch-lab: canary\n"
BLOCKPAGE_BODY = b"vpnswitch-lab: this site is blocked by your network\n"


@dataclass(frozen=True)
class Link:
    """One veth pair between a leaf namespace and the ISP router."""

    ns: str
    leaf_if: str
    isp_if: str
    leaf_ip: str
    isp_ip: str


@dataclass(frozen=True)
class Topology:
    """All per-prefix names of one lab."""

    prefix: str

    def __post_init__(self) -> None:
        if not PREFIX_RE.fullmatch(self.prefix):
            raise ValueError(f"lab prefix must match {PREFIX_RE.pattern}: {self.prefix!r}")

    def _ns(self, role: str) -> str:
        return f"{self.prefix}-{role}"

    @property
    def client_ns(self) -> str:
        return self._ns("client")

    @property
    def isp_ns(self) -> str:
        return self._ns("isp")

    @property
    def wg_ns(self) -> str:
        return self._ns("wg")

    @property
    def ovpn_ns(self) -> str:
        return self._ns("ovpn")

    @property
    def inet_ns(self) -> str:
        return self._ns("inet")

    @property
    def namespaces(self) -> tuple[str, ...]:
        """Leaf namespaces first: deleting them first frees the ISP's veth ends."""
        return (self.client_ns, self.wg_ns, self.ovpn_ns, self.inet_ns, self.isp_ns)

    @property
    def uplink_if(self) -> str:
        """The underlay interface inside every leaf namespace."""
        return f"{self.prefix}-eth"

    @property
    def links(self) -> tuple[Link, ...]:
        up = self.uplink_if
        p = self.prefix
        return (
            Link(self.client_ns, up, f"{p}-cli", CLIENT_IP, CLIENT_GW),
            Link(self.wg_ns, up, f"{p}-wg", WG_SERVER_IP, WG_SERVER_GW),
            Link(self.ovpn_ns, up, f"{p}-ovpn", OVPN_SERVER_IP, OVPN_SERVER_GW),
            Link(self.inet_ns, up, f"{p}-inet", BLOCKED_IP, INET_GW),
        )

    @property
    def isp_client_if(self) -> str:
        return f"{self.prefix}-cli"

    @property
    def censor_table(self) -> str:
        return f"{self.prefix}_censor"

    # WireGuard interface names must be unique host-wide: wireguard-go's control
    # socket /var/run/wireguard/<ifname>.sock is shared by all namespaces. (The lab's
    # servers use a private socket directory, see wgprivate.py; client tunnels the app
    # under test creates use the shared one.)
    @property
    def wg_server_if(self) -> str:
        return f"{self.prefix}wgs0"

    @property
    def wg_alt_server_if(self) -> str:
        return f"{self.prefix}wgs1"

    @property
    def wg_client_if(self) -> str:
        return f"{self.prefix}wg0"

    @property
    def wg_alt_client_if(self) -> str:
        return f"{self.prefix}wg1"

    @property
    def wg_client_ifaces(self) -> tuple[str, ...]:
        return (self.wg_client_if, self.wg_alt_client_if)

    @property
    def ovpn_udp_client_if(self) -> str:
        return f"{self.prefix}ou0"

    @property
    def ovpn_tcp_client_if(self) -> str:
        return f"{self.prefix}ot0"

    @property
    def netns_etc_dir(self) -> str:
        """Bind-mounted over /etc by `ip netns exec`: the client's private resolv.conf."""
        return f"/etc/netns/{self.client_ns}"
