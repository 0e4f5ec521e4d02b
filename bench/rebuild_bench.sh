#!/usr/bin/env bash
# Rebuild benchmark (see bench/README.md): how fast `tidemark rebuild` applies a log of N events
# into fresh read models, and, on the way, how fast the live projector applies the same log.
#
# Starts its own `tidemark dev` stack (fresh data dir, free loopback port, broker on a free port),
# registers one account, writes N event-log entries straight into the topic with
# build/bench/tidemark_log_filler, waits until the live projector has applied them (the live
# rate), then runs `tidemark rebuild` (replay from offset 0 into schema tidemark_rebuild,
# checksums, swap) and reads its rate. Writes bench/results/rebuild-<date>.md.
#
# Flags (each also an environment variable; a flag wins):
#   --events N        BENCH_EVENTS   (1000000; --quick: 50000)
#   --quick           a smoke run with 50,000 events
#   BENCH_START_TIMEOUT (90, seconds)
set -euo pipefail
cd "$(dirname "$0")/.."
root_dir=$(pwd)

events=${BENCH_EVENTS:-}
start_timeout=${BENCH_START_TIMEOUT:-90}
quick=false
bench_name=rebuild_bench
# shellcheck source=bench/lib.sh
source "$root_dir/bench/lib.sh"
# shellcheck source=bench/report_lib.sh
source "$root_dir/bench/report_lib.sh"

while (($# > 0)); do
  case $1 in
    --events) events=${2:?}; shift 2 ;;
    --quick) quick=true; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) say "unknown argument: $1"; exit 2 ;;
  esac
done
if $quick; then events=${events:-50000}; fi
events=${events:-1000000}

binary="$root_dir/build/app/tidemark"
filler="$root_dir/build/bench/tidemark_log_filler"
bench_build_if_missing
[[ -x "$filler" ]] || cmake --build build -j "$(nproc)" --target tidemark_log_filler >/dev/null
port=$(bench_free_port)
bench_make_log_dir
bench_trap_exit
touch "$log_dir/dev.stdout"
bench_start_stack dev "$port"
base="http://127.0.0.1:$port"
load_at_start=$(cut -d ' ' -f 1-3 /proc/loadavg)

register=$(curl -sS -X POST -H 'Content-Type: application/json' \
  --data '{"username":"rebuildowner","password":"bench-password"}' "$base/auth/register")
owner_id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["user_id"])' <<<"$register")
bootstrap=$(cat "$data_dir/broker.address")
database_url=$(cat "$data_dir/database.url")

say "writing $events events into the topic"
fill_report=$("$filler" "$bootstrap" tidemark.events "$events" "$owner_id")
say "$fill_report"

say "waiting for the live projector"
live_started=$SECONDS
expected=$((events + 2)) # the registration and its session too
applied=0
until ((applied >= expected)); do
  applied=$(psql "$database_url" -Atc \
    "SELECT coalesce(sum(next_offset), 0) FROM projection_offsets WHERE projection = 'read_models'")
  ((SECONDS - live_started < 3600)) || die "the live projector did not catch up within an hour"
  sleep 1
done
live_seconds=$((SECONDS - live_started))
live_rate=$((events / (live_seconds > 0 ? live_seconds : 1)))
say "live projector: $events events in about $live_seconds s"

say "rebuilding"
rebuild_started=$(date +%s.%N)
rebuild_output=$("$binary" rebuild --data-dir "$data_dir" 2>&1)
rebuild_seconds=$(python3 -c "import time; print(f'{time.time() - $rebuild_started:.1f}')")
summary=$(grep '^rebuild: .*swapped in' <<<"$rebuild_output" || true)
[[ -n "$summary" ]] || { echo "$rebuild_output" >&2; die "the rebuild did not swap in"; }
rebuild_rate=$(sed -E 's/.* ([0-9]+) events\/s.*/\1/' <<<"$summary")
say "$summary"

if ((rebuild_rate >= 100000)); then goal="met"; else goal="not met"; fi
table=$(
  echo "| measurement | events | time | events/s | goal |"
  echo "| --- | ---: | ---: | ---: | --- |"
  echo "| \`tidemark rebuild\` (replay into fresh tables, checksums, swap) | $events | ${rebuild_seconds} s | $rebuild_rate | 100,000 events/s: $goal |"
  echo "| live projector applying the same log | $events | about ${live_seconds} s | about $live_rate | — |"
)
echo
echo "$table"
mkdir -p bench/results
result="bench/results/rebuild-$(date +%Y-%m-%d-%H%M%S).md"
{
  echo "# Rebuild benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  if $quick; then echo "**Quick smoke run (\`--quick\`): too small to be a measurement.**"; echo; fi
  echo "- machine: $(bench_machine_line); load average at start: $load_at_start"
  echo "- tidemark: commit $(bench_commit); \`tidemark dev\` defaults (6 partitions, embedded broker)"
  echo "- log: $events \`tidemark.log_entry.recorded.v1\` events written straight into the topic ($fill_report)"
  echo "- the rebuild's own line: \`$summary\`"
  echo
  echo "$table"
} >"$result"
say "wrote $result"
