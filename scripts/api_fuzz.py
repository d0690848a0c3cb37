"""Schemathesis against a running Ember, each listener from its own OpenAPI document (`OPTIONS /`),
with token authorization off and then on.

For each mode: starts `ember` on ephemeral ports with the example MLP archive and the model API on,
takes each listener's document from the server, gives its path parameters the example model's name
and version as examples (so the generated requests reach a real model as well as unknown ones), runs
`st run` against it, and checks that the server is still up and serving after each listener. Fails on
any 5xx but the documented 503 (no worker, queue full) and 507 (out of memory), on any response that
does not match the document (status code, content type, headers, body schema), and on a crash.

Checks left out, because TorchServe's contract answers differently from what they expect (contract
§1.2, §3, §9.1): `ignored_auth` (a missing key is TorchServe's 400, not 401/403: checked here
directly instead), `negative_data_rejection` (TorchServe reads a non-number as "not given"),
`positive_data_acceptance` (most generated names are unknown models: 404), `unsupported_method` and
`allow_header_conformance` (`/ping`, `/predictions` and `/api-description` answer any method),
`ensure_resource_availability` (register's links follow the query's model_name, but with a JSON body
TorchServe reads the body's instead, contract §3.2, which a link cannot say: schemathesis then looks
for the query's name),
`object_level_authorization` (one key per listener: there are no users to tell apart) and
`missing_required_header` (no operation requires a header).

Usage: .venv/bin/python scripts/api_fuzz.py EMBER_BINARY [--max-examples N] [--seed S] [--phases LIST] [--report DIR]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXCLUDED = ["ignored_auth", "negative_data_rejection", "positive_data_acceptance", "unsupported_method",
            "allow_header_conformance", "ensure_resource_availability",
            "object_level_authorization", "missing_required_header"]
# Everything but a 5xx counts as "not a server error", and so do the two documented 5xx of overload.
CONFIG = """
[checks.not_a_server_error]
expected-statuses = ["2xx", "3xx", "4xx", "503", "507"]
"""
EXAMPLES = {"model_name": "mlp", "model_version": "1.0"}
ROW = [round(-0.8 + 0.1 * i, 1) for i in range(16)]
# Request bodies the example model answers, by operation: the fuzzer mutates these too.
BODIES = {
    "predictions": {"data": ROW}, "predictionsVersion": {"data": ROW}, "invocations": {"data": ROW},
    "kservePredict": {"instances": [ROW]},
    "infer": {"id": "1", "inputs": [{"name": "x", "shape": [1, 16], "datatype": "FP32", "data": ROW}]},
    "inferVersion": {"inputs": [{"name": "x", "shape": [1, 16], "datatype": "FP32", "data": ROW}]},
    "registerModel": {"url": "mlp.mar", "model_name": "mlp_fuzz", "initial_workers": 1, "synchronous": True},
}


def request(method, url, key=None, body=None, timeout=30):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    req = urllib.request.Request(url, method=method, data=body, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_for(pattern, path, timeout, process):
    deadline = time.time() + timeout
    while time.time() < deadline:
        match = re.search(pattern, path.read_text(errors="replace"))
        if match:
            return match
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"{pattern!r} not in {path}:\n{path.read_text(errors='replace')[-3000:]}")


def with_examples(document):
    """The document with the example model as each path parameter's example, and its archive as the
    register URL's: schemathesis's example and coverage phases start from these."""
    for item in document.get("paths", {}).values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                name = parameter.get("name")
                if parameter.get("in") == "path" and name in EXAMPLES:
                    parameter["example"] = EXAMPLES[name]
                if parameter.get("in") == "query" and name == "url":
                    parameter["example"] = "mlp.mar"
            body = BODIES.get(operation.get("operationId"))
            json_body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None and json_body is not None:
                json_body["example"] = body
    return document


class Server:
    """One `ember --start --foreground` in its own directory, on ephemeral ports."""

    def __init__(self, binary, work, tokens):
        self.work = work
        store = work / "store"
        store.mkdir()
        shutil.copy(REPO / "model_store" / "mlp.mar", store)
        (work / "ember.properties").write_text(
            "inference_address=http://127.0.0.1:0\nmanagement_address=http://127.0.0.1:0\n"
            "metrics_address=http://127.0.0.1:0\nmetrics_mode=prometheus\n"
            # The gRPC listeners are not fuzzed here; port 0 keeps them off 7070/7071.
            "grpc_inference_port=0\ngrpc_management_port=0\n"
            # Bounded so generated scale and register requests cannot take the machine.
            "max_workers_per_model=4\nmax_workers=16\ndefault_response_timeout=20\n")
        self.log = work / "ember.log"
        arguments = [str(binary), "--start", "--foreground", "--ncs", "--enable-model-api", "--model-store",
                     str(store), "--models", "mlp=mlp.mar", "--ts-config", str(work / "ember.properties")]
        if not tokens:
            arguments.append("--disable-token-auth")
        env = {"PATH": "/usr/bin:/bin", "TMPDIR": str(work), "OPENBLAS_NUM_THREADS": "1"}
        with self.log.open("w") as log:
            self.process = subprocess.Popen(arguments, cwd=work, stdout=subprocess.DEVNULL, stderr=log, env=env)
        self.ports = {
            name: int(wait_for(rf"{label} API bind to: http://127.0.0.1:(\d+)", self.log, 120, self.process).group(1))
            for name, label in [("inference", "Inference"), ("management", "Management"), ("metrics", "Metrics")]}
        wait_for(r"listeners ready", self.log, 120, self.process)
        self.keys = {"inference": None, "management": None, "metrics": None}
        if tokens:
            keys = json.loads((work / "key_file.json").read_text())
            self.keys = {"inference": keys["inference"]["key"], "management": keys["management"]["key"], "metrics": None}

    def url(self, listener, path=""):
        return f"http://127.0.0.1:{self.ports[listener]}{path}"

    def serving(self):
        """The process is up and answers a prediction and a describe of the example model."""
        if self.process.poll() is not None:
            return False, f"exited with {self.process.returncode}"
        status, body = request("POST", self.url("inference", "/predictions/mlp"), self.keys["inference"],
                               json.dumps({"data": ROW}).encode())
        # The fuzzed management API may have scaled or unregistered mlp: 404/503 are answers, not a crash.
        if status not in (200, 404, 503):
            return False, f"prediction answered {status}: {body[:300]!r}"
        status, _ = request("GET", self.url("management", "/models"), self.keys["management"])
        if status != 200:
            return False, f"GET /models answered {status}"
        return True, "serving"

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def run_listener(server, listener, args, report, tokens):
    status, body = request("OPTIONS", server.url(listener, "/"))
    if status != 200:
        return {"listener": listener, "ok": False, "why": f"OPTIONS / answered {status}"}
    document = with_examples(json.loads(body))
    schema = report / f"{listener}-openapi.json"
    schema.write_text(json.dumps(document, indent=1))
    config = report / "schemathesis.toml"
    config.write_text(CONFIG)
    st = Path(sys.executable).parent / "st"
    command = [str(st), "--config-file", str(config), "--no-color", "run", str(schema), "--url", server.url(listener),
               "--checks", "all", "--exclude-checks", ",".join(EXCLUDED), "--max-examples", str(args.max_examples),
               "--seed", str(args.seed), "--workers", "1", "--request-timeout", "30",
               "--phases", args.phases, "--generation-database", "none", "--suppress-health-check", "all",
               "--report", "junit", "--report-junit-path", str(report / f"{listener}-junit.xml")]
    if server.keys[listener]:
        command += ["-H", f"Authorization: Bearer {server.keys[listener]}"]
    started = time.time()
    result = subprocess.run(command, capture_output=True, text=True, cwd=report)
    elapsed = time.time() - started
    (report / f"{listener}-st.log").write_text(result.stdout + result.stderr)
    summary = [line for line in result.stdout.splitlines()
               if re.search(r"(operations|test cases|passed|failed|errors?)\b.*\d|\d.*\b(passed|failed|generated)", line)]
    alive, why = server.serving()
    ok = result.returncode == 0 and alive
    print(f"{'ok  ' if ok else 'FAIL'} {listener:10} tokens={'on ' if tokens else 'off'} {elapsed:5.1f} s  "
          f"st exit {result.returncode}; server {why}")
    for line in summary[-6:]:
        print(f"       {line.strip()}")
    if result.returncode != 0:
        print(result.stdout[-6000:])
    return {"listener": listener, "ok": ok}


def key_checks(server):
    """With keys on, every protected route refuses a missing or wrong key with TorchServe's 400."""
    failures = []
    for listener, path, method in [("inference", "/ping", "GET"), ("inference", "/predictions/mlp", "POST"),
                                   ("inference", "/v2/models/mlp", "GET"), ("management", "/models", "GET"),
                                   ("management", "/models/mlp", "PUT")]:
        for key in (None, "wrong-key"):
            status, body = request(method, server.url(listener, path), key)
            if status != 400 or b"InvalidKeyException" not in body:
                failures.append(f"{method} {listener}{path} key={key}: {status} {body[:200]!r}")
    return failures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--max-examples", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--phases", default="examples,coverage,fuzzing")
    parser.add_argument("--report", type=Path, help="keep the documents, logs and JUnit reports here")
    args = parser.parse_args()
    binary = Path(args.binary).resolve()
    results = []
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="ember-api-fuzz-") as scratch:
        for tokens in (False, True):
            work = Path(scratch) / ("tokens" if tokens else "open")
            work.mkdir()
            report = (args.report / work.name) if args.report else work / "report"
            report.mkdir(parents=True, exist_ok=True)
            server = Server(binary, work, tokens)
            try:
                if tokens:
                    failures = key_checks(server)
                    print(f"{'ok  ' if not failures else 'FAIL'} keys: a missing or wrong key is a 400 on every listener")
                    for failure in failures:
                        print(f"       {failure}")
                    results.append({"listener": "keys", "ok": not failures})
                # Management last: it may unregister or rescale the example model.
                for listener in ("inference", "metrics", "management"):
                    results.append(run_listener(server, listener, args, report, tokens))
            finally:
                code = server.stop()
                log = server.log.read_text(errors="replace")
                crashed = code not in (0, -15) or "Fatal error" in log or "Program crashed" in log
                print(f"{'FAIL' if crashed else 'ok  '} server tokens={'on' if tokens else 'off'} stopped with {code}")
                if crashed:
                    print(log[-4000:])
                results.append({"listener": "stop", "ok": not crashed})
                if args.report:
                    shutil.copy(server.log, report / "ember.log")
    failed = [r for r in results if not r["ok"]]
    print(f"api-fuzz: {len(results) - len(failed)} passed, {len(failed)} failed in {time.time() - started:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
