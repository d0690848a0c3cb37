"""The HTTP floors of `make bench` (issue 15), loaded exactly like Ember (wrk -t1, the same body, an answer
of the same size), each with the server's CPU time per request:

- nginx from Debian, one worker, `return 200 '<answer>'`: what HTTP on loopback costs on this machine;
- ember-nio-floor (benchmarks/nio-floor): a bare SwiftNIO NIOHTTP1 handler answering a fixed body;
- ember-hummingbird-floor (benchmarks/hummingbird-floor): a bare Hummingbird 2 route collecting the body.

Standard library only. `run(...)` returns one row per (server, method, concurrency).
"""
import json
import os
import shutil
import subprocess
import time

from common import ROOT, Server, free_ports, http_request, log, process_tree

BENCH = os.path.join(ROOT, "benchmarks")
LUA_POST = os.path.join(BENCH, "lua", "post.lua")
LUA_GET = os.path.join(BENCH, "lua", "get.lua")
NIO_FLOOR = os.path.join(ROOT, ".build", "release", "ember-nio-floor")
HB_FLOOR = os.path.join(ROOT, ".build", "release", "ember-hummingbird-floor")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(root_pid):
    """User + system time of the process and its descendants (all threads), in seconds."""
    total = 0
    for pid in process_tree(root_pid):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
        except (OSError, ValueError, IndexError):
            continue
    return total / CLOCK_TICKS


def wrk(url, concurrency, duration, body=None, content_type="application/json", threads=1, timeout_s=10):
    """One wrk run (POST `body` file, or GET when None); the JSON summary plus derived figures."""
    script = [LUA_POST, url, "--", body, content_type] if body else [LUA_GET, url]
    argv = ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{duration}s", "--timeout", f"{timeout_s}s", "-s", *script]
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=duration + 60)
    except subprocess.TimeoutExpired:
        return {"error": "wrk timed out"}
    for line in done.stdout.decode(errors="replace").splitlines():
        if line.startswith("WRK_JSON "):
            data = json.loads(line[len("WRK_JSON "):])
            seconds = data["duration_us"] / 1e6
            ok = max(0, data["requests"] - data["errors"]["status"])
            lat = data["latency_us"]
            return {"requests": data["requests"], "ok": ok, "seconds": seconds,
                    "req_per_s": ok / seconds if seconds else 0.0,
                    "errors": sum(data["errors"].values()), "error_detail": data["errors"],
                    "p50_ms": lat["p50"] / 1000, "p90_ms": lat["p90"] / 1000, "p99_ms": lat["p99"] / 1000,
                    "mean_ms": lat["mean"] / 1000, "max_ms": lat["max"] / 1000}
    return {"error": f"wrk exited {done.returncode}: {done.stdout[-300:]!r}"}


def measured(pid, url, concurrency, duration, body=None, content_type="application/json", threads=1):
    """wrk against a server, with the server's CPU µs per answered request."""
    before = cpu_seconds(pid)
    run = wrk(url, concurrency, duration, body, content_type, threads)
    spent = cpu_seconds(pid) - before
    if "error" not in run:
        run["cpu_s"] = round(spent, 2)
        run["cpu_us_per_request"] = spent * 1e6 / run["requests"] if run["requests"] else None
        run["cores"] = spent / run["seconds"] if run["seconds"] else None
    return run


def ensure_nginx():
    if shutil.which("nginx") or os.path.exists("/usr/sbin/nginx"):
        return shutil.which("nginx") or "/usr/sbin/nginx"
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("nginx is missing: apt-get install -y nginx-light")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for argv in (["apt-get", "install", "-y", "--no-install-recommends", "nginx-light"], ["apt-get", "update"],
                     ["apt-get", "install", "-y", "--no-install-recommends", "nginx-light"]):
            subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=900, check=False)
            if shutil.which("nginx") or os.path.exists("/usr/sbin/nginx"):
                return shutil.which("nginx") or "/usr/sbin/nginx"
    log("nginx is not installed and could not be installed (Debian: apt-get install nginx-light)")
    return None


def nginx_config(work, port, answer):
    """One worker, the answer inline (`return 200`), the body read (client_body_buffer_size), no logs."""
    literal = answer.decode().replace("\\", "\\\\").replace("'", "\\'")
    path = os.path.join(work, "nginx.conf")
    with open(path, "w") as f:
        f.write(f"""# written by benchmarks/floors.py
daemon off;
master_process off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {work}/nginx-body;
    client_body_buffer_size 64k;
    keepalive_requests 10000000;
    server {{
        listen 127.0.0.1:{port} backlog=1024;
        default_type application/json;
        location / {{ return 200 '{literal}'; }}
    }}
}}
""")
    return path


def start(kind, work, answer_file, answer):
    port = free_ports(1)[0]
    if kind == "nginx":
        binary = ensure_nginx()
        if not binary:
            return None, port, "nginx not installed"
        argv = [binary, "-p", work, "-c", nginx_config(work, port, answer)]
    else:
        binary = NIO_FLOOR if kind == "nio" else HB_FLOOR
        if not os.access(binary, os.X_OK):
            return None, port, f"{os.path.basename(binary)} not built"
        argv = [binary, "--port", str(port), "--answer", answer_file]
    server = Server(f"floor-{kind}", argv, ROOT, dict(os.environ), os.path.join(work, f"floor-{kind}.log"))
    if kind == "nginx":
        # nginx prints nothing when it starts: wait for the port.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and http_request("GET", port, "/ping", timeout=1)[0] != 200:
            time.sleep(0.05)
    elif not server.wait_started(30):
        server.stop()
        return None, port, f"{kind} floor did not start; see {server.log_path}"
    return server, port, None


def run(work, answer, body, concurrencies, duration, methods=("POST", "GET")):
    """Rows for each floor: {"floor", "method", "concurrency", ...wrk and CPU figures}."""
    answer_file = os.path.join(work, "floor-answer.json")
    with open(answer_file, "wb") as f:
        f.write(answer)
    rows = []
    for kind in ("nginx", "nio", "hummingbird"):
        server, port, problem = start(kind, work, answer_file, answer)
        if problem:
            log(f"floor {kind}: {problem}")
            rows.append({"floor": kind, "error": problem})
            continue
        try:
            wrk(f"http://127.0.0.1:{port}/predictions/mlp", 8, 1, body)  # warm-up
            for method in methods:
                for conc in concurrencies:
                    url = f"http://127.0.0.1:{port}/" + ("predictions/mlp" if method == "POST" else "ping")
                    row = measured(server.proc.pid, url, conc, duration, body if method == "POST" else None)
                    row.update({"floor": kind, "method": method, "concurrency": conc})
                    rows.append(row)
                    if "error" in row:
                        log(f"floor {kind} {method} c={conc}: {row['error']}")
                    else:
                        log(f"floor {kind} {method} c={conc}: {row['req_per_s']:.0f} req/s, "
                            f"{row['cpu_us_per_request']:.1f} CPU µs/request, p99 {row['p99_ms']:.2f} ms")
        finally:
            server.stop()
    return rows


def find(rows, kind, method, conc):
    for row in rows:
        if row.get("floor") == kind and row.get("method") == method and row.get("concurrency") == conc \
                and "error" not in row:
            return row
    return None
