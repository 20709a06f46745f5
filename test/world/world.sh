#!/usr/bin/env bash
# The podunit test world: a real `systemd --user` manager and rootless podman for an
# unprivileged user, on a machine whose PID 1 is not systemd (see shared sandbox notes).
#
#   world.sh install   install the Debian packages the world needs (root, apt)
#   world.sh up        create the user, the cgroup, the namespaces; start the manager
#   world.sh exec CMD  run CMD as the world user inside the world (env is prepared)
#   world.sh down      stop everything the world started and remove its cgroup
#   world.sh relogin   the user manager exits (pods stop), then starts again, as at a reboot
#   world.sh status    print "host", "up" or "down"
#
# WORLD_STORAGE=overlay world.sh up: the world's podman stores images and
# containers with the overlay driver instead of its default (vfs on Debian 12's
# podman, which ships no storage.conf: a copy of the image's files for every
# container). Taken when the world comes up; a change of driver empties
# podman's storage (the tests build their images again).
#
# On a host that already has a systemd user session for the calling user (not root),
# `exec` runs the command directly and up/down do nothing: the same tests run there.
set -euo pipefail

WORLD_USER=${PODUNIT_WORLD_USER:-podunit-test}
WORLD_NAME=podunit-world
STATE_DIR=/run/$WORLD_NAME
CG_BASE=/sys/fs/cgroup/unified
[ -d "$CG_BASE" ] && [ -f "$CG_BASE/cgroup.procs" ] || CG_BASE=/sys/fs/cgroup
CG_WORLD=$CG_BASE/$WORLD_NAME

die() { echo "world: $*" >&2; exit 1; }

host_mode() {
  # A normal host: we are not root and our own user manager answers.
  [ "$(id -u)" != 0 ] && systemctl --user show-environment >/dev/null 2>&1
}

cmd_install() {
  # netavark and aardvark-dns: the backend of podunit's pod network (podman's
  # CNI plugins work too; Debian 13's podman has only netavark), with the
  # firewall tools it sets bridges up with (only recommended by the package):
  # iptables for Debian 12's netavark, nftables for Debian 13's.
  local pkgs=(podman crun conmon uidmap slirp4netns passt catatonit busybox-static docker-registry
    netavark aardvark-dns iptables nftables
    dbus-user-session systemd iproute2 util-linux procps)
  local missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

user_uid() { id -u "$WORLD_USER"; }

ensure_user() {
  # The home is under /home: podman's rootless network namespace for bridge
  # networks mounts a directory of its own over /var/lib, which would hide a
  # home there (and the network definitions in it) from podman's network setup.
  local want="/home/$WORLD_USER"
  if ! id "$WORLD_USER" >/dev/null 2>&1; then
    useradd --create-home --home-dir "$want" --shell /bin/bash "$WORLD_USER"
  elif [ "$(getent passwd "$WORLD_USER" | cut -d: -f6)" != "$want" ]; then
    # a world made before: move the home; podman's storage records its old
    # path, so it starts again empty (the test images are rebuilt on demand)
    usermod --move-home --home "$want" "$WORLD_USER"
    rm -rf "$want/.local/share/containers"
  fi
  grep -q "^$WORLD_USER:" /etc/subuid || usermod --add-subuids 200000-265535 "$WORLD_USER"
  grep -q "^$WORLD_USER:" /etc/subgid || usermod --add-subgids 200000-265535 "$WORLD_USER"
  local home; home=$(getent passwd "$WORLD_USER" | cut -d: -f6)
  install -d -o "$WORLD_USER" -g "$WORLD_USER" "$home/.config" "$home/.config/containers"
  cat >"$home/.config/containers/containers.conf" <<'CONF'
[containers]
pids_limit = 0
log_driver = "k8s-file"

[engine]
cgroup_manager = "systemd"
events_logger = "file"
CONF
  chown "$WORLD_USER:" "$home/.config/containers/containers.conf"
  ensure_storage "$home"
  # The vfs driver (the world's) makes its layer directory 0700; a pod with a
  # user namespace of its own (--userns=auto) runs as ids that must pass
  # through it, as they pass overlay's.
  install -d -o "$WORLD_USER" -g "$WORLD_USER" -m 0711 "$home/.local" "$home/.local/share" \
    "$home/.local/share/containers" "$home/.local/share/containers/storage" \
    "$home/.local/share/containers/storage/vfs" "$home/.local/share/containers/storage/vfs/dir"
}

# ensure_storage HOME: podman's storage driver as WORLD_STORAGE asks (vfs, the
# default, or overlay), through a storage.conf of the world's own. A
# storage.conf someone else wrote is left as it is, and so is the storage.
ensure_storage() {
  local home=$1
  local conf="$home/.config/containers/storage.conf" store="$home/.local/share/containers/storage"
  local mark="# written by test/world/world.sh (WORLD_STORAGE)"
  if [ -f "$conf" ] && ! head -1 "$conf" | grep -qxF "$mark"; then
    return 0
  fi
  local want=${WORLD_STORAGE:-vfs} other
  case "$want" in
    vfs) other=overlay; rm -f "$conf" ;;
    overlay)
      other=vfs
      printf '%s\n[storage]\ndriver = "overlay"\n' "$mark" >"$conf"
      chown "$WORLD_USER:" "$conf"
      ;;
    *) die "WORLD_STORAGE is vfs or overlay, not $want" ;;
  esac
  if [ -d "$store/$other-containers" ]; then
    echo "world: podman's storage driver becomes $want: its storage starts empty"
    rm -rf "$store"
  fi
}

manager_pid() { cat "$STATE_DIR/manager.pid" 2>/dev/null || true; }

is_up() {
  local pid; pid=$(manager_pid)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

cmd_up() {
  [ "$(id -u)" = 0 ] || die "up needs root (on a host with a user session, nothing to do)"
  if is_up; then return 0; fi
  cmd_down_quiet
  ensure_user
  local uid home; uid=$(user_uid); home=$(getent passwd "$WORLD_USER" | cut -d: -f6)
  mkdir -p "$STATE_DIR"
  mkdir -p "$CG_WORLD/user@$uid.service/podunit-exec"
  chown -R "$WORLD_USER:" "$CG_WORLD/user@$uid.service"
  # The world's inside: its own cgroup (the manager owns it), mount namespace with a
  # cgroup2 mount rooted at that cgroup, a usable tun device and /run/systemd/system.
  cat >"$STATE_DIR/inner.sh" <<INNER
set -e
mount --make-rshared /
mount -t cgroup2 none /sys/fs/cgroup
mkdir -p $STATE_DIR/dev
[ -e $STATE_DIR/dev/tun ] || mknod -m 0666 $STATE_DIR/dev/tun c 10 200
chmod 0666 $STATE_DIR/dev/tun
mkdir -p /dev/net; touch /dev/net/tun 2>/dev/null || true
mount --bind $STATE_DIR/dev/tun /dev/net/tun
mount -t tmpfs tmpfs /run/systemd
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# POSIX message queues, as a booted host has them (podman's --ipc host binds it)
mkdir -p /dev/mqueue; mount -t mqueue mqueue /dev/mqueue
mkdir -p /run/systemd/system
mount -t tmpfs -o mode=0755 tmpfs /run/user
install -d -m 0700 -o $WORLD_USER -g $WORLD_USER /run/user/$uid
exec setpriv --reuid=$uid --regid=$(id -g "$WORLD_USER") --init-groups \
  env -i HOME=$home USER=$WORLD_USER LOGNAME=$WORLD_USER \
  PATH=/usr/local/bin:/usr/bin:/bin XDG_RUNTIME_DIR=/run/user/$uid \
  /lib/systemd/systemd --user
INNER
  # Start from inside the user's cgroup so the cgroup namespace is rooted there.
  (
    echo $BASHPID >"$CG_WORLD/user@$uid.service/cgroup.procs"
    exec unshare --cgroup --mount --propagation private bash "$STATE_DIR/inner.sh" \
      >"$STATE_DIR/manager.log" 2>&1 </dev/null
  ) &
  echo $! >"$STATE_DIR/manager.pid"
  local i
  for i in $(seq 1 100); do
    if [ -S "/proc/$(manager_pid)/root/run/user/$uid/bus" ] &&
      cmd_exec systemctl --user is-system-running 2>/dev/null | grep -Eq 'running|degraded'; then
      break
    fi
    is_up || { cat "$STATE_DIR/manager.log" >&2; die "the user manager exited"; }
    sleep 0.1
  done
  cmd_exec systemctl --user start podman.socket
  echo "world: up (user $WORLD_USER, uid $uid, manager pid $(manager_pid))"
}

cmd_exec() {
  if host_mode; then exec "$@"; fi
  [ "$(id -u)" = 0 ] || die "exec needs root or a host with a user session"
  is_up || die "the world is down: run '$0 up' first"
  local uid home pid; uid=$(user_uid); home=$(getent passwd "$WORLD_USER" | cut -d: -f6)
  pid=$(manager_pid)
  # Join a cgroup inside the user's delegated tree (the world's cgroup namespace root)
  # so the user's manager and podman may move our children into their units.
  (
    echo $BASHPID >"$CG_WORLD/user@$uid.service/podunit-exec/cgroup.procs"
    exec nsenter -t "$pid" --mount --cgroup --wd="${PODUNIT_WORLD_WD:-$PWD}" \
      setpriv --reuid="$uid" --regid="$(id -g "$WORLD_USER")" --init-groups \
      env -i HOME="$home" USER="$WORLD_USER" LOGNAME="$WORLD_USER" \
      PATH="${PODUNIT_WORLD_PATH:-}/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" \
      XDG_RUNTIME_DIR="/run/user/$uid" DBUS_SESSION_BUS_ADDRESS="unix:path=/run/user/$uid/bus" \
      TERM="${TERM:-dumb}" "$@"
  )
}

cmd_down_quiet() {
  local pid; pid=$(manager_pid)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    # Let the manager stop its units (and so the pods' containers) in order.
    cmd_exec systemctl --user stop 'podunit*.slice' 'podunit*.service' >/dev/null 2>&1 || true
    cmd_exec podman rm --all --force --time 0 >/dev/null 2>&1 || true
    cmd_exec podman pod rm --all --force >/dev/null 2>&1 || true
    cmd_exec systemctl --user exit >/dev/null 2>&1 || true
    local i
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  # Whatever is left in the world's cgroup (podman's pause process, conmons) goes now.
  if [ -d "$CG_WORLD" ]; then
    if [ -f "$CG_WORLD/cgroup.kill" ]; then echo 1 >"$CG_WORLD/cgroup.kill" 2>/dev/null || true; fi
    sleep 0.2
    find "$CG_WORLD" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  fi
  rm -f "$STATE_DIR/manager.pid"
}

cmd_down() {
  [ "$(id -u)" = 0 ] || return 0
  cmd_down_quiet
  echo "world: down"
}

# relogin: the user's manager stops (its units, so the pods, stop in order) and
# exits, everything of the user is killed and /run/user/UID is gone, as at a
# reboot; then a new manager starts, as at the next boot or login.
cmd_relogin() {
  [ "$(id -u)" = 0 ] || die "relogin needs root"
  is_up || die "the world is down: run '$0 up' first"
  local pid i; pid=$(manager_pid)
  cmd_exec systemctl --user exit >/dev/null 2>&1 || true
  for i in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  cmd_up
}

cmd_status() {
  if host_mode; then echo host; elif is_up; then echo up; else echo down; fi
}

case "${1:-}" in
  install) cmd_install ;;
  up) if host_mode; then echo "world: using this host's user session"; else cmd_install; cmd_up; fi ;;
  exec) shift; [ "${1:-}" = "--" ] && shift; cmd_exec "$@" ;;
  down) host_mode || cmd_down ;;
  relogin) host_mode && die "relogin needs the test world, not a host session"; cmd_relogin ;;
  status) cmd_status ;;
  *) sed -n '2,12p' "$0" >&2; exit 2 ;;
esac
