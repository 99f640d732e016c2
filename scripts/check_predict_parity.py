#!/usr/bin/env python3
"""End to end: `convkit predict` against PIL + torchvision on the same files and weights.

    python scripts/check_predict_parity.py .build/release/convkit Tests/ConvKitTests/Fixtures/generated/checkpoints

For the bundled photos re-encoded as JPEGs at several settings (and as PNG), and for models whose
published preprocessing differs (resnet18: 256/224 bilinear; efficientnet_b0: bicubic; convnext_tiny:
236/224), `convkit predict FILE --model M --weights M.pth --top 5 --json` must give the top-5 classes and
probabilities (within 1e-4) that PIL decoding, torchvision's preset transforms and the torchvision model
give with the same torch-saved weights. Any drift in decoding, resizing or the model shows here.
Exits non-zero on a mismatch. CI runs it after generate_checkpoint_fixtures.py --zoo.
"""
import json
import os
import subprocess
import sys
import tempfile

import torch

torch.library.register_fake = lambda *args, **kwargs: (lambda f: f)  # see export_torchvision_keys.py
import torchvision.models as models  # noqa: E402
from PIL import Image  # noqa: E402

PHOTOS = os.path.join(os.path.dirname(__file__), "..", "Sources", "ConvKit", "Resources", "images")
MODELS = {"resnet18": "ResNet18_Weights", "efficientnet_b0": "EfficientNet_B0_Weights", "convnext_tiny": "ConvNeXt_Tiny_Weights",
          "vit_b_16": "ViT_B_16_Weights"}
SETTINGS = [dict(quality=90, subsampling=2), dict(quality=75, subsampling=0, progressive=True), dict(quality=50, subsampling=1)]


def main(convkit, checkpoints):
    failures, checked = 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for photo in ("chelsea.png", "camera.png"):
            image = Image.open(os.path.join(PHOTOS, photo))
            files.append(os.path.join(PHOTOS, photo))
            for i, options in enumerate(SETTINGS):
                path = os.path.join(tmp, f"{photo[:-4]}_{i}.jpg")
                image.save(path, "JPEG", **options)
                files.append(path)
        for name, enum_name in MODELS.items():
            weights_file = os.path.join(checkpoints, f"{name}.pth")
            net = getattr(models, name)()
            net.load_state_dict(torch.load(weights_file, weights_only=True))
            net.eval()
            preset = getattr(models, enum_name).IMAGENET1K_V1.transforms()
            for path in files:
                with torch.no_grad():
                    probabilities = net(preset(Image.open(path).convert("RGB")).unsqueeze(0)).softmax(1)[0]
                top = probabilities.topk(5)
                want = [(int(i), float(p)) for p, i in zip(top.values, top.indices)]
                run = subprocess.run([convkit, "predict", path, "--model", name, "--weights", weights_file, "--top", "5", "--json"],
                                     capture_output=True, text=True)
                if run.returncode != 0:
                    print(f"FAIL {name} {os.path.basename(path)}: {run.stderr.strip()}")
                    failures += 1
                    continue
                got = [(r["index"], r["probability"]) for r in json.loads(run.stdout)]
                # Indices must agree wherever the probabilities are not tied within the tolerance.
                same = all(abs(g[1] - w[1]) <= 1e-4 and (g[0] == w[0] or abs(float(probabilities[g[0]]) - w[1]) <= 1e-4)
                           for g, w in zip(got, want))
                checked += 1
                if not same:
                    failures += 1
                    print(f"FAIL {name} {os.path.basename(path)}: convkit {got} vs torchvision {want}")
    print(f"predict parity: {checked - failures} of {checked + (0 if checked else failures)} photo/model pairs match torchvision")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
