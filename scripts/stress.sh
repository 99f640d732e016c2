#!/usr/bin/env bash
# Generated-input runs of every CLI command and every lab endpoint (issue 16), in process,
# under an address-space limit and with the per-tensor cap lowered, so that a request for
# gigabytes is refused rather than swapped in:
#   scripts/stress.sh [CLI_CASES] [LAB_REQUESTS] [SEED]     (defaults: 25000 100000 1)
# A crash names its case (stress-last-case.txt); a case over 60 s aborts the run.
set -euo pipefail
cd "$(dirname "$0")/.."
cli="${1:-25000}" lab="${2:-100000}" seed="${3:-1}"
binary=.build/release/ConvKitStress
[ -x "$binary" ] || swift build -c release --product ConvKitStress
export CONVKIT_MAX_TENSOR_ELEMENTS=$((1 << 26))  # 256 MiB per tensor
# Published weights: an empty cache and a mirror that refuses connections (no case reaches a network).
export CONVKIT_HOME="$(mktemp -d)" CONVKIT_MIRROR=http://127.0.0.1:1/models/
ulimit -v $((6 * 1024 * 1024))                    # 6 GiB of address space for the whole run
status=0
"$binary" --cli "$cli" --lab "$lab" --seed "$seed" --case-seconds 60 --last-case "$PWD/stress-last-case.txt" 2>&1 | grep -v "^20..-..-..T" || status=$?
if [ "$status" -ne 0 ]; then
    echo "generated-input run FAILED (status $status); the case running when it stopped:" >&2
    cat stress-last-case.txt >&2 2>/dev/null || true
    exit 1
fi
