# Shell functions shared by the benchmarks in bench/ (sourced, never run on its own).
#
# The sourcing script sets, before calling them:
#   bench_name     prefix of every message ("http_bench", "login_bench")
#   binary         the tidemark executable to run
#   start_timeout  seconds to wait for `tidemark dev` to say it is running
# and, from bench_make_log_dir on, gets log_dir, data_dir, server_pid, server_out, server_err.
# shellcheck shell=bash disable=SC2154 # bench_name, binary, start_timeout: see above

say() { echo "$bench_name: $*" >&2; }
die() { say "$*"; exit 1; }

# --- tools -------------------------------------------------------------------------------------
# bench_install_tools COMMAND...: installs the missing ones with apt-get (package = command
# name), as root or through sudo, like scripts/install-deps.sh.
bench_install_tools() {
  local missing=() tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || missing+=("$tool")
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

# Builds with ./scripts/build.sh only if $binary does not exist (an existing one is measured
# as it is).
bench_build_if_missing() {
  if [[ ! -x "$binary" ]]; then
    say "building (build/app/tidemark is missing)"
    ./scripts/build.sh
  fi
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

bench_make_log_dir() { # the folder of server logs and wrk outputs, kept only if a run fails
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

# Stops the running stack, if any: SIGTERM, SIGKILL after 30 s, then a PostgreSQL left behind
# by a killed tidemark; removes its data dir. Returns 1 if tidemark did not exit with status 0.
bench_stop_stack() {
  local server_status=0
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
# defines it, and removes the logs unless the script failed with server output to look at.
bench_on_exit() {
  local status=$?
  trap - EXIT
  bench_stop_stack || true
  if declare -F bench_extra_cleanup >/dev/null; then bench_extra_cleanup || true; fi
  if [[ -n "$log_dir" ]]; then
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

# --- report --------------------------------------------------------------------------------------
bench_machine() { # "2 CPUs (AMD EPYC), 23 GiB memory (free -g total)"
  local memory cpu
  memory=$(free -g | awk '/^Mem:/ {print $2}')
  cpu=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)
  echo "$(nproc) CPUs (${cpu:-unknown CPU}), ${memory} GiB memory (free -g total)"
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
  wrk -v 2>&1 | head -n 1 | awk '{print $1, $2}'
}
