#!/usr/bin/python3
"""Makes Ember's example models with random (seeded) weights; nothing is downloaded.

Run with Debian's python3 (python3-torch, python3-torchvision):
    /usr/bin/python3 examples/make_models.py
Writes:
    examples/mlp/mlp.pt                   MLP classifier: 16 float features -> 10 classes (TorchScript)
    examples/mlp/sample.json              one request body for it
    examples/resnet18/resnet18.pt         ResNet-18-shaped image classifier: 3x224x224 -> 1000 classes (traced)
    examples/resnet18/index_to_name.json  class index -> ["wnid", "label"], as ImageNet's mapping file
    examples/resnet18/sample.jpg          a generated test picture
"""
import json
import os

import torch
import torchvision
from PIL import Image, ImageDraw

HERE = os.path.dirname(os.path.abspath(__file__))


class MLP(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = torch.nn.Sequential(
            torch.nn.Linear(16, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


def make_mlp() -> None:
    torch.manual_seed(16)
    model = MLP().eval()
    torch.jit.script(model).save(os.path.join(HERE, "mlp", "mlp.pt"))
    sample = [round(0.1 * i - 0.8, 2) for i in range(16)]
    with open(os.path.join(HERE, "mlp", "sample.json"), "w") as f:
        json.dump({"data": sample}, f)
        f.write("\n")


def make_resnet18() -> None:
    torch.manual_seed(18)
    model = torchvision.models.resnet18(weights=None, num_classes=1000).eval()
    with torch.no_grad():
        traced = torch.jit.trace(model, torch.rand(1, 3, 224, 224))
    traced.save(os.path.join(HERE, "resnet18", "resnet18.pt"))
    labels = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    with open(os.path.join(HERE, "resnet18", "index_to_name.json"), "w") as f:
        json.dump(labels, f)
    picture = Image.new("RGB", (320, 240), (40, 90, 160))
    draw = ImageDraw.Draw(picture)
    draw.ellipse((90, 50, 230, 190), fill=(230, 180, 40))
    draw.rectangle((20, 180, 300, 230), fill=(30, 140, 60))
    picture.save(os.path.join(HERE, "resnet18", "sample.jpg"), quality=90)


if __name__ == "__main__":
    make_mlp()
    make_resnet18()
    print("example models written under", HERE)
