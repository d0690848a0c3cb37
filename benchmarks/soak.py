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

Faults (unless --no-faults): ember runs in background mode (`ember --start`), so its supervisor
restarts it; at evenly spaced moments (--kills, default 1) the server process gets SIGKILL under the
load, and the report gives how long until it answered HTTP, predicted (200) and was Healthy again. A
Python handler (Tests/EmberServerTests/Fixtures/python/behaviour_handler.py, archived as `hang`, response
timeout 2 s) is asked to sleep 60 s over and over: 500 each time, its worker replaced. Two slow clients
send each body in 8 pieces over 2 s (200), one client sends a request and closes the socket at once
(half the time after half the body). Every registration and scale the server answered 200 is recorded;
after the load, each model must still be listed with the worker count last answered (registrations
lost: must be 0).

Unexpected: a prediction that is not 200, a management call that is not its documented synchronous
answer (200), a failed connection; but failed connections and 503s from a kill -9 until the first 200
prediction after it (plus a second) are counted apart, "around the kill". Memory: the server's VmRSS every --sample-seconds; flat when every
sample of the last third stays within --tolerance of the first sample after the warm-up.
Exit status 0 only when nothing was unexpected and the memory is flat.
"""
import argparse
import atexit
import collections
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))  # benchmarks/common.py from any directory
from chaos import (Registrations, SupervisedEmber, Window, hanging_client, killer, leaving_client,  # noqa: E402
                   slow_client, wait_answering)
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
        self.around_kill = collections.Counter()
        self.examples = []

    def add(self, kind, status, expected, body=b"", around_kill=False):
        """`around_kill`: answered (or failed) while the server was down after a kill -9 or within a second
        of its return: failed connections (status 0) and 503s there are the kill's, not unexpected."""
        with self._lock:
            self.by_kind[kind][status] += 1
            if around_kill and status in (0, 503) and status not in expected:
                self.around_kill[kind] += 1
            elif status not in expected:
                self.unexpected[kind] += 1
                if len(self.examples) < 10:
                    self.examples.append(f"{kind}: HTTP {status} {body[:200]!r}")


# ---------------------------------------------------------------------------------------------------
# Load.

def predictor(port, model, body, content_type, counts, deadline, window):
    """Predictions on one keep-alive connection until the deadline; reconnects after a failure."""
    conn = None
    while not _stop.is_set() and time.monotonic() < deadline:
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            conn.request("POST", f"/predictions/{model}", body=body, headers={"Content-Type": content_type})
            response = conn.getresponse()
            data = response.read()
            counts.add(f"predict {model}", response.status, {200}, data, around_kill=window.contains(time.monotonic()))
            if response.will_close:
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException) as error:
            if _stop.is_set():
                break
            counts.add(f"predict {model}", 0, {200}, str(error).encode(), around_kill=window.contains(time.monotonic()))
            conn.close()
            conn = None
            time.sleep(0.05)
    if conn is not None:
        conn.close()


def manager(port, counts, deadline, cycles, window, registrations):
    """Scale mlp 1→3→1, register mlp.mar as mlp_soak, unregister it; until the deadline. Every answered
    call goes into `registrations` (what must survive a kill -9)."""
    steps = [
        ("scale mlp to 3", "PUT", "/models/mlp?min_worker=3&max_worker=3&synchronous=true", ("mlp", True, 3)),
        ("scale mlp to 1", "PUT", "/models/mlp?min_worker=1&max_worker=1&synchronous=true", ("mlp", True, 1)),
        ("register mlp_soak", "POST", "/models?url=mlp.mar&model_name=mlp_soak&initial_workers=1&synchronous=true",
         ("mlp_soak", True, 1)),
        ("unregister mlp_soak", "DELETE", "/models/mlp_soak", ("mlp_soak", False, None)),
    ]
    while not _stop.is_set() and time.monotonic() < deadline:
        for kind, method, path, (model, registered, workers) in steps:
            if _stop.is_set():
                return
            # After a call the kill left unanswered, the model may or may not be there.
            expected = {200, 404, 409} if registrations.is_unknown(model) else {200}
            status, body = http_request(method, port, path, timeout=120)
            if status == 200:
                registrations.answered(model, registered, workers)
            elif status == 0:
                registrations.unknown(model)
            elif status in (404, 409) and registrations.is_unknown(model):
                registrations.answered(model, status == 409)
            counts.add(kind, status, expected, body, around_kill=window.contains(time.monotonic()))
        cycles[0] += 1
        _stop.wait(0.5)


# ---------------------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the load runs (default 10)")
    parser.add_argument("--concurrency", type=int, default=32, help="MLP prediction threads (default 32; 0: none)")
    parser.add_argument("--no-management", action="store_true",
                        help="predictions only, no scaling or registering (to tell where memory goes)")
    parser.add_argument("--no-faults", action="store_true",
                        help="the plain soak: ember in the foreground, no kill, no hanging worker, no slow or leaving clients")
    parser.add_argument("--kills", type=int, default=1, help="kill -9 of the server this many times, evenly spaced (default 1)")
    parser.add_argument("--python", default=os.path.join(ROOT, ".venv", "bin", "python"),
                        help="the Python of the hanging handler's worker (the project's .venv, with TorchServe's ts)")
    parser.add_argument("--keep-log", help="copy the server's log (the supervisor's lines too) here at the end")
    parser.add_argument("--label", default="", help="a note for the report's title (e.g. the machine was shared)")
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
    if not 0.05 <= args.minutes <= 24 * 60 or not 0 <= args.concurrency <= 512 or not 0 <= args.kills <= 20:
        parser.error("--minutes must be in [0.05, 1440], --concurrency in [0, 512] and --kills in [0, 20]")
    faults = not args.no_faults
    if not os.access(args.ember_bin, os.X_OK):
        log(f"{args.ember_bin} is missing: `make soak` builds it (swift build -c release)")
        return 2
    source_store = os.path.abspath(args.model_store)
    if not os.path.exists(os.path.join(source_store, "mlp.mar")):
        log(f"{source_store}/mlp.mar is missing: `make examples` makes it")
        return 2
    if faults and not os.access(args.python, os.X_OK):
        log(f"{args.python} is missing: scripts/install-python-env.sh makes it (or --no-faults)")
        return 2
    with_resnet = os.path.exists(os.path.join(source_store, "resnet18.mar")) and args.resnet_concurrency > 0

    work = tempfile.mkdtemp(prefix="ember-soak-")
    atexit.register(shutil.rmtree, work, True)
    store = source_store
    extra = ""
    if faults:
        # A store of its own: the example archives and the hanging Python handler's.
        store = os.path.join(work, "store")
        os.makedirs(store)
        for name in ["mlp.mar"] + (["resnet18.mar"] if with_resnet else []):
            shutil.copy(os.path.join(source_store, name), store)
        archiver = os.path.join(os.path.dirname(args.python), "torch-model-archiver")
        handler = os.path.join(ROOT, "Tests", "EmberServerTests", "Fixtures", "python", "behaviour_handler.py")
        subprocess.run([archiver, "--model-name", "hang", "--version", "1.0", "--handler", handler,
                        "--export-path", store, "--force"], check=True)
        extra = f"python_executable={args.python}\n"
    ports = free_ports(3)
    inference, management = ports[0], ports[1]
    config = os.path.join(work, "config.properties")
    write_config(config, ports, store, extra)
    models = ["mlp=mlp.mar"] + (["resnet18=resnet18.mar"] if with_resnet else [])
    arguments = ["--model-store", store, "--models", *models, "--ts-config", config, "--disable-token-auth",
                 "--enable-model-api"]
    env = server_env(LOG_LOCATION=os.path.join(work, "logs"), TMPDIR=work)
    registrations = Registrations()
    window = Window()
    if faults:
        log("ember (supervised): " + " ".join([args.ember_bin, "--start", *arguments]))
        server = SupervisedEmber(args.ember_bin, arguments, work, env)
        atexit.register(server.stop)
        if wait_answering(inference, 180, _stop) is None:
            log("ember did not start:\n" + server.log_text()[-3000:])
            return 1
        # The hanging handler, with a response timeout short enough to hit often.
        status, body = http_request(
            "POST", management, "/models?url=hang.mar&initial_workers=1&response_timeout=2&synchronous=true", timeout=180)
        if status != 200:
            log(f"registering hang.mar answered {status}: {body[:300]!r}")
            return 1
        registrations.answered("hang", True, 1)
    else:
        argv = [args.ember_bin, "--start", "--foreground", *arguments]
        log("ember: " + " ".join(argv))
        server = Server("ember", argv, ROOT, env, os.path.join(work, "ember.log"), stop_timeout=30)
        if not server.wait_started(180):
            log("ember did not start:\n" + server.log_tail(3000))
            return 1
    for name in ["mlp"] + (["resnet18"] if with_resnet else []):
        registrations.answered(name, True, 1)

    with open(os.path.join(ROOT, "examples/mlp/sample.json"), "rb") as f:
        mlp_body = f.read()
    counts = Counts()
    cycles = [0]
    kills = []
    duration = args.minutes * 60
    start = time.monotonic()
    deadline = start + duration
    threads = [threading.Thread(target=predictor, args=(inference, "mlp", mlp_body, "application/json", counts, deadline,
                                                        window), daemon=True) for _ in range(args.concurrency)]
    if with_resnet:
        with open(os.path.join(ROOT, "examples/resnet18/sample.jpg"), "rb") as f:
            jpeg = f.read()
        threads += [threading.Thread(target=predictor, args=(inference, "resnet18", jpeg, "image/jpeg", counts, deadline,
                                                             window), daemon=True) for _ in range(args.resnet_concurrency)]
    if not args.no_management:
        threads.append(threading.Thread(target=manager, args=(management, counts, deadline, cycles, window, registrations),
                                        daemon=True))
    if faults:
        kill_times = [start + duration * (i + 1) / (args.kills + 1) for i in range(args.kills)]
        threads += [
            threading.Thread(target=killer, args=(server, inference, mlp_body, kill_times, window, _stop, kills), daemon=True),
            threading.Thread(target=hanging_client, args=(inference, counts, window, deadline, _stop), daemon=True),
            threading.Thread(target=leaving_client, args=(inference, mlp_body, counts, deadline, _stop), daemon=True),
        ] + [threading.Thread(target=slow_client, args=(inference, mlp_body, counts, window, deadline, _stop), daemon=True)
             for _ in range(2)]
    log(f"{args.minutes:g} min: {args.concurrency} MLP threads"
        + (f", {args.resnet_concurrency} ResNet-18 threads" if with_resnet else " (no model_store/resnet18.mar)")
        + (", no management thread" if args.no_management else ", 1 management thread")
        + (f"; faults: {args.kills} kill -9, a hanging worker, 2 slow clients, 1 leaving client" if faults else ""))
    for thread in threads:
        thread.start()

    samples = [(0.0, server.rss_kib(), server_pid(server))]
    while not _stop.is_set():
        now = time.monotonic()
        if now >= deadline:
            break
        _stop.wait(min(args.sample_seconds, deadline - now))
        if not faults and not server.alive():
            log("ember exited during the run")
            break
        samples.append((time.monotonic() - start, server.rss_kib(), server_pid(server)))
        total = sum(sum(c.values()) for c in counts.by_kind.values())
        log(f"t={samples[-1][0]:6.0f} s  rss={samples[-1][1] / 1024:7.1f} MiB  responses={total}")
    for thread in threads:
        thread.join(150)
    elapsed = time.monotonic() - start
    # After the last kill and the load: is every answered registration still there?
    lost, wrong, details = registrations.check(management) if faults else (0, 0, [])
    alive = server.alive()
    supervisor_log = server.log_text() if faults else ""
    if faults:
        server.stop()
    if args.keep_log:
        shutil.copy(server.log_path if faults else os.path.join(work, "ember.log"), args.keep_log)
    stop_server()

    report(args, counts, cycles, elapsed, with_resnet, faults, kills, lost, wrong, details, samples, duration,
           supervisor_log, alive)
    unexpected = sum(counts.unexpected.values())
    flat = memory_verdict(samples, duration, args)
    recovered = all(k[2] is not None for k in kills) and len(kills) == (args.kills if faults else 0)
    ok = unexpected == 0 and flat is not False and alive and lost == 0 and wrong == 0 and recovered
    print(f"Verdict: {'PASS' if ok else 'FAIL'}: {unexpected} unexpected responses"
          + ("" if alive else ", ember was not running at the end")
          + (f", {lost} registrations lost, {wrong} worker counts wrong, "
             f"{'every kill recovered' if recovered else 'a kill did not recover'}" if faults else "")
          + f", memory {'flat' if flat else 'not judged' if flat is None else 'not flat'} after warm-up.")
    return 0 if ok else 1


def server_pid(server):
    return server.server_pid() if isinstance(server, SupervisedEmber) else server.proc.pid


def report(args, counts, cycles, elapsed, with_resnet, faults, kills, lost, wrong, details, samples, duration,
           supervisor_log, alive):
    print(f"\nEmber soak{' with faults' if faults else ''}: {elapsed / 60:.1f} min, {args.concurrency} MLP threads"
          + (f" + {args.resnet_concurrency} ResNet-18" if with_resnet else "")
          + f", {cycles[0]} management cycles (scale 1→3→1, register/unregister mlp_soak)"
          + (f". {args.label}" if args.label else "") + "\n")
    print("| calls | sent | by status (0: no connection) | around the kill | unexpected |")
    print("|---|---:|---|---:|---:|")
    for kind in sorted(counts.by_kind):
        by_status = counts.by_kind[kind]
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(by_status.items(), key=lambda item: str(item[0])))
        print(f"| {kind} | {sum(by_status.values())} | {statuses} | {counts.around_kill[kind]} | {counts.unexpected[kind]} |")
    predictions = sum(sum(c.values()) for k, c in counts.by_kind.items() if k.startswith("predict"))
    print(f"\nPredictions: {predictions} ({predictions / elapsed:.0f}/s).")
    for example in counts.examples:
        print(f"  unexpected: {example}")
    if faults:
        print()
        def seconds(value):
            return "never (300 s)" if value is None else f"{value:.1f} s"
        print("| kill -9 of | HTTP answers again | first 200 prediction | /ping Healthy |")
        print("|---|---:|---:|---:|")
        for pid, answered, predicted, healthy in kills:
            print(f"| server process {pid} | {seconds(answered)} | {seconds(predicted)} | {seconds(healthy)} |")
        deaths = [line.split("ember supervisor: ", 1)[1] for line in supervisor_log.splitlines()
                  if "ember supervisor:" in line and ("killed" in line or "exited" in line)]
        for line in deaths:
            print(f"  supervisor: {line}")
        print(f"Registrations lost: {lost}; worker counts not restored: {wrong}.")
        for detail in details:
            print(f"  {detail}")
    print("\n| t (s) | VmRSS (MiB) | server pid |")
    print("|---:|---:|---:|")
    warmup = duration * args.warmup_fraction
    for t, kib, pid in samples:
        print(f"| {t:.0f} | {kib / 1024:.1f} | {pid} |" + (" warm-up" if t < warmup else ""))


def memory_verdict(samples, duration, args):
    """True/False: the last third within --tolerance of the first sample after the warm-up of the last
    server process; None: too few samples of that process to judge."""
    last_pid = samples[-1][2] if samples else None
    life = [(t, kib) for t, kib, pid in samples if pid == last_pid and kib > 0]
    if not life:
        print("\nMemory: no samples to judge.")
        return None
    warmup_end = life[0][0] + (duration - life[0][0]) * args.warmup_fraction
    after = [(t, kib) for t, kib in life if t >= warmup_end]
    last_third = [kib for t, kib in life if t >= start_of_last_third(duration)]
    if len(after) < 3 or not last_third:
        print("\nMemory: too few samples of the last server process after its warm-up to judge (run longer).")
        return None
    baseline = after[0][1]
    worst = max(abs(kib - baseline) / baseline for kib in last_third)
    flat = worst <= args.tolerance
    print(f"\nMemory (server process {last_pid}): baseline {baseline / 1024:.1f} MiB at t={after[0][0]:.0f} s; last third "
          f"{min(last_third) / 1024:.1f}–{max(last_third) / 1024:.1f} MiB, at most {worst * 100:.1f}% from the "
          f"baseline (limit {args.tolerance * 100:.0f}%): {'FLAT' if flat else 'NOT FLAT'}.")
    return flat


def start_of_last_third(duration):
    return duration * 2 / 3


if __name__ == "__main__":
    sys.exit(main())
