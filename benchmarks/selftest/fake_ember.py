#!/usr/bin/python3
"""A stand-in for `ember` that checks the benchmark driver's Ember path without the real server.

Takes Ember's command line (--start --foreground --model-store DIR --models NAME=FILE... --ts-config FILE
--disable-token-auth), listens on the addresses of the config file and answers like Ember would: canned
predictions (no model is run), register/scale/describe/unregister on the management port, and an overhead
summary metric on the metrics port. Numbers measured against it mean nothing.

    benchmarks/run.py --ember-bin benchmarks/selftest/fake_ember.py --ember-model-store benchmarks/.work/fake_store --quick
"""
import argparse
import json
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

models = {}  # name -> {"batchSize": .., "maxBatchDelay": .., "workers": ..}
stats = {"sum": 0.0, "count": 0}
lock = threading.Lock()


def address(config, key, default):
    for line in open(config):
        if line.strip().startswith(key + "="):
            url = urllib.parse.urlparse(line.split("=", 1)[1].strip())
            return url.hostname, url.port
    return "127.0.0.1", default


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def reply(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def query(self):
        parsed = urllib.parse.urlparse(self.path)
        return parsed.path, {k: v[0] for k, v in urllib.parse.parse_qs(parsed.query).items()}

    def do_POST(self):
        start = time.perf_counter()
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        path, q = self.query()
        if path.startswith("/predictions/"):
            name = path.split("/")[2]
            if name not in models:
                return self.reply(404, {"code": 404, "message": f"Model not found: {name}"})
            self.reply(200, {"prediction": 3, "probabilities": [0.1] * 10})
            with lock:
                stats["sum"] += time.perf_counter() - start
                stats["count"] += 1
        elif path == "/models":
            models[q["model_name"]] = {"batchSize": int(q.get("batch_size", 1)),
                                       "maxBatchDelay": int(q.get("max_batch_delay", 100)),
                                       "workers": int(q.get("initial_workers", 1))}
            time.sleep(0.05)
            self.reply(200, {"status": f"Model \"{q['model_name']}\" Version: 1.0 registered with 1 initial workers"})
        else:
            self.reply(404, {"code": 404})

    def do_PUT(self):
        path, q = self.query()
        name = path.split("/")[-1]
        if name in models:
            models[name]["workers"] = int(q.get("min_worker", 1))
            return self.reply(200, {"status": "Workers scaled"})
        self.reply(404, {"code": 404})

    def do_GET(self):
        path, _ = self.query()
        if path == "/metrics":
            with lock:
                text = ("# TYPE ember_request_overhead_seconds summary\n"
                        f"ember_request_overhead_seconds_sum {stats['sum']}\n"
                        f"ember_request_overhead_seconds_count {stats['count']}\n")
            body = text.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif path.startswith("/models/") and path.split("/")[2] in models:
            name = path.split("/")[2]
            self.reply(200, [{"modelName": name, "modelVersion": "1.0", **models[name]}])
        else:
            self.reply(404, {"code": 404})

    def do_DELETE(self):
        path, _ = self.query()
        models.pop(path.split("/")[-1], None)
        self.reply(200, {"status": "unregistered"})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--start", action="store_true")
    parser.add_argument("--foreground", action="store_true")
    parser.add_argument("--disable-token-auth", action="store_true")
    parser.add_argument("--model-store")
    parser.add_argument("--models", nargs="*", default=[])
    parser.add_argument("--ts-config", required=True)
    args = parser.parse_args()
    for spec in args.models:
        models[spec.split("=")[0]] = {"batchSize": 1, "maxBatchDelay": 100, "workers": 1}
    servers = []
    for key, default in (("inference_address", 8080), ("management_address", 8081), ("metrics_address", 8082)):
        server = ThreadingHTTPServer(address(args.ts_config, key, default), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    print("Model server started.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
