#!/usr/bin/env bash
# Speed and memory of `archsim run` (a benchmark, not a test): scenarios/prime-video.toml
# with only the distributed layout (overloaded at 1,000 streams under the 2023
# quotas), sampled kernels, at several simulated durations. Prints wall time, CPU
# time and peak RSS of each, then peak RSS side by side and the ratio of the longest
# to 1 h. Targets: 1 h in <= 10 s (issue 11); 4 h peaks at <= 1.3x the RSS of 1 h
# (issue 10: memory does not grow with simulated time under overload).
#
# Usage: bench/run_speed.sh [streams] [durations...]   (defaults: 1000 1h 4h)
# Needs: cargo, python3, GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."

STREAMS=${1:-1000}
shift || true
DURATIONS=("${@:-1h 4h}")
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
    /usr/bin/time -o "$DIR/time-$d" -f "%e %U %M" \
        "$BIN" run "$f" --kernels sampled --no-onset --allow-large --format json >/dev/null
    read -r wall user rss <"$DIR/time-$d"
    echo "$d simulated: $wall s wall, $user s user, $rss KB peak RSS"
    echo "$d $rss" >>"$DIR/rss"
done

echo
echo "== peak RSS by simulated duration ($STREAMS streams, distributed) =="
python3 - "$DIR/rss" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
base = dict(rows).get("1h", rows[0][1])
base_name = "1h" if "1h" in dict(rows) else rows[0][0]
for d, kb in rows:
    print(f"{d:>8}  {int(kb) / 1024:8.1f} MB  {int(kb) / int(base):5.2f}x of {base_name}")
last, kb = rows[-1]
ratio = int(kb) / int(base)
verdict = "meets" if ratio <= 1.3 else "misses"
print(f"{last} / {base_name}: {ratio:.2f}x ({verdict} the <= 1.3x target)")
PY
