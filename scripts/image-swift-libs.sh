#!/usr/bin/env bash
# Copies into DEST exactly the Swift runtime libraries that `ldd` resolves from the Swift toolchain for
# the given binaries (libswiftCore, Foundation, Dispatch, ...), and prints their names. The rest of what
# the binaries link comes from Debian packages (deploy/image/runtime-packages.txt).
# Usage: scripts/image-swift-libs.sh DEST BINARY...
set -euo pipefail
dest=$1; shift
[[ $# -gt 0 ]] || { echo "usage: $0 DEST BINARY..." >&2; exit 2; }
swiftc=$(command -v swiftc) || { echo "swiftc is not on the PATH" >&2; exit 1; }
toolchain_lib=$(cd "$(dirname "$(readlink -f "$swiftc")")/../lib/swift/linux" && pwd -P)
mkdir -p "$dest"
missing=$(ldd "$@" | grep 'not found' || true)
if [[ -n "$missing" ]]; then
    echo "unresolved libraries:" >&2
    echo "$missing" >&2
    exit 1
fi
ldd "$@" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u | while read -r path; do
    real=$(readlink -f "$path")
    case "$real" in
        "$toolchain_lib"/*)
            cp -L "$path" "$dest/$(basename "$path")"
            basename "$path"
            ;;
    esac
done
