#!/usr/bin/env bash
# Soak run of tongban-issuer (SQLite): issuing load alone, then the same
# load while slow clients hold half-sent headers (from 127.0.0.2) and a
# nonce flood hammers the unauthenticated endpoint (from 127.0.0.3); prints
# both phases' throughput and latency percentiles, their p99 ratio, and the
# service's resident memory over the run. Loopback only; every loop stops
# at its phase's deadline. Numbers go in docs/performance.md.
#
#   scripts/soak.sh              # 20 s alone, 30 s under attack
#   scripts/soak.sh 10 20        # shorter
#   SLOW=4000 scripts/soak.sh    # more slow connections
set -euo pipefail
cd "$(dirname "$0")/.."
quiet="${1:-20}"
attack="${2:-30}"
echo "== building release binaries"
cargo build --release --quiet -p tongban-issuer -p tongban-xtask --bin tongban-issuer --bin soak
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
"$target_dir/release/soak" --issuer "$target_dir/release/tongban-issuer" \
  --quiet-secs "$quiet" --attack-secs "$attack" --slow "${SLOW:-2000}" ${JSON:+--json}
