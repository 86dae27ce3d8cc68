#!/usr/bin/env bash
# Builds and runs the side-by-side benchmarks (bench/, outside the workspace) against a
# throwaway MariaDB 10.11 started by the harness. Servers come from scripts/install-servers.sh.
#
#   scripts/bench.sh                      # every workload, unpinned then pinned, 3 rounds
#   scripts/bench.sh --rounds 5 --only w1,w2,m1
#   ACTIX_MYSQL_SERVERS=mysql scripts/bench.sh   # another installed server
#
# Output: markdown tables on stdout (see docs/benchmarks.md for how to read them).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${ACTIX_MYSQL_SERVERS:=mariadb-10.11}"
export ACTIX_MYSQL_SERVERS
cargo build --release --manifest-path bench/Cargo.toml
exec bench/target/release/actix-mysql-bench "$@"
