#!/usr/bin/env bash
# Installs vpnswitch for the current user from this checkout and starts it in the tray.
# Debian/Ubuntu: installs the few system libraries Qt needs (asks for your password once),
# then installs vpnswitch (icons and translations included) into its own virtual environment under
# ~/.local/share/vpnswitch and links the command into ~/.local/bin. The checkout is not needed afterwards.
set -euo pipefail

cd "$(dirname "$0")/../.."

PACKAGES=(python3 python3-venv libgl1 libegl1 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1
          libxcb-shape0 libxcb-xinerama0 libdbus-1-3 fonts-noto-core)
if ! dpkg -s "${PACKAGES[@]}" >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}"
fi

PREFIX="${VPNSWITCH_PREFIX:-$HOME/.local/share/vpnswitch}"
if [ ! -x "$PREFIX/venv/bin/python" ]; then
  python3 -m venv "$PREFIX/venv"
fi
"$PREFIX/venv/bin/python" -m pip install -q --upgrade pip
# A real install (not editable): the build compiles the translations and copies the icons into the package.
"$PREFIX/venv/bin/python" -m pip install -q .
mkdir -p "$HOME/.local/bin"
ln -sf "$PREFIX/venv/bin/vpnswitch" "$HOME/.local/bin/vpnswitch"

exec "$PREFIX/venv/bin/vpnswitch" "$@"
