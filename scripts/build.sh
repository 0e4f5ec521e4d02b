#!/usr/bin/env bash
# Configures and builds Tidemark into ./build (tests included unless BUILD_TESTING=OFF).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}" \
  -DBUILD_TESTING="${BUILD_TESTING:-ON}" >/dev/null
cmake --build build -j "$(nproc)"
