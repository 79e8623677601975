#!/usr/bin/env bash
# The serverless layouts' cost per simulated second, against a baseline build (a
# benchmark, not a test): scenarios/prime-video.toml (2,000 streams) cut to one
# layout at a time — express, distributed, lambda-direct — and to each duration, run
# with `--no-onset --format json` by the baseline binary and by this tree's release
# build. For each it prints user CPU and peak RSS of both, the CPU ratio, and whether
# the two JSON outputs are byte-identical (an engine speed-up must not move a figure).
#
# Usage: bench/serverless_speed.sh BASELINE_BINARY [durations…]   (defaults: 1min 15min)
#        e.g. git stash; cargo build --release; cp target/release/archsim /tmp/base;
#             git stash pop; bench/serverless_speed.sh /tmp/base 1min 15min
# Needs: cargo, python3, GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."

BASE=$(realpath "${1:?usage: bench/serverless_speed.sh BASELINE_BINARY [durations…]}")
shift
if [ $# -gt 0 ]; then DURATIONS=("$@"); else DURATIONS=(1min 15min); fi

cargo build --release --quiet
BIN=$(realpath target/release/archsim)
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT

echo "== serverless layouts alone, prime-video (2,000 streams), --no-onset: baseline vs this build =="
echo "(load average now: $(cut -d' ' -f1-3 /proc/loadavg); each run includes the layout's rerun with quotas raised)"
printf '%-14s%-8s%12s%12s%8s%12s%12s  %s\n' layout period "base CPU" "new CPU" ratio "base RSS" "new RSS" output
for layout in express distributed lambda-direct; do
    for d in "${DURATIONS[@]}"; do
        python3 - "$layout" "$d" "$DIR/cut.toml" <<'PY'
import re, sys
layout, duration, out = sys.argv[1:4]
src = open("scenarios/prime-video.toml").read()
head, *blocks = src.split("[[layouts]]")
i = blocks[-1].index("[assumptions")
blocks[-1], tail = blocks[-1][:i], blocks[-1][i:]
blocks = [b for b in blocks if re.search(r'(?m)^name = "([^"]+)"', b).group(1) == layout]
# Assumptions about the layouts left out would name nothing.
parts = re.split(r'(?m)^(?=\[assumptions)', tail)
tail = "".join(p for p in parts if not (m := re.match(r'\[assumptions\."layouts\.([^.]+)\.', p)) or m.group(1) == layout)
head = re.sub(r'(?m)^duration = ".*"', f'duration = "{duration}"', head)
open(out, "w").write(head + "".join("[[layouts]]" + b for b in blocks) + tail)
PY
        for who in base new; do
            bin=$BASE; [ "$who" = new ] && bin=$BIN
            /usr/bin/time -f "%U %M" -o "$DIR/$who.time" \
                "$bin" run "$DIR/cut.toml" --no-onset --format json >"$DIR/$who.json"
        done
        read -r bu bm <"$DIR/base.time"
        read -r nu nm <"$DIR/new.time"
        same=DIFFERS; cmp -s "$DIR/base.json" "$DIR/new.json" && same=identical
        python3 -c "import sys; bu,nu,bm,nm=map(float,sys.argv[1:5]); print(f'{sys.argv[5]:<14}{sys.argv[6]:<8}{bu:>10.2f} s{nu:>10.2f} s{nu/max(bu,0.01):>7.2f}x{bm/1024:>9.0f} MB{nm/1024:>9.0f} MB  {sys.argv[7]}')" \
            "$bu" "$nu" "$bm" "$nm" "$layout" "$d" "$same"
    done
done
