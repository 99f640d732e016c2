#!/usr/bin/env python3
"""Writes Tests/ConvKitTests/Fixtures/explanations.safetensors: saliency, SmoothGrad,
Grad-CAM and occlusion computed by captum and pytorch-grad-cam (the `grad-cam` package)
for a small CNN with batch norm, on the same weights and inputs ConvKit's
ExplanationOracleTests load.

Stored tensors: ``state.<name>`` (the model's state dict), ``input`` (2, 3, 20, 20),
``smooth_input`` (1, 3, 20, 20), and one entry per reference listed in ``__metadata__``.

Usage (CI does not need this; the fixture is committed):
    python3 -m venv .venv-torch
    .venv-torch/bin/pip install torch==2.13.0+cpu torchvision==0.28.0 safetensors captum grad-cam
    .venv-torch/bin/python scripts/generate_explanation_fixtures.py
"""
import json
import os

import numpy as np
import torch

# torchvision 0.28's C++ ops are not in the CPU wheel index's torch 2.13 build; pytorch-grad-cam
# imports torchvision only for its transforms, so skip registering those ops (see export_torchvision_keys.py).
torch.library.register_fake = lambda *args, **kwargs: (lambda f: f)
import torch.nn as nn  # noqa: E402
from captum.attr import LayerGradCam, NoiseTunnel, Occlusion, Saliency  # noqa: E402
from captum.attr._utils.visualization import _normalize_attr
from pytorch_grad_cam import GradCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "ConvKitTests", "Fixtures", "explanations.safetensors")
torch.manual_seed(20261202)


def model():
    """The ConvKit test builds the same layers in the same order (module paths "0" … "10")."""
    m = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 12, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(12, 16, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 5))
    with torch.no_grad():
        m[10].weight.normal_(0, 2)  # logits spread out, so different inputs have different top classes
        m[10].bias.zero_()
        # batch-norm statistics away from 0/1, so evaluation mode matters
        m[1].running_mean.uniform_(-0.5, 0.5)
        m[1].running_var.uniform_(0.5, 2.0)
        m[1].weight.uniform_(0.5, 1.5)
        m[1].bias.uniform_(-0.2, 0.2)
    return m.eval()


def main():
    net = model()
    # Two inputs with different top classes, so "each sample's top class" is tested.
    candidates = torch.randn(64, 3, 20, 20) * torch.linspace(0.5, 3, 64).view(64, 1, 1, 1) + torch.randn(64, 3, 1, 1)
    top = net(candidates).argmax(dim=1)
    second = int((top != top[0]).nonzero()[0])
    x = torch.stack([candidates[0], candidates[second]])
    tensors = {f"state.{k}": v.detach().clone().contiguous() for k, v in net.state_dict().items()}
    tensors["input"] = x
    refs = {}

    def keep(name, value, note):
        tensors[name] = torch.as_tensor(np.asarray(value), dtype=torch.float32).contiguous()
        refs[name] = note

    top = net(x).argmax(dim=1)
    keep("top", top.float(), "each sample's top class")
    keep("saliency_class3", Saliency(net).attribute(x.clone(), target=3).detach(), "captum Saliency, target 3, abs")
    keep("saliency_top", Saliency(net).attribute(x.clone(), target=top).detach(), "captum Saliency, each sample's top class")
    # The map ConvKit's Explanation draws: captum's visualize_image_attr normalisation (channels summed).
    sal0 = Saliency(net).attribute(x[:1].clone(), target=3).detach()[0].permute(1, 2, 0).numpy()
    keep("saliency_map", _normalize_attr(sal0.sum(axis=2), "absolute_value", 2), "captum _normalize_attr(abs, 2 %) of sample 0")

    for name, window, stride in (("occlusion_w4s2", 4, 2), ("occlusion_w6s4", 6, 4)):
        attr = Occlusion(net).attribute(x, sliding_window_shapes=(3, window, window), strides=(3, stride, stride),
                                        baselines=0.0, target=1, perturbations_per_eval=16)
        keep(name, attr.detach(), f"captum Occlusion window (3, {window}, {window}) strides (3, {stride}, {stride}) baseline 0 target 1")
    occ0 = tensors["occlusion_w4s2"][0].permute(1, 2, 0).numpy()
    keep("occlusion_map", _normalize_attr(occ0.sum(axis=2), "positive", 2), "captum _normalize_attr(positive, 2 %) of sample 0")

    for layer in ("7", "3"):
        raw = LayerGradCam(net, net[int(layer)]).attribute(x, target=2, relu_attributions=True)
        keep(f"gradcam_raw_{layer}", raw.detach()[:, 0], f"captum LayerGradCam(layer {layer}, relu) target 2")
        with GradCAM(model=net, target_layers=[net[int(layer)]]) as cam:
            keep(f"gradcam_{layer}", cam(input_tensor=x, targets=[ClassifierOutputTarget(2)] * 2),
                 f"pytorch-grad-cam GradCAM(layer {layer}) target 2")

    # SmoothGrad draws its own noise, so it is compared in distribution: many samples each.
    s = x[:1].clone()
    sigma = float(0.15 * (s.max() - s.min()))
    tensors["smooth_input"] = s
    sg = NoiseTunnel(Saliency(net)).attribute(s, nt_type="smoothgrad", nt_samples=400, nt_samples_batch_size=50,
                                              stdevs=sigma, target=0)
    keep("smoothgrad_400", sg.detach(), f"captum NoiseTunnel(Saliency) smoothgrad, 400 samples, stdev {sigma:.6f} (0.15 of the range), target 0")

    save_file(tensors, OUT, metadata={"references": json.dumps(refs)})
    print(f"{OUT}: {len(refs)} references, {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
