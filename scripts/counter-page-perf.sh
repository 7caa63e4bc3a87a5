#!/usr/bin/env bash
# The counter page's numbers for docs/performance.md, in one run: the
# browser test against a real issuer and wallet times the WebAssembly
# verifier in headless Chromium (first camera frame to verdict, and the
# time per presentation over 200 verifications of the same presentation)
# and writes the presentations and the bundle it verified them against to
# target/counter-page-perf/browser.json; then the same presentations are
# verified natively (release build) by the same code, and the ratio
# printed. Also prints the page's size, uncompressed and compressed.
#
#   scripts/counter-page-perf.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_INCREMENTAL=0
cargo test -p tongban-e2e --test counter_page_issuer -- --nocapture 2>&1 | grep -E '"(ok|failed|error|perf)"' | cut -c1-300
cargo run --quiet --release -p tongban-verifier-web --example time_verify -- target/counter-page-perf/browser.json
echo "== page size (verifier/counter-page/dist, bytes: uncompressed, gzip -9)"
total=0 gz=0
for f in verifier/counter-page/dist/*; do
  s=$(wc -c <"$f"); g=$(gzip -9c "$f" | wc -c)
  printf '%-28s %9d %9d\n' "$(basename "$f")" "$s" "$g"
  total=$((total + s)); gz=$((gz + g))
done
printf '%-28s %9d %9d  (%s MiB uncompressed)\n' total "$total" "$gz" "$(echo "scale=3; $total / 1048576" | bc)"
