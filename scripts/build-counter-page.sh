#!/usr/bin/env bash
# Builds the counter's browser page into verifier/counter-page/dist/: the
# verifier compiled to WebAssembly (crate tongban-verifier-web, profile
# `web`), its JavaScript glue from wasm-bindgen-cli of exactly the
# wasm-bindgen version the crate pins, and the page's own files from
# verifier/counter-page/www/. The output is committed (see
# docs/counter-page.md); CI runs this script and fails when the committed
# files differ from what it builds.
#
#   scripts/build-counter-page.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

version=$(sed -n 's/^wasm-bindgen = "=\(.*\)"$/\1/p' verifier/web/Cargo.toml)
[ -n "$version" ] || { echo "no pinned wasm-bindgen version in verifier/web/Cargo.toml" >&2; exit 2; }
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $version"; then
  echo "== installing wasm-bindgen-cli $version"
  cargo install wasm-bindgen-cli --version "=$version"
fi
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

echo "== cargo build (wasm32, profile web)"
# Paths of this checkout and of the cargo registry are not written into
# the module, so any checkout builds the same bytes with the same toolchain.
export RUSTFLAGS="--remap-path-prefix=$root=/tongban --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo"
export CARGO_INCREMENTAL=0
cargo build -p tongban-verifier-web --lib --target wasm32-unknown-unknown --profile web --locked

out=verifier/counter-page/dist
rm -rf "$out"
mkdir -p "$out"
echo "== wasm-bindgen"
wasm-bindgen --target web --no-typescript --out-dir "$out" --out-name verifier \
  target/wasm32-unknown-unknown/web/tongban_verifier_web.wasm
cp verifier/counter-page/www/* "$out"/

# The service worker's cache is named after the content of everything it
# caches: a new build replaces the old cache, an identical one keeps it.
digest=$(cd "$out" && cat $(ls | grep -v '^sw\.js$' | sort) | sha256sum | cut -c1-16)
sed -i "s/__BUILD__/$digest/" "$out/sw.js"
ls -l "$out"
echo "counter page built: $out (build $digest)"
