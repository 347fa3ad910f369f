#!/usr/bin/env bash
# The deployable arm64 zips, run as Lambda containers: each function's
# bootstrap under qemu-user (installed with arm64 glibc by apt-get when
# missing, as root) answers one of its events/ fixtures on seeded emulator
# tables (tools/arm64_smoke.py), then the check function's container tests
# run on its bootstrap (check and record on separate processes). Run by
# `make arm64-smoke` after `make build ARCH=arm64`, with the Makefile's local
# auth settings.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f target/lambda-arm64/check/bootstrap.zip ] || { echo "no arm64 zips: run make build ARCH=arm64 first" >&2; exit 2; }
if ! command -v qemu-aarch64 >/dev/null || [ ! -d /usr/aarch64-linux-gnu/lib ]; then
  tools/apt-install.sh arm64-smoke qemu-user libc6-arm64-cross
fi
dir=$PWD/target/arm64-smoke
rm -rf "$dir" && mkdir -p "$dir"
printf '#!/bin/sh\nexec qemu-aarch64 -L /usr/aarch64-linux-gnu "%s/check/bootstrap" "$@"\n' "$dir" > "$dir/check.sh"
chmod +x "$dir/check.sh"
dev=$(tools/dev-binary.sh)
export dev dir
exec tools/with-emulator.sh bash -c '
  set -euo pipefail
  # Fresh tables with the demo data, as make run has them.
  export QUOTA_TABLE=arm64-$$-quota EVENTS_TABLE=arm64-$$-events
  "$dev" seed > /dev/null
  .venv/bin/python tools/arm64_smoke.py "$dir"
  # --workspace keeps the features of make test'"'"'s build (no second SDK
  # build); only the check function'"'"'s `it` binary has containers:: tests.
  QUOTA_CHECK_BINARY=$dir/check.sh cargo test --quiet --workspace --test it containers::
'
