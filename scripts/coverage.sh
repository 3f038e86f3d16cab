#!/usr/bin/env bash
# Line coverage of src/ by the tests that need no root (unit and golden), per file, run as an
# ordinary user — root re-runs this script as `nobody` — so it shows what the fake kernel
# (test/helpers/fake-kernel.ts) reaches without any namespace. The apply transaction and the
# daemon must stay at 80 % of their lines or more (issue 13). Expects a build (npm run build).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then
  exec setpriv --reuid=65534 --regid=65534 --clear-groups --reset-env -- env PATH="$PATH" HOME=/tmp bash "$0" "$@"
fi
tmp=$(mktemp -d /tmp/multihome-coverage.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
c8=node_modules/.bin/c8
"$c8" --temp-directory "$tmp/raw" --report-dir "$tmp/report" --reporter=text --include 'dist/src/**' \
  bash -o pipefail -c "node --test --test-reporter=tap dist/test/unit/ dist/test/golden/ | grep -E '^(not ok|# (tests|pass|fail|skipped))'"
"$c8" check-coverage --temp-directory "$tmp/raw" --report-dir "$tmp/report" --per-file --lines 80 \
  --include dist/src/apply/transaction.js --include dist/src/daemon/daemon.js
echo "coverage: src/apply/transaction.ts and src/daemon/daemon.ts at 80 % of lines or more (as $(id -un))"
