#!/usr/bin/env bash
# The README's test command (`npm test` runs this): the whole suite, unit and integration on
# both engines, with nothing skipped. (The rootless run is scripts/test-rootless.sh, for now
# a command of its own: see docs/DEVELOPING.md.) On a fresh Debian 12 machine run as root it first brings
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
exec npx vitest run "$@"
