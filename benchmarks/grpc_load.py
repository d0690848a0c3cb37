#!/usr/bin/env python3
"""A small closed-loop load client for TorchServe's gRPC Predictions (Ember's or TorchServe's own).

    $PYTHON benchmarks/grpc_load.py --port 7070 --model mlp --body examples/mlp/sample.json \
        [--concurrency 32] [--seconds 10] [--processes 2]

Run with the project's Python environment (scripts/install-python-env.sh: grpcio, grpcio-tools). The
client is generated from protos/ at start, as a TorchServe user's would be. `concurrency` calls are
kept in flight (grpc.aio, spread over `processes` processes, each with its own channel, so that the
Python client is less of a bottleneck); the body goes as the request's "data" input. Prints one JSON
line: requests, errors, req_per_s, p50_ms, p99_ms.
"""
import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))


def stubs(directory):
    import grpc_tools
    from grpc_tools import protoc

    include = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    protos = os.path.join(ROOT, "protos")
    if protoc.main(["protoc", f"-I{protos}", f"-I{include}", f"--python_out={directory}",
                    f"--grpc_python_out={directory}", "inference.proto", "google/rpc/status.proto"]) != 0:
        raise SystemExit("grpc_tools.protoc failed")
    sys.path.insert(0, directory)


async def load(port, model, body, concurrency, seconds, stub_dir):
    import grpc

    stubs(stub_dir)
    import inference_pb2
    import inference_pb2_grpc

    request = inference_pb2.PredictionsRequest(model_name=model, input={"data": body})
    latencies, errors = [], 0
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = inference_pb2_grpc.InferenceAPIsServiceStub(channel)
        deadline = time.monotonic() + seconds

        async def worker():
            nonlocal errors
            while time.monotonic() < deadline:
                started = time.monotonic()
                try:
                    await stub.Predictions(request, timeout=30)
                    latencies.append(time.monotonic() - started)
                except grpc.RpcError:
                    errors += 1

        began = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.monotonic() - began
    return latencies, errors, elapsed


def run_process(arguments):
    port, model, body, concurrency, seconds = arguments
    with tempfile.TemporaryDirectory(prefix="ember-grpc-load-") as directory:
        return asyncio.run(load(port, model, body, concurrency, seconds, directory))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--body", required=True, help="a file whose bytes are the request's data input")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    with open(args.body, "rb") as f:
        body = f.read()
    processes = max(1, min(args.processes, args.concurrency))
    shares = [args.concurrency // processes + (1 if i < args.concurrency % processes else 0) for i in range(processes)]
    with multiprocessing.Pool(processes) as pool:
        results = pool.map(run_process, [(args.port, args.model, body, share, args.seconds) for share in shares])
    latencies = sorted(value for result in results for value in result[0])
    errors = sum(result[1] for result in results)
    elapsed = max(result[2] for result in results)

    def percentile(fraction):
        return latencies[min(len(latencies) - 1, int(fraction * len(latencies)))] * 1000 if latencies else float("nan")

    print(json.dumps({"requests": len(latencies), "errors": errors, "req_per_s": len(latencies) / elapsed,
                      "p50_ms": percentile(0.50), "p99_ms": percentile(0.99)}))


if __name__ == "__main__":
    main()
