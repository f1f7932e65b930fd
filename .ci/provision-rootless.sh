#!/usr/bin/env bash
# Sets up rootless Podman for a normal user on a fresh Debian 12 machine (run as root, after
# provision-engines.sh): the user (with subuid/subgid ranges), /dev/fuse and /dev/net/tun open to
# users (as desktop distributions ship them; this VM kind has them 0600), overlay storage through
# fuse-overlayfs (the default vfs driver here gives containers a / of mode 0700, where no
# non-root process can run anything), the user's XDG_RUNTIME_DIR and their own
# `podman system service`. Loads the local base image into the user's storage, so nothing is
# pulled. Idempotent. Prints nothing but progress; the socket is
#   /run/user/UID/podman/podman.sock
set -euo pipefail

ROOTLESS_USER=${PAUDE_ROOTLESS_USER:-paude-rootless}
BASE_IMAGE=${PAUDE_LOCAL_BASE_IMAGE:-localhost/paude-local-base:bookworm}
STATE_DIR=${PAUDE_CI_STATE:-/var/lib/paude-ci}
mkdir -p "$STATE_DIR"
log() { printf '[rootless] %s\n' "$*"; }

if ! id "$ROOTLESS_USER" >/dev/null 2>&1; then
  log "creating user $ROOTLESS_USER"
  useradd -m -s /bin/bash "$ROOTLESS_USER"
fi
uid=$(id -u "$ROOTLESS_USER")
home=$(getent passwd "$ROOTLESS_USER" | cut -d: -f6)
grep -q "^$ROOTLESS_USER:" /etc/subuid || usermod --add-subuids 200000-265535 "$ROOTLESS_USER"
grep -q "^$ROOTLESS_USER:" /etc/subgid || usermod --add-subgids 200000-265535 "$ROOTLESS_USER"

chmod 0666 /dev/fuse /dev/net/tun
# The tests' upstream servers stand in for hosts on ports 80 and 443 (an allowlist entry without a
# port means those two); run as the rootless user, they need to bind them.
sysctl -qw net.ipv4.ip_unprivileged_port_start=80

as_user() { runuser -u "$ROOTLESS_USER" -- env HOME="$home" XDG_RUNTIME_DIR="/run/user/$uid" "$@"; }

conf="$home/.config/containers/storage.conf"
if ! grep -q fuse-overlayfs "$conf" 2>/dev/null; then
  log "overlay storage through fuse-overlayfs for $ROOTLESS_USER"
  as_user mkdir -p "$home/.config/containers"
  as_user tee "$conf" >/dev/null <<CONF
# written by paude .ci/provision-rootless.sh
[storage]
driver = "overlay"
[storage.options.overlay]
mount_program = "/usr/bin/fuse-overlayfs"
CONF
fi

runtime="/run/user/$uid"
mkdir -p "$runtime"
chown "$ROOTLESS_USER:" "$runtime"
chmod 0700 "$runtime"
sock="$runtime/podman/podman.sock"

answers() { curl -fsS --max-time 2 --unix-socket "$1" http://d/v1.41/version >/dev/null 2>&1; }
# A service this script started earlier from a directory that is gone since (see below) answers,
# but starts no container: it is stopped (by its pid) and started again.
pidfile="$STATE_DIR/podman-rootless.pid"
service_cwd() { for p in $(cat "$pidfile" 2>/dev/null) $(ps -o pid= --ppid "$(cat "$pidfile" 2>/dev/null || echo 0)"); do readlink "/proc/$p/cwd"; done 2>/dev/null; }
if [ -f "$pidfile" ] && service_cwd | grep -q '(deleted)$'; then
  log "restarting $ROOTLESS_USER's podman system service (its working directory was removed)"
  kill "$(cat "$pidfile")" 2>/dev/null || true
  for _ in $(seq 1 50); do answers "$sock" || break; sleep 0.2; done
fi
if ! answers "$sock"; then
  log "starting $ROOTLESS_USER's podman system service on $sock"
  as_user mkdir -p "$runtime/podman"
  rm -f "$sock"
  # runuser forwards a SIGTERM to the service: its pid is the one to stop. It runs in the user's
  # home: the conmon of every container inherits the service's directory, and fails every start
  # ("Failed to get working directory", the engine saying only "exit status 1") once that
  # directory is gone (a CI checkout removed after the run that started the service).
  (cd "$home" && exec runuser -u "$ROOTLESS_USER" -- env HOME="$home" XDG_RUNTIME_DIR="$runtime" nohup podman system service --time=0 "unix://$sock" >"$STATE_DIR/podman-rootless.log" 2>&1) &
  echo $! >"$pidfile"
  for _ in $(seq 1 150); do answers "$sock" && break; sleep 0.2; done
  answers "$sock" || { log "the rootless service did not answer; last log lines:"; tail -n 30 "$STATE_DIR/podman-rootless.log" >&2; exit 1; }
fi

if ! as_user podman image exists "$BASE_IMAGE"; then
  log "loading $BASE_IMAGE into $ROOTLESS_USER's storage"
  podman save "$BASE_IMAGE" | as_user podman load >/dev/null
fi
# Podman's own /info says whether it runs rootless (its Docker-compatible one does not).
log "podman for $ROOTLESS_USER: $(curl -fsS --unix-socket "$sock" http://d/v4.0.0/libpod/info | grep -o '"rootless":[a-z]*' | head -1)"
