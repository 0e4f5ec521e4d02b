#!/usr/bin/env bash
# Installs the Debian 12 packages Tidemark needs to build, test and run,
# skipping those already present. Works as root, or through sudo otherwise.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libpistache-dev librdkafka-dev libpqxx-dev libpq-dev rapidjson-dev libssl-dev
  libargon2-dev libcurl4-openssl-dev
  libopencv-dnn-dev libopencv-objdetect-dev opencv-data libpng-dev libjpeg-dev python3-onnx
  libgtest-dev libgmock-dev
  clang-16 libclang-rt-16-dev llvm-16
  postgresql-15 postgresql-client-15
  kcat curl python3-yaml
  chromium fonts-liberation
)
# Node.js and npm for the web packages (scripts/install-web.sh). A Node.js already there (such as
# NodeSource's, which bundles npm) is kept; Debian's is installed only when there is none.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

if ((EUID == 0)); then
  as_root=()
elif command -v sudo >/dev/null; then
  as_root=(sudo)
else
  echo "install-deps: missing ${missing[*]}; run as root or install sudo" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
