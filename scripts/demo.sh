#!/usr/bin/env bash
# The README's first command: a sandboxed session, no API key needed. On a fresh Debian 12
# machine run as root it brings what it needs (Node >= 22.12, Podman and Docker, a local Debian
# base image, since no registry may be reachable); elsewhere it tells you what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
BOOTSTRAP_WHO=demo
source scripts/lib/bootstrap.sh

ensure_node
ensure_engines any
ensure_deps

# No registry may be reachable: use the local Debian base image (the same one the tests use)
# unless a base is configured.
if [[ -z ${PAUDE_BASE_IMAGE:-} ]] && ! node bin/paude.js config show --json | grep -q '"base"'; then
  if [[ $(id -u) == 0 ]] && command -v debootstrap >/dev/null; then
    ensure_base_image
    export PAUDE_BASE_IMAGE=$PAUDE_LOCAL_BASE_IMAGE
  fi
fi

# The demo's allowed host is the npm registry this machine's npm uses (never a host written here).
allowed_url=$(npm config get registry 2>/dev/null || true)
allowed_host=$(node -e 'try { console.log(new URL(process.argv[1]).hostname) } catch { process.exit(1) }' "$allowed_url" 2>/dev/null) ||
  missing 1 "npm config get registry gave no URL ('$allowed_url'): set one with npm config set registry URL"

demo_script='
  echo "paude demo: a shell in the sandbox; only $DEMO_ALLOWED_HOST (your npm registry) is allowed for this session."
  echo "inside: user $(id -un) (uid $(id -u)), network interfaces: $(ls /sys/class/net | tr "\n" " ")"
  echo
  echo "1. an allowed host, through the proxy:"
  curl -sS -o /dev/null -w "   $DEMO_ALLOWED_URL -> HTTP %{http_code}\n" --max-time 20 "$DEMO_ALLOWED_URL" || echo "   (no answer: is the registry reachable from this machine?)"
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
  id=$(node "$paude" --detach --shell --network-allow "$allowed_host" -- env DEMO_ALLOWED_HOST="$allowed_host" DEMO_ALLOWED_URL="$allowed_url" bash -c "$demo_script"'
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
exec node "$paude" --shell --network-allow "$allowed_host" -- env DEMO_ALLOWED_HOST="$allowed_host" DEMO_ALLOWED_URL="$allowed_url" bash -c "$demo_script"'
  echo "Every request above is in the session log; with a terminal this demo opens paude ui."'
