#!/usr/bin/env bash
# Install the .deb on this machine, smoke-test the installed copy, uninstall it, and check
# that nothing is left but the user's data folder. `make package-test` runs it after
# `make package`; it needs root or sudo (for dpkg), Xvfb, xdotool and ImageMagick.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
SMOKE_OUT=$(realpath -m "${SMOKE_OUT:-dist/smoke}")
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

version=$("$PYTHON" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
deb="dist/folio_${version}_amd64.deb"
[ -f "$deb" ] || { echo "$deb is missing: run make package first" >&2; exit 1; }
if dpkg -s folio >/dev/null 2>&1; then
    echo "A folio package is already installed; remove it first (dpkg --purge folio)." >&2
    exit 1
fi

rm -rf "$SMOKE_OUT"
mkdir -p "$SMOKE_OUT"
home="$SMOKE_OUT/home"

# dpkg -i leaves missing dependencies unmet; apt-get -f installs them, as a user's would.
$SUDO dpkg -i "$deb" || $SUDO apt-get install -f -y -q
installed=$(dpkg -L folio)
trap '$SUDO dpkg --purge folio >/dev/null 2>&1 || true' EXIT

for command in folio folio-cli; do
    [ "$(command -v "$command")" = "/usr/bin/$command" ] || { echo "$command is not on the PATH" >&2; exit 1; }
done
"$PYTHON" packaging/smoke_test.py --cli /usr/bin/folio-cli --gui /usr/bin/folio \
    --out "$SMOKE_OUT" --home "$home" --xvfb

$SUDO dpkg --purge folio
trap - EXIT
left=0
while IFS= read -r path; do
    # Folders such as /usr/bin are shared with other packages; Folio's own must be gone.
    if [ -L "$path" ] || [ -f "$path" ] || { [ -d "$path" ] && [[ "$path" == /opt/folio* ]]; }; then
        echo "left behind after uninstall: $path" >&2
        left=1
    fi
done <<<"$installed"
[ -e /opt/folio ] && { echo "left behind after uninstall: /opt/folio" >&2; left=1; }
[ -f "$home/library.db" ] || { echo "the user's data folder $home was not kept" >&2; left=1; }
[ "$left" -eq 0 ] || exit 1
echo "Uninstalled cleanly; the data folder $home was kept."
