#!/usr/bin/env bash
# The README's test command (`npm test` runs this): the whole suite, unit and integration on
# both engines as root, and beside it the suites that matter most again as a normal user against
# rootless Podman (scripts/lib/rootless.sh), with nothing skipped. On a fresh Debian 12 machine
# run as root it first brings what the suite needs (Node >= 22.12, both engines, squid, the local
# base image, node_modules, the rootless user); elsewhere it names in one line what is missing.
# Extra arguments go to the rootful vitest run; PAUDE_TEST_ROOTLESS=0 leaves the rootless run out
# (for a developer's own targeted runs: docs/DEVELOPING.md).
set -euo pipefail
cd "$(dirname "$0")/.."
BOOTSTRAP_WHO=test
source scripts/lib/bootstrap.sh
source scripts/lib/rootless.sh

ensure_node
ensure_engines both
ensure_deps
ensure_base_image

# Every suite must run: a missing engine, base image, squid or root fails the run instead of
# being reported as "NOT RUN" (test/support/requirements.ts).
export PAUDE_TEST_FULL=1
export PAUDE_TEST_BASE_IMAGE=${PAUDE_TEST_BASE_IMAGE:-$PAUDE_LOCAL_BASE_IMAGE}
[ "${BOOTSTRAP_BUILT:-}" = 1 ] || npm run build
npm run typecheck
npm run lint

# The rootless run goes on beside the rootful one: one after the other they would take close to
# half an hour. What the two share is done first: the rootless user's storage gets its base
# image before the rootful suites use the engine (a save during their starts failed one once).
rootless_pid=
if [ "${PAUDE_TEST_ROOTLESS:-1}" != 0 ]; then
  [ "$(id -u)" = 0 ] || missing 1 "the rootless run sets up a user of its own and needs root: run the tests as root, or set PAUDE_TEST_ROOTLESS=0 and run scripts/test-rootless.sh yourself"
  rootless_prepare
  # In a process group of its own (set -m), so that an interrupted run ends all of it.
  set -m
  ( set -o pipefail; rootless_run 2>&1 | sed -u 's/^/[rootless] /' ) &
  rootless_pid=$!
  set +m
  trap '[ -z "$rootless_pid" ] || kill -- "-$rootless_pid" 2>/dev/null' EXIT
fi
say "set up in ${SECONDS} s; the suites start"
status=0
npx vitest run "$@" || status=$?
say "the rootful suites ended at ${SECONDS} s"
if [ -n "$rootless_pid" ]; then
  rootless_status=0
  wait "$rootless_pid" || rootless_status=$?
  rootless_pid=
  say "the rootless run ended at ${SECONDS} s"
  if [ "$rootless_status" != 0 ]; then
    say "the rootless run failed (exit $rootless_status): its lines begin with [rootless]"
    [ "$status" != 0 ] || status=$rootless_status
  fi
fi
exit "$status"
