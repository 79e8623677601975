#!/bin/bash
# Submits an archsim command as a Slurm job array of SHARDS tasks and its merge step,
# which runs when every task has succeeded.
#
#   deploy/slurm/submit.sh 8 results/ sweep scenarios/prime-video.toml \
#       --vary workload.streams=100..10000:log:24
#
# ARCHSIM (the binary, default `archsim` on PATH) and PARTS (a folder every node
# sees, default ./parts) pass through to the jobs. Prints the two job ids.
set -euo pipefail
shards=${1:?usage: submit.sh SHARDS OUT_DIR ARCHSIM_ARGS...}
out=${2:?usage: submit.sh SHARDS OUT_DIR ARCHSIM_ARGS...}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
array=$(sbatch --parsable --export=ALL --array=0-$((shards - 1)) "$here/shard.sbatch" "$@")
merge=$(sbatch --parsable --export=ALL --dependency=afterok:"$array" "$here/merge.sbatch" "$out")
echo "array job $array ($shards tasks), merge job $merge -> $out"
