#!/usr/bin/env bash
# Data-parallel training between two "hosts": two network namespaces joined by a veth pair, so
# Open MPI's TCP transport carries the all-reduces (shared memory is switched off: btl tcp,self)
# instead of shared memory on one machine. mpirun runs in the first namespace and starts the
# second rank's daemon in the other through an rsh agent that is `ip netns exec` (no ssh).
# Checks: the equivalence scenarios pass; a 2-rank `convkit train` over TCP writes the same bytes
# as over shared memory (a sum of two floats does not depend on the order); the traffic crossed
# the veth; a rank killed in the second namespace ends the job. Needs root, iproute2, Open MPI.
# Usage: scripts/distributed_netns_test.sh [build folder, default .build/release]
set -euo pipefail
BUILD=$(cd "${1:-.build/release}" && pwd)
tag=ck$$
ns=("${tag}a" "${tag}b")
addresses=(10.77.0.1 10.77.0.2)
work=$(mktemp -d)
cleanup() {
    ip netns pids "${ns[1]}" 2> /dev/null | xargs -r kill -9 2> /dev/null || true
    for n in "${ns[@]}"; do ip netns del "$n" 2> /dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

for n in "${ns[@]}"; do ip netns add "$n"; ip -n "$n" link set lo up; done
ip link add "${tag}v0" type veth peer name "${tag}v1"
for i in 0 1; do
    ip link set "${tag}v$i" netns "${ns[$i]}"
    ip -n "${ns[$i]}" addr add "${addresses[$i]}/24" dev "${tag}v$i"
    ip -n "${ns[$i]}" link set "${tag}v$i" up
done

cat > "$work/agent" <<AGENT
#!/bin/sh
# Open MPI's rsh agent: agent HOST COMMAND… runs COMMAND in that host's namespace.
host=\$1; shift
case "\$host" in ${addresses[0]}) n=${ns[0]} ;; ${addresses[1]}) n=${ns[1]} ;; *) echo "unknown host \$host" >&2; exit 1 ;; esac
exec ip netns exec "\$n" /bin/sh -c "\$*"
AGENT
chmod +x "$work/agent"

MPI=(ip netns exec "${ns[0]}" timeout -s KILL 300 mpirun --allow-run-as-root -H "${addresses[0]}:1,${addresses[1]}:1" -np 2
     --mca plm_rsh_agent "$work/agent" --mca btl tcp,self
     --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24)
received() { ip -n "${ns[1]}" -s link show "${tag}v1" | awk 'f { print $1; exit } /RX:/ { f = 1 }'; }

echo "ranks: $("${MPI[@]}" sh -c 'echo "$OMPI_COMM_WORLD_RANK in $(ip netns identify $$)"' | sort | tr '\n' ' ')"
for scenario in plain syncbn; do "${MPI[@]}" "$BUILD/ConvKitDistributedChecks" "$scenario"; done

before=$(received)
train=(train lenet5 --distributed --limit 512 --epochs 1 --batch-size 16 --optimizer sgd --lr 0.05)
(cd "$work" && "${MPI[@]}" "$BUILD/convkit" "${train[@]}" -o tcp.safetensors > /dev/null)
crossed=$(( $(received) - before ))
(cd "$work" && mpirun --allow-run-as-root --oversubscribe -np 2 "$BUILD/convkit" "${train[@]}" -o shm.safetensors > /dev/null)
cmp "$work/tcp.safetensors" "$work/shm.safetensors"
echo "ok: 2 ranks over TCP write the bytes they write over shared memory ($crossed bytes crossed the veth)"
# 16 steps of lenet5's 62,006 gradients (248 KB) each way at least.
[ "$crossed" -gt 2000000 ] || { echo "FAIL: only $crossed bytes crossed the veth"; exit 1; }

# A rank killed on the other "host" ends the job.
(set +e; cd "$work" && "${MPI[@]}" "$BUILD/convkit" train lenet5 --distributed --limit 2048 --batch-size 8 --epochs 40 \
    --checkpoint run.ckpt > /dev/null 2> err.txt; echo $? > status) &
for _ in $(seq 600); do [ -f "$work/run.ckpt" ] && break; sleep 0.1; done
[ -f "$work/run.ckpt" ] || { echo "FAIL: no checkpoint"; cat "$work/err.txt"; exit 1; }
victim=$(ip netns pids "${ns[1]}" | while read -r p; do
    tr '\0' '\n' < "/proc/$p/environ" 2> /dev/null | grep -q '^OMPI_COMM_WORLD_RANK=1$' && echo "$p"; done | head -1)
echo "killing rank 1 (pid $victim: $(cat /proc/$victim/comm 2> /dev/null))"
kill -9 "$victim"
start=$SECONDS
for _ in $(seq 300); do [ -f "$work/status" ] && break; sleep 0.1; done
[ -f "$work/status" ] || { echo "FAIL: the job did not end within 30 s of rank 1's death"; ps -ef | grep -v grep | grep -E "mpirun|orted|convkit"; tail -5 "$work/err.txt"; exit 1; }
[ "$(cat "$work/status")" != 0 ] || { echo "FAIL: the job exited 0"; exit 1; }
echo "ok: rank 1 killed on the second host; the job ended within $((SECONDS - start + 1)) s with status $(cat "$work/status")"
