#!/usr/bin/env bash
# HTTP benchmark of a local `tidemark dev` stack with wrk (see bench/README.md).
#
# Starts its own stack (fresh data dir, free loopback port, broker on a free port), runs five
# bounded wrk runs against 127.0.0.1, prints a Markdown table and writes it, with the machine
# noted at the top, to bench/results/http-<date>.md. The stack is always stopped (SIGTERM) and
# its data dir removed on exit.
#
# Flags (each also an environment variable; a flag wins):
#   --duration SECONDS   BENCH_DURATION      (10; --quick: 2) of each wrk run
#   --threads N          BENCH_THREADS       (2)
#   --connections N      BENCH_CONNECTIONS   (50)
#   --seed-entries N     BENCH_SEED_ENTRIES  (1000; --quick: 200)
#   --quick              a smoke run: 2 s per run, 200 entries, unless given otherwise
#   BENCH_START_TIMEOUT (90, seconds)
# shellcheck disable=SC2016 # backquotes in single quotes are Markdown, not expansions
set -euo pipefail
cd "$(dirname "$0")/.."
root_dir=$(pwd)

duration=${BENCH_DURATION:-}
threads=${BENCH_THREADS:-2}
connections=${BENCH_CONNECTIONS:-50}
seed_entries=${BENCH_SEED_ENTRIES:-}
start_timeout=${BENCH_START_TIMEOUT:-90}
binary="$root_dir/build/app/tidemark"
lua_post="$root_dir/bench/post_event.lua"

bench_name=http_bench
# shellcheck source=bench/lib.sh
source "$root_dir/bench/lib.sh"
bench_parse_flags "--duration=duration --threads=threads --connections=connections
  --seed-entries=seed_entries" "$@"
if $quick; then
  duration=${duration:-2}
  seed_entries=${seed_entries:-200}
fi
duration=${duration:-10}
duration=${duration%s} # wrk takes "10s" or "10"; keep the number
seed_entries=${seed_entries:-1000}
bench_require_positive duration threads connections seed_entries
((connections >= threads)) || die "--connections must be at least --threads"

# --- tools -------------------------------------------------------------------------------------
bench_install_tools wrk curl python3
bench_build_if_missing

# --- the stack ---------------------------------------------------------------------------------
port=$(bench_free_port)
base="http://127.0.0.1:$port"

bench_make_log_dir
bench_trap_exit
bench_copy_binary
load_at_start=$(cut -d ' ' -f 1-3 /proc/loadavg)
bench_start_stack dev "$port"

# --- checks and seed ---------------------------------------------------------------------------
# The event log belongs to accounts: every request below carries one user's bearer token.
token=$(bench_register "$base" bench-owner | bench_json_field access_token)
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

bench_seed_events "$base" "$token" "$seed_entries" bench-user

# --- runs --------------------------------------------------------------------------------------
rows=()
run_dir="$log_dir/wrk"
mkdir -p "$run_dir"
run=0

bench() { # LABEL SHORT-LABEL, then wrk arguments (URL last)
  local label=$1 short=$2
  shift 2
  run=$((run + 1))
  local out="$run_dir/run-$run.txt"
  local command=(wrk --latency -t "$threads" -c "$connections" -d "${duration}s" --timeout 10s "$@")
  say "run $run: $label"
  bench_log_command "${command[@]}"
  # wrk stops itself after --duration; `timeout` only guards against a hang.
  timeout $((duration + 60)) "${command[@]}" >"$out" 2>&1 ||
    { cat "$out" >&2; die "wrk failed for: $label"; }
  local rps p50 p99 non2xx socket
  read -r rps p50 p99 non2xx socket < <(bench_wrk_stats "$out")
  rows+=("| $run | $label | $rps | $p50 | $p99 | $(bench_wrk_max "$out") | $non2xx | $socket |")
  bench_record_wrk http "$short" "$out"
}

bench 'GET /healthz (keep-alive)' 'GET /healthz' "$base/healthz"
bench 'GET /healthz, `Connection: close`' 'GET /healthz, close' -H 'Connection: close' "$base/healthz"
bench "GET /events?user_id=bench-user&size=10 ($seed_entries entries)" 'GET /events' -H "$auth" \
  "$base/events?user_id=bench-user&size=10"
bench 'POST /events, answered once projected (201)' 'POST /events (201)' -s "$lua_post" \
  -H "$auth" "$base/events"
bench 'POST /events, `Prefer: respond-async` (202)' 'POST /events (202)' -s "$lua_post" \
  -H "$auth" -H 'Prefer: respond-async' "$base/events"

# --- report ------------------------------------------------------------------------------------
table=$(
  echo "| # | request | requests/s | p50 | p99 | max | non-2xx/3xx | socket errors |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${rows[@]}"
)
echo
echo "$table"
echo

result="$(bench_results_dir)/http-$(date +%Y-%m-%d-%H%M%S).md"
{
  echo "# HTTP benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  if $quick; then bench_quick_banner; fi
  echo "- machine: $(bench_machine_line);" \
    "wrk and \`tidemark dev\` (API, projector, PostgreSQL, embedded broker) share them;" \
    "load average at start: $load_at_start"
  echo "- tidemark: build/app/tidemark built $built_at," \
    "tree at commit $(bench_commit); \`tidemark dev\` defaults (http_threads 2, db_pool_size 4," \
    "2 partitions, embedded broker)"
  echo "- wrk: $(bench_wrk_version); -t $threads -c $connections" \
    "-d ${duration}s --latency --timeout 10s, against 127.0.0.1; $seed_entries entries seeded"
  echo
  echo "$table"
} >"$result"
say "wrote $result"
