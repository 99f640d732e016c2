#!/usr/bin/env python3
"""Writes the PyTorch references for ConvKit's layers, optimizers and weight interop.

    .venv-torch/bin/python scripts/generate_model_fixtures.py            # committed fixtures
    .venv-torch/bin/python scripts/generate_model_fixtures.py --resnet18 DIR

Committed (Tests/ConvKitTests/Fixtures/):
  optimizers.safetensors   parameters, a gradient per step, and the parameters after each
                           step for SGD (momentum, dampening, Nesterov, weight decay), Adam, AdamW.
  course_cnn_weights.safetensors, course_cnn_io.safetensors
                           the course CNN (nn.Sequential of 004) with PyTorch's default init,
                           saved with safetensors.torch; an input batch and PyTorch's logits.
Generated (too large to commit, ~47 MB; CI writes it before the tests):
  DIR/resnet18_weights.safetensors, DIR/resnet18_io.safetensors
                           ResNet-18 with torchvision's state_dict names, random weights and
                           non-trivial BatchNorm running statistics, an input batch and the
                           eval-mode logits.
"""
import argparse
import json
import os

import torch
import torch.nn as nn
from safetensors.torch import save_file

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "Tests", "ConvKitTests", "Fixtures")


def course_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(32, 32, kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 7 * 7, 128), nn.ReLU(),
        nn.Linear(128, 10))


class BasicBlock(nn.Module):
    """torchvision.models.resnet.BasicBlock, same attribute names."""

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet18(nn.Module):
    """torchvision.models.resnet18, same state_dict names (checked against torchvision below when it imports)."""

    def __init__(self, num_classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inplanes = 64
        for i, planes in enumerate([64, 128, 256, 512]):
            stride = 1 if i == 0 else 2
            setattr(self, f"layer{i + 1}", nn.Sequential(BasicBlock(inplanes, planes, stride), BasicBlock(planes, planes)))
            inplanes = planes
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def check_against_torchvision(model):
    try:
        torch.library.register_fake = lambda *a, **k: (lambda f: f)
        import torchvision
    except Exception as e:  # torchvision is optional
        print(f"torchvision not importable ({type(e).__name__}); skipping the key cross-check")
        return
    reference = torchvision.models.resnet18()
    assert [(k, tuple(v.shape)) for k, v in reference.state_dict().items()] == \
           [(k, tuple(v.shape)) for k, v in model.state_dict().items()], "ResNet18 keys differ from torchvision's"
    print("ResNet-18 state_dict keys match torchvision's")


def optimizer_cases():
    torch.manual_seed(7)
    configs = [
        ("sgd", dict(lr=0.1)),
        ("sgd", dict(lr=0.05, momentum=0.9)),
        ("sgd", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
        ("sgd", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.001)),
        ("adam", dict(lr=1e-2)),
        ("adam", dict(lr=3e-3, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.05)),
        ("adamw", dict(lr=1e-2)),
        ("adamw", dict(lr=2e-3, betas=(0.85, 0.99), weight_decay=0.1)),
    ]
    tensors, cases, steps = {}, [], 5
    for i, (kind, kw) in enumerate(configs):
        p = torch.randn(3, 4).requires_grad_(True)
        tensors[f"{i}.initial"] = p.detach().clone()
        opt = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[kind]([p], **kw)
        for s in range(steps):
            g = torch.randn(3, 4)
            p.grad = g.clone()
            opt.step()
            tensors[f"{i}.grad{s}"] = g
            tensors[f"{i}.after{s}"] = p.detach().clone()
        cases.append({"kind": kind, **{k: (list(v) if isinstance(v, tuple) else v) for k, v in kw.items()}})
    save_file(tensors, os.path.join(FIXTURES, "optimizers.safetensors"),
              metadata={"cases": json.dumps(cases), "steps": str(steps)})


def course_cnn_interop():
    torch.manual_seed(11)
    model = course_cnn().eval()
    x = torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        logits = model(x)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, os.path.join(FIXTURES, "course_cnn_weights.safetensors"))
    save_file({"input": x, "logits": logits}, os.path.join(FIXTURES, "course_cnn_io.safetensors"))


def resnet18_interop(directory):
    torch.manual_seed(13)
    model = ResNet18()
    check_against_torchvision(model)
    for m in model.modules():  # non-trivial batch-norm state, so eval mode really uses it
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
            m.num_batches_tracked.fill_(17)
    model.eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        logits = model(x)
    os.makedirs(directory, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()},
              os.path.join(directory, "resnet18_weights.safetensors"))
    save_file({"input": x, "logits": logits}, os.path.join(directory, "resnet18_io.safetensors"))
    print(f"wrote {directory}/resnet18_weights.safetensors and resnet18_io.safetensors")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--resnet18", metavar="DIR", help="write only the ResNet-18 interop files to DIR")
    args = parser.parse_args()
    if args.resnet18:
        resnet18_interop(args.resnet18)
    else:
        optimizer_cases()
        course_cnn_interop()
