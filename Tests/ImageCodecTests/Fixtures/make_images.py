#!/usr/bin/python3
"""Regenerates the ImageCodec fixtures: small JPEG/PNG files in several colour modes and, for each,
the RGB bytes PIL's Image.open(...).convert("RGB") gives (what TorchServe's handlers see).

    /usr/bin/python3 Tests/ImageCodecTests/Fixtures/make_images.py
"""
import os
import struct
import zlib

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(3)


RESAMPLING = {
    "nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC, "box": Image.BOX,
    "hamming": Image.HAMMING, "lanczos": Image.LANCZOS,
}
RESIZES = [(50, 7), (5, 40), (1, 1), (33, 64)]


def gradient(width, height):
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :].repeat(height, 0)
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None].repeat(width, 1)
    noise = rng.integers(0, 40, size=(height, width))
    return np.stack([x, y, (x + y) / 2 + noise], axis=2).clip(0, 255).astype(np.uint8)


def save(image, name, **options):
    path = os.path.join(HERE, name)
    image.save(path, **options)
    rgb = Image.open(path).convert("RGB")
    with open(path + ".rgb", "wb") as f:
        f.write(np.asarray(rgb).tobytes())
    print(name, image.mode, image.size)


def main():
    rgb = Image.fromarray(gradient(33, 21))
    save(rgb, "rgb.jpg", quality=85)
    save(rgb, "rgb.png")
    save(rgb.convert("L"), "gray.jpg", quality=90)
    save(rgb.convert("L"), "gray.png")
    rgba = rgb.copy()
    rgba.putalpha(Image.fromarray(rng.integers(0, 256, size=(21, 33), dtype=np.uint8)))
    save(rgba, "rgba.png")
    save(rgb.convert("P", palette=Image.ADAPTIVE, colors=16), "palette.png")
    save(rgb.convert("CMYK"), "cmyk.jpg", quality=90)
    save(rgb, "progressive.jpg", quality=85, progressive=True)
    # PIL's resize of the decoded RGB image with each filter, up and down on each axis.
    decoded = Image.open(os.path.join(HERE, "rgb.png")).convert("RGB")
    for name, resample in RESAMPLING.items():
        for width, height in RESIZES:
            out = decoded.resize((width, height), resample)
            with open(os.path.join(HERE, f"resized-{name}-{width}x{height}.rgb"), "wb") as f:
                f.write(np.asarray(out).tobytes())
    # EXIF orientation 6 ("rotate 90"): PIL does not apply it on open, nor does TorchServe.
    exif = Image.Exif()
    exif[0x0112] = 6
    save(rgb, "exif-rotated.jpg", quality=85, exif=exif.tobytes())

    # A decompression bomb: the header claims 50000 x 50000 pixels.
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 50000, 50000, 8, 2, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b"")
    with open(os.path.join(HERE, "bomb.png"), "wb") as f:
        f.write(bomb)


if __name__ == "__main__":
    main()
