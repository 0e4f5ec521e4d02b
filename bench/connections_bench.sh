#!/usr/bin/env bash
# Connections benchmark of a local `tidemark dev` stack (see bench/README.md): the memory of the
# API under 1,000 connections, and throughput against concurrency.
#
# Starts its own stack (fresh data dir, free loopback port, broker on a free port) and, beside
# it, a separate `tidemark api` process on the same data dir, so the API's memory is measured
# alone (without the projector, the broker and the inference worker `tidemark dev` holds).
#   1. Memory: the resident set (VmRSS) of that `tidemark api` process after a warm-up request,
#      with --idle connections (1,000) open and idle (each made one keep-alive GET /healthz),
#      after --hold seconds of that, after they closed, then at its peak while wrk drives as
#      many connections on GET /healthz, and after wrk.
#   2. Throughput against concurrency, on the stack's own API: wrk at each --levels connection
#      count (1 4 16 64 256) on GET /events?user_id=bench-user&size=10 (a page out of the
#      seeded entries) and on POST /events answered once projected (201).
# Prints two Markdown tables and writes them, with the machine noted at the top, to
# bench/results/connections-<date>.md. Everything it started is stopped on exit.
#
# Flags (each also an environment variable; a flag wins):
#   --duration SECONDS   BENCH_DURATION          (10; --quick: 2) of each wrk run
#   --levels "LIST"      BENCH_LEVELS            ("1 4 16 64 256") connections of the sweep
#   --idle N             BENCH_IDLE_CONNECTIONS  (1000) connections of the memory runs
#   --hold SECONDS       BENCH_HOLD              (10; --quick: 3) how long they stay open
#   --seed-entries N     BENCH_SEED_ENTRIES      (1000; --quick: 200)
#   --quick              a smoke run with the --quick values above, unless given otherwise
#   BENCH_START_TIMEOUT (90, seconds)
# shellcheck disable=SC2016 # backquotes in single quotes are Markdown, not expansions
set -euo pipefail
cd "$(dirname "$0")/.."
root_dir=$(pwd)

duration=${BENCH_DURATION:-}
levels=${BENCH_LEVELS:-1 4 16 64 256}
idle=${BENCH_IDLE_CONNECTIONS:-1000}
hold=${BENCH_HOLD:-}
seed_entries=${BENCH_SEED_ENTRIES:-}
start_timeout=${BENCH_START_TIMEOUT:-90}
binary="$root_dir/build/app/tidemark"
lua_post="$root_dir/bench/post_event.lua"

bench_name=connections_bench
# shellcheck source=bench/lib.sh
source "$root_dir/bench/lib.sh"
bench_parse_flags "--duration=duration --levels=levels --idle=idle --hold=hold
  --seed-entries=seed_entries" "$@"
if $quick; then
  duration=${duration:-2}
  hold=${hold:-3}
  seed_entries=${seed_entries:-200}
fi
duration=${duration:-10}
duration=${duration%s}
hold=${hold:-10}
seed_entries=${seed_entries:-1000}
bench_require_positive duration idle hold seed_entries
for level in $levels; do
  [[ "$level" =~ ^[1-9][0-9]*$ ]] || die "--levels takes positive integers, got '$level'"
done
# Every connection is a file descriptor, in wrk and in the API.
(($(ulimit -n) > idle + 100)) || ulimit -n $((idle + 1024)) 2>/dev/null ||
  die "the open file limit ($(ulimit -n)) is too low for $idle connections"

bench_install_tools wrk curl python3
bench_build_if_missing
bench_make_log_dir
bench_trap_exit
bench_copy_binary
run_dir="$log_dir/wrk"
mkdir -p "$run_dir"
load_at_start=$(cut -d ' ' -f 1-3 /proc/loadavg)

# --- the stack, and the API beside it ------------------------------------------------------------
port=$(bench_free_port)
base="http://127.0.0.1:$port"
bench_start_stack dev "$port" --access-token-ttl-s 86400
token=$(bench_register "$base" benchowner | bench_json_field access_token)
auth="Authorization: Bearer $token"

api_port=$(bench_free_port)
api_base="http://127.0.0.1:$api_port"
say "starting tidemark api on 127.0.0.1:$api_port (the stack's data dir)"
bench_start_extra api "$binary" api --data-dir "$data_dir" --http-port "$api_port"
api_pid=$bench_extra_pid
bench_wait_healthy "$api_base/healthz"
[[ "$(curl -sS -o /dev/null -w '%{http_code}' -H "$auth" "$api_base/events?size=1")" == 200 ]] ||
  die "GET /events through tidemark api is not 200"

bench_seed_events "$base" "$token" "$seed_entries" bench-user

# --- memory ----------------------------------------------------------------------------------
memory_rows=()
memory() { # STATE SHORT-STATE CONNECTIONS RSS-KIB
  memory_rows+=("| $1 | $3 | $(awk -v k="$4" 'BEGIN {printf "%.1f", k / 1024}') |")
  bench_record memory "$2" "$3" "$4"
}
sleep 1
rss_start=$(bench_rss_kib "$api_pid")
memory "started, after a warm-up request" started 0 "$rss_start"

# Opens IDLE connections, each sends one keep-alive GET /healthz and reads its answer; notes the
# API's RSS, holds them HOLD seconds, notes it again, counts those the server left open, closes.
say "memory: $idle idle connections to tidemark api for $hold s"
bench_log_command python3 - "$api_port" "$idle" "$hold" "$api_pid" # the script below, on stdin
idle_json=$(python3 - "$api_port" "$idle" "$hold" "$api_pid" <<'EOF'
import json, select, socket, sys, time
port, count, hold, pid = (int(a) for a in sys.argv[1:5])
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0
request = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
sockets, answered, failed = [], 0, 0
started = time.monotonic()
for _ in range(count):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                raise OSError("closed")
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(body) < length:
            chunk = s.recv(4096)
            if not chunk:
                raise OSError("closed")
            body += chunk
        if head.startswith(b"HTTP/1.1 200"):
            answered += 1
        sockets.append(s)
    except OSError:
        failed += 1
opened_s = time.monotonic() - started
rss_open = rss()
time.sleep(hold)
rss_held = rss()
# A socket the server closed (or wrote to: a timeout answer) is readable; an idle one is not.
readable, _, _ = select.select(sockets, [], [], 0) if sockets else ([], [], [])
for s in sockets:
    s.close()
print(json.dumps({"opened": len(sockets), "answered": answered, "failed": failed,
                  "still_open": len(sockets) - len(readable), "open_seconds": round(opened_s, 2),
                  "rss_open_kib": rss_open, "rss_held_kib": rss_held}))
EOF
)
say "  $idle_json"
read -r opened answered still_open rss_open rss_held < <(python3 -c 'import json, sys
r = json.loads(sys.argv[1])
print(r["opened"], r["answered"], r["still_open"], r["rss_open_kib"], r["rss_held_kib"])' "$idle_json")
((answered == idle)) || die "only $answered of $idle connections got their GET /healthz answered"
memory "$idle idle connections, just opened" "$idle idle" "$idle" "$rss_open"
memory "$idle idle connections, after $hold s" "$idle idle, ${hold} s later" "$still_open" "$rss_held"
sleep 2
rss_closed=$(bench_rss_kib "$api_pid")
memory "2 s after they closed" closed 0 "$rss_closed"

say "memory: wrk with $idle connections on GET /healthz for ${duration} s"
busy_out="$run_dir/busy.txt"
busy_command=(wrk --latency -t 2 -c "$idle" -d "${duration}s" --timeout 10s "$api_base/healthz")
bench_log_command "${busy_command[@]}"
timeout $((duration + 60)) "${busy_command[@]}" >"$busy_out" 2>&1 &
wrk_pid=$!
rss_peak=0
while kill -0 "$wrk_pid" 2>/dev/null; do
  rss=$(bench_rss_kib "$api_pid")
  ((rss > rss_peak)) && rss_peak=$rss
  sleep 0.25
done
wait "$wrk_pid" || { cat "$busy_out" >&2; die "wrk failed with $idle connections"; }
memory "$idle busy connections (wrk, GET /healthz), peak of samples every 0.25 s" "$idle busy (peak)" \
  "$idle" "$rss_peak"
sleep 2
rss_after=$(bench_rss_kib "$api_pid")
memory "2 s after wrk" "after wrk" 0 "$rss_after"
bench_record_wrk connections "GET /healthz, $idle connections" "$busy_out"
read -r busy_rps busy_p50 busy_p99 busy_non2xx busy_socket < <(bench_wrk_stats "$busy_out")
per_connection=$(awk -v a="$rss_start" -v b="$rss_open" -v n="$idle" 'BEGIN {printf "%.1f", (b - a) / n}')

# --- throughput against concurrency ------------------------------------------------------------
sweep_rows=()
sweep() { # REQUEST-LABEL, then wrk arguments (URL last)
  local label=$1 level threads out
  shift
  for level in $levels; do
    threads=$((level < 2 ? level : 2))
    out="$run_dir/sweep-${label//[^A-Za-z]/}-$level.txt"
    local command=(wrk --latency -t "$threads" -c "$level" -d "${duration}s" --timeout 10s "$@")
    say "sweep: $label, $level connection(s)"
    bench_log_command "${command[@]}"
    timeout $((duration + 60)) "${command[@]}" >"$out" 2>&1 ||
      { cat "$out" >&2; die "wrk failed for $label at $level connections"; }
    local rps p50 p90 p99 max errors
    read -r rps p50 p90 p99 max errors < <(bench_wrk_ms "$out")
    sweep_rows+=("| $label | $level | $rps | $p50 | $p90 | $p99 | $max | $errors |")
    bench_record sweep "$label" "$level" "$rps" "$p50" "$p90" "$p99" "$max" "$errors"
    say "  $rps requests/s, p50 $p50 ms, p99 $p99 ms, errors $errors"
  done
}
sweep 'GET /events' -H "$auth" "$base/events?user_id=bench-user&size=10"
sweep 'POST /events (201)' -s "$lua_post" -H "$auth" "$base/events"

# --- report ------------------------------------------------------------------------------------
tables=$(
  echo "Memory of the \`tidemark api\` process (VmRSS):"
  echo
  echo "| state | connections open | RSS (MiB) |"
  echo "| --- | ---: | ---: |"
  printf '%s\n' "${memory_rows[@]}"
  echo
  echo "About $per_connection KiB per idle connection ((just opened − started) / $idle)." \
    "wrk on $idle connections: $busy_rps requests/s, p50 $busy_p50, p99 $busy_p99," \
    "non-2xx $busy_non2xx, socket errors $busy_socket."
  echo
  echo "Throughput against concurrency (wrk on the stack's API, ${duration} s per row; latencies in ms):"
  echo
  echo "| request | connections | requests/s | p50 | p90 | p99 | max | errors |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${sweep_rows[@]}"
)
echo
echo "$tables"
echo

result="$(bench_results_dir)/connections-$(date +%Y-%m-%d-%H%M%S).md"
{
  echo "# Connections benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  if $quick; then bench_quick_banner; fi
  echo "- machine: $(bench_machine_line); wrk, \`tidemark dev\` and \`tidemark api\` share them;" \
    "load average at start: $load_at_start"
  echo "- tidemark: build/app/tidemark built $built_at, tree at commit $(bench_commit);" \
    "\`tidemark dev\` defaults (http_threads 2, db_pool_size 4, 2 partitions, embedded broker) but" \
    "\`--access-token-ttl-s 86400\`, and \`tidemark api --data-dir DATA_DIR\` (its defaults) beside it"
  echo "- memory: $idle connections opened one after another by a Python client" \
    "($opened opened, $answered answered their GET /healthz; $still_open still open after" \
    "$hold s), then \`wrk -t 2 -c $idle -d ${duration}s\` on GET /healthz; RSS from" \
    "/proc/PID/status of the \`tidemark api\` process only"
  echo "- sweep: $(bench_wrk_version), -t min(2, connections) -d ${duration}s --latency" \
    "--timeout 10s against 127.0.0.1, one account's bearer token; GET /events reads a page of 10" \
    "of $seed_entries entries; POST /events uses bench/post_event.lua (a new event each)." \
    "wrk's percentiles are corrected for coordinated omission"
  echo
  echo "$tables"
} >"$result"
say "wrote $result"
