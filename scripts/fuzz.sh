#!/usr/bin/env bash
# Fuzz the protocol layer: the packet codec, the greeting parser, the authentication exchange,
# the result-set decoder, text values, and OK/ERR/EOF/session-state packets.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]      (default 60 s, every target)
#
# Engine: libFuzzer through `cargo fuzz` when a nightly toolchain is installed (cargo-fuzz is
# installed with `cargo install cargo-fuzz` if missing); otherwise, or with FUZZ_ENGINE=random,
# the stable `random` runner (random mutations of seed inputs, no coverage feedback).
#
# Targets: codec handshake auth resultset value packets (see fuzz/src/lib.rs).
# The corpus grows in fuzz/corpus/TARGET (seeded from fuzz/src/lib.rs); crashing inputs land in
# fuzz/artifacts/TARGET. Replay one with:
#   cargo +nightly fuzz run TARGET fuzz/artifacts/TARGET/crash-...     (libFuzzer)
#   (cd fuzz && cargo run --no-default-features --bin random -- --replay TARGET FILE)
# Exit status 1 when any target crashed.
set -euo pipefail

SECONDS_PER_TARGET=${1:-60}
shift || true
ALL_TARGETS=(codec handshake auth resultset value packets)
if [ $# -gt 0 ]; then TARGETS=("$@"); else TARGETS=("${ALL_TARGETS[@]}"); fi
case "$SECONDS_PER_TARGET" in
    '' | *[!0-9]*) echo "fuzz.sh: SECONDS_PER_TARGET must be a number (see the header of $0)" >&2; exit 2 ;;
esac

cd "$(dirname "$0")/../fuzz"

ENGINE=${FUZZ_ENGINE:-}
if [ -z "$ENGINE" ]; then
    if command -v rustup >/dev/null && rustup toolchain list | grep -q '^nightly'; then
        ENGINE=libfuzzer
    else
        ENGINE=random
    fi
fi

if [ "$ENGINE" = random ]; then
    echo "fuzz.sh: no nightly toolchain (or FUZZ_ENGINE=random): using the stable random runner"
    cargo run --quiet --release --no-default-features --bin random -- "$SECONDS_PER_TARGET" "${TARGETS[@]}"
    exit $?
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

# Seed the corpus (written once; libFuzzer adds what it finds).
if [ ! -d corpus ] || [ -z "$(ls -A corpus 2>/dev/null)" ]; then
    cargo run --quiet --no-default-features --bin random -- --write-seeds corpus
fi

cargo +nightly fuzz build -O
status=0
summary=()
for t in "${TARGETS[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    log=$(mktemp)
    echo "fuzz.sh: $t for ${SECONDS_PER_TARGET}s"
    if cargo +nightly fuzz run -O "$t" "corpus/$t" -- \
        -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 -rss_limit_mb=2048 \
        -print_final_stats=1 >"$log" 2>&1; then
        result=ok
    else
        result=CRASH
        status=1
        grep -E 'panicked|ERROR|Test unit written' "$log" | head -5 || true
    fi
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1 || true)
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)
    ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)
    corpus=$(ls "corpus/$t" | wc -l)
    summary+=("$(printf '%-10s %-6s execs=%-10s cov=%-6s ft=%-6s corpus=%s' "$t" "$result" "${runs:-?}" "${cov:-?}" "${ft:-?}" "$corpus")")
    rm -f "$log"
done
echo
printf '%s\n' "${summary[@]}"
exit $status
