#!/usr/bin/env python3
"""Writes PNG test images covering the format's variants and the pixel values they hold.

Each image is encoded here by hand (so that every colour type, bit depth, all five row
filters and Adam7 interlacing are exercised, which common encoders do not produce), then
decoded by Pillow as an independent check. Expected values are stored as float32 planes
(C, H, W) scaled to [0, 1], palette images expanded to RGB(A).

    .venv-torch/bin/python scripts/generate_png_fixtures.py
"""
import os
import random
import struct
import zlib

import numpy as np
from PIL import Image
from safetensors.numpy import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "ConvKitTests", "Fixtures", "png")
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
rng = random.Random(5)


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def pack_row(samples, depth):
    if depth == 8:
        return bytes(samples)
    if depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    out, acc, bits = bytearray(), 0, 0
    for s in samples:
        acc, bits = (acc << depth) | s, bits + depth
        if bits == 8:
            out.append(acc)
            acc, bits = 0, 0
    if bits:
        out.append(acc << (8 - bits))
    return bytes(out)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def filter_rows(rows, bpp):
    out, prev = bytearray(), bytes(len(rows[0])) if rows else b""
    for i, row in enumerate(rows):
        kind = i % 5
        out.append(kind)
        for x in range(len(row)):
            a = row[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            predictor = [0, a, b, (a + b) // 2, paeth(a, b, c)][kind]
            out.append((row[x] - predictor) & 0xFF)
        prev = row
    return bytes(out)


def encode(pixels, color, depth, interlace, palette=None, trns=None):
    h, w, _ = pixels.shape
    ch = CHANNELS[color]
    bpp = max(1, ch * depth // 8)
    raw = b""
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    for x0, y0, dx, dy in passes:
        rows = []
        for y in range(y0, h, dy):
            samples = [int(v) for x in range(x0, w, dx) for v in pixels[y, x]]
            if samples:
                rows.append(pack_row(samples, depth))
        if rows:
            raw += filter_rows(rows, bpp)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color, 0, 0, interlace))
    if palette is not None:
        data += chunk(b"PLTE", bytes(np.array(palette, dtype=np.uint8).flatten()))
    if trns is not None:
        data += chunk(b"tRNS", bytes(trns))
    compressed = zlib.compress(raw, 9)
    half = len(compressed) // 2  # two IDAT chunks, as the format allows
    data += chunk(b"IDAT", compressed[:half]) + chunk(b"IDAT", compressed[half:]) + chunk(b"IEND", b"")
    return data


def main():
    os.makedirs(OUT, exist_ok=True)
    expected = {}
    cases = [(0, d) for d in (1, 2, 4, 8, 16)] + [(2, 8), (2, 16), (3, 1), (3, 2), (3, 4), (3, 8), (4, 8), (4, 16), (6, 8), (6, 16)]
    for color, depth in cases:
        for interlace in (0, 1):
            w, h = rng.choice([(13, 11), (1, 1), (9, 3), (17, 20)]) if interlace else (13, 11)
            name = f"c{color}_d{depth}_{'adam7' if interlace else 'plain'}"
            maxv = (1 << depth) - 1
            palette = trns = None
            if color == 3:
                n = 1 << depth
                palette = [[rng.randrange(256) for _ in range(3)] for _ in range(n)]
                trns = [rng.randrange(256) for _ in range(n // 2)] if depth >= 2 else None
            pixels = np.array([[[rng.randint(0, maxv) for _ in range(CHANNELS[color])] for _ in range(w)] for _ in range(h)])
            data = encode(pixels, color, depth, interlace, palette, trns)
            path = os.path.join(OUT, name + ".png")
            with open(path, "wb") as f:
                f.write(data)
            if color == 3:
                pal = np.array(palette, dtype=np.float32) / 255
                values = pal[pixels[..., 0]]
                if trns is not None:
                    alpha = np.ones(len(palette), dtype=np.float32)
                    alpha[:len(trns)] = np.array(trns) / 255
                    values = np.concatenate([values, alpha[pixels[..., 0]][..., None]], axis=2)
            else:
                values = pixels.astype(np.float32) / maxv
            # Independent check with Pillow (8-bit modes; it reduces 16-bit colour to 8 bits).
            with Image.open(path) as im:
                im.load()
                if depth == 8 and color in (0, 2, 4, 6):
                    assert np.array_equal(np.asarray(im).reshape(h, w, -1), pixels), name
            expected[name] = np.ascontiguousarray(values.transpose(2, 0, 1)).astype(np.float32)
    save_file(expected, os.path.join(OUT, "expected.safetensors"))
    print(f"wrote {len(expected)} PNG files to {OUT}")


if __name__ == "__main__":
    main()
