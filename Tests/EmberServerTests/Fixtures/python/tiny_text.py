import torch
from torch import nn


class TinyText(nn.Module):
    """An eager-mode text classifier as TorchServe's text_classifier calls it: token ids and offsets
    into a bag of embeddings (the handler's explanations need the `embedding` attribute), 3 classes."""

    def __init__(self):
        super().__init__()
        self.embedding = nn.EmbeddingBag(32, 8, mode="mean")
        self.fc = nn.Linear(8, 3)

    def forward(self, text, offsets):
        return self.fc(self.embedding(text, offsets))
