from torch import nn


class TinySegmenter(nn.Module):
    """An eager-mode segmentation model as TorchServe's image_segmenter reads it: a dict whose `out`
    holds per-pixel scores, here 4 classes from one 3x3 convolution."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, kernel_size=3, padding=1)

    def forward(self, x):
        return {"out": self.conv(x)}
