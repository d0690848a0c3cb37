"""What oip_client.py and grpc_client.py both check with: a failed expectation, a tensor close to the
model's own output, the random MLP rows both send, and a short perf_analyzer run over either protocol."""
import os
import subprocess
import sys

import numpy as np


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def close(actual, expected, atol=1e-5):
    expect(actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}")
    difference = float(np.max(np.abs(actual.astype(np.float64) - expected.astype(np.float64)))) if actual.size else 0.0
    expect(difference <= atol, f"largest difference {difference} > {atol}")


def mlp_rows(count, seed):
    """`count` rows of the example MLP's 16 features, the same for a given seed."""
    return np.random.default_rng(seed).standard_normal((count, 16)).astype(np.float32)


def perf_analyzer_runs(url, protocol):
    """perf_analyzer (from tritonclient[all], next to this Python) on the `perf_mlp` model over `protocol`
    ("http" or "grpc") for a few seconds: no errors, and the server-side statistics read. A check of the
    protocol, not a measurement: the other test suites share the cores, so any throughput counts as
    stable (make bench measures, on a quiet machine)."""
    binary = os.path.join(os.path.dirname(sys.executable), "perf_analyzer")
    import nvidia.cuda_runtime

    runtime = os.path.join(list(nvidia.cuda_runtime.__path__)[0], "lib")
    environment = dict(os.environ, LD_LIBRARY_PATH=runtime + ":" + os.environ.get("LD_LIBRARY_PATH", ""))
    command = [binary, "-m", "perf_mlp", "-u", url, "-i", protocol, "--concurrency-range", "2",
               "--measurement-interval", "1000", "--max-trials", "3", "--stability-percentage", "1000"]
    done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=120)
    output = done.stdout + done.stderr
    expect(done.returncode == 0, output[-3000:])
    expect("Throughput:" in output and "Server:" in output, output[-3000:])
    expect("Request count: 0" not in output, "perf_analyzer read no server-side statistics:\n" + output[-3000:])
    expect("error" not in output.lower(), output[-3000:])
