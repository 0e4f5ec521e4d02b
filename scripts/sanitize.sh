#!/usr/bin/env bash
# Builds Tidemark with GCC's sanitizers in a folder of its own and runs the tests there (README,
# "Sanitizers"). The integration tests run the sanitized `tidemark` binary too, and a sanitizer
# report in the output of any process they start fails the test that started it
# (tests/support/stack.cpp).
#
#   scripts/sanitize.sh [address] [CTEST ARGS…]   AddressSanitizer, LeakSanitizer and
#       UndefinedBehaviorSanitizer in build-asan: every test but the fuzzing one (fuzzing has its
#       own sanitized clang build, scripts/fuzz.sh), chaos in its short form.
#   scripts/sanitize.sh thread [CTEST ARGS…]       ThreadSanitizer in build-tsan: the tests that
#       exercise our threads (the list is $thread_tests below).
#
# CTEST ARGS follow the selection: -L unit or -E Chaos narrow it, and a -R of yours replaces it
# (`scripts/sanitize.sh thread -LE fuzz -R .` runs the whole suite under ThreadSanitizer). The
# first report stops the process under address and undefined; under thread every race is
# reported and the process exits 66 at its end. Suppressions, each with its reason:
# tests/sanitizers/tsan.supp (third-party libraries that are not instrumented). Environment: JOBS
# (build and ctest parallelism, default nproc), BUILD_DIR (default build-asan or build-tsan).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

mode=address
if (($#)) && [[ "$1" == address || "$1" == thread ]]; then
  mode="$1"
  shift
fi

# Every test that runs our own threads concurrently, in process or in the `tidemark` roles it
# starts: the rate limiter, the password hasher's pool and metrics (unit); the API's request
# threads with the database pool, the checkpoint and notification watchers and the producer's
# delivery reports (Pipeline, Metrics, racing registrations and updates, the 429 limiter, the
# database and broker outages); the projector and several projectors in one group (Projector,
# Operations); the inference worker with its model threads, the webhook dispatcher, long-polls
# and the event stream (Inference).
thread_tests='^(RateLimiter|PasswordHasher|Metrics|Pipeline|Projector|Inference)\.'
thread_tests+='|^Accounts\.(RacingRegistrationsOfOneNameGiveExactlyOne201|BadCredentialsLookTheSameAndRepeatedFailuresGet429)$'
thread_tests+='|^Algorithms\.ConcurrentUpdatesOfOneRevisionLetExactlyOneWin$'
thread_tests+='|^Operations\.(RebuildWhileWritesContinueEndsEqualToTheLiveReadModels|ThreeProjectorsThenOneProcessAStreamWithNoGapAndNoDuplicate)$'
thread_tests+='|^Errors\.(BrokerThatDoesNotAcknowledgeGives503WithRetryAfterNeverA2xx|DatabaseDownGives503AndRecoversWhenItReturns)$'

jobs="${JOBS:-$(nproc)}"
suppressions="$root/tests/sanitizers"
case "$mode" in
  address)
    build="${BUILD_DIR:-$root/build-asan}"
    sanitize=address,undefined
    selection=(-LE fuzz)
    ;;
  thread)
    build="${BUILD_DIR:-$root/build-tsan}"
    sanitize=thread
    selection=(-R "$thread_tests")
    ;;
esac

./scripts/install-deps.sh
./scripts/install-web.sh
started=$SECONDS
mkdir -p "$build"
echo "sanitize: building with -fsanitize=$sanitize in $build (log: $build/build.log)"
if ! { cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON \
  -DTIDEMARK_SANITIZE="$sanitize" &&
  nice -n 10 cmake --build "$build" -j "$jobs"; } >"$build/build.log" 2>&1; then
  tail -n 40 "$build/build.log" >&2
  echo "sanitize: build failed; see $build/build.log" >&2
  exit 1
fi
echo "sanitize: built in $((SECONDS - started)) s"
./scripts/fetch-test-images.sh "$build/test-images"

# Child processes inherit these. Reports go to standard error: ctest shows the test binaries',
# and the integration tests read their children's from the output files they keep.
suppress() { [[ -f "$suppressions/$1.supp" ]] && echo ":suppressions=$suppressions/$1.supp"; true; }
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1"
# Undefined behaviour is never recoverable in these builds, so UBSan suppressions could not apply.
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="print_suppressions=0$(suppress lsan)"
export TSAN_OPTIONS="halt_on_error=0:exitcode=66:second_deadlock_stack=1:print_suppressions=0$(suppress tsan)"

started=$SECONDS
status=0
(cd "$build" && ctest --output-on-failure --timeout 900 -j "$jobs" "${selection[@]}" "$@") ||
  status=$?
echo "sanitize: $mode: tests ran in $((SECONDS - started)) s, ctest exit $status"
# The totals the tests counted, as scripts/test.sh prints them: a must-be-zero count that is not
# fails the run too.
summary=0
./scripts/test-summary.sh "$build/Testing/Temporary/LastTest.log" || summary=$?
if ((status == 0 && summary == 1)); then status=1; fi
exit "$status"
