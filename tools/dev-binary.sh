#!/usr/bin/env bash
# Prints the path of quota-dev as the workspace's test build makes it (building
# it if needed). `cargo build -p quota-dev` would resolve other features
# (tokio's test-util comes from dev-dependencies) and compile the whole AWS SDK
# a second time, doubling target/ on a CI disk; after `cargo test --workspace`
# this builds nothing. Cargo names the binary, wherever CARGO_TARGET_DIR puts it.
set -euo pipefail
cd "$(dirname "$0")/.."
dev=$(cargo test --workspace --no-run --quiet --message-format=json-render-diagnostics \
  | .venv/bin/python -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["kind"] == ["bin"] and m["target"]["name"] == "quota-dev" and not m["profile"]["test"]:
        print(m["executable"])
')
[ -x "$dev" ] || { echo "cargo named no quota-dev binary" >&2; exit 1; }
echo "$dev"
