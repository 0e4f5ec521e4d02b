#!/usr/bin/env bash
# Quick start, first command: installs what is missing, builds, and runs the whole stack
# (local PostgreSQL in .tidemark/, embedded broker, projector, API on http://127.0.0.1:8080/).
# Arguments are passed to `tidemark dev` (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/install-web.sh
# A fresh build skips the tests, to start sooner; a build that has them keeps them, since
# turning them off would leave ctest running stale test binaries.
testing=OFF
if grep -qs '^BUILD_TESTING:BOOL=ON$' build/CMakeCache.txt; then testing=ON; fi
BUILD_TESTING=$testing ./scripts/build.sh
exec ./build/app/tidemark dev "$@"
