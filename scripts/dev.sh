#!/usr/bin/env bash
# Quick start, first command: installs what is missing, builds, and runs the whole stack
# (local PostgreSQL in .tidemark/, embedded broker, projector, API on http://127.0.0.1:8080/).
# Arguments are passed to `tidemark dev` (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/install-web.sh
BUILD_TESTING=OFF ./scripts/build.sh
exec ./build/app/tidemark dev "$@"
