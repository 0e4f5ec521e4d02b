#!/usr/bin/env bash
# Fetches the photos the unit tests need that no installed package ships: astronaut.png (one
# frontal face, 512x512) from Debian's python3-skimage package, which is downloaded, not installed
# (no root needed). Usage: scripts/fetch-test-images.sh [DEST_DIR], default build/test-images.
# Does nothing when the photo is already there.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$(realpath -m "${1:-$root/build/test-images}")"
photo="$dest/astronaut.png"
if [[ -s "$photo" ]]; then
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# apt's messages are shown only on failure: as root it warns that its _apt user cannot write into
# the private temporary folder, and downloads as root instead, which is fine here.
if ! (cd "$work" && apt-get download python3-skimage) >"$work/apt.log" 2>&1; then
  cat "$work/apt.log" >&2
  echo "fetch-test-images: apt-get download python3-skimage failed (is apt-get update needed?)" >&2
  exit 1
fi
package=("$work"/python3-skimage_*.deb)
dpkg-deb -x "${package[0]}" "$work/extracted"
source="$(find "$work/extracted" -path '*/skimage/data/astronaut.png' -print -quit)"
if [[ -z "$source" ]]; then
  echo "fetch-test-images: astronaut.png is not in ${package[0]##*/}" >&2
  exit 1
fi
mkdir -p "$dest"
install -m 0644 "$source" "$photo.partial"
mv "$photo.partial" "$photo"
echo "fetch-test-images: wrote $photo"
