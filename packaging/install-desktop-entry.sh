#!/usr/bin/env bash
# Install the .desktop entry and icon for the current user (Linux), so GAN Studio shows in the app menu.
#   packaging/install-desktop-entry.sh [PATH-TO-EXECUTABLE]   (default: gan-studio on PATH)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exe="${1:-gan-studio}"
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
icons="${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor"
mkdir -p "$apps" "$icons/256x256/apps" "$icons/scalable/apps"
cp "$here/../resources/icon.png" "$icons/256x256/apps/gan-studio.png"
cp "$here/../resources/icon.svg" "$icons/scalable/apps/gan-studio.svg"
sed -e "s|^Exec=.*|Exec=$exe|" -e "s|^TryExec=.*|TryExec=$exe|" "$here/gan-studio.desktop" > "$apps/gan-studio.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database "$apps" || true
echo "installed $apps/gan-studio.desktop (Exec=$exe)"
