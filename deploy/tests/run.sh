#!/usr/bin/env bash
# The deployment checks of `make test`: manifests against their schemas, the kserve-ember runtime on
# KServe's storage layout, and Prometheus scraping a running Ember. Installs what it needs (the
# project's .venv with kubernetes-validate; Debian's prometheus). Usage: deploy/tests/run.sh [EMBER_BINARY]
set -euo pipefail
cd "$(dirname "$0")/../.."
binary=${1:-.build/debug/ember}
[[ -x "$binary" ]] || { echo "no ember binary at $binary (swift build first)" >&2; exit 1; }
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
python=$(scripts/install-python-env.sh --quiet | tail -1)
if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
    sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
echo "== manifests"
"$python" deploy/tests/check_manifests.py
echo "== kserve layout"
"$python" deploy/tests/check_kserve_layout.py "$binary"
echo "== prometheus"
"$python" deploy/tests/check_monitoring.py "$binary"
