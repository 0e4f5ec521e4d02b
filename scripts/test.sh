#!/usr/bin/env bash
# Quick start, second command: installs what is missing, builds, and runs every test.
# Integration tests start their own PostgreSQL and broker on free loopback ports.
# Arguments are passed to ctest (for example: -L unit, or -R Pipeline). Afterwards
# scripts/test-summary.sh prints the totals the tests counted (faults, attacks, events lost...);
# the exit status is ctest's, or the summary's when ctest passed and a must-be-zero count is not 0.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/install-web.sh
BUILD_TESTING=ON ./scripts/build.sh
./scripts/fetch-test-images.sh build/test-images
cd build
status=0
ctest --output-on-failure --timeout 600 -j "$(nproc)" "$@" || status=$?
summary=0
../scripts/test-summary.sh Testing/Temporary/LastTest.log || summary=$?
if ((status == 0 && summary == 1)); then status=1; fi
exit "$status"
