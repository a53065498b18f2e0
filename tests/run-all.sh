#!/usr/bin/env bash
# Installs everything the test suites need on a Debian/Ubuntu machine and runs all of them:
# unit, component, daemon, lab (real WireGuard/OpenVPN/Tor in network namespaces), GUI and style checks.
# The lab needs root, so this re-runs itself with sudo when started as a normal user.
set -euo pipefail

cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  exec sudo --preserve-env=CI,PYTEST_ADDOPTS "$0" "$@"
fi

# Nothing may be skipped silently: a missing prerequisite fails the lab and GUI suites.
export CI="${CI:-true}"

PACKAGES=(
  # Python and the Qt runtime libraries
  python3 python3-venv python3-dev
  libgl1 libegl1 libglib2.0-0 libfontconfig1 libfreetype6 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0
  libx11-6 libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
  libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1 libxcb-xfixes0
  libxcb-xinerama0 libxcb-xkb1
  # the VPN lab
  iproute2 nftables wireguard-go wireguard-tools openvpn dnsmasq-base iputils-ping curl openssl procps
  # Tor and its transports
  tor obfs4proxy
  # obfuscated ways out: Shadowsocks (server and client) and a V2Ray core
  shadowsocks-libev v2ray
  # the desktops' proxy settings tools (GNOME gsettings, KDE kwriteconfig)
  libglib2.0-bin gsettings-desktop-schemas libkf5config-bin
  # NetworkManager's and logind's D-Bus APIs, mocked on a private bus
  python3-dbusmock
  # a real desktop for the tray, notifications and keyring tests, Urdu fonts, desktop-file checks
  xvfb xauth x11-utils xdotool trayer dunst dbus dbus-x11 dbus-bin gnome-keyring libsecret-tools imagemagick
  fonts-noto-core desktop-file-utils appstream util-linux
  # a StatusNotifierItem watcher (what GNOME's AppIndicator extension and KDE provide) for the SNI tray test
  haskell-status-notifier-item-utils
  # a C compiler for the stand-in Qt plugin of the no-display test
  gcc libc6-dev
)
if [ -n "${EXTRA_PACKAGES:-}" ]; then read -r -a extra <<<"$EXTRA_PACKAGES"; PACKAGES+=("${extra[@]}"); fi
# shellcheck disable=SC2046
if ! dpkg -s "${PACKAGES[@]}" >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev]'
if [ -f vpnswitch/ui/i18n_build.py ]; then
  .venv/bin/python -m vpnswitch.ui.i18n_build
fi

.venv/bin/ruff check vpnswitch tests
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
