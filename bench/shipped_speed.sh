#!/usr/bin/env bash
# Speed of the shipped scenario, fast mode beside full (a benchmark, not a test):
# `archsim run scenarios/prime-video.toml --format json` with `--fidelity fast`,
# with `--fidelity fast --no-onset` (what the throttle-onset search costs) and with
# `--fidelity full`. Prints wall time, CPU time and peak RSS of each, the speed-up of
# fast over full as a ratio of wall times from this run, each layout's monthly cost
# in both modes and their difference (the fast mode's bound: 1%), and whether the
# fast run met the target of issue 11: <= 10 s wall on two cores. Wall time counts
# whatever else the machine runs: the load average is printed before each run.
#
# Usage: bench/shipped_speed.sh [scenario]   (default: scenarios/prime-video.toml)
# Needs: cargo, python3, GNU time (/usr/bin/time). ARCHSIM_BIN=path runs that binary
# instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."

SCENARIO=${1:-scenarios/prime-video.toml}
TARGET_S=10

# shellcheck source=bench/lib.sh
source bench/lib.sh

echo "== archsim run $SCENARIO: fast beside full ($(nproc) cores) =="
run() { # name, flags...
    local name=$1
    shift
    echo "  $name: load average before $(cut -d' ' -f1-3 /proc/loadavg)"
    /usr/bin/time -o "$DIR/$name.time" -f "%e %U %S %M" \
        "$BIN" run "$SCENARIO" --format json "$@" >"$DIR/$name.json"
}
run fast --fidelity fast
run fast-no-onset --fidelity fast --no-onset
run full --fidelity full

python3 - "$DIR" "$TARGET_S" <<'PY'
import json, sys
d, target = sys.argv[1], float(sys.argv[2])
times = {}
print(f"{'mode':<16}{'wall':>9}{'CPU':>9}{'RSS':>9}")
for name in ["fast", "fast-no-onset", "full"]:
    wall, user, sys_s, rss = map(float, open(f"{d}/{name}.time").read().split())
    times[name] = (wall, user + sys_s)
    print(f"{name:<16}{wall:>8.2f}s{user + sys_s:>8.2f}s{rss / 1024:>7.0f}MB")
fast_wall, fast_cpu = times["fast"]
full_wall, full_cpu = times["full"]
onset_cpu = fast_cpu - times["fast-no-onset"][1]
print(f"the onset search in the fast run: {onset_cpu:.2f} s CPU of {fast_cpu:.2f} s")
print(f"speed-up fast over full: {full_wall / max(fast_wall, 0.01):.1f}x wall, "
      f"{full_cpu / max(fast_cpu, 0.01):.1f}x CPU")

fast = {l["name"]: l for l in json.load(open(f"{d}/fast.json"))["layouts"]}
full = {l["name"]: l for l in json.load(open(f"{d}/full.json"))["layouts"]}
print(f"\n{'layout':<18}{'fast $/month':>14}{'full $/month':>14}{'diff':>9}")
worst = 0.0
for name, l in full.items():
    a, b = fast[name]["monthly_usd"], l["monthly_usd"]
    diff = (a - b) / b if b else 0.0
    worst = max(worst, abs(diff))
    print(f"{name:<18}{a:>14,.0f}{b:>14,.0f}{diff:>+8.2%}")
print(f"largest cost difference: {worst:.2%} (fast mode's bound: 1%)")
verdict = "met" if fast_wall <= target else "NOT met"
print(f"\ntarget <= {target:.0f} s wall for the fast run: {verdict} ({fast_wall:.2f} s)")
PY
