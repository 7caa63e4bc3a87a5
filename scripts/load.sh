#!/usr/bin/env bash
# Issuing load on tongban-issuer: builds the release binaries and, for each
# backend and each number of workers, starts the service on a fresh data
# directory (SQLite) or a fresh PostgreSQL database, issues business
# licences from that many keep-alive connections for SECONDS
# (tests/xtask/src/bin/issue-load.rs), reports throughput, latency
# percentiles and where the machine's CPU went (the service, the load
# client, everything else), then checks that every credential that got a
# 201 is in the admin list and the audit log with no status index given
# twice, stops the service (SIGTERM, by its PID) and runs
# `tongban-issuer audit verify`. At the end, one table of every run, in the
# form of docs/performance.md, with the machine and the commit measured.
#
#   scripts/load.sh                     # SQLite and PostgreSQL, 8, 32 and 64 workers, 20 s each
#   scripts/load.sh sqlite 30           # SQLite only, 30 s per run
#   scripts/load.sh postgres            # PostgreSQL only (see below)
#   WORKERS=64 scripts/load.sh sqlite 10
#
# Environment:
#   WORKERS       the worker counts to run, one run each (default "8 32 64")
#   PORT          where the service listens (default 18480)
#   PG_ADMIN_URL  a PostgreSQL URL whose role may CREATE DATABASE (default
#                 postgres://tongban:tongban@127.0.0.1:5432/postgres); a
#                 database tongban_load_<time> is made for each run and
#                 dropped afterwards. Locally: pg_ctlcluster 15 main start
#   KEEP=1        keep the data directories (and the PostgreSQL databases)
#   ISSUER_BIN    serve with this tongban-issuer binary instead of building
#                 this tree's (to measure two builds against each other:
#                 copy one build's binary aside, build the other, and
#                 alternate runs of the two)
#
# The load client shares the machine with the service: the CPU columns say
# how much of it each had. "PostgreSQL" is every process named postgres
# (all of the server's backends, whoever they serve); "other" is everything
# else that ran meanwhile (on a shared machine, other people's builds);
# "idle" is what nobody used. Measure on a quiet machine.
#
# Exit status 0 when every run issued something, its check passed and its
# audit chain verified; 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

backends="${1:-both}"
secs="${2:-20}"
workers_list="${WORKERS:-8 32 64}"
port="${PORT:-18480}"
pg_admin="${PG_ADMIN_URL:-postgres://tongban:tongban@127.0.0.1:5432/postgres}"
case "$backends" in
  both) backends="sqlite postgres" ;;
  sqlite | postgres) ;;
  *) echo "usage: scripts/load.sh [sqlite|postgres|both] [seconds]" >&2; exit 2 ;;
esac

echo "== building release binaries"
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
if [[ -n "${ISSUER_BIN:-}" ]]; then
  [[ -x "$ISSUER_BIN" ]] || { echo "ISSUER_BIN=$ISSUER_BIN is not an executable file" >&2; exit 2; }
  cargo build --release --quiet -p tongban-xtask --bin issue-load
  issuer="$ISSUER_BIN"
  echo "serving with $issuer (ISSUER_BIN), not this tree's build"
else
  cargo build --release --quiet -p tongban-issuer -p tongban-xtask --bin tongban-issuer --bin issue-load
  issuer="$target_dir/release/tongban-issuer"
fi
load="$target_dir/release/issue-load"
hz="$(getconf CLK_TCK)"

# CPU seconds (user + system) a process has used, from /proc.
cpu_secs() { awk -v hz="$hz" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }
# CPU seconds of every process named postgres (the server's backends), from /proc.
# A process that exits between the glob and the read makes cat fail; that must
# not end the script (pipefail and set -e did, silently, about one run in ten).
pg_cpu() { { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v hz="$hz" '$2 == "(postgres)" { s += $14 + $15 } END { printf "%.2f", s / hz }'; }
# Busy and total CPU seconds of the whole machine, from /proc/stat.
machine_cpu() { awk -v hz="$hz" '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; printf "%.2f %.2f\n", (t - $5 - $6) / hz, t / hz }' /proc/stat; }

pid=""
dir=""
db_name=""
cleanup_run() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  pid=""
  if [[ "${KEEP:-0}" != 1 ]]; then
    [[ -n "$db_name" ]] && psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" >/dev/null 2>&1 || true
    [[ -n "$dir" ]] && rm -rf "$dir"
  elif [[ -n "$dir" ]]; then
    echo "kept: $dir${db_name:+ and database $db_name}"
  fi
  dir=""
  db_name=""
}
trap cleanup_run EXIT

rows=()
status=0

# One run: backend, workers. Appends a row to `rows`.
run_one() {
  local backend="$1" workers="$2" db_args=() run_status=0
  dir="$(mktemp -d "${TMPDIR:-/tmp}/tongban-load.XXXXXX")"
  if [[ "$backend" == postgres ]]; then
    db_name="tongban_load_$(date +%s)_$$"
    psql -q "$pg_admin" -c "CREATE DATABASE $db_name" >/dev/null
    local base="${pg_admin%%\?*}" query=""
    [[ "$pg_admin" == *\?* ]] && query="?${pg_admin#*\?}"
    db_args=(--database-url "${base%/*}/$db_name$query")
  fi
  echo
  echo "== $backend, $workers workers, ${secs}s: starting tongban-issuer serve on 127.0.0.1:$port, data in $dir"
  "$issuer" serve --data-dir "$dir/data" --listen "127.0.0.1:$port" "${db_args[@]}" \
    </dev/null >/dev/null 2>"$dir/serve.log" &
  pid=$!
  local url="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$url/readyz" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$dir/serve.log" >&2; echo "the service exited" >&2; exit 1; }
    sleep 0.1
  done
  curl -fsS -o /dev/null "$url/readyz"
  # The service that answered must be the one just started: another one
  # left on the port answers /readyz while this one fails to bind and exits.
  kill -0 "$pid" 2>/dev/null || {
    cat "$dir/serve.log" >&2
    echo "the service exited after start; is another process listening on port $port? (PORT=... picks another)" >&2
    exit 1
  }
  # A failed grep must not end the script silently (set -e): say why.
  TONGBAN_ADMIN_TOKEN="$(grep -o 'tbat_[A-Za-z0-9_-]*' "$dir/serve.log" | head -n 1 || true)"
  export TONGBAN_ADMIN_TOKEN
  [[ -n "$TONGBAN_ADMIN_TOKEN" ]] || {
    cat "$dir/serve.log" >&2
    echo "no admin token in the service's log (a fresh data directory prints one at first start)" >&2
    exit 1
  }

  local service_cpu_before busy0 total0 busy1 total1 wall cu cs service_cpu
  service_cpu_before="$(cpu_secs "$pid")"
  local pg0 pg1
  pg0="$(pg_cpu)"
  read -r busy0 total0 < <(machine_cpu)
  TIMEFORMAT="%R %U %S"
  { time "$load" run --url "$url" --workers "$workers" --seconds "$secs" --acks "$dir/acks.txt" \
      --json > "$dir/load.json" || run_status=1; } 2> "$dir/client-time.txt"
  read -r busy1 total1 < <(machine_cpu)
  pg1="$(pg_cpu)"
  service_cpu="$(awk -v a="$service_cpu_before" -v b="$(cpu_secs "$pid")" 'BEGIN { printf "%.2f", b - a }')"
  read -r wall cu cs < <(tail -n 1 "$dir/client-time.txt")

  # Throughput, latency and the CPU split, from the load's JSON and /proc.
  local summary
  summary="$(python3 - "$dir/load.json" "$wall" "$cu" "$cs" "$service_cpu" "$busy0" "$busy1" "$total0" "$total1" "$pg0" "$pg1" <<'PY'
import json, sys
load = json.load(open(sys.argv[1]))["load"]
wall, cu, cs, sv, b0, b1, t0, t1, pg0, pg1 = map(float, sys.argv[2:])
client = cu + cs
pg = max(pg1 - pg0, 0.0)
busy = b1 - b0
cores = (t1 - t0) / wall          # CPU seconds the machine had per wall second
other = max(busy - sv - client - pg, 0.0)
idle = (t1 - t0) - busy
lat = load["latency_ms"]
n = load["acknowledged"]
per_cred = 1e6 * sv / n if n else 0.0
errors = sum(load["errors"].values())
print(f'{n}|{load["throughput_per_s"]:.0f}|{lat["p50"]:.2f}|{lat["p90"]:.2f}|{lat["p99"]:.2f}|{lat["max"]:.2f}|{errors}'
      f'|{sv / wall:.2f}|{client / wall:.2f}|{pg / wall:.2f}|{other / wall:.2f}|{idle / wall:.2f}|{per_cred:.0f}|{cores:.1f}')
print("timeline: " + " ".join(f"{r:.0f}" for r in load["timeline"]["per_s"]) + f' (per {load["timeline"]["window_s"]} s)', file=sys.stderr)
PY
)" 2> "$dir/timeline.txt"
  local n tput p50 p90 p99 max errors sv_c cl_c pg_c ot_c id_c per_cred cores
  IFS='|' read -r n tput p50 p90 p99 max errors sv_c cl_c pg_c ot_c id_c per_cred cores <<< "$summary"
  echo "issued $n credentials: $tput/s; latency ms p50 $p50, p90 $p90, p99 $p99, max $max; errors $errors"
  cat "$dir/timeline.txt"
  echo "cpu (cores of $cores): service $sv_c, load client $cl_c, PostgreSQL $pg_c, other $ot_c, idle $id_c; service CPU per credential $per_cred µs"

  echo "-- checking every acknowledged credential against the admin list and the audit log"
  "$load" check --url "$url" --acks "$dir/acks.txt" | tee "$dir/check.txt" || run_status=1
  echo "-- stopping the service (SIGTERM to PID $pid)"
  kill -TERM "$pid"
  wait "$pid" || { echo "the service exited with status $?" >&2; run_status=1; }
  pid=""
  echo "-- tongban-issuer audit verify"
  "$issuer" audit verify --data-dir "$dir/data" "${db_args[@]}" | tee "$dir/verify.txt" || run_status=1
  [[ "$n" -gt 0 && "$errors" == 0 ]] || run_status=1
  local verdict="pass"
  [[ $run_status == 0 ]] || { verdict="FAIL"; status=1; }
  local label="SQLite"
  [[ "$backend" == postgres ]] && label="PostgreSQL"
  rows+=("| $label | $workers | $n | **$tput** | $p50 | $p90 | **$p99** | $max | $errors | $sv_c / $cl_c / $pg_c / $ot_c / $id_c | $per_cred µs | $verdict |")
  cleanup_run
}

for backend in $backends; do
  for w in $workers_list; do
    run_one "$backend" "$w"
  done
done

echo
echo "== summary"
echo "date:     $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "commit:   $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with local changes)')${ISSUER_BIN:+; service: $ISSUER_BIN}"
echo "machine:  $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r)"
echo "load avg: $(cut -d' ' -f1-3 /proc/loadavg) (at the end)"
echo "settings: ${secs}s per run; SQLite WAL + synchronous=FULL; PostgreSQL $(psql -At "$pg_admin" -c 'SHOW server_version' 2>/dev/null || echo '(not reached)'), fsync=$(psql -At "$pg_admin" -c 'SHOW fsync' 2>/dev/null || echo '?'), synchronous_commit=$(psql -At "$pg_admin" -c 'SHOW synchronous_commit' 2>/dev/null || echo '?')"
echo
echo "| Backend | workers | issued | per second | p50 ms | p90 ms | p99 ms | max ms | errors | CPU cores: service / client / PostgreSQL / other / idle | service CPU per credential | check + audit verify |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|"
printf '%s\n' "${rows[@]}"
if [[ $status == 0 ]]; then echo "RESULT: PASS"; else echo "RESULT: FAIL"; fi
exit $status
