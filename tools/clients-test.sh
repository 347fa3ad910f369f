#!/usr/bin/env bash
# The client libraries (clients/): each installed from the repository as a
# user would (pip install ./clients/python), its unit tests, then its tests
# against a fresh local stack (tools/with-stack.sh). Run by `make test` with
# the Makefile's local auth settings.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pip install --quiet --disable-pip-version-check --force-reinstall --no-deps ./clients/python
# The installed package, not the source tree: run from a directory without it.
tests=$PWD/clients/python/tests
(cd /tmp && "$OLDPWD/.venv/bin/python" -m pytest -q -p no:cacheprovider "$tests/test_policy.py")
exec tools/with-stack.sh clients bash -c "cd /tmp && '$PWD/.venv/bin/python' -m pytest -q -p no:cacheprovider '$tests/test_stack.py'"
