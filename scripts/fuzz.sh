#!/usr/bin/env bash
# Builds the libFuzzer targets (Fuzz/, with AddressSanitizer) and runs each for SECONDS.
#   scripts/fuzz.sh [SECONDS] [TARGET...]     targets: png idx cifar safetensors torch jpeg (default: all)
# New interesting inputs go to .build-fuzz-corpus/<target>/ (not committed); a crash, hang
# (> 10 s per input) or an allocation over 2 GiB stops the run and leaves the input in
# .build-fuzz-findings/<target>/. Commit such inputs under Tests/ConvKitTests/Fixtures/fuzz/<target>/
# once fixed: FuzzRegressionTests runs every file there.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"; shift || true
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(png idx cifar safetensors torch jpeg)

(cd Fuzz && swift build -c release --scratch-path ../.build-fuzz \
    --sanitize fuzzer --sanitize address -Xswiftc -sanitize=fuzzer,address)
export SWIFT_BACKTRACE=enable=no  # let libFuzzer/ASan report crashes, not the Swift backtracer
status=0
for target in "${targets[@]}"; do
    case "$target" in
        png) binary=FuzzPNG; seeds=Tests/ConvKitTests/Fixtures/png ;;
        idx) binary=FuzzIDX; seeds=Fuzz/Corpus/idx ;;
        cifar) binary=FuzzCIFAR; seeds=Fuzz/Corpus/cifar ;;
        safetensors) binary=FuzzSafeTensors; seeds=Fuzz/Corpus/safetensors ;;
        torch) binary=FuzzTorchCheckpoint; seeds=Fuzz/Corpus/torch ;;
        jpeg) binary=FuzzJPEG; seeds=Fuzz/Corpus/jpeg ;;
        *) echo "unknown fuzz target '$target' (expected png, idx, cifar, safetensors, torch or jpeg)" >&2; exit 2 ;;
    esac
    corpus=.build-fuzz-corpus/$target findings=.build-fuzz-findings/$target
    mkdir -p "$corpus" "$findings" Tests/ConvKitTests/Fixtures/fuzz/$target
    echo "== $target: $seconds s"
    if ! .build-fuzz/release/$binary "$corpus" "$seeds" Tests/ConvKitTests/Fixtures/fuzz/$target \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="$findings/" -print_final_stats=1 2> "$findings/log.txt"; then
        echo "!! $target found a problem; see $findings/log.txt" >&2
        tail -40 "$findings/log.txt" >&2
        status=1
    else
        grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb)" "$findings/log.txt" || true
    fi
done
exit $status
