#!/usr/bin/env python3
"""torchvision's ImageNet preprocessing on PIL images, for ConvKit's ImagePreprocessing.

    python scripts/generate_preprocessing_fixtures.py Tests/ConvKitTests/Fixtures/preprocessing

For each case, CASE.png is the uint8 picture after torchvision's resize (shorter side, PIL
resampling with antialiasing) and center crop, as `ImageClassification` computes it before
converting to float; cases.json says the source, sizes and interpolation. Small sizes keep the
files small; the shapes cover shrinking, enlarging, odd aspect ratios, crops larger than the
image (padding) and bilinear, bicubic and nearest filters.
"""
import json
import os
import sys

import torch

torch.library.register_fake = lambda *args, **kwargs: (lambda f: f)  # see export_torchvision_keys.py
import torchvision.transforms.v2.functional as F  # noqa: E402
from torchvision.transforms import InterpolationMode  # noqa: E402
from PIL import Image  # noqa: E402

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "images")
# The two photos ConvKit bundles (Sources/ConvKit/Resources/images), so the tests need nothing else.
CASES = [
    ("chelsea.png", 64, 56, "bilinear"), ("chelsea.png", 48, 40, "bicubic"), ("camera.png", 37, 33, "bilinear"),
    ("camera.png", 29, 29, "bicubic"), ("chelsea.png", 400, 96, "bilinear"), ("camera.png", 70, 80, "bilinear"),
    ("camera.png", 19, 17, "nearest"), ("chelsea.png", 23, 22, "bicubic"), ("chelsea.png", 256, 224, "bilinear"),
]


def main(out):
    os.makedirs(out, exist_ok=True)
    described = []
    for i, (name, resize, crop, interpolation) in enumerate(CASES):
        image = Image.open(os.path.join(SHARED, name)).convert("RGB")
        resized = F.resize(image, [resize], interpolation=InterpolationMode(interpolation), antialias=True)
        cropped = F.center_crop(resized, [crop])
        case = f"case{i}"
        cropped.save(os.path.join(out, case + ".png"))
        described.append({"case": case, "source": name, "resize": resize, "crop": crop, "interpolation": interpolation})
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump(described, f, indent=1)
    print(f"wrote {len(described)} cases to {out}")


if __name__ == "__main__":
    main(sys.argv[1])
