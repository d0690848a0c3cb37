"""Runs a handler's steps in plain Python, as TorchServe's worker would for one request, and prints the
answer as the worker sends it: run_handler.py <model_dir> <handler> <field> <input file> [content-type]."""
import importlib
import json
import os
import sys

import ts
from ts.context import Context, RequestProcessor
from ts.metrics.metric_cache_yaml_impl import MetricsCacheYamlImpl

model_dir, handler, field, path = sys.argv[1:5]
content_type = sys.argv[5] if len(sys.argv) > 5 else ""
sys.path.insert(0, model_dir)
os.chdir(model_dir)
with open(os.path.join(model_dir, "MAR-INF", "MANIFEST.json")) as f:
    manifest = json.load(f)
with open(path, "rb") as f:
    value = f.read()
if content_type == "application/json":
    value = json.loads(value)
if handler.endswith(".py"):
    module = importlib.import_module(handler[:-3])
    classes = [v for v in vars(module).values() if isinstance(v, type) and v.__module__ == module.__name__]
    service = classes[0]()
else:
    module = importlib.import_module("ts.torch_handler." + handler)
    classes = [v for v in vars(module).values() if isinstance(v, type) and v.__module__ == module.__name__]
    service = classes[-1]()
metrics = MetricsCacheYamlImpl(config_file_path=os.path.join(os.path.dirname(ts.__file__), "configs", "metrics.yaml"))
metrics.initialize_cache()
context = Context(manifest["model"]["modelName"], model_dir, manifest, 1, None, "0.12.0", metrics=metrics,
                  model_yaml_config={})
context.request_processor = [RequestProcessor({})]
service.initialize(context)
answer = service.handle([{field: value}], context)[0]
sys.stdout.write(answer if isinstance(answer, str) else json.dumps(answer, indent=2))
