#!/usr/bin/env bash
# Builds (once; cached) a Debian disk image booted with systemd as PID 1, with
# podunit's dependencies installed, for test/vm/run.sh. The image gets no network
# at run time: everything the package needs must already be in it.
#   build-image.sh CACHE_DIR [SUITE]   prints the path of base.raw, vmlinuz, initrd
# SUITE: bookworm (Debian 12, podman 4.3, systemd 252; the default) or trixie
# (Debian 13, podman 5.4, systemd 257).
set -euo pipefail
cache=${1:-${PODUNIT_VM_CACHE:-$HOME/.cache/podunit-vm}}
suite=${2:-bookworm}
case $suite in bookworm | trixie) ;; *) echo "vm: unknown suite $suite (bookworm or trixie)" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
# The package list and this script make the cache key. nftables: what
# `apt install podman` brings along by recommendation on Debian 13, and what
# its netavark needs to set up a bridge network (podunit's pod network).
packages="systemd,systemd-sysv,dbus,dbus-user-session,libpam-systemd,udev,kmod,linux-image-amd64,\
podman,crun,conmon,uidmap,slirp4netns,passt,catatonit,busybox-static,iproute2,util-linux,procps,e2fsprogs,ca-certificates,\
nftables"
key=$(printf '%s\n' "$suite" "$packages" | cat - "$0" "$here/guest-runner.service" | sha256sum | cut -c1-16)
out="$cache/$suite-$key"
if [ -f "$out/base.raw" ] && [ -f "$out/vmlinuz" ] && [ -f "$out/initrd" ]; then
  echo "$out"
  exit 0
fi
command -v mmdebstrap >/dev/null || { apt-get update -qq; apt-get install -y -qq mmdebstrap; }
mkdir -p "$cache"
tmp=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root="$tmp/root"
echo "vm: building a Debian $suite image in $root (a few minutes)" >&2
mmdebstrap --variant=minbase --include="$packages" \
  --customize-hook='echo podunit-vm > "$1/etc/hostname"' \
  --customize-hook='echo "/dev/vda / ext4 defaults 0 1" > "$1/etc/fstab"' \
  --customize-hook='chroot "$1" passwd -d root' \
  --customize-hook="cp '$here/guest-runner.service' \"\$1/etc/systemd/system/podunit-guest-runner.service\"" \
  --customize-hook='chroot "$1" systemctl enable podunit-guest-runner.service' \
  --customize-hook='chroot "$1" systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_reap.service' \
  "$suite" "$root" http://deb.debian.org/debian >&2
cp -L "$root/vmlinuz" "$tmp/vmlinuz" 2>/dev/null || cp "$(ls "$root"/boot/vmlinuz-* | tail -1)" "$tmp/vmlinuz"
cp -L "$root/initrd.img" "$tmp/initrd" 2>/dev/null || cp "$(ls "$root"/boot/initrd.img-* | tail -1)" "$tmp/initrd"
chmod 0644 "$tmp/vmlinuz" "$tmp/initrd"
mkfs.ext4 -q -L root -d "$root" "$tmp/base.raw" 4G
mkdir -p "$out"
mv "$tmp/base.raw" "$tmp/vmlinuz" "$tmp/initrd" "$out/"
echo "$out"
