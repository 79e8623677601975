#!/bin/bash
# A real one-node Slurm on this machine, without systemd: installs Debian's slurm-wlm
# and munge if missing (needs root), starts munged, slurmctld and slurmd by hand with
# every file under a temporary folder, runs a small sweep as a 4-task job array
# (2 at a time) and the merge step, compares the merged folder byte for byte with the
# same sweep run locally, then stops the daemons and removes the folder.
#
#   deploy/slurm/test-local.sh              uses target/release/archsim (built if missing)
#   ARCHSIM=/path/to/archsim deploy/slurm/test-local.sh
#
# Exit 0 when the merged output equals the local one. CI does not run it.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"

need=()
command -v sbatch >/dev/null && [ -x /usr/sbin/slurmctld ] && [ -x /usr/sbin/slurmd ] || need+=(slurm-wlm)
[ -x /usr/sbin/munged ] || need+=(munge)
if [ ${#need[@]} -gt 0 ]; then
    echo "== installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

archsim=${ARCHSIM:-$repo/target/release/archsim}
if [ ! -x "$archsim" ]; then
    echo "== building archsim"
    cargo build --release --quiet
fi

tmp=$(mktemp -d /tmp/archsim-slurm.XXXXXX)
pids=()
cleanup() {
    echo "== stopping the daemons"
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
    rm -rf "$tmp"
    echo "== removed $tmp"
}
trap cleanup EXIT

mkdir -p "$tmp"/{munge,state,spool,log,parts,work}
chmod 711 "$tmp/munge"
dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$tmp/munge/munge.key"
socket=$tmp/munge/munge.socket
echo "== munged"
/usr/sbin/munged --foreground --force --key-file="$tmp/munge/munge.key" --socket="$socket" \
    --pid-file="$tmp/munge/munged.pid" --log-file="$tmp/log/munged.log" \
    --seed-file="$tmp/munge/munged.seed" > "$tmp/log/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.1; done

# Ports on loopback, away from Slurm's defaults, so a real cluster's are not touched.
port=$((20000 + RANDOM % 20000))
cat > "$tmp/slurm.conf" <<CONF
ClusterName=archsim-test
SlurmctldHost=localhost
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
NodeName=localhost CPUs=$(nproc) State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$tmp/slurm.conf
echo "== slurmctld and slurmd (ports $port, $((port + 1)))"
/usr/sbin/slurmctld -D -i > "$tmp/log/slurmctld.out" 2>&1 &
pids+=($!)
/usr/sbin/slurmd -D -N localhost > "$tmp/log/slurmd.out" 2>&1 &
pids+=($!)
for i in $(seq 100); do
    state=$(sinfo -h -N -o %t 2>/dev/null | head -1 || true)
    [ "$state" = idle ] && break
    [ "$i" = 100 ] && { echo "the node did not come up ($state)"; tail -n 20 "$tmp"/log/*; exit 1; }
    sleep 0.3
done
sinfo

args=(sweep scenarios/low-traffic.toml --vary workload.streams=1..40:log:6 --layouts distributed,monolith)
echo "== the sweep on this machine"
"$archsim" "${args[@]}" --out "$tmp/local" > "$tmp/local.txt"

echo "== the sweep as a job array of 4 tasks, 2 at a time, then the merge"
export ARCHSIM=$archsim PARTS=$tmp/parts
array=$(sbatch --parsable --chdir="$repo" --output="$tmp/log/shard-%a.log" --array=0-3%2 \
    deploy/slurm/shard.sbatch "${args[@]}")
merge=$(sbatch --parsable --chdir="$repo" --output="$tmp/merge.txt" --error="$tmp/merge.err" --dependency=afterok:"$array" \
    deploy/slurm/merge.sbatch "$tmp/merged")
echo "array job $array, merge job $merge"
for i in $(seq 600); do
    left=$(squeue -h -j "$array,$merge" 2>/dev/null | wc -l)
    [ "$left" = 0 ] && break
    [ "$i" = 600 ] && { echo "the jobs did not finish"; squeue; exit 1; }
    sleep 0.5
done
ls -l "$tmp/parts"
for f in "$tmp"/log/shard-*.log; do echo "-- $(basename "$f")"; cat "$f"; done

echo "== comparing"
[ -d "$tmp/merged" ] || { echo "no merged folder"; cat "$tmp/merge.txt" "$tmp/merge.err" || true; tail -n 20 "$tmp"/log/*; exit 1; }
diff -r "$tmp/local" "$tmp/merged"
diff "$tmp/local.txt" "$tmp/merge.txt"
for f in "$tmp"/local/*; do
    cmp "$f" "$tmp/merged/$(basename "$f")"
    echo "identical: $(basename "$f") ($(wc -c < "$f") bytes)"
done
echo "identical: the printed report ($(wc -c < "$tmp/local.txt") bytes)"
echo "PASS: the merged job array equals the local sweep byte for byte"
