#!/usr/bin/env python3
"""Loads weights saved by ConvKit into PyTorch with load_state_dict(strict=True) and checks
that PyTorch computes ConvKit's logits. The files come from the Swift test suite run with
CONVKIT_EXPORT_DIR=DIR (see InteropTests.swift).

    .venv-torch/bin/python scripts/check_torch_interop.py DIR
"""
import os
import sys

import torch
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(__file__))
from generate_model_fixtures import ResNet18, course_cnn  # noqa: E402


def check(directory, name, model):
    weights = os.path.join(directory, f"{name}_convkit_weights.safetensors")
    if not os.path.exists(weights):
        print(f"{name}: no ConvKit export in {directory}")
        return False
    model.load_state_dict(load_file(weights), strict=True)
    model.eval()
    io = load_file(os.path.join(directory, f"{name}_convkit_io.safetensors"))
    with torch.no_grad():
        logits = model(io["input"])
    ok = torch.allclose(logits, io["logits"], rtol=1e-4, atol=1e-4)
    print(f"{name}: strict load OK, max |PyTorch − ConvKit| = {(logits - io['logits']).abs().max().item():.2e} "
          f"-> {'OK' if ok else 'MISMATCH'}")
    return ok


if __name__ == "__main__":
    d = sys.argv[1]
    results = [check(d, "course-cnn", course_cnn()), check(d, "resnet18", ResNet18())]
    sys.exit(0 if all(results) else 1)
