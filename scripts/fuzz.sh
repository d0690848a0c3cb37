#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ with AddressSanitizer and runs each for a while.
#   scripts/fuzz.sh            # 20 s per target (what `make fuzz` runs)
#   scripts/fuzz.sh 3600       # an hour per target
#   FUZZ_SEED=1 scripts/fuzz.sh 10   # what `make test` runs: short, and the same mutations every time
# New inputs that raise coverage are kept in Fuzz/corpus/<target>/ (git-ignored additions); crashes are
# written to Fuzz/artifacts/ and make the script fail.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
seed_flag=()
if [[ -n "${FUZZ_SEED:-}" ]]; then seed_flag=(-seed="$FUZZ_SEED"); fi
swift build --package-path Fuzz --scratch-path .build-fuzz -c debug \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -use-ld=lld
mkdir -p Fuzz/artifacts .build-fuzz/corpus
status=0
for target in archive requests config; do
    binary=".build-fuzz/debug/Fuzz${target^}"
    work=".build-fuzz/corpus/$target"
    mkdir -p "$work"
    echo "== Fuzz${target^}: ${seconds}s"
    # The committed seeds are read; what the fuzzer finds goes to the scratch corpus.
    if ! "$binary" "$work" "Fuzz/corpus/$target" -max_total_time="$seconds" "${seed_flag[@]}" -rss_limit_mb=4096 \
        -artifact_prefix=Fuzz/artifacts/ -print_final_stats=1 2>&1 | tail -n 12; then
        status=1
    fi
done
exit $status
