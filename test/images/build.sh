#!/usr/bin/env bash
# Builds the local images the examples and tests use, from Debian's busybox-static:
# no registry is needed. Runs as the world user (or as yourself on a host with a
# user session). Idempotent: an image that exists is kept unless --force.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
world="$here/../world/world.sh"
IMAGE=${PODUNIT_TEST_IMAGE:-localhost/podunit-test/busybox:1}

if [ "${1:-}" != "--force" ] && "$world" exec podman image exists "$IMAGE" 2>/dev/null; then
  exit 0
fi
busybox=$(command -v busybox || true)
[ -n "$busybox" ] && file -L "$busybox" 2>/dev/null | grep -q static || busybox=/bin/busybox
[ -x "$busybox" ] || { echo "images: busybox-static is not installed" >&2; exit 1; }

work=$(mktemp -d /tmp/podunit-image.XXXXXX)
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
mkdir -p "$root"/{bin,etc,tmp,proc,sys,dev,www,var/run}
chmod 1777 "$root/tmp"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'nobody:x:65534:65534:nobody:/:/bin/false' >>"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
echo '<h1>podunit</h1>' >"$root/www/index.html"
tar -C "$root" --owner=0 --group=0 -cf "$work/rootfs.tar" .
chmod 0755 "$work"; chmod 0644 "$work/rootfs.tar"
"$world" exec podman import --quiet \
  --change 'CMD ["/bin/sh"]' --change 'ENV PATH=/bin' \
  "$work/rootfs.tar" "$IMAGE" >/dev/null
echo "images: built $IMAGE"
