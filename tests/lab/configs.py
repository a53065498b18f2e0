"""Text of the lab's VPN configuration files (servers and the client profiles handed out).

Kept free of I/O so the exact files the app under test receives are easy to review.
Servers use short timers (WireGuard PersistentKeepalive 5, OpenVPN `keepalive 2 10`) so
that every censor transition is visible within seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.lab import topology as t
from tests.lab.pki import Pki

WG_KEEPALIVE = 5


@dataclass(frozen=True)
class WgKeys:
    """A WireGuard key pair (base64, as `wg genkey` / `wg pubkey` print them)."""

    private: str
    public: str


def wg_server_conf(server: WgKeys, client: WgKeys, *, port: int, net: str) -> str:
    """`wg setconf` format for a server interface with exactly one client peer."""
    return (
        f"[Interface]\nPrivateKey = {server.private}\nListenPort = {port}\n\n"
        f"[Peer]\nPublicKey = {client.public}\nAllowedIPs = {net}.2/32\n"
    )


def wg_quick_client_conf(client: WgKeys, server: WgKeys, *, port: int, net: str) -> str:
    """A full-tunnel wg-quick profile.

    There is deliberately no `DNS =` line: wg-quick would hand it to resolvconf, which is
    not installed (Debian only recommends it) and whose state under /run is shared with
    the host, so a lab tunnel could rewrite the host's resolver. Use the in-tunnel
    resolver (`Lab.honest_dns_ip`) explicitly instead.
    """
    return (
        f"# vpnswitch lab: WireGuard to {t.WG_SERVER_IP}:{port}\n"
        f"[Interface]\nPrivateKey = {client.private}\nAddress = {net}.2/24\n\n"
        f"[Peer]\nPublicKey = {server.public}\nEndpoint = {t.WG_SERVER_IP}:{port}\n"
        f"AllowedIPs = 0.0.0.0/0\nPersistentKeepalive = {WG_KEEPALIVE}\n"
    )


_WG_QUICK_ONLY = {
    "address", "dns", "mtu", "table", "preup", "postup", "predown", "postdown", "saveconfig",
}  # fmt: skip


def wg_strip(conf: str) -> str:
    """What `wg-quick strip` prints: the profile without the wg-quick-only keys."""
    kept = []
    for line in conf.splitlines():
        key = line.split("=", 1)[0].strip().lower()
        if "=" in line and key in _WG_QUICK_ONLY:
            continue
        kept.append(line)
    return "\n".join(kept) + "\n"


def ovpn_server_conf(pki: Pki, *, proto: str, port: int, net: str, dev: str) -> str:
    """A routed TLS server; pushes the full-tunnel route and the in-tunnel resolver."""
    lines = [
        f"proto {proto}",
        f"local {t.OVPN_SERVER_IP}",
        f"port {port}",
        f"dev {dev}",
        "dev-type tun",
        "topology subnet",
        f"server {net}.0 255.255.255.0",
        f"ca {pki.ca_cert}",
        f"cert {pki.server_cert}",
        f"key {pki.server_key}",
        f"tls-crypt {pki.tls_crypt_key}",
        "dh none",
        "remote-cert-tls client",
        "duplicate-cn",  # the app may connect several profiles with the one client cert
        "keepalive 2 10",
        'push "redirect-gateway def1"',
        f'push "dhcp-option DNS {t.HONEST_DNS_IP}"',
        f'push "dhcp-option DOMAIN {t.PUSHED_DOMAIN}"',
        "verb 3",
    ]
    if proto == "tcp":  # without it, Nagle + delayed ACK add ~90 ms per request
        lines.append("tcp-nodelay")
    # No server-side explicit-exit-notify: it delays every shutdown by 2 s.
    return "\n".join(lines) + "\n"


def ovpn_client_conf(pki: Pki, *, proto: str, port: int, dev: str) -> str:
    """A self-contained client profile: inline keys, no scripts, no management lines.

    The app under test adds `--management ...` itself; nothing here conflicts with it
    (no `daemon`, no credentials prompt, no up/down scripts).
    """
    lines = [
        f"# vpnswitch lab: OpenVPN over {proto.upper()} to {t.OVPN_SERVER_IP}:{port}",
        "client",
        f"dev {dev}",
        "dev-type tun",
        f"proto {proto}",
        f"remote {t.OVPN_SERVER_IP} {port}",
        "nobind",
        "remote-cert-tls server",
        "connect-retry 1 5",
        "server-poll-timeout 5",
        "verb 3",
    ]
    if proto == "udp":
        lines.append("explicit-exit-notify 1")
    lines += [
        _inline("ca", pki.ca_cert),
        _inline("cert", pki.client_cert),
        _inline("key", pki.client_key),
        _inline("tls-crypt", pki.tls_crypt_key),
    ]
    return "\n".join(lines) + "\n"


def _inline(tag: str, path: Path) -> str:
    return f"<{tag}>\n{path.read_text().strip()}\n</{tag}>"


ISP_ANSWERS = ("sinkhole", "blockpage", "nxdomain", "honest")


def hosts_file(*, blackhole_all: bool, honest: bool, answer: str = "sinkhole") -> str:
    """dnsmasq addn-hosts content for the lab names.

    The honest resolver tells the truth. The ISP resolver always poisons the blocked site
    and, with blackhole_all, blackholes every lab name (the DNS-poisoning censor). How it
    poisons the blocked site is ``answer``: 0.0.0.0 (sinkhole), the address of a block page
    (blockpage), or no such name (nxdomain: the name is left out, and dnsmasq is authoritative
    for .test); ``honest`` tells the truth about it too, the moment before a DNS block lands.
    """
    if answer not in ISP_ANSWERS:
        raise ValueError(f"the ISP's answer must be one of {', '.join(ISP_ANSWERS)}, not {answer!r}")
    entries = {t.BLOCKED_HOST: t.BLOCKED_IP, t.CANARY_HOST: t.CANARY_IP}
    lines = []
    for host, ip in entries.items():
        if honest:
            lines.append(f"{ip} {host}")
        elif blackhole_all:
            lines.append(f"0.0.0.0 {host}")
        elif host != t.BLOCKED_HOST or answer == "honest":
            lines.append(f"{ip} {host}")
        elif answer != "nxdomain":
            lines.append(f"{'0.0.0.0' if answer == 'sinkhole' else t.BLOCKPAGE_IP} {host}")
    return "\n".join(lines) + "\n"
