#!/usr/bin/env bash
# Issuing load on tongban-issuer: builds the release binaries, starts the
# service on a fresh data directory (SQLite) or a fresh PostgreSQL database,
# issues business licences from WORKERS keep-alive connections for SECONDS
# (tests/xtask/src/bin/issue-load.rs), reports throughput and latency
# percentiles, then checks that every credential that got a 201 is in the
# admin list and the audit log with no status index given twice, stops the
# service (SIGTERM, by its PID) and runs `tongban-issuer audit verify`.
#
#   scripts/load.sh                     # SQLite, 20 s
#   scripts/load.sh sqlite 30
#   scripts/load.sh postgres 30         # needs PostgreSQL (see below)
#   WORKERS=64 scripts/load.sh sqlite 10
#
# Environment:
#   WORKERS       concurrent connections (default 32)
#   PORT          where the service listens (default 18480)
#   PG_ADMIN_URL  a PostgreSQL URL whose role may CREATE DATABASE (default
#                 postgres://tongban:tongban@127.0.0.1:5432/postgres); a
#                 database tongban_load_<time> is made for the run and
#                 dropped afterwards. Locally: pg_ctlcluster 15 main start
#   KEEP=1        keep the data directory (and the PostgreSQL database)
#
# Exit status 0 when the load issued something, the check passed and the
# audit chain verified; 1 otherwise. The numbers go in docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."

backend="${1:-sqlite}"
secs="${2:-20}"
workers="${WORKERS:-32}"
port="${PORT:-18480}"
pg_admin="${PG_ADMIN_URL:-postgres://tongban:tongban@127.0.0.1:5432/postgres}"
case "$backend" in
  sqlite | postgres) ;;
  *) echo "usage: scripts/load.sh [sqlite|postgres] [seconds]" >&2; exit 2 ;;
esac

echo "== building release binaries"
cargo build --release --quiet -p tongban-issuer -p tongban-xtask --bin tongban-issuer --bin issue-load
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
issuer="$target_dir/release/tongban-issuer"
load="$target_dir/release/issue-load"

dir="$(mktemp -d "${TMPDIR:-/tmp}/tongban-load.XXXXXX")"
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
  db_name="tongban_load_$(date +%s)_$$"
  psql -q "$pg_admin" -c "CREATE DATABASE $db_name" >/dev/null
  base="${pg_admin%%\?*}"
  query=""
  [[ "$pg_admin" == *\?* ]] && query="?${pg_admin#*\?}"
  db_args=(--database-url "${base%/*}/$db_name$query")
fi

echo "== starting tongban-issuer serve ($backend) on 127.0.0.1:$port, data in $dir"
"$issuer" serve --data-dir "$dir/data" --listen "127.0.0.1:$port" "${db_args[@]}" \
  </dev/null >/dev/null 2>"$dir/serve.log" &
pid=$!
url="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "$url/readyz" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$dir/serve.log" >&2; echo "the service exited" >&2; exit 1; }
  sleep 0.1
done
curl -fsS -o /dev/null "$url/readyz"
TONGBAN_ADMIN_TOKEN="$(grep -o 'tbat_[A-Za-z0-9_-]*' "$dir/serve.log" | head -n 1)"
export TONGBAN_ADMIN_TOKEN
[[ -n "$TONGBAN_ADMIN_TOKEN" ]] || { echo "no admin token in the service's log" >&2; exit 1; }

# CPU seconds (user + system) a process has used, from /proc.
cpu_secs() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$1/stat"; }
# Busy and total CPU seconds of the whole machine, from /proc/stat.
machine_cpu() { awk -v hz="$(getconf CLK_TCK)" '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; printf "%.1f %.1f\n", (t - $5 - $6) / hz, t / hz }' /proc/stat; }

echo "== issuing for ${secs}s from $workers workers"
status=0
service_cpu_before="$(cpu_secs "$pid")"
read -r busy0 total0 < <(machine_cpu)
TIMEFORMAT="%R %U %S"
{ time "$load" run --url "$url" --workers "$workers" --seconds "$secs" --acks "$dir/acks.txt" \
    > "$dir/load.txt" || status=1; } 2> "$dir/client-time.txt"
read -r busy1 total1 < <(machine_cpu)
cat "$dir/load.txt"
service_cpu="$(awk -v a="$service_cpu_before" -v b="$(cpu_secs "$pid")" 'BEGIN { printf "%.1f", b - a }')"
read -r wall cu cs < <(tail -n 1 "$dir/client-time.txt")
cpu_line="$(awk -v w="$wall" -v u="$cu" -v s="$cs" -v sv="$service_cpu" 'BEGIN {
  printf "cpu:      service %.1f s, load client %.1f s over %.1f s wall (%.0f%% and %.0f%% of one core)", sv, u + s, w, 100 * sv / w, 100 * (u + s) / w }')"
cpu_line="$cpu_line$(awk -v b0="$busy0" -v b1="$busy1" -v t0="$total0" -v t1="$total1" -v sv="$service_cpu" -v u="$cu" -v s="$cs" 'BEGIN {
  printf "; whole machine %.0f%% busy (%.1f s of %.1f s), other processes (PostgreSQL, anything else) %.1f s", 100 * (b1 - b0) / (t1 - t0), b1 - b0, t1 - t0, (b1 - b0) - sv - u - s }')"
echo "$cpu_line"

echo "== checking every acknowledged credential against the admin list and the audit log"
"$load" check --url "$url" --acks "$dir/acks.txt" | tee "$dir/check.txt" || status=1

echo "== stopping the service (SIGTERM to PID $pid)"
kill -TERM "$pid"
wait "$pid" || { echo "the service exited with status $?" >&2; status=1; }
pid=""

echo "== tongban-issuer audit verify"
"$issuer" audit verify --data-dir "$dir/data" "${db_args[@]}" | tee "$dir/verify.txt" || status=1

echo
echo "== summary"
echo "machine:  $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "date:     $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "backend:  $backend; ${secs}s; $workers workers over keep-alive connections"
sed -n '1,4p' "$dir/load.txt"
echo "$cpu_line"
tail -n 1 "$dir/check.txt"
echo "audit verify: $(cat "$dir/verify.txt")"
if [[ $status == 0 ]]; then echo "RESULT: PASS"; else echo "RESULT: FAIL"; fi
exit $status
