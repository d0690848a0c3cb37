#!/usr/bin/python3
"""Regenerates the bit-exactness fixtures of EmberTorchTests (ImagePipelineExactnessTests): images
of many sizes and formats made with PIL, and for each the tensor torchvision makes of it, recorded as
the SHA-256 of its float32 bytes (CHW, little-endian) plus sampled values, and the answers of the
tiny classifier and segmenter (tiny_classifier.pt, tiny_segmenter.pt, from make_fidelity.py) on it.

    /usr/bin/python3 Tests/EmberTorchTests/Fixtures/make_pipeline.py
    /usr/bin/python3 Tests/EmberTorchTests/Fixtures/make_pipeline.py --compare TENSOR.f32 IMAGE [PIPELINE]

--compare reloads torchvision's tensor for IMAGE and reports where a float32 dump (what the test
writes when a digest differs) differs from it, with the maximum absolute difference.
"""
import hashlib
import io
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from PIL import Image, ImageDraw
from torchvision import transforms
from torchvision.transforms import InterpolationMode

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "pipeline")
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]

# The pipelines, as torchvision transforms on the PIL image convert("RGB") gives. The Swift test
# builds the same steps as handler specs (ImagePipelineExactnessTests.pipelines).
PIPELINES = {
    # TorchServe's image_classifier and image_segmenter.
    "imagenet": transforms.Compose(
        [transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(), transforms.Normalize(MEAN, STD)]
    ),
    # A handler spec: exact size, bicubic, a crop taller than the image (zero padding), one mean/std.
    "bicubic-pad": transforms.Compose(
        [
            transforms.Resize((300, 200), interpolation=InterpolationMode.BICUBIC),
            transforms.CenterCrop((320, 190)),
            transforms.ToTensor(),
            transforms.Normalize([0.5], [0.25]),
        ]
    ),
    # A handler spec: nearest neighbour, to_float without normalize.
    "nearest": transforms.Compose(
        [
            transforms.Resize(100, interpolation=InterpolationMode.NEAREST),
            transforms.CenterCrop(90),
            transforms.ToTensor(),
        ]
    ),
}

SIZES = {
    "1x1": (1, 1),
    "7x300": (7, 300),
    "224x224": (224, 224),
    "225x225": (225, 225),
    "257x255": (257, 255),
    "333x777": (333, 777),
    "1000x200": (1000, 200),
    "2000x1500": (2000, 1500),
}

# (size, format): every size in several formats, every format at several sizes.
CASES = [
    ("1x1", "png-rgb"), ("1x1", "jpeg-baseline"), ("1x1", "png-p"),
    ("7x300", "png-l"), ("7x300", "jpeg-progressive"), ("7x300", "png-rgba"),
    ("224x224", "jpeg-444"), ("224x224", "png-p"), ("224x224", "jpeg-cmyk"),
    ("225x225", "png-rgba"), ("225x225", "jpeg-baseline"), ("225x225", "png-l"),
    ("257x255", "jpeg-progressive"), ("257x255", "png-rgb"), ("257x255", "jpeg-gray"),
    ("333x777", "jpeg-444"), ("333x777", "png-p"), ("333x777", "jpeg-cmyk"),
    ("1000x200", "png-rgba"), ("1000x200", "jpeg-baseline"), ("1000x200", "jpeg-gray"), ("1000x200", "png-l"),
    ("2000x1500", "jpeg-baseline"), ("2000x1500", "jpeg-progressive"), ("2000x1500", "jpeg-444"),
    ("2000x1500", "png-p"), ("2000x1500", "png-rgb"),
]

# The image_segmenter answers (784 pixels each) are kept for a few cases only.
SEGMENTED = {("7x300", "png-l"), ("333x777", "jpeg-cmyk"), ("2000x1500", "jpeg-progressive")}


def picture(width, height, seed, lossless):
    """Gradients and shapes; fine noise on small images (where every pixel weighs in the resize),
    on large ones smooth (JPEG) or posterized (PNG), so that the files stay small."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    large = width * height > 60_000
    cycles = (0.5, 2.5) if large else (2, 9)
    fx, fy = rng.uniform(*cycles, 3) / max(width, 8), rng.uniform(*cycles, 3) / max(height, 8)
    channels = np.stack([127 + 120 * np.sin(2 * np.pi * (fx[c] * x + fy[c] * y) + c) for c in range(3)], axis=2)
    if large and lossless:
        channels = np.round(channels / 32) * 32
    image = Image.fromarray(channels.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(3 if large else 5):
        x0, x1 = sorted(rng.integers(0, width, 2).tolist())
        y0, y1 = sorted(rng.integers(0, height, 2).tolist())
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1 + 1, y1 + 1), fill=colour)
    if not large:
        noise = rng.integers(-2, 3, size=(height, width, 3))
        image = Image.fromarray((np.asarray(image).astype(np.int32) + noise).clip(0, 255).astype(np.uint8))
    return image


def save(image, form, path):
    if form == "png-rgb":
        image.save(path, optimize=True)
    elif form == "png-rgba":
        w, h = image.size
        alpha = (np.add.outer(np.arange(h), np.arange(w)) * 8 // max(1, w + h - 2) * 32).clip(0, 255).astype(np.uint8)
        rgba = image.copy()
        rgba.putalpha(Image.fromarray(alpha))
        rgba.save(path, optimize=True)
    elif form == "png-l":
        image.convert("L").save(path, optimize=True)
    elif form == "png-p":
        image.convert("P", palette=Image.ADAPTIVE, colors=48).save(path, optimize=True)
    elif form == "jpeg-baseline":
        image.save(path, quality=70)
    elif form == "jpeg-progressive":
        image.save(path, quality=70, progressive=True)
    elif form == "jpeg-444":
        image.save(path, quality=75, subsampling=0)
    elif form == "jpeg-gray":
        image.convert("L").save(path, quality=70)
    elif form == "jpeg-cmyk":
        image.convert("CMYK").save(path, quality=75)
    else:
        raise ValueError(form)


def tensor(path, pipeline):
    with Image.open(path) as opened:
        return PIPELINES[pipeline](opened.convert("RGB"))


def tensor_bytes(t):
    return t.contiguous().numpy().astype("<f4").tobytes()


def labels():
    with open(os.path.join(HERE, "index_to_name.json")) as f:
        mapping = json.load(f)
    return {int(k): (v[-1] if isinstance(v, list) else v) for k, v in mapping.items()}


def compare(dump, image, pipeline="imagenet"):
    reference = tensor(image, pipeline).numpy().astype(np.float32).ravel()
    ours = np.fromfile(dump, dtype="<f4")
    if ours.size != reference.size:
        print(f"sizes differ: {ours.size} elements, torchvision has {reference.size}")
        return 1
    difference = np.abs(ours - reference)
    print(f"{int((difference != 0).sum())} of {reference.size} elements differ; max abs difference {difference.max()}")
    return 0 if difference.max() == 0 else 1


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    classifier = torch.jit.load(os.path.join(HERE, "tiny_classifier.pt")).eval()
    segmenter = torch.jit.load(os.path.join(HERE, "tiny_segmenter.pt")).eval()
    names = labels()
    sample_rng = np.random.default_rng(5)
    cases = []
    for seed, (size, form) in enumerate(CASES):
        width, height = SIZES[size]
        name = f"{size}-{form}." + ("png" if form.startswith("png") else "jpg")
        path = os.path.join(OUT, name)
        save(picture(width, height, 100 + seed, form.startswith("png")), form, path)
        entry = {"file": name, "width": width, "height": height, "format": form, "pipelines": {}}
        for pipeline in PIPELINES:
            t = tensor(path, pipeline)
            flat = t.numpy().ravel()
            samples = sorted(sample_rng.choice(flat.size, size=min(16, flat.size), replace=False).tolist())
            entry["pipelines"][pipeline] = {
                "shape": list(t.shape),
                "sha256": hashlib.sha256(tensor_bytes(t)).hexdigest(),
                "samples": [[i, float(flat[i])] for i in samples],
            }
        batch = tensor(path, "imagenet").unsqueeze(0)
        with torch.no_grad():
            probabilities = F.softmax(classifier(batch), dim=1)
            values, indices = torch.topk(probabilities, 5)
            segmentation = F.softmax(segmenter(batch)["out"], dim=1)
            seg_values, seg_classes = torch.max(segmentation, dim=1)
        entry["top5"] = [[names[int(i)], float(v)] for v, i in zip(values[0], indices[0])]
        if (size, form) in SEGMENTED:
            entry["segmentation"] = {
                "classes": seg_classes[0].flatten().tolist(),
                "probabilities": [float(v) for v in seg_values[0].flatten()],
            }
        cases.append(entry)
        print(f"{name}: {os.path.getsize(path)} bytes, top-1 {entry['top5'][0]}")
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump({"pillow": Image.__version__, "torchvision": torchvision.__version__, "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--compare":
        sys.exit(compare(*sys.argv[2:5]))
    main()
