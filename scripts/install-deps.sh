#!/usr/bin/env bash
# Installs the Debian packages Ember needs, only those missing. Usage: install-deps.sh [build|examples]
#   build     libtorch, libzip, zlib, image codecs, pkg-config, and openssl + curl for the TLS tests:
#             enough to build and test
#   examples  also python3-torch and python3-torchvision, to generate the example models
#   protoc    also protobuf-compiler, only to regenerate the gRPC code (scripts/generate-grpc.sh)
#   bench     examples plus what `make bench` loads and draws with: wrk, nginx-light (the HTTP floor),
#             python3-matplotlib (benchmarks/curves.py's PNG)
set -euo pipefail

packages=(libtorch-dev libzip-dev zlib1g-dev libturbojpeg0-dev libpng-dev pkg-config openssl curl)
if [[ "${1:-build}" == "examples" || "${1:-build}" == "bench" ]]; then
    packages+=(python3-torch python3-torchvision)
fi
if [[ "${1:-build}" == "protoc" ]]; then
    packages+=(protobuf-compiler)
fi
if [[ "${1:-build}" == "bench" ]]; then
    packages+=(wrk nginx-light python3-matplotlib)
fi

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "Installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
