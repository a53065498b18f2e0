"""What WireGuard/OpenVPN configs say and whether root may run them (shared by the backends and the helper)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vpnswitch.system import configrules as rules

# --------------------------------------------------------------------------------------------- trust


def test_a_file_in_a_world_writable_tree_is_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "wg0.conf"
    path.write_text("x")
    assert not rules.trusted_path(path)  # /tmp is writable by everyone
    assert not rules.trusted_path(tmp_path / "missing.conf")
    assert not rules.trusted_path(tmp_path)  # a directory is not a config


def test_a_root_owned_tree_writable_by_root_only_is_trusted() -> None:
    candidates = [Path("/etc/hostname"), Path("/etc/passwd")]
    path = next((p for p in candidates if p.is_file()), None)
    assert path is not None
    st = path.stat()
    expected = st.st_uid == 0 and not st.st_mode & 0o022 and Path("/etc").stat().st_uid == 0
    assert rules.trusted_path(path) == expected


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create a root-owned tree outside /tmp")
def test_group_or_other_write_anywhere_up_the_tree_breaks_trust() -> None:
    base = Path("/run") / f"vpnswitch-trust-test-{os.getpid()}"
    base.mkdir(mode=0o755)
    try:
        conf = base / "wg0.conf"
        conf.write_text("x")
        conf.chmod(0o600)
        assert rules.trusted_path(conf)
        base.chmod(0o775)
        assert not rules.trusted_path(conf)
        base.chmod(0o755)
        conf.chmod(0o620)
        assert not rules.trusted_path(conf)
        conf.chmod(0o600)
        os.chown(conf, 65534, -1)
        assert not rules.trusted_path(conf)
        link = base / "link.conf"
        link.symlink_to("/tmp")
        assert not rules.trusted_path(link)
    finally:
        for child in base.iterdir():
            child.unlink()
        base.rmdir()


# ----------------------------------------------------------------------------------------- WireGuard


@pytest.mark.parametrize(("config", "name"), [
    ("wg0", "wg0"), ("/etc/wireguard/wg0.conf", "wg0"), ("/x/home_nl=+.-.conf", "home_nl=+.-"),
])
def test_wg_interface_name(config: str, name: str) -> None:
    assert rules.wg_interface_name(config) == name


@pytest.mark.parametrize("config", ["/x/wg0.txt", "/x/sixteen-chars-xx.conf", "/x/bad name.conf", "/x/.conf"])
def test_wg_interface_name_rejects(config: str) -> None:
    with pytest.raises(ValueError):
        rules.wg_interface_name(config)


def test_wg_config_path_of_a_name_uses_the_first_existing_directory(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    second.mkdir()
    (second / "wg0.conf").write_text("x")
    assert rules.wg_config_path("wg0", [first, second]) == second / "wg0.conf"
    assert rules.wg_config_path("wg1", [first, second]) == first / "wg1.conf"
    assert rules.wg_config_path("/abs/wg0.conf") == Path("/abs/wg0.conf")


def test_wg_facts_read_keys_like_wg_quick() -> None:
    text = ("# PostUp = in a comment\n[Interface]\nPrivateKey = k\nDNS = 1.1.1.1, corp.example\n"
            "postup = iptables -A x\nPreDown=x\nTable = off # keep\n[Peer]\nPostUp = ignored outside Interface\n")
    facts = rules.wg_config_facts(text)
    assert facts.hooks == ("postup", "PreDown")
    assert facts.dns == ("1.1.1.1", "corp.example")
    assert facts.table == "off" and facts.has_interface


def test_wg_problems() -> None:
    hooked = "[Interface]\nPrivateKey = k\nPostUp = touch /x\n"
    assert rules.wg_problems(hooked, trusted=True) == []
    (problem,) = rules.wg_problems(hooked, trusted=False)
    assert "PostUp" in problem and "/etc/wireguard" in problem
    assert rules.wg_problems("[Interface]\nPrivateKey = k\n", trusted=False) == []
    assert "not a WireGuard config" in rules.wg_problems("just text\n", trusted=True)[0]


# ------------------------------------------------------------------------------------------- OpenVPN

OVPN = """\
# a comment
; another
client
dev tun
proto udp
remote vpn.example 1194
remote "two words" 443 tcp   # trailing comment
auth-user-pass
<ca>
-----BEGIN CERTIFICATE-----
up /should/not/count
-----END CERTIFICATE-----
</ca>
--verb 3
"""


def test_ovpn_directives_skip_comments_and_inline_blocks() -> None:
    found = [(d.name, d.args) for d in rules.ovpn_directives(OVPN)]
    assert found == [("client", ()), ("dev", ("tun",)), ("proto", ("udp",)), ("remote", ("vpn.example", "1194")),
                     ("remote", ("two words", "443", "tcp")), ("auth-user-pass", ()), ("ca", ("[inline]",)),
                     ("verb", ("3",))]


def test_ovpn_unterminated_quote_still_sees_the_directive() -> None:
    (directive,) = rules.ovpn_directives('up "/bin/sh -c x\n')
    assert directive.name == "up"


@pytest.mark.parametrize(("extra", "trusted", "fragment"), [
    ("up /x.sh", False, "runs programs as root (up)"),
    ("plugin /usr/lib/x.so", False, "runs programs as root (plugin)"),
    ("script-security 2", False, "script-security"),
    ("status /tmp/status", False, "write files as root (status)"),
    ("log-append /etc/shadow", False, "log-append"),
    ("config /other.ovpn", False, "config"),
    ("auth-user-pass /root/creds", False, "auth-user-pass FILE"),
    ("daemon", True, "daemon"),
    ("management /tmp/x unix", True, "management"),
])
def test_ovpn_problems(extra: str, trusted: bool, fragment: str) -> None:
    problems = rules.ovpn_problems(rules.ovpn_directives(OVPN + extra + "\n"), trusted=trusted)
    assert any(fragment in p for p in problems), problems


def test_a_trusted_config_may_run_its_scripts_and_a_clean_one_is_fine() -> None:
    assert rules.ovpn_problems(rules.ovpn_directives(OVPN + "up /etc/openvpn/up.sh\n"), trusted=True) == []
    assert rules.ovpn_problems(rules.ovpn_directives(OVPN), trusted=False) == []


def test_ovpn_read_paths_resolve_next_to_the_config(tmp_path: Path) -> None:
    text = "ca ca.crt\ncert /abs/client.crt\n<key>\nx\n</key>\ntls-crypt tc.key\n"
    assert rules.ovpn_read_paths(rules.ovpn_directives(text), tmp_path) == [
        tmp_path / "ca.crt", Path("/abs/client.crt"), tmp_path / "tc.key"]


@pytest.mark.parametrize(("text", "device"), [
    ("dev tun\n", (None, "tun")), ("dev tap\n", (None, "tap")), ("dev tun0\n", ("tun0", "tun")),
    ("dev office\ndev-type tap\n", ("office", "tap")), ("", (None, "tun")), ("dev tap3\n", ("tap3", "tap")),
])
def test_ovpn_device(text: str, device: tuple[str | None, str]) -> None:
    assert rules.ovpn_device(rules.ovpn_directives(text)) == device


@pytest.mark.parametrize(("text", "transport"), [
    ("remote a\n", "udp"), ("proto tcp-client\nremote a\n", "tcp"), ("proto udp6\n", "udp"),
    ("proto tcp\nremote a 1 udp\n", "udp"), ("proto bogus\n", "unknown"),
    ("<connection>\nremote a 1 tcp\n</connection>\n", "tcp"),
    ("proto udp\n<connection>\nremote a 443\nproto tcp-client\n</connection>\n", "tcp"),
])
def test_ovpn_transport(text: str, transport: str) -> None:
    assert rules.ovpn_transport(rules.ovpn_directives(text)) == transport


def test_ovpn_needs_credentials_only_when_openvpn_will_ask() -> None:
    assert rules.ovpn_needs_credentials(rules.ovpn_directives("auth-user-pass\n"))
    assert not rules.ovpn_needs_credentials(rules.ovpn_directives("auth-user-pass /etc/openvpn/creds\n"))
    assert not rules.ovpn_needs_credentials(rules.ovpn_directives("<auth-user-pass>\na\nb\n</auth-user-pass>\n"))
    assert not rules.ovpn_needs_credentials(rules.ovpn_directives("client\n"))
