#!/usr/bin/env bash
# Runs the whole test suite under AddressSanitizer with LeakSanitizer (the default on Linux).
# Leaks inside libtorch, OpenMP and the Swift runtime's one-time caches are suppressed
# (scripts/lsan-suppressions.txt), and one read overflow inside Foundation's Process
# (scripts/asan-suppressions.txt); a report from Ember's own code fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
# allocator_may_return_null: the out-of-memory test asks libtorch for 400 TB and expects a failed allocation.
export ASAN_OPTIONS="suppressions=$PWD/scripts/asan-suppressions.txt:detect_leaks=1:abort_on_error=0:halt_on_error=1:detect_odr_violation=0:allocator_may_return_null=1"
export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan-suppressions.txt:print_suppressions=0"
swift build --build-tests --scratch-path .build-asan -Xswiftc -sanitize=address -Xcc -fsanitize=address \
    -Xcxx -fsanitize=address -Xswiftc -use-ld=lld
swift test --skip-build --scratch-path .build-asan "$@"
