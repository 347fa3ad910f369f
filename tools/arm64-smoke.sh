#!/usr/bin/env bash
# The deployable arm64 check zip, run as Lambda containers: its bootstrap
# under qemu-user (installed with arm64 glibc by apt-get when missing, as
# root) through the check function's container tests (check and record on
# separate processes, the emulator behind). Run by `make arm64-smoke` after
# `make build ARCH=arm64`.
set -euo pipefail
cd "$(dirname "$0")/.."
zip=target/lambda-arm64/check/bootstrap.zip
[ -f "$zip" ] || { echo "no $zip: run make build ARCH=arm64 first" >&2; exit 2; }
if ! command -v qemu-aarch64 >/dev/null || [ ! -d /usr/aarch64-linux-gnu/lib ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "arm64-smoke needs qemu-user and libc6-arm64-cross: run \`apt-get install qemu-user libc6-arm64-cross\` as root first" >&2
    exit 2
  fi
  echo "installing qemu-user and libc6-arm64-cross with apt-get" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user libc6-arm64-cross >&2
fi
dir=$PWD/target/arm64-smoke
rm -rf "$dir" && mkdir -p "$dir"
.venv/bin/python - "$zip" "$dir" <<'PY'
import os, sys, zipfile
zipfile.ZipFile(sys.argv[1]).extract("bootstrap", sys.argv[2])
path = os.path.join(sys.argv[2], "bootstrap")
with open(path, "rb") as f:
    head = f.read(20)
# ELF, 64-bit, little-endian, e_machine 183 (AArch64).
if head[:5] != b"\x7fELF\x02" or int.from_bytes(head[18:20], "little") != 183:
    sys.exit("the check zip's bootstrap is not an aarch64 ELF")
os.chmod(path, 0o755)
PY
printf '#!/bin/sh\nexec qemu-aarch64 -L /usr/aarch64-linux-gnu "%s/bootstrap" "$@"\n' "$dir" > "$dir/check"
chmod +x "$dir/check"
# --workspace keeps the features of make test's build (no second SDK build);
# only the check function's `it` binary has containers:: tests.
QUOTA_CHECK_BINARY=$dir/check exec tools/with-emulator.sh cargo test --workspace --test it containers::
