#!/usr/bin/env bash
# Screenshots a report's report.html with headless Chromium, to look at it as a
# person would.
#
#   scripts/render-report.sh REPORT_DIR OUT.png [WIDTH,HEIGHT]
#
# Installs Debian's chromium package when it is missing (needs root and the Debian
# package archive). The page is self-contained, so Chromium is kept off the network.
set -euo pipefail

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: $0 REPORT_DIR OUT.png [WIDTH,HEIGHT]" >&2
    exit 2
fi
report_dir=$1
out=$2
size=${3:-1280,4000}

page="$report_dir/report.html"
if [ ! -f "$page" ]; then
    echo "error: $page not found: write a report there first" >&2
    exit 2
fi

browser=""
for b in chromium chromium-browser; do
    if command -v "$b" >/dev/null 2>&1; then
        browser=$b
        break
    fi
done
if [ -z "$browser" ]; then
    echo "chromium not found: installing Debian's chromium package" >&2
    if [ "$(id -u)" -ne 0 ]; then
        echo "error: installing chromium needs root (apt-get install -y chromium)" >&2
        exit 1
    fi
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
    browser=chromium
fi

abs_page=$(cd "$(dirname "$page")" && pwd)/$(basename "$page")
case $out in
    /*) abs_out=$out ;;
    *) abs_out=$(pwd)/$out ;;
esac
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT

"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --hide-scrollbars --user-data-dir="$profile" \
    --screenshot="$abs_out" --window-size="$size" \
    "file://$abs_page" 2> >(grep -v -E 'dbus|Fontconfig|sandbox|GPU|gpu|viz' >&2 || true)

if [ ! -s "$abs_out" ]; then
    echo "error: chromium wrote no screenshot to $abs_out" >&2
    exit 1
fi
echo "wrote $abs_out"
