#!/usr/bin/env bash
# Verification load on tongban-verifier-service: builds the release
# binaries, writes a trust bundle of the demonstration zone made now,
# starts the service on a fresh data directory (SQLite) or a fresh
# PostgreSQL database with that bundle, and runs `verify-load`
# (tests/xtask/src/bin/verify-load.rs): it makes a tenant, prepares
# COUNT + ROUND_TRIPS transactions with their request objects and the
# wallet's encrypted answers (not timed), then times
#   1. the wallet's POST of the encrypted response (decrypted, verified,
#      stored): one 200 is one completed verification;
#   2. the round trip: request-object fetch + response + the back office's
#      outcome read (claims handed over and erased);
# and reads back every transaction of phase 1 (accepted, with claims).
# CPU time of the service, the load client and the whole machine is read
# from /proc for each timed phase. Then the service is stopped (SIGTERM, by
# its PID) and `tongban-verifier-service audit verify` checks the chains.
#
#   scripts/verify-load.sh                      # SQLite
#   scripts/verify-load.sh postgres             # needs PostgreSQL (see below)
#   COUNT=40000 WORKERS=64 scripts/verify-load.sh sqlite
#
# Environment:
#   COUNT         responses in the timed response phase (default 20000)
#   ROUND_TRIPS   round trips in the timed round-trip phase (default 10000)
#   WORKERS       concurrent connections (default 32)
#   PORT          where the service listens (default 18490)
#   PG_ADMIN_URL  a PostgreSQL URL whose role may CREATE DATABASE (default
#                 postgres://tongban:tongban@127.0.0.1:5432/postgres); a
#                 database tongban_vload_<time> is made for the run and
#                 dropped afterwards
#   KEEP=1        keep the data directory (and the PostgreSQL database)
#   SERVICE_BIN   run this tongban-verifier-service binary instead of the
#                 one just built (to compare two builds in one session)
#
# Exit status 0 when every verification completed, the read-back passed and
# the audit chains verified; 1 otherwise. The numbers go in
# docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."

backend="${1:-sqlite}"
count="${COUNT:-20000}"
round_trips="${ROUND_TRIPS:-10000}"
workers="${WORKERS:-32}"
port="${PORT:-18490}"
pg_admin="${PG_ADMIN_URL:-postgres://tongban:tongban@127.0.0.1:5432/postgres}"
case "$backend" in
  sqlite | postgres) ;;
  *) echo "usage: scripts/verify-load.sh [sqlite|postgres]" >&2; exit 2 ;;
esac

echo "== building release binaries"
cargo build --release --quiet -p tongban-verifier-service -p tongban-xtask \
  --bin tongban-verifier-service --bin verify-load
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
service="${SERVICE_BIN:-$target_dir/release/tongban-verifier-service}"
load="$target_dir/release/verify-load"

dir="$(mktemp -d "${TMPDIR:-/tmp}/tongban-vload.XXXXXX")"
db_args=()
db_name=""
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  if [[ "${KEEP:-0}" != 1 ]]; then
    [[ -n "$db_name" ]] && psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$dir"
  else
    echo "kept: $dir${db_name:+ and database $db_name}"
  fi
}
trap cleanup EXIT

if [[ "$backend" == postgres ]]; then
  db_name="tongban_vload_$(date +%s)_$$"
  psql -q "$pg_admin" -c "CREATE DATABASE $db_name" >/dev/null
  base="${pg_admin%%\?*}"
  query=""
  [[ "$pg_admin" == *\?* ]] && query="?${pg_admin#*\?}"
  db_args=(--database-url "${base%/*}/$db_name$query")
fi

echo "== writing the demonstration zone's trust bundle (made now)"
"$load" zone --dir "$dir/zone" >/dev/null
export TONGBAN_VERIFIER_SERVICE_BUNDLE_DIR="$dir/zone/trust-bundle"
export TONGBAN_VERIFIER_SERVICE_ANCHOR_KEY_FILES="$dir/zone/anchor.jwk"
# Room for every prepared transaction: pending ones count against the
# tenant's limit, and preparing takes longer than the default 5 minutes.
export TONGBAN_VERIFIER_SERVICE_TRANSACTION_TTL_SECS=3600
export TONGBAN_VERIFIER_SERVICE_MAX_PENDING_PER_TENANT=1000000

url="http://127.0.0.1:$port"
echo "== starting tongban-verifier-service serve ($backend) on $url, data in $dir"
"$service" serve --data-dir "$dir/data" --listen "127.0.0.1:$port" --public-url "$url" "${db_args[@]}" \
  </dev/null >/dev/null 2>"$dir/serve.log" &
pid=$!
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "$url/readyz" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$dir/serve.log" >&2; echo "the service exited" >&2; exit 1; }
  sleep 0.1
done
curl -fsS -o /dev/null "$url/readyz" || { cat "$dir/serve.log" >&2; echo "the service is not ready" >&2; exit 1; }
TONGBAN_VERIFIER_ADMIN_TOKEN="$(grep -o 'tbvs_[A-Za-z0-9_-]*' "$dir/serve.log" | head -n 1)"
export TONGBAN_VERIFIER_ADMIN_TOKEN
[[ -n "$TONGBAN_VERIFIER_ADMIN_TOKEN" ]] || { echo "no admin token in the service's log" >&2; exit 1; }

status=0
"$load" run --url "$url" --service-pid "$pid" --workers "$workers" --count "$count" \
  --round-trips "$round_trips" | tee "$dir/load.txt" || status=1

echo "== stopping the service (SIGTERM to PID $pid)"
kill -TERM "$pid"
wait "$pid" || { echo "the service exited with status $?" >&2; status=1; }
pid=""

echo "== tongban-verifier-service audit verify"
"$service" audit verify --data-dir "$dir/data" "${db_args[@]}" | tee "$dir/verify.txt" || status=1

echo
echo "== summary"
echo "machine:  $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "date:     $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "code:     $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
echo "backend:  $backend; $workers workers over keep-alive connections"
cat "$dir/load.txt"
echo "audit verify: $(tr '\n' ' ' < "$dir/verify.txt")"
if [[ $status == 0 ]]; then echo "RESULT: PASS"; else echo "RESULT: FAIL"; fi
exit $status
