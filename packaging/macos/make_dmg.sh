#!/usr/bin/env bash
# Wrap Folio.app in a compressed, drag-to-install disk image.
# Usage: make_dmg.sh VERSION APP_PATH DMG_PATH
# (packaging/build.py runs: make_dmg.sh <ver> dist/Folio.app dist/Folio-<ver>.dmg)
set -euo pipefail

if [[ $# -ne 3 ]]; then
    echo "usage: $0 VERSION APP_PATH DMG_PATH" >&2
    exit 2
fi
version=$1
app=${2%/}
dmg=$3
[[ -d "$app/Contents/MacOS" ]] || { echo "not an app bundle: $app" >&2; exit 1; }

# hdiutil fails now and then with "Resource busy" on CI machines (a known race with
# system services scanning new images); a retry succeeds.
retry() {
    local attempt
    for attempt in 1 2 3 4 5; do
        "$@" && return 0
        echo "attempt $attempt failed: $*" >&2
        sleep $((attempt * 5))
    done
    return 1
}

# Apple-silicon macOS refuses to run arm64 code without a signature. An ad-hoc one ("-")
# is enough to run; notarization, which lets Gatekeeper open a downloaded copy without a
# warning, needs an Apple Developer ID and is out of scope here.
# Executables in Contents/MacOS besides the main one (folio-cli) are signed explicitly
# rather than relying on --deep to find them.
main_exe=$(/usr/libexec/PlistBuddy -c "Print :CFBundleExecutable" "$app/Contents/Info.plist")
for exe in "$app"/Contents/MacOS/*; do
    if [[ -f "$exe" && -x "$exe" && "$(basename "$exe")" != "$main_exe" ]]; then
        codesign --force --sign - "$exe"
    fi
done
codesign --force --deep --sign - "$app"
codesign --verify --deep --verbose=2 "$app"

# The image shows the app next to a link to /Applications, the usual drag-to-install layout.
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
# ditto keeps symlinks, permissions and the signature intact.
ditto "$app" "$staging/$(basename "$app")"
ln -s /Applications "$staging/Applications"

mkdir -p "$(dirname "$dmg")"
retry hdiutil create -volname "Folio $version" -srcfolder "$staging" -ov -format UDZO "$dmg"
hdiutil verify "$dmg"
echo "wrote $dmg"
