#!/usr/bin/env bash
# Regenerates Sources/EmberGRPCProtos from protos/ (the generated Swift is committed; CI never runs this).
#
# Needs protoc (scripts/install-deps.sh protoc) and the two protoc plugins, built once outside the
# repository (about ten minutes on two cores):
#   mkdir -p /work/grpc-plugins && cd /work/grpc-plugins   # a Package.swift depending on
#     https://github.com/apple/swift-protobuf exact 1.39.0 and https://github.com/grpc/grpc-swift-protobuf exact 2.4.1
#   swift build -c release --product protoc-gen-swift && swift build -c release --product protoc-gen-grpc-swift-2
# PLUGINS names the folder holding both binaries (default /work/grpc-plugins/.build/release).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
plugins="${PLUGINS:-/work/grpc-plugins/.build/release}"
out="$root/Sources/EmberGRPCProtos"
for plugin in protoc-gen-swift protoc-gen-grpc-swift-2; do
    [[ -x "$plugins/$plugin" ]] || { echo "missing $plugins/$plugin (see the comment at the top of $0)" >&2; exit 1; }
done

protos=(inference.proto management.proto grpc_service.proto model_config.proto google/rpc/status.proto)
rm -rf "$out"
mkdir -p "$out"
cd "$root/protos"
protoc -I . \
    --plugin=protoc-gen-swift="$plugins/protoc-gen-swift" \
    --plugin=protoc-gen-grpc-swift="$plugins/protoc-gen-grpc-swift-2" \
    --swift_out="$out" --swift_opt=Visibility=Public,FileNaming=PathToUnderscores \
    --grpc-swift_out="$out" --grpc-swift_opt=Visibility=Public,Server=true,Client=false,FileNaming=PathToUnderscores \
    "${protos[@]}"
echo "generated: $(cd "$out" && ls | tr '\n' ' ')"
