#!/usr/bin/python3
"""How Ember's cost grows with the work (issue 15): tables and a PNG under benchmarks/results/.

    benchmarks/curves.py            # the full curves (about 6 minutes)
    benchmarks/curves.py --quick    # fewer points, 3 s loads (about 2 minutes)
    make bench-curves               # release build, then this

Curves, each with its measured slope:
1. concurrency (1 … 1,024 connections), MLP batch 1, one worker: useful throughput (200s/s), p99, CPU µs
   per request, 503s; the overload rows (256 and 1,024) also probe the latency of admitted (200) and
   rejected (503) answers with a sequential client beside wrk, since wrk's percentiles mix the two;
2. rows per request (1, 10, 100, 1,000 MLP rows in one JSON body): req/s, rows/s, p99, CPU per request
   and the CPU cost per extra row;
3. registered models (1, 10, 100 copies of mlp.mar, one worker each): resident memory, register time,
   latency of the first and the last registered model; memory per model;
4. workers (1, 2, 4 for one MLP): resident memory and throughput; memory per extra worker.

Standard library plus Debian's python3-matplotlib for the PNG (skipped with a note when missing).
Ember: .build/release/ember (build it first: `swift build -c release`, or `make bench-curves`).
"""
import argparse
import datetime
import http.client
import json
import os
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import floors  # noqa: E402
from common import (ROOT, Server, free_ports, http_request, log, process_tree, set_log_tag, stop_all,  # noqa: E402
                    stop_on_exit, write_config)

set_log_tag("curves")
stop_on_exit(stop_all)
BENCH = os.path.join(ROOT, "benchmarks")
WORK = os.path.join(BENCH, ".work")
EMBER = os.path.join(ROOT, ".build", "release", "ember")
SAMPLE_ROW = [-0.8, -0.7, -0.6, -0.5, -0.4, -0.3, -0.2, -0.1, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]


def slope(xs, ys):
    """Least-squares slope and intercept of ys over xs (None when fewer than two points)."""
    points = [(x, y) for x, y in zip(xs, ys) if x is not None and y is not None]
    if len(points) < 2:
        return None, None
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return None, None
    b = sum((x - mx) * (y - my) for x, y in points) / sxx
    return b, my - b * mx


def body_file(work, rows):
    path = os.path.join(work, f"rows-{rows}.json")
    data = SAMPLE_ROW if rows == 1 else [SAMPLE_ROW] * rows
    with open(path, "w") as f:
        json.dump({"data": data}, f)
    return path


def rss_mib(pid):
    kib = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        kib += int(line.split()[1])
        except OSError:
            pass
    return kib / 1024


def register(management, name, workers=1, batch=1):
    started = time.monotonic()
    status, body = http_request(
        "POST", management, f"/models?url=mlp.mar&model_name={name}&batch_size={batch}&max_batch_delay=0"
        f"&initial_workers={workers}&synchronous=true", timeout=300)
    if status != 200:
        raise RuntimeError(f"register {name}: HTTP {status} {body[:200]!r}")
    return time.monotonic() - started


def latency_ms(port, model, body, count=50):
    """Mean latency of `count` sequential predictions on one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    try:
        for _ in range(count):
            started = time.perf_counter()
            conn.request("POST", f"/predictions/{model}", body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                times.append(time.perf_counter() - started)
    finally:
        conn.close()
    return sum(times) / len(times) * 1000 if times else None


class Probe(threading.Thread):
    """A sequential client beside wrk: the latency of each answer, split into 200s and 503s."""

    def __init__(self, port, model, body, duration):
        super().__init__(daemon=True)
        self.port, self.model, self.body, self.duration = port, model, body, duration
        self.ok, self.rejected, self.failures = [], [], 0

    def run(self):
        deadline = time.monotonic() + self.duration
        conn = None
        while time.monotonic() < deadline:
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                started = time.perf_counter()
                conn.request("POST", f"/predictions/{self.model}", body=self.body,
                             headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                elapsed = (time.perf_counter() - started) * 1000
                (self.ok if response.status == 200 else self.rejected).append(elapsed)
                if response.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                self.failures += 1
                conn = None
                time.sleep(0.01)
            time.sleep(0.002)


def percentile(values, q):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


class Ember:
    def __init__(self, work, queue_size, extra=""):
        self.ports = free_ports(3)
        config = os.path.join(work, f"curves-q{queue_size}-{self.ports[0]}.properties")
        write_config(config, self.ports, os.path.join(ROOT, "model_store"),
                     "default_workers_per_model=1\ndefault_response_timeout=120\n" + extra)
        with open(config) as f:
            text = f.read().replace("job_queue_size=1000", f"job_queue_size={queue_size}")
        with open(config, "w") as f:
            f.write(text)
        argv = [EMBER, "--start", "--foreground", "--model-store", "model_store", "--ts-config", config,
                "--disable-token-auth"]
        env = dict(os.environ, OPENBLAS_NUM_THREADS=os.environ.get("OPENBLAS_NUM_THREADS", "1"))
        self.server = Server("ember", argv, ROOT, env, os.path.join(work, f"ember-q{queue_size}-{self.ports[0]}.log"))
        if not self.server.wait_started(120):
            raise RuntimeError(f"ember did not start; see {self.server.log_path}")
        self.inference, self.management, _ = self.ports
        self.pid = self.server.proc.pid

    def url(self, model):
        return f"http://127.0.0.1:{self.inference}/predictions/{model}"


def concurrency_curve(work, args, body):
    log(f"concurrency curve {args.concurrency}, job_queue_size={args.queue_size}")
    ember = Ember(work, args.queue_size)
    rows = []
    try:
        register(ember.management, "mlp", workers=1, batch=1)
        floors.wrk(ember.url("mlp"), 8, 2, body)  # warm-up
        with open(body, "rb") as f:
            payload = f.read()
        for conc in args.concurrency:
            probe = Probe(ember.inference, "mlp", payload, args.duration) if conc >= 256 else None
            if probe:
                probe.start()
            run = floors.measured(ember.pid, ember.url("mlp"), conc, args.duration, body)
            if probe:
                probe.join(args.duration + 30)
            run["concurrency"] = conc
            run["rejected"] = run.get("error_detail", {}).get("status") if "error" not in run else None
            if probe:
                run["probe"] = {"ok": len(probe.ok), "rejected": len(probe.rejected), "failures": probe.failures,
                                "ok_p50_ms": percentile(probe.ok, 50), "ok_p99_ms": percentile(probe.ok, 99),
                                "rejected_p50_ms": percentile(probe.rejected, 50),
                                "rejected_p99_ms": percentile(probe.rejected, 99)}
            rows.append(run)
            if "error" in run:
                log(f"c={conc}: {run['error']}")
            else:
                log(f"c={conc}: {run['req_per_s']:.0f} 200s/s, p99 {run['p99_ms']:.2f} ms, "
                    f"{run['cpu_us_per_request']:.1f} CPU µs/req, 503s {run['rejected']}"
                    + (f", probe {run['probe']}" if probe else ""))
    finally:
        ember.server.stop()
    return rows


def rows_curve(work, args):
    log(f"rows-per-request curve {args.rows}")
    ember = Ember(work, 1000)
    out = []
    try:
        register(ember.management, "mlp", workers=1, batch=1)
        for rows in args.rows:
            body = body_file(work, rows)
            floors.wrk(ember.url("mlp"), 8, 1, body)
            run = floors.measured(ember.pid, ember.url("mlp"), 32, args.duration, body)
            run["rows"] = rows
            if "error" not in run:
                run["rows_per_s"] = run["req_per_s"] * rows
                log(f"rows={rows}: {run['req_per_s']:.0f} req/s, {run['rows_per_s']:.0f} rows/s, "
                    f"{run['cpu_us_per_request']:.1f} CPU µs/req, p99 {run['p99_ms']:.2f} ms")
            out.append(run)
    finally:
        ember.server.stop()
    return out


def models_curve(work, args, body):
    log(f"registered-models curve {args.models}")
    # One worker per copy: max_workers (16 per core by default) must allow them all.
    ember = Ember(work, 1000, f"max_workers={max(args.models) + 16}\nmax_workers_per_model=4\n")
    out = []
    with open(body, "rb") as f:
        payload = f.read()
    try:
        time.sleep(1)
        base = rss_mib(ember.pid)
        registered = 0
        register_times = []
        for target in args.models:
            while registered < target:
                register_times.append(register(ember.management, f"m{registered}"))
                registered += 1
            time.sleep(1)
            first = latency_ms(ember.inference, "m0", payload)
            last = latency_ms(ember.inference, f"m{registered - 1}", payload)
            row = {"models": target, "rss_mib": rss_mib(ember.pid), "base_rss_mib": base,
                   "mean_register_s": sum(register_times) / len(register_times),
                   "last_register_s": register_times[-1], "first_latency_ms": first, "last_latency_ms": last}
            out.append(row)
            log(f"models={target}: RSS {row['rss_mib']:.0f} MiB, register {row['mean_register_s'] * 1000:.0f} ms "
                f"(last {row['last_register_s'] * 1000:.0f}), latency first {first:.2f} ms, last {last:.2f} ms")
    finally:
        ember.server.stop()
    return out


def workers_curve(work, args, body):
    log(f"workers curve {args.workers}")
    ember = Ember(work, 1000)
    out = []
    try:
        register(ember.management, "mlp", workers=args.workers[0], batch=1)
        for count in args.workers:
            status, text = http_request("PUT", ember.management,
                                        f"/models/mlp?min_worker={count}&max_worker={count}&synchronous=true", timeout=300)
            if status != 200:
                raise RuntimeError(f"scale to {count}: HTTP {status} {text[:200]!r}")
            floors.wrk(ember.url("mlp"), 32, 1, body)
            time.sleep(0.5)
            rss = rss_mib(ember.pid)
            run = floors.measured(ember.pid, ember.url("mlp"), 32, args.duration, body)
            run.update({"workers": count, "rss_mib": rss})
            out.append(run)
            if "error" not in run:
                log(f"workers={count}: RSS {rss:.0f} MiB, {run['req_per_s']:.0f} req/s, "
                    f"{run['cpu_us_per_request']:.1f} CPU µs/req")
    finally:
        ember.server.stop()
    return out


def fmt(x, digits=1):
    if x is None:
        return "–"
    return f"{x:,.{digits}f}" if isinstance(x, float) else f"{x:,}"


def report(meta, conc, rows, models, workers):
    lines = [f"# Ember cost curves, {meta['date']} ({meta['git']})", "",
             f"Machine: {meta['machine']}; {meta['note']}", "",
             "## Concurrency (MLP batch 1, one worker, job_queue_size "
             f"{meta['queue_size']}; wrk -t1, {meta['duration']} s per point)", "",
             "| conc | 200s/s | p50 ms | p99 ms (all answers) | CPU µs/req | cores | 503s | probe 200 p99 ms | probe 503 p50 / p99 ms |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in conc:
        if "error" in r:
            lines.append(f"| {r['concurrency']} | {r['error']} | | | | | | | |")
            continue
        p = r.get("probe") or {}
        lines.append(f"| {r['concurrency']} | {fmt(r['req_per_s'], 0)} | {fmt(r['p50_ms'], 2)} | {fmt(r['p99_ms'], 2)} | "
                     f"{fmt(r['cpu_us_per_request'])} | {fmt(r['cores'], 2)} | {fmt(r['rejected'])} | "
                     f"{fmt(p.get('ok_p99_ms'), 2)} | {fmt(p.get('rejected_p50_ms'), 2)} / {fmt(p.get('rejected_p99_ms'), 2)} |")
    good = [r for r in conc if "error" not in r]
    if good:
        peak = max(r["req_per_s"] for r in good)
        worst = [r for r in good if r["concurrency"] >= 256]
        lines += ["", f"Peak {peak:,.0f} 200s/s; " + "; ".join(
            f"at {r['concurrency']} connections {r['req_per_s'] / peak:.0%} of the peak" for r in worst) + "."]
    lines += ["", "## Rows per request (MLP, one worker, 32 connections)", "",
              "| rows | req/s | rows/s | p99 ms | CPU µs/req | CPU µs/row |", "|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            continue
        lines.append(f"| {r['rows']} | {fmt(r['req_per_s'], 0)} | {fmt(r['rows_per_s'], 0)} | {fmt(r['p99_ms'], 2)} | "
                     f"{fmt(r['cpu_us_per_request'])} | {fmt(r['cpu_us_per_request'] / r['rows'], 2)} |")
    b, a = slope([r["rows"] for r in rows if "error" not in r], [r["cpu_us_per_request"] for r in rows if "error" not in r])
    if b is not None:
        lines += ["", f"Slope: {b:.2f} CPU µs per extra row (fixed cost per request {a:.0f} µs)."]
    lines += ["", "## Registered models (copies of mlp.mar, one worker each)", "",
              "| models | RSS MiB | mean register ms | last register ms | first model ms | last model ms |",
              "|---|---|---|---|---|---|"]
    for r in models:
        lines.append(f"| {r['models']} | {fmt(r['rss_mib'], 0)} | {fmt(r['mean_register_s'] * 1000, 0)} | "
                     f"{fmt(r['last_register_s'] * 1000, 0)} | {fmt(r['first_latency_ms'], 2)} | {fmt(r['last_latency_ms'], 2)} |")
    b, _ = slope([r["models"] for r in models], [r["rss_mib"] for r in models])
    if b is not None:
        lines += ["", f"Slope: {b:.2f} MiB per registered model (with its worker)."]
    lines += ["", "## Workers (one MLP, 32 connections)", "", "| workers | RSS MiB | req/s | p99 ms | CPU µs/req |",
              "|---|---|---|---|---|"]
    for r in workers:
        if "error" in r:
            continue
        lines.append(f"| {r['workers']} | {fmt(r['rss_mib'], 0)} | {fmt(r['req_per_s'], 0)} | {fmt(r['p99_ms'], 2)} | "
                     f"{fmt(r['cpu_us_per_request'])} |")
    b, _ = slope([r["workers"] for r in workers], [r["rss_mib"] for r in workers])
    if b is not None:
        lines += ["", f"Slope: {b:.2f} MiB per extra worker (the workers share one copy of the weights)."]
    return "\n".join(lines) + "\n"


def draw(path, conc, rows, models, workers):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib missing (Debian: apt-get install python3-matplotlib): no PNG"
    fig, axes = plt.subplots(2, 3, figsize=(17, 9))
    good = [r for r in conc if "error" not in r]
    ax = axes[0][0]
    ax.set_xscale("log", base=2)
    ax.plot([r["concurrency"] for r in good], [r["req_per_s"] for r in good], "o-", label="200s/s")
    ax.set_xlabel("connections")
    ax.set_ylabel("200s per second")
    ax2 = ax.twinx()
    ax2.plot([r["concurrency"] for r in good], [r["cpu_us_per_request"] for r in good], "s--", color="tab:red",
             label="CPU µs/req")
    ax2.set_ylabel("CPU µs per request")
    ax2.set_ylim(bottom=0)
    ax = axes[0][2]
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.plot([r["concurrency"] for r in good], [r["p99_ms"] for r in good], "o-", label="p99, every answer (wrk)")
    probed = [r for r in good if r.get("probe") and r["probe"].get("ok_p99_ms")]
    ax.plot([r["concurrency"] for r in probed], [r["probe"]["ok_p99_ms"] for r in probed], "s--", label="p99 of 200s (probe)")
    rejected = [r for r in good if r.get("probe") and r["probe"].get("rejected_p50_ms")]
    ax.plot([r["concurrency"] for r in rejected], [r["probe"]["rejected_p50_ms"] for r in rejected], "^:",
            label="p50 of 503s (probe)")
    ax.set_xlabel("connections")
    ax.set_ylabel("ms")
    ax.set_title("Latency vs concurrency")
    ax.legend()
    axes[0][0].set_title("MLP batch 1 vs concurrency: 200s/s and CPU per request")
    axes[0][0].legend(loc="upper left")
    ax2.legend(loc="lower right")
    good = [r for r in rows if "error" not in r]
    ax = axes[0][1]
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.plot([r["rows"] for r in good], [r["cpu_us_per_request"] for r in good], "o-", label="CPU µs/request")
    ax.plot([r["rows"] for r in good], [r["p99_ms"] * 1000 for r in good], "s--", label="p99 µs")
    ax.set_xlabel("rows per request")
    ax.set_title("Request size")
    ax.legend()
    ax = axes[1][0]
    ax.plot([r["models"] for r in models], [r["rss_mib"] for r in models], "o-", label="RSS MiB")
    ax.set_xlabel("registered MLP copies")
    ax.set_ylabel("MiB")
    ax3 = ax.twinx()
    ax3.plot([r["models"] for r in models], [r["mean_register_s"] * 1000 for r in models], "s--", color="tab:red",
             label="mean register ms")
    ax3.set_ylabel("ms")
    ax.set_title("Registered models")
    ax.legend(loc="upper left")
    ax3.legend(loc="lower right")
    good = [r for r in workers if "error" not in r]
    ax = axes[1][1]
    ax.plot([r["workers"] for r in good], [r["rss_mib"] for r in good], "o-", label="RSS MiB")
    ax.set_xlabel("workers")
    ax.set_ylabel("MiB")
    ax4 = ax.twinx()
    ax4.plot([r["workers"] for r in good], [r["req_per_s"] for r in good], "s--", color="tab:red", label="req/s")
    ax.set_title("Workers")
    ax.legend(loc="upper left")
    ax4.legend(loc="lower right")
    axes[1][2].axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer points and 3 s loads")
    parser.add_argument("--duration", type=int, default=6, help="seconds per load point (default 6)")
    parser.add_argument("--queue-size", type=int, default=100,
                        help="job_queue_size for the concurrency curve (default 100: 256 and 1,024 connections overflow it)")
    parser.add_argument("--only", default="concurrency,rows,models,workers", help="which curves (default all)")
    parser.add_argument("--note", default="", help="a line for the report (the machine's load, for one)")
    parser.add_argument("--results", default=os.path.join(BENCH, "results"))
    args = parser.parse_args()
    args.concurrency = [1, 4, 16, 32, 64, 256, 1024]
    args.rows = [1, 10, 100, 1000]
    args.models = [1, 10, 100]
    args.workers = [1, 2, 4]
    if args.quick:
        args.duration = 3
        args.concurrency = [1, 32, 256, 1024]
        args.models = [1, 10, 30]
    if not os.access(EMBER, os.X_OK):
        parser.error(f"{EMBER} is not built (swift build -c release)")
    os.chdir(ROOT)
    os.makedirs(WORK, exist_ok=True)
    work = tempfile.mkdtemp(prefix="curves-", dir=WORK)
    body = os.path.join(ROOT, "examples/mlp/sample.json")
    only = set(args.only.split(","))
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    meta = {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "host": socket.gethostname(),
            "machine": f"{os.cpu_count()} cores, load average {' '.join(load)} at the start",
            "note": args.note or "other processes may share the machine (see the load average)",
            "git": os.popen("git rev-parse --short HEAD").read().strip(), "duration": args.duration,
            "queue_size": args.queue_size}
    def curve(name, function, *arguments):
        """One curve; a failure is logged and leaves that curve empty, the others still run."""
        if name not in only:
            return []
        try:
            return function(*arguments)
        except (RuntimeError, OSError) as error:
            log(f"{name} curve failed: {error}")
            stop_all()
            return []

    conc = curve("concurrency", concurrency_curve, work, args, body)
    rows = curve("rows", rows_curve, work, args)
    models = curve("models", models_curve, work, args, body)
    workers = curve("workers", workers_curve, work, args, body)
    stop_all()
    text = report(meta, conc, rows, models, workers)
    stem = os.path.join(args.results, datetime.datetime.now().strftime("%Y-%m-%d-%H%M") + "-curves")
    problem = draw(stem + ".png", conc, rows, models, workers)
    if problem:
        text += f"\n{problem}\n"
    else:
        text += f"\n![curves]({os.path.basename(stem)}.png)\n"
    print(text)
    with open(stem + ".md", "w") as f:
        f.write(text)
    with open(stem + ".json", "w") as f:
        json.dump({"meta": meta, "concurrency": conc, "rows": rows, "models": models, "workers": workers}, f, indent=1)
    log(f"results: {stem}.md, .png and .json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
