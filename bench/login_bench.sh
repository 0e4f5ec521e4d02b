#!/usr/bin/env bash
# Login benchmark of a local `tidemark dev` stack with wrk (see bench/README.md).
#
# For each --hash-threads setting (1, then 2) it starts its own stack (fresh data dir, free
# loopback port, broker on a free port), registers BENCH_USERS users, times sequential logins
# with curl, measures GET /me alone, runs a login storm (POST /auth/login with the right
# passwords) alone, then the storm again with GET /me flat out beside it (wrk: the most the
# machine answers, a saturated system), then the storm with GET /me at each fixed rate of
# --me-rates (tidemark_load's open loop: the latency clients see at a given load, measured from
# each request's scheduled time). Prints four Markdown tables (logins, GET /me flat out, GET /me
# at fixed rates, CPU) and writes them, with the machine noted at the top, to
# bench/results/login-<date>.md. Each stack is stopped
# (SIGTERM) and its data dir removed when its runs are done, and on exit whatever happened.
#
# Flags (each also an environment variable; a flag wins):
#   --hash-threads "LIST"  BENCH_HASH_THREADS  ("1 2"; --quick: "1") one stack per setting
#   --users N              BENCH_USERS         (50, at most 99; --quick: 10)
#   --duration SECONDS     BENCH_DURATION      (15; --quick: 3) of each wrk run
#   --timed-logins N       BENCH_TIMED_LOGINS  (20; --quick: 5)
#   --me-rates "LIST"      BENCH_ME_RATES      ("1000 4000"; --quick: "1000") GET /me per second
#   --quick                a smoke run with the --quick values above, unless given otherwise
#   BENCH_LOGIN_THREADS (2), BENCH_LOGIN_CONNECTIONS (32), BENCH_ME_THREADS (2),
#   BENCH_ME_CONNECTIONS (8), BENCH_START_TIMEOUT (90, seconds).
# shellcheck disable=SC2016 # backquotes in single quotes are Markdown, not expansions
set -euo pipefail
cd "$(dirname "$0")/.."
root_dir=$(pwd)

hash_thread_settings=${BENCH_HASH_THREADS:-}
users=${BENCH_USERS:-}
duration=${BENCH_DURATION:-}
login_threads=${BENCH_LOGIN_THREADS:-2}
login_connections=${BENCH_LOGIN_CONNECTIONS:-32}
me_threads=${BENCH_ME_THREADS:-2}
me_connections=${BENCH_ME_CONNECTIONS:-8}
timed_logins=${BENCH_TIMED_LOGINS:-}
me_rates=${BENCH_ME_RATES:-}
start_timeout=${BENCH_START_TIMEOUT:-90}
binary="$root_dir/build/app/tidemark"
lua_login="$root_dir/bench/login.lua"
load_tool="$root_dir/build/bench/tidemark_load"

# Rate limits the benchmark must lift: every request comes from 127.0.0.1. 1,000,000 is the
# highest value `tidemark` accepts for both (`tidemark dev --help`); a run makes a few thousand.
limit_flags=(--login-attempts-per-address 1000000 --registrations-per-address 1000000)
# argon2id costs of new hashes (infra/password_hasher.h, OWASP's recommendation).
argon2_memory_kib=19456
argon2_iterations=2
argon2_lanes=1

bench_name=login_bench
# shellcheck source=bench/lib.sh
source "$root_dir/bench/lib.sh"
bench_parse_flags "--hash-threads=hash_thread_settings --users=users --duration=duration
  --timed-logins=timed_logins --me-rates=me_rates" "$@"
if $quick; then
  hash_thread_settings=${hash_thread_settings:-1}
  me_rates=${me_rates:-1000}
  users=${users:-10}
  duration=${duration:-3}
  timed_logins=${timed_logins:-5}
fi
hash_thread_settings=${hash_thread_settings:-1 2}
users=${users:-50}
duration=${duration:-15}
duration=${duration%s}s # wrk's form, "15s"
timed_logins=${timed_logins:-20}
me_rates=${me_rates:-1000 4000}

# --- tools -------------------------------------------------------------------------------------
bench_install_tools wrk curl python3
bench_build_if_missing
bench_build_tool tidemark_load load_client.cpp
bench_require_positive users timed_logins
for rate in $me_rates; do
  [[ "$rate" =~ ^[1-9][0-9]*$ ]] || die "--me-rates takes whole numbers above 0, got '$rate'"
done
((users <= 99)) || die "--users must be between 1 and 99, got $users"

bench_make_log_dir
bench_trap_exit
run_dir="$log_dir/wrk"
mkdir -p "$run_dir"

bench_copy_binary # every stack runs the same binary, even if someone rebuilds meanwhile
load_at_start=$(cut -d ' ' -f 1-3 /proc/loadavg)

# --- the cost of one hash ----------------------------------------------------------------------
# The same libargon2 the server links, the same costs, in one process before any stack starts:
# 20 hashes after a warm-up one, timed with the thread's CPU clock. Even on an idle guest they
# vary from about 23 to 45 ms (the virtual machine's host is shared), so the hash time used
# below is the fastest of the 20, the cost on an undisturbed core; the median is reported
# beside it. Prints "FASTEST MEDIAN" in milliseconds, or nothing if libargon2 cannot be loaded.
hash_times=$(python3 - "$argon2_iterations" "$argon2_memory_kib" "$argon2_lanes" <<'EOF' || true
import ctypes, ctypes.util, os, statistics, sys, time
t_cost, m_cost, lanes = (int(a) for a in sys.argv[1:4])
try:
    lib = ctypes.CDLL(ctypes.util.find_library("argon2") or "libargon2.so.1")
except OSError:
    sys.exit(0)
hash_raw = lib.argon2id_hash_raw
hash_raw.argtypes = [ctypes.c_uint32] * 3 + [ctypes.c_void_p, ctypes.c_size_t] * 3
password, salt, out = b"bench-password-01", os.urandom(16), ctypes.create_string_buffer(32)
times = []
for _ in range(21):
    started = time.thread_time()
    if hash_raw(t_cost, m_cost, lanes, password, len(password), salt, len(salt), out, 32) != 0:
        sys.exit(0)
    times.append(time.thread_time() - started)
print(f"{min(times[1:]) * 1000:.1f} {statistics.median(times[1:]) * 1000:.1f}")
EOF
)
hash_ms=${hash_times%% *}
hash_median_ms=${hash_times##* }
if [[ -n "$hash_ms" ]]; then
  say "one argon2id hash (m=$argon2_memory_kib KiB, t=$argon2_iterations, p=$argon2_lanes):" \
    "$hash_ms ms of CPU at best, $hash_median_ms ms median"
else
  say "could not load libargon2 from Python; the hashing bound uses the curl login time"
fi

# --- helpers -----------------------------------------------------------------------------------
# CPU time (clock ticks) since boot: "tidemark postgres busy" — tidemark's process (API, hash
# threads, projector, embedded broker), the PostgreSQL it started (postmaster and backends) and
# every CPU's non-idle time (busy - tidemark - postgres - wrk is everything else: the kernel's
# own threads, and other people's processes on a shared machine).
cpu_ticks() {
  local tidemark=0 postgres=0 busy pg_pid pid
  tidemark=$(awk '{print $14 + $15}' "/proc/$server_pid/stat" 2>/dev/null || echo 0)
  pg_pid=$(head -n 1 "$data_dir/postgres/pgdata/postmaster.pid" 2>/dev/null || true)
  if [[ "$pg_pid" =~ ^[0-9]+$ ]]; then
    for pid in "$pg_pid" $(pgrep -P "$pg_pid" || true); do
      postgres=$((postgres + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
  fi
  busy=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat)
  echo "$tidemark $postgres $busy"
}

# children_cpu: sets children_seconds to the CPU seconds (user + system) of this script's
# finished children. Not to be called in $(...): `times` in a subshell sees no finished children.
children_seconds=0
children_cpu() {
  times >"$log_dir/times.txt"
  children_seconds=$(awk 'NR == 2 {n = 0; for (i = 1; i <= 2; i++) {
    split($i, t, /[ms]/); n += t[1] * 60 + t[2]}; printf "%.2f", n}' "$log_dir/times.txt")
}

wrk_run() { # OUTPUT-FILE, then wrk arguments (URL last); wrk stops itself, timeout guards a hang
  local out=$1
  shift
  bench_log_command wrk --latency --timeout 10s "$@"
  timeout $((${duration%s} + 60)) wrk --latency --timeout 10s "$@" >"$out" 2>&1
}

login_rows=()
me_rows=()
me_rate_rows=()
cpu_rows=()

login_row() { # HASH_THREADS LABEL WRK-OUTPUT SEQUENTIAL-LOGIN-MS: appends a row to login_rows
  local hash_threads=$1 label=$2 out=$3 login_ms=$4
  local rps p50 p99 non2xx socket statuses bound busy basis=${hash_ms:-$4}
  read -r rps p50 p99 non2xx socket < <(bench_wrk_stats "$out")
  statuses=$(awk '/^statuses:/ {$1 = ""; sub(/^ /, ""); print}' "$out")
  bound=$(awk -v t="$hash_threads" -v ms="$basis" 'BEGIN {printf "%.1f/s", t * 1000 / ms}')
  busy=$(awk -v r="$rps" -v ms="$basis" 'BEGIN {printf "%.2f", r * ms / 1000}')
  login_rows+=("| $hash_threads | $label | $rps | $p50 | $p99 | $non2xx (${statuses:-?}) | $socket | $bound | $busy | $login_ms ms |")
}

# cpu_start, then cpu_stop HASH_THREADS LABEL: appends to cpu_rows the CPU used in between, in
# cores (CPU time / wall time; 2.00 = both cores of a 2-core machine busy all along).
cpu_before="" wall_before="" wrk_before=""
cpu_start() {
  children_cpu
  wrk_before=$children_seconds
  wall_before=$EPOCHREALTIME
  cpu_before=$(cpu_ticks)
}
cpu_stop() {
  local cpu_after wall_after
  cpu_after=$(cpu_ticks)
  wall_after=$EPOCHREALTIME
  children_cpu
  cpu_rows+=("$(awk -v b="$cpu_before" -v a="$cpu_after" -v hz="$(getconf CLK_TCK)" \
    -v s="$(awk -v b="$wall_before" -v a="$wall_after" 'BEGIN {print a - b}')" \
    -v w="$(awk -v b="$wrk_before" -v a="$children_seconds" 'BEGIN {print a - b}')" \
    -v t="$1" -v label="$2" 'BEGIN {split(b, x, " "); split(a, y, " ")
      tm = (y[1] - x[1]) / hz / s; pg = (y[2] - x[2]) / hz / s; all = (y[3] - x[3]) / hz / s
      wrk = w / s; rest = all - tm - pg - wrk; if (rest < 0) rest = 0
      printf "| %d | %s | %.2f | %.2f | %.2f | %.2f | %.2f |", t, label, tm, pg, wrk, rest, all}')")
}

# --- one stack per hash-threads setting ----------------------------------------------------------
measure() { # HASH_THREADS
  local hash_threads=$1 port base
  port=$(bench_free_port)
  base="http://127.0.0.1:$port"
  bench_start_stack "dev-hash$hash_threads" "$port" --hash-threads "$hash_threads" "${limit_flags[@]}"
  [[ "$(curl -sS -o /dev/null -w '%{http_code}' "$base/healthz")" == 200 ]] ||
    die "GET /healthz is not 200"

  say "registering $users users"
  local codes ok
  codes=$(seq -f '%02g' 1 "$users" | xargs -P 4 -I{} curl -sS -o /dev/null -w '%{http_code}\n' \
    -X POST -H 'Content-Type: application/json' \
    --data '{"username":"benchuser{}","password":"bench-password-{}"}' "$base/auth/register")
  ok=$(grep -c '^201$' <<<"$codes" || true)
  ((ok == users)) ||
    die "registering: $ok of $users answered 201 ($(sort <<<"$codes" | uniq -c | tr '\n' ' '))"

  local login_body='{"username":"benchuser01","password":"bench-password-01"}' answer token
  answer=$(curl -sS -X POST -H 'Content-Type: application/json' --data "$login_body" \
    -w '\n%{http_code}' "$base/auth/login")
  [[ "${answer##*$'\n'}" == 200 ]] || die "POST /auth/login answered: $answer"
  token=$(bench_json_field access_token <<<"${answer%$'\n'*}")
  [[ "$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$base/me")" == 200 ]] ||
    die "GET /me with the token is not 200"

  say "timing $timed_logins sequential logins"
  local times="" i n code_time
  for i in $(seq 1 "$timed_logins"); do
    n=$(printf '%02d' $(((i - 1) % users + 1)))
    code_time=$(curl -sS -o /dev/null -w '%{http_code} %{time_total}' -X POST \
      -H 'Content-Type: application/json' \
      --data "{\"username\":\"benchuser$n\",\"password\":\"bench-password-$n\"}" "$base/auth/login")
    [[ "${code_time% *}" == 200 ]] || die "sequential login of benchuser$n answered ${code_time% *}"
    times+="${code_time#* }"$'\n'
  done
  local login_ms
  login_ms=$(sort -n <<<"$times" | awk 'NF {t[++n] = $1} END {
    m = n % 2 ? t[(n + 1) / 2] : (t[n / 2] + t[n / 2 + 1]) / 2; printf "%.1f", m * 1000}')

  local me_args=(-H "Authorization: Bearer $token" "$base/me")
  local alone="$run_dir/me-alone-hash$hash_threads.txt"
  say "GET /me alone: -t $me_threads -c $me_connections -d $duration"
  wrk_run "$alone" -t "$me_threads" -c "$me_connections" -d "$duration" "${me_args[@]}" ||
    { cat "$alone" >&2; die "wrk failed for GET /me alone"; }

  local storm_alone="$run_dir/login-alone-hash$hash_threads.txt"
  say "login storm alone: -t $login_threads -c $login_connections -d $duration," \
    "--hash-threads $hash_threads"
  cpu_start
  wrk_run "$storm_alone" -t "$login_threads" -c "$login_connections" -d "$duration" \
    -s "$lua_login" "$base/auth/login" -- "$users" ||
    { cat "$storm_alone" >&2; die "wrk failed for the login storm alone"; }
  cpu_stop "$hash_threads" alone

  local storm="$run_dir/login-with-me-hash$hash_threads.txt"
  local during="$run_dir/me-during-hash$hash_threads.txt"
  say "login storm and GET /me together for $duration, --hash-threads $hash_threads"
  local storm_pid me_pid storm_status=0 me_status=0
  cpu_start
  wrk_run "$storm" -t "$login_threads" -c "$login_connections" -d "$duration" \
    -s "$lua_login" "$base/auth/login" -- "$users" &
  storm_pid=$!
  wrk_run "$during" -t "$me_threads" -c "$me_connections" -d "$duration" "${me_args[@]}" &
  me_pid=$!
  wait "$storm_pid" || storm_status=$?
  wait "$me_pid" || me_status=$?
  cpu_stop "$hash_threads" "with GET /me"
  ((storm_status == 0)) || { cat "$storm" >&2; die "wrk failed for the login storm"; }
  ((me_status == 0)) || { cat "$during" >&2; die "wrk failed for GET /me during the storm"; }

  login_row "$hash_threads" alone "$storm_alone" "$login_ms"
  login_row "$hash_threads" "with GET /me" "$storm" "$login_ms"
  local rate
  for rate in $me_rates; do
    local rate_storm="$run_dir/login-with-me-$rate-hash$hash_threads.txt"
    local rate_me="$run_dir/me-$rate-during-hash$hash_threads.json"
    local me_load=("$load_tool" --json --rate "$rate" --duration "${duration%s}" --timeout 10
      -H "Authorization: Bearer $token" "$base/me")
    say "login storm and GET /me at $rate/s together for $duration, --hash-threads $hash_threads"
    # The storm starts first and runs a second longer, so GET /me meets it over its whole run.
    wrk_run "$rate_storm" -t "$login_threads" -c "$login_connections" \
      -d "$((${duration%s} + 2))s" -s "$lua_login" "$base/auth/login" -- "$users" &
    storm_pid=$!
    sleep 1
    bench_log_command "${me_load[@]}"
    me_status=0
    "${me_load[@]}" >"$rate_me" 2>"$rate_me.stderr" || me_status=$?
    storm_status=0
    wait "$storm_pid" || storm_status=$?
    ((storm_status == 0)) || { cat "$rate_storm" >&2; die "wrk failed for the login storm"; }
    ((me_status == 0)) || { cat "$rate_me.stderr" >&2; die "tidemark_load failed for GET /me"; }
    login_row "$hash_threads" "with GET /me at $rate/s" "$rate_storm" "$login_ms"
    bench_record_load login "GET /me at $rate/s in storm (h=$hash_threads)" "$rate_me"
    local ok p50 p90 p99 max errors late
    read -r ok p50 p90 p99 max errors late < <(bench_load_stats "$rate_me")
    me_rate_rows+=("$(echo "$hash_threads $rate $ok $p50 $p90 $p99 $max $errors $late" | awk '{
      printf "| %s | %s | %.0f | %.2f ms | %.2f ms | %.2f ms | %.2f ms | %d | %d |", \
        $1, $2, $3, $4, $5, $6, $7, $8, $9}')")
  done

  # Short labels for run_all.sh's table and plots; h = hash threads.
  bench_record_wrk login "logins alone (h=$hash_threads)" "$storm_alone"
  bench_record_wrk login "logins + GET /me (h=$hash_threads)" "$storm"
  bench_record_wrk login "GET /me alone (h=$hash_threads)" "$alone"
  bench_record_wrk login "GET /me in storm (h=$hash_threads)" "$during"

  local a_rps a_p50 a_p99 a_non2xx a_socket d_rps d_p50 d_p99 d_non2xx d_socket
  read -r a_rps a_p50 a_p99 a_non2xx a_socket < <(bench_wrk_stats "$alone")
  read -r d_rps d_p50 d_p99 d_non2xx d_socket < <(bench_wrk_stats "$during")
  me_rows+=("| $hash_threads | $a_rps | $a_p50 | $a_p99 | $(bench_wrk_max "$alone") | $((a_non2xx + a_socket)) | $d_rps | $d_p50 | $d_p99 | $(bench_wrk_max "$during") | $((d_non2xx + d_socket)) |")

  bench_stop_stack || true
}

for hash_threads in $hash_thread_settings; do
  measure "$hash_threads"
done

# --- report ------------------------------------------------------------------------------------
hash_note=${hash_ms:+"$hash_ms ms of CPU, the fastest of 20 argon2id hashes (m=$argon2_memory_kib KiB, t=$argon2_iterations, p=$argon2_lanes; median $hash_median_ms ms) through libargon2 in one process before the stacks started"}
hash_note=${hash_note:-"not measured (libargon2 not loadable from Python): the bound uses the median sequential login time instead"}
tables=$(
  echo "Login storm (POST /auth/login, right passwords, $users users):"
  echo
  echo "| hash threads | storm | logins/s | p50 | p99 | non-2xx (statuses) | socket errors | hashing bound (threads / hash time) | logins/s × hash time | sequential login (curl, median of $timed_logins) |"
  echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${login_rows[@]}"
  echo
  echo "GET /me (one user's bearer token) flat out (wrk, closed loop), alone and during the storm:"
  echo
  echo "| hash threads | alone: requests/s | p50 | p99 | max | errors | during storm: requests/s | p50 | p99 | max | errors |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${me_rows[@]}"
  echo
  echo "GET /me at a fixed rate during the storm (tidemark_load, open loop; latency from each" \
    "request's scheduled time, so a stall counts against every request it delays):"
  echo
  echo "| hash threads | GET /me rate (/s) | answered ok/s | p50 | p90 | p99 | max | errors | sent late (> 1 ms after due) |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${me_rate_rows[@]}"
  echo
  echo "CPU during the storms, in cores (CPU time / wall time):"
  echo
  echo "| hash threads | storm | tidemark (API, hashing, projector, broker) | PostgreSQL | wrk | other processes | all |"
  echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${cpu_rows[@]}"
)
echo
echo "$tables"
echo

result="$(bench_results_dir)/login-$(date +%Y-%m-%d-%H%M%S).md"
{
  echo "# Login benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  if $quick; then bench_quick_banner; fi
  echo "- machine: $(bench_machine_line); both wrk and \`tidemark dev\` (API, hashing threads," \
    "projector, PostgreSQL, embedded broker) share them; load average at start: $load_at_start"
  echo "- tidemark: build/app/tidemark built $built_at, tree at commit $(bench_commit);" \
    "\`tidemark dev\` defaults (http_threads 2, db_pool_size 4, hash_queue_limit 256) with" \
    "\`--hash-threads N\` and \`${limit_flags[*]}\`; a fresh stack per N"
  echo "- wrk: $(bench_wrk_version), --latency --timeout 10s, against 127.0.0.1; login storm" \
    "-t $login_threads -c $login_connections -d $duration -s bench/login.lua, alone, then with" \
    "GET /me -t $me_threads -c $me_connections -d $duration beside it (GET /me also alone, first);" \
    "then the storm with \`build/bench/tidemark_load --rate R\` GET /me beside it, R in: $me_rates"
  echo "- one hash: $hash_note"
  echo
  echo "$tables"
} >"$result"
say "wrote $result"
