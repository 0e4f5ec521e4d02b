#!/usr/bin/env bash
# Fuzzes every parser that sees outside bytes with libFuzzer (tests/fuzz, README "Fuzzing").
# Builds the targets with clang-16, AddressSanitizer and UndefinedBehaviorSanitizer in their own
# folder (default build-fuzz; the main build is GCC), then runs each over the committed corpus in
# tests/fuzz/corpus/TARGET. New inputs go to BUILD/corpus/TARGET, never into the source tree,
# until --merge adds those that reach new code to the committed corpus.
#
#   scripts/fuzz.sh [--short]       build, then 4 s per target (the test command runs this)
#   scripts/fuzz.sh --long          build, then 10 min per target
#   scripts/fuzz.sh --seconds N     build, then N s per target
#   scripts/fuzz.sh --build-only    build only
#   scripts/fuzz.sh --merge         add the inputs of BUILD/corpus that reach new code to the
#                                   committed corpus (minimised; run after a long run)
# Options: --target NAME (repeatable; default all), --build-dir DIR; arguments after `--` go to
# libFuzzer. A crash, a sanitizer report, a broken invariant, a timeout or running out of memory
# fails the script and names the input that causes it. A run ends with the lines
# `tally: inputs fuzzed N` (inputs executed, over all targets) and `tally: crashes N` (targets that
# failed), which scripts/test-summary.sh adds to the test summary.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

all_targets=(fuzz_request_bodies fuzz_jwt fuzz_events fuzz_multipart fuzz_media)
mode=run
seconds=4
build="$root/build-fuzz"
targets=()
extra=()
while (($#)); do
  case "$1" in
    --short) seconds=4 ;;
    --long) seconds=600 ;;
    --seconds) seconds="$2"; shift ;;
    --build-only) mode=build ;;
    --merge) mode=merge ;;
    --target) targets+=("$2"); shift ;;
    --build-dir) build="$(realpath -m "$2")"; shift ;;
    --) shift; extra=("$@"); break ;;
    *) echo "fuzz: unknown argument '$1' (see the top of $0)" >&2; exit 2 ;;
  esac
  shift
done
((${#targets[@]})) || targets=("${all_targets[@]}")

# Longest input per target: above the largest valid input of interest (a JWT is refused above
# 8 KiB), small enough that the fuzzer mutates rather than copies.
max_len() {
  case "$1" in
    fuzz_media) echo 65536 ;;
    fuzz_jwt) echo 9000 ;;
    *) echo 8192 ;;
  esac
}

# clang-16 and its libFuzzer runtime (libclang-rt-16-dev) come from scripts/install-deps.sh.
if ! command -v clang++-16 >/dev/null ||
  [[ ! -f "$(clang++-16 -print-runtime-dir)/libclang_rt.fuzzer-x86_64.a" ]]; then
  echo "fuzz: clang-16 or its libFuzzer runtime is missing; run scripts/install-deps.sh" >&2
  exit 1
fi

# Warnings are the GCC build's business (-Werror there); clang warns about more, in RapidJSON's
# C++20 operators for one, and those must not stop the fuzzing.
mkdir -p "$build"
if ! { cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER=clang++-16 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON -DTIDEMARK_FUZZ=ON -DTIDEMARK_WERROR=OFF &&
  cmake --build "$build" --target "${targets[@]}" -j "$(nproc)"; } >"$build/build.log" 2>&1; then
  tail -n 40 "$build/build.log" >&2
  echo "fuzz: build failed; see $build/build.log" >&2
  exit 1
fi
[[ "$mode" == build ]] && exit 0

binary() { echo "$build/tests/fuzz/$1"; }
committed() { echo "$root/tests/fuzz/corpus/$1"; }
found() { echo "$build/corpus/$1"; }

if [[ "$mode" == merge ]]; then
  for target in "${targets[@]}"; do
    mkdir -p "$(committed "$target")" "$(found "$target")"
    before=$(find "$(committed "$target")" -type f | wc -l)
    "$(binary "$target")" -set_cover_merge=1 -max_len="$(max_len "$target")" \
      "$(committed "$target")" "$(found "$target")" "${extra[@]}" \
      >"$build/merge-$target.log" 2>&1 || {
      tail -n 30 "$build/merge-$target.log" >&2
      exit 1
    }
    after=$(find "$(committed "$target")" -type f | wc -l)
    echo "fuzz: $target: committed corpus $before -> $after inputs"
  done
  exit 0
fi

failed=()
fuzzed=0
for target in "${targets[@]}"; do
  work="$(found "$target")"
  artifacts="$build/artifacts/$target"
  log="$build/logs/$target.log"
  mkdir -p "$work" "$artifacts" "$(dirname "$log")" "$(committed "$target")"
  status=0
  "$(binary "$target")" -max_total_time="$seconds" -max_len="$(max_len "$target")" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" \
    "${extra[@]}" "$work" "$(committed "$target")" >"$log" 2>&1 || status=$?
  summary=$(grep -aE '^#[0-9]+.*(DONE|INITED)' "$log" | tail -n 1 || true)
  fuzzed=$((fuzzed + $(awk '/^stat::number_of_executed_units:/ { n = $2 } END { print n + 0 }' \
    "$log")))
  corpus=$(find "$(committed "$target")" -type f | wc -l)
  if ((status == 0)); then
    echo "fuzz: $target: ok (${seconds}s, committed corpus $corpus) ${summary#*  }"
  else
    failed+=("$target")
    echo "fuzz: $target: FAILED (exit $status); last lines of $log:" >&2
    grep -av '^#[0-9]' "$log" | tail -n 40 >&2
    while read -r input; do
      echo "fuzz: $target: reproduce with: $(binary "$target") $input" >&2
    done < <(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log")
  fi
done

echo "tally: inputs fuzzed $fuzzed"
echo "tally: crashes ${#failed[@]}"
if ((${#failed[@]})); then
  echo "fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
