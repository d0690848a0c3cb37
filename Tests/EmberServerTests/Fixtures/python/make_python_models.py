"""Writes the eager-mode models the Python-worker tests archive into the directory given:
tiny_cnn_state.pt (the state_dict of tiny_cnn.TinyCNN, seed 0) and index_to_name.json;
detector/ (tiny_detector.TinyDetector's state_dict, its class scores biased so that detections pass
the object_detector handler's 0.5 threshold, and labels); text/ (tiny_text.TinyText's state_dict, a
source_vocab.pt of words and bigrams, unknown tokens mapping to 0, and labels); segmenter/
(tiny_segmenter.TinySegmenter's state_dict)."""
import collections
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tiny_cnn import TinyCNN  # noqa: E402
from tiny_detector import TinyDetector  # noqa: E402
from tiny_segmenter import TinySegmenter  # noqa: E402
from tiny_text import TinyText  # noqa: E402

out = sys.argv[1]
torch.manual_seed(0)
torch.save(TinyCNN().state_dict(), os.path.join(out, "tiny_cnn_state.pt"))
with open(os.path.join(out, "index_to_name.json"), "w") as f:
    json.dump({str(i): f"class_{i}" for i in range(10)}, f)

detector_dir = os.path.join(out, "detector")
os.makedirs(detector_dir, exist_ok=True)
torch.manual_seed(0)
detector = TinyDetector()
with torch.no_grad():
    detector.roi_heads.box_predictor.cls_score.weight.zero_()
    detector.roi_heads.box_predictor.cls_score.bias.copy_(torch.tensor([0.0, 8.0, 0.0]))
torch.save(detector.state_dict(), os.path.join(detector_dir, "tiny_detector_state.pt"))
with open(os.path.join(detector_dir, "index_to_name.json"), "w") as f:
    json.dump({"0": "__background__", "1": "thing", "2": "other"}, f)

text_dir = os.path.join(out, "text")
os.makedirs(text_dir, exist_ok=True)
torch.manual_seed(0)
torch.save(TinyText().state_dict(), os.path.join(text_dir, "tiny_text_state.pt"))
words = "the quick brown fox is not slow".split()
tokens = words + [f"{a} {b}" for a, b in zip(words, words[1:])]
torch.save(collections.defaultdict(int, {token: index + 1 for index, token in enumerate(tokens)}),
           os.path.join(text_dir, "source_vocab.pt"))
with open(os.path.join(text_dir, "index_to_name.json"), "w") as f:
    json.dump({"0": "negative", "1": "neutral", "2": "positive"}, f)

segmenter_dir = os.path.join(out, "segmenter")
os.makedirs(segmenter_dir, exist_ok=True)
torch.manual_seed(0)
torch.save(TinySegmenter().state_dict(), os.path.join(segmenter_dir, "tiny_segmenter_state.pt"))
