"""TorchServe handler for Ember's example MLP (16 float features -> 10 classes), used by the benchmark.

Answers each request with {"prediction": index, "probabilities": [10 floats]}, the same body Ember's
declarative MLP handler gives. Batching-aware: TorchServe hands `handle` a list of requests (one per
batch row) and expects one answer per request, in order.

Request body: {"data": [16 floats]} as application/json (TorchServe's worker has already parsed it into
a dict) or as raw bytes/str holding that JSON.
"""
import json

import torch
from ts.torch_handler.base_handler import BaseHandler


class MLPHandler(BaseHandler):
    """TorchScript MLP loaded by BaseHandler.initialize (a .pt file with no model file is torch.jit.load-ed)."""

    @staticmethod
    def _features(row):
        payload = row.get("data")
        if payload is None:
            payload = row.get("body")
        if isinstance(payload, (bytes, bytearray)):
            payload = payload.decode("utf-8")
        if isinstance(payload, str):
            payload = json.loads(payload)
        if isinstance(payload, dict):
            payload = payload.get("data")
        if not isinstance(payload, list) or len(payload) != 16:
            raise ValueError("expected {\"data\": [16 floats]}")
        return [float(x) for x in payload]

    def preprocess(self, data):
        return torch.tensor([self._features(row) for row in data], dtype=torch.float32)

    def inference(self, data, *args, **kwargs):
        with torch.inference_mode():
            return self.model(data.to(self.device))

    def postprocess(self, data):
        probabilities = torch.softmax(data, dim=1)
        predictions = torch.argmax(probabilities, dim=1)
        return [
            {"prediction": int(index), "probabilities": row}
            for index, row in zip(predictions.tolist(), probabilities.tolist())
        ]
