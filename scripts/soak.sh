#!/bin/sh
# Soak: the chaos load (tests/chaos.rs) for DURATION against a throwaway server started by
# tests/support/server.rs (or MYSQL_URL), with a line of figures every 10 s.
#
#   scripts/soak.sh 30m          # 90s, 30m, 2h ...
#   SOAK_TASKS=128 SOAK_POOL=16 SOAK_FAULT_EVERY=2s SOAK_RESTART_EVERY=5m scripts/soak.sh 1h
#   MYSQL_URL=mysql://user:pw@host:3306/db scripts/soak.sh 10m   # no restarts then
#
# The output is also written to target/soak-<date>.log. Exits non-zero when a check fails.
set -eu
duration=${1:-2m}
cd "$(dirname "$0")/.."
log="target/soak-$(date -u +%Y%m%dT%H%M%SZ).log"
cargo build --release --example soak
echo "machine: $(nproc) cores, $(uname -sr)" | tee "$log"
status=0
./target/release/examples/soak "$duration" 2>&1 | tee -a "$log" || status=$?
# tee's status hides the example's; its last line says whether it passed.
if ! tail -n 1 "$log" | grep -q ': ok$'; then
    status=1
fi
echo "log: $log"
exit "$status"
