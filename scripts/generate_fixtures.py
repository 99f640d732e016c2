#!/usr/bin/env python3
"""Writes ConvKit's PyTorch oracle fixtures to Tests/ConvKitTests/Fixtures/.

Each file is a safetensors container. Its ``__metadata__["cases"]`` is a JSON list of
cases; case ``i`` stores its tensors as ``"{i}.input"``, ``"{i}.weight"``, ``"{i}.output"``,
``"{i}.grad_input"`` ... Inputs are float32 values; references are computed by PyTorch in
float64 from those same values, then stored as float32.

Usage (CI does not need this; the fixtures are committed):
    python3 -m venv .venv-torch && .venv-torch/bin/pip install torch==2.13.0+cpu safetensors
    .venv-torch/bin/python scripts/generate_fixtures.py
"""
import json
import os
import random

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "ConvKitTests", "Fixtures")
rng = random.Random(20261121)
torch.manual_seed(20261121)


def randn(*shape, scale=1.0):
    return (torch.randn(list(shape)) * scale).to(torch.float32).to(torch.float64).requires_grad_(True)


class Writer:
    def __init__(self, name):
        self.name, self.cases, self.tensors = name, [], {}

    def add(self, params, **tensors):
        i = len(self.cases)
        self.cases.append(params)
        for k, v in tensors.items():
            if v is None:
                continue
            v = v.detach()
            self.tensors[f"{i}.{k}"] = v.to(torch.int64 if k == "indices" else torch.float32).contiguous()

    def save(self):
        path = os.path.join(OUT, self.name + ".safetensors")
        save_file(self.tensors, path, metadata={"cases": json.dumps(self.cases)})
        print(f"{path}: {len(self.cases)} cases, {os.path.getsize(path)} bytes")


def grads(out, *inputs):
    """Backward with a random upstream gradient; returns it and the input gradients."""
    g = torch.randn_like(out).to(torch.float32).to(torch.float64)
    out.backward(g)
    return g, [None if t is None or t.grad is None else t.grad for t in inputs]


# ---------------------------------------------------------------- convolution
def conv_case(w, rank, n, c, k, groups, kernel, size, stride, dilation, padding, mode, bias, unbatched=False):
    x = randn(*([c] if unbatched else [n, c]), *size)
    weight = randn(k, c // groups, *kernel, scale=0.5)
    b = randn(k) if bias else None
    conv = F.conv1d if rank == 1 else F.conv2d
    if padding == "same" and mode == "zeros":
        out = conv(x, weight, b, stride, "same", dilation, groups)
    elif padding == "valid":
        out = conv(x, weight, b, stride, "valid", dilation, groups)
    else:
        if padding == "same":
            total = [d * (kk - 1) for d, kk in zip(dilation, kernel)]
            before, after = [t // 2 for t in total], [t - t // 2 for t in total]
        else:
            before, after = padding["before"], padding["after"]
        if mode == "zeros" and before == after:
            out = conv(x, weight, b, stride, tuple(before), dilation, groups)
        else:
            pads = []
            for bb, aa in zip(reversed(before), reversed(after)):
                pads += [bb, aa]
            xp = F.pad(x, pads, mode="constant" if mode == "zeros" else mode)
            out = conv(xp, weight, b, stride, 0, dilation, groups)
    g, (gx, gw, gb) = grads(out, x, weight, b)
    w.add({"rank": rank, "stride": list(stride), "dilation": list(dilation), "groups": groups,
           "padding": padding, "mode": mode, "bias": bias, "unbatched": unbatched},
          input=x, weight=weight, bias=b, output=out, grad_output=g, grad_input=gx, grad_weight=gw, grad_bias=gb)


def conv_fixtures():
    w = Writer("conv")
    # PyTorch's own edge cases.
    conv_case(w, 2, 2, 4, 4, 2, [3, 3], [17, 16], [3, 3], [4, 4], {"before": [0, 0], "after": [0, 0]}, "zeros", True)
    conv_case(w, 2, 1, 2, 3, 1, [2, 3], [9, 11], [1, 1], [2, 3], {"before": [1, 1], "after": [1, 1]}, "zeros", True)
    conv_case(w, 2, 2, 3, 2, 1, [3, 3], [7, 8], [1, 2], [1, 1], {"before": [0, 2], "after": [1, 0]}, "zeros", True)
    conv_case(w, 2, 1, 2, 3, 1, [2, 4], [10, 9], [1, 1], [3, 3], "same", "zeros", True)
    conv_case(w, 1, 2, 3, 2, 1, [4], [12], [1], [3], "same", "zeros", False)
    conv_case(w, 2, 2, 3, 6, 3, [3, 3], [6, 7], [1, 1], [1, 1], {"before": [1, 1], "after": [1, 1]}, "zeros", True)
    conv_case(w, 2, 1, 3, 4, 1, [3, 3], [5, 6], [1, 1], [1, 1], {"before": [1, 1], "after": [1, 1]}, "zeros", True, True)
    conv_case(w, 1, 1, 3, 4, 1, [3], [8], [2], [1], {"before": [1], "after": [1]}, "zeros", True, True)
    conv_case(w, 2, 2, 2, 3, 1, [3, 3], [6, 6], [1, 1], [1, 1], "valid", "zeros", False)
    conv_case(w, 2, 1, 4, 8, 1, [1, 1], [5, 5], [1, 1], [1, 1], {"before": [0, 0], "after": [0, 0]}, "zeros", True)
    for mode in ["reflect", "replicate", "circular"]:
        conv_case(w, 2, 2, 2, 3, 1, [3, 3], [6, 5], [1, 1], [1, 1], "same", mode, True)
        conv_case(w, 1, 2, 2, 3, 1, [3], [7], [2], [1], {"before": [2], "after": [1]}, mode, False)
        conv_case(w, 2, 1, 2, 2, 2, [2, 3], [6, 7], [2, 1], [2, 1], {"before": [1, 2], "after": [2, 1]}, mode, True)
    # A randomised sweep.
    for _ in range(36):
        rank = rng.choice([1, 2, 2])
        groups = rng.choice([1, 1, 2, 3])
        c, k = groups * rng.randint(1, 3), groups * rng.randint(1, 3)
        kernel = [rng.randint(1, 4) for _ in range(rank)]
        dilation = [rng.randint(1, 3) for _ in range(rank)]
        mode = rng.choice(["zeros", "zeros", "reflect", "replicate", "circular"])
        if rng.random() < 0.25:
            stride, padding = [1] * rank, "same"
        else:
            stride = [rng.randint(1, 3) for _ in range(rank)]
            before = [rng.randint(0, 2) for _ in range(rank)]
            after = before if rng.random() < 0.6 else [rng.randint(0, 2) for _ in range(rank)]
            padding = {"before": before, "after": after}
        pads = [dilation[a] * (kernel[a] - 1) for a in range(rank)]
        size = [max(rng.randint(3, 9), pads[a] + 1, 3) for a in range(rank)]
        conv_case(w, rank, rng.randint(1, 2), c, k, groups, kernel, size, stride, dilation, padding, mode,
                  rng.random() < 0.7, rng.random() < 0.1)
    w.save()


def conv_transpose_fixtures():
    w = Writer("conv_transpose")
    for _ in range(24):
        rank = rng.choice([1, 2, 2])
        groups = rng.choice([1, 1, 2])
        cin, cout = groups * rng.randint(1, 3), groups * rng.randint(1, 3)
        kernel = [rng.randint(1, 4) for _ in range(rank)]
        stride = [rng.randint(1, 3) for _ in range(rank)]
        dilation = [rng.randint(1, 2) for _ in range(rank)]
        padding = [rng.randint(0, (dilation[a] * (kernel[a] - 1)) // 2) for a in range(rank)]
        output_padding = [rng.randint(0, max(stride[a], dilation[a]) - 1) for a in range(rank)]
        size = [rng.randint(2, 6) for _ in range(rank)]
        bias = rng.random() < 0.7
        x = randn(rng.randint(1, 2), cin, *size)
        weight = randn(cin, cout // groups, *kernel, scale=0.5)
        b = randn(cout) if bias else None
        f = F.conv_transpose1d if rank == 1 else F.conv_transpose2d
        out = f(x, weight, b, stride, padding, output_padding, groups, dilation)
        g, (gx, gw, gb) = grads(out, x, weight, b)
        w.add({"rank": rank, "stride": stride, "padding": padding, "output_padding": output_padding,
               "dilation": dilation, "groups": groups, "bias": bias},
              input=x, weight=weight, bias=b, output=out, grad_output=g, grad_input=gx, grad_weight=gw, grad_bias=gb)
    w.save()


# ---------------------------------------------------------------- pooling and padding
def pool_fixtures():
    w = Writer("pool")

    def maxp(rank, size, kernel, stride, padding, dilation, ceil):
        x = randn(2, 3, *size)
        f = F.max_pool1d if rank == 1 else F.max_pool2d
        out, idx = f(x, kernel, stride, padding, dilation, ceil_mode=ceil, return_indices=True)
        g, (gx,) = grads(out, x)
        w.add({"op": "max", "rank": rank, "kernel": kernel, "stride": stride, "padding": padding,
               "dilation": dilation, "ceil_mode": ceil},
              input=x, output=out, indices=idx, grad_output=g, grad_input=gx)

    def avgp(rank, size, kernel, stride, padding, ceil, include, divisor):
        x = randn(2, 3, *size)
        if rank == 1:
            out = F.avg_pool1d(x, kernel, stride, padding, ceil, include)
        else:
            out = F.avg_pool2d(x, kernel, stride, padding, ceil, include, divisor)
        g, (gx,) = grads(out, x)
        w.add({"op": "avg", "rank": rank, "kernel": kernel, "stride": stride, "padding": padding,
               "ceil_mode": ceil, "count_include_pad": include, "divisor_override": divisor},
              input=x, output=out, grad_output=g, grad_input=gx)

    def adaptive(rank, size, out_size):
        x = randn(2, 2, *size)
        f = F.adaptive_avg_pool1d if rank == 1 else F.adaptive_avg_pool2d
        out = f(x, out_size)
        g, (gx,) = grads(out, x)
        w.add({"op": "adaptive_avg", "rank": rank, "output_size": out_size},
              input=x, output=out, grad_output=g, grad_input=gx)

    maxp(2, [4, 4], [2, 2], [2, 2], [0, 0], [1, 1], False)
    maxp(2, [7, 6], [3, 3], [2, 2], [1, 1], [1, 1], True)
    maxp(2, [8, 9], [2, 3], [1, 2], [1, 1], [2, 2], False)
    maxp(2, [5, 5], [2, 2], [2, 2], [0, 1], [1, 1], True)
    maxp(1, [11], [3], [2], [1], [2], True)
    maxp(1, [9], [2], [3], [0], [1], False)
    avgp(2, [4, 4], [2, 2], [2, 2], [0, 0], False, True, None)
    avgp(2, [7, 6], [3, 3], [2, 2], [1, 1], True, True, None)
    avgp(2, [7, 6], [3, 3], [2, 2], [1, 1], True, False, None)
    avgp(2, [6, 7], [3, 2], [2, 1], [1, 1], False, True, 5)
    avgp(2, [5, 5], [2, 2], [2, 2], [1, 1], True, True, None)
    avgp(1, [10], [3], [2], [1], True, False, None)
    avgp(1, [10], [4], [3], [2], False, True, None)
    adaptive(2, [7, 5], [3, 2])
    adaptive(2, [6, 6], [1, 1])
    adaptive(2, [5, 9], [4, 4])
    adaptive(1, [10], [3])
    w.save()


def pad_fixtures():
    w = Writer("pad")
    for mode in ["zeros", "reflect", "replicate", "circular"]:
        for rank, size, before, after in [(1, [6], [2], [3]), (2, [4, 5], [1, 3], [2, 0]), (2, [3, 3], [2, 1], [1, 2])]:
            value = 0.5 if mode == "zeros" else 0.0
            x = randn(2, 2, *size)
            pads = []
            for b, a in zip(reversed(before), reversed(after)):
                pads += [b, a]
            out = F.pad(x, pads, mode="constant" if mode == "zeros" else mode,
                        value=value if mode == "zeros" else None)
            g, (gx,) = grads(out, x)
            w.add({"mode": mode, "before": before, "after": after, "value": value},
                  input=x, output=out, grad_output=g, grad_input=gx)
    w.save()


# ---------------------------------------------------------------- elementwise, losses, norms
def activation_fixtures():
    w = Writer("activation")
    fns = {
        "relu": F.relu, "relu6": F.relu6, "leaky_relu": lambda t: F.leaky_relu(t, 0.1),
        "sigmoid": torch.sigmoid, "tanh": torch.tanh, "gelu": F.gelu,
        "gelu_tanh": lambda t: F.gelu(t, approximate="tanh"), "silu": F.silu,
        "softmax1": lambda t: F.softmax(t, 1), "log_softmax1": lambda t: F.log_softmax(t, 1),
        "softmax_last": lambda t: F.softmax(t, -1), "log_softmax_last": lambda t: F.log_softmax(t, -1),
    }
    for name, f in fns.items():
        x = randn(2, 3, 4, scale=4.0)
        out = f(x)
        g, (gx,) = grads(out, x)
        w.add({"op": name}, input=x, output=out, grad_output=g, grad_input=gx)
    w.save()


def loss_fixtures():
    w = Writer("loss")
    for shape, smoothing, reduction in [([5, 4], 0.0, "mean"), ([5, 4], 0.1, "mean"), ([3, 6], 0.2, "sum"),
                                        ([4, 3], 0.0, "none"), ([2, 3, 2, 2], 0.0, "mean"), ([2, 4, 3], 0.15, "none")]:
        x = randn(*shape, scale=2.0)
        targets = torch.randint(0, shape[1], [shape[0]] + shape[2:])
        out = F.cross_entropy(x, targets, reduction=reduction, label_smoothing=smoothing)
        g, (gx,) = grads(out, x)
        w.add({"op": "cross_entropy", "label_smoothing": smoothing, "reduction": reduction},
              input=x, targets=targets.to(torch.float64), output=out, grad_output=g, grad_input=gx)
    for reduction in ["mean", "sum"]:
        x = randn(4, 5)
        logp = F.log_softmax(x, 1).detach().requires_grad_(True)
        targets = torch.randint(0, 5, [4])
        out = F.nll_loss(logp, targets, reduction=reduction)
        g, (gx,) = grads(out, logp)
        w.add({"op": "nll", "reduction": reduction}, input=logp, targets=targets.to(torch.float64), output=out,
              grad_output=g, grad_input=gx)
        x, t = randn(3, 4), randn(3, 4)
        out = F.mse_loss(x, t, reduction=reduction)
        g, (gx, gt) = grads(out, x, t)
        w.add({"op": "mse", "reduction": reduction}, input=x, target=t, output=out, grad_output=g, grad_input=gx,
              grad_target=gt)
    w.save()


def norm_fixtures():
    w = Writer("norm")
    for shape, training, affine in [([4, 3, 5, 5], True, True), ([4, 3, 5, 5], False, True), ([6, 4], True, True),
                                    ([3, 2, 7], True, False), ([3, 2, 7], False, False)]:
        c = shape[1]
        x = randn(*shape, scale=2.0)
        with torch.no_grad():
            x += 0.5
        rm0, rv0 = torch.randn(c, dtype=torch.float64) * 0.1, torch.rand(c, dtype=torch.float64) + 0.5
        rm0, rv0 = rm0.float().double(), rv0.float().double()
        rm, rv = rm0.clone(), rv0.clone()
        weight, bias = (randn(c), randn(c)) if affine else (None, None)
        out = F.batch_norm(x, rm, rv, weight, bias, training, 0.1, 1e-5)
        g, (gx, gw, gb) = grads(out, x, weight, bias)
        w.add({"op": "batch_norm", "training": training, "affine": affine, "momentum": 0.1, "eps": 1e-5},
              input=x, running_mean=rm0, running_var=rv0, running_mean_after=rm, running_var_after=rv,
              weight=weight, bias=bias, output=out, grad_output=g, grad_input=gx, grad_weight=gw, grad_bias=gb)
    for shape, normalized in [([2, 3, 4], [4]), ([2, 3, 4], [3, 4])]:
        x, weight, bias = randn(*shape, scale=2.0), randn(*normalized), randn(*normalized)
        out = F.layer_norm(x, normalized, weight, bias, 1e-5)
        g, (gx, gw, gb) = grads(out, x, weight, bias)
        w.add({"op": "layer_norm", "normalized_shape": normalized, "eps": 1e-5},
              input=x, weight=weight, bias=bias, output=out, grad_output=g, grad_input=gx, grad_weight=gw, grad_bias=gb)
    # ConvNeXt's channels-first LayerNorm, written as in its reference implementation.
    x, weight, bias = randn(2, 4, 3, 3, scale=2.0), randn(4), randn(4)
    u = x.mean(1, keepdim=True)
    s = (x - u).pow(2).mean(1, keepdim=True)
    out = weight[:, None, None] * ((x - u) / torch.sqrt(s + 1e-6)) + bias[:, None, None]
    g, (gx, gw, gb) = grads(out, x, weight, bias)
    w.add({"op": "layer_norm_channels", "eps": 1e-6}, input=x, weight=weight, bias=bias, output=out,
          grad_output=g, grad_input=gx, grad_weight=gw, grad_bias=gb)
    w.save()


def basic_fixtures():
    w = Writer("basic")
    for a_shape, b_shape in [([3, 4], [4, 5]), ([2, 3, 4], [2, 4, 2])]:
        a, b = randn(*a_shape), randn(*b_shape)
        out = torch.matmul(a, b)
        g, (ga, gb) = grads(out, a, b)
        w.add({"op": "matmul"}, a=a, b=b, output=out, grad_output=g, grad_a=ga, grad_b=gb)
    for x_shape in [[4, 6], [2, 3, 6]]:
        x, weight, bias = randn(*x_shape), randn(5, 6), randn(5)
        out = F.linear(x, weight, bias)
        g, (gx, gw, gb) = grads(out, x, weight, bias)
        w.add({"op": "linear"}, input=x, weight=weight, bias=bias, output=out, grad_output=g,
              grad_input=gx, grad_weight=gw, grad_bias=gb)
    for op, f in [("add", torch.add), ("sub", torch.sub), ("mul", torch.mul), ("div", torch.div)]:
        for a_shape, b_shape in [([2, 3, 4], [2, 3, 4]), ([2, 3, 4], [4]), ([2, 1, 4], [3, 1]), ([2, 3, 1, 1], [])]:
            a, b = randn(*a_shape), randn(*b_shape)
            if op == "div":
                with torch.no_grad():
                    b.copy_(b.sign() * (b.abs() + 0.5))
            out = f(a, b)
            g, (ga, gb) = grads(out, a, b)
            w.add({"op": op}, a=a, b=b, output=out, grad_output=g, grad_a=ga, grad_b=gb)
    for op, axes, keep in [("sum", [1], False), ("sum", [0, 2], True), ("mean", [2], False), ("mean", None, False)]:
        x = randn(2, 3, 4)
        out = (x.sum if op == "sum" else x.mean)(*([axes] if axes is not None else []), **({"keepdim": keep} if axes is not None else {}))
        g, (gx,) = grads(out, x)
        w.add({"op": op, "axes": axes, "keep_dims": keep}, input=x, output=out, grad_output=g, grad_input=gx)
    w.save()


def attention_fixtures():
    """scaled_dot_product_attention, nn.MultiheadAttention and a small torchvision ViT."""
    w = Writer("attention")
    # (q, k, v shapes, mask kind, causal, scale)
    for qs, ks, vs, mask, causal, scale in [
        ([2, 3, 4, 8], [2, 3, 5, 8], [2, 3, 5, 6], None, False, None),
        ([2, 3, 4, 8], [2, 3, 5, 8], [2, 3, 5, 6], "bool", False, None),
        ([2, 3, 4, 8], [2, 3, 5, 8], [2, 3, 5, 6], "float", False, 0.5),
        ([2, 4, 8], [2, 4, 8], [2, 4, 8], None, True, None),
        ([3, 5], [6, 5], [6, 2], "bool", False, None),
    ]:
        q, k, v = randn(*qs), randn(*ks), randn(*vs)
        m = None
        if mask == "bool":
            m = torch.rand(qs[-2], ks[-2]) > 0.3
            m[:, 0] = True  # every query sees at least one key
        elif mask == "float":
            m = randn(qs[-2], ks[-2]).detach()
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=m, is_causal=causal, scale=scale)
        g, (gq, gk, gv) = grads(out, q, k, v)
        w.add({"op": "sdpa", "mask": mask, "causal": causal, "scale": scale}, q=q, k=k, v=v,
              mask=None if m is None else m.to(torch.float64), output=out, grad_output=g, grad_q=gq, grad_k=gk, grad_v=gv)
    # nn.MultiheadAttention: (embed, heads, bias, batch_first, query, key length, padding mask, attn mask, average)
    for embed, heads, bias, batch_first, lq, lk, padding, attn, average in [
        (8, 2, True, True, 5, 5, False, None, True),
        (8, 2, True, False, 4, 6, True, None, True),
        (6, 3, False, True, 4, 4, False, "causal", False),
        (8, 4, True, True, 3, 5, False, "float", True),
    ]:
        n = 2
        mha = torch.nn.MultiheadAttention(embed, heads, bias=bias, batch_first=batch_first).double()
        with torch.no_grad():
            for p_ in mha.parameters():
                p_.copy_(torch.randn_like(p_).float().double() * 0.5)
        qshape = [n, lq, embed] if batch_first else [lq, n, embed]
        kshape = [n, lk, embed] if batch_first else [lk, n, embed]
        query = randn(*qshape)
        key = query if lq == lk and not padding else randn(*kshape)
        value = key if key is query else randn(*kshape)
        kpm = None
        if padding:
            kpm = torch.zeros(n, lk, dtype=torch.bool)
            kpm[1, -2:] = True  # the last two keys of the second sequence are padding
        am = None
        if attn == "causal":
            am = torch.triu(torch.ones(lq, lk, dtype=torch.bool), diagonal=1)  # True = not allowed
        elif attn == "float":
            am = randn(lq, lk).detach()
        out, weights = mha(query, key, value, key_padding_mask=kpm, need_weights=True, attn_mask=am,
                           average_attn_weights=average)
        inputs = [query] + ([key] if key is not query else []) + ([value] if value is not key else [])
        params = dict(mha.named_parameters())
        g, gs = grads(out, *inputs, *params.values())
        gin, gparams = gs[:len(inputs)], gs[len(inputs):]
        tensors = {"query": query, "output": out, "weights": weights, "grad_output": g, "grad_query": gin[0]}
        if key is not query:
            tensors.update(key=key, grad_key=gin[1])
        if value is not key:
            tensors.update(value=value, grad_value=gin[2])
        if kpm is not None:
            tensors["key_padding_mask"] = kpm.to(torch.float64)
        if am is not None:
            tensors["attn_mask"] = am.to(torch.float64)
        for name, p_ in params.items():
            tensors["param." + name] = p_
            tensors["grad." + name] = gparams[list(params).index(name)]
        w.add({"op": "mha", "embed": embed, "heads": heads, "bias": bias, "batch_first": batch_first,
               "self": key is query, "same_kv": value is key, "attn_mask": attn, "average": average}, **tensors)
    w.save()

    # A small torchvision VisionTransformer (same code as vit_b_16, smaller sizes): state dict, input, logits.
    torch.library.register_fake = lambda *a, **k: (lambda f: f)  # see export_torchvision_keys.py
    from torchvision.models.vision_transformer import VisionTransformer
    vit = VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=24,
                            num_classes=5).double().eval()
    with torch.no_grad():
        for p_ in vit.parameters():
            p_.copy_(torch.randn_like(p_).float().double() * 0.3)
    x = randn(2, 3, 32, 32)
    logits = vit(x)
    tensors = {"state." + k: v.detach().to(torch.float32).contiguous() for k, v in vit.state_dict().items()}
    tensors.update(input=x.detach().float(), output=logits.detach().float())
    save_file(tensors, os.path.join(OUT, "vit_small.safetensors"),
              metadata={"config": json.dumps({"image_size": 32, "patch_size": 8, "num_layers": 2, "num_heads": 2,
                                              "hidden_dim": 16, "mlp_dim": 24, "num_classes": 5})})
    print("vit_small.safetensors")


def three_d_fixtures():
    """3-D convolution, transposed convolution, pooling and batch norm (volumes, clips)."""
    w = Writer("three_d")
    for groups, stride, padding, dilation, mode in [(1, [1, 2, 1], [1, 0, 1], [1, 1, 2], "zeros"), (2, 1, 1, 1, "reflect"),
                                                    (1, 2, 1, 1, "circular"), (2, [2, 1, 1], [0, 1, 1], 1, "replicate")]:
        conv = torch.nn.Conv3d(4, 6, (3, 2, 3), stride=stride, padding=padding, dilation=dilation, groups=groups,
                               padding_mode=mode).double()
        with torch.no_grad():
            for p_ in conv.parameters():
                p_.copy_(torch.randn_like(p_).float().double() * 0.5)
        x = randn(2, 4, 5, 6, 7)
        out = conv(x)
        g, (gx, gw, gb) = grads(out, x, conv.weight, conv.bias)
        w.add({"op": "conv3d", "groups": groups, "stride": stride, "padding": padding, "dilation": dilation, "mode": mode},
              input=x, weight=conv.weight, bias=conv.bias, output=out, grad_output=g, grad_input=gx, grad_weight=gw, grad_bias=gb)
    for groups, stride, padding, output_padding, dilation in [(1, [2, 1, 2], [0, 1, 1], [1, 0, 0], 1), (2, 2, 1, 1, 2)]:
        x, weight, bias = randn(2, 4, 3, 4, 3), randn(4, 6 // groups, 2, 3, 2, scale=0.5), randn(6)
        out = F.conv_transpose3d(x, weight, bias, stride=stride, padding=padding, output_padding=output_padding,
                                 groups=groups, dilation=dilation)
        g, (gx, gw, gb) = grads(out, x, weight, bias)
        w.add({"op": "conv_transpose3d", "groups": groups, "stride": stride, "padding": padding,
               "output_padding": output_padding, "dilation": dilation},
              input=x, weight=weight, bias=bias, output=out, grad_output=g, grad_input=gx, grad_weight=gw, grad_bias=gb)
    for kernel, stride, padding, dilation, ceil in [([2, 3, 2], [2, 2, 1], [1, 1, 0], [1, 1, 2], True), (3, 2, 1, 1, False)]:
        x = randn(2, 3, 6, 7, 8)
        out, indices = F.max_pool3d(x, kernel, stride, padding, dilation, ceil_mode=ceil, return_indices=True)
        g, (gx,) = grads(out, x)
        w.add({"op": "max_pool3d", "kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation, "ceil": ceil},
              input=x, output=out, indices=indices, grad_output=g, grad_input=gx)
    for kernel, stride, padding, ceil, include, divisor in [(3, 2, 1, True, False, None), ([2, 3, 2], [1, 2, 2], 0, False, True, 5)]:
        x = randn(2, 3, 6, 7, 8)
        out = F.avg_pool3d(x, kernel, stride, padding, ceil_mode=ceil, count_include_pad=include, divisor_override=divisor)
        g, (gx,) = grads(out, x)
        w.add({"op": "avg_pool3d", "kernel": kernel, "stride": stride, "padding": padding, "ceil": ceil,
               "count_include_pad": include, "divisor": divisor}, input=x, output=out, grad_output=g, grad_input=gx)
    x = randn(2, 3, 5, 7, 6)
    out = F.adaptive_avg_pool3d(x, (2, 3, 4))
    g, (gx,) = grads(out, x)
    w.add({"op": "adaptive_avg_pool3d", "output_size": [2, 3, 4]}, input=x, output=out, grad_output=g, grad_input=gx)
    x, weight, bias = randn(3, 4, 2, 3, 3, scale=2.0), randn(4), randn(4)
    rm, rv = torch.zeros(4, dtype=torch.float64), torch.ones(4, dtype=torch.float64)
    out = F.batch_norm(x, rm, rv, weight, bias, True, 0.1, 1e-5)
    g, (gx, gw, gb) = grads(out, x, weight, bias)
    w.add({"op": "batch_norm3d"}, input=x, weight=weight, bias=bias, output=out, running_mean_after=rm, running_var_after=rv,
          grad_output=g, grad_input=gx, grad_weight=gw, grad_bias=gb)
    w.save()


def layer_fixtures():
    """torch.nn's other CNN layers: activations, PReLU, GroupNorm, InstanceNorm, LRN, pixel shuffle, padding."""
    w = Writer("layers")
    fns = {
        "elu": lambda t: F.elu(t, 0.7), "selu": F.selu, "celu": lambda t: F.celu(t, 1.3), "hardswish": F.hardswish,
        "hardsigmoid": F.hardsigmoid, "hardtanh": lambda t: F.hardtanh(t, -0.5, 2.0), "mish": F.mish,
        "softplus": lambda t: F.softplus(t, 2.0, 3.0),
    }
    for name, f in fns.items():
        x = randn(2, 3, 4, scale=4.0)
        out = f(x)
        g, (gx,) = grads(out, x)
        w.add({"op": name}, input=x, output=out, grad_output=g, grad_input=gx)
    for channels in [1, 3]:
        x, weight = randn(2, 3, 4, 5), randn(channels, scale=0.5)
        out = F.prelu(x, weight)
        g, (gx, gw) = grads(out, x, weight)
        w.add({"op": "prelu"}, input=x, weight=weight, output=out, grad_output=g, grad_input=gx, grad_weight=gw)
    for groups, affine in [(2, True), (1, True), (4, False)]:
        x = randn(2, 4, 3, 5, scale=2.0)
        weight, bias = (randn(4), randn(4)) if affine else (None, None)
        out = F.group_norm(x, groups, weight, bias, 1e-5)
        g, (gx, gw, gb) = grads(out, x, weight, bias)
        w.add({"op": "group_norm", "groups": groups}, input=x, weight=weight, bias=bias, output=out, grad_output=g,
              grad_input=gx, grad_weight=gw, grad_bias=gb)
    for affine, shape in [(False, [2, 3, 4, 5]), (True, [2, 3, 7])]:
        x = randn(*shape, scale=2.0)
        weight, bias = (randn(3), randn(3)) if affine else (None, None)
        out = F.instance_norm(x, weight=weight, bias=bias, eps=1e-5)
        g, (gx, gw, gb) = grads(out, x, weight, bias)
        w.add({"op": "instance_norm"}, input=x, weight=weight, bias=bias, output=out, grad_output=g,
              grad_input=gx, grad_weight=gw, grad_bias=gb)
    for size, alpha, beta, k in [(3, 1e-2, 0.75, 1.0), (4, 0.5, 0.6, 2.0)]:
        x = randn(2, 6, 3, 4, scale=2.0)
        out = F.local_response_norm(x, size, alpha, beta, k)
        g, (gx,) = grads(out, x)
        w.add({"op": "local_response_norm", "size": size, "alpha": alpha, "beta": beta, "k": k},
              input=x, output=out, grad_output=g, grad_input=gx)
    x = randn(2, 8, 3, 2)
    out = F.pixel_shuffle(x, 2)
    g, (gx,) = grads(out, x)
    w.add({"op": "pixel_shuffle", "r": 2}, input=x, output=out, grad_output=g, grad_input=gx)
    for name, module in [("zero", torch.nn.ZeroPad2d((1, 2, 0, 1))), ("constant", torch.nn.ConstantPad2d((2, 0, 1, 1), 0.5)),
                         ("reflection", torch.nn.ReflectionPad2d((1, 2, 0, 1))), ("replication", torch.nn.ReplicationPad2d((2, 1, 3, 0)))]:
        x = randn(2, 3, 4, 5)
        out = module(x)
        g, (gx,) = grads(out, x)
        w.add({"op": "pad2d", "kind": name, "padding": list(module.padding)}, input=x, output=out, grad_output=g, grad_input=gx)
    w.save()
    w = Writer("upsample")
    for size, scale, mode, align in [(None, 2.0, "nearest", None), ([7, 4], None, "nearest", None), (None, 1.5, "nearest", None),
                                     (None, 2.0, "bilinear", False), (None, 2.0, "bilinear", True), ([7, 9], None, "bilinear", False),
                                     ([7, 9], None, "bilinear", True), (None, 1.7, "bilinear", False), ([2, 3], None, "bilinear", False)]:
        x = randn(2, 3, 4, 5)
        out = F.interpolate(x, size=size, scale_factor=scale, mode=mode, align_corners=align)
        g, (gx,) = grads(out, x)
        w.add({"op": "upsample", "size": size, "scale": scale, "mode": mode, "align_corners": bool(align)},
              input=x, output=out, grad_output=g, grad_input=gx)
    w.save()


def segmentation_fixtures():
    """Per-pixel cross-entropy with ignore_index, and the soft Dice loss written out in torch."""
    w = Writer("segmentation")
    for ignore, reduction, smoothing in [(-100, "mean", 0.0), (255, "sum", 0.0), (255, "mean", 0.1), (3, "none", 0.0)]:
        x = randn(2, 4, 3, 5, scale=2.0)
        t = torch.randint(0, 4, (2, 3, 5))
        t[0, 0, :2] = ignore
        t[1, 2, 4] = ignore
        out = F.cross_entropy(x, t, ignore_index=ignore, reduction=reduction, label_smoothing=smoothing)
        g, (gx,) = grads(out, x)
        w.add({"op": "cross_entropy", "ignore_index": ignore, "reduction": reduction, "label_smoothing": smoothing},
              input=x, targets=t.to(torch.float64), output=out, grad_output=g, grad_input=gx)
    for smooth in [1.0, 0.0]:
        x = randn(2, 3, 4, 4, scale=2.0)
        t = torch.randint(0, 3, (2, 4, 4))
        p = F.softmax(x, 1)
        y = F.one_hot(t, 3).permute(0, 3, 1, 2).to(torch.float64)
        inter, total = (p * y).sum((0, 2, 3)), p.sum((0, 2, 3)) + y.sum((0, 2, 3))
        out = 1 - ((2 * inter + smooth) / (total + smooth)).mean()
        g, (gx,) = grads(out, x)
        w.add({"op": "dice", "smooth": smooth}, input=x, targets=t.to(torch.float64), output=out, grad_output=g, grad_input=gx)
    w.save()


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    conv_fixtures()
    conv_transpose_fixtures()
    pool_fixtures()
    pad_fixtures()
    activation_fixtures()
    loss_fixtures()
    norm_fixtures()
    basic_fixtures()
    attention_fixtures()
    three_d_fixtures()
    layer_fixtures()
    segmentation_fixtures()
