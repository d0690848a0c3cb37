#!/usr/bin/python3
"""The image pipeline's stages (issue 14): decode, resize, normalize and forward of the ResNet-18
example for a 640x480, a 1920x1080 and a 4000x3000 JPEG, with each stage's share of the request,
and what libjpeg-turbo's DCT scaling (model-config.yaml `jpegDCTScaling: true`) saves and changes.

Runs .build/release/ember-image-bench (in-process, one thread); benchmarks/run.py calls it, or alone:

    /usr/bin/python3 benchmarks/image_pipeline.py [--seconds 4]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
BINARY = os.path.join(ROOT, ".build", "release", "ember-image-bench")
MODEL = os.path.join(ROOT, "examples", "resnet18", "resnet18.pt")
SIZES = [(640, 480), (1920, 1080), (4000, 3000)]


def make_images(directory):
    """Photo-like JPEGs (smooth shading, edges, sensor noise), quality 90, made with PIL."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter

    paths = []
    for width, height in SIZES:
        path = os.path.join(directory, f"photo-{width}x{height}.jpg")
        if not os.path.exists(path):
            rng = np.random.default_rng(width)
            y, x = np.mgrid[0:height, 0:width].astype(np.float32)
            base = np.stack([128 + 100 * np.sin(2 * np.pi * (x / width * f + y / height * g) + c)
                             for c, (f, g) in enumerate(rng.uniform(0.5, 3, (3, 2)))], axis=2)
            image = Image.fromarray(base.clip(0, 255).astype(np.uint8))
            draw = ImageDraw.Draw(image)
            for _ in range(40):
                x0, x1 = sorted(rng.integers(0, width, 2).tolist())
                y0, y1 = sorted(rng.integers(0, height, 2).tolist())
                draw.ellipse((x0, y0, x1, y1), fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
            image = image.filter(ImageFilter.GaussianBlur(2))
            noisy = np.asarray(image).astype(np.int16) + rng.normal(0, 6, (height, width, 3)).astype(np.int16)
            Image.fromarray(noisy.clip(0, 255).astype(np.uint8)).save(path, quality=90)
        paths.append(path)
    return paths


def run(directory, seconds=4.0, binary=BINARY, model=MODEL):
    """One row per image (ember-image-bench's JSON), or one {"kind": "image_pipeline_error"} row."""
    if not os.access(binary, os.X_OK):
        return [{"kind": "image_pipeline_error", "error": f"{binary} is not built"}]
    if not os.path.exists(model):
        return [{"kind": "image_pipeline_error", "error": f"{model} is missing (examples/make_models.py)"}]
    argv = [binary, "--model", model, "--seconds", str(seconds)]
    for path in make_images(directory):
        argv += ["--image", path]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120 + 20 * seconds * len(SIZES), cwd=ROOT)
    rows = []
    for line in done.stdout.splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            pass
    if done.returncode != 0:
        rows.append({"kind": "image_pipeline_error", "error": done.stderr.strip()[-500:]})
    return rows


def table(rows):
    lines = []
    good = [r for r in rows if r.get("kind") == "image_pipeline"]
    if good:
        lines += ["Image pipeline (ResNet-18 example, image_classifier steps, in-process, one thread; "
                  "median ms per image, share of the request):", "",
                  "| JPEG | decode | resize to 256 | crop + normalize | forward | total |", "|---|---|---|---|---|---|"]
        for r in good:
            total = r["total_ms"]
            cells = [f"{r[k]:.2f} ({r[k] / total:.0%})" for k in ("decode_ms", "resize_ms", "normalize_ms", "forward_ms")]
            lines.append(f"| {r['width']}x{r['height']} ({r['bytes'] // 1024} KiB) | " + " | ".join(cells)
                         + f" | {total:.2f} |")
        lines += ["", "With `jpegDCTScaling: true` (decoded at reduced scale in the DCT domain, then the same resize):", "",
                  "| JPEG | scale | decode | resize | total | speed-up | tensor elements changed | max abs change "
                  "| max probability change | top-5 same |", "|---|---|---|---|---|---|---|---|---|---|"]
        for r in good:
            d = r["dct"]
            lines.append(f"| {r['width']}x{r['height']} | {d['scale']} | {d['decode_ms']:.2f} | {d['resize_ms']:.2f} | "
                         f"{d['total_ms']:.2f} | {r['total_ms'] / d['total_ms']:.2f}× | {d['differing_fraction']:.1%} | "
                         f"{d['max_abs_diff']:.3f} | {d['max_probability_change']:.2e} | "
                         f"{'yes' if d['top5_same'] else 'no'} |")
    for r in rows:
        if r.get("kind") == "image_pipeline_error":
            lines.append(f"- image pipeline not measured: {r['error']}")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0, help="seconds per image (default 4)")
    args = parser.parse_args()
    directory = os.path.join(ROOT, "benchmarks", ".work", "images")
    os.makedirs(directory, exist_ok=True)
    print("\n".join(table(run(directory, args.seconds))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
