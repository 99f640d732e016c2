#!/usr/bin/env python3
"""PyTorch checkpoints for ConvKit's reader (Sources/ConvKit/IO/PyTorch), written by torch itself.

    python scripts/generate_checkpoint_fixtures.py --small Tests/ConvKitTests/Fixtures/checkpoints
        Small files, committed: a conv/batch-norm/linear state dict in both containers (zip and
        _use_new_zipfile_serialization=False), wrapped ({"model_state_dict": ...}), DataParallel
        keys ("module."), F16/BF16 copies; tensors sharing one storage, non-contiguous views and every
        dtype; hostile files (a pickle calling os.system, builtins.eval, an unknown opcode, a truncated
        archive, a storage shorter than declared, a zip bomb). expected.json has every tensor's values.
    python scripts/generate_checkpoint_fixtures.py --zoo Tests/ConvKitTests/Fixtures/generated/checkpoints
        Too large to commit (CI runs it): zoo models from torchvision with random weights and
        non-trivial batch-norm statistics, in both containers, bare and wrapped, one in F16, with
        PyTorch's logits for a fixed input (<name>_io.safetensors).
"""
import argparse
import io
import json
import os
import pickle
import struct
import zipfile

import torch
import torch.nn as nn


def small_model():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 5))
    with torch.no_grad():
        net[1].running_mean.uniform_(-1, 1)
        net[1].running_var.uniform_(0.5, 2)
        net[1].num_batches_tracked.fill_(7)
    return net


def values(t):
    """Every element as a Python number (bools as 0/1), in row-major order."""
    return [float(v) for v in t.detach().reshape(-1).to(torch.float64 if t.is_floating_point() else torch.int64).tolist()]


def describe(state):
    dtypes = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64", torch.int64: "I64",
              torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL"}
    return [{"name": k, "dtype": dtypes[v.dtype], "shape": list(v.shape), "values": values(v)} for k, v in state.items()]


def zip_checkpoint(pickle_bytes, storages):
    """A torch-style zip archive holding a hand-made data.pkl (for hostile files)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pickle_bytes)
        z.writestr("archive/byteorder", "little")
        for key, data in storages.items():
            z.writestr(f"archive/data/{key}", data)
        z.writestr("archive/version", "3\n")
    return buffer.getvalue()


class Call:
    """Pickles as a call of `function(*arguments)`: what a malicious checkpoint does."""
    def __init__(self, function, arguments):
        self.function, self.arguments = function, arguments

    def __reduce__(self):
        return (self.function, self.arguments)


def small(out):
    os.makedirs(out, exist_ok=True)
    expected = {}
    state = small_model().state_dict()

    def save(name, obj, legacy=False, describe_state=None):
        torch.save(obj, os.path.join(out, name), _use_new_zipfile_serialization=not legacy)
        expected[name] = describe(describe_state if describe_state is not None else obj)

    save("small_zip.pth", state)
    save("small_legacy.pth", state, legacy=True)
    save("small_wrapped.pt", {"epoch": 3, "model_state_dict": state, "optimizer": {"lr": 0.1}}, describe_state=state)
    save("small_dataparallel.pth", {"module." + k: v for k, v in state.items()}, describe_state=state)
    half = {k: (v.half() if v.is_floating_point() else v) for k, v in state.items()}
    save("small_fp16.pth", half)
    save("small_bf16_legacy.pth", {k: (v.bfloat16() if v.is_floating_point() else v) for k, v in state.items()}, legacy=True)

    # One storage behind several tensors, views with offsets and strides, every dtype.
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 8 - 1
    mixed = {
        "base": base, "transposed": base.t(), "strided": base[1:, ::2], "row": base[2], "expanded": base[0, :1].expand(3, 2),
        "f64": torch.linspace(-2, 2, 5, dtype=torch.float64), "i64": torch.tensor([-(2 ** 40), -1, 0, 2 ** 40]),
        "i32": torch.tensor([-5, 7], dtype=torch.int32), "i16": torch.tensor([-300, 300], dtype=torch.int16),
        "i8": torch.tensor([-128, 127], dtype=torch.int8), "u8": torch.tensor([0, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]), "scalar": torch.tensor(2.5), "empty": torch.zeros(0, 3),
    }
    save("views_zip.pth", mixed)
    save("views_legacy.pth", mixed, legacy=True)

    # Hostile files: each must be refused with a clear error and nothing run.
    marker = "/tmp/convkit-pickle-executed"
    hostile = {
        "os_system.pth": zip_checkpoint(pickle.dumps(Call(os.system, (f"touch {marker}",)), protocol=2), {}),
        "eval.pth": zip_checkpoint(pickle.dumps(Call(eval, ("1+1",)), protocol=2), {}),
        "posix_system.pth": zip_checkpoint(b"\x80\x02cposix\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03.", {}),
        "unknown_opcode.pth": zip_checkpoint(b"\x80\x02}q\x00\xff.", {}),
        "inst_opcode.pth": zip_checkpoint(b"(iposix\nsystem\nX\x04\x00\x00\x00true.", {}),
        "model_object.pth": zip_checkpoint(pickle.dumps(Call(nn.Linear, (2, 3)), protocol=2), {}),
    }
    # A storage shorter than its persistent id declares: write a real checkpoint, then drop bytes.
    buffer = io.BytesIO()
    torch.save({"w": torch.ones(16)}, buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as z:
        entries = {i.filename: z.read(i.filename) for i in z.infolist()}
    short = io.BytesIO()
    with zipfile.ZipFile(short, "w", zipfile.ZIP_STORED) as z:
        for name, data in entries.items():
            z.writestr(name, data[:16] if "/data/" in name else data)
    hostile["short_storage.pth"] = short.getvalue()
    hostile["truncated.pth"] = buffer.getvalue()[: len(buffer.getvalue()) // 2]
    legacy = io.BytesIO()
    torch.save({"w": torch.ones(16)}, legacy, _use_new_zipfile_serialization=False)
    hostile["truncated_legacy.pth"] = legacy.getvalue()[:-20]
    # A zip bomb: a deflated storage whose directory declares 4 GB.
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/data.pkl", entries[next(n for n in entries if n.endswith("data.pkl"))])
        z.writestr("archive/data/0", b"\0" * 65536)
    data = bytearray(bomb.getvalue())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(signature)
        while at >= 0:
            name_length = struct.unpack_from("<H", data, at + (26 if signature == b"PK\x03\x04" else 28))[0]
            name = data[at + (30 if signature == b"PK\x03\x04" else 46):][:name_length]
            if name == b"archive/data/0":
                struct.pack_into("<I", data, at + offset, 0xFFFFFFF0)
            at = data.find(signature, at + 4)
    hostile["zip_bomb.pth"] = bytes(data)
    for name, data in hostile.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=0, sort_keys=True)
    print(f"wrote {len(expected)} checkpoints and {len(hostile)} hostile files to {out}")


ZOO = ["resnet18", "mobilenet_v2", "efficientnet_b0", "densenet121", "googlenet", "convnext_tiny", "alexnet", "vit_b_16"]
# A second copy of each in the legacy container or wrapped ({"state_dict": {"module.…": …}}); AlexNet
# (244 MB, the same layer types as VGG) only once.
LEGACY = {"resnet18", "efficientnet_b0", "googlenet", "convnext_tiny"}
WRAPPED = {"mobilenet_v2", "densenet121"}


def zoo(out):
    # torchvision's compiled detection ops are not needed; a wheel built for another torch fails
    # to register them at import time, so skip that step (as export_torchvision_keys.py does).
    torch.library.register_fake = lambda *args, **kwargs: (lambda f: f)
    import torchvision.models as models
    from safetensors.torch import save_file
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    x = torch.randn(2, 3, 64, 64)
    for name in ZOO:
        kwargs = {"aux_logits": False, "init_weights": False} if name == "googlenet" else {}
        net = getattr(models, name)(**kwargs).eval()
        with torch.no_grad():
            for m in net.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.running_mean.uniform_(-0.2, 0.2)
                    m.running_var.uniform_(0.5, 1.5)
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.2, 0.2)
            # A ViT takes the image size it was built for only.
            inputs = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(1)) if name.startswith("vit") else x
            logits = net(inputs)
        state = net.state_dict()
        torch.save(state, os.path.join(out, f"{name}.pth"))
        save_file({"input": inputs.contiguous(), "logits": logits.contiguous()}, os.path.join(out, f"{name}_io.safetensors"))
        if name in LEGACY:
            torch.save(state, os.path.join(out, f"{name}_legacy.pth"), _use_new_zipfile_serialization=False)
        elif name in WRAPPED:
            torch.save({"epoch": 1, "state_dict": {"module." + k: v for k, v in state.items()}},
                       os.path.join(out, f"{name}_wrapped.pth"))
        if name == "resnet18":
            torch.save({k: (v.half() if v.is_floating_point() else v) for k, v in state.items()}, os.path.join(out, "resnet18_fp16.pth"))
            half = {k: (v.half().float() if v.is_floating_point() else v) for k, v in state.items()}
            net.load_state_dict(half)
            with torch.no_grad():
                save_file({"input": x.contiguous(), "logits": net(x).contiguous()}, os.path.join(out, "resnet18_fp16_io.safetensors"))
        print(f"{name}: saved")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--small")
    parser.add_argument("--zoo")
    args = parser.parse_args()
    if args.small:
        small(args.small)
    if args.zoo:
        zoo(args.zoo)
