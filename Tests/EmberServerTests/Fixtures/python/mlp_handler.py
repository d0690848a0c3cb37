"""A custom, batch-aware handler over the example MLP (TorchScript, 16 features, 10 classes): each
request is one row or a list of rows; the answer per request is its predictions and probabilities."""
import json

import torch
from ts.torch_handler.base_handler import BaseHandler


class MLPHandler(BaseHandler):
    def preprocess(self, data):
        rows, self.counts = [], []
        for request in data:
            value = request.get("data") or request.get("body")
            if isinstance(value, (bytes, bytearray)):
                value = json.loads(value)
            batch = value if value and isinstance(value[0], list) else [value]
            rows.extend(batch)
            self.counts.append(len(batch))
        return torch.tensor(rows, dtype=torch.float32)

    def postprocess(self, data):
        probabilities = torch.softmax(data, dim=1)
        answers, start = [], 0
        for count in self.counts:
            chunk = probabilities[start:start + count]
            start += count
            answers.append({
                "predictions": chunk.argmax(dim=1).tolist(),
                "probabilities": [[round(p, 6) for p in row] for row in chunk.tolist()],
            })
        return answers
