"""The kserve-ember runtime on KServe's TorchServe storage layout, without a cluster: Ember is started
with the ClusterServingRuntime's own args and env (deploy/kserve/cluster-serving-runtime.yaml) on a copy
of storage-example/ (config/config.properties with its model_snapshot, model-store/mlp.mar), the paths
KServe mounts (/mnt/models, the Secret's /etc/ember-keys) moved into a temporary directory and the
ports made ephemeral. Then: the model named by model_snapshot serves, the keys are the Secret's, and the
probes the runtime declares answer without a key.

Usage: python check_kserve_layout.py EMBER_BINARY
"""
import json
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile

import yaml

from live import Checks, http, stop, wait_for

REPO = pathlib.Path(__file__).resolve().parents[2]
KSERVE = REPO / "deploy" / "kserve"


def main(binary):
    signal.alarm(120)
    check = Checks()

    runtime = yaml.safe_load((KSERVE / "cluster-serving-runtime.yaml").read_text())
    container = runtime["spec"]["containers"][0]
    work = pathlib.Path(tempfile.mkdtemp(prefix="ember-kserve-"))
    process = None
    try:
        models = work / "mnt" / "models"
        shutil.copytree(KSERVE / "storage-example", models)
        shutil.copy(REPO / "model_store" / "mlp.mar", models / "model-store")
        keys = work / "etc" / "ember-keys"
        keys.mkdir(parents=True)
        (keys / "key_file.json").write_text(json.dumps(
            {"management": {"key": "kserve-manage"}, "inference": {"key": "kserve-infer"}}))

        def local(value):
            value = value.replace("/mnt/models", str(models)).replace("/etc/ember-keys", str(keys))
            return re.sub(r"http://[0-9.]+:\d+", "http://127.0.0.1:0", value)

        args = [local(a) for a in container["args"]]
        env = {e["name"]: local(e["value"]) for e in container["env"]}
        # The gRPC listeners on free ports too (the runtime's config enables TS_ variables).
        env.update(PATH="/usr/bin:/bin", TMPDIR=str(work), TS_GRPC_INFERENCE_PORT="0", TS_GRPC_MANAGEMENT_PORT="0")
        log = work / "ember.log"
        with log.open("w") as stream:
            process = subprocess.Popen([binary, "--start", "--foreground", "--ncs", *args], cwd=work, env=env,
                                       stdout=subprocess.DEVNULL, stderr=stream)
        port = int(wait_for(r"Inference API bind to: http://127.0.0.1:(\d+)", log, 60, process).group(1))
        wait_for(r"listeners ready", log, 60, process)
        check(True, f"ember started with the runtime's args {args} and TS_ env")

        probes = {container["readinessProbe"]["httpGet"]["path"], container["livenessProbe"]["httpGet"]["path"]}
        for path in sorted(probes):
            status, body = http(f"http://127.0.0.1:{port}{path}")
            check(status == 200, f"runtime probe {path} without a key: {status} {body.strip()}")
        status, body = http(f"http://127.0.0.1:{port}/v2/models/mlp/ready", key="kserve-infer")
        check(status == 200, f"/v2/models/mlp/ready (the model model_snapshot names): {status} {body.strip()}")
        sample = (REPO / "examples" / "mlp" / "sample.json").read_bytes()
        status, body = http(f"http://127.0.0.1:{port}/predictions/mlp", sample, key="kserve-infer")
        check(status == 200 and "prediction" in body, f"prediction with the Secret's inference key: {status}")
        status, _ = http(f"http://127.0.0.1:{port}/predictions/mlp", sample)
        check(status == 400, f"prediction without a key is refused: {status}")
        check(not (work / "key_file.json").exists(), "no key file of its own next to the Secret's")
        management = int(wait_for(r"Management API bind to: http://127.0.0.1:(\d+)", log, 5, process).group(1))
        status, body = http(f"http://127.0.0.1:{management}/models/mlp", key="kserve-manage")
        described = json.loads(body)[0] if status == 200 else {}
        check(described.get("batchSize") == 4 and described.get("maxBatchDelay") == 20,
              f"the model's settings are model_snapshot's (batchSize 4, maxBatchDelay 20): {status} "
              f"{ {k: described.get(k) for k in ('batchSize', 'maxBatchDelay', 'minWorkers')} }")
    finally:
        if process:
            stop([process])
        shutil.rmtree(work, ignore_errors=True)
    return check.result("kserve layout")


if __name__ == "__main__":
    sys.exit(main(str(pathlib.Path(sys.argv[1]).resolve())))
