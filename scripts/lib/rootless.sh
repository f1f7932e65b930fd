# Sourced by scripts/test.sh and scripts/test-rootless.sh (after bootstrap.sh and ensure_node):
# the rootless run, the integration suites that matter most again as a normal user against that
# user's rootless Podman. rootless_prepare sets the user up as root (.ci/provision-rootless.sh),
# gives the user a Node it can run and stages a copy of this tree the user can write (vitest
# writes next to its config); rootless_run then runs the suites as that user. Run by a normal
# user, rootless_run runs them in place against that user's own rootless Podman.

ROOTLESS_SUITES=(
  test/integration/run-sandbox.test.ts
  test/integration/sessions.test.ts
  test/integration/policy-proxy.test.ts
  test/integration/dashboard.test.ts
  test/integration/audit.test.ts
  test/security/escape.test.ts
)
ROOTLESS_USER=${PAUDE_ROOTLESS_USER:-paude-rootless}

rootless_prepare() {
  [ "$(id -u)" = 0 ] || return 0
  PAUDE_ROOTLESS_USER=$ROOTLESS_USER bash "$_bs_root/.ci/provision-rootless.sh"
  _rl_uid=$(id -u "$ROOTLESS_USER")
  _rl_home=$(getent passwd "$ROOTLESS_USER" | cut -d: -f6)

  # Node where the user can run it: the bootstrap's copy lives under root's home.
  local node_bin
  node_bin=$(dirname "$(command -v node)")
  if runuser -u "$ROOTLESS_USER" -- "$node_bin/node" --version >/dev/null 2>&1; then
    _rl_node_bin=$node_bin
  elif [[ $node_bin == "$PAUDE_DEV_CACHE"/* ]]; then
    _rl_node_bin=/opt/paude-ci/node/bin
    if [ "$("$_rl_node_bin/node" --version 2>/dev/null || true)" != "$(node --version)" ]; then
      rm -rf /opt/paude-ci/node
      mkdir -p /opt/paude-ci
      cp -a "$node_bin/.." /opt/paude-ci/node
    fi
  else
    missing 1 "$ROOTLESS_USER cannot run $node_bin/node: install Node.js 22 or newer where every user can run it"
  fi

  # The tree as it is now (built dist/ included), without git's data and the benchmark results.
  _rl_stage="$_rl_home/paude-test"
  rm -rf "$_rl_stage"
  mkdir -p "$_rl_stage"
  tar -C "$_bs_root" --exclude=./.git --exclude=./bench/results --exclude=./node_modules/.vite --exclude=./node_modules/.vite-temp -cf - . |
    tar -xf - -C "$_rl_stage"
  chown -R "$ROOTLESS_USER:" "$_rl_stage"
}

# Extra arguments go to vitest.
rootless_run() {
  local base=${PAUDE_TEST_BASE_IMAGE:-$PAUDE_LOCAL_BASE_IMAGE}
  if [ "$(id -u)" != 0 ]; then
    (cd "$_bs_root" && PAUDE_TEST_ENGINES=podman PAUDE_TEST_FULL=1 PAUDE_TEST_BASE_IMAGE=$base npx vitest run --project integration "${ROOTLESS_SUITES[@]}" "$@")
    return
  fi
  say "rootless run: ${#ROOTLESS_SUITES[@]} suites as $ROOTLESS_USER against rootless Podman"
  # The user gets this environment without npm's own variables: run from npm, they name root's
  # npm cache and configuration, which the user cannot read (npm view then fails). The rest
  # stays: the machine's proxy and CA settings are what lets the user's npm reach its registry.
  local unset_npm=() name
  for name in $(compgen -e); do
    case $name in npm_* | NPM_* | INIT_CWD) unset_npm+=(-u "$name") ;; esac
  done
  (cd "$_rl_stage" && runuser -u "$ROOTLESS_USER" -- env "${unset_npm[@]}" HOME="$_rl_home" XDG_RUNTIME_DIR="/run/user/$_rl_uid" \
    PATH="$_rl_node_bin:/usr/bin:/bin" CI="${CI:-}" PAUDE_TEST_ENGINES=podman PAUDE_TEST_FULL=1 PAUDE_TEST_BASE_IMAGE="$base" \
    ${PAUDE_TEST_WORKERS:+PAUDE_TEST_WORKERS="$PAUDE_TEST_WORKERS"} \
    npx vitest run --project integration "${ROOTLESS_SUITES[@]}" "$@")
}
