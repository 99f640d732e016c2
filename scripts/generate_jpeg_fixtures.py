#!/usr/bin/env python3
"""A JPEG corpus for ConvKit's decoder, with Pillow's decoding of each file as the expected result.

    python scripts/generate_jpeg_fixtures.py Tests/ConvKitTests/Fixtures/jpeg

Each NAME.jpg has NAME.png beside it: what Pillow (libjpeg-turbo) decodes it to, stored losslessly.
Pillow encodes qualities 5–100, 4:4:4/4:2:2/4:2:0, progressive and optimised tables, odd sizes
from 1×1 up, and gray; cjpeg (Debian's libjpeg-turbo-progs) adds what Pillow cannot write:
4:4:0 and 4:1:1 sampling, restart intervals, RGB without a colour transform, and an arithmetic-coded
file (which ConvKit refuses). NAME_oriented.png is the EXIF-transposed picture for files with an
orientation tag. Needs Pillow and cjpeg; the corpus is committed, so tests need neither.
"""
import io
import os
import subprocess
import sys
import tempfile

from PIL import Image, ImageOps

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "images")


def source(name, size, box=None):
    image = Image.open(os.path.join(SHARED, name))
    if box:
        image = image.crop(box)
    return image.resize(size, Image.LANCZOS)


def main(out):
    os.makedirs(out, exist_ok=True)
    files = {}
    rgb = source("astronaut.png", (37, 29), (100, 0, 400, 260)).convert("RGB")
    cat = source("chelsea.png", (48, 40)).convert("RGB")
    gray = source("camera.png", (35, 33)).convert("L")
    for q in (5, 30, 75, 95, 100):
        for sub, label in ((0, "444"), (1, "422"), (2, "420")):
            files[f"q{q}_{label}"] = (rgb, dict(quality=q, subsampling=sub))
    files["progressive_420"] = (cat, dict(quality=80, subsampling=2, progressive=True))
    files["progressive_444_q95"] = (rgb, dict(quality=95, subsampling=0, progressive=True))
    files["progressive_optimized_422"] = (cat, dict(quality=60, subsampling=1, progressive=True, optimize=True))
    files["optimized_420"] = (rgb, dict(quality=85, subsampling=2, optimize=True))
    files["gray_q50"] = (gray, dict(quality=50))
    files["gray_progressive"] = (gray, dict(quality=90, progressive=True))
    for w, h in ((1, 1), (2, 2), (3, 5), (8, 8), (16, 16), (17, 9), (33, 47)):
        files[f"size_{w}x{h}_420"] = (cat.resize((w, h), Image.BILINEAR), dict(quality=90, subsampling=2))
        files[f"size_{w}x{h}_422_progressive"] = (rgb.resize((w, h), Image.BILINEAR), dict(quality=70, subsampling=1, progressive=True))
    for name, (image, options) in files.items():
        image.save(os.path.join(out, name + ".jpg"), "JPEG", **options)

    # EXIF orientation 6 (rotate 90° clockwise to view) and 3.
    for orientation in (3, 6, 8):
        exif = Image.Exif()
        exif[0x0112] = orientation
        cat.save(os.path.join(out, f"exif_orientation_{orientation}.jpg"), "JPEG", quality=90, exif=exif.tobytes())

    # cjpeg for sampling factors, restart intervals and colour transforms Pillow does not write.
    with tempfile.TemporaryDirectory() as tmp:
        ppm = os.path.join(tmp, "in.ppm")
        cat.save(ppm)
        pgm = os.path.join(tmp, "in.pgm")
        gray.save(pgm)
        runs = {
            "cjpeg_440": ["-sample", "1x2"],
            "cjpeg_411": ["-sample", "4x1"],
            "cjpeg_420_restart1": ["-sample", "2x2", "-restart", "1"],
            "cjpeg_444_restart3b": ["-sample", "1x1", "-restart", "3B"],
            "cjpeg_progressive_420_restart2": ["-progressive", "-sample", "2x2", "-restart", "2"],
            "cjpeg_progressive_440": ["-progressive", "-sample", "1x2"],
            "cjpeg_rgb": ["-rgb"],
            "cjpeg_gray_progressive_restart": ["-progressive", "-restart", "1", pgm],
            "cjpeg_q3_411_progressive": ["-quality", "3", "-progressive", "-sample", "4x1"],
            "cjpeg_arithmetic": ["-arithmetic"],
        }
        for name, arguments in runs.items():
            input_file = arguments[-1] if arguments and arguments[-1].endswith(".pgm") else ppm
            arguments = [a for a in arguments if not a.endswith(".pgm")]
            subprocess.run(["cjpeg", "-quality", "85", *arguments, "-outfile", os.path.join(out, name + ".jpg"), input_file], check=True)

    count = 0
    for name in sorted(os.listdir(out)):
        if not name.endswith(".jpg"):
            continue
        path = os.path.join(out, name)
        try:
            with Image.open(path) as image:
                image.load()
                image.save(path[:-4] + ".png")
                transposed = ImageOps.exif_transpose(image)
                if name.startswith("exif_"):
                    transposed.save(path[:-4] + "_oriented.png")
            count += 1
        except OSError as error:
            print(f"{name}: Pillow cannot decode it ({error}); no expected picture", file=sys.stderr)
    print(f"wrote {count} JPEG files with Pillow's decoding to {out}")


if __name__ == "__main__":
    main(sys.argv[1])
