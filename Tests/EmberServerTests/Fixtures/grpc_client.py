"""Drives a running Ember over gRPC with real clients: a grpcio client generated here, at run time, by
grpcio-tools from the repository's protos/ (TorchServe's inference and management services), and
Triton's own tritonclient.grpc and perf_analyzer (-i grpc) for the Open Inference Protocol service.

Run by GRPCClientTests (Swift) with the project's Python environment (scripts/install-python-env.sh):
    python grpc_client.py --mode main --inference HOST:PORT --management HOST:PORT --metrics HOST:PORT \
        --protos DIR --fixtures DIR --model-store DIR [--perf-analyzer]
    python grpc_client.py --mode tokens --inference ... --management ... --protos DIR \
        --inference-key KEY --management-key KEY

Expected answers are the models' own outputs, computed here with PyTorch from the same TorchScript
files Ember serves. Prints one line per check, then a summary line; exits 1 if any check failed.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

import grpc
import numpy as np
import torch

from client_checks import close, expect, mlp_rows, perf_analyzer_runs

CHECKS = {"main": [], "tokens": [], "tls": [], "drain": [], "stream": []}


def check(mode, name):
    def register(function):
        CHECKS[mode].append((name, function))
        return function

    return register


def generate_stubs(protos, directory):
    """TorchServe's client stubs from protos/, as a TorchServe user makes them (grpc_tools.protoc)."""
    import grpc_tools
    from grpc_tools import protoc

    include = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    status = protoc.main(["protoc", f"-I{protos}", f"-I{include}", f"--python_out={directory}",
                          f"--grpc_python_out={directory}", "inference.proto", "management.proto",
                          "google/rpc/status.proto"])
    if status != 0:
        raise RuntimeError(f"grpc_tools.protoc failed ({status})")
    sys.path.insert(0, directory)


def expect_code(call, code, fragment=None):
    """Runs `call`, which must fail with `code` (and a message containing `fragment`)."""
    try:
        call()
    except grpc.RpcError as error:
        expect(error.code() == code, f"{error.code()} ({error.details()!r}), expected {code}")
        if fragment is not None:
            expect(fragment in (error.details() or ""), f"{error.details()!r} lacks {fragment!r}")
        return error
    raise AssertionError(f"no error, expected {code}")


class Context:
    def __init__(self, arguments):
        import inference_pb2
        import inference_pb2_grpc
        import management_pb2
        import management_pb2_grpc

        self.arguments = arguments
        self.inference_pb2 = inference_pb2
        self.management_pb2 = management_pb2
        # Room for the oversized-message checks: the client's own limit must not be what refuses them.
        options = [("grpc.max_send_message_length", 64 << 20), ("grpc.max_receive_message_length", 64 << 20)]
        if arguments.root_certificate:
            with open(arguments.root_certificate, "rb") as f:
                credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
            self.inference_channel = grpc.secure_channel(arguments.inference, credentials, options=options)
            self.management_channel = grpc.secure_channel(arguments.management, credentials, options=options)
        else:
            self.inference_channel = grpc.insecure_channel(arguments.inference, options=options)
            self.management_channel = grpc.insecure_channel(arguments.management, options=options)
        self.inference = inference_pb2_grpc.InferenceAPIsServiceStub(self.inference_channel)
        self.management = management_pb2_grpc.ManagementAPIsServiceStub(self.management_channel)
        self.fixtures = arguments.fixtures
        if self.fixtures:
            self.mlp = torch.jit.load(os.path.join(self.fixtures, "example_mlp.pt")).eval()

    def predict(self, model, data, version="", metadata=None):
        request = self.inference_pb2.PredictionsRequest(model_name=model, model_version=version, input={"data": data})
        return self.inference.Predictions(request, metadata=metadata, timeout=60)

    def triton(self):
        import tritonclient.grpc as grpcclient

        return grpcclient.InferenceServerClient(url=self.arguments.inference)


def mlp_probabilities(ctx, row):
    with torch.no_grad():
        return torch.softmax(ctx.mlp(torch.from_numpy(row[None, :])), dim=1).numpy()[0]


def metric(ctx, name, model):
    """The value of a ts_* counter for `model` on the metrics listener (0 when absent)."""
    with urllib.request.urlopen(f"http://{ctx.arguments.metrics}/metrics", timeout=30) as response:
        text = response.read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and f'model_name="{model}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


# MARK: TorchServe's InferenceAPIsService


@check("main", "Ping answers TorchServe's health JSON")
def _(ctx):
    from google.protobuf import empty_pb2

    health = ctx.inference.Ping(empty_pb2.Empty(), timeout=30).health
    expect(json.loads(health) == {"status": "Healthy"}, health)


@check("main", "Predictions on the MLP example equal the model's own softmax; counted in ts_inference_requests_total")
def _(ctx):
    before = metric(ctx, "ts_inference_requests_total", "example_mlp")
    rows = mlp_rows(3, 1)
    for row in rows:
        answer = json.loads(ctx.predict("example_mlp", json.dumps(row.tolist()).encode()).prediction)
        probabilities = mlp_probabilities(ctx, row)
        expect(answer["prediction"] == int(np.argmax(probabilities)), answer)
        close(np.array(answer["probabilities"], dtype=np.float32), probabilities)
    after = metric(ctx, "ts_inference_requests_total", "example_mlp")
    expect(after - before == 3, f"ts_inference_requests_total went from {before} to {after}")


@check("main", "Predictions to a named version, and the same answer as REST's /predictions")
def _(ctx):
    row = mlp_rows(1, 2)[0]
    body = json.dumps(row.tolist()).encode()
    grpc_answer = ctx.predict("example_mlp", body, version="1.0").prediction
    host, port = ctx.arguments.rest.split(":")
    request = urllib.request.Request(f"http://{host}:{port}/predictions/example_mlp", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        rest_answer = response.read()
    expect(json.loads(grpc_answer) == json.loads(rest_answer), (grpc_answer, rest_answer))


@check("main", "StreamPredictions streams the prediction; joined, it is the unary answer")
def _(ctx):
    row = mlp_rows(1, 3)[0]
    body = json.dumps(row.tolist()).encode()
    request = ctx.inference_pb2.PredictionsRequest(model_name="example_mlp", input={"data": body})
    parts = [response.prediction for response in ctx.inference.StreamPredictions(request, timeout=60)]
    expect(len(parts) >= 1, parts)
    expect(json.loads(b"".join(parts)) == json.loads(ctx.predict("example_mlp", body).prediction), parts)


@check("main", "StreamPredictions2: answers in order with their sequence id; a failure is a status, the stream goes on")
def _(ctx):
    rows = mlp_rows(3, 4)
    pb = ctx.inference_pb2

    def requests():
        for row in rows[:2]:
            yield pb.PredictionsRequest(model_name="example_mlp", sequence_id="seq-1",
                                        input={"data": json.dumps(row.tolist()).encode()})
        # No sequence id and not a sequence start: refused in the stream, as TorchServe does.
        yield pb.PredictionsRequest(model_name="example_mlp", input={"data": b"[0]"})
        yield pb.PredictionsRequest(model_name="nope", sequence_id="seq-1", input={"data": b"[0]"})
        yield pb.PredictionsRequest(model_name="example_mlp", sequence_id="seq-1",
                                    input={"data": json.dumps(rows[2].tolist()).encode()})

    responses = list(ctx.inference.StreamPredictions2(requests(), timeout=60))
    expect(len(responses) == 5, responses)
    for index, response in zip([0, 1, 4], [responses[0], responses[1], responses[4]]):
        expect(response.sequence_id == "seq-1" and not response.HasField("status"), response)
        row = rows[index if index < 2 else 2]
        expect(json.loads(response.prediction)["prediction"] == int(np.argmax(mlp_probabilities(ctx, row))), response)
    expect(responses[2].status.code == grpc.StatusCode.INTERNAL.value[0], responses[2])
    expect("sequenceId is required" in responses[2].status.message, responses[2])
    expect(responses[3].status.code == grpc.StatusCode.NOT_FOUND.value[0], responses[3])


@check("main", "an unknown model is NOT_FOUND with TorchServe's exception name; a missing model name INVALID_ARGUMENT")
def _(ctx):
    error = expect_code(lambda: ctx.predict("nope", b"[1]"), grpc.StatusCode.NOT_FOUND, "Model not found: nope")
    expect("ModelNotFoundException" in error.details(), error.details())
    expect_code(lambda: ctx.predict("example_mlp", b"[1]", version="9.9"), grpc.StatusCode.NOT_FOUND)
    expect_code(lambda: ctx.predict("", b"[1]"), grpc.StatusCode.INVALID_ARGUMENT, "model_name")
    request = ctx.inference_pb2.PredictionsRequest(model_name="example_mlp", input={"other": b"[1]"})
    expect_code(lambda: ctx.inference.Predictions(request, timeout=30), grpc.StatusCode.INVALID_ARGUMENT, "data")


@check("main", "a bad body is INVALID_ARGUMENT; a message over max_request_size RESOURCE_EXHAUSTED; the server still serves")
def _(ctx):
    expect_code(lambda: ctx.predict("example_mlp", b"not json"), grpc.StatusCode.INVALID_ARGUMENT)
    expect_code(lambda: ctx.predict("example_mlp", b"1" * 1_200_000), grpc.StatusCode.RESOURCE_EXHAUSTED,
                "max_request_size")
    row = mlp_rows(1, 5)[0]
    answer = json.loads(ctx.predict("example_mlp", json.dumps(row.tolist()).encode()).prediction)
    expect(answer["prediction"] == int(np.argmax(mlp_probabilities(ctx, row))), answer)


# MARK: TorchServe's ManagementAPIsService


def describe(ctx, model, version=""):
    request = ctx.management_pb2.DescribeModelRequest(model_name=model, model_version=version)
    return json.loads(ctx.management.DescribeModel(request, timeout=60).msg)


@check("main", "ListModels and DescribeModel answer REST's documents")
def _(ctx):
    listed = json.loads(ctx.management.ListModels(ctx.management_pb2.ListModelsRequest(), timeout=30).msg)
    names = [model["modelName"] for model in listed["models"]]
    expect("mlp" in names and "example_mlp" in names, listed)
    page = json.loads(ctx.management.ListModels(ctx.management_pb2.ListModelsRequest(limit=1), timeout=30).msg)
    expect(len(page["models"]) == 1 and "nextPageToken" in page, page)
    described = describe(ctx, "mlp")
    expect(described[0]["modelName"] == "mlp" and described[0]["modelVersion"] == "1.0", described)
    error = expect_code(lambda: describe(ctx, "nope"), grpc.StatusCode.NOT_FOUND, "nope")
    expect("ModelNotFoundException" in error.details(), error.details())


@check("main", "RegisterModel (asynchronous by default) / ScaleWorker / SetDefault / UnregisterModel")
def _(ctx):
    pb = ctx.management_pb2
    registered = ctx.management.RegisterModel(pb.RegisterModelRequest(url="mlp-v2.mar", initial_workers=1), timeout=60)
    # REST's 202 answer's status text.
    expect(registered.msg and not registered.msg.startswith("{"), registered.msg)
    # Asynchronous: the workers start after the answer; describe shows them once up.
    deadline = time.time() + 60
    while True:
        workers = describe(ctx, "mlp", "2.0")[0]["workers"]
        if workers and workers[0]["status"] == "READY":
            break
        expect(time.time() < deadline, f"mlp 2.0 never got a ready worker: {workers}")
        time.sleep(0.2)
    again = expect_code(lambda: ctx.management.RegisterModel(pb.RegisterModelRequest(url="mlp-v2.mar"), timeout=60),
                        grpc.StatusCode.ABORTED)
    expect("already" in again.details().lower() or "exist" in again.details().lower(), again.details())
    expect_code(lambda: ctx.management.RegisterModel(pb.RegisterModelRequest(), timeout=30),
                grpc.StatusCode.INVALID_ARGUMENT, "url")
    expect_code(lambda: ctx.management.RegisterModel(pb.RegisterModelRequest(url="missing.mar"), timeout=30),
                grpc.StatusCode.NOT_FOUND)

    scaled = ctx.management.ScaleWorker(
        pb.ScaleWorkerRequest(model_name="mlp", model_version="2.0", min_worker=2, max_worker=2, synchronous=True),
        timeout=60)
    expect(scaled.msg, scaled)
    expect(len(describe(ctx, "mlp", "2.0")[0]["workers"]) == 2, describe(ctx, "mlp", "2.0"))
    expect_code(lambda: ctx.management.ScaleWorker(pb.ScaleWorkerRequest(model_name="nope", min_worker=1), timeout=30),
                grpc.StatusCode.NOT_FOUND)

    default = ctx.management.SetDefault(pb.SetDefaultRequest(model_name="mlp", model_version="2.0"), timeout=30)
    expect("2.0" in default.msg, default.msg)
    expect(describe(ctx, "mlp")[0]["modelVersion"] == "2.0", describe(ctx, "mlp"))
    expect_code(lambda: ctx.management.SetDefault(pb.SetDefaultRequest(model_name="mlp", model_version="7.0"), timeout=30),
                grpc.StatusCode.NOT_FOUND)

    removed = ctx.management.UnregisterModel(pb.UnregisterModelRequest(model_name="mlp", model_version="1.0"), timeout=60)
    expect("unregistered" in removed.msg.lower(), removed.msg)
    expect([entry["modelVersion"] for entry in describe(ctx, "mlp", "all")] == ["2.0"], describe(ctx, "mlp", "all"))


@check("main", "RegisterModel synchronous: a ResNet-18 made by torch-model-archiver, then served over OIP gRPC")
def _(ctx):
    import torchvision

    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None).eval()
    path = os.path.join(ctx.fixtures, "resnet18.pt")
    torch.jit.trace(model, torch.zeros(1, 3, 224, 224)).save(path)
    archiver = os.path.join(os.path.dirname(sys.executable), "torch-model-archiver")
    subprocess.run([archiver, "--model-name", "resnet18", "--version", "1.0", "--serialized-file", path,
                    "--handler", "image_classifier", "--export-path", ctx.arguments.model_store, "--force"],
                   check=True, capture_output=True, timeout=300)
    pb = ctx.management_pb2
    answer = ctx.management.RegisterModel(
        pb.RegisterModelRequest(url="resnet18.mar", initial_workers=1, synchronous=True), timeout=300)
    expect("resnet18" in answer.msg, answer.msg)
    expect(describe(ctx, "resnet18")[0]["workers"][0]["status"] == "READY", describe(ctx, "resnet18"))

    import tritonclient.grpc as grpcclient

    client = ctx.triton()
    name = client.get_model_metadata("resnet18", as_json=True)["inputs"][0]["name"]
    pixels = np.random.default_rng(7).standard_normal((1, 3, 224, 224)).astype(np.float32)
    tensor = grpcclient.InferInput(name, [1, 3, 224, 224], "FP32")
    tensor.set_data_from_numpy(pixels)
    result = client.infer("resnet18", [tensor])
    output = client.get_model_metadata("resnet18", as_json=True)["outputs"][0]["name"]
    with torch.no_grad():
        expected = torch.jit.load(path).eval()(torch.from_numpy(pixels)).numpy()
    close(result.as_numpy(output), expected, atol=1e-4)


# MARK: the Open Inference Protocol's GRPCInferenceService (tritonclient.grpc)


@check("main", "tritonclient.grpc: live, ready, model ready, server metadata")
def _(ctx):
    client = ctx.triton()
    expect(client.is_server_live() and client.is_server_ready(), "not live/ready")
    expect(client.is_model_ready("example_mlp") and client.is_model_ready("example_mlp", "1.0"), "model not ready")
    metadata = client.get_server_metadata(as_json=True)
    expect(metadata["name"] == "ember" and "model_configuration" in metadata["extensions"], metadata)


@check("main", "tritonclient.grpc: model metadata and configuration, as the REST documents")
def _(ctx):
    client = ctx.triton()
    metadata = client.get_model_metadata("example_mlp", as_json=True)
    expect(metadata["name"] == "example_mlp" and metadata["versions"] == ["1.0"], metadata)
    expect(metadata["inputs"] == [{"name": "x", "datatype": "FP32", "shape": ["-1", "16"]}], metadata["inputs"])
    expect(metadata["outputs"] == [{"name": "output__0", "datatype": "FP32", "shape": ["-1", "10"]}], metadata["outputs"])
    config = client.get_model_config("example_mlp", as_json=True)["config"]
    expect(config["max_batch_size"] == 8, config)
    expect(config["input"][0]["dims"] == ["16"] and config["input"][0]["data_type"] == "TYPE_FP32", config["input"])
    expect(config["output"][0]["dims"] == ["10"], config["output"])
    expect(config["dynamic_batching"]["max_queue_delay_microseconds"] == "5000", config["dynamic_batching"])
    expect(config["instance_group"][0]["kind"] == "KIND_CPU", config["instance_group"])
    stats = client.get_inference_statistics("example_mlp", as_json=True)["model_stats"]
    expect(stats[0]["name"] == "example_mlp" and int(stats[0]["inference_count"]) > 0, stats)
    everything = client.get_inference_statistics(as_json=True)["model_stats"]
    expect({"example_mlp", "perf_mlp"} <= {entry["name"] for entry in everything}, everything)


@check("main", "tritonclient.grpc: infer on the MLP equals the model's own output, with the request id")
def _(ctx):
    import tritonclient.grpc as grpcclient

    client = ctx.triton()
    rows = mlp_rows(3, 6)
    tensor = grpcclient.InferInput("x", [3, 16], "FP32")
    tensor.set_data_from_numpy(rows)
    result = client.infer("example_mlp", [tensor], request_id="req-7",
                          outputs=[grpcclient.InferRequestedOutput("output__0")])
    with torch.no_grad():
        expected = ctx.mlp(torch.from_numpy(rows)).numpy()
    close(result.as_numpy("output__0"), expected)
    response = result.get_response(as_json=True)
    expect(response["id"] == "req-7" and response["model_version"] == "1.0", response)
    top = client.infer("example_mlp", [tensor], outputs=[grpcclient.InferRequestedOutput("output__0", class_count=2)])
    answer = top.as_numpy("output__0")
    expect(answer.shape == (3, 2), answer.shape)
    for row in range(3):
        indices = [int(entry.decode().split(":")[1]) for entry in answer[row]]
        expect(indices == list(np.argsort(-expected[row])[:2]), (indices, expected[row]))


def raw_infer(ctx, datatype, shape, raw=None, contents=None, model="example_mlp"):
    from tritonclient.grpc import service_pb2, service_pb2_grpc

    stub = service_pb2_grpc.GRPCInferenceServiceStub(ctx.inference_channel)
    request = service_pb2.ModelInferRequest(model_name=model)
    tensor = request.inputs.add(name="x", datatype=datatype, shape=shape)
    if contents is not None:
        tensor.contents.CopyFrom(contents)
    if raw is not None:
        request.raw_input_contents.append(raw)
    return stub.ModelInfer(request, timeout=60)


@check("main", "typed contents (fp32_contents) infer as raw does")
def _(ctx):
    from tritonclient.grpc import service_pb2

    row = mlp_rows(1, 8)
    reply = raw_infer(ctx, "FP32", [1, 16], contents=service_pb2.InferTensorContents(fp32_contents=row[0].tolist()))
    output = np.frombuffer(reply.raw_output_contents[0], dtype=np.float32).reshape(1, 10)
    with torch.no_grad():
        close(output, ctx.mlp(torch.from_numpy(row)).numpy())


@check("main", "bad tensors are INVALID_ARGUMENT with a clear message; unknown model NOT_FOUND; still serving")
def _(ctx):
    from tritonclient.grpc import service_pb2

    raw = mlp_rows(1, 9).tobytes()
    expect_code(lambda: raw_infer(ctx, "FP33", [1, 16], raw=raw), grpc.StatusCode.INVALID_ARGUMENT, "unknown datatype 'FP33'")
    expect_code(lambda: raw_infer(ctx, "FP32", [1, 16], raw=raw[:60]), grpc.StatusCode.INVALID_ARGUMENT,
                "needs 64 bytes, got 60")
    expect_code(lambda: raw_infer(ctx, "FP32", [1, 16], contents=service_pb2.InferTensorContents(int_contents=[1] * 16)),
                grpc.StatusCode.INVALID_ARGUMENT, "contents")
    expect_code(lambda: raw_infer(ctx, "FP32", [1, -16], raw=raw), grpc.StatusCode.INVALID_ARGUMENT)
    expect_code(lambda: raw_infer(ctx, "FP32", [1, 16], raw=raw, model="nope"), grpc.StatusCode.NOT_FOUND, "nope")
    expect_code(lambda: raw_infer(ctx, "FP32", [1, 300000], raw=b"\0" * 1_200_000), grpc.StatusCode.RESOURCE_EXHAUSTED)
    from tritonclient.utils import InferenceServerException

    try:
        ctx.triton().get_model_metadata("nope")
        raise AssertionError("metadata of an unknown model answered")
    except InferenceServerException as error:
        expect("StatusCode.NOT_FOUND" in str(error.status()), error.status())
    reply = raw_infer(ctx, "FP32", [1, 16], raw=raw)
    expect(len(reply.raw_output_contents[0]) == 40, reply)


@check("main", "perf_analyzer -i grpc: a few seconds of load, no errors, server-side statistics read")
def _(ctx):
    if not ctx.arguments.perf_analyzer:
        return "not asked for"
    perf_analyzer_runs(ctx.arguments.inference, "grpc")


# MARK: token authorization on, model API off


def bearer(key):
    return [("authorization", f"Bearer {key}")]


@check("tokens", "Predictions needs the inference key: none or a wrong one is PERMISSION_DENIED")
def _(ctx):
    message = "Token Authorization failed"
    expect_code(lambda: ctx.predict("mlp", b"[1, 1, 1, 1]"), grpc.StatusCode.PERMISSION_DENIED, message)
    expect_code(lambda: ctx.predict("mlp", b"[1, 1, 1, 1]", metadata=bearer("wrong")), grpc.StatusCode.PERMISSION_DENIED)
    expect_code(lambda: ctx.predict("mlp", b"[1, 1, 1, 1]", metadata=bearer(ctx.arguments.management_key)),
                grpc.StatusCode.PERMISSION_DENIED)
    answer = json.loads(ctx.predict("mlp", b"[1, 1, 1, 1]", metadata=bearer(ctx.arguments.inference_key)).prediction)
    expect("prediction" in answer or isinstance(answer, (list, dict)), answer)


@check("tokens", "the OIP service needs the inference key too; the health calls need none (health_probes_without_token)")
def _(ctx):
    from google.protobuf import empty_pb2
    from tritonclient.grpc import service_pb2, service_pb2_grpc

    stub = service_pb2_grpc.GRPCInferenceServiceStub(ctx.inference_channel)
    expect_code(lambda: stub.ServerMetadata(service_pb2.ServerMetadataRequest(), timeout=30),
                grpc.StatusCode.PERMISSION_DENIED)
    expect_code(lambda: stub.ModelReady(service_pb2.ModelReadyRequest(name="mlp"), timeout=30),
                grpc.StatusCode.PERMISSION_DENIED)
    ready = stub.ModelReady(service_pb2.ModelReadyRequest(name="mlp"), metadata=bearer(ctx.arguments.inference_key),
                            timeout=30)
    expect(ready.ready, ready)
    expect(stub.ServerLive(service_pb2.ServerLiveRequest(), timeout=30).live, "ServerLive without a key")
    expect(stub.ServerReady(service_pb2.ServerReadyRequest(), timeout=30).ready, "ServerReady without a key")
    expect(json.loads(ctx.inference.Ping(empty_pb2.Empty(), timeout=30).health) == {"status": "Healthy"}, "Ping")


@check("tokens", "management needs the management key; with it, the model API being off is PERMISSION_DENIED")
def _(ctx):
    pb = ctx.management_pb2
    expect_code(lambda: ctx.management.ListModels(pb.ListModelsRequest(), timeout=30), grpc.StatusCode.PERMISSION_DENIED)
    expect_code(lambda: ctx.management.ListModels(pb.ListModelsRequest(), metadata=bearer(ctx.arguments.inference_key),
                                                  timeout=30), grpc.StatusCode.PERMISSION_DENIED)
    key = bearer(ctx.arguments.management_key)
    listed = json.loads(ctx.management.ListModels(pb.ListModelsRequest(), metadata=key, timeout=30).msg)
    expect([model["modelName"] for model in listed["models"]] == ["mlp"], listed)
    expect_code(lambda: ctx.management.RegisterModel(pb.RegisterModelRequest(url="mlp-v2.mar"), metadata=key, timeout=30),
                grpc.StatusCode.PERMISSION_DENIED, "Model API disabled")
    expect_code(lambda: ctx.management.UnregisterModel(pb.UnregisterModelRequest(model_name="mlp"), metadata=key,
                                                       timeout=30), grpc.StatusCode.PERMISSION_DENIED, "Model API disabled")
    scaled = ctx.management.ScaleWorker(pb.ScaleWorkerRequest(model_name="mlp", min_worker=1, synchronous=True),
                                        metadata=key, timeout=60)
    expect(scaled.msg, scaled)


# MARK: graceful shutdown


@check("drain", "a call in flight when the graceful shutdown starts is answered")
def _(ctx):
    # The test's slow model doubles its input after input[0][0] rounds of work: long enough for the
    # Swift side to start the shutdown while this call runs.
    started = time.monotonic()
    answer = json.loads(ctx.predict("slow", f"[{ctx.arguments.rounds}, 21]".encode()).prediction)
    expect(answer == [[2 * ctx.arguments.rounds, 42]] or answer == [2 * ctx.arguments.rounds, 42], answer)
    return f"answered after {time.monotonic() - started:.2f} s, at epoch {time.time():.3f}"


# MARK: enable_grpc_ssl


@check("tls", "both listeners serve TLS with the configured certificate; plaintext gets no answer")
def _(ctx):
    from google.protobuf import empty_pb2

    expect(json.loads(ctx.inference.Ping(empty_pb2.Empty(), timeout=30).health) == {"status": "Healthy"}, "ping")
    answer = json.loads(ctx.predict("mlp", b"[1, 1, 1, 1]").prediction)
    expect(answer is not None, answer)
    listed = json.loads(ctx.management.ListModels(ctx.management_pb2.ListModelsRequest(), timeout=30).msg)
    expect([model["modelName"] for model in listed["models"]] == ["mlp"], listed)
    import inference_pb2_grpc

    plain = inference_pb2_grpc.InferenceAPIsServiceStub(grpc.insecure_channel(ctx.arguments.inference))
    expect_code(lambda: plain.Ping(empty_pb2.Empty(), timeout=5), grpc.StatusCode.UNAVAILABLE)


@check("stream", "StreamPredictions: a Python handler's intermediate responses arrive one message each, then its answer")
def _(ctx):
    request = ctx.inference_pb2.PredictionsRequest(model_name="streams", input={"data": b'{"action": "stream"}'})
    parts = [response.prediction for response in ctx.inference.StreamPredictions(request, timeout=60)]
    expect(parts == [b"hello ", b"hello ", b"world"], parts)
    joined = ctx.predict("streams", b'{"action": "stream"}').prediction
    expect(joined == b"hello hello world", joined)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=sorted(CHECKS), required=True)
    parser.add_argument("--inference", required=True)
    parser.add_argument("--management", required=True)
    parser.add_argument("--rest")
    parser.add_argument("--metrics")
    parser.add_argument("--protos", required=True)
    parser.add_argument("--fixtures")
    parser.add_argument("--model-store")
    parser.add_argument("--inference-key")
    parser.add_argument("--management-key")
    parser.add_argument("--root-certificate")
    parser.add_argument("--rounds", type=int, default=0)
    parser.add_argument("--perf-analyzer", action="store_true")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ember-grpc-stubs-") as stubs:
        generate_stubs(arguments.protos, stubs)
        ctx = Context(arguments)
        failed = 0
        for name, function in CHECKS[arguments.mode]:
            try:
                note = function(ctx)
                print(f"ok    {name}" + (f" ({note})" if note else ""), flush=True)
            except Exception:  # noqa: BLE001 - every check reports
                failed += 1
                print(f"FAIL  {name}\n{traceback.format_exc()}", flush=True)
        print(f"grpc client checks ({arguments.mode}): {len(CHECKS[arguments.mode]) - failed} ok, {failed} failing")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
