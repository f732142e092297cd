#!/usr/bin/env bash
# The system packages Folio's targets need beyond Python, in one place (Makefile and .ci/run).
#
#   bash packaging/system_packages.sh run       # Qt's xcb libraries, for the real window
#   bash packaging/system_packages.sh test      # + Xvfb, for the test of the window under X,
#                                               #   and python3-venv, which the tests of the
#                                               #   on-demand training environment use
#   bash packaging/system_packages.sh package   # + xdotool, ImageMagick and the Wayland client
#                                               #   libraries the bundled Qt links, for the
#                                               #   installers' smoke test, and binutils
#                                               #   (objdump) for the llama.cpp CPU check
#
# On Debian and Ubuntu the missing ones are installed when this user can (root, or sudo
# without a password); otherwise it stops at once with the one command to run. Elsewhere it
# says what is needed and goes on: the tests of the real window then say what is missing.
set -euo pipefail

RUN=(libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxkbcommon-x11-0)
TEST=("${RUN[@]}" xvfb python3-venv)
PACKAGE=("${TEST[@]}" xdotool imagemagick libwayland-cursor0 libwayland-egl1 binutils)

case "${1:-}" in
    run) WANTED=("${RUN[@]}") ;;
    test) WANTED=("${TEST[@]}") ;;
    package) WANTED=("${PACKAGE[@]}") ;;
    *) echo "usage: $0 run|test|package" >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
    echo "system_packages.sh: not a Debian system; make sure these (or your system's" \
        "equivalents) are installed: ${WANTED[*]}" >&2
    exit 0
fi

MISSING=()
for package in "${WANTED[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
    [ "$status" = installed ] || MISSING+=("$package")
done
[ ${#MISSING[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
else
    echo "Folio needs these system packages: ${MISSING[*]}. Install them with:" >&2
    echo "    sudo apt-get install ${MISSING[*]}" >&2
    exit 1
fi
echo "Installing system packages: ${MISSING[*]}" >&2
"${SUDO[@]}" apt-get update -qq >/dev/null
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${MISSING[@]}" >/dev/null
