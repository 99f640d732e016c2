#!/usr/bin/env bash
# Data-parallel scaling on this machine: the course CNN on bundled MNIST (4,000 training
# samples), one epoch, 1 rank × 1 thread against 2 ranks × 1 thread (Open MPI binds each rank
# to its own core), batch 64 per rank, median of ROUNDS runs. Prints training samples/s, the
# speed-up, and each run's time split into compute and communication (from `train --json`).
# Usage: scripts/distributed_scaling.sh [convkit binary] [rounds]
set -euo pipefail
BIN=${1:-.build/release/convkit}
ROUNDS=${2:-3}
MPIRUN=(mpirun --allow-run-as-root --bind-to core -np)
if [ "$(nproc)" -lt 2 ]; then echo "distributed_scaling: needs 2 cores, this machine has $(nproc)"; exit 0; fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

run() {  # run RANKS BATCH → prints "trainingSeconds communicationSeconds"
    local ranks=$1 batch=$2
    CONVKIT_THREADS=1 "${MPIRUN[@]}" "$ranks" -x CONVKIT_THREADS "$BIN" train course-cnn --distributed --epochs 1 \
        --batch-size "$batch" --json 2> /dev/null | python3 -c '
import json, sys
row = json.load(sys.stdin)[0]
print(row["trainingSeconds"], row["communicationSeconds"])'
}

median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

printf "%-28s %10s %10s %12s %10s\n" "configuration" "seconds" "samples/s" "comm. share" "speed-up"
base=""
for config in "1 64" "1 128" "2 64"; do
    set -- $config
    : > "$dir/t"; : > "$dir/c"
    for _ in $(seq "$ROUNDS"); do
        read -r t c < <(run "$1" "$2")
        echo "$t" >> "$dir/t"; echo "$c" >> "$dir/c"
    done
    t=$(median < "$dir/t"); c=$(median < "$dir/c")
    rate=$(python3 -c "print(round(4000 / $t))")
    [ -z "$base" ] && base=$rate
    printf "%-28s %10s %10s %11s%% %9sx\n" "$1 rank(s) × 1 thread, batch $2" "$t" "$rate" \
        "$(python3 -c "print(round(100 * $c / $t, 1))")" "$(python3 -c "print(round($rate / $base, 2))")"
done
