#!/usr/bin/env bash
# Speed target of `archsim run` (a benchmark, not a test): scenarios/prime-video.toml
# with only the distributed layout, 1,000 streams, one simulated hour, sampled
# kernels, in <= 10 s. Prints wall time, CPU time and peak RSS of that run, then the
# same at 15 min and 4 h of simulated time to show how memory grows with duration.
#
# Usage: bench/run_speed.sh [streams] [durations...]   (defaults: 1000 15min 1h 4h)
# Needs: cargo, python3, GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."

STREAMS=${1:-1000}
shift || true
DURATIONS=("${@:-15min 1h 4h}")
# shellcheck disable=SC2206
DURATIONS=(${DURATIONS[*]})

cargo build --release --quiet
BIN=target/release/archsim
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT

scenario() { # streams duration -> file
    python3 - "$1" "$2" "$DIR/pv-$2.toml" <<'PY'
import sys
streams, duration, out = sys.argv[1], sys.argv[2], sys.argv[3]
src = open("scenarios/prime-video.toml").read()
head, rest = src.split("[[layouts]]", 1)
first = rest.split("[[layouts]]", 1)[0]
import re
head = re.sub(r'(?m)^duration = ".*"', f'duration = "{duration}"', head)
head = re.sub(r'(?m)^streams = \d+', f"streams = {streams}", head)
open(out, "w").write(head + "[[layouts]]" + first)
PY
    echo "$3"
}

echo "== archsim run: prime-video distributed, $STREAMS streams, --kernels sampled =="
echo "(load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
for d in "${DURATIONS[@]}"; do
    f=$(scenario "$STREAMS" "$d" "$DIR/pv-$d.toml")
    /usr/bin/time -f "$d simulated: %e s wall, %U s user, %M KB peak RSS" \
        "$BIN" run "$f" --kernels sampled --no-onset --format json >/dev/null
done
