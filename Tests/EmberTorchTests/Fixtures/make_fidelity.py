#!/usr/bin/python3
"""Regenerates the fidelity fixtures of EmberTorchTests: small image models, test pictures of varied
sizes, aspect ratios and colour modes, and the answers TorchServe's builtin handlers give for them,
computed here with TorchServe's own transforms (PIL + torchvision).

    /usr/bin/python3 Tests/EmberTorchTests/Fixtures/make_fidelity.py
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw
from torchvision import transforms

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGES = os.path.join(HERE, "images")
torch.manual_seed(2024)
rng = np.random.default_rng(11)


class TinyClassifier(torch.nn.Module):
    """ResNet-18-shaped in its interface: [N, 3, 224, 224] -> [N, 10] logits."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 8, 5, stride=4)
        self.conv2 = torch.nn.Conv2d(8, 16, 3, stride=2)
        self.fc = torch.nn.Linear(16 * 4, 10)
        with torch.no_grad():
            self.fc.weight.mul_(8.0)  # spread the probabilities so the top-5 order is meaningful

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.adaptive_avg_pool2d(x, 2).flatten(1)
        return self.fc(x)


class TinySegmenter(torch.nn.Module):
    """torchvision-segmentation-shaped: returns {"out": [N, 4, H/8, W/8]}."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 8, stride=8)

    def forward(self, x: torch.Tensor):
        return {"out": self.conv(x) * 3.0, "aux": x.mean()}


def picture(width, height, seed):
    local = np.random.default_rng(seed)
    base = Image.new("RGB", (width, height), tuple(int(v) for v in local.integers(0, 256, 3)))
    draw = ImageDraw.Draw(base)
    for _ in range(6):
        x0, x1 = sorted(local.integers(0, width, 2).tolist())
        y0, y1 = sorted(local.integers(0, height, 2).tolist())
        colour = tuple(int(v) for v in local.integers(0, 256, 3))
        if local.random() < 0.5:
            draw.ellipse((x0, y0, x1 + 1, y1 + 1), fill=colour)
        else:
            draw.rectangle((x0, y0, x1 + 1, y1 + 1), fill=colour)
    noise = local.integers(-12, 13, size=(height, width, 3))
    return Image.fromarray((np.asarray(base).astype(np.int32) + noise).clip(0, 255).astype(np.uint8))


CASES = [
    ("landscape.jpg", lambda: picture(320, 240, 1), {"quality": 90}),
    ("portrait.png", lambda: picture(240, 320, 2), {}),
    ("wide-gray.jpg", lambda: picture(500, 200, 3).convert("L"), {"quality": 85}),
    ("rgba.png", lambda: rgba(picture(180, 180, 4)), {}),
    ("palette.png", lambda: picture(301, 300, 5).convert("P", palette=Image.ADAPTIVE, colors=32), {}),
    ("exact224.png", lambda: picture(224, 224, 6), {}),
    ("small.jpg", lambda: picture(64, 48, 7), {"quality": 95}),
    ("strip.png", lambda: picture(1000, 60, 8), {}),
    ("gray.png", lambda: picture(256, 300, 9).convert("L"), {}),
]


def rgba(image):
    alpha = Image.fromarray(rng.integers(0, 256, size=(image.height, image.width), dtype=np.uint8))
    image = image.copy()
    image.putalpha(alpha)
    return image


def preprocess(path):
    """TorchServe's image_classifier / image_segmenter preprocessing."""
    image = Image.open(path).convert("RGB")
    return transforms.Compose(
        [
            transforms.Resize(256),
            transforms.CenterCrop(224),
            transforms.ToTensor(),
            transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
        ]
    )(image)


def main():
    os.makedirs(IMAGES, exist_ok=True)
    classifier = TinyClassifier().eval()
    torch.jit.trace(classifier, torch.rand(1, 3, 224, 224)).save(os.path.join(HERE, "tiny_classifier.pt"))
    segmenter = TinySegmenter().eval()
    torch.jit.script(segmenter).save(os.path.join(HERE, "tiny_segmenter.pt"))

    labels = {str(i): (["n%08d" % i, "label_%d" % i] if i % 2 == 0 else "label_%d" % i) for i in range(10)}
    with open(os.path.join(HERE, "index_to_name.json"), "w") as f:
        json.dump(labels, f, indent=1)

    expected = {"classifier": {}, "segmenter": {}}
    for name, make, options in CASES:
        path = os.path.join(IMAGES, name)
        make().save(path, **options)
        batch = preprocess(path).unsqueeze(0)
        with torch.no_grad():
            probabilities = F.softmax(classifier(batch), dim=1)
            values, indices = torch.topk(probabilities, 5)
            segmentation = F.softmax(segmenter(batch)["out"], dim=1)
            seg_values, seg_classes = torch.max(segmentation, dim=1)
        expected["classifier"][name] = [
            [labels[str(int(i))][-1] if isinstance(labels[str(int(i))], list) else labels[str(int(i))], float(v)]
            for v, i in zip(values[0], indices[0])
        ]
        expected["segmenter"][name] = {
            "shape": list(seg_classes.shape[1:]) + [2],
            "classes": seg_classes[0].flatten().tolist(),
            "probabilities": [round(float(v), 6) for v in seg_values[0].flatten()],
        }
        print(name, expected["classifier"][name][0])
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
