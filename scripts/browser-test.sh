#!/usr/bin/env bash
# Checks the what-if page and the report in a real browser: Debian's chromium, driven
# headless by playwright-core from npm (both installed here when missing). Opens
# whatif.html with a hash, compares the figures shown with results.csv, moves a
# slider and checks the figures follow, checks neither page scrolls sideways at
# 1280 px, and screenshots both pages.
#
#   scripts/browser-test.sh [WHATIF_DIR] [REPORT_DIR] [SHOTS_DIR]
#
# Defaults: the shipped reports/whatif-low-traffic and reports/prime-video; the
# screenshots go to target/browser-test/. Needs root for apt-get (or chromium present).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
whatif_dir=${1:-$root/reports/whatif-low-traffic}
report_dir=${2:-$root/reports/prime-video}
shots_dir=${3:-$root/target/browser-test}
tools=$root/target/browser-tools

if [ ! -x /usr/bin/chromium ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi
if [ ! -d "$tools/node_modules/playwright-core" ]; then
  mkdir -p "$tools"
  # No browser download: playwright-core drives the chromium installed above.
  npm install --prefix "$tools" --no-audit --no-fund playwright-core@1
fi
exec node "$root/scripts/browser-test.mjs" "$tools" "$whatif_dir" "$report_dir" "$shots_dir"
