#!/usr/bin/env bash
# Builds the local Debian base image the tests use (no container registry is reachable here)
# and loads it into every engine whose socket answers. Cached by the package list and mirror.
# The image is PAUDE_LOCAL_BASE_IMAGE (scripts/lib/bootstrap.sh names it for the demo, the tests
# and the benchmarks alike).
set -euo pipefail
log() { printf '[base-image] %s\n' "$*"; }

IMAGE=${PAUDE_LOCAL_BASE_IMAGE:-localhost/paude-local-base:bookworm}
PODMAN_SOCK=${PAUDE_CI_PODMAN_SOCK:-/run/podman/podman.sock}
DOCKER_SOCK=${PAUDE_CI_DOCKER_SOCK:-/var/run/docker.sock}
CACHE=${PAUDE_DEV_CACHE:-$HOME/.cache/paude-dev}
# Packages: what later images (agent, squid proxy) install on top of it stay out; this is the
# smallest useful Debian with TLS roots, a shell and curl for tests.
PKGS="ca-certificates,curl,bash,procps,iproute2,netbase,socat"
# The Debian mirror apt uses on this machine (deb822 sources first, then the one-line format):
# never a host written here.
MIRROR=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[[ -n $MIRROR ]] || MIRROR=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n 1 || true)
[[ -n $MIRROR ]] || { log "no Debian mirror found in apt's sources (/etc/apt/sources.list*): add one, then run this again"; exit 1; }

key=$(printf '%s|%s|%s' "$PKGS" "$MIRROR" v1 | sha256sum | cut -c1-16)
tarball="$CACHE/base-bookworm-$key.tar"
mkdir -p "$CACHE"

if [[ ! -s $tarball ]]; then
  log "debootstrap bookworm ($PKGS) from $MIRROR"
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  debootstrap --variant=minbase --include="$PKGS" bookworm "$root" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
    || { tail -n 30 "$CACHE/debootstrap.log" >&2; exit 1; }
  # The machine's extra CA certificates (a TLS-intercepting network) are trusted in the image too.
  if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
    chroot "$root" update-ca-certificates >/dev/null 2>&1 || true
  fi
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . >"$tarball.tmp"
  mv "$tarball.tmp" "$tarball"
fi

load() {
  local sock=$1 name=$2
  curl -fsS --max-time 2 --unix-socket "$sock" http://d/v1.41/version >/dev/null 2>&1 || { log "$name: not running, skipped"; return 0; }
  local label
  label=$(curl -fsS --unix-socket "$sock" "http://d/v1.41/images/$IMAGE/json" 2>/dev/null | grep -o "\"paude.base.key\":\"[^\"]*\"" || true)
  if [[ $label == *"$key"* ]]; then log "$name: $IMAGE up to date"; return 0; fi
  log "$name: importing $IMAGE"
  if [[ $name == podman ]]; then
    # Podman's compatible import endpoint ignores the tag; its own API (via the CLI) does not.
    podman --remote --url "unix://$sock" import --change "LABEL paude.base.key=$key" --change 'CMD ["bash"]' "$tarball" "$IMAGE" >/dev/null
  else
    local repo=${IMAGE%:*} tag=${IMAGE##*:}
    # POST /images/create?fromSrc=- is the engine API behind `docker import`; the label records the cache key.
    curl -fsS --unix-socket "$sock" -X POST -H 'Content-Type: application/x-tar' --data-binary "@$tarball" \
      "http://d/v1.41/images/create?fromSrc=-&repo=$repo&tag=$tag&changes=LABEL%20paude.base.key%3D$key&changes=CMD%20%5B%22bash%22%5D" >/dev/null
  fi
}
load "$PODMAN_SOCK" podman
load "$DOCKER_SOCK" docker
log "ready: $IMAGE"
