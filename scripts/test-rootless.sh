#!/usr/bin/env bash
# The rootless run: the integration suites that matter most, again, as a normal user against
# that user's rootless Podman. As root on Debian 12 it sets the user up (.ci/provision-rootless.sh),
# stages a copy of this tree the user can write (vitest writes next to its config), and runs
# the suites as that user; as a normal user it runs them against your own rootless Podman.
# Extra arguments go to vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
BOOTSTRAP_WHO=test
source scripts/lib/bootstrap.sh
ensure_node

SUITES=(
  test/integration/run-sandbox.test.ts
  test/integration/sessions.test.ts
  test/integration/policy-proxy.test.ts
  test/integration/dashboard.test.ts
  test/integration/audit.test.ts
  test/security/escape.test.ts
)
export PAUDE_TEST_ENGINES=podman PAUDE_TEST_FULL=1
export PAUDE_TEST_BASE_IMAGE=${PAUDE_TEST_BASE_IMAGE:-${PAUDE_LOCAL_BASE_IMAGE:-localhost/paude-local-base:bookworm}}

if [ "$(id -u)" != 0 ]; then
  exec npx vitest run --project integration "${SUITES[@]}" "$@"
fi

ROOTLESS_USER=${PAUDE_ROOTLESS_USER:-paude-rootless}
export PAUDE_ROOTLESS_USER=$ROOTLESS_USER
bash .ci/provision-rootless.sh
uid=$(id -u "$ROOTLESS_USER")
home=$(getent passwd "$ROOTLESS_USER" | cut -d: -f6)

# Node where the user can run it: the bootstrap's copy lives under root's home.
node_bin=$(dirname "$(command -v node)")
if runuser -u "$ROOTLESS_USER" -- "$node_bin/node" --version >/dev/null 2>&1; then
  user_node_bin=$node_bin
elif [[ $node_bin == "$PAUDE_DEV_CACHE"/* ]]; then
  user_node_bin=/opt/paude-ci/node/bin
  if [ "$("$user_node_bin/node" --version 2>/dev/null || true)" != "$(node --version)" ]; then
    rm -rf /opt/paude-ci/node
    mkdir -p /opt/paude-ci
    cp -a "$node_bin/.." /opt/paude-ci/node
  fi
else
  missing 1 "$ROOTLESS_USER cannot run $node_bin/node: install Node.js 22 or newer where every user can run it"
fi

# The tree as it is now (built dist/ included), without git's data and the benchmark results.
stage="$home/paude-test"
mkdir -p "$stage"
# (The rootful run goes on beside it: a file that changes while it is read is not an error.)
{ tar --exclude=./.git --exclude=./bench/results --exclude=./node_modules/.vite --exclude=./node_modules/.vite-temp \
    --warning=no-file-changed --warning=no-file-removed -cf - . || [ $? -eq 1 ]; } | tar -xf - -C "$stage"
chown -R "$ROOTLESS_USER:" "$stage"

printf '[rootless] %s suites as %s against rootless Podman\n' "${#SUITES[@]}" "$ROOTLESS_USER"
cd "$stage"
# The user gets this environment without npm's own variables: run from npm, they name root's npm
# cache and configuration, which the user cannot read (npm view then fails). The rest stays:
# the machine's proxy and CA settings are what lets the user's npm reach its registry.
unset_npm=()
for name in $(compgen -e); do
  case $name in npm_* | NPM_* | INIT_CWD) unset_npm+=(-u "$name") ;; esac
done
exec runuser -u "$ROOTLESS_USER" -- env "${unset_npm[@]}" HOME="$home" XDG_RUNTIME_DIR="/run/user/$uid" PATH="$user_node_bin:/usr/bin:/bin" \
  CI="${CI:-}" PAUDE_TEST_ENGINES="$PAUDE_TEST_ENGINES" PAUDE_TEST_FULL=1 PAUDE_TEST_BASE_IMAGE="$PAUDE_TEST_BASE_IMAGE" \
  npx vitest run --project integration "${SUITES[@]}" "$@"
