#!/usr/bin/env bash
# HTTP benchmark of a local `tidemark dev` stack with wrk (see bench/README.md).
#
# Starts its own stack (fresh data dir, free loopback port, broker on a free port), runs five
# bounded wrk runs against 127.0.0.1, prints a Markdown table and writes it, with the machine
# noted at the top, to bench/results/http-<date>.md. The stack is always stopped (SIGTERM) and
# its data dir removed on exit.
#
# Settings (environment): BENCH_DURATION (10s), BENCH_THREADS (2), BENCH_CONNECTIONS (50),
# BENCH_SEED_ENTRIES (1000), BENCH_START_TIMEOUT (90, seconds).
# shellcheck disable=SC2016 # backquotes in single quotes are Markdown, not expansions
set -euo pipefail
cd "$(dirname "$0")/.."
root_dir=$(pwd)

duration=${BENCH_DURATION:-10s}
threads=${BENCH_THREADS:-2}
connections=${BENCH_CONNECTIONS:-50}
seed_entries=${BENCH_SEED_ENTRIES:-1000}
start_timeout=${BENCH_START_TIMEOUT:-90}
binary="$root_dir/build/app/tidemark"
lua_post="$root_dir/bench/post_event.lua"

bench_name=http_bench
# shellcheck source=bench/lib.sh
source "$root_dir/bench/lib.sh"

# --- tools -------------------------------------------------------------------------------------
bench_install_tools wrk curl python3
bench_build_if_missing

# --- the stack ---------------------------------------------------------------------------------
port=$(bench_free_port)
base="http://127.0.0.1:$port"

bench_make_log_dir
bench_trap_exit
bench_start_stack dev "$port"

# --- checks and seed ---------------------------------------------------------------------------
# The event log belongs to accounts: every request below carries one user's bearer token.
token=$(curl -sS -X POST -H 'Content-Type: application/json' \
  --data '{"username":"bench-owner","password":"bench-password"}' "$base/auth/register" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])') ||
  die "cannot register the benchmark user"
auth="Authorization: Bearer $token"
post_status() { # extra curl args...; prints the status of one POST /events
  curl -sS -o /dev/null -w '%{http_code}' -X POST "$@" -H "$auth" -H 'Content-Type: application/json' \
    --data '{"user_id":"bench-check","event_type":"bench","event_source":"curl"}' "$base/events"
}
[[ "$(curl -sS -o /dev/null -w '%{http_code}' "$base/healthz")" == 200 ]] ||
  die "GET /healthz is not 200"
code=$(post_status)
[[ "$code" == 201 ]] || die "POST /events answered $code, expected 201"
code=$(post_status -H 'Prefer: respond-async')
[[ "$code" == 202 ]] || die "POST /events with Prefer: respond-async answered $code, expected 202"

say "seeding $seed_entries entries for user bench-user"
seed_started=$SECONDS
seed_codes=$(seq 1 "$seed_entries" | xargs -P 8 -I{} curl -sS -o /dev/null -w '%{http_code}\n' \
  -X POST -H "$auth" -H 'Prefer: respond-async' -H 'Content-Type: application/json' \
  --data '{"user_id":"bench-user","event_type":"seed","event_source":"curl","event_data":{"i":{}}}' \
  "$base/events")
seed_ok=$(grep -c '^202$' <<<"$seed_codes" || true)
((seed_ok == seed_entries)) ||
  die "seeding: $seed_ok of $seed_entries POSTs answered 202 ($(sort <<<"$seed_codes" | uniq -c | tr '\n' ' '))"
total=""
for _ in $(seq 1 300); do # the seed was answered before projection: wait for it, at most 60 s
  total=$(curl -sS -D - -o /dev/null -H "$auth" "$base/events?user_id=bench-user&size=1" |
    tr -d '\r' | awk -F': *' 'tolower($1) == "x-total-count" {print $2}')
  [[ "$total" == "$seed_entries" ]] && break
  sleep 0.2
done
[[ "$total" == "$seed_entries" ]] ||
  die "seeding: X-Total-Count is '$total' after 60 s, expected $seed_entries"
say "seeded and projected in $((SECONDS - seed_started)) s"

# --- runs --------------------------------------------------------------------------------------
rows=()
run_dir="$log_dir/wrk"
mkdir -p "$run_dir"
run=0

bench() { # label, then wrk arguments (URL last)
  local label=$1; shift
  run=$((run + 1))
  local out="$run_dir/run-$run.txt"
  say "run $run: $label"
  # wrk stops itself after --duration; `timeout` only guards against a hang.
  timeout 120 wrk --latency -t "$threads" -c "$connections" -d "$duration" --timeout 10s "$@" \
    >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed for: $label"; }
  local rps p50 p99 non2xx socket
  read -r rps p50 p99 non2xx socket < <(bench_wrk_stats "$out")
  rows+=("| $run | $label | $rps | $p50 | $p99 | $non2xx | $socket |")
}

bench 'GET /healthz (keep-alive)' "$base/healthz"
bench 'GET /healthz, `Connection: close`' -H 'Connection: close' "$base/healthz"
bench "GET /events?user_id=bench-user&size=10 ($seed_entries entries)" -H "$auth" \
  "$base/events?user_id=bench-user&size=10"
bench 'POST /events, answered once projected (201)' -s "$lua_post" -H "$auth" "$base/events"
bench 'POST /events, `Prefer: respond-async` (202)' -s "$lua_post" -H "$auth" \
  -H 'Prefer: respond-async' "$base/events"

# --- report ------------------------------------------------------------------------------------
table=$(
  echo "| # | request | requests/s | p50 | p99 | non-2xx/3xx | socket errors |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${rows[@]}"
)
echo
echo "$table"
echo

mkdir -p bench/results
result="bench/results/http-$(date +%Y-%m-%d-%H%M%S).md"
{
  echo "# HTTP benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- machine: $(bench_machine);" \
    "wrk and \`tidemark dev\` (API, projector, PostgreSQL, embedded broker) share them"
  echo "- tidemark: build/app/tidemark built $(bench_built_at "$binary")," \
    "tree at commit $(bench_commit); \`tidemark dev\` defaults (http_threads 2, db_pool_size 4," \
    "6 partitions, embedded broker)"
  echo "- wrk: $(bench_wrk_version); -t $threads -c $connections" \
    "-d $duration --latency --timeout 10s, against 127.0.0.1"
  echo
  echo "$table"
} >"$result"
say "wrote $result"
