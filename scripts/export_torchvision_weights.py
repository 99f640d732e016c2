#!/usr/bin/env python3
"""Writes what ConvKit's zoo knows about torchvision's published ImageNet weights: for each zoo
model, the weights' file URL (whose name carries the SHA-256 prefix torchvision checks), the
preprocessing (resize, crop, interpolation, mean, std), the accuracy torchvision reports, and the
ImageNet-1k class names. Run with a Python that has torch and torchvision:

    python scripts/export_torchvision_weights.py Sources/ConvKit/Resources/pretrained
"""
import json
import os
import sys

import torch

torch.library.register_fake = lambda *args, **kwargs: (lambda f: f)  # see export_torchvision_keys.py
import torchvision.models as models  # noqa: E402

MODELS = {
    "alexnet": "AlexNet_Weights", "vgg11": "VGG11_Weights", "vgg16": "VGG16_Weights", "vgg19": "VGG19_Weights",
    "resnet18": "ResNet18_Weights", "resnet34": "ResNet34_Weights", "resnet50": "ResNet50_Weights",
    "resnet101": "ResNet101_Weights", "resnet152": "ResNet152_Weights",
    "mobilenet_v2": "MobileNet_V2_Weights", "efficientnet_b0": "EfficientNet_B0_Weights",
    "densenet121": "DenseNet121_Weights", "googlenet": "GoogLeNet_Weights", "convnext_tiny": "ConvNeXt_Tiny_Weights",
    "vit_b_16": "ViT_B_16_Weights", "vit_b_32": "ViT_B_32_Weights", "vit_l_16": "ViT_L_16_Weights",
}


def main(out):
    os.makedirs(out, exist_ok=True)
    entries, categories = [], None
    for model, enum_name in MODELS.items():
        for weights in getattr(models, enum_name):
            preset = weights.transforms()
            meta = weights.meta
            categories = categories or meta["categories"]
            if meta["categories"] != categories:  # VGG16's IMAGENET1K_FEATURES: no classifier
                print(f"skipping {model} {weights.name}: not an ImageNet-1k classifier")
                continue
            if model.startswith("vit") and preset.crop_size[0] != 224:  # SWAG end-to-end: a ViT built for 384/512 images
                print(f"skipping {model} {weights.name}: made for {preset.crop_size[0]}-pixel images, the zoo's ViT takes 224")
                continue
            metrics = meta.get("_metrics", {}).get("ImageNet-1K", {})
            entries.append({
                "model": model,
                "name": weights.name,
                "url": weights.url,
                "resizeSize": preset.resize_size[0],
                "cropSize": preset.crop_size[0],
                "interpolation": preset.interpolation.value,
                "mean": list(preset.mean),
                "std": list(preset.std),
                "top1": metrics.get("acc@1"),
                "parameters": meta.get("num_params"),
            })
    with open(os.path.join(out, "torchvision_weights.json"), "w") as f:
        json.dump(entries, f, indent=1)
        f.write("\n")
    with open(os.path.join(out, "imagenet_classes.txt"), "w") as f:
        f.write("\n".join(categories) + "\n")
    print(f"{len(entries)} weights, {len(categories)} classes")


if __name__ == "__main__":
    main(sys.argv[1])
