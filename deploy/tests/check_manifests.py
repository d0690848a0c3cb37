"""Validates deploy/ offline: Kubernetes objects against Kubernetes' own schemas (kubernetes-validate,
strict: unknown fields are errors), custom resources (KServe's ClusterServingRuntime and
InferenceService, the Prometheus Operator's ServiceMonitor) against the openAPIV3Schema of their CRDs
(schemas/, strict the same way), and the cross-references between the files.

Usage: python check_manifests.py   (exit status 0 when everything holds; every failure is printed)
"""
import copy
import gzip
import pathlib
import sys

import jsonschema
import kubernetes_validate
import yaml

DEPLOY = pathlib.Path(__file__).resolve().parent.parent
KUBERNETES_VERSION = "1.30.0"
CRDS = {
    ("serving.kserve.io/v1alpha1", "ClusterServingRuntime"): "serving.kserve.io_clusterservingruntimes.yaml.gz",
    ("serving.kserve.io/v1beta1", "InferenceService"): "serving.kserve.io_inferenceservices.yaml.gz",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "monitoring.coreos.com_servicemonitors.yaml.gz",
}
failures = []


def fail(message):
    failures.append(message)
    print("FAIL", message)


def strict(schema):
    """Unknown fields become errors, as `kubectl apply --validate=strict` makes them."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if (node.get("type") == "object" and "properties" in node and "additionalProperties" not in node
                    and not node.get("x-kubernetes-preserve-unknown-fields")):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    # metadata is typed by Kubernetes itself, not by the CRD.
    schema.setdefault("properties", {})["metadata"] = {"type": "object"}
    return schema


def crd_schema(api_version, kind):
    text = gzip.decompress((DEPLOY / "tests" / "schemas" / CRDS[(api_version, kind)]).read_bytes())
    crd = yaml.safe_load(text)
    version = api_version.split("/")[1]
    for entry in crd["spec"]["versions"]:
        if entry["name"] == version:
            return strict(entry["schema"]["openAPIV3Schema"])
    raise KeyError(f"{kind} {version} not in its CRD")


def documents():
    for path in sorted(DEPLOY.rglob("*.yaml")):
        if "tests" in path.relative_to(DEPLOY).parts:
            continue
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                yield path.relative_to(DEPLOY), document


def main():
    objects = {}
    for path, document in documents():
        key = (document.get("apiVersion"), document.get("kind"))
        name = f"{path} {key[1]}/{document.get('metadata', {}).get('name')}"
        objects.setdefault(key[1], []).append(document)
        if key in CRDS:
            validator = jsonschema.Draft7Validator(crd_schema(*key))
            errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
            for error in errors:
                fail(f"{name}: {'.'.join(map(str, error.path))}: {error.message[:300]}")
            if not errors:
                print("ok  ", name, "(its CRD's schema)")
            continue
        try:
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
            print("ok  ", name, f"(Kubernetes {KUBERNETES_VERSION} schema, strict)")
        except kubernetes_validate.ValidationError as error:
            fail(f"{name}: {'.'.join(map(str, error.path))}: {error.message[:300]}")
        except kubernetes_validate.SchemaNotFoundError as error:
            fail(f"{name}: no schema: {error}")

    # Cross-references: what the Deployment, Service, HPA, adapter rule and ServiceMonitor name exists.
    deployment = objects["Deployment"][0]
    pod = deployment["spec"]["template"]
    labels = pod["metadata"]["labels"]
    container = pod["spec"]["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    configmaps = {c["metadata"]["name"]: c for c in objects["ConfigMap"]}
    config = configmaps[volumes["config"]["configMap"]["name"]]["data"]["config.properties"]
    properties = dict(line.split("=", 1) for line in config.splitlines() if line and not line.startswith("#"))
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}

    def check(condition, message):
        if condition:
            print("ok  ", message)
        else:
            fail(message)

    check(properties["inference_address"].endswith(f":{ports['inference']}"), "the inference port is the configured one")
    check(properties["metrics_address"].endswith(f":{ports['metrics']}"), "the metrics port is the configured one")
    check(properties.get("grpc_inference_port") == str(ports["grpc-inference"]), "the gRPC inference port is the configured one")
    check(properties.get("grpc_inference_address") == "0.0.0.0", "gRPC inference listens on the pod's interfaces")
    check(properties["token_key_file"].startswith(mounts["keys"] + "/"), "token_key_file is inside the Secret's mount")
    check(volumes["keys"]["secret"]["secretName"] == "ember-keys" and "items" not in volumes["keys"]["secret"],
          "the Secret is mounted whole (no subPath, no items), so its updates reach the pod")
    check(not any("subPath" in m for m in container["volumeMounts"]), "no subPath mounts (they never update)")
    check(properties["health_probes_without_token"] == "true", "probes answer without a token")
    check(container["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready", "readiness probes /v2/health/ready")
    drain = float(properties["drain_delay_seconds"])
    readiness = container["readinessProbe"]
    check(readiness["periodSeconds"] * readiness["failureThreshold"] < drain,
          "the readiness probe notices the drain before drain_delay_seconds ends")
    check(pod["spec"]["terminationGracePeriodSeconds"] > drain + float(properties["default_response_timeout"])
          + float(properties["unregister_model_timeout"]),
          "terminationGracePeriodSeconds is longer than the drain, the longest request and the pool shutdown")
    check(mounts["models"] == properties["model_store"], "the model store volume is the configured model_store")
    service = objects["Service"][0]
    check(service["spec"]["selector"] == labels, "the Service selects the Deployment's pods")
    check({p["targetPort"] for p in service["spec"]["ports"]} <= set(ports), "the Service's ports are the pod's")
    pdb = objects["PodDisruptionBudget"][0]
    check(pdb["spec"]["selector"]["matchLabels"] == labels, "the PodDisruptionBudget selects the pods")
    check(pdb["spec"]["minAvailable"] < deployment["spec"]["replicas"], "the PodDisruptionBudget allows a drain")
    hpa = objects["HorizontalPodAutoscaler"][0]
    check(hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"], "the HPA scales the Deployment")
    hpa_metric = next(m["pods"]["metric"]["name"] for m in hpa["spec"]["metrics"] if m["type"] == "Pods")
    rules = yaml.safe_load(configmaps["prometheus-adapter-ember"]["data"]["config.yaml"])["rules"]
    check(any(rule["name"]["as"] == hpa_metric for rule in rules), "the adapter rule serves the HPA's metric")
    monitor = objects["ServiceMonitor"][0]
    check(monitor["spec"]["selector"]["matchLabels"] == service["metadata"]["labels"], "the ServiceMonitor selects the Service")
    check(monitor["spec"]["endpoints"][0]["port"] in {p["name"] for p in service["spec"]["ports"]},
          "the ServiceMonitor scrapes a port the Service has")
    runtime = objects["ClusterServingRuntime"][0]
    isvc = objects["InferenceService"][0]
    check(isvc["spec"]["predictor"]["model"]["runtime"] == runtime["metadata"]["name"], "the InferenceService names the runtime")
    check(isvc["spec"]["predictor"]["model"]["protocolVersion"] in runtime["spec"]["protocolVersions"],
          "the runtime speaks the InferenceService's protocol")

    print()
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("manifests: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
