#!/usr/bin/env bash
# The console's browser tests: Debian's chromium (installed with apt-get when
# missing; Playwright's own browser download is not reachable), the console's
# libraries, and pytest-playwright against a fresh local stack. Run by
# `make test` (and `make console-test`) with the Makefile's local auth settings.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  tools/apt-install.sh console-test chromium
fi
exec tools/with-stack.sh console .venv/bin/python -m pytest -q -p no:cacheprovider tools/console_tests "$@"
