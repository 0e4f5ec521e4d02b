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

say() { echo "http_bench: $*" >&2; }
die() { say "$*"; exit 1; }

# --- tools -------------------------------------------------------------------------------------
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v curl >/dev/null || missing+=(curl)
command -v python3 >/dev/null || missing+=(python3)
if ((${#missing[@]} > 0)); then
  if ((EUID == 0)); then
    as_root=()
  elif command -v sudo >/dev/null; then
    as_root=(sudo)
  else
    die "missing ${missing[*]}; run as root or install sudo"
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [[ ! -x "$binary" ]]; then
  say "building (build/app/tidemark is missing)"
  ./scripts/build.sh
fi

# --- the stack ---------------------------------------------------------------------------------
port=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
base="http://127.0.0.1:$port"

# Under /tmp and 0755: as root, `tidemark dev` runs PostgreSQL as `postgres`, which must be able
# to traverse every folder down to its data.
data_dir=$(mktemp -d /tmp/tidemark-bench.XXXXXX)
chmod 755 "$data_dir"
log_dir=$(mktemp -d /tmp/tidemark-bench-logs.XXXXXX)
server_out="$log_dir/dev.stdout"
server_err="$log_dir/dev.stderr"
server_pid=""

stop_stack() {
  local status=$?
  trap - EXIT
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    say "stopping tidemark dev (pid $server_pid)"
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 60); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$server_pid" 2>/dev/null; then
      say "tidemark dev did not stop within 30 s; killing it"
      kill -KILL "$server_pid" 2>/dev/null || true
    fi
    local server_status=0
    wait "$server_pid" 2>/dev/null || server_status=$?
    ((server_status == 0)) || say "tidemark dev exited with status $server_status"
  fi
  # If tidemark was killed, the PostgreSQL it started may still run on our data dir.
  local postmaster="$data_dir/postgres/pgdata/postmaster.pid"
  if [[ -f "$postmaster" ]]; then
    local pg_pid
    pg_pid=$(head -n 1 "$postmaster" 2>/dev/null || true)
    if [[ "$pg_pid" =~ ^[0-9]+$ ]] && kill -0 "$pg_pid" 2>/dev/null; then
      say "stopping leftover PostgreSQL (pid $pg_pid)"
      kill -INT "$pg_pid" 2>/dev/null || true
      for _ in $(seq 1 20); do kill -0 "$pg_pid" 2>/dev/null || break; sleep 0.5; done
    fi
  fi
  rm -rf "$data_dir"
  if ((status != 0)) && [[ -s "$server_err" || -s "$server_out" ]]; then
    say "server logs kept in $log_dir"
  else
    rm -rf "$log_dir"
  fi
  exit "$status"
}
trap stop_stack EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "starting tidemark dev on 127.0.0.1:$port (data dir $data_dir)"
"$binary" dev --data-dir "$data_dir" --http-port "$port" --broker-port 0 \
  >"$server_out" 2>"$server_err" &
server_pid=$!

ready_line="Tidemark is running: http://127.0.0.1:$port/"
started=$SECONDS
until grep -qF "$ready_line" "$server_out"; do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    say "tidemark dev exited before it was ready; stdout:"; cat "$server_out" >&2
    say "stderr:"; cat "$server_err" >&2
    exit 1
  fi
  if ((SECONDS - started >= start_timeout)); then
    say "tidemark dev not ready after ${start_timeout} s; stdout:"; cat "$server_out" >&2
    say "stderr (last 50 lines):"; tail -n 50 "$server_err" >&2
    exit 1
  fi
  sleep 0.2
done
say "stack ready after $((SECONDS - started)) s"

# --- checks and seed ---------------------------------------------------------------------------
post_status() { # extra curl args...; prints the status of one POST /events
  curl -sS -o /dev/null -w '%{http_code}' -X POST "$@" -H 'Content-Type: application/json' \
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
  -X POST -H 'Prefer: respond-async' -H 'Content-Type: application/json' \
  --data '{"user_id":"bench-user","event_type":"seed","event_source":"curl","event_data":{"i":{}}}' \
  "$base/events")
seed_ok=$(grep -c '^202$' <<<"$seed_codes" || true)
((seed_ok == seed_entries)) ||
  die "seeding: $seed_ok of $seed_entries POSTs answered 202 ($(sort <<<"$seed_codes" | uniq -c | tr '\n' ' '))"
total=""
for _ in $(seq 1 300); do # the seed was answered before projection: wait for it, at most 60 s
  total=$(curl -sS -D - -o /dev/null "$base/events?user_id=bench-user&size=1" |
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
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  p50=$(awk '$1 == "50%" {print $2}' "$out")
  p99=$(awk '$1 == "99%" {print $2}' "$out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
  socket=$(awk -F'[ ,]+' '/Socket errors:/ {n = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) n += $i; print n}' "$out")
  rows+=("| $run | $label | ${rps:-?} | ${p50:-?} | ${p99:-?} | ${non2xx:-0} | ${socket:-0} |")
}

bench 'GET /healthz (keep-alive)' "$base/healthz"
bench 'GET /healthz, `Connection: close`' -H 'Connection: close' "$base/healthz"
bench "GET /events?user_id=bench-user&size=10 ($seed_entries entries)" \
  "$base/events?user_id=bench-user&size=10"
bench 'POST /events, answered once projected (201)' -s "$lua_post" "$base/events"
bench 'POST /events, `Prefer: respond-async` (202)' -s "$lua_post" \
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

memory=$(free -g | awk '/^Mem:/ {print $2}')
cpu=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n "$(git status --porcelain 2>/dev/null | grep -v '^?? bench/' || true)" ]]; then
  commit="$commit (working tree has uncommitted changes)"
fi
mkdir -p bench/results
result="bench/results/http-$(date +%Y-%m-%d-%H%M%S).md"
{
  echo "# HTTP benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- machine: $(nproc) CPUs (${cpu:-unknown CPU}), ${memory} GiB memory (free -g total);" \
    "wrk and \`tidemark dev\` (API, projector, PostgreSQL, embedded broker) share them"
  echo "- tidemark: build/app/tidemark built $(date -u -r "$binary" '+%Y-%m-%d %H:%M UTC')," \
    "tree at commit $commit; \`tidemark dev\` defaults (http_threads 2, db_pool_size 4," \
    "6 partitions, embedded broker)"
  echo "- wrk: $(wrk -v 2>&1 | head -n 1 | awk '{print $1, $2}'); -t $threads -c $connections" \
    "-d $duration --latency --timeout 10s, against 127.0.0.1"
  echo
  echo "$table"
} >"$result"
say "wrote $result"
