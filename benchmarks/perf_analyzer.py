#!/usr/bin/env python3
"""Triton's perf_analyzer against Ember over the Open Inference Protocol (HTTP with binary tensors,
and gRPC: inference.GRPCInferenceService on the gRPC inference listener).

    make bench                     # runs benchmarks/run.py, then this script
    PYTHON=$(scripts/install-python-env.sh --quiet | tail -1)
    $PYTHON benchmarks/perf_analyzer.py [--models mlp,resnet18] [--concurrency 1,8,32] [--seconds 5] \
        [--protocols http,grpc]

Archives the example models as version 1 (their model-config.yaml batching: batch 8,
5 ms and 10 ms), runs perf_analyzer's default OIP mode for each model and concurrency, and prints a
markdown table: throughput, p50/p99 latency, and perf_analyzer's server-side breakdown (queue and
compute from Ember's statistics extension, GET /v2/models/{m}/stats). perf_analyzer ships inside the
tritonclient wheel of the project's Python environment (needs libb64-0d and nvidia-cuda-runtime-cu12).
"""
import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from common import ROOT, Server, free_ports, log, server_env, set_log_tag, stop_all, stop_on_exit, write_config  # noqa: E402

set_log_tag("perf_analyzer")
EMBER = os.path.join(ROOT, ".build", "release", "ember")
ARCHIVER = os.path.join(ROOT, ".build", "release", "ember-archiver")
ARCHIVES = {"mlp": "mlp.mar", "resnet18": "resnet18.mar"}
# The example models archived as version 1: perf_analyzer reads the statistics (its server-side
# columns) of integer versions only, as Triton's versions are integers; the examples are "1.0".
SOURCES = {
    "mlp": ["--serialized-file", "examples/mlp/mlp.pt", "--handler", "examples/mlp/mlp-handler.yaml",
            "--config-file", "examples/mlp/model-config.yaml"],
    "resnet18": ["--serialized-file", "examples/resnet18/resnet18.pt", "--handler", "image_classifier",
                 "--extra-files", "examples/resnet18/index_to_name.json",
                 "--config-file", "examples/resnet18/model-config.yaml"],
}


def perf_analyzer_command():
    binary = os.path.join(os.path.dirname(sys.executable), "perf_analyzer")
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"{binary} not found: run with the python of scripts/install-python-env.sh")
    import nvidia.cuda_runtime

    runtime = os.path.join(list(nvidia.cuda_runtime.__path__)[0], "lib")
    env = dict(os.environ, LD_LIBRARY_PATH=runtime + ":" + os.environ.get("LD_LIBRARY_PATH", ""))
    return binary, env


def run_one(binary, env, port, model, concurrency, seconds, work, stability, protocol="http"):
    report = os.path.join(work, f"{model}-{concurrency}-{protocol}.csv")
    argv = [binary, "-m", model, "-u", f"127.0.0.1:{port}", "-i", protocol, "--concurrency-range", str(concurrency),
            "--measurement-interval", str(seconds * 1000), "--max-trials", "6", "--stability-percentage", str(stability), "-f", report, "--verbose-csv"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=seconds * 12 + 120)
    output = done.stdout + done.stderr
    if done.returncode != 0 or not os.path.exists(report):
        return {"error": output[-600:]}
    with open(report) as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return {"error": "empty report"}
    row = rows[0]
    errors = 0
    for line in output.splitlines():
        if "error" in line.lower():
            errors += 1

    def us(name):
        value = row.get(name)
        return float(value) if value not in (None, "") else float("nan")

    return {
        "throughput": float(row["Inferences/Second"]),
        "p50_ms": us("p50 latency") / 1000, "p99_ms": us("p99 latency") / 1000,
        "queue_us": us("Server Queue"), "compute_us": us("Server Compute Input") + us("Server Compute Infer") + us("Server Compute Output"),
        "client_send_recv_us": us("Client Send") + us("Client Recv"), "network_server_us": us("Network+Server Send/Recv"),
        "errors": errors,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="mlp,resnet18")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--seconds", type=int, default=5, help="perf_analyzer's measurement interval (default 5)")
    parser.add_argument("--stability", type=float, default=25,
                        help="perf_analyzer's --stability-percentage (default 25; its own 10 rarely holds on a shared 2-core VM)")
    parser.add_argument("--protocols", default="http,grpc", help="perf_analyzer's -i values (default http,grpc)")
    parser.add_argument("--ember-bin", default=EMBER)
    args = parser.parse_args()
    stop_on_exit()
    binary, env = perf_analyzer_command()
    models = [m for m in args.models.split(",") if m]
    work = tempfile.mkdtemp(prefix="ember-perf-analyzer-")
    store = os.path.join(work, "store")
    os.makedirs(store)
    for model in models:
        subprocess.run([ARCHIVER, "--model-name", model, "--version", "1", *SOURCES[model], "--export-path", store],
                       cwd=ROOT, check=True, capture_output=True, timeout=600)
    ports = free_ports(5)
    protocol_ports = {"http": ports[0], "grpc": ports[3]}
    protocols = [p for p in args.protocols.split(",") if p]
    if not set(protocols) <= set(protocol_ports):
        raise SystemExit(f"--protocols: http and/or grpc, got {args.protocols}")
    config = os.path.join(work, "config.properties")
    write_config(config, ports, store)
    argv = [args.ember_bin, "--start", "--foreground", "--model-store", store, "--models",
            *[f"{m}={ARCHIVES[m]}" for m in models], "--ts-config", config, "--disable-token-auth"]
    server = Server("ember", argv, ROOT, server_env(), os.path.join(work, "ember.log"))
    if not server.wait_started(180):
        raise SystemExit("ember did not start:\n" + server.log_tail())
    time.sleep(1)
    rows = []
    for model in models:
        for concurrency in [int(c) for c in args.concurrency.split(",") if c]:
            for protocol in protocols:
                log(f"{model} concurrency {concurrency} over {protocol}")
                rows.append((model, concurrency, protocol, run_one(binary, env, protocol_ports[protocol], model, concurrency,
                                                                   args.seconds, work, args.stability, protocol)))
    stop_all()
    print("\n| model | conc | protocol | infer/s | p50 ms | p99 ms | server queue µs | server compute µs | network+server µs | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for model, concurrency, protocol, result in rows:
        if "error" in result:
            print(f"| {model} | {concurrency} | {protocol} | failed: {result['error'][-200:].replace('|', '/').replace(chr(10), ' ')} |||||||")
            continue
        print(f"| {model} | {concurrency} | {protocol} | {result['throughput']:,.1f} | {result['p50_ms']:.2f} | {result['p99_ms']:.2f} | "
              f"{result['queue_us']:,.0f} | {result['compute_us']:,.0f} | {result['network_server_us']:,.0f} | {result['errors']} |")
    sys.exit(1 if any("error" in r for _, _, _, r in rows) else 0)


if __name__ == "__main__":
    main()
