#!/usr/bin/env bash
# The rootless part of the README's test command on its own (scripts/lib/rootless.sh): as root on
# Debian 12 it sets up a normal user with rootless Podman and runs the suites as that user; as a
# normal user it runs them against your own rootless Podman. Extra arguments go to vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
BOOTSTRAP_WHO=test
source scripts/lib/bootstrap.sh
source scripts/lib/rootless.sh
ensure_node
rootless_prepare
rootless_run "$@"
