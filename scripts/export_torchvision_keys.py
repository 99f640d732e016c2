#!/usr/bin/env python3
"""Writes the state_dict keys and shapes of torchvision's models, so ConvKit's zoo can be
tested against them without torchvision. Run with a Python that has torch and torchvision:

    python scripts/export_torchvision_keys.py Tests/ConvKitTests/Fixtures/torchvision_state_keys.json
"""
import json
import sys

import torch

# torchvision's compiled detection ops are not needed here; a torchvision wheel built for a
# slightly different torch fails to register them at import time, so skip that step.
torch.library.register_fake = lambda *args, **kwargs: (lambda f: f)
import torchvision.models as models  # noqa: E402

NAMES = ["alexnet", "vgg11", "vgg16", "vgg19", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "mobilenet_v2",
         "efficientnet_b0", "densenet121", "googlenet", "convnext_tiny", "vit_b_16", "vit_b_32", "vit_l_16"]


def main(path):
    out = {}
    for name in NAMES:
        kwargs = {"aux_logits": False, "init_weights": False} if name == "googlenet" else {}
        net = getattr(models, name)(**kwargs)
        out[name] = {
            "parameters": sum(p.numel() for p in net.parameters()),
            "state": [[k, list(v.shape)] for k, v in net.state_dict().items()],
        }
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))


if __name__ == "__main__":
    main(sys.argv[1])
