#!/usr/bin/env bash
# Installs and starts what the tests need on a fresh Debian 12 machine:
# Podman (rootful, configured for this VM kind), Docker, squid, debootstrap, OpenSSH (the remote-engine
# tests run their own sshd on 127.0.0.1).
# Idempotent: safe to run twice; starts services only when their socket does not answer.
set -euo pipefail

PODMAN_SOCK=${PAUDE_CI_PODMAN_SOCK:-/run/podman/podman.sock}
DOCKER_SOCK=${PAUDE_CI_DOCKER_SOCK:-/var/run/docker.sock}
STATE_DIR=${PAUDE_CI_STATE:-/var/lib/paude-ci}
mkdir -p "$STATE_DIR"

log() { printf '[provision] %s\n' "$*"; }

need_pkgs=()
for p in podman runc crun slirp4netns fuse-overlayfs uidmap netavark aardvark-dns docker.io squid debootstrap curl iptables openssh-client openssh-server docker-registry; do
  dpkg -s "$p" >/dev/null 2>&1 || need_pkgs+=("$p")
done
if ((${#need_pkgs[@]})); then
  log "apt-get install ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

# Podman on this VM kind: no CAP_SYS_RESOURCE and hybrid cgroups (see docs/DEVELOPING.md).
mkdir -p /etc/containers
if ! grep -q 'paude-ci' /etc/containers/containers.conf 2>/dev/null; then
  log "configuring /etc/containers/containers.conf"
  cat >/etc/containers/containers.conf <<'CONF'
# written by paude .ci/provision-engines.sh (paude-ci)
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[network]
network_backend = "netavark"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
CONF
fi

answers() { curl -fsS --max-time 2 --unix-socket "$1" http://d/v1.41/version >/dev/null 2>&1; }

wait_for() {
  local sock=$1 name=$2 logf=$3
  for _ in $(seq 1 150); do
    answers "$sock" && return 0
    sleep 0.2
  done
  log "$name did not answer on $sock; last log lines:"; tail -n 30 "$logf" >&2 || true
  return 1
}

if ! answers "$PODMAN_SOCK"; then
  log "starting podman system service on $PODMAN_SOCK"
  mkdir -p "$(dirname "$PODMAN_SOCK")"
  rm -f "$PODMAN_SOCK"
  # From /: every container's conmon inherits the service's directory, and fails once it is
  # gone (a CI checkout removed while the service goes on; docs/ENGINE-FACTS.md).
  (cd / && exec nohup podman system service --time=0 "unix://$PODMAN_SOCK" >"$STATE_DIR/podman-service.log" 2>&1) &
  echo $! >"$STATE_DIR/podman-service.pid"
  wait_for "$PODMAN_SOCK" podman "$STATE_DIR/podman-service.log"
fi

if ! answers "$DOCKER_SOCK"; then
  log "starting dockerd on $DOCKER_SOCK"
  mkdir -p "$(dirname "$DOCKER_SOCK")"
  (cd / && exec nohup dockerd --host "unix://$DOCKER_SOCK" --data-root /var/lib/docker --exec-root /var/run/docker-exec \
    --pidfile "$STATE_DIR/dockerd.pid" >"$STATE_DIR/dockerd.log" 2>&1) &
  wait_for "$DOCKER_SOCK" dockerd "$STATE_DIR/dockerd.log"
fi
log "podman: $(curl -fsS --unix-socket "$PODMAN_SOCK" http://d/v1.41/version | head -c 120)"
log "docker: $(curl -fsS --unix-socket "$DOCKER_SOCK" http://d/v1.41/version | head -c 120)"
