#!/usr/bin/env bash
# Side-by-side speed of the archsim engine and SimPy on the same M/M/c model
# (c = 4, rho = 0.8, mean service 1 ms), one core each, run one after the other.
# Prints both lines, the events-per-second ratio and the engine's peak memory at
# N and 100 N customers (it must stay flat).
#
# Usage: bench/compare_simpy.sh [simpy_customers] [archsim_customers]
# Needs: cargo, python3 and `pip install simpy`.
set -euo pipefail
cd "$(dirname "$0")/.."

PY_N=${1:-200000}
RS_N=${2:-2000000}
PIN=""
if command -v taskset >/dev/null 2>&1; then PIN="taskset -c 0"; fi

if ! python3 -c 'import simpy' 2>/dev/null; then
    echo "SimPy is not installed: pip install simpy" >&2
    exit 1
fi

cargo build --release --quiet --example mmc_bench
BIN=target/release/examples/mmc_bench

echo "== M/M/4, rho = 0.8, mean service 1 ms =="
py=$($PIN python3 bench/mmc_simpy.py "$PY_N")
echo "$py"
rs=$($PIN "$BIN" "$RS_N")
echo "$rs"
small=$($PIN "$BIN" $((RS_N / 100)))
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

py_eps=$(field "$py" events_per_s)
rs_eps=$(field "$rs" events_per_s)
echo
python3 - "$py_eps" "$rs_eps" <<'PY'
import sys
py, rs = float(sys.argv[1]), float(sys.argv[2])
print(f"events/s: archsim {rs:,.0f}, SimPy {py:,.0f}: archsim is {rs / py:.0f}x SimPy (target >= 50x)")
PY
echo "peak RSS: archsim $(field "$small" peak_rss_kb) KiB at $((RS_N / 100)) customers, $(field "$rs" peak_rss_kb) KiB at $RS_N customers (100x the events)"
