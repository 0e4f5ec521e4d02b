#!/usr/bin/env bash
# Runs every benchmark in bench/ and writes one report (see bench/README.md):
#   http_bench.sh         GET /healthz, GET /events, POST /events in both modes (wrk)
#   login_bench.sh        a login storm, GET /me beside it (wrk)
#   recordings_bench.sh   reads from a million recordings, creates in both modes (wrk)
#   inference_bench.sh    jobs/s, submit-to-result latency at 500 jobs/s (tidemark_load)
#   rebuild_bench.sh      `tidemark rebuild` and the live projector at several log sizes
#   connections_bench.sh  the API's memory under 1,000 connections, throughput against
#                         concurrency (wrk)
# Each starts its own stack on loopback. The report goes to
# bench/results/report-<date>[-quick]/report.md: machine, commit, the exact command lines, a
# Markdown table of every run, PNG plots drawn by gnuplot (latency percentiles per benchmark,
# throughput against concurrency, rebuild rate against log size, memory) from the data files
# beside them (`gnuplot plots.gp` in that folder draws them again), and each benchmark's own
# report. bench/results/latest.md links the newest full report.
#
# Installs what is missing with apt-get (wrk, gnuplot-nox; as root or through sudo), builds
# build/app/tidemark only if it is missing (--build: run ./scripts/build.sh first), and the load
# tools if they are missing or older than their source.
#
# Flags:
#   --quick        a smoke run: every benchmark's --quick, small logs (about 4 minutes)
#   --build        ./scripts/build.sh first, so the report measures the current source
#   --only "LIST"  only these benchmarks (http login recordings inference rebuild connections)
#   --rebuild-sizes "LIST"  log sizes of the rebuild benchmark (10000 100000 1000000;
#                  --quick: 5000 20000)
#   --redraw DIR   run nothing: draw the figures and write report.md again from DIR's data
#                  files and run-info.sh (after changing this script's plots or tables)
set -euo pipefail
cd "$(dirname "$0")/.."
root_dir=$(pwd)

bench_name=run_all
binary="$root_dir/build/app/tidemark"
# shellcheck source=bench/lib.sh
source "$root_dir/bench/lib.sh"

all_benchmarks="http login recordings inference rebuild connections"
only=$all_benchmarks
build=false
rebuild_sizes=""
redraw=""
invocation="bench/run_all.sh${*:+ $*}"
while (($# > 0)); do
  case $1 in
    --quick) quick=true; shift ;;
    --build) build=true; shift ;;
    --only) only=${2:?--only needs a list}; shift 2 ;;
    --rebuild-sizes) rebuild_sizes=${2:?--rebuild-sizes needs a list}; shift 2 ;;
    --redraw) redraw=${2:?--redraw needs a report folder}; shift 2 ;;
    -h | --help) bench_usage 0 ;;
    *) say "unknown argument: $1"; bench_usage ;;
  esac
done
for name in $only; do
  [[ " $all_benchmarks " == *" $name "* ]] || die "--only: unknown benchmark '$name'"
done
if $quick; then rebuild_sizes=${rebuild_sizes:-5000 20000}; fi
# The embedded broker (librdkafka's mock) keeps the last 5 MiB of each partition, about 10,000
# of these events: rebuild_bench.sh gives larger logs more partitions (one per 5,000 events).
rebuild_sizes=${rebuild_sizes:-10000 100000 1000000}

run_everything() { # installs, builds, runs every benchmark; notes the run in run-info.sh
# --- tools and build -----------------------------------------------------------------------------
bench_install_packages wrk gnuplot-nox
bench_install_tools curl python3
command -v psql >/dev/null || die "psql is missing (Debian: postgresql-client; ./scripts/install-deps.sh)"
if $build; then
  say "building (./scripts/build.sh)"
  ./scripts/build.sh
else
  bench_build_if_missing
fi
bench_build_tool tidemark_load load_client.cpp
bench_build_tool tidemark_log_filler log_filler.cpp

# --- the report folder -------------------------------------------------------------------------
stamp=$(date +%Y-%m-%d-%H%M%S)
report_name="report-$stamp"
$quick && report_name+="-quick"
report_dir="$root_dir/bench/results/$report_name"
mkdir -p "$report_dir/data" "$report_dir/logs"
export BENCH_RESULTS_DIR="$report_dir"
export BENCH_DATA_DIR="$report_dir/data"
export BENCH_COMMANDS_FILE="$report_dir/commands.txt"
: >"$BENCH_COMMANDS_FILE"
say "writing the report to ${report_dir#"$root_dir"/}"

# The machine and the software, noted before anything runs.
cpu_model=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)
memory_total=$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
machine_short="$(nproc) CPUs (${cpu_model:-unknown CPU}), $memory_total memory"
commit_full=$(git rev-parse HEAD 2>/dev/null || echo unknown)
commit_line=$(bench_commit)
os_name=$(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-unknown}")
kernel=$(uname -srm)
wrk_version=$(bench_wrk_version)
gnuplot_version=$(gnuplot --version 2>/dev/null || echo gnuplot)
postgres_version=""
for postgres_binary in /usr/lib/postgresql/*/bin/postgres; do # the last installed version found
  [[ -x "$postgres_binary" ]] && postgres_version=$("$postgres_binary" --version | head -n 1)
done
build_type=$(awk -F= '/^CMAKE_BUILD_TYPE:/ {print $2}' build/CMakeCache.txt 2>/dev/null || true)
compiler=$("$(awk -F= '/^CMAKE_CXX_COMPILER:/ {print $2}' build/CMakeCache.txt 2>/dev/null || echo c++)" --version 2>/dev/null | head -n 1 || true)
load_at_start=$(cut -d ' ' -f 1-3 /proc/loadavg)
started_at=$(date -u '+%Y-%m-%d %H:%M UTC')
binary_built_at=$(bench_built_at "$binary")

# --- the benchmarks ----------------------------------------------------------------------------
durations=()
failures=()
run_benchmark() { # NAME SCRIPT ARGS...
  local name=$1 started=$SECONDS status=0 argument command=""
  shift
  [[ " $only " == *" $name "* ]] || return 0
  for argument in "$@"; do # as typed: a list in double quotes
    if [[ "$argument" == *" "* ]]; then command+=" \"$argument\""; else command+=" $argument"; fi
  done
  command=${command# }
  say "=== $name: $command"
  echo "$bench_name: $command" >>"$BENCH_COMMANDS_FILE"
  "$@" 2>&1 | tee "$report_dir/logs/$name.log" >&2 || status=$?
  durations+=("| $name | \`$command\` | $((SECONDS - started)) s | $( ((status == 0)) && echo ok || echo "failed ($status)") |")
  if ((status != 0)); then
    failures+=("$name")
    say "=== $name failed (status $status); its output: logs/$name.log"
  fi
}

quick_flag=()
$quick && quick_flag=(--quick)
run_started=$SECONDS
run_benchmark http bench/http_bench.sh "${quick_flag[@]}"
run_benchmark login bench/login_bench.sh "${quick_flag[@]}"
run_benchmark recordings bench/recordings_bench.sh "${quick_flag[@]}"
run_benchmark inference bench/inference_bench.sh "${quick_flag[@]}"
run_benchmark rebuild bench/rebuild_bench.sh "${quick_flag[@]}" --events "$rebuild_sizes"
run_benchmark connections bench/connections_bench.sh "${quick_flag[@]}"
total_seconds=$((SECONDS - run_started))

# What the report says about the run, kept so that --redraw can write it again.
declare -p quick invocation report_name cpu_model memory_total machine_short commit_full \
  commit_line os_name kernel wrk_version gnuplot_version postgres_version build_type compiler \
  load_at_start started_at binary_built_at total_seconds durations failures \
  >"$report_dir/run-info.sh"
}

if [[ -n "$redraw" ]]; then
  [[ -f "$redraw/run-info.sh" ]] || die "--redraw: no $redraw/run-info.sh"
  report_dir=$(cd "$redraw" && pwd)
  bench_install_packages gnuplot-nox
  # shellcheck source=/dev/null
  source "$report_dir/run-info.sh"
  BENCH_COMMANDS_FILE="$report_dir/commands.txt"
  kept=()
  for failure in "${failures[@]}"; do [[ "$failure" == plots ]] || kept+=("$failure"); done
  failures=("${kept[@]}") # the plots are drawn again below
  say "drawing the figures and writing the report again in ${report_dir#"$root_dir"/}"
else
  run_everything
fi

# --- plots -------------------------------------------------------------------------------------
# One data file per plotted series (gnuplot reads whole files), then plots.gp, which the report
# folder keeps so the figures can be drawn again from the same data.
data="$report_dir/data"
plot_names=()
for name in http login recordings inference connections; do
  [[ -f "$data/latency.tsv" ]] || break
  awk -F'\t' -v b="$name" '$1 == b' "$data/latency.tsv" >"$data/latency-$name.tsv"
  if [[ -s "$data/latency-$name.tsv" ]]; then plot_names+=("$name"); else rm -f "$data/latency-$name.tsv"; fi
done
sweep_files=()
if [[ -f "$data/sweep.tsv" ]]; then
  while IFS= read -r request; do
    file="sweep-$(tr -c 'A-Za-z0-9\n' '-' <<<"$request" | tr -s '-' | sed 's/-$//').tsv"
    awk -F'\t' -v r="$request" '$1 == r' "$data/sweep.tsv" >"$data/$file"
    sweep_files+=("$file|$request")
  done < <(cut -f 1 "$data/sweep.tsv" | awk '!seen[$0]++')
fi

title_note="$machine_short; load average at start ${load_at_start%% *}; commit ${commit_full:0:10}; $started_at"
$quick && title_note="QUICK SMOKE RUN, not a measurement. $title_note"
gp="$report_dir/plots.gp"
{
  echo "# Draws the report's figures from data/*.tsv: cd into this folder, then \`gnuplot plots.gp\`."
  echo "# Written by bench/run_all.sh; machine: $machine_short, kernel $kernel."
  echo "set terminal pngcairo size 1100,650 font 'DejaVu Sans,10' noenhanced"
  printf '%s\n' 'set datafile separator "\t"' # gnuplot reads \t as a tab in double quotes
  echo "set datafile missing '?'"
  echo "set grid ytics"
  echo "set key outside right top"
  echo "note = \"$title_note\""
  echo "set label 99 note at screen 0.01, screen 0.015 font ',8'"
  echo "set bmargin 9"
  echo
  echo "# Latency percentiles, one figure per benchmark (ms, log scale)."
  echo "set style data histograms"
  echo "set style histogram clustered gap 1"
  echo "set style fill solid 0.85 border -1"
  echo "set boxwidth 0.9"
  echo "set logscale y"
  echo "set ylabel 'latency (ms)'"
  echo "set xtics rotate by 25 right nomirror"
  for name in "${plot_names[@]}"; do
    # The axis starts at the power of ten below the smallest p50, so the bars' lengths compare.
    floor=$(awk -F'\t' '$4 + 0 > 0 && (m == "" || $4 + 0 < m) {m = $4 + 0}
      END {if (m == "") m = 1; printf "%g", 10 ^ int(log(m) / log(10) - (m < 1 ? 1 : 0))}' \
      "$data/latency-$name.tsv")
    case $name in
      inference) how="tidemark_load: closed loop from the send, open loop from the scheduled time" ;;
      *) how="wrk, percentiles corrected for coordinated omission" ;;
    esac
    echo "set output 'latency-$name.png'"
    echo "set yrange [$floor:*]"
    echo "set title \"Latency percentiles: $name ($how)\""
    echo "plot 'data/latency-$name.tsv' using 4:xtic(2) title 'p50', '' using 5 title 'p90', '' using 6 title 'p99', '' using 7 title 'max'"
  done
  echo "unset logscale y"
  echo "set yrange [*:*]"
  echo "set xtics norotate"
  echo "set style data linespoints"
  echo
  if ((${#sweep_files[@]} > 0)); then
    echo "# Throughput and latency against concurrency."
    echo "set output 'throughput-vs-concurrency.png'"
    echo "set bmargin 6"
    echo "set multiplot layout 1,2 title \"Throughput against concurrency (wrk, the stack's own API)\""
    echo "set logscale x 2"
    echo "set xlabel 'connections'"
    echo "set ylabel 'requests/s'"
    echo "set yrange [0:*]"
    echo "set key inside top left"
    echo "set title 'requests/s'"
    line="plot "
    for entry in "${sweep_files[@]}"; do
      line+="'data/${entry%%|*}' using 2:3 title '${entry#*|}' lw 2 pt 7, "
    done
    echo "${line%, }"
    echo "set logscale y"
    echo "set yrange [*:*]"
    echo "set ylabel 'latency (ms)'"
    echo "set title 'p50 (dashed) and p99 latency (ms, log scale)'"
    line="plot "
    index=1
    for entry in "${sweep_files[@]}"; do
      line+="'data/${entry%%|*}' using 2:6 title '${entry#*|} p99' lw 2 pt 7 lc $index, "
      line+="'data/${entry%%|*}' using 2:4 title '${entry#*|} p50' lw 1 dt 2 pt 6 lc $index, "
      index=$((index + 1))
    done
    echo "${line%, }"
    echo "unset multiplot"
    echo "unset logscale"
    echo "set key outside right top"
  fi
  echo
  if [[ -s "$data/rebuild.tsv" ]]; then
    echo "# Rebuild rate against log size."
    echo "set output 'rebuild-rate.png'"
    echo "set title 'Rebuild rate against log size (goal: 100,000 events/s)'"
    echo "set bmargin 6"
    echo "set logscale x"
    echo "set offsets graph 0.08, graph 0.08, 0, 0"
    echo "set xlabel 'events in the log (log scale)'"
    echo "set ylabel 'events/s'"
    echo "set yrange [0:*]"
    echo "set xtics ()"
    echo "plot 'data/rebuild.tsv' using 1:2:xtic(1) title 'tidemark rebuild' lw 2 pt 7," \
      "'' using 1:4 title 'live projector' lw 2 pt 5," \
      "'' using 1:2:2 with labels offset 0,1 notitle, '' using 1:4:4 with labels offset 0,-1 notitle"
    echo "unset logscale x"
    echo "set offsets 0, 0, 0, 0"
  fi
  echo
  if [[ -s "$data/memory.tsv" ]]; then
    echo "# Memory of the tidemark api process."
    echo "set output 'memory.png'"
    echo "set title 'Resident memory of the tidemark api process (MiB)'"
    echo "set style data histograms"
    echo "set style fill solid 0.85 border -1"
    echo "set xlabel ''"
    echo "set ylabel 'RSS (MiB)'"
    echo "set yrange [0:*]"
    echo "set xtics rotate by 25 right nomirror"
    echo "plot 'data/memory.tsv' using (\$3/1024):xtic(1) notitle," \
      "'' using 0:(\$3/1024):(sprintf('%.1f', \$3/1024)) with labels offset 0,0.7 notitle"
  fi
} >"$gp"
(cd "$report_dir" && gnuplot plots.gp) || failures+=("plots")

# --- the report --------------------------------------------------------------------------------
report="$report_dir/report.md"
python3 - "$report_dir" "$quick" >"$report_dir/tables.md" <<'EOF'
import csv, os, sys
folder, quick = sys.argv[1], sys.argv[2] == "true"
def rows(name):
    path = os.path.join(folder, "data", name + ".tsv")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [r for r in csv.reader(f, delimiter="\t") if r]
def num(v, digits=1):
    try:
        x = float(v)
    except ValueError:
        return v
    return f"{x:,.{digits}f}"
names = {"http": "HTTP: events", "login": "login", "recordings": "recordings: read, create",
         "inference": "inference: submit-to-result", "connections": "1,000 connections"}
out = []
latency = rows("latency")
if latency:
    out += ["## Every run", "",
            "Throughput is requests/s for wrk runs (every answer, whatever its status) and "
            "succeeded jobs/s for tidemark_load runs (inference); latencies in ms; errors = "
            "non-2xx answers + socket errors (wrk), or requests not ok (tidemark_load). A run "
            "with errors is not a valid measurement of that row.", "",
            "| benchmark | run | throughput (/s) | p50 | p90 | p99 | max | errors | load generator |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for b, run, rps, p50, p90, p99, mx, err, tool in latency:
        out.append(f"| {names.get(b, b)} | {run} | {num(rps)} | {num(p50, 2)} | {num(p90, 2)} | "
                   f"{num(p99, 2)} | {num(mx, 2)} | {err} | {tool} |")
    out.append("")
rebuild = rows("rebuild")
if rebuild:
    out += ["## Rebuild rate against log size", "",
            "| events in the log | `tidemark rebuild` events/s | rebuild time | live projector events/s | live time |",
            "| ---: | ---: | ---: | ---: | ---: |"]
    for events, rate, secs, live_rate, live_secs in rebuild:
        out.append(f"| {int(events):,} | {int(rate):,} | {secs} s | {int(live_rate):,} | {live_secs} s |")
    out.append("")
memory = rows("memory")
if memory:
    out += ["## Memory of the API under 1,000 connections", "",
            "| state | connections open | RSS of `tidemark api` (MiB) |", "| --- | ---: | ---: |"]
    for state, conns, kib in memory:
        out.append(f"| {state} | {conns} | {int(kib) / 1024:.1f} |")
    out.append("")
sweep = rows("sweep")
if sweep:
    levels = []
    for r in sweep:
        if r[1] not in levels:
            levels.append(r[1])
    requests = []
    for r in sweep:
        if r[0] not in requests:
            requests.append(r[0])
    cell = {(r[0], r[1]): r for r in sweep}
    out += ["## Throughput against concurrency", "",
            "requests/s (p99 in ms) at each number of connections:", "",
            "| request | " + " | ".join(levels) + " |", "| --- |" + " ---: |" * len(levels)]
    for q in requests:
        cells = []
        for level in levels:
            r = cell.get((q, level))
            cells.append(f"{num(r[2], 0)} ({num(r[5], 1)})" if r else "—")
        out.append(f"| {q} | " + " | ".join(cells) + " |")
    out.append("")

# Headline numbers: the figures the README quotes, picked from the rows above.
def find(bench, start):
    return next((r for r in latency if r[0] == bench and r[1].startswith(start)), None)
head = []
r = find("login", "logins alone (h=1)")
if r: head.append(f"login storm: {num(r[2])} logins/s with one hash thread (p99 {num(r[5], 1)} ms)")
r = find("login", "GET /me at 1000/s in storm (h=1)")
if r: head.append(f"GET /me at 1,000/s during the storm (one hash thread): p99 {num(r[5], 1)} ms")
r = find("login", "GET /me in storm (h=1)")
if r: head.append(f"GET /me flat out during the storm: {num(r[2], 0)} requests/s, p99 {num(r[5], 1)} ms")
r = find("recordings", "POST /recordings (sync)")
if r: head.append(f"create (`POST /recordings`, answered once projected): {num(r[2], 0)}/s, p99 {num(r[5], 1)} ms")
r = find("recordings", "POST /recordings (async)")
if r: head.append(f"create with `Prefer: respond-async`: {num(r[2], 0)}/s, p99 {num(r[5], 1)} ms")
r = find("recordings", "GET /recordings")
if r: head.append(f"read (`GET /recordings?user_id=…`, a page of 10): {num(r[2], 0)}/s, p99 {num(r[5], 1)} ms")
r = next((r for r in latency if r[0] == "inference" and "open" in r[1]), None)
if r: head.append(f"submit-to-result (`POST /predict`: {r[1]}): p50 {num(r[3], 1)} ms, p99 {num(r[5], 1)} ms, {num(r[2], 0)} jobs/s succeeded")
if rebuild:
    e, rate = rebuild[-1][0], rebuild[-1][1]
    head.append(f"rebuild: {int(rate):,} events/s over a log of {int(e):,} events")
if memory:
    start = int(memory[0][2]); idle = next((int(m[2]) for m in memory if "idle" in m[0]), start)
    peak = next((int(m[2]) for m in memory if "busy" in m[0]), start)
    head.append(f"API memory: {start / 1024:.1f} MiB started, {idle / 1024:.1f} MiB with 1,000 idle connections, {peak / 1024:.1f} MiB at most with 1,000 busy ones")
if sweep:
    best = max(sweep, key=lambda r: float(r[2]) if r[2] != "?" else 0)
    head.append(f"highest throughput in the sweep: {num(best[2], 0)} requests/s ({best[0]}, {best[1]} connections)")
if head:
    out = ["## Headline numbers", ""] + [f"- {h}" for h in head] + [""] + out
print("\n".join(out))
EOF

{
  echo "# Tidemark benchmarks, $started_at"
  echo
  if $quick; then
    echo "**Quick smoke run (\`--quick\`): short runs and small data sets that check the scripts work"
    echo "end to end. Not a measurement; do not quote these numbers.**"
    echo
  fi
  if awk -v l="${load_at_start%% *}" -v n="$(nproc)" 'BEGIN {exit !(l > n / 2)}'; then
    echo "**The machine was busy when the run started (load average ${load_at_start%% *} on $(nproc) CPUs):"
    echo "other work shared the cores, so every number here is low and noisy.**"
    echo
  fi
  echo "Every benchmark in \`bench/\` against stacks it started itself on loopback (127.0.0.1), the"
  echo "load generator on the same machine. See [\`bench/README.md\`](../../README.md) for what each"
  echo "run measures and how to read it."
  echo
  echo "## Machine and software"
  echo
  echo "| | |"
  echo "| --- | --- |"
  echo "| CPUs | $(nproc) (nproc), ${cpu_model:-unknown} |"
  echo "| memory | $memory_total (MemTotal) |"
  echo "| OS, kernel | $os_name, $kernel |"
  echo "| load average at start | $load_at_start (1, 5, 15 min) |"
  echo "| commit | \`$commit_full\` ($commit_line) |"
  echo "| binary | build/app/tidemark built $binary_built_at, ${build_type:-unknown} build, ${compiler:-unknown compiler} |"
  echo "| PostgreSQL | ${postgres_version:-unknown} (\`tidemark dev\`'s local cluster) |"
  echo "| load generators | $wrk_version, build/bench/tidemark_load (bench/load_client.cpp) |"
  echo "| plots | $gnuplot_version |"
  echo "| total time | $((total_seconds / 60)) min $((total_seconds % 60)) s |"
  echo
  if ((${#failures[@]} > 0)); then
    echo "**Failed: ${failures[*]}** (their output is in \`logs/\`; their rows are missing or partial)."
    echo
  fi
  cat "$report_dir/tables.md"
  echo "## Figures"
  echo
  echo "Drawn by gnuplot from \`data/*.tsv\` with [\`plots.gp\`](plots.gp); \`cd\` here and run"
  echo "\`gnuplot plots.gp\` to draw them again. Each notes the machine and the commit at the bottom."
  echo
  for name in "${plot_names[@]}"; do
    [[ -f "$report_dir/latency-$name.png" ]] && echo "![Latency percentiles: $name](latency-$name.png)" && echo
  done
  for png in throughput-vs-concurrency rebuild-rate memory; do
    [[ -f "$report_dir/$png.png" ]] && echo "![$png]($png.png)" && echo
  done
  echo "## Each benchmark's own report"
  echo
  echo "With the settings, the CPU each part of the stack used and notes:"
  echo
  for file in "$report_dir"/*-20*.md; do
    [[ -e "$file" ]] || continue
    echo "- [$(basename "$file")]($(basename "$file"))"
  done
  echo
  echo "## Commands"
  echo
  echo "The whole run: \`$invocation\` ($((total_seconds / 60)) min $((total_seconds % 60)) s)."
  echo
  echo "| benchmark | command | time | result |"
  echo "| --- | --- | ---: | --- |"
  printf '%s\n' "${durations[@]}"
  echo
  echo "Every load generator's command line, as run (ports are free ones picked at run time,"
  echo "\$TOKEN a bearer token of an account registered on that stack; the full output of each"
  echo "benchmark is in [\`logs/\`](logs/)):"
  echo
  echo '```'
  cat "$BENCH_COMMANDS_FILE"
  echo '```'
} >"$report"
rm -f "$report_dir/tables.md"

# bench/results/latest.md links the newest full report; a quick run replaces it only when it
# links no full report (or does not exist yet).
latest="$root_dir/bench/results/latest.md"
if ! $quick || [[ ! -f "$latest" ]] || grep -q 'quick smoke run' "$latest"; then
  {
    echo "# Latest benchmark report"
    echo
    if $quick; then
      echo "**[$report_name/report.md]($report_name/report.md)**: a quick smoke run, not a measurement"
      echo "(no full run has been reported yet)."
    else
      echo "**[$report_name/report.md]($report_name/report.md)**"
    fi
    echo
    echo "$started_at, $machine_short, commit \`${commit_full:0:10}\`. Written by \`$invocation\`;"
    echo "see [\`bench/README.md\`](../README.md)."
    echo
    sed -n '/^## Headline numbers/,/^## Every run/p' "$report" | sed '$d'
  } >"$latest"
  say "updated bench/results/latest.md"
fi

echo
say "report: ${report#"$root_dir"/} ($((total_seconds / 60)) min $((total_seconds % 60)) s)"
if ((${#failures[@]} > 0)); then
  die "failed: ${failures[*]}"
fi
