#!/usr/bin/env bash
# Rebuild benchmark (see bench/README.md): how fast `tidemark rebuild` applies a log of N events
# into fresh read models, and, on the way, how fast the live projector applies the same log.
#
# For each log size N it starts its own `tidemark dev` stack (fresh data dir, free loopback port,
# broker on a free port), registers one account, writes N event-log entries straight into the
# topic with build/bench/tidemark_log_filler, waits until the live projector has applied them
# (the live rate), then runs `tidemark rebuild` (replay from offset 0 into schema
# tidemark_rebuild, checksums, swap) and reads its rate. Writes one table, a row per size, to
# bench/results/rebuild-<date>.md.
#
# Flags (each also an environment variable; a flag wins):
#   --events "LIST"   BENCH_EVENTS   (50000 and 1000000; --quick: 20000): log sizes, a fresh
#                     stack each.
#   --partitions N    BENCH_PARTITIONS (by size: one per 5,000 events, at least 6): partitions
#                     of the topic. The embedded broker (librdkafka's mock) keeps only the last
#                     5 MiB of each partition, about 10,000 of these events; beyond that the
#                     rebuild refuses, naming the offsets the broker dropped. So a log of a
#                     million events needs 100 partitions or more here; a real Kafka keeps
#                     what its retention says.
#   --quick           a smoke run with 20,000 events
#   BENCH_START_TIMEOUT (90, seconds)
set -euo pipefail
cd "$(dirname "$0")/.."
root_dir=$(pwd)

sizes=${BENCH_EVENTS:-}
partitions=${BENCH_PARTITIONS:-}
start_timeout=${BENCH_START_TIMEOUT:-90}
bench_name=rebuild_bench
# shellcheck source=bench/lib.sh
source "$root_dir/bench/lib.sh"
bench_parse_flags "--events=sizes --partitions=partitions" "$@"
if $quick; then sizes=${sizes:-20000}; fi
sizes=${sizes:-50000 1000000}
[[ -z "$partitions" || "$partitions" =~ ^[1-9][0-9]*$ ]] ||
  die "--partitions takes a positive integer, got '$partitions'"
for events in $sizes; do
  [[ "$events" =~ ^[1-9][0-9]*$ ]] || die "--events takes positive integers, got '$events'"
done

binary="$root_dir/build/app/tidemark"
filler="$root_dir/build/bench/tidemark_log_filler"
bench_install_tools curl python3
command -v psql >/dev/null || die "psql is missing (Debian: postgresql-client, which tidemark dev's PostgreSQL brings)"
bench_build_if_missing
bench_build_tool tidemark_log_filler log_filler.cpp
bench_make_log_dir
bench_trap_exit
bench_copy_binary
load_at_start=$(cut -d ' ' -f 1-3 /proc/loadavg)

rows=()
summaries=()
measure() { # EVENTS: a fresh stack, a log of EVENTS entries, the live projector, the rebuild
  local events=$1 port base topic_partitions=$partitions
  if [[ -z "$topic_partitions" ]]; then
    topic_partitions=$(((events + 4999) / 5000))
    ((topic_partitions >= 6)) || topic_partitions=6
  fi
  port=$(bench_free_port)
  base="http://127.0.0.1:$port"
  bench_start_stack "dev-$events" "$port" --topic-partitions "$topic_partitions"

  local owner_id bootstrap database_url fill_report
  owner_id=$(bench_register "$base" rebuildowner | bench_json_field user_id)
  bootstrap=$(cat "$data_dir/broker.address")
  database_url=$(cat "$data_dir/database.url")

  say "writing $events events into the topic"
  bench_log_command "$filler" "$bootstrap" tidemark.events "$events" "$owner_id"
  fill_report=$("$filler" "$bootstrap" tidemark.events "$events" "$owner_id")
  say "$fill_report"

  say "waiting for the live projector"
  local live_started=$EPOCHREALTIME expected=$((events + 2)) applied=0 # the registration and its session too
  until ((applied >= expected)); do
    applied=$(psql "$database_url" -Atc \
      "SELECT coalesce(sum(next_offset), 0) FROM projection_offsets WHERE projection = 'read_models'")
    awk -v s="$live_started" -v n="$EPOCHREALTIME" 'BEGIN {exit !(n - s < 3600)}' ||
      die "the live projector did not catch up within an hour"
    sleep 0.5
  done
  local live_seconds live_rate
  live_seconds=$(awk -v s="$live_started" -v n="$EPOCHREALTIME" 'BEGIN {printf "%.1f", n - s}')
  live_rate=$(awk -v e="$events" -v t="$live_seconds" 'BEGIN {printf "%.0f", e / (t > 0 ? t : 1)}')
  say "live projector: $events events in about $live_seconds s"

  say "rebuilding"
  bench_log_command "$binary" rebuild --data-dir "$data_dir"
  local rebuild_started=$EPOCHREALTIME rebuild_output rebuild_seconds summary rebuild_rate goal
  rebuild_output=$("$binary" rebuild --data-dir "$data_dir" 2>&1) ||
    { echo "$rebuild_output" >&2; die "tidemark rebuild failed"; }
  rebuild_seconds=$(awk -v s="$rebuild_started" -v n="$EPOCHREALTIME" 'BEGIN {printf "%.1f", n - s}')
  summary=$(grep '^rebuild: .*swapped in' <<<"$rebuild_output" || true)
  [[ -n "$summary" ]] || { echo "$rebuild_output" >&2; die "the rebuild did not swap in"; }
  rebuild_rate=$(sed -E 's/.* ([0-9]+) events\/s.*/\1/' <<<"$summary")
  say "$summary"

  if ((rebuild_rate >= 100000)); then goal="met"; else goal="not met"; fi
  rows+=("| $events | $topic_partitions | $rebuild_seconds s | $rebuild_rate | $live_seconds s | $live_rate | 100,000 events/s: $goal |")
  summaries+=("$events events: filler \`$fill_report\`; rebuild \`$summary\`")
  bench_record rebuild "$events" "$rebuild_rate" "$rebuild_seconds" "$live_rate" "$live_seconds"
  bench_stop_stack || true
}

for events in $sizes; do
  measure "$events"
done

table=$(
  echo "| events in the log | partitions | \`tidemark rebuild\`: time | rebuild events/s | live projector: time | live events/s | goal (rebuild) |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: | --- |"
  printf '%s\n' "${rows[@]}"
)
echo
echo "$table"
result="$(bench_results_dir)/rebuild-$(date +%Y-%m-%d-%H%M%S).md"
{
  echo "# Rebuild benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  if $quick; then bench_quick_banner; fi
  echo "- machine: $(bench_machine_line); load average at start: $load_at_start"
  echo "- tidemark: build/app/tidemark built $built_at, tree at commit $(bench_commit);" \
    "\`tidemark dev\` defaults (embedded broker) but \`--topic-partitions\` as in the table;" \
    "a fresh stack per log size"
  echo "- log: N \`tidemark.log_entry.recorded.v1\` events written straight into the topic by" \
    "build/bench/tidemark_log_filler, after one registration (2 events); the live projector's" \
    "time runs from the end of the writing until its stored positions cover the whole log" \
    "(polled every 0.5 s); the rebuild's is the whole \`tidemark rebuild\` command (replay into" \
    "schema tidemark_rebuild, checksums against the live tables, swap), its rate the one it prints"
  for summary in "${summaries[@]}"; do echo "- $summary"; done
  echo
  echo "$table"
} >"$result"
say "wrote $result"
