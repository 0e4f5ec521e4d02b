# Shell functions shared by the benchmarks in bench/ (sourced, never run on its own).
#
# The sourcing script sets, before calling them:
#   bench_name     prefix of every message ("http_bench", "login_bench")
#   binary         the tidemark executable to run
#   start_timeout  seconds to wait for `tidemark dev` to say it is running
# and, from bench_make_log_dir on, gets log_dir, data_dir, server_pid, server_out, server_err.
#
# When bench/run_all.sh runs a benchmark it sets, in the environment:
#   BENCH_RESULTS_DIR  where the benchmark writes its report (default bench/results)
#   BENCH_DATA_DIR     where bench_record appends the figures the report's table and plots use
#   BENCH_COMMANDS_FILE  where bench_log_command appends every load generator's command line
# shellcheck shell=bash disable=SC2154,SC2034 # bench_name, binary, start_timeout: see above; quick, built_at: for the sourcing script

say() { echo "$bench_name: $*" >&2; }
die() { say "$*"; exit 1; }

# --- flags ---------------------------------------------------------------------------------------
# bench_usage [STATUS]: prints the script's header comment (from line 2 to `set -euo`) and exits.
bench_usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; /^# shellcheck /d; s/^# \{0,1\}//' >&2
  exit "${1:-2}"
}

# bench_parse_flags "--flag=variable ..." "$@": sets each variable from its flag's value,
# `quick=true` for --quick, prints the usage for -h/--help, refuses anything else.
quick=false
bench_parse_flags() {
  local spec=" $1 " flag variable
  shift
  while (($# > 0)); do
    flag=$1
    case $flag in
      --quick) quick=true; shift; continue ;;
      -h | --help) bench_usage 0 ;;
    esac
    if [[ "$flag" != --* || "$spec" != *" $flag="* ]]; then
      say "unknown argument: $flag"
      bench_usage
    fi
    variable=${spec#* "$flag"=}
    variable=${variable%% *}
    (($# >= 2)) || die "$flag needs a value"
    printf -v "$variable" '%s' "$2"
    shift 2
  done
}

# bench_require_positive VARIABLE...: each must hold a positive integer (said as its --flag).
bench_require_positive() {
  local variable
  for variable in "$@"; do
    [[ "${!variable}" =~ ^[1-9][0-9]*$ ]] ||
      die "--${variable//_/-} must be a positive integer, got '${!variable}'"
  done
}

# --- tools -------------------------------------------------------------------------------------
# bench_install_packages PACKAGE...: installs those not installed with apt-get, as root or
# through sudo, like scripts/install-deps.sh.
bench_install_packages() {
  local missing=() package status
  for package in "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$package")
  done
  ((${#missing[@]} > 0)) || return 0
  local as_root=()
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
}

# bench_install_tools COMMAND...: installs the missing commands (package = command name).
bench_install_tools() {
  local missing=() tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  ((${#missing[@]} == 0)) || bench_install_packages "${missing[@]}"
}

# Builds with ./scripts/build.sh only if $binary does not exist (an existing one is measured
# as it is).
bench_build_if_missing() {
  if [[ ! -x "$binary" ]]; then
    say "building (build/app/tidemark is missing)"
    ./scripts/build.sh
  fi
}

# bench_build_tool TARGET: builds build/bench/TARGET (a tool of bench/CMakeLists.txt) if it is
# missing or older than its source file SOURCE (second argument).
bench_build_tool() {
  local target=$1 source=$2 tool="$root_dir/build/bench/$1"
  if [[ ! -x "$tool" || "$root_dir/bench/$source" -nt "$tool" ]]; then
    say "building build/bench/$target"
    if ! cmake --build build -j "$(nproc)" --target "$target" >/dev/null 2>&1; then
      cmake build >/dev/null # a build folder configured before bench/ had a CMakeLists.txt
      cmake --build build -j "$(nproc)" --target "$target" >/dev/null
    fi
  fi
  [[ -x "$tool" ]] || die "no $tool"
}

# bench_copy_binary: runs a copy of $binary from $log_dir from now on, so every stack of the run
# uses the same executable even if someone rebuilds build/app/tidemark meanwhile; sets built_at.
# The copy goes on exit even when the logs are kept.
built_at=""
bench_copy_binary() {
  built_at=$(bench_built_at "$binary")
  cp "$binary" "$log_dir/tidemark"
  binary="$log_dir/tidemark"
}

# --- the stack ---------------------------------------------------------------------------------
bench_free_port() { # prints a free loopback TCP port
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

data_dir=""
log_dir=""
server_out=""
server_err=""
server_pid=""

bench_make_log_dir() { # the folder of server logs and load outputs, kept only if a run fails
  log_dir=$(mktemp -d /tmp/tidemark-bench-logs.XXXXXX)
}

# bench_start_stack LABEL PORT [tidemark dev flags...]: starts `tidemark dev` in a fresh data dir
# on 127.0.0.1:PORT with the broker on a free port, its output in $log_dir/LABEL.stdout and
# .stderr, and waits until it says it is running. Sets data_dir, server_pid, server_out,
# server_err. Exits (through the EXIT trap) if it dies or is not ready in $start_timeout s.
bench_start_stack() {
  local label=$1 port=$2
  shift 2
  # Under /tmp and 0755: as root, `tidemark dev` runs PostgreSQL as `postgres`, which must be
  # able to traverse every folder down to its data.
  data_dir=$(mktemp -d /tmp/tidemark-bench.XXXXXX)
  chmod 755 "$data_dir"
  server_out="$log_dir/$label.stdout"
  server_err="$log_dir/$label.stderr"
  : >"$server_out" # waited on below, maybe before tidemark has opened it

  say "starting tidemark dev on 127.0.0.1:$port (data dir $data_dir)"
  "$binary" dev --data-dir "$data_dir" --http-port "$port" --broker-port 0 "$@" \
    >"$server_out" 2>"$server_err" &
  server_pid=$!

  local ready_line="Tidemark is running: http://127.0.0.1:$port/"
  local started=$SECONDS
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
}

# Extra processes on the stack (`tidemark inference`, `tidemark api` on its data dir), stopped
# before the stack.
bench_extra_pids=()

# bench_start_extra LABEL COMMAND...: starts COMMAND in the background, its output in
# $log_dir/LABEL.stdout and .stderr; its pid goes to bench_extra_pids (and bench_extra_pid).
bench_extra_pid=""
bench_start_extra() {
  local label=$1
  shift
  "$@" >"$log_dir/$label.stdout" 2>"$log_dir/$label.stderr" &
  bench_extra_pid=$!
  bench_extra_pids+=("$bench_extra_pid")
}

# bench_stop_extras: SIGTERM to each extra process, SIGKILL after 30 s.
bench_stop_extras() {
  local pid status
  for pid in "${bench_extra_pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${bench_extra_pids[@]}"; do
    for _ in $(seq 1 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
      say "process $pid did not stop within 30 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    status=0
    wait "$pid" 2>/dev/null || status=$?
    ((status == 0)) || say "process $pid exited with status $status"
  done
  bench_extra_pids=()
}

# Stops the extra processes and the running stack, if any: SIGTERM, SIGKILL after 30 s, then a
# PostgreSQL left behind by a killed tidemark; removes its data dir. Returns 1 if tidemark did
# not exit with status 0.
bench_stop_stack() {
  local server_status=0
  bench_stop_extras
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
    wait "$server_pid" 2>/dev/null || server_status=$?
    ((server_status == 0)) || say "tidemark dev exited with status $server_status"
  fi
  server_pid=""
  if [[ -n "$data_dir" ]]; then
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
    data_dir=""
  fi
  ((server_status == 0))
}

# The EXIT trap: stops the stack whatever happened, runs bench_extra_cleanup if the script
# defines it, removes the copied binary, and removes the logs unless the script failed with
# server output to look at.
bench_on_exit() {
  local status=$?
  trap - EXIT
  set +e # cleaning up: nothing here may stop the rest
  bench_stop_stack
  if declare -F bench_extra_cleanup >/dev/null; then bench_extra_cleanup; fi
  if [[ -n "$log_dir" ]]; then
    rm -f "$log_dir/tidemark"
    if ((status != 0)) && [[ -s "$server_err" || -s "$server_out" ]]; then
      say "server logs kept in $log_dir"
    else
      rm -rf "$log_dir"
    fi
  fi
  exit "$status"
}

# bench_trap_exit: installs bench_on_exit, and makes Ctrl-C and SIGTERM run it.
bench_trap_exit() {
  trap bench_on_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# bench_wait_healthy URL [SECONDS]: waits (at most 60 s) until URL answers 200.
bench_wait_healthy() {
  local url=$1 limit=${2:-60} started=$SECONDS
  until [[ "$(curl -sS -o /dev/null -w '%{http_code}' "$url" 2>/dev/null)" == 200 ]]; do
    ((SECONDS - started < limit)) || die "$url did not answer 200 within $limit s"
    sleep 0.2
  done
}

# --- requests ------------------------------------------------------------------------------------
bench_json_field() { # NAME: prints that field of the JSON object on stdin
  python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# bench_register BASE USERNAME: registers an account (password bench-password) and prints the
# answer's JSON (access_token, user_id, ...); exits unless it answered 201.
bench_register() {
  local answer
  answer=$(curl -sS -X POST -H 'Content-Type: application/json' \
    --data "{\"username\":\"$2\",\"password\":\"bench-password\"}" -w '\n%{http_code}' \
    "$1/auth/register")
  [[ "${answer##*$'\n'}" == 201 ]] || die "POST /auth/register answered: $answer"
  echo "${answer%$'\n'*}"
}

# bench_seed_events BASE TOKEN COUNT USER_ID: appends COUNT event-log entries for USER_ID
# (curl, 8 in parallel, `Prefer: respond-async`), then waits (at most 60 s) until GET /events
# counts them all, so they are projected.
bench_seed_events() {
  local base=$1 token=$2 count=$3 user=$4 started=$SECONDS codes ok total=""
  say "seeding $count entries for user $user"
  codes=$(seq 1 "$count" | xargs -P 8 -I{} curl -sS -o /dev/null -w '%{http_code}\n' \
    -X POST -H "Authorization: Bearer $token" -H 'Prefer: respond-async' \
    -H 'Content-Type: application/json' \
    --data "{\"user_id\":\"$user\",\"event_type\":\"seed\",\"event_source\":\"curl\",\"event_data\":{\"i\":{}}}" \
    "$base/events")
  ok=$(grep -c '^202$' <<<"$codes" || true)
  ((ok == count)) ||
    die "seeding: $ok of $count POSTs answered 202 ($(sort <<<"$codes" | uniq -c | tr '\n' ' '))"
  for _ in $(seq 1 300); do # answered before projection: wait for it
    total=$(curl -sS -D - -o /dev/null -H "Authorization: Bearer $token" \
      "$base/events?user_id=$user&size=1" | tr -d '\r' |
      awk -F': *' 'tolower($1) == "x-total-count" {print $2}')
    [[ "$total" == "$count" ]] && break
    sleep 0.2
  done
  [[ "$total" == "$count" ]] || die "seeding: X-Total-Count is '$total' after 60 s, expected $count"
  say "seeded and projected in $((SECONDS - started)) s"
}

# bench_log_command COMMAND...: appends the command line, as a shell would read it, to
# $BENCH_COMMANDS_FILE (when run_all.sh set it), bearer tokens replaced by $TOKEN.
bench_log_command() {
  [[ -n "${BENCH_COMMANDS_FILE:-}" ]] || return 0
  local line
  printf -v line '%q ' "$@"
  # shellcheck disable=SC2016 # a literal $TOKEN
  line=$(sed -E 's/(Authorization:\\ Bearer\\ )[A-Za-z0-9._~+\/=-]+/\1$TOKEN/g' <<<"${line% }")
  echo "$bench_name: $line" >>"$BENCH_COMMANDS_FILE"
}

# --- wrk -----------------------------------------------------------------------------------------
# bench_wrk_stats FILE: prints "requests/s p50 p99 non-2xx socket-errors" from a wrk --latency
# output ("?" for a missing figure, 0 for a missing count: wrk prints those lines only when
# there are some). Non-2xx is wrk's "Non-2xx or 3xx responses" (statuses of 400 and above).
bench_wrk_stats() {
  local out=$1 rps p50 p99 non2xx socket
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  p50=$(awk '$1 == "50%" {print $2}' "$out")
  p99=$(awk '$1 == "99%" {print $2}' "$out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
  socket=$(awk -F'[ ,]+' '/Socket errors:/ {n = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) n += $i; print n}' "$out")
  echo "${rps:-?} ${p50:-?} ${p99:-?} ${non2xx:-0} ${socket:-0}"
}

bench_wrk_max() { # WRK-OUTPUT: the slowest response (the Max of wrk's Latency line)
  awk '$1 == "Latency" && NF >= 4 {print $4}' "$1"
}

bench_to_ms() { # a wrk duration ("812.00us", "1.20ms", "2.01s", "1.00m") in milliseconds, or "?"
  awk -v v="$1" 'BEGIN {
    if (v !~ /^[0-9.]+(us|ms|s|m)$/) { print "?"; exit }
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n *= 1; else if (v ~ /m$/ && v !~ /s$/) n *= 60000; else n *= 1000
    printf "%.3f", n }'
}

# bench_wrk_ms FILE: prints "requests/s p50 p90 p99 max errors" from a wrk --latency output,
# latencies in milliseconds ("?" when missing), errors = non-2xx + socket errors.
bench_wrk_ms() {
  local out=$1 rps p50 p99 non2xx socket p90 max
  read -r rps p50 p99 non2xx socket < <(bench_wrk_stats "$out")
  p90=$(awk '$1 == "90%" {print $2}' "$out")
  max=$(bench_wrk_max "$out")
  echo "$rps $(bench_to_ms "$p50") $(bench_to_ms "${p90:-?}") $(bench_to_ms "$p99")" \
    "$(bench_to_ms "${max:-?}") $((non2xx + socket))"
}

# --- figures for run_all.sh ----------------------------------------------------------------------
# bench_record NAME FIELD...: appends the fields as one tab-separated line to
# $BENCH_DATA_DIR/NAME.tsv, when run_all.sh set BENCH_DATA_DIR. The files and their columns:
#   latency.tsv   benchmark, run (short label), requests/s, p50, p90, p99, max (ms), errors, tool
#   sweep.tsv     request, connections, requests/s, p50, p90, p99, max (ms), errors
#   rebuild.tsv   events, rebuild events/s, rebuild seconds, live projector events/s, live seconds
#   memory.tsv    state (short), connections open, RSS (KiB) of the `tidemark api` process
bench_record() {
  [[ -n "${BENCH_DATA_DIR:-}" ]] || return 0
  local name=$1
  shift
  mkdir -p "$BENCH_DATA_DIR"
  (IFS=$'\t'; echo "$*") >>"$BENCH_DATA_DIR/$name.tsv"
}

# bench_record_wrk BENCHMARK RUN FILE: a latency.tsv line from a wrk --latency output.
bench_record_wrk() {
  local rps p50 p90 p99 max errors
  read -r rps p50 p90 p99 max errors < <(bench_wrk_ms "$3")
  bench_record latency "$1" "$2" "$rps" "$p50" "$p90" "$p99" "$max" "$errors" wrk
}

# bench_load_stats JSON: prints "ok/s p50 p90 p99 max errors late" (latencies in ms) from a
# tidemark_load --json output; late is 0 for a closed-loop run, which has no schedule.
bench_load_stats() {
  python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); l = r["latency_ms"]
print(r["ok_per_s"], l["p50"], l["p90"], l["p99"], l["max"], r["errors"], r.get("late", 0))' "$1"
}

# bench_record_load BENCHMARK RUN JSON: a latency.tsv line from a tidemark_load --json output:
# ok answers per second, then its percentiles.
bench_record_load() {
  local ok p50 p90 p99 max errors late
  read -r ok p50 p90 p99 max errors late < <(bench_load_stats "$3")
  bench_record latency "$1" "$2" "$ok" "$p50" "$p90" "$p99" "$max" "$errors" tidemark_load
}

# --- report --------------------------------------------------------------------------------------
bench_results_dir() { # where reports go: $BENCH_RESULTS_DIR (run_all.sh) or bench/results
  local dir=${BENCH_RESULTS_DIR:-bench/results}
  mkdir -p "$dir"
  echo "$dir"
}

# bench_machine_line: "2 CPUs (AMD EPYC ...), 23.4 GiB memory (MemTotal)": nproc, the CPU model
# and the memory from /proc/meminfo.
bench_machine_line() {
  local cpu memory
  cpu=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)
  memory=$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
  echo "$(nproc) CPUs (${cpu:-unknown CPU}), $memory memory (MemTotal)"
}

bench_commit() { # the short commit, noting uncommitted changes outside bench/
  local commit
  commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  if [[ -n "$(git status --porcelain 2>/dev/null | grep -v '^?? bench/' || true)" ]]; then
    commit="$commit (working tree has uncommitted changes)"
  fi
  echo "$commit"
}

bench_built_at() { # FILE: when it was built (modified), in UTC
  date -u -r "$1" '+%Y-%m-%d %H:%M UTC'
}

bench_wrk_version() {
  local version
  version=$(wrk -v 2>&1 || true) # wrk -v exits with status 1
  awk 'NR == 1 {print $1, $2}' <<<"$version"
}

bench_quick_banner() { # the line a --quick run's report starts with
  echo "**Quick smoke run (\`--quick\`): too short to be a measurement.**"
  echo
}

# --- CPU -----------------------------------------------------------------------------------------
bench_proc_ticks() { # PID: its user + system CPU time in clock ticks (0 if it is gone)
  awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}

bench_rss_kib() { # PID: its resident set size in KiB (VmRSS), 0 if it is gone
  awk '/^VmRSS:/ {print $2; found = 1} END {if (!found) print 0}' "/proc/$1/status" 2>/dev/null || echo 0
}

# bench_cpu_snapshot [EXTRA-PID...]: prints "WALL TIDEMARK EXTRA POSTGRES BUSY": the wall clock
# in seconds, then CPU clock ticks since boot of `tidemark dev` ($server_pid: API, projector,
# its inference worker, embedded broker), of the extra processes given (inference workers), of
# the PostgreSQL the stack started (postmaster and backends alive now; the stack's backends are
# pooled, so they live through a run) and of every CPU's non-idle time.
bench_cpu_snapshot() {
  local wall=$EPOCHREALTIME tidemark extra=0 postgres=0 pg_pid pid busy
  tidemark=$(bench_proc_ticks "$server_pid")
  for pid in "$@"; do
    extra=$((extra + $(bench_proc_ticks "$pid")))
  done
  pg_pid=$(head -n 1 "$data_dir/postgres/pgdata/postmaster.pid" 2>/dev/null || true)
  if [[ "$pg_pid" =~ ^[0-9]+$ ]]; then
    for pid in "$pg_pid" $(pgrep -P "$pg_pid" || true); do
      postgres=$((postgres + $(bench_proc_ticks "$pid")))
    done
  fi
  busy=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat)
  echo "$wall $tidemark $extra $postgres $busy"
}

# bench_cpu_cores BEFORE AFTER: prints "TIDEMARK EXTRA POSTGRES REST ALL" in cores (CPU time /
# wall time; 2.00 = both cores of a 2-core machine busy all along) between two snapshots. REST
# is everything else: the load generator, the kernel's threads, other people's processes.
bench_cpu_cores() {
  awk -v b="$1" -v a="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN {
    split(b, x, " "); split(a, y, " "); s = y[1] - x[1]; if (s <= 0) s = 1
    tm = (y[2] - x[2]) / hz / s; ex = (y[3] - x[3]) / hz / s; pg = (y[4] - x[4]) / hz / s
    all = (y[5] - x[5]) / hz / s; rest = all - tm - ex - pg; if (rest < 0) rest = 0
    printf "%.2f %.2f %.2f %.2f %.2f\n", tm, ex, pg, rest, all }'
}
