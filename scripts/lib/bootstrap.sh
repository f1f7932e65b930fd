# Sourced by the README's two commands (scripts/demo.sh, scripts/test.sh) and by .ci/run: brings
# what a fresh Debian 12 machine lacks, the same way for all three, and says in one line what it
# cannot bring elsewhere. Callers set BOOTSTRAP_WHO (the prefix of every line printed here).
#
# One cache for everything fetched (Node, the base image's root file system) and one local base
# image for the demo, the tests and the benchmarks, so the two commands can run in either order.

PAUDE_DEV_CACHE=${PAUDE_DEV_CACHE:-$HOME/.cache/paude-dev}
export PAUDE_DEV_CACHE
# The local Debian base image (no container registry may be reachable): built by
# .ci/build-base-image.sh, used by the demo (PAUDE_BASE_IMAGE), the tests and the benchmarks.
PAUDE_LOCAL_BASE_IMAGE=${PAUDE_LOCAL_BASE_IMAGE:-localhost/paude-local-base:bookworm}
export PAUDE_LOCAL_BASE_IMAGE

_bs_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

say() { printf '%s: %s\n' "${BOOTSTRAP_WHO:-paude}" "$*"; }
# One sentence and a non-zero exit: what is missing and how to get it.
missing() {
  local code=$1
  shift
  say "$*" >&2
  exit "$code"
}

can_provision() { [[ $(id -u) == 0 && -f /etc/debian_version ]] && command -v apt-get >/dev/null; }

node_new_enough() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 12) ? 0 : 1)' 2>/dev/null
}

# Node >= 22.12 first on PATH: the shell's own when it is new enough, otherwise Node 24 from the
# npm registry (the node-linux-<arch> package holds a whole Node), kept in the cache.
ensure_node() {
  node_new_enough && return 0
  local arch
  case $(uname -m) in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) missing 1 "Node.js >= 22.12 is needed (found $(node --version 2>/dev/null || echo none)) and none can be fetched for $(uname -m): install Node.js 22 or newer" ;;
  esac
  local dir=$PAUDE_DEV_CACHE/node
  local bin=$dir/node_modules/node-linux-$arch/bin
  if [[ ! -x $bin/node ]]; then
    command -v npm >/dev/null 2>&1 ||
      missing 1 "Node.js >= 22.12 is needed (found $(node --version 2>/dev/null || echo none)) and there is no npm to fetch it with: install Node.js 22 or newer"
    say "Node.js $(node --version 2>/dev/null || echo '(none)') is too old; fetching Node 24 from the npm registry into $dir"
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-audit --no-fund --silent "node-linux-$arch@24" ||
      missing 1 "fetching Node 24 (npm install node-linux-$arch@24) failed: install Node.js 22 or newer yourself"
  fi
  export PATH="$bin:$PATH"
  node_new_enough || missing 1 "$bin/node is not a working Node.js >= 22.12: remove $dir and try again"
}

# node_modules as package-lock.json says (npm ci also builds dist/ through the prepare script).
ensure_deps() {
  if [[ ! -f $_bs_root/node_modules/.package-lock.json || $_bs_root/package-lock.json -nt $_bs_root/node_modules/.package-lock.json ]]; then
    say "installing dependencies (npm ci)"
    (cd "$_bs_root" && npm ci --no-audit --no-fund) || missing 1 "npm ci failed (its output is above): check the npm registry settings (npm config get registry)"
    # npm ci has built dist/ (the prepare script): callers need not build again.
    BOOTSTRAP_BUILT=1
  fi
}

_answers() { curl -fsS --max-time 2 --unix-socket "$1" http://d/v1.41/version >/dev/null 2>&1; }

podman_socket() {
  if [[ -n ${PAUDE_TEST_PODMAN_SOCKET:-} ]]; then echo "$PAUDE_TEST_PODMAN_SOCKET"
  elif [[ $(id -u) != 0 && -n ${XDG_RUNTIME_DIR:-} ]]; then echo "$XDG_RUNTIME_DIR/podman/podman.sock"
  else echo /run/podman/podman.sock; fi
}
docker_socket() { echo "${PAUDE_TEST_DOCKER_SOCKET:-/var/run/docker.sock}"; }

# Both engines answering, and squid installed (the tests use both). Installs and starts them as
# root on Debian; elsewhere names what does not answer.
ensure_engines() {
  local need=${1:-both}
  if can_provision; then
    bash "$_bs_root/.ci/provision-engines.sh" || missing 5 "installing or starting the container engines failed (.ci/provision-engines.sh, its output is above)"
    return 0
  fi
  local p d
  p=$(podman_socket)
  d=$(docker_socket)
  if [[ $need == any ]]; then
    _answers "$p" || _answers "$d" ||
      missing 5 "no container engine answers (Podman at $p, Docker at $d): install and start Podman or Docker, or run this as root on Debian 12 to have them installed"
    return 0
  fi
  _answers "$p" || missing 5 "Podman does not answer at $p: start its API service (podman system service --time=0 unix://$p) or set PAUDE_TEST_PODMAN_SOCKET; as root on Debian 12 this script installs and starts it"
  _answers "$d" || missing 5 "Docker does not answer at $d: start dockerd or set PAUDE_TEST_DOCKER_SOCKET; as root on Debian 12 this script installs and starts it"
  command -v squid >/dev/null 2>&1 || missing 5 "squid is not installed (the policy tests run it): install Debian's squid package"
}

_has_image() { curl -fsS --max-time 5 --unix-socket "$1" "http://d/v1.41/images/$2/json" >/dev/null 2>&1; }

# The local base image on every engine that answers: built with debootstrap where this user can
# (root with debootstrap), otherwise it must be there already.
ensure_base_image() {
  if [[ $(id -u) == 0 ]] && command -v debootstrap >/dev/null 2>&1; then
    PAUDE_TEST_BASE_IMAGE=$PAUDE_LOCAL_BASE_IMAGE bash "$_bs_root/.ci/build-base-image.sh" ||
      missing 5 "building the local base image $PAUDE_LOCAL_BASE_IMAGE failed (.ci/build-base-image.sh, its output is above)"
    return 0
  fi
  local sock
  for sock in "$(podman_socket)" "$(docker_socket)"; do
    _answers "$sock" || continue
    _has_image "$sock" "$PAUDE_LOCAL_BASE_IMAGE" ||
      missing 5 "the base image $PAUDE_LOCAL_BASE_IMAGE is not on the engine at $sock: build it as root with .ci/build-base-image.sh (it needs debootstrap), or point PAUDE_LOCAL_BASE_IMAGE at a Debian 12 image you have"
  done
}
