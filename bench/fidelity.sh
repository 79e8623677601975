#!/usr/bin/env bash
# The fast fidelity mode against the full simulation, side by side in one run (a
# benchmark, not a test): scenarios/prime-video-day.toml cut to STREAMS streams and
# HOURS hours of its daily profile (the evening rise, hours 17 to 20), run with
# `--fidelity fast` and `--fidelity full`. For every layout it prints the monthly
# cost of each, their difference (target: within 1%), the p95 latency of each and
# their difference (target: within 5%), the same for each overloaded layout's bill
# with quotas raised, and the speed-up as a ratio of wall times.
# Then the day scenario itself (10,000 streams, 24 h, every layout) in the fast mode:
# wall time and peak RSS (targets: 60 s, 1 GB on two cores).
#
# Usage: bench/fidelity.sh [streams] [hours] [layouts] [cohort]   (defaults: 1000 4 all 500)
#        layouts: comma-separated names, e.g. monolith,fargate ("" for all)
#        cohort: streams the fast mode simulates (archsim run --cohort)
# Needs: cargo, python3, GNU time (/usr/bin/time). ARCHSIM_BIN=path runs that binary
# instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."

STREAMS=${1:-1000}
HOURS=${2:-4}
LAYOUTS=${3:-}
COHORT=${4:-500}

# shellcheck source=bench/lib.sh
source bench/lib.sh

python3 - "$STREAMS" "$HOURS" "$LAYOUTS" "$DIR/cut.toml" <<'PY'
import re, sys
streams, hours, layouts, out = sys.argv[1:5]
src = open("scenarios/prime-video-day.toml").read()
head, *blocks = src.split("[[layouts]]")
# The last block also carries [assumptions]: keep them apart from the layouts.
tail = ""
if blocks and "[assumptions" in blocks[-1]:
    i = blocks[-1].index("[assumptions")
    blocks[-1], tail = blocks[-1][:i], blocks[-1][i:]
if layouts:
    keep = set(layouts.split(","))
    blocks = [b for b in blocks if re.search(r'(?m)^name = "([^"]+)"', b).group(1) in keep]
    # Assumptions about layouts left out would name nothing.
    tail = "\n".join(
        part for part in re.split(r'(?m)^(?=\[assumptions)', tail)
        if not (m := re.match(r'\[assumptions\."layouts\.([^.]+)\.', part)) or m.group(1) in keep
    )
head = re.sub(r'(?m)^duration = ".*"', f'duration = "{hours}h"', head)
head = re.sub(r'(?m)^streams = \d+', f"streams = {streams}", head)
# Rotate the day so that the cut starts at 17:00: the evening rise.
m = re.search(r'(?ms)^hourly_weights = \[(.*?)\]', head)
w = [x.strip() for x in m.group(1).replace("\n", " ").split(",") if x.strip()]
w = w[17:] + w[:17]
head = head[: m.start()] + "hourly_weights = [" + ", ".join(w) + "]" + head[m.end():]
open(out, "w").write(head + "".join("[[layouts]]" + b for b in blocks) + tail)
PY

echo "== fast vs full: prime-video-day cut to $STREAMS streams x $HOURS h (17:00-$((17 + HOURS)):00), sampled kernels =="
echo "(load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
for mode in fast full; do
    /usr/bin/time -f "%e %M" -o "$DIR/$mode.time" \
        "$BIN" run "$DIR/cut.toml" --fidelity "$mode" --cohort "$COHORT" --kernels sampled --no-onset \
        --allow-large --format json >"$DIR/$mode.json"
done
python3 - "$DIR" <<'PY'
import json, sys
d = sys.argv[1]
fast, full = (json.load(open(f"{d}/{m}.json")) for m in ("fast", "full"))
(tf, mf), (tu, mu) = (open(f"{d}/{m}.time").read().split() for m in ("fast", "full"))
fi = fast["fidelity"]
seg = fi.get("steady_segments")
print(f"fast: a cohort of {fi['simulated_streams']} of {fi['streams']} streams"
      + (f", {seg['stretches']} steady stretches ({seg['window_s']:g} s windows)" if seg else "")
      + "; stated bound: "
      f"cost {fi['error_bound']['cost']*100:g}%, p95 {fi['error_bound']['p95']*100:g}%")
print(f"{'layout':<17}{'full $/month':>14}{'fast $/month':>14}{'cost diff':>11}"
      f"{'full p95':>11}{'fast p95':>11}{'p95 diff':>10}  verdict")
worst_c = worst_p = 0.0
for a, b in zip(full["layouts"], fast["layouts"]):
    c = (b["monthly_usd"] - a["monthly_usd"]) / a["monthly_usd"] * 100 if a["monthly_usd"] else 0.0
    pa, pb = a["latency_ms"]["p95"], b["latency_ms"]["p95"]
    p = (pb - pa) / pa * 100 if pa else 0.0
    worst_c, worst_p = max(worst_c, abs(c)), max(worst_p, abs(p))
    ok = "ok" if abs(c) <= 1 and abs(p) <= 5 else "OUTSIDE"
    print(f"{a['name']:<17}{a['monthly_usd']:>14,.0f}{b['monthly_usd']:>14,.0f}{c:>+10.2f}%"
          f"{pa:>9.0f}ms{pb:>9.0f}ms{p:>+9.2f}%  {ok} ({a['capacity']['verdict']})")
# The bills "with quotas raised" of the overloaded layouts, each a run of its own.
raised = [(a, b) for a, b in zip(full["layouts"], fast["layouts"])
          if a.get("with_quotas_raised") and b.get("with_quotas_raised")]
if raised:
    print("with quotas raised (the overloaded layouts' reruns):")
    for a, b in raised:
        ra, rb = a["with_quotas_raised"], b["with_quotas_raised"]
        c = (rb["monthly_usd"] - ra["monthly_usd"]) / ra["monthly_usd"] * 100
        sa, sb = ra["capacity"]["served_fraction"], rb["capacity"]["served_fraction"]
        worst_c = max(worst_c, abs(c))
        ok = "ok" if abs(c) <= 1 else "OUTSIDE"
        print(f"{a['name']:<17}{ra['monthly_usd']:>14,.0f}{rb['monthly_usd']:>14,.0f}{c:>+10.2f}%"
              f"   served {sa*100:.1f}% full, {sb*100:.1f}% fast  {ok}")
print(f"worst: cost {worst_c:.2f}% (target 1%), p95 {worst_p:.2f}% (target 5%)")
print(f"wall: full {float(tu):.1f} s, fast {float(tf):.1f} s: speed-up {float(tu)/max(float(tf),0.01):.1f}x; "
      f"peak RSS full {int(mu)/1024:.0f} MB, fast {int(mf)/1024:.0f} MB")
PY

if [ -z "$LAYOUTS" ]; then
    echo
    echo "== the day: scenarios/prime-video-day.toml (10,000 streams, 24 h, every layout), fast =="
    /usr/bin/time -f "%e s %M KB" -o "$DIR/day.time" \
        "$BIN" run scenarios/prime-video-day.toml --cohort "$COHORT" --allow-large >"$DIR/day.txt"
    tail -n 4 "$DIR/day.txt"
    echo "wall time and peak RSS: $(cat "$DIR/day.time") (targets: 60 s, 1 GB)"
fi
