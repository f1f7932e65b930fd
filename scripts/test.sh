#!/usr/bin/env bash
# The README's test command (`npm test` runs this): the whole suite, unit and integration on
# both engines, then the main integration suites on rootless Podman, with nothing skipped. On a fresh Debian 12 machine run as root it first brings
# what the suite needs (Node >= 22.12, both engines, squid, the local base image, node_modules);
# elsewhere it names in one line what is missing. Extra arguments go to vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
BOOTSTRAP_WHO=test
source scripts/lib/bootstrap.sh

ensure_node
ensure_engines both
ensure_deps
ensure_base_image

# Every suite must run: a missing engine, base image, squid or root fails the run instead of
# being reported as "NOT RUN" (test/support/requirements.ts).
export PAUDE_TEST_FULL=1
export PAUDE_TEST_BASE_IMAGE=${PAUDE_TEST_BASE_IMAGE:-$PAUDE_LOCAL_BASE_IMAGE}
npm run build
npm run typecheck
npm run lint
# The whole suite also runs the main integration suites on rootless Podman, as a normal user
# (scripts/test-rootless.sh), beside the rest: the two share the machine but not an engine.
# Its output is shown when it is done. A run of chosen tests (arguments) leaves it out.
rootless_pid=
if [ $# -eq 0 ]; then
  rootless_log=$(mktemp)
  bash scripts/test-rootless.sh >"$rootless_log" 2>&1 </dev/null &
  rootless_pid=$!
fi
status=0
npx vitest run "$@" || status=$?
if [ -n "$rootless_pid" ]; then
  rootless_status=0
  wait "$rootless_pid" || rootless_status=$?
  printf '\n=== rootless Podman (scripts/test-rootless.sh)\n'
  cat "$rootless_log"
  rm -f "$rootless_log"
  [ "$rootless_status" -eq 0 ] || { say "the rootless run failed (exit $rootless_status)" >&2; [ "$status" -ne 0 ] || status=$rootless_status; }
fi
exit "$status"
