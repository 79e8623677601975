#!/usr/bin/env bash
# The fuzz harness through the real binary (issue 12): N mutants of the shipped TOML
# files (scenarios, usage example, catalog, calibration), each run by the release
# binary under a timeout and a memory cap, classified by exit code and message.
# Fails on any abort (134), panic (101), hang (timeout), other signal, empty message
# or an exit-2 message without a position (file:line:col or byte offset).
#
#   bench/fuzz_binary.sh [N=2000] [SEED=1] [TIMEOUT_S=60] [MEM_KB=4000000]
#
# Scenario and calibration mutants run with sampled kernels and no onset search;
# mutants of prime-video.toml (a minute or more as shipped) through `archsim explain
# --duration 30s`, the same parse, checks and simulation over a shorter period.
set -u
N=${1:-2000}
SEED=${2:-1}
TIMEOUT_S=${3:-60}
MEM_KB=${4:-4000000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/target/release/archsim"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

cd "$ROOT"
cargo build --release --quiet --bin archsim --example fuzz_inputs || exit 1
"$ROOT/target/release/examples/fuzz_inputs" --write "$WORK/m" --count "$N" --seed "$SEED" >/dev/null || exit 1

declare -A class
fail=0
started=$(date +%s)
for f in "$WORK"/m/*.toml; do
  name=$(basename "$f" .toml); rest=${name#*.}; kind=${rest%%.*}; origin=${rest#*.}
  case $kind in
    scenario)
      if [ "$origin" = prime-video ]; then args=(explain "$f" --duration 30s --no-onset)
      else args=(run "$f" --no-onset --kernels sampled); fi ;;
    usage)       args=(price "$f") ;;
    catalog)     args=(catalog show --catalog "$f") ;;
    calibration) args=(run --calibration "$f" --no-onset --kernels sampled) ;;
  esac
  (ulimit -v "$MEM_KB"; exec timeout -s KILL "$TIMEOUT_S" "$BIN" "${args[@]}" >/dev/null 2>"$WORK/err")
  code=$?
  first=$(tr -d '\000' < "$WORK/err" | head -n 1)
  case $code in
    0) c=ok ;;
    2)
      if [ -z "${first#error: }" ] || [[ "$first" =~ :\ *$ ]]; then c=EMPTY_MESSAGE
      elif [[ "$first" =~ :[0-9]+:[0-9]+:\ .+ ]] || [[ "$first" == *"byte offset "* ]]; then c=input_error
      else c=MISSING_POSITION; fi ;;
    1) c=OTHER_ERROR ;;
    101) c=PANIC ;;
    134) c=ABORT ;;
    137) c=HANG_OR_KILLED ;;
    *) c="SIGNAL_OR_EXIT_$code" ;;
  esac
  class["$kind $c"]=$(( ${class["$kind $c"]:-0} + 1 ))
  case $c in
    ok|input_error) ;;
    *) fail=$((fail + 1)); echo "$c: ${args[*]}: $first" >&2
       cp "$f" "$ROOT/target/fuzz-failure-$(basename "$f")" 2>/dev/null ;;
  esac
done
echo "$N binary runs (seed $SEED, timeout ${TIMEOUT_S}s, memory cap ${MEM_KB} KB) in $(( $(date +%s) - started )) s:"
for k in "${!class[@]}"; do echo "  $k ${class[$k]}"; done | sort
echo "failures: $fail"
[ "$fail" -eq 0 ]
