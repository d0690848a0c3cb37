#!/usr/bin/python3
"""Interleaved A/B runs of two (or more) ember binaries on a shared machine (issue 15's method).

    benchmarks/ab.py /tmp/ember-before .build/release/ember --rounds 3 --duration 8
    benchmarks/ab.py .build/release/ember .build/release/ember@inference_on_event_loop=false

Each round starts every binary in turn (MLP batch 1, one worker, token auth off), warms it up, then
loads `POST /predictions/mlp` with wrk -t1 at each --concurrency and `GET /ping` at 32, reading the
server's user+system CPU time from /proc over the requests answered. Interleaving (A, B, A, B …)
spreads other processes' load over both; compare CPU µs per request first, req/s second.
"""
import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import curves  # noqa: E402
import floors  # noqa: E402
from common import ROOT, log, set_log_tag  # noqa: E402

set_log_tag("ab")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binaries", nargs="+")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--concurrency", default="32,1")
    parser.add_argument("--no-ping", action="store_true")
    args = parser.parse_args()
    concurrency = [int(c) for c in args.concurrency.split(",")]
    os.chdir(ROOT)
    os.makedirs(curves.WORK, exist_ok=True)
    work = tempfile.mkdtemp(prefix="ab-", dir=curves.WORK)
    body = os.path.join(ROOT, "examples/mlp/sample.json")
    rows = []
    for round_ in range(args.rounds):
        for binary in args.binaries:
            # "path@key=value,key=value": the same binary with config.properties lines added.
            path, _, settings = binary.partition("@")
            curves.EMBER = os.path.abspath(path)
            ember = curves.Ember(work, 1000, "".join(f"{kv}\n" for kv in settings.split(",") if kv))
            try:
                curves.register(ember.management, "mlp", workers=1, batch=1)
                floors.wrk(ember.url("mlp"), 8, 2, body)
                idle = floors.cpu_seconds(ember.pid)
                time.sleep(2)
                idle_cores = (floors.cpu_seconds(ember.pid) - idle) / 2
                for conc in concurrency:
                    run = floors.measured(ember.pid, ember.url("mlp"), conc, args.duration, body)
                    rows.append((round_, binary, f"predict c{conc}", run, idle_cores))
                if not args.no_ping:
                    run = floors.measured(ember.pid, f"http://127.0.0.1:{ember.inference}/ping", 32, args.duration)
                    rows.append((round_, binary, "ping c32", run, idle_cores))
            finally:
                ember.server.stop()
            for r in rows[-(len(concurrency) + (0 if args.no_ping else 1)):]:
                run = r[3]
                if "error" in run:
                    log(f"{binary} {r[2]}: {run['error']}")
                else:
                    log(f"round {round_} {binary} {r[2]}: {run['req_per_s']:.0f} req/s, {run['cpu_us_per_request']:.1f} "
                        f"CPU µs/req, {run['cores']:.2f} cores, p99 {run['p99_ms']:.2f} ms, idle {r[4]:.3f} cores")
    print("| round | binary | load | req/s | CPU µs/req | cores | p99 ms | errors | idle cores |")
    print("|---|---|---|---|---|---|---|---|---|")
    for round_, binary, load, run, idle in rows:
        if "error" in run:
            print(f"| {round_} | {binary} | {load} | {run['error']} | | | | | |")
            continue
        print(f"| {round_} | {binary} | {load} | {run['req_per_s']:,.0f} | {run['cpu_us_per_request']:.1f} | "
              f"{run['cores']:.2f} | {run['p99_ms']:.2f} | {run['errors']} | {idle:.3f} |")
    print()
    print("| binary | load | mean req/s | mean CPU µs/req | mean cores |")
    print("|---|---|---|---|---|")
    for binary in args.binaries:
        for load in sorted({r[2] for r in rows}):
            runs = [r[3] for r in rows if r[1] == binary and r[2] == load and "error" not in r[3]]
            if runs:
                print(f"| {binary} | {load} | {sum(r['req_per_s'] for r in runs) / len(runs):,.0f} | "
                      f"{sum(r['cpu_us_per_request'] for r in runs) / len(runs):.1f} | "
                      f"{sum(r['cores'] for r in runs) / len(runs):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
