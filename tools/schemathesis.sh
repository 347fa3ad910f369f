#!/usr/bin/env bash
# schemathesis against the local stack: every operation of openapi.json, all
# checks (schemathesis.toml says which refusals of schema-valid input are the
# API's own rules), a bounded number of examples per operation, an admin token
# (and an end user's for /api/quota/me). Run by `make test` with the Makefile's
# local auth settings; tools/with-stack.sh starts the emulator and the stack.
set -euo pipefail
cd "$(dirname "$0")/.."
exec tools/with-stack.sh schemathesis bash -c '.venv/bin/schemathesis --config-file schemathesis.toml run openapi.json \
  --url "$STACK_URL" --checks all --max-examples '"${SCHEMATHESIS_EXAMPLES:-25}"' --no-color'
