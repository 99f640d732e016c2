#!/usr/bin/env bash
# The course CNN's bundled weights (Sources/ConvKit/Resources/weights/course-cnn.safetensors), which
# the digit lab starts from: 3 epochs on the bundled 4,000 digits (seed 0), stored as F16 (0.9 MB).
#   scripts/train_bundled_weights.sh [CONVKIT_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
convkit="${1:-.build/release/convkit}"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
"$convkit" train course-cnn --epochs 3 --seed 0 -o "$tmp/course-cnn.safetensors"
"$convkit" convert "$tmp/course-cnn.safetensors" --dtype F16 -o Sources/ConvKit/Resources/weights/course-cnn.safetensors
"$convkit" eval --weights Sources/ConvKit/Resources/weights/course-cnn.safetensors
