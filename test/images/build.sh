#!/usr/bin/env bash
# Builds the local images the examples and tests use, from Debian's busybox-static:
# no registry is needed. Runs as the world user (or as yourself on a host with a
# user session). Idempotent: an image that exists is kept unless --force.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
world="$here/../world/world.sh"
IMAGE=localhost/podunit-test/busybox:1
# An image whose only program is a small HTTP server (test/images/server): no
# shell and no HTTP client, for hooks and probes done from outside the container.
SERVER_IMAGE=localhost/podunit-test/server:3

if [ "${1:-}" != "--force" ] && "$world" exec podman image exists "$IMAGE" 2>/dev/null &&
  "$world" exec podman image exists "$SERVER_IMAGE" 2>/dev/null; then
  exit 0
fi
busybox=$(command -v busybox || true)
[ -n "$busybox" ] && file -L "$busybox" 2>/dev/null | grep -q static || busybox=/bin/busybox
[ -x "$busybox" ] || { echo "images: busybox-static is not installed" >&2; exit 1; }

work=$(mktemp -d /tmp/podunit-image.XXXXXX)
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
mkdir -p "$root"/{bin,etc,tmp,proc,sys,dev,www,var/run,usr/share,work}
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

srv="$work/server"
mkdir -p "$srv/tmp" "$srv/work"
chmod 1777 "$srv/tmp"
(cd "$here/../.." && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$srv/server" ./test/images/server)
tar -C "$srv" --owner=0 --group=0 -cf "$work/server.tar" .
chmod 0644 "$work/server.tar"
"$world" exec podman import --quiet --change 'ENTRYPOINT ["/server"]' \
  "$work/server.tar" "$SERVER_IMAGE" >/dev/null
echo "images: built $SERVER_IMAGE"
