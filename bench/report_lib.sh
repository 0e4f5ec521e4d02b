# Shell functions recordings_bench.sh and inference_bench.sh source after lib.sh (never run on
# its own): the machine line of a report, and the CPU each part of the stack used during a run.
# They read lib.sh's server_pid and data_dir.
# shellcheck shell=bash disable=SC2154 # server_pid, data_dir: set by lib.sh's bench_start_stack

# bench_machine_line: "2 CPUs (AMD EPYC ...), 23.4 GiB memory (MemTotal)": nproc, the CPU model
# and the memory from /proc/meminfo.
bench_machine_line() {
  local cpu memory
  cpu=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)
  memory=$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
  echo "$(nproc) CPUs (${cpu:-unknown CPU}), $memory memory (MemTotal)"
}

bench_proc_ticks() { # PID: its user + system CPU time in clock ticks (0 if it is gone)
  awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
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
