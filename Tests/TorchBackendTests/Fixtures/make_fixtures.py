#!/usr/bin/python3
"""Regenerates the TorchScript fixtures of TorchBackendTests and the outputs they must produce.

Run with Debian's python3 (python3-torch, python3-torchvision):
    /usr/bin/python3 Tests/TorchBackendTests/Fixtures/make_fixtures.py
Writes *.pt and expected.json next to this file. Weights are seeded, so reruns give the same numbers
with the same torch build.
"""
import json
import os
from typing import Dict, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision import transforms

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(1234)


class TinyMLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(4, 8)
        self.fc2 = torch.nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x)))


class TupleOut(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return x * 2, x + 1


class DictOut(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        return {"out": x * 3, "aux": x.sum(dim=1)}


class AddInts(torch.nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a + b


class Throws(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if bool(x.sum() < 0):
            raise ValueError("negative input is not allowed")
        return x


def save(module: torch.nn.Module, name: str) -> None:
    torch.jit.script(module.eval()).save(os.path.join(HERE, name))


def rounded(tensor: torch.Tensor):
    return [round(float(v), 6) for v in tensor.flatten().tolist()]


def main() -> None:
    mlp = TinyMLP().eval()
    save(mlp, "mlp.pt")
    save(TupleOut(), "tuple_out.pt")
    save(DictOut(), "dict_out.pt")
    save(AddInts(), "add_ints.pt")
    save(Throws(), "throws.pt")

    mlp_input = torch.tensor([[0.5, -1.0, 2.0, 0.25], [1.0, 1.0, 1.0, 1.0]])
    with torch.no_grad():
        mlp_output = mlp(mlp_input)
    logits = torch.tensor([[1.0, 3.0, 2.0, 0.5, -1.0], [0.0, -2.0, 4.0, 4.5, 1.0]])
    softmax = F.softmax(logits, dim=1)
    top_values, top_indices = torch.topk(softmax, 3, dim=1)

    # A small deterministic float image, resized with antialias as torchvision's tensor path does.
    image = torch.arange(3 * 6 * 8, dtype=torch.float32).reshape(1, 3, 6, 8) / 100.0
    resized = F.interpolate(image, size=(3, 4), mode="bilinear", align_corners=False, antialias=True)

    # A uint8 RGB image resized through PIL, as TorchServe's image_classifier does.
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, size=(30, 40, 3), dtype=np.uint8)
    pil_resized = transforms.Resize(12)(Image.fromarray(pixels))
    pil_cropped = transforms.CenterCrop(10)(pil_resized)
    with open(os.path.join(HERE, "image30x40.rgb"), "wb") as f:
        f.write(pixels.tobytes())
    classifier_input = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])(
        transforms.ToTensor()(pil_cropped)
    )

    expected = {
        "torch_version": torch.__version__,
        "mlp": {"input": rounded(mlp_input), "shape": list(mlp_output.shape), "output": rounded(mlp_output)},
        "softmax": {"logits": rounded(logits), "output": rounded(softmax)},
        "topk3": {"values": rounded(top_values), "indices": top_indices.flatten().tolist()},
        "resize_aa": {"shape": list(resized.shape), "output": rounded(resized)},
        "pil_resize": {
            "shape": [pil_resized.size[1], pil_resized.size[0], 3],
            "pixels": np.asarray(pil_resized).flatten().tolist(),
        },
        "classifier_input": {"shape": list(classifier_input.shape), "output": rounded(classifier_input)},
    }
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
