"""Drives a running Ember with Triton's own client (tritonclient[http]) and perf_analyzer.

Run by OIPClientTests (Swift) with the project's Python environment (scripts/install-python-env.sh):
    python oip_client.py --url 127.0.0.1:PORT --fixtures DIR [--perf-analyzer]

The expected answers are the models' own outputs, computed here with PyTorch from the same
TorchScript files Ember serves. Prints one line per check, then a summary line; exits 1 if any
check failed.
"""
import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import traceback

import numpy as np
import torch
import tritonclient.http as httpclient
from PIL import Image
from tritonclient.utils import InferenceServerException

from client_checks import close, expect, mlp_rows, perf_analyzer_runs

CHECKS = []


def check(name):
    def register(function):
        CHECKS.append((name, function))
        return function

    return register


class Context:
    def __init__(self, url, fixtures, perf_analyzer):
        self.url = url
        self.client = httpclient.InferenceServerClient(url=url)
        self.fixtures = fixtures
        self.perf_analyzer = perf_analyzer
        self.mlp = torch.jit.load(os.path.join(fixtures, "example_mlp.pt")).eval()
        self.classifier = torch.jit.load(os.path.join(fixtures, "tiny_classifier.pt")).eval()
        self.image_path = os.path.join(fixtures, "landscape.jpg")
        with open(os.path.join(fixtures, "index_to_name.json")) as f:
            self.labels = json.load(f)

    def raw(self, method, path, body=None, headers=None):
        host, port = self.url.split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, data, dict(response.getheaders())


def mlp_expected(ctx, rows):
    with torch.no_grad():
        return ctx.mlp(torch.from_numpy(rows)).numpy()


def preprocess(path):
    """image_classifier's pipeline as torchvision does it on a PIL image: Resize(256), CenterCrop(224),
    ToTensor, Normalize."""
    image = Image.open(path).convert("RGB")
    width, height = image.size
    if width <= height:
        size = (256, int(256 * height / width))
    else:
        size = (int(256 * width / height), 256)
    image = image.resize(size, Image.BILINEAR)
    width, height = image.size
    top = int(round((height - 224) / 2.0))
    left = int(round((width - 224) / 2.0))
    image = image.crop((left, top, left + 224, top + 224))
    array = np.asarray(image, dtype=np.float32) / 255.0
    mean = np.array([0.485, 0.456, 0.406], dtype=np.float32)
    std = np.array([0.229, 0.224, 0.225], dtype=np.float32)
    return ((array - mean) / std).transpose(2, 0, 1)[None].astype(np.float32)


def infer_mlp(ctx, rows, binary_in, binary_out, request_id=""):
    tensor = httpclient.InferInput("x", list(rows.shape), "FP32")
    tensor.set_data_from_numpy(rows, binary_data=binary_in)
    outputs = [httpclient.InferRequestedOutput("output__0", binary_data=binary_out)]
    return ctx.client.infer("example_mlp", [tensor], outputs=outputs, request_id=request_id)


# MARK: Server and model documents


@check("server live and ready")
def _(ctx):
    expect(ctx.client.is_server_live(), "not live")
    expect(ctx.client.is_server_ready(), "not ready")
    expect(ctx.client.is_model_ready("example_mlp"), "example_mlp not ready")


@check("server metadata lists the binary tensor extension")
def _(ctx):
    metadata = ctx.client.get_server_metadata()
    expect(metadata["name"] == "ember", metadata)
    expect("binary_tensor_data" in metadata["extensions"], metadata)


@check("model metadata: input from forward's schema and the spec, outputs from the warm-up")
def _(ctx):
    metadata = ctx.client.get_model_metadata("example_mlp")
    expect(metadata["name"] == "example_mlp" and metadata["versions"] == ["1.0"], metadata)
    expect(metadata["inputs"] == [{"name": "x", "datatype": "FP32", "shape": [-1, 16]}], metadata["inputs"])
    expect(metadata["outputs"] == [{"name": "output__0", "datatype": "FP32", "shape": [-1, 10]}], metadata["outputs"])
    image = ctx.client.get_model_metadata("classifier")
    expect(image["inputs"][0]["shape"] == [-1, 3, 224, 224], image["inputs"])


@check("model configuration: batching, instances, dims without the batch dimension")
def _(ctx):
    config = ctx.client.get_model_config("example_mlp")
    expect(config["max_batch_size"] == 8, config)
    expect(config["input"][0]["dims"] == [16] and config["input"][0]["data_type"] == "TYPE_FP32", config["input"])
    expect(config["output"][0]["dims"] == [10], config["output"])
    expect(config["dynamic_batching"]["max_queue_delay_microseconds"] == 5000, config["dynamic_batching"])
    expect(config["instance_group"][0]["count"] >= 1, config["instance_group"])


# MARK: Inference


@check("JSON tensors in and out equal the model's own output")
def _(ctx):
    rows = mlp_rows(3, 1)
    result = infer_mlp(ctx, rows, binary_in=False, binary_out=False)
    close(result.as_numpy("output__0"), mlp_expected(ctx, rows))


@check("binary tensors in and out equal the model's own output")
def _(ctx):
    rows = mlp_rows(2, 2)
    result = infer_mlp(ctx, rows, binary_in=True, binary_out=True)
    close(result.as_numpy("output__0"), mlp_expected(ctx, rows))


@check("the request id is echoed, and the version answered")
def _(ctx):
    response = infer_mlp(ctx, mlp_rows(1, 3), True, True, request_id="req-42").get_response()
    expect(response["id"] == "req-42" and response["model_version"] == "1.0", response)


@check("a versioned infer answers that version")
def _(ctx):
    rows = mlp_rows(1, 4)
    tensor = httpclient.InferInput("x", [1, 16], "FP32")
    tensor.set_data_from_numpy(rows)
    result = ctx.client.infer("example_mlp", [tensor], model_version="1.0")
    close(result.as_numpy("output__0"), mlp_expected(ctx, rows))


@check("classification extension: the top classes as score:index:label")
def _(ctx):
    rows = mlp_rows(2, 5)
    tensor = httpclient.InferInput("x", [2, 16], "FP32")
    tensor.set_data_from_numpy(rows)
    output = httpclient.InferRequestedOutput("output__0", class_count=3)
    answer = ctx.client.infer("example_mlp", [tensor], outputs=[output]).as_numpy("output__0")
    expected = mlp_expected(ctx, rows)
    expect(answer.shape == (2, 3), answer.shape)
    for row in range(2):
        indices = [int(entry.decode().split(":")[1]) for entry in answer[row]]
        expect(indices == list(np.argsort(-expected[row])[:3]), (indices, expected[row]))
    name = ctx.client.get_model_metadata("classifier")["inputs"][0]["name"]
    image = httpclient.InferInput(name, [1, 3, 224, 224], "FP32")
    image.set_data_from_numpy(preprocess(ctx.image_path))
    label_answer = ctx.client.infer(
        "classifier", [image], outputs=[httpclient.InferRequestedOutput("output__0", class_count=1)]
    ).as_numpy("output__0")
    top = label_answer[0][0].decode().split(":")
    label = ctx.labels[top[1]]
    expect(len(top) == 3 and top[2] == (label[-1] if isinstance(label, list) else label), top)


@check("an image model takes an FP32 tensor as its model input")
def _(ctx):
    pixels = preprocess(ctx.image_path)
    name = ctx.client.get_model_metadata("classifier")["inputs"][0]["name"]
    tensor = httpclient.InferInput(name, list(pixels.shape), "FP32")
    tensor.set_data_from_numpy(pixels)
    result = ctx.client.infer("classifier", [tensor])
    with torch.no_grad():
        expected = ctx.classifier(torch.from_numpy(pixels)).numpy()
    close(result.as_numpy("output__0"), expected, atol=1e-4)


@check("an image model takes BYTES of an encoded image through its image pipeline")
def _(ctx):
    with open(ctx.image_path, "rb") as f:
        encoded = f.read()
    name = ctx.client.get_model_metadata("classifier")["inputs"][0]["name"]
    tensor = httpclient.InferInput(name, [1], "BYTES")
    tensor.set_data_from_numpy(np.array([encoded], dtype=np.object_))
    result = ctx.client.infer("classifier", [tensor])
    with torch.no_grad():
        expected = ctx.classifier(torch.from_numpy(preprocess(ctx.image_path))).numpy()
    # JPEG decoding and resizing match PIL's to within a grey level here and there (the fidelity tests
    # allow 0.02 on probabilities), so the logits agree to 1e-2 and the class exactly.
    close(result.as_numpy("output__0"), expected, atol=1e-2)
    expect(int(np.argmax(result.as_numpy("output__0"))) == int(np.argmax(expected)), "another class")


@check("OIP and /predictions requests share the model's queue, each answered right")
def _(ctx):
    failures = []

    def oip(seed):
        try:
            rows = mlp_rows(1, seed)
            client = httpclient.InferenceServerClient(url=ctx.url)
            tensor = httpclient.InferInput("x", [1, 16], "FP32")
            tensor.set_data_from_numpy(rows)
            close(client.infer("example_mlp", [tensor]).as_numpy("output__0"), mlp_expected(ctx, rows))
        except Exception as error:  # noqa: BLE001 - collected and reported
            failures.append(f"oip {seed}: {error}")

    def predictions(seed):
        try:
            rows = mlp_rows(1, seed)
            status, body, _ = ctx.raw("POST", "/predictions/example_mlp", json.dumps({"data": rows[0].tolist()}),
                                      {"Content-Type": "application/json"})
            expect(status == 200, body)
            expect(json.loads(body)["prediction"] == int(np.argmax(mlp_expected(ctx, rows)[0])), body)
        except Exception as error:  # noqa: BLE001
            failures.append(f"predictions {seed}: {error}")

    threads = [threading.Thread(target=oip if i % 2 else predictions, args=(100 + i,)) for i in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expect(not failures, failures)
    stats = ctx.client.get_inference_statistics("example_mlp")["model_stats"][0]
    expect(stats["inference_count"] >= 24 and stats["inference_stats"]["success"]["count"] >= 24, stats)
    expect(stats["inference_stats"]["queue"]["ns"] > 0 and stats["inference_stats"]["compute_infer"]["ns"] > 0, stats)


# MARK: Bad input: a 400 in the protocol's shape, and the server keeps serving


def infer_raw(ctx, header, binary=b"", header_length=None, model="example_mlp"):
    body = json.dumps(header).encode()
    headers = {"Content-Type": "application/octet-stream" if binary or header_length is not None else "application/json"}
    if binary or header_length is not None:
        headers["Inference-Header-Content-Length"] = str(len(body) if header_length is None else header_length)
    return ctx.raw("POST", f"/v2/models/{model}/infer", body + binary, headers)


def expect_400(answer, words):
    status, body, _ = answer
    expect(status == 400, f"status {status}: {body[:300]}")
    message = json.loads(body)["error"]
    for word in words:
        expect(word in message, f"{word!r} not in {message!r}")


@check("wrong datatype is a 400 naming the datatype the model takes")
def _(ctx):
    header = {"inputs": [{"name": "x", "shape": [1, 16], "datatype": "INT32", "data": list(range(16))}]}
    expect_400(infer_raw(ctx, header), ["FP32", "INT32"])
    tensor = httpclient.InferInput("x", [1, 16], "FP64")
    tensor.set_data_from_numpy(np.zeros((1, 16), dtype=np.float64))
    try:
        ctx.client.infer("example_mlp", [tensor])
        raise AssertionError("FP64 accepted")
    except InferenceServerException as error:
        expect(error.status() == "400" and "FP32" in error.message(), (error.status(), error.message()))


@check("wrong shape is a 400 naming the shape the model takes")
def _(ctx):
    header = {"inputs": [{"name": "x", "shape": [1, 15], "datatype": "FP32", "data": [0.0] * 15}]}
    expect_400(infer_raw(ctx, header), ["[-1, 16]", "[1, 15]"])
    header = {"inputs": [{"name": "x", "shape": [1, 16], "datatype": "FP32", "data": [0.0] * 15}]}
    expect_400(infer_raw(ctx, header), ["16 elements", "15"])


@check("unknown output name is a 400 listing the outputs")
def _(ctx):
    header = {"inputs": [{"name": "x", "shape": [1, 16], "datatype": "FP32", "data": [0.0] * 16}],
              "outputs": [{"name": "nope"}]}
    expect_400(infer_raw(ctx, header), ["nope", "output__0"])


@check("a truncated binary body is a 400")
def _(ctx):
    header = {"inputs": [{"name": "x", "shape": [1, 16], "datatype": "FP32", "parameters": {"binary_data_size": 64}}]}
    expect_400(infer_raw(ctx, header, binary=b"\0" * 40), ["64", "40"])


@check("a header length beyond the body is a 400")
def _(ctx):
    header = {"inputs": [{"name": "x", "shape": [1, 16], "datatype": "FP32", "parameters": {"binary_data_size": 64}}]}
    expect_400(infer_raw(ctx, header, binary=b"\0" * 64, header_length=100000), ["Inference-Header-Content-Length"])


@check("an unknown model is a 404 in the protocol's shape")
def _(ctx):
    status, body, _ = infer_raw(ctx, {"inputs": []}, model="nope")
    expect(status == 404 and "nope" in json.loads(body)["error"], (status, body))


@check("after the bad requests the server still serves")
def _(ctx):
    rows = mlp_rows(1, 9)
    close(infer_mlp(ctx, rows, True, True).as_numpy("output__0"), mlp_expected(ctx, rows))


# MARK: KServe v1 and SageMaker


@check("KServe v1: :predict answers predictions, GET answers readiness, :explain a clear 400")
def _(ctx):
    rows = mlp_rows(2, 11)
    status, body, _ = ctx.raw("POST", "/v1/models/example_mlp:predict", json.dumps({"instances": rows.tolist()}),
                              {"Content-Type": "application/json"})
    expect(status == 200, body)
    predictions = json.loads(body)["predictions"]
    expected = mlp_expected(ctx, rows)
    expect([p["prediction"] for p in predictions] == [int(np.argmax(r)) for r in expected], predictions)
    status, body, _ = ctx.raw("GET", "/v1/models/example_mlp")
    expect(status == 200 and json.loads(body) == {"name": "example_mlp", "ready": True}, body)
    status, body, _ = ctx.raw("POST", "/v1/models/example_mlp:explain", json.dumps({"instances": rows.tolist()}))
    expect(status == 400 and "explanation" in json.loads(body)["error"], body)


@check("SageMaker: /invocations?model_name= predicts")
def _(ctx):
    rows = mlp_rows(1, 12)
    status, body, _ = ctx.raw("POST", "/invocations?model_name=example_mlp", json.dumps({"data": rows[0].tolist()}),
                              {"Content-Type": "application/json"})
    expect(status == 200 and json.loads(body)["prediction"] == int(np.argmax(mlp_expected(ctx, rows)[0])), body)


# MARK: perf_analyzer


@check("perf_analyzer: a few seconds of binary OIP load, no errors, server-side statistics read")
def _(ctx):
    if not ctx.perf_analyzer:
        return "not asked for"
    perf_analyzer_runs(ctx.url, "http")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--fixtures", required=True)
    parser.add_argument("--perf-analyzer", action="store_true")
    arguments = parser.parse_args()
    ctx = Context(arguments.url, arguments.fixtures, arguments.perf_analyzer)
    failed = 0
    for name, function in CHECKS:
        try:
            note = function(ctx)
            print(f"ok    {name}" + (f" ({note})" if note else ""))
        except Exception:  # noqa: BLE001 - every check reports
            failed += 1
            print(f"FAIL  {name}\n{traceback.format_exc()}")
    print(f"oip client checks: {len(CHECKS) - failed} ok, {failed} failing")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
