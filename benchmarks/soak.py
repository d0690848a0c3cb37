#!/usr/bin/python3
"""Ember's soak test (issue 6, "Load"): predictions at high concurrency while the models are scaled and
registered/unregistered, for N minutes; every response counted by status, resident memory sampled.

Standard library only; run with Debian's /usr/bin/python3 from anywhere (`make soak` builds release first):

    benchmarks/soak.py                 # 10 minutes
    benchmarks/soak.py --minutes 2     # a short run
    benchmarks/soak.py --help

It starts `.build/release/ember` in its own process group on free loopback ports with a temporary
config (token authorization off, model API on, logs and snapshots in a temporary directory) and stops it
on exit (normal end, exception, SIGINT, SIGTERM). Traffic goes to 127.0.0.1 only.

Load: --concurrency threads predict on the MLP (examples/mlp/sample.json) over keep-alive connections;
if model_store/resnet18.mar exists, --resnet-concurrency threads predict on ResNet-18. A management
thread loops: scale mlp to 3 workers, back to 1, register mlp.mar as mlp_soak, unregister it.

Unexpected: a prediction that is not 200, a management call that is not its documented synchronous
answer (200), a failed connection. Memory: the server's VmRSS every --sample-seconds; flat when every
sample of the last third stays within --tolerance of the first sample after the warm-up.
Exit status 0 only when nothing was unexpected and the memory is flat.
"""
import argparse
import atexit
import collections
import http.client
import os
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))  # benchmarks/common.py from any directory
from common import (ROOT, Server, free_ports, http_request, log, server_env, set_log_tag, stop_all,  # noqa: E402
                    stop_on_exit, write_config)

set_log_tag("soak")


# ---------------------------------------------------------------------------------------------------
# The server process (common.Server: its own session), stopped on every way out; the load threads stop too.

_stop = threading.Event()


def stop_server():
    _stop.set()
    stop_all()


stop_on_exit(stop_server)


# ---------------------------------------------------------------------------------------------------
# Counting responses.

class Counts:
    """Responses by (kind, status), and the first few unexpected ones."""

    def __init__(self):
        self._lock = threading.Lock()
        self.by_kind = collections.defaultdict(collections.Counter)
        self.unexpected = collections.Counter()
        self.examples = []

    def add(self, kind, status, expected, body=b""):
        with self._lock:
            self.by_kind[kind][status] += 1
            if status not in expected:
                self.unexpected[kind] += 1
                if len(self.examples) < 10:
                    self.examples.append(f"{kind}: HTTP {status} {body[:200]!r}")


# ---------------------------------------------------------------------------------------------------
# Load.

def predictor(port, model, body, content_type, counts, deadline):
    """Predictions on one keep-alive connection until the deadline; reconnects after a failure."""
    conn = None
    while not _stop.is_set() and time.monotonic() < deadline:
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            conn.request("POST", f"/predictions/{model}", body=body, headers={"Content-Type": content_type})
            response = conn.getresponse()
            data = response.read()
            counts.add(f"predict {model}", response.status, {200}, data)
            if response.will_close:
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException) as error:
            if _stop.is_set():
                break
            counts.add(f"predict {model}", 0, {200}, str(error).encode())
            conn.close()
            conn = None
            time.sleep(0.05)
    if conn is not None:
        conn.close()


def manager(port, counts, deadline, cycles):
    """Scale mlp 1→3→1, register mlp.mar as mlp_soak, unregister it; until the deadline."""
    steps = [
        ("scale mlp to 3", "PUT", "/models/mlp?min_worker=3&max_worker=3&synchronous=true"),
        ("scale mlp to 1", "PUT", "/models/mlp?min_worker=1&max_worker=1&synchronous=true"),
        ("register mlp_soak", "POST", "/models?url=mlp.mar&model_name=mlp_soak&initial_workers=1&synchronous=true"),
        ("unregister mlp_soak", "DELETE", "/models/mlp_soak"),
    ]
    while not _stop.is_set() and time.monotonic() < deadline:
        for kind, method, path in steps:
            if _stop.is_set():
                return
            status, body = http_request(method, port, path, timeout=120)
            counts.add(kind, status, {200}, body)
        cycles[0] += 1
        _stop.wait(0.5)


# ---------------------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the load runs (default 10)")
    parser.add_argument("--concurrency", type=int, default=32, help="MLP prediction threads (default 32; 0: none)")
    parser.add_argument("--no-management", action="store_true",
                        help="predictions only, no scaling or registering (to tell where memory goes)")
    parser.add_argument("--resnet-concurrency", type=int, default=2,
                        help="ResNet-18 prediction threads when model_store/resnet18.mar exists (default 2)")
    parser.add_argument("--sample-seconds", type=float, default=10.0, help="VmRSS sampling period (default 10)")
    parser.add_argument("--warmup-fraction", type=float, default=0.2,
                        help="share of the run before the memory baseline is taken (default 0.2)")
    parser.add_argument("--tolerance", type=float, default=0.10,
                        help="how far the last third may stray from the baseline (default 0.10)")
    parser.add_argument("--ember-bin", default=os.path.join(ROOT, ".build", "release", "ember"))
    parser.add_argument("--model-store", default=os.path.join(ROOT, "model_store"))
    args = parser.parse_args()
    if not 0.05 <= args.minutes <= 24 * 60 or not 0 <= args.concurrency <= 512:
        parser.error("--minutes must be in [0.05, 1440] and --concurrency in [0, 512]")
    if not os.access(args.ember_bin, os.X_OK):
        log(f"{args.ember_bin} is missing: `make soak` builds it (swift build -c release)")
        return 2
    store = os.path.abspath(args.model_store)
    if not os.path.exists(os.path.join(store, "mlp.mar")):
        log(f"{store}/mlp.mar is missing: `make examples` makes it")
        return 2
    with_resnet = os.path.exists(os.path.join(store, "resnet18.mar")) and args.resnet_concurrency > 0

    work = tempfile.mkdtemp(prefix="ember-soak-")
    atexit.register(shutil.rmtree, work, True)
    ports = free_ports(3)
    inference, management = ports[0], ports[1]
    config = os.path.join(work, "config.properties")
    write_config(config, ports, store)
    models = ["mlp=mlp.mar"] + (["resnet18=resnet18.mar"] if with_resnet else [])
    argv = [args.ember_bin, "--start", "--foreground", "--model-store", store, "--models", *models,
            "--ts-config", config, "--disable-token-auth", "--enable-model-api"]
    env = server_env(LOG_LOCATION=os.path.join(work, "logs"), TMPDIR=work)
    log("ember: " + " ".join(argv))
    server = Server("ember", argv, ROOT, env, os.path.join(work, "ember.log"), stop_timeout=30)
    if not server.wait_started(180):
        log("ember did not start:\n" + server.log_tail(3000))
        return 1

    with open(os.path.join(ROOT, "examples/mlp/sample.json"), "rb") as f:
        mlp_body = f.read()
    counts = Counts()
    cycles = [0]
    duration = args.minutes * 60
    start = time.monotonic()
    deadline = start + duration
    threads = [threading.Thread(target=predictor, args=(inference, "mlp", mlp_body, "application/json", counts, deadline),
                                daemon=True) for _ in range(args.concurrency)]
    if with_resnet:
        with open(os.path.join(ROOT, "examples/resnet18/sample.jpg"), "rb") as f:
            jpeg = f.read()
        threads += [threading.Thread(target=predictor, args=(inference, "resnet18", jpeg, "image/jpeg", counts, deadline),
                                     daemon=True) for _ in range(args.resnet_concurrency)]
    if not args.no_management:
        threads.append(threading.Thread(target=manager, args=(management, counts, deadline, cycles), daemon=True))
    log(f"{args.minutes:g} min: {args.concurrency} MLP threads"
        + (f", {args.resnet_concurrency} ResNet-18 threads" if with_resnet else " (no model_store/resnet18.mar)")
        + (", no management thread" if args.no_management else ", 1 management thread"))
    for thread in threads:
        thread.start()

    samples = [(0.0, server.rss_kib())]
    while not _stop.is_set():
        now = time.monotonic()
        if now >= deadline:
            break
        _stop.wait(min(args.sample_seconds, deadline - now))
        if not server.alive():
            log("ember exited during the run")
            break
        samples.append((time.monotonic() - start, server.rss_kib()))
        total = sum(sum(c.values()) for c in counts.by_kind.values())
        log(f"t={samples[-1][0]:6.0f} s  rss={samples[-1][1] / 1024:7.1f} MiB  responses={total}")
    for thread in threads:
        thread.join(150)
    elapsed = time.monotonic() - start
    alive = server.alive()
    stop_server()

    # Report.
    print(f"\nEmber soak: {elapsed / 60:.1f} min, {args.concurrency} MLP threads"
          + (f" + {args.resnet_concurrency} ResNet-18" if with_resnet else "")
          + f", {cycles[0]} management cycles (scale 1→3→1, register/unregister mlp_soak)\n")
    print("| calls | total | by status | unexpected |")
    print("|---|---:|---|---:|")
    for kind in sorted(counts.by_kind):
        by_status = counts.by_kind[kind]
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(by_status.items()))
        print(f"| {kind} | {sum(by_status.values())} | {statuses} | {counts.unexpected[kind]} |")
    predictions = sum(sum(c.values()) for k, c in counts.by_kind.items() if k.startswith("predict"))
    print(f"\nPredictions: {predictions} ({predictions / elapsed:.0f}/s).")
    unexpected = sum(counts.unexpected.values())
    for example in counts.examples:
        print(f"  unexpected: {example}")

    warmup = duration * args.warmup_fraction
    print("\n| t (s) | VmRSS (MiB) |")
    print("|---:|---:|")
    for t, kib in samples:
        print(f"| {t:.0f} | {kib / 1024:.1f} |" + (" warm-up" if t < warmup else ""))
    after = [(t, kib) for t, kib in samples if t >= warmup and kib > 0]
    flat = False
    if len(after) >= 3:
        baseline = after[0][1]
        last_third = [kib for t, kib in samples if t >= start_of_last_third(duration) and kib > 0] or [after[-1][1]]
        worst = max(abs(kib - baseline) / baseline for kib in last_third)
        flat = worst <= args.tolerance
        print(f"\nMemory: baseline {baseline / 1024:.1f} MiB at t={after[0][0]:.0f} s; last third "
              f"{min(last_third) / 1024:.1f}–{max(last_third) / 1024:.1f} MiB, at most {worst * 100:.1f}% from the "
              f"baseline (limit {args.tolerance * 100:.0f}%): {'FLAT' if flat else 'NOT FLAT'}.")
    else:
        print("\nMemory: too few samples after the warm-up to judge (run longer).")
    ok = unexpected == 0 and flat and alive
    print(f"Verdict: {'PASS' if ok else 'FAIL'}: {unexpected} unexpected responses"
          + ("" if alive else ", ember exited during the run")
          + f", memory {'flat' if flat else 'not shown flat'} after warm-up.")
    return 0 if ok else 1


def start_of_last_third(duration):
    return duration * 2 / 3


if __name__ == "__main__":
    sys.exit(main())
