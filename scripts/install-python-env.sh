#!/usr/bin/env bash
# Makes the project's Python environment, .venv/ at the repository root, when it is missing or its
# requirement lists changed: Debian's python3-torch seen through --system-site-packages, TorchServe's
# `ts` package (what Python handlers import and Python workers run) and the test clients from PyPI
# (tritonclient with perf_analyzer, which needs Debian's libb64-0d).
# Prints the environment's python on the last line. Usage: scripts/install-python-env.sh [--quiet]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
venv="$root/.venv"
lists=(scripts/python/requirements-nodeps.txt scripts/python/requirements.txt)
stamp="$venv/.ember-requirements"
wanted=$(cat "${lists[@]}" | sha256sum | cut -d' ' -f1)

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
    echo "$venv/bin/python"
    exit 0
fi

debian=(python3-venv python3-torch python3-torchvision python3-matplotlib python3-numpy python3-yaml python3-pil libb64-0d)
missing=()
for package in "${debian[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    echo "Installing: ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

echo "Making $venv (Debian's torch through --system-site-packages)" >&2
[[ -x "$venv/bin/python" ]] || /usr/bin/python3 -m venv --system-site-packages "$venv"
pip=("$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar off -q)
grep -v '^\s*#' scripts/python/requirements-nodeps.txt | grep -q . &&
    "${pip[@]}" --no-deps -r scripts/python/requirements-nodeps.txt >&2
grep -v '^\s*#' scripts/python/requirements.txt | grep -q . &&
    "${pip[@]}" -r scripts/python/requirements.txt >&2
torch_path=$("$venv/bin/python" -c 'import torch; print(torch.__file__)')
case "$torch_path" in
    /usr/lib/python3/dist-packages/*) ;;
    *) echo "warning: the environment's torch is not Debian's: $torch_path" >&2 ;;
esac
echo "$wanted" > "$stamp"
echo "$venv/bin/python"
