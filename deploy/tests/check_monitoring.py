"""Prometheus for real, on loopback and bounded: Debian's prometheus scrapes a running Ember with the
scrape job of deploy/monitoring/prometheus.yml (its targets pointed at Ember's ephemeral metrics port);
then, through Prometheus' HTTP API: Ember's series are there, every query of the Grafana dashboard
(deploy/monitoring/grafana-dashboard.json) evaluates, and answers once there was traffic, every metric
it names is one Ember exports, and the HPA's adapter rule (deploy/kubernetes/) yields a per-pod value.
`promtool check config` checks the scrape file (but its Kubernetes job: Debian's prometheus has no
Kubernetes discovery).

Usage: python check_monitoring.py EMBER_BINARY
"""
import json
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

import yaml

from live import Checks, http, stop, wait_for

REPO = pathlib.Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
NAMESPACE, POD = "ember-test", "ember-0"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(binary):
    signal.alarm(180)  # bounded, whatever happens
    check = Checks()

    work = pathlib.Path(tempfile.mkdtemp(prefix="ember-prometheus-"))
    processes = []
    try:
        # Debian builds prometheus without Kubernetes service discovery, so promtool here refuses
        # kubernetes_sd_configs: the check takes every job but those (their relabelling is what the
        # adapter rule's query below relies on, and is exercised through the static job's labels).
        scrape = yaml.safe_load((DEPLOY / "monitoring" / "prometheus.yml").read_text())
        checkable = dict(scrape, scrape_configs=[j for j in scrape["scrape_configs"] if "kubernetes_sd_configs" not in j])
        (work / "checkable.yml").write_text(yaml.safe_dump(checkable))
        skipped = [j["job_name"] for j in scrape["scrape_configs"] if "kubernetes_sd_configs" in j]
        check(subprocess.run([PROMTOOL, "check", "config", str(work / "checkable.yml")]).returncode == 0,
              f"promtool check config deploy/monitoring/prometheus.yml (without {skipped}: Debian's build has no "
              "Kubernetes discovery)")

        store = work / "store"
        store.mkdir()
        shutil.copy(REPO / "model_store" / "mlp.mar", store)
        (work / "ember.properties").write_text(
            "inference_address=http://127.0.0.1:0\nmanagement_address=http://127.0.0.1:0\n"
            "metrics_address=http://127.0.0.1:0\ngrpc_inference_port=0\ngrpc_management_port=0\n")
        ember_log = work / "ember.log"
        with ember_log.open("w") as log:
            processes.append(subprocess.Popen(
                [binary, "--start", "--foreground", "--ncs", "--disable-token-auth", "--model-store", str(store),
                 "--models", "mlp.mar", "--ts-config", str(work / "ember.properties")],
                cwd=work, stdout=subprocess.DEVNULL, stderr=log, env={"PATH": "/usr/bin:/bin", "TMPDIR": str(work),
                                                                       "OPENBLAS_NUM_THREADS": "1"}))
        inference = int(wait_for(r"Inference API bind to: http://127.0.0.1:(\d+)", ember_log, 60).group(1))
        metrics = int(wait_for(r"Metrics API bind to: http://127.0.0.1:(\d+)", ember_log, 10).group(1))
        wait_for(r"listeners ready", ember_log, 30)

        # The file's static job, pointed at this Ember; the labels Kubernetes' relabelling would add.
        job = next(j for j in scrape["scrape_configs"] if j["job_name"] == "ember-static")
        job["static_configs"] = [{"targets": [f"127.0.0.1:{metrics}"], "labels": {"namespace": NAMESPACE, "pod": POD}}]
        job["scrape_interval"] = "1s"
        job["scrape_timeout"] = "1s"
        config = {"global": scrape["global"], "scrape_configs": [job]}
        (work / "prometheus.yml").write_text(yaml.safe_dump(config))
        web = free_port()
        prometheus_log = work / "prometheus.log"
        with prometheus_log.open("w") as log:
            processes.append(subprocess.Popen(
                [PROMETHEUS, f"--config.file={work / 'prometheus.yml'}", f"--storage.tsdb.path={work / 'tsdb'}",
                 f"--web.listen-address=127.0.0.1:{web}"], stdout=log, stderr=subprocess.STDOUT))
        api = f"http://127.0.0.1:{web}/api/v1"

        def query(expression):
            status, body = http(f"{api}/query?" + urllib.parse.urlencode({"query": expression}))
            answer = json.loads(body) if body.startswith("{") else {"status": f"http {status}", "error": body}
            return answer

        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                up = query(f'up{{job="ember-static"}}')
                if up.get("data", {}).get("result") and up["data"]["result"][0]["value"][1] == "1":
                    break
            except OSError:
                pass
            time.sleep(0.5)
        check(query('up{job="ember-static"}')["data"]["result"][0]["value"][1] == "1", "Prometheus scrapes Ember (up == 1)")

        sample = (REPO / "examples" / "mlp" / "sample.json").read_bytes()
        for _ in range(4):
            for _ in range(25):
                status, _ = http(f"http://127.0.0.1:{inference}/predictions/mlp", sample, {"Content-Type": "application/json"})
                assert status == 200, status
            http(f"http://127.0.0.1:{inference}/predictions/nope", sample, {"Content-Type": "application/json"})
            time.sleep(1.2)
        time.sleep(2.5)  # two more scrapes after the last request

        exported = set(re.findall(r"^# TYPE (\S+) ", http(f"http://127.0.0.1:{metrics}/metrics")[1], re.M))
        total = query(f'ts_inference_requests_total{{model_name="mlp",namespace="{NAMESPACE}",pod="{POD}"}}')
        check(total["status"] == "success" and float(total["data"]["result"][0]["value"][1]) >= 100,
              f"ts_inference_requests_total reached Prometheus ({total['data']['result'][0]['value'][1]})")
        for name in ["ember_request_latency_seconds_bucket", "ember_queue_depth", "ember_batch_size_count", "Requests4XX"]:
            result = query(name)["data"]["result"]
            check(bool(result), f"{name}: {len(result)} series")

        dashboard = json.loads((DEPLOY / "monitoring" / "grafana-dashboard.json").read_text())
        for panel in dashboard["panels"]:
            for target in panel["targets"]:
                expression = target["expr"].replace("$__rate_interval", "30s").replace("$model", ".*")
                answer = query(expression)
                evaluated = answer["status"] == "success"
                answered = evaluated and bool(answer["data"]["result"])
                # Nothing answered 5xx here, so that one series does not exist yet.
                expected = "Requests5XX" not in expression
                check(evaluated and (answered or not expected),
                      f"dashboard {panel['title']!r} [{target['refId']}]: {answer['status']}, "
                      f"{len(answer.get('data', {}).get('result', []))} series {answer.get('error', '')}")
                names = set(re.findall(r"\b(ember_\w+|ts_\w+|Requests\dXX|CPUUtilization|MemoryUsed|WorkerLoadTime)\b",
                                       target["expr"]))
                for name in names:
                    base = re.sub(r"_(bucket|sum|count)$", "", name)
                    check(base in exported, f"  {name} is a metric Ember exports")

        rules = yaml.safe_load(yaml.safe_load((DEPLOY / "kubernetes" / "prometheus-adapter-rules.yaml").read_text())
                               ["data"]["config.yaml"])["rules"]
        for rule in rules:
            series = re.match(r"(\w+)\{", rule["seriesQuery"]).group(1)
            check(query(rule["seriesQuery"])["data"]["result"] != [], f"adapter seriesQuery {rule['seriesQuery']} finds series")
            expression = (rule["metricsQuery"].replace("<<.Series>>", series)
                          .replace("<<.LabelMatchers>>", f'namespace="{NAMESPACE}",pod=~"{POD}"')
                          .replace("<<.GroupBy>>", "pod"))
            result = query(expression)["data"]["result"]
            check(len(result) == 1 and result[0]["metric"].get("pod") == POD,
                  f"adapter metricsQuery for the HPA ({expression}) gives one value per pod: {result}")
    finally:
        stop(processes)
        shutil.rmtree(work, ignore_errors=True)
    return check.result("monitoring")


if __name__ == "__main__":
    sys.exit(main(str(pathlib.Path(sys.argv[1]).resolve())))
