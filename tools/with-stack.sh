#!/usr/bin/env bash
# Runs a command against a fresh local stack (what `make run` serves: every
# function, the console, /openapi.json) on the emulator:
#   tools/with-stack.sh NAME COMMAND...
# NAME names the stack's own tables (NAME-<pid>-quota, NAME-<pid>-events:
# demo data on fresh tables) and its log (.local/NAME-stack.log). The command sees
# STACK_URL, ADMIN_TOKEN and USER_TOKEN (an end user's, carol), and the
# stack's table names (STACK_QUOTA_TABLE, STACK_EVENTS_TABLE: for faults and
# request counts, see tools/dynamodb_rules.py). Needs the
# Makefile's local auth settings (AUTH_*, USER_AUTH_*); stops what it started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
name=$1
shift
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The test build's own server (see tools/dev-binary.sh: no second SDK build).
dev=$(tools/dev-binary.sh)
mkdir -p .local
export dev name port
exec tools/with-emulator.sh bash -c '
  set -euo pipefail
  log=.local/$name-stack.log
  # Fresh tables every run, even on an emulator that outlives the run (as under make run).
  export STACK_QUOTA_TABLE=$name-$$-quota STACK_EVENTS_TABLE=$name-$$-events
  QUOTA_TABLE=$STACK_QUOTA_TABLE EVENTS_TABLE=$STACK_EVENTS_TABLE "$dev" serve 127.0.0.1:$port > "$log" 2>&1 &
  stack=$!
  trap "kill $stack 2>/dev/null || true" EXIT
  export STACK_URL=http://127.0.0.1:$port
  STACK_PID=$stack LOG=$log .venv/bin/python - <<PY
import os, time, urllib.request
for _ in range(240):
    try:
        os.kill(int(os.environ["STACK_PID"]), 0)
    except OSError:
        raise SystemExit("the local stack exited: see " + os.environ["LOG"])
    try:
        urllib.request.urlopen(os.environ["STACK_URL"] + "/openapi.json", timeout=2)
        break
    except Exception:
        time.sleep(0.5)
else:
    raise SystemExit("the local stack did not start: see " + os.environ["LOG"])
PY
  export ADMIN_TOKEN=$("$dev" token local-admin admin)
  export USER_TOKEN=$("$dev" user-token carol)
  "$@"
' stack "$@"
