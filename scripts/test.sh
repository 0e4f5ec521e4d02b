#!/usr/bin/env bash
# Quick start, second command: installs what is missing, builds, and runs every test.
# Integration tests start their own PostgreSQL and broker on free loopback ports.
# Arguments are passed to ctest (for example: -L unit, or -R Pipeline).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/install-web.sh
BUILD_TESTING=ON ./scripts/build.sh
./scripts/fetch-test-images.sh build/test-images
cd build
ctest --output-on-failure --timeout 600 -j "$(nproc)" "$@"
