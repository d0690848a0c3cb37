"""Writes the eager-mode model the Python-worker tests archive: tiny_cnn_state.pt (the state_dict of
tiny_cnn.TinyCNN, seed 0) and index_to_name.json, into the directory given."""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tiny_cnn import TinyCNN  # noqa: E402

out = sys.argv[1]
torch.manual_seed(0)
torch.save(TinyCNN().state_dict(), os.path.join(out, "tiny_cnn_state.pt"))
with open(os.path.join(out, "index_to_name.json"), "w") as f:
    json.dump({str(i): f"class_{i}" for i in range(10)}, f)
