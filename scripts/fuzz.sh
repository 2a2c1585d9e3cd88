#!/usr/bin/env bash
# Runs each cargo-fuzz target (fuzz/fuzz_targets/*.rs) for a short while, starting
# from its committed corpus (fuzz/corpus/<target>, read only: what the run finds goes
# to a temporary directory). A crash fails the script; libFuzzer leaves the input in
# fuzz/artifacts/<target>/ (replay: cargo fuzz run <target> <file>).
#
#   scripts/fuzz.sh [SECONDS]     # per target; default 20
#
# cargo-fuzz is installed when missing (cargo install cargo-fuzz --locked: a few
# minutes of compiling, once per machine). cargo-fuzz passes nightly-only flags
# (-Zsanitizer=address); RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them.
#
# Longer runs, by hand:
#   cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run session -- -runs=1000000
# and to shrink a corpus grown that way back to what covers the same code:
#   RUSTC_BOOTSTRAP=1 cargo fuzz cmin session
set -euo pipefail

SECONDS_PER_TARGET=${1:-20}
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/common.sh
. scripts/common.sh
ensure_cargo

if ! "$CARGO" fuzz --version >/dev/null 2>&1; then
    log "installing cargo-fuzz (cargo install cargo-fuzz --locked)"
    "$CARGO" install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mqttc-fuzz.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

log "cargo fuzz build"
(cd fuzz && "$CARGO" fuzz build)

status=0
for src in fuzz/fuzz_targets/*.rs; do
    target=$(basename "$src" .rs)
    mkdir -p "$WORK/$target"
    log "fuzz $target: ${SECONDS_PER_TARGET} s from fuzz/corpus/$target"
    set +e
    (cd fuzz && "$CARGO" fuzz run "$target" "$WORK/$target" "corpus/$target" -- \
        -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1) >"$WORK/$target.log" 2>&1
    rc=$?
    set -e
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' "$WORK/$target.log" || true
    if ((rc != 0)); then
        tail -n 80 "$WORK/$target.log" >&2
        echo "fuzz.sh: $target FAILED (exit $rc; the input is in fuzz/artifacts/$target/)" >&2
        status=1
    fi
done
exit "$status"
