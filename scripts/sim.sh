#!/usr/bin/env bash
# Runs the engine's deterministic simulation in release mode over many seeds.
#
#   scripts/sim.sh [SCHEDULES] [FIRST_SEED]
#
# SIM_SCHEDULES (default 1,000,000) and SIM_FIRST_SEED (default 0) may also come from the
# environment.
# The run prints schedules per second and every failing seed with its replay command.
set -euo pipefail
cd "$(dirname "$0")/.."
export SIM_SCHEDULES="${1:-${SIM_SCHEDULES:-1000000}}"
export SIM_FIRST_SEED="${2:-${SIM_FIRST_SEED:-0}}"
unset SIM_SEED
echo "simulating ${SIM_SCHEDULES} schedules from seed ${SIM_FIRST_SEED} (release build)"
start=$(date +%s)
set +e
cargo test --release --lib actor::sim -- --nocapture 2>&1 | grep -E '^(sim:|seed |  replay|test result|error)'
codes=("${PIPESTATUS[@]}")
set -e
cargo_status=${codes[0]}
end=$(date +%s)
echo "wall time: $((end - start))s (including the build)"
if [ "$cargo_status" -ne 0 ]; then
    echo "FAILED: see the seeds above; replay one with SIM_SEED=<seed> cargo test --lib actor::sim -- --nocapture"
    exit "$cargo_status"
fi
exit 0
