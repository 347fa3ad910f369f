#!/usr/bin/env bash
# The client libraries (clients/): each installed from the repository as a
# user would (pip install ./clients/python; the TypeScript one built, its
# types held to openapi.json, packed with npm pack and installed from the
# tarball), its unit tests, then its tests against one fresh local stack
# (tools/with-stack.sh). Run by `make test` with the Makefile's local auth settings.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pip install --quiet --disable-pip-version-check --force-reinstall --no-deps ./clients/python
# The installed package, not the source tree: run from a directory without it.
tests=$PWD/clients/python/tests
(cd /tmp && "$OLDPWD/.venv/bin/python" -m pytest -q -p no:cacheprovider "$tests/test_policy.py")
# TypeScript: install, build, the openapi type check, the unit tests; then
# the package as npm pack makes it, installed into a scratch project.
(cd clients/typescript && npm ci --no-audit --no-fund --silent && npm run --silent typecheck-openapi \
  && node --test test/policy.test.mjs)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
tarball=$(cd clients/typescript && npm pack --silent --pack-destination "$scratch")
(cd "$scratch" && npm init -y >/dev/null && npm install --no-audit --no-fund --silent "./$tarball" \
  && node --input-type=module -e "import { QuotaClient } from '@quota-service/client'; if (typeof QuotaClient.http !== 'function') process.exit(1)" \
  && test -f node_modules/@quota-service/client/dist/index.d.ts)
tools/with-stack.sh clients bash -c "cd /tmp && '$PWD/.venv/bin/python' -m pytest -q -p no:cacheprovider '$tests/test_stack.py' '$tests/test_example.py' \
  && node --test '$PWD/clients/typescript/test/stack.test.mjs'"
