#!/usr/bin/env bash
# Runs every cargo-fuzz target of the verifier for a set time each, seeded
# with the hostile-input corpus. Needs the nightly toolchain and cargo-fuzz
# (installed here if missing).
#
#   scripts/fuzz.sh            # 60 s per target
#   scripts/fuzz.sh 600        # 10 min per target
#   FUZZ_TARGETS="presentation transport" scripts/fuzz.sh 30
#
# A crash stops the run with the failing input in verifier/core/fuzz/artifacts/;
# fix the bug and add the input to verifier/core/tests/corpus/ (an entry in
# tests/xtask/src/corpus.rs, then `cargo run -p tongban-xtask --bin make-corpus`).
set -euo pipefail
cd "$(dirname "$0")/../verifier/core/fuzz"
secs="${1:-60}"
targets="${FUZZ_TARGETS:-presentation transport trust_list status_list sm2}"

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

for t in $targets; do
  seeds="corpus/$t"
  mkdir -p "$seeds"
  case "$t" in
    presentation) cp ../tests/corpus/*.sdjwt "$seeds"/ 2>/dev/null || true ;;
    transport) cp ../tests/corpus/*.tb1 "$seeds"/ 2>/dev/null || true ;;
    trust_list) cp ../tests/corpus/*.tl.jwt "$seeds"/ 2>/dev/null || true ;;
    status_list) cp ../tests/corpus/*.sl.jwt "$seeds"/ 2>/dev/null || true ;;
    sm2) cp ../tests/corpus/*.sdjwt "$seeds"/ 2>/dev/null || true ;;
  esac
  echo "== fuzzing $t for ${secs}s"
  cargo +nightly fuzz run "$t" "$seeds" -- -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048
done
echo "fuzzing finished without a crash"
