#!/usr/bin/env bash
# Runs a command with the DynamoDB emulator up and the SDK pointed at it:
#   tools/with-emulator.sh cargo test --workspace
# Starts moto on a free port (installing it on first use), exports the
# endpoint and dummy credentials, and stops the emulator afterwards if this
# script started it. The command's exit status is returned.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
started=0
if [ ! -f "$root/.local/moto.pid" ] || ! kill -0 "$(cat "$root/.local/moto.pid")" 2>/dev/null; then
  started=1
fi
url=$("$root/tools/emulator.sh" start)
cleanup() { if [ "$started" = 1 ]; then "$root/tools/emulator.sh" stop; fi; }
trap cleanup EXIT
export AWS_ENDPOINT_URL_DYNAMODB="$url"
# moto serves EventBridge on the same endpoint (the notifier's tests).
export AWS_ENDPOINT_URL_EVENTBRIDGE="$url"
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-local}
export AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-local}
export AWS_REGION=${AWS_REGION:-us-east-1}
# moto answers one request at a time: give the SDK and the answers' budgets
# time under parallel tests (production keeps 1 s, 300 ms and 3 s).
export QUOTA_DYNAMODB_ATTEMPT_TIMEOUT_MS=${QUOTA_DYNAMODB_ATTEMPT_TIMEOUT_MS:-30000}
export QUOTA_CHECK_BUDGET_MS=${QUOTA_CHECK_BUDGET_MS:-30000}
export QUOTA_REQUEST_BUDGET_MS=${QUOTA_REQUEST_BUDGET_MS:-30000}
# The SDK must not look for real credentials or instance metadata.
export AWS_EC2_METADATA_DISABLED=true
echo "emulator: $url" >&2
"$@"
