#!/usr/bin/env bash
# schemathesis against the local stack: every operation of openapi.json, all
# checks (schemathesis.toml says which refusals of schema-valid input are the
# API's own rules), a bounded number of examples per operation, an admin token
# (and an end user's for /api/quota/me). Run by `make test` with the Makefile's
# local auth settings; starts the emulator and the stack, stops both.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
examples=${SCHEMATHESIS_EXAMPLES:-25}
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cargo build --quiet -p quota-dev
# Wherever cargo builds (CARGO_TARGET_DIR may move it).
dev=$(cargo metadata --format-version 1 --no-deps \
  | .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/debug/quota-dev
export dev
mkdir -p .local
tools/with-emulator.sh bash -c '
  set -euo pipefail
  QUOTA_TABLE=schemathesis-quota EVENTS_TABLE=schemathesis-events \
    "$dev" serve 127.0.0.1:'"$port"' > .local/schemathesis-stack.log 2>&1 &
  stack=$!
  trap "kill $stack 2>/dev/null || true" EXIT
  STACK_PID=$stack .venv/bin/python - <<PY
import os, time, urllib.request
for _ in range(240):
    try:
        os.kill(int(os.environ["STACK_PID"]), 0)
    except OSError:
        raise SystemExit("the local stack exited: see .local/schemathesis-stack.log")
    try:
        urllib.request.urlopen("http://127.0.0.1:'"$port"'/openapi.json", timeout=2)
        break
    except Exception:
        time.sleep(0.5)
else:
    raise SystemExit("the local stack did not start: see .local/schemathesis-stack.log")
PY
  export ADMIN_TOKEN=$("$dev" token local-admin admin)
  export USER_TOKEN=$("$dev" user-token carol)
  .venv/bin/schemathesis --config-file schemathesis.toml run openapi.json \
    --url http://127.0.0.1:'"$port"' --checks all --max-examples '"$examples"' --no-color
'
