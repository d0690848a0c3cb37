#!/usr/bin/python3
"""Ember's benchmark driver (issue 5): Ember over HTTP, the in-process floor, and TorchServe side by side.

Standard library only; run with Debian's /usr/bin/python3 from anywhere:

    benchmarks/run.py                  # build, floor, Ember
    benchmarks/run.py --torchserve     # the same plus TorchServe 0.12.0 in benchmarks/.venv
    benchmarks/run.py --quick          # short smoke run (3 s loads, concurrency 1 and 32)
    benchmarks/run.py --help

Every server it starts runs in its own process group on free loopback ports and is stopped on exit
(normal end, exception, SIGINT, SIGTERM). Traffic goes to 127.0.0.1 only. Results are printed as one
markdown table and written to benchmarks/results/<date>-<host>.md and .json.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))  # benchmarks/common.py from any directory
import floors  # noqa: E402
import image_pipeline  # noqa: E402
from common import (ROOT, STARTED_MARKER, Server, free_ports, http_request, log, server_env,  # noqa: E402
                    set_log_tag, stop_all, stop_on_exit, write_config)

set_log_tag("bench")
BENCH = os.path.join(ROOT, "benchmarks")
WORK = os.path.join(BENCH, ".work")  # git-ignored scratch: configs, logs, TorchServe archives
VENV = os.path.join(BENCH, ".venv")
SYSTEM_PYTHON = "/usr/bin/python3"
EMBER = os.path.join(ROOT, ".build", "release", "ember")
ARCHIVER = os.path.join(ROOT, ".build", "release", "ember-archiver")
FLOOR = os.path.join(ROOT, ".build", "release", "ember-floor-bench")
LUA = os.path.join(BENCH, "lua", "post.lua")

# What each model is called with. "delay_ms" is the maxBatchDelay used with batching on (the examples'
# model-config.yaml values); "row_shape" is what the floor feeds it.
MODELS = {
    "mlp": {
        "pt": "examples/mlp/mlp.pt",
        "mar": "mlp.mar",
        "body": "examples/mlp/sample.json",
        "content_type": "application/json",
        "row_shape": "16",
        "delay_ms": 5,
    },
    "resnet18": {
        "pt": "examples/resnet18/resnet18.pt",
        "mar": "resnet18.mar",
        "body": "examples/resnet18/sample.jpg",
        "content_type": "image/jpeg",
        "row_shape": "3,224,224",
        "delay_ms": 10,
    },
}

# HOOK(ember-metrics): Ember exports its per-request server overhead (server-side latency minus the
# forward) on :8082/metrics; the metric names are not settled yet. List here every Prometheus
# histogram/summary base name that may carry it, in seconds; the driver scrapes /metrics before and
# after each Ember load run and reports delta(<name>_sum) / delta(<name>_count) as the mean overhead.
# Override with EMBER_OVERHEAD_METRICS=name1,name2 (and EMBER_OVERHEAD_UNIT=s|ms|us).
EMBER_OVERHEAD_METRICS = [
    "ember_request_overhead_seconds",
    "ember_server_overhead_seconds",
    "ember_overhead_seconds",
]

# What the floors answer when Ember gave no answer to copy: an MLP answer's shape and size.
FALLBACK_MLP_ANSWER = ('{"prediction": 3, "probabilities": [0.0961, 0.1042, 0.0993, 0.1107, 0.0978, 0.1011, '
                       '0.0949, 0.1034, 0.0955, 0.0970]}')

# Every server (common.Server) is stopped on exit: normal end, exception, SIGINT, SIGTERM.
stop_on_exit(stop_all)


# ---------------------------------------------------------------------------------------------------
# Commands.

def run_cmd(argv, timeout, cwd=ROOT, env=None, check=True, capture=True):
    """Runs a command with a time limit; returns (returncode, output)."""
    try:
        done = subprocess.run(argv, cwd=cwd, env=env, timeout=timeout, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE if capture else None,
                              stderr=subprocess.STDOUT if capture else None)
    except subprocess.TimeoutExpired:
        if check:
            raise RuntimeError(f"timed out after {timeout} s: {' '.join(argv)}")
        return 124, ""
    except OSError as error:
        if check:
            raise RuntimeError(f"cannot run {argv[0]}: {error}")
        return 127, str(error)
    output = done.stdout.decode(errors="replace") if capture else ""
    if check and done.returncode != 0:
        raise RuntimeError(f"failed ({done.returncode}): {' '.join(argv)}\n{output[-3000:]}")
    return done.returncode, output


def predict(port, model, timeout=30):
    spec = MODELS[model]
    with open(os.path.join(ROOT, spec["body"]), "rb") as f:
        body = f.read()
    return http_request("POST", port, f"/predictions/{model}", body, {"Content-Type": spec["content_type"]}, timeout)


# ---------------------------------------------------------------------------------------------------
# Load with wrk.

def ensure_wrk():
    if shutil.which("wrk"):
        return True
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("wrk is missing: apt-get install -y wrk")
        run_cmd(["apt-get", "install", "-y", "wrk"], timeout=600, check=False)
        if not shutil.which("wrk"):
            run_cmd(["apt-get", "update"], timeout=600, check=False)
            run_cmd(["apt-get", "install", "-y", "wrk"], timeout=600, check=False)
    if shutil.which("wrk"):
        return True
    log("wrk is not installed and could not be installed (Debian: apt-get install wrk)")
    return False


def run_wrk(port, model, concurrency, duration):
    spec = MODELS[model]
    # One wrk thread, as the floors (benchmarks/floors.py) are loaded: the ratios compare like with like.
    threads = 1
    argv = ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{duration}s", "--timeout", "10s",
            "-s", LUA, f"http://127.0.0.1:{port}/predictions/{model}", "--",
            os.path.join(ROOT, spec["body"]), spec["content_type"]]
    code, output = run_cmd(argv, timeout=duration + 60, check=False)
    for line in output.splitlines():
        if line.startswith("WRK_JSON "):
            data = json.loads(line[len("WRK_JSON "):])
            seconds = data["duration_us"] / 1e6
            errors = sum(data["errors"].values())
            lat = data["latency_us"]
            return {
                "requests": data["requests"],
                "seconds": seconds,
                # Successful responses per second: wrk's request count minus the non-2xx ones.
                "req_per_s": max(0, data["requests"] - data["errors"]["status"]) / seconds if seconds else 0,
                "errors": errors,
                "error_detail": data["errors"],
                "p50_ms": lat["p50"] / 1000, "p90_ms": lat["p90"] / 1000, "p99_ms": lat["p99"] / 1000,
                "mean_ms": lat["mean"] / 1000, "max_ms": lat["max"] / 1000,
            }
    return {"error": f"wrk exited {code}: {output[-500:]}"}


# ---------------------------------------------------------------------------------------------------
# Build, models, floor.

def build(skip):
    """Release build. Returns (ember_ok, floor_ok, note)."""
    if skip:
        return os.access(EMBER, os.X_OK), os.access(FLOOR, os.X_OK), "build skipped"
    log("swift build -c release")
    code, output = run_cmd(["swift", "build", "-c", "release"], timeout=3600, check=False)
    note = "release build ok"
    if code != 0:
        note = "full release build FAILED (last lines in the JSON); building ember-floor-bench alone"
        log(note + ":\n" + output[-2000:])
        run_cmd(["swift", "build", "-c", "release", "--product", "ember-floor-bench"], timeout=3600, check=False)
    return os.access(EMBER, os.X_OK) and code == 0, os.access(FLOOR, os.X_OK), note


def ensure_models():
    if not all(os.path.exists(os.path.join(ROOT, m["pt"])) for m in MODELS.values()) or \
            not os.path.exists(os.path.join(ROOT, "examples/resnet18/sample.jpg")):
        log("making the example models (examples/make_models.py)")
        run_cmd([SYSTEM_PYTHON, "examples/make_models.py"], timeout=600)


def ensure_ember_archives(model_store):
    store = os.path.join(ROOT, model_store)
    if all(os.path.exists(os.path.join(store, m["mar"])) for m in MODELS.values()):
        return True, "archives present"
    if model_store != "model_store":
        return False, f"{model_store}/*.mar missing"
    if not os.access(ARCHIVER, os.X_OK):
        return False, "model_store/*.mar missing and ember-archiver not built"
    log("making Ember's archives (examples/make_examples.sh)")
    code, output = run_cmd(["examples/make_examples.sh"], timeout=900, check=False)
    if code != 0:
        return False, "examples/make_examples.sh failed: " + output[-500:]
    return True, "archives made"


def run_floor(args):
    argv = [FLOOR, "--batches", "1,8,32", "--threads", args.floor_threads, "--seconds", str(args.floor_seconds)]
    for name in args.models:
        argv += ["--model", f"{name}={MODELS[name]['pt']}:{MODELS[name]['row_shape']}"]
    log("floor: " + " ".join(argv[1:]))
    code, output = run_cmd(argv, timeout=600 + 60 * len(args.models), check=False)
    rows = []
    for line in output.splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            if line.strip():
                log("floor: " + line)
    if code != 0:
        log(f"floor exited {code}")
    return rows


# ---------------------------------------------------------------------------------------------------
# One server (Ember or TorchServe) through the whole sequence.

# What both servers' config.properties add to common.write_config's lines.
CONFIG_EXTRA = "default_workers_per_model=1\ndefault_response_timeout=120\n"


def scrape_overhead(metrics_port):
    """HOOK(ember-metrics): {name: (sum, count)} for the candidate overhead metrics found."""
    names = os.environ.get("EMBER_OVERHEAD_METRICS")
    names = names.split(",") if names else EMBER_OVERHEAD_METRICS
    status, body = http_request("GET", metrics_port, "/metrics", timeout=10)
    found = {}
    if status != 200:
        return found
    for line in body.decode(errors="replace").splitlines():
        if line.startswith("#"):
            continue
        match = re.match(r"([A-Za-z_:][A-Za-z0-9_:]*)(\{[^}]*\})?\s+([-+0-9.eE]+|NaN)", line)
        if not match:
            continue
        metric, value = match.group(1), float(match.group(3))
        for name in names:
            for suffix, slot in (("_sum", 0), ("_count", 1)):
                if metric == name + suffix:
                    entry = found.setdefault(name, [0.0, 0.0])
                    entry[slot] += value
    return found


def overhead_us(before, after):
    unit = {"s": 1e6, "ms": 1e3, "us": 1.0}.get(os.environ.get("EMBER_OVERHEAD_UNIT", "s"), 1e6)
    for name, (total, count) in after.items():
        prev_total, prev_count = before.get(name, (0.0, 0.0))
        if count > prev_count:
            return {"metric": name, "mean_us": (total - prev_total) / (count - prev_count) * unit}
    return None


def wait_first_prediction(server, port, model, timeout):
    """Polls until a prediction answers 200; returns seconds since the server process started, or None."""
    deadline = time.monotonic() + timeout
    attempts = 0
    while time.monotonic() < deadline and attempts < 100000 and server.alive():
        attempts += 1
        status, _ = predict(port, model, timeout=10)
        if status == 200:
            return time.monotonic() - server.start_time
        time.sleep(0.01)
    return None


def measure_rss(server, match):
    time.sleep(1.0)
    kib, count = server.tree_rss_kib(match)
    return {"rss_mib": round(kib / 1024, 1), "processes": count}


def project_python():
    """The project's Python environment (grpcio for the gRPC load client), or None."""
    code, output = run_cmd([os.path.join(ROOT, "scripts", "install-python-env.sh"), "--quiet"], timeout=1800, check=False)
    lines = output.strip().splitlines()
    return lines[-1] if code == 0 and lines else None


def run_grpc_load(port, model, concurrency, duration):
    """TorchServe's gRPC Predictions under `concurrency` calls in flight (benchmarks/grpc_load.py)."""
    python = project_python()
    if python is None:
        return {"error": "no project Python environment (scripts/install-python-env.sh failed)"}
    body = os.path.join(ROOT, MODELS["mlp"]["body"])
    code, output = run_cmd([python, os.path.join(BENCH, "grpc_load.py"), "--port", str(port), "--model", model,
                            "--body", body, "--concurrency", str(concurrency), "--seconds", str(duration)],
                           timeout=duration * 4 + 120, check=False)
    try:
        return json.loads(output.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": one_line(output)}


def serve_and_measure(kind, argv, cwd, env, work, ports, args, rss_match=None):
    """Starts a server, measures start-up, memory, registration, then the load matrix; stops it."""
    result = {"kind": kind, "argv": argv, "ports": ports, "startup": {}, "runs": [], "notes": [], "grpc_runs": []}
    inference, management, metrics = ports[:3]
    grpc_inference = ports[3] if len(ports) > 3 else None
    server = Server(kind, argv, cwd, env, os.path.join(work, f"{kind}.log"))
    result["log"] = server.log_path
    try:
        if not server.wait_started(args.start_timeout):
            note = f"{kind} did not print '{STARTED_MARKER}' within {args.start_timeout} s " \
                   f"(exit code {server.proc.poll()}); see {server.log_path}"
            log(note)
            result["error"] = note
            return result
        result["startup"]["start_to_listening_s"] = round(server.started_at - server.start_time, 3)
        first = wait_first_prediction(server, inference, "mlp", args.start_timeout) if "mlp" in args.models else None
        result["startup"]["start_to_first_mlp_prediction_s"] = round(first, 3) if first else None
        for model in args.models:
            if wait_first_prediction(server, inference, model, args.start_timeout) is None:
                result["notes"].append(f"{model}: no successful prediction after start-up")
        log(f"{kind}: listening after {result['startup']['start_to_listening_s']} s, first MLP prediction after {first} s")

        # Memory: every model loaded with 1 worker, then scaled to 4 workers each.
        for model in args.models:
            predict(inference, model)
        result["startup"]["rss_1_worker"] = measure_rss(server, rss_match)
        for model in args.models:
            t = time.monotonic()
            status, body = http_request("PUT", management, f"/models/{model}?min_worker=4&max_worker=4&synchronous=true",
                                timeout=300)
            if status != 200:
                result["notes"].append(f"scale {model} to 4: HTTP {status} {body[:200]!r}")
            result["startup"][f"scale_{model}_to_4_s"] = round(time.monotonic() - t, 3)
        for model in args.models:
            for _ in range(4):
                predict(inference, model)
        result["startup"]["rss_4_workers"] = measure_rss(server, rss_match)
        log(f"{kind}: RSS 1 worker {result['startup']['rss_1_worker']}, 4 workers {result['startup']['rss_4_workers']}")
        for model in args.models:
            http_request("PUT", management, f"/models/{model}?min_worker=1&max_worker=1&synchronous=true", timeout=300)

        # Registration time: the MLP archive again under another name, one worker, synchronous.
        t = time.monotonic()
        status, body = http_request("POST", management, "/models?url=mlp.mar&model_name=mlp2&initial_workers=1&synchronous=true",
                            timeout=300)
        result["startup"]["register_mlp_s"] = round(time.monotonic() - t, 3) if status == 200 else None
        if status != 200:
            result["notes"].append(f"register mlp2: HTTP {status} {body[:200]!r}")
        http_request("DELETE", management, "/models/mlp2", timeout=120)

        # The load matrix: each (model, batching) registered under its own name with its batch settings.
        for model in args.models:
            for batch in args.batching:
                delay = args.delay_ms if args.delay_ms is not None else MODELS[model]["delay_ms"]
                delay = delay if batch > 1 else 0
                name = f"{model}_b{batch}"
                query = (f"/models?url={MODELS[model]['mar']}&model_name={name}&batch_size={batch}"
                         f"&max_batch_delay={delay}&initial_workers={args.workers}&synchronous=true")
                t = time.monotonic()
                status, body = http_request("POST", management, query, timeout=300)
                register_s = time.monotonic() - t
                effective = None
                if status == 200:
                    dstatus, dbody = http_request("GET", management, f"/models/{name}", timeout=30)
                    try:
                        described = json.loads(dbody)[0]
                        effective = {"batchSize": described.get("batchSize"), "maxBatchDelay": described.get("maxBatchDelay")}
                    except (ValueError, IndexError, KeyError, TypeError):
                        pass
                if status != 200:
                    result["notes"].append(f"register {name}: HTTP {status} {body[:200]!r}")
                    continue
                if effective and effective.get("batchSize") not in (None, batch):
                    result["notes"].append(f"{name}: asked for batch {batch}, server reports {effective}")
                # Rename the route: wrk posts to /predictions/<name>.
                MODELS.setdefault(name, dict(MODELS[model]))
                pstatus, pbody = predict(inference, name)
                if pstatus != 200:
                    result["notes"].append(f"{name}: smoke prediction HTTP {pstatus} {pbody[:200]!r}")
                result.setdefault("smoke", {})[name] = {"status": pstatus, "body": pbody[:300].decode(errors="replace")}
                if pstatus == 200 and model == "mlp":
                    result["mlp_answer"] = pbody.decode(errors="replace")  # the floors answer this many bytes
                if pstatus == 200 and model == "mlp" and b'"prediction"' not in pbody:
                    result["notes"].append(f"{name}: answer has no \"prediction\" field: {pbody[:200]!r}")
                if args.warmup > 0:
                    run_wrk(inference, name, min(8, max(args.concurrency)), args.warmup)
                for conc in args.concurrency:
                    before = scrape_overhead(metrics) if kind == "ember" else {}
                    cpu_before = floors.cpu_seconds(server.proc.pid)
                    run = run_wrk(inference, name, conc, args.duration)
                    add_cpu(run, floors.cpu_seconds(server.proc.pid) - cpu_before)
                    if kind == "ember":
                        run["server_overhead"] = overhead_us(before, scrape_overhead(metrics))
                    run.update({"model": model, "batch": batch, "delay_ms": delay, "concurrency": conc,
                                "register_s": round(register_s, 3), "effective": effective})
                    result["runs"].append(run)
                    log(f"{kind} {name} c={conc}: " + (f"{run['req_per_s']:.1f} req/s p50 {run['p50_ms']:.2f} ms "
                        f"p99 {run['p99_ms']:.2f} ms errors {run['errors']}" if "error" not in run else run["error"]))
                    if grpc_inference and model == "mlp" and conc in args.grpc_concurrency:
                        grpc_run = run_grpc_load(grpc_inference, name, conc, args.duration)
                        grpc_run.update({"model": model, "batch": batch, "concurrency": conc})
                        result["grpc_runs"].append(grpc_run)
                        log(f"{kind} {name} gRPC c={conc}: " + (f"{grpc_run['req_per_s']:.1f} req/s p50 "
                            f"{grpc_run['p50_ms']:.2f} ms errors {grpc_run['errors']}" if "error" not in grpc_run
                            else grpc_run["error"]))
                    if not server.alive():
                        break
                http_request("DELETE", management, f"/models/{name}", timeout=120)
                if not server.alive():
                    result["error"] = f"{kind} exited during the load runs; see {server.log_path}"
                    return result
        # GET /ping, compared with the floors' GET.
        if kind == "ember" and not args.no_http_floors:
            for conc in args.floor_concurrency:
                run = floors.measured(server.proc.pid, f"http://127.0.0.1:{inference}/ping", conc, args.duration)
                run.update({"concurrency": conc, "method": "GET"})
                result.setdefault("ping_runs", []).append(run)
                if "error" not in run:
                    log(f"{kind} /ping c={conc}: {run['req_per_s']:.0f} req/s, {run['cpu_us_per_request']:.1f} CPU µs/request")
    finally:
        server.stop()
    return result


def add_cpu(run, spent):
    """The server's user+system seconds over the run, per request answered and in cores."""
    if "error" in run:
        return
    run["cpu_s"] = round(spent, 2)
    run["cpu_us_per_request"] = spent * 1e6 / run["requests"] if run["requests"] else None
    run["cores"] = spent / run["seconds"] if run["seconds"] else None


def run_ember(args, work):
    ok, note = ensure_ember_archives(args.ember_model_store)
    if not ok:
        return {"kind": "ember", "error": note, "runs": [], "startup": {}, "notes": []}
    ports = free_ports(5)
    config = os.path.join(work, "ember-config.properties")
    write_config(config, ports, os.path.join(ROOT, args.ember_model_store), CONFIG_EXTRA)
    argv = [args.ember_bin, "--start", "--foreground", "--model-store", args.ember_model_store, "--models",
            *[f"{m}={MODELS[m]['mar']}" for m in args.models], "--ts-config", config, "--disable-token-auth"]
    env = server_env()
    log("ember: " + " ".join(argv))
    return serve_and_measure("ember", argv, ROOT, env, work, ports, args)


# ---------------------------------------------------------------------------------------------------
# TorchServe 0.12.0 in benchmarks/.venv over Debian's torch.

TS_PURE_DEPS = ["enum-compat==0.0.3", "tqdm"]  # torch-model-archiver's and captum's pure-Python needs


def ensure_torchserve():
    vpython = os.path.join(VENV, "bin", "python")
    if not os.access(vpython, os.X_OK):
        log("creating benchmarks/.venv (--system-site-packages: Debian's torch)")
        run_cmd([SYSTEM_PYTHON, "-m", "venv", "--system-site-packages", VENV], timeout=300)
    check = "import ts, model_archiver, captum.attr, torch, torchvision, matplotlib, psutil, PIL, packaging"
    code, _ = run_cmd([vpython, "-c", check], timeout=120, check=False)
    if code != 0:
        # Debian packages first (torch, torchvision, matplotlib for captum), then PyPI with --no-deps so
        # pip never pulls the torch wheel; the pure dependencies are listed explicitly.
        if os.geteuid() == 0 and shutil.which("apt-get"):
            run_cmd(["apt-get", "install", "-y", "python3-torch", "python3-torchvision", "python3-matplotlib",
                     "python3-psutil", "python3-packaging", "python3-pil", "python3-venv", "openjdk-17-jre-headless"],
                    timeout=1800, check=False)
        pip = [vpython, "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        run_cmd(pip + ["--no-deps", "torchserve==0.12.0", "torch-model-archiver==0.12.0", "captum==0.7.0",
                       *TS_PURE_DEPS], timeout=1800)
        run_cmd(pip + ["psutil", "packaging", "wheel", "Pillow"], timeout=1800)
        run_cmd([vpython, "-c", check], timeout=120)
    code, torch_path = run_cmd([vpython, "-c", "import torch; print(torch.__file__)"], timeout=120)
    if not torch_path.strip().startswith("/usr/lib/python3/"):
        log(f"warning: the venv's torch is not Debian's: {torch_path.strip()}")
    if not shutil.which("java"):
        raise RuntimeError("java not found (Debian: apt-get install openjdk-17-jre-headless)")
    return vpython


def make_torchserve_archives(store):
    os.makedirs(store, exist_ok=True)
    archiver = os.path.join(VENV, "bin", "torch-model-archiver")
    common = ["--version", "1.0", "--export-path", store, "--force"]
    # No model-config.yaml in these archives: TorchServe then takes batch settings from the registration.
    run_cmd([archiver, "--model-name", "mlp", "--serialized-file", "examples/mlp/mlp.pt",
             "--handler", "benchmarks/torchserve/mlp_handler.py", *common], timeout=300)
    run_cmd([archiver, "--model-name", "resnet18", "--serialized-file", "examples/resnet18/resnet18.pt",
             "--handler", "image_classifier", "--extra-files", "examples/resnet18/index_to_name.json", *common],
            timeout=600)


def run_torchserve(args, work):
    try:
        ensure_torchserve()
        store = os.path.join(work, "ts_model_store")
        make_torchserve_archives(store)
    except RuntimeError as error:
        log(f"TorchServe setup failed: {error}")
        return {"kind": "torchserve", "error": f"setup failed: {error}", "runs": [], "startup": {}, "notes": []}
    ports = free_ports(5)
    config = os.path.join(work, "ts-config.properties")
    # TorchServe also opens two gRPC ports (7070/7071 by default) and names its workers' Unix sockets
    # after initial_worker_port (9000): move them away from the defaults as well.
    worker_base = 30000 + int.from_bytes(os.urandom(2), "big") % 20000
    write_config(config, ports, store, CONFIG_EXTRA + f"initial_worker_port={worker_base}\n")
    ts_work = os.path.join(work, "torchserve")
    os.makedirs(ts_work, exist_ok=True)
    argv = [os.path.join(VENV, "bin", "torchserve"), "--start", "--foreground", "--ncs", "--disable-token-auth",
            "--model-store", store, "--ts-config", config,
            "--models", *[f"{m}={MODELS[m]['mar']}" for m in args.models]]
    env = dict(os.environ, LOG_LOCATION=os.path.join(ts_work, "logs"), METRICS_LOCATION=os.path.join(ts_work, "logs"),
               PATH=os.path.join(VENV, "bin") + os.pathsep + os.environ.get("PATH", ""))
    env.pop("PYTHONPATH", None)
    log("torchserve: " + " ".join(argv))
    # Memory: the Java frontend and its worker processes (not the Python launcher).
    return serve_and_measure("torchserve", argv, ts_work, env, work, ports, args,
                             rss_match="org.pytorch.serve.ModelServer")


def run_ember_python(args, work):
    """Ember serving TorchServe's own MLP archive (handler benchmarks/torchserve/mlp_handler.py) on its
    Python workers, with the TorchServe venv's interpreter: the same archive and load as TorchServe's rows."""
    try:
        vpython = ensure_torchserve()
        store = os.path.join(work, "ts_model_store")
        make_torchserve_archives(store)
    except RuntimeError as error:
        return {"kind": "ember-python", "error": f"setup failed: {error}", "runs": [], "startup": {}, "notes": []}
    ports = free_ports(5)
    config = os.path.join(work, "ember-python-config.properties")
    write_config(config, ports, store, CONFIG_EXTRA + f"python_executable={vpython}\n")
    argv = [args.ember_bin, "--start", "--foreground", "--model-store", store, "--models", "mlp=mlp.mar",
            "--ts-config", config, "--disable-token-auth"]
    only_mlp = argparse.Namespace(**vars(args))
    only_mlp.models = ["mlp"]
    log("ember-python: " + " ".join(argv))
    return serve_and_measure("ember-python", argv, ROOT, server_env(), work, ports, only_mlp)


def python_report(args, ember_python, torchserve):
    """Ember's Python workers against TorchServe on the same Python-handler archive."""
    lines = ["", "Python handler (TorchServe's MLP archive, `benchmarks/torchserve/mlp_handler.py`): Ember's Python "
             "workers against TorchServe, same archive, workers and load.", ""]
    if ember_python.get("error"):
        return lines + [f"**Ember (Python workers): not measured** — {one_line(ember_python['error'])}"]
    for note in ember_python.get("notes", []):
        lines.append(f"- Ember (Python workers) note: {one_line(note)}")
    lines += ["| batching | conc | ember-py req/s | p50 ms | p99 ms | errors | torchserve req/s | ts p50 ms | ts p99 ms | ember-py/ts |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for run in ember_python.get("runs", []):
        if "error" in run:
            continue
        ts = next((r for r in (torchserve or {}).get("runs", []) if r["model"] == "mlp" and r["batch"] == run["batch"]
                   and r["concurrency"] == run["concurrency"] and "error" not in r), None)
        batching = f"{run['batch']} ({run['delay_ms']} ms)" if run["batch"] > 1 else "1"
        cells = [batching, str(run["concurrency"]), fmt(run["req_per_s"]), fmt(run["p50_ms"], 2), fmt(run["p99_ms"], 2),
                 str(run["errors"])]
        if ts:
            cells += [fmt(ts["req_per_s"]), fmt(ts["p50_ms"], 2), fmt(ts["p99_ms"], 2),
                      f"{run['req_per_s'] / ts['req_per_s']:.1f}×" if ts["req_per_s"] else "–"]
        else:
            cells += ["not run"] * 3 + ["–"]
        lines.append("| " + " | ".join(cells) + " |")
    for key, label in (("rss_1_worker", "1 worker"), ("rss_4_workers", "4 workers")):
        ev = (ember_python.get("startup", {}).get(key) or {}).get("rss_mib")
        tv = ((torchserve or {}).get("startup", {}).get(key) or {}).get("rss_mib")
        lines.append(f"- resident memory, {label}: Ember {fmt(ev)} MiB, TorchServe {fmt(tv)} MiB (both with their Python workers)")
    return lines


# ---------------------------------------------------------------------------------------------------
# Report.

def one_line(text, limit=400):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + " …"


def fmt(x, digits=1):
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    return f"{x:,}" if isinstance(x, int) else str(x)


def floor_rows_per_s(floor, model, batch, threads):
    for row in floor:
        if row.get("kind") == "floor" and row["model"] == model and row["batch"] == batch and row["threads"] == threads:
            return row["rows_per_s"], row["mean_ms"]
    return None, None


def report(args, meta, floor, ember, torchserve, image_rows=(), http_floors=()):
    lines = [f"# Ember benchmark, {meta['date']} on {meta['host']}", "",
             f"Machine: {meta['machine']}. Load generator (wrk) on the same machine, sharing its cores.",
             f"Load: wrk, {args.duration} s per row, one wrk thread, connections = concurrency; "
             f"{args.workers} worker(s) per model; batching = batchSize (maxBatchDelay in ms). "
             f"Floor: ember-floor-bench, one thread, {args.floor_compare_threads} intra-op thread(s), "
             "rows/s at the same batch size as the server's.", ""]
    for name, part in (("Ember", ember), ("TorchServe", torchserve)):
        if part and part.get("error"):
            lines += [f"**{name}: not measured** — {one_line(part['error'])}", ""]
        for note in (part or {}).get("notes", []):
            lines.append(f"- {name} note: {one_line(note)}")
    if any((p or {}).get("notes") for p in (ember, torchserve)):
        lines.append("")

    def find(part, model, batch, conc):
        for run in (part or {}).get("runs", []):
            if run["model"] == model and run["batch"] == batch and run["concurrency"] == conc:
                return run
        return None

    lines += floors_table(args, http_floors, ember)
    header = ["model", "batching", "conc", "ember req/s", "p50 ms", "p90 ms", "p99 ms", "errors",
              "CPU µs/req", "floor rows/s", "ember/model floor", "ember/NIO floor"]
    if torchserve is not None:
        header += ["torchserve req/s", "ts p50 ms", "ts p99 ms", "ts errors", "ember/ts"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for model in args.models:
        for batch in args.batching:
            delay = args.delay_ms if args.delay_ms is not None else MODELS[model]["delay_ms"]
            batching = "1" if batch == 1 else f"{batch} ({delay} ms)"
            floor_rps, _ = floor_rows_per_s(floor, model, batch, args.floor_compare_threads)
            for conc in args.concurrency:
                e = find(ember, model, batch, conc)
                t = find(torchserve, model, batch, conc)
                ok_e = e is not None and "error" not in e
                ok_t = t is not None and "error" not in t
                row = [model, batching, str(conc),
                       fmt(e["req_per_s"]) if ok_e else "–",
                       fmt(e["p50_ms"], 2) if ok_e else "–",
                       fmt(e["p90_ms"], 2) if ok_e else "–",
                       fmt(e["p99_ms"], 2) if ok_e else "–",
                       fmt(e["errors"]) if ok_e else "–",
                       fmt(e.get("cpu_us_per_request")) if ok_e else "–",
                       fmt(floor_rps),
                       f"{e['req_per_s'] / floor_rps:.2f}" if ok_e and floor_rps else "–",
                       nio_ratio(http_floors, e, "POST", conc) if ok_e else "–"]
                if torchserve is not None:
                    row += [fmt(t["req_per_s"]) if ok_t else "–",
                            fmt(t["p50_ms"], 2) if ok_t else "–",
                            fmt(t["p99_ms"], 2) if ok_t else "–",
                            fmt(t["errors"]) if ok_t else "–",
                            f"{e['req_per_s'] / t['req_per_s']:.1f}×" if ok_e and ok_t and t["req_per_s"] else "–"]
                lines.append("| " + " | ".join(row) + " |")
    lines.append("")

    grpc_rows = [(name, part, run) for name, part in (("ember", ember), ("torchserve", torchserve))
                 for run in (part or {}).get("grpc_runs", [])]
    if grpc_rows:
        lines += ["gRPC: TorchServe's `Predictions` (benchmarks/grpc_load.py: grpcio, closed loop, "
                  f"{args.duration} s, 2 client processes) beside the same server's REST row (wrk):", "",
                  "| server | model | batching | conc | gRPC req/s | gRPC p50 ms | gRPC p99 ms | gRPC errors | REST req/s | gRPC/REST |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for name, part, run in grpc_rows:
            rest = find(part, run["model"], run["batch"], run["concurrency"])
            ok = "error" not in run
            ok_rest = rest is not None and "error" not in rest
            batching = "1" if run["batch"] == 1 else str(run["batch"])
            lines.append("| " + " | ".join([
                name, run["model"], batching, str(run["concurrency"]),
                fmt(run["req_per_s"]) if ok else f"failed: {one_line(run['error'], 120)}",
                fmt(run["p50_ms"], 2) if ok else "–", fmt(run["p99_ms"], 2) if ok else "–",
                fmt(run["errors"]) if ok else "–", fmt(rest["req_per_s"]) if ok_rest else "–",
                f"{run['req_per_s'] / rest['req_per_s']:.2f}" if ok and ok_rest and rest["req_per_s"] else "–"]) + " |")
        lines.append("")

    def startup(part, key, sub=None):
        value = (part or {}).get("startup", {}).get(key)
        if isinstance(value, dict) and sub:
            value = value.get(sub)
        return value

    extra = [
        ("Resident memory, every model with 1 worker (MiB)", "rss_1_worker", "rss_mib", 1),
        ("Resident memory, every model with 4 workers (MiB)", "rss_4_workers", "rss_mib", 1),
        ("Start to 'Model server started.' (s)", "start_to_listening_s", None, 3),
        ("Start to first successful MLP prediction (s)", "start_to_first_mlp_prediction_s", None, 3),
        ("Register mlp.mar, 1 worker, synchronous (s)", "register_mlp_s", None, 3),
    ]
    lines += ["| measure | ember | torchserve | ember/ts |", "|---|---|---|---|"]
    for label, key, sub, digits in extra:
        ev, tv = startup(ember, key, sub), startup(torchserve, key, sub)
        ratio = f"{ev / tv:.2f}" if isinstance(ev, (int, float)) and isinstance(tv, (int, float)) and tv else "–"
        lines.append(f"| {label} | {fmt(ev, digits)} | {fmt(tv, digits) if torchserve is not None else 'not run'} | {ratio} |")
    lines.append("")
    lines.append("TorchServe memory counts the Java frontend and its Python workers (not the `torchserve` launcher); "
                 "Ember's counts its process tree.")

    overheads = [(r["model"], r["batch"], r["concurrency"], r["server_overhead"]) for r in (ember or {}).get("runs", [])
                 if r.get("server_overhead")]
    if overheads:
        lines += ["", "Ember server-side overhead (metric hook, mean per request):"]
        for model, batch, conc, o in overheads:
            lines.append(f"- {model} batch {batch} conc {conc}: {o['mean_us']:.1f} µs ({o['metric']})")
    elif ember and ember.get("runs"):
        lines += ["", "Ember server-side overhead: no overhead metric found on /metrics "
                      "(HOOK(ember-metrics) in benchmarks/run.py lists the names looked for)."]

    floor_lines = [r for r in floor if r.get("kind") == "floor"]
    if floor_lines:
        lines += ["", "Floor (in-process forwards, no HTTP):", "",
                  "| model | batch | intra-op threads | forwards/s | rows/s | mean forward ms |", "|---|---|---|---|---|---|"]
        for r in floor_lines:
            lines.append(f"| {r['model']} | {r['batch']} | {r['threads']} | {fmt(r['forwards_per_s'])} | "
                         f"{fmt(r['rows_per_s'])} | {fmt(r['mean_ms'], 3)} |")
    for r in floor:
        if r.get("kind") == "floor_error":
            lines.append(f"- floor error: {r}")

    if image_rows:
        lines += [""] + image_pipeline.table(image_rows)

    lines += ["", "Targets (issue 5):", ""] + targets(args, floor, ember, torchserve, find)
    lines += ["", "Targets (issue 15; req/s ratios need a quiet machine, CPU ratios hold on a loaded one):", ""] + \
        targets15(floor, ember, torchserve, find, http_floors)
    return "\n".join(lines) + "\n"


def nio_ratio(http_floors, run, method, conc):
    nio = floors.find(http_floors, "nio", method, conc)
    return f"{run['req_per_s'] / nio['req_per_s']:.2f}" if nio and nio["req_per_s"] else "–"


def floors_table(args, http_floors, ember):
    """The HTTP floors and Ember's /ping beside them: req/s, p99, CPU µs per request, ratios to the NIO floor."""
    if not http_floors:
        return []
    lines = ["HTTP floors (benchmarks/floors.py): the same wrk load (one thread), the MLP's request body, an answer "
             "of the MLP answer's size; CPU is the server's user+system time over the requests answered.", "",
             "| server | method | conc | req/s | p50 ms | p99 ms | errors | CPU µs/req | cores | /NIO floor |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    names = {"nginx": "nginx (1 worker, return 200)", "nio": "bare SwiftNIO NIOHTTP1", "hummingbird": "bare Hummingbird 2 route"}
    for row in http_floors:
        if "error" in row:
            lines.append(f"| {names.get(row['floor'], row['floor'])} | – | – | not measured: {one_line(row['error'], 120)} | | | | | | |")
            continue
        lines.append(f"| {names[row['floor']]} | {row['method']} | {row['concurrency']} | {fmt(row['req_per_s'])} | "
                     f"{fmt(row['p50_ms'], 2)} | {fmt(row['p99_ms'], 2)} | {row['errors']} | "
                     f"{fmt(row.get('cpu_us_per_request'))} | {fmt(row.get('cores'), 2)} | "
                     f"{nio_ratio(http_floors, row, row['method'], row['concurrency'])} |")
    for run in (ember or {}).get("ping_runs", []):
        if "error" in run:
            continue
        lines.append(f"| Ember /ping | GET | {run['concurrency']} | {fmt(run['req_per_s'])} | {fmt(run['p50_ms'], 2)} | "
                     f"{fmt(run['p99_ms'], 2)} | {run['errors']} | {fmt(run.get('cpu_us_per_request'))} | "
                     f"{fmt(run.get('cores'), 2)} | {nio_ratio(http_floors, run, 'GET', run['concurrency'])} |")
    return lines + [""]


def targets15(floor, ember, torchserve, find, http_floors):
    out = []

    def verdict(ok):
        return "n/a (not measured)" if ok is None else ("PASS" if ok else "MISS")

    def ok_run(run):
        return run if run and "error" not in run else None

    def cpu_ratio(floor_row, run):
        if floor_row and run and floor_row.get("cpu_us_per_request") and run.get("cpu_us_per_request"):
            return floor_row["cpu_us_per_request"] / run["cpu_us_per_request"]
        return None

    e32, nio_post = ok_run(find(ember, "mlp", 1, 32)), floors.find(http_floors, "nio", "POST", 32)
    ratio = e32["req_per_s"] / nio_post["req_per_s"] if e32 and nio_post and nio_post["req_per_s"] else None
    cpu = cpu_ratio(nio_post, e32)
    out.append(f"- MLP batch 1, conc 32 ≥ 0.5 of the NIO floor's POST req/s: {verdict(None if ratio is None else ratio >= 0.5)}"
               + (f" ({ratio:.2f}; by CPU per request {cpu:.2f})" if ratio is not None and cpu else ""))
    t32 = ok_run(find(torchserve, "mlp", 1, 32))
    ok = None if not (e32 and t32) else e32["req_per_s"] >= 30 * t32["req_per_s"] and e32["p99_ms"] <= t32["p99_ms"] / 10
    out.append(f"- MLP batch 1, conc 32 ≥ 30× TorchServe, p99 ≤ 1/10: {verdict(ok)}")
    ping = next((r for r in (ember or {}).get("ping_runs", []) if r.get("concurrency") == 32 and "error" not in r), None)
    nio_get = floors.find(http_floors, "nio", "GET", 32)
    ratio = ping["req_per_s"] / nio_get["req_per_s"] if ping and nio_get and nio_get["req_per_s"] else None
    cpu = cpu_ratio(nio_get, ping)
    out.append(f"- /ping conc 32 ≥ 0.7 of the NIO floor's GET: {verdict(None if ratio is None else ratio >= 0.7)}"
               + (f" ({ratio:.2f}; by CPU per request {cpu:.2f})" if ratio is not None and cpu else ""))
    e1 = ok_run(find(ember, "mlp", 1, 1))
    o = (e1 or {}).get("server_overhead")
    out.append(f"- conc 1: server overhead ≤ 25 µs above the forward: {verdict(None if not o else o['mean_us'] <= 25)}"
               + (f" ({o['mean_us']:.1f} µs)" if o else ""))
    out.append(f"- conc 1: ≥ 5,500 req/s: {verdict(None if not e1 else e1['req_per_s'] >= 5500)}"
               + (f" ({e1['req_per_s']:,.0f}; server {e1.get('cores', 0):.2f} cores, target ≤ 1)" if e1 else ""))
    return out


def targets(args, floor, ember, torchserve, find):
    out = []

    def verdict(ok):
        return "n/a (not measured)" if ok is None else ("PASS" if ok else "MISS")

    def ok_run(run):
        return run if run and "error" not in run else None

    e = ok_run(find(ember, "mlp", 1, 32))
    t = ok_run(find(torchserve, "mlp", 1, 32))
    ok = None
    detail = ""
    if e and t:
        ok = e["req_per_s"] >= 20 * t["req_per_s"] and e["p99_ms"] <= t["p99_ms"] / 10
        detail = f" ({e['req_per_s'] / max(t['req_per_s'], 1e-9):.1f}× req/s, p99 {e['p99_ms']:.2f} vs {t['p99_ms']:.2f} ms)"
    out.append(f"- MLP batch 1, conc 32: ≥20× TorchServe req/s and ≤1/10 its p99: {verdict(ok)}{detail}")

    e1 = ok_run(find(ember, "mlp", 1, 1))
    o = e1.get("server_overhead") if e1 else None
    out.append(f"- Server overhead at conc 1 ≤ 50 µs: {verdict(None if not o else o['mean_us'] <= 50)}"
               + (f" ({o['mean_us']:.1f} µs)" if o else ""))

    big = max([b for b in args.batching if b > 1], default=None)
    er = ok_run(find(ember, "resnet18", big, 32)) if big else None
    floor_rps, _ = floor_rows_per_s(floor, "resnet18", big, args.floor_compare_threads) if big else (None, None)
    ok = None if not (er and floor_rps) else er["req_per_s"] >= 0.95 * floor_rps
    out.append(f"- ResNet-18 batch {big}, conc 32: ≥95% of the floor's batched rows/s: {verdict(ok)}"
               + (f" ({er['req_per_s'] / floor_rps:.0%})" if ok is not None else ""))

    for model in args.models:
        el = ok_run(find(ember, model, big, 1)) if big else None
        _, fwd_ms = floor_rows_per_s(floor, model, 1, args.floor_compare_threads)
        ok = None if not (el and fwd_ms is not None) else el["p50_ms"] <= fwd_ms + 1
        out.append(f"- {model}, batching on, lone request (conc 1) p50 ≤ forward + 1 ms: {verdict(ok)}"
                   + (f" ({el['p50_ms']:.2f} ms vs forward {fwd_ms:.2f} ms)" if ok is not None else ""))

    ev = ((ember or {}).get("startup", {}).get("rss_4_workers") or {}).get("rss_mib")
    tv = ((torchserve or {}).get("startup", {}).get("rss_4_workers") or {}).get("rss_mib")
    ok = None if not (ev and tv) else ev <= tv / 5
    out.append(f"- RSS with 4 workers ≤ 1/5 of TorchServe's: {verdict(ok)}" + (f" ({ev} vs {tv} MiB)" if ok is not None else ""))

    s = (ember or {}).get("startup", {}).get("start_to_first_mlp_prediction_s")
    out.append(f"- Start to first MLP prediction < 1 s: {verdict(None if s is None else s < 1)}" + (f" ({s} s)" if s else ""))
    return out


def guarded(kind, function, *args):
    """Runs one server's part; an unexpected failure is reported in the table instead of ending the run."""
    try:
        return function(*args)
    except Exception as error:  # noqa: BLE001 - the other parts still run and the servers are stopped
        log(f"{kind}: unexpected failure: {error!r}")
        stop_all()
        return {"kind": kind, "error": f"driver failure: {error!r}", "runs": [], "startup": {}, "notes": []}


def guarded_rows(function, *args):
    try:
        os.makedirs(args[0], exist_ok=True)
        return function(*args)
    except Exception as error:  # a failed stage must not lose the rest of the run
        return [{"kind": "image_pipeline_error", "error": f"{type(error).__name__}: {error}"}]


def machine_description():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / 1048576:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{cpu}, {os.cpu_count()} cores, {mem}, {platform.platform()}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--torchserve", action="store_true", help="also install and benchmark TorchServe 0.12.0")
    parser.add_argument("--no-ember", action="store_true", help="skip the Ember server")
    parser.add_argument("--ember-python", action="store_true",
                        help="also serve TorchServe's Python-handler MLP archive on Ember's Python workers")
    parser.add_argument("--no-image-pipeline", action="store_true",
                        help="skip the image pipeline's stage timings (benchmarks/image_pipeline.py)")
    parser.add_argument("--no-floor", action="store_true", help="skip the in-process floor")
    parser.add_argument("--no-http-floors", action="store_true", help="skip the nginx, SwiftNIO and Hummingbird floors")
    parser.add_argument("--floor-concurrency", default="1,32",
                        help="connections for the HTTP floors and Ember's /ping (default 1,32)")
    parser.add_argument("--no-build", action="store_true", help="use the existing release build")
    parser.add_argument("--ember-bin", default=EMBER, help="the ember executable (default .build/release/ember)")
    parser.add_argument("--ember-model-store", default="model_store",
                        help="Ember's model store, relative to the repository root (default model_store)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 s loads, concurrency 1,32, 1 s floor")
    parser.add_argument("--duration", type=int, default=10, help="seconds per load run (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up load per model/batching (default 2)")
    parser.add_argument("--concurrency", default="1,8,32,64", help="connections per run (default 1,8,32,64)")
    parser.add_argument("--grpc-concurrency", default="32",
                        help="concurrencies (among --concurrency) that also get a gRPC Predictions row for the MLP "
                             "(default 32; empty: none)")
    parser.add_argument("--models", default="mlp,resnet18", help="models (default mlp,resnet18)")
    parser.add_argument("--batching", default="1,8", help="batch sizes to serve with (default 1,8)")
    parser.add_argument("--delay-ms", type=int, default=None, help="maxBatchDelay when batching (default: mlp 5, resnet18 10)")
    parser.add_argument("--workers", type=int, default=1, help="workers per model in the load matrix (default 1)")
    parser.add_argument("--floor-seconds", type=float, default=3, help="seconds per floor configuration (default 3)")
    parser.add_argument("--floor-threads", default="1,2", help="intra-op threads for the floor (default 1,2)")
    parser.add_argument("--floor-compare-threads", type=int, default=1, help="floor row the table compares with (default 1)")
    parser.add_argument("--start-timeout", type=int, default=180, help="seconds to wait for a server to start")
    parser.add_argument("--results", default=os.path.join(BENCH, "results"), help="where the .md and .json go")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.concurrency, args.floor_seconds, args.warmup = 3, "1,32", 1.0, 1
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    args.grpc_concurrency = [int(c) for c in args.grpc_concurrency.split(",") if c]
    args.floor_concurrency = [int(c) for c in args.floor_concurrency.split(",")]
    args.batching = [int(b) for b in args.batching.split(",")]
    args.models = [m for m in args.models.split(",") if m]
    for m in args.models:
        if m not in MODELS:
            parser.error(f"unknown model {m}; known: {', '.join(MODELS)}")
    if not all(1 <= c <= 1024 for c in args.concurrency) or not 1 <= args.duration <= 600:
        parser.error("concurrency must be 1..1024 and duration 1..600 s")

    os.chdir(ROOT)
    os.makedirs(WORK, exist_ok=True)
    work = tempfile.mkdtemp(prefix="run-", dir=WORK)
    meta = {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "host": socket.gethostname(),
            "machine": machine_description(), "work": work,
            "git": run_cmd(["git", "rev-parse", "--short", "HEAD"], timeout=30, check=False)[1].strip()}
    log(f"work directory {work}")

    have_wrk = ensure_wrk()
    ensure_models()
    ember_ok, floor_ok, build_note = build(args.no_build)
    if args.ember_bin != EMBER:
        ember_ok = os.access(args.ember_bin, os.X_OK)
    meta["build"] = build_note

    floor = []
    if not args.no_floor:
        floor = run_floor(args) if floor_ok else [{"kind": "floor_error", "error": "ember-floor-bench not built"}]

    image_rows = []
    if not args.no_image_pipeline and "resnet18" in args.models:
        log("image pipeline: benchmarks/image_pipeline.py")
        image_rows = guarded_rows(image_pipeline.run, os.path.join(WORK, "images"), 1.0 if args.quick else 4.0)

    ember = None
    if not args.no_ember:
        if not have_wrk:
            ember = {"kind": "ember", "error": "wrk not available", "runs": [], "startup": {}, "notes": []}
        elif not ember_ok:
            ember = {"kind": "ember", "error": f"ember is not built or failed to build ({build_note}); "
                     "floor and TorchServe still run", "runs": [], "startup": {}, "notes": []}
            log("Ember: " + ember["error"])
        else:
            ember = guarded("ember", run_ember, args, work)
            if ember.get("error"):
                log("Ember: " + ember["error"])

    torchserve = None
    if args.torchserve:
        if not have_wrk:
            torchserve = {"kind": "torchserve", "error": "wrk not available", "runs": [], "startup": {}, "notes": []}
        else:
            torchserve = guarded("torchserve", run_torchserve, args, work)
    ember_python = None
    if args.ember_python and have_wrk and ember_ok:
        ember_python = guarded("ember-python", run_ember_python, args, work)
    http_floors = []
    if not args.no_http_floors and have_wrk:
        answer = ((ember or {}).get("mlp_answer") or FALLBACK_MLP_ANSWER).encode()
        http_floors = floors.run(work, answer, os.path.join(ROOT, MODELS["mlp"]["body"]), args.floor_concurrency,
                                 args.duration)
    stop_all()

    table = report(args, meta, floor, ember, torchserve, image_rows, http_floors)
    if ember_python is not None:
        table += "\n".join(python_report(args, ember_python, torchserve)) + "\n"
    print(table)
    os.makedirs(args.results, exist_ok=True)
    stem = datetime.datetime.now().strftime("%Y-%m-%d-%H%M") + "-" + re.sub(r"[^A-Za-z0-9_.-]", "_", meta["host"])
    with open(os.path.join(args.results, stem + ".md"), "w") as f:
        f.write(table)
    with open(os.path.join(args.results, stem + ".json"), "w") as f:
        json.dump({"meta": meta, "args": {k: v for k, v in vars(args).items()}, "floor": floor,
                   "ember": ember, "torchserve": torchserve, "http_floors": http_floors, "ember_python": ember_python, "image_pipeline": image_rows},
                  f, indent=1, default=str)
    log(f"results: {os.path.join(args.results, stem)}.md and .json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
