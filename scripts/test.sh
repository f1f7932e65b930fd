#!/usr/bin/env bash
# The README's test command (`npm test` runs this): the whole suite, unit and integration on
# both engines as root, and beside it the suites that matter most again as a normal user against
# rootless Podman (scripts/lib/rootless.sh), with nothing skipped. On a fresh Debian 12 machine
# run as root it first brings what the suite needs (Node >= 22.12, both engines, squid, the local
# base image, node_modules, the rootless user); elsewhere it names in one line what is missing.
# Extra arguments go to both rootful vitest runs (Podman's, Docker's); PAUDE_TEST_ROOTLESS=0 leaves
# the rootless run out (for a developer's own targeted runs: docs/DEVELOPING.md).
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
if [ "${PAUDE_TEST_ROOTLESS:-1}" != 0 ]; then
  [ "$(id -u)" = 0 ] || missing 1 "the rootless run sets up a user of its own and needs root: run the tests as root, or set PAUDE_TEST_ROOTLESS=0 and run scripts/test-rootless.sh yourself"
fi

# The type check and the linter (a minute or more each on two cores) run beside the rootless
# set-up, which mostly copies files and waits on Podman; their output is shown if they fail.
checks=$(mktemp -d)
npm run typecheck >"$checks/typecheck" 2>&1 &
typecheck_pid=$!
npm run lint >"$checks/lint" 2>&1 &
lint_pid=$!
checked() {
  local name=$1 pid=$2
  if ! wait "$pid"; then
    cat "$checks/$name" >&2
    say "npm run $name failed (its output is above)"
    exit 1
  fi
}

# The rootless user's storage gets its base image before the rootful suites use the engine (a
# save during their starts failed one once).
if [ "${PAUDE_TEST_ROOTLESS:-1}" != 0 ]; then
  rootless_prepare
fi
checked typecheck "$typecheck_pid"
checked lint "$lint_pid"
rm -rf "$checks"
# Two runs at a time, which is what two cores carry (three overloaded them: load 18, timeouts).
# This one runs the unit suites and every suite on rootful Podman; beside it run the rootless
# suites, then every suite on Docker, whose lines begin with [rootless] and [docker]. Suites
# that need one engine only (Kubernetes) run in the Docker run (PAUDE_TEST_ONE_ENGINE).
export PAUDE_TEST_ONE_ENGINE=docker
beside() {
  local failed=0
  if [ "${PAUDE_TEST_ROOTLESS:-1}" != 0 ]; then
    if ! (set -o pipefail; rootless_run 2>&1 | sed -u 's/^/[rootless] /'); then
      say "the rootless run failed: its lines begin with [rootless]"
      failed=1
    fi
    say "the rootless run ended at ${SECONDS} s"
  fi
  if ! (set -o pipefail; PAUDE_TEST_ENGINES=docker npx vitest run --project integration "$@" 2>&1 | sed -u 's/^/[docker] /'); then
    say "the Docker suites failed: their lines begin with [docker]"
    failed=1
  fi
  say "the Docker suites ended at ${SECONDS} s"
  return "$failed"
}
# In a process group of its own (set -m), so that an interrupted run ends all of it.
set -m
beside "$@" &
beside_pid=$!
set +m
trap '[ -z "$beside_pid" ] || kill -- "-$beside_pid" 2>/dev/null' EXIT
say "set up in ${SECONDS} s; the suites start"
status=0
# --passWithNoTests: here the files of those one-engine suites define no test (they run in the
# Docker run, which has no such flag: any other empty file fails there).
PAUDE_TEST_ENGINES=podman npx vitest run --passWithNoTests "$@" || status=$?
say "the unit and rootful Podman suites ended at ${SECONDS} s"
beside_status=0
wait "$beside_pid" || beside_status=$?
beside_pid=
[ "$status" != 0 ] || status=$beside_status
exit "$status"
