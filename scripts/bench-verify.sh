#!/usr/bin/env bash
# Measures verification of the business-licence presentation of
# verifier/core/benches (docs/performance.md, "Verification at the floor"):
#
#   1. criterion, one run: verify, its floors (two verify_strict, two
#      cofactored single checks, the one batch equation), sd-jwt-rs and its
#      floor (ring's two Ed25519 checks), and verify_batch over 64
#      presentations;
#   2. instructions per iteration under callgrind (needs valgrind), which
#      other work on the machine does not disturb: the run with N+1
#      iterations minus the run with 1, divided by N;
#   3. the Python and Node peers (tests/interop/py, tests/interop/js, as
#      pinned there) on the same presentation string;
#   4. the goals' ratios measured side by side (examples/verify_ratios.rs):
#      every measurement timed for 40 ms in each of 60 rounds, in rotated
#      order, each round giving its own ratios (quartiles printed), which a
#      machine whose speed drifts disturbs far less than a sequential run.
#
#   scripts/bench-verify.sh            # all four
#   scripts/bench-verify.sh criterion  # or: callgrind, peers, ratios
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_INCREMENTAL=0
what=${1:-all}
filter='verify_presentation/(tongban$|two_verify|two_ring_verify|one_equation|sd_jwt_rs)|verify_batch'

if [ "$what" = all ] || [ "$what" = criterion ]; then
  echo "== criterion (warm-up 2 s, measurement 5 s; verify_batch 30 samples)"
  cargo bench -p tongban-verifier --bench verify_presentation -- "$filter" 2>&1 |
    grep -E '^(verify_presentation|verify_batch)/|time:' | grep -v '%' || true
fi

cargo build --release -q -p tongban-verifier --example verify_instructions
bin=target/release/examples/verify_instructions

if [ "$what" = all ] || [ "$what" = callgrind ]; then
  command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 2; }
  echo "== callgrind: instructions per iteration"
  count() { # count NAME ITERATIONS
    local one many
    one=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" 1 2>&1 |
      sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
    many=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" $(($2 + 1)) 2>&1 |
      sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
    printf '%-22s %12d\n' "$1" $(((many - one) / $2))
  }
  for m in tongban two_verify_strict two_verify_cofactored one_equation sd_jwt_rs; do count "$m" 100; done
  count batch64 5
fi

if [ "$what" = all ] || [ "$what" = ratios ]; then
  cargo build --release -q -p tongban-verifier --example verify_ratios
  echo "== the goals' ratios, measured side by side"
  target/release/examples/verify_ratios 60
fi

if [ "$what" = all ] || [ "$what" = peers ]; then
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' EXIT
  "$bin" dump "$dir"
  # The bench's counter, nonce and "now" (benches/fixture/mod.rs).
  aud=counter-qingpu-07 nonce=nonce-4f1c9a2e7b now=1795000000
  echo "== peers on the same presentation ($(wc -c <"$dir/presentation.txt") bytes)"
  (cd tests/interop/js && { [ -d node_modules ] || npm ci --no-audit --no-fund >/dev/null; } &&
    node bench_verify.mjs "$dir/presentation.txt" "$dir/issuer.jwk.json" "$aud" "$nonce" "$now" 5)
  python3 -c 'import sd_jwt' 2>/dev/null || python3 -m pip install -q -r tests/interop/py/requirements.txt
  python3 tests/interop/py/bench_verify.py "$dir/presentation.txt" "$dir/issuer.jwk.json" "$aud" "$nonce" 5
fi
