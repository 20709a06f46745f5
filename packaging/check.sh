#!/usr/bin/env bash
# Checks the built packages: lintian on the .deb (no errors), rpm's view of the
# .rpm (metadata, files, requirements), and, as root on Debian, a real install
# and removal of the .deb.
set -euo pipefail
dist=${1:-dist}
deb=$(ls "$dist"/podunit_*.deb | tail -1)
rpm=$(ls "$dist"/podunit-*.rpm | tail -1)
fail() { echo "package-check: $*" >&2; exit 1; }

echo "== lintian $deb"
out=$(lintian --tag-display-limit 0 "$deb" 2>&1 | grep -v 'running with root privileges' || true)
echo "$out"
if echo "$out" | grep -q '^E: '; then fail "lintian reports errors"; fi

echo "== rpm -qpi / -qpl / -qpR $rpm"
info=$(rpm -qpi "$rpm"); files=$(rpm -qpl "$rpm"); reqs=$(rpm -qpR "$rpm")
echo "$info" | sed -n '1,4p;8p'
for want in "Name        : podunit" "License     : MIT" "Architecture: x86_64"; do
  grep -qF "$want" <<<"$info" || fail "rpm metadata lacks '$want'"
done
for want in /usr/bin/podunit /usr/libexec/podunit/podunit-probe /usr/libexec/podunit/podunit-helper /usr/share/man/man1/podunit.1.gz /usr/share/bash-completion/completions/podunit \
  /usr/share/zsh/site-functions/_podunit /usr/share/fish/vendor_completions.d/podunit.fish \
  /usr/share/licenses/podunit/LICENSE /usr/share/doc/podunit/examples/web.yaml; do
  grep -qxF "$want" <<<"$files" || fail "rpm lacks $want"
done
for want in "podman >= 4.3" systemd shadow-utils "(slirp4netns or passt)" catatonit; do
  grep -qxF "$want" <<<"$reqs" || fail "rpm does not require '$want'"
done
echo "rpm: $(wc -l <<<"$files") files, requires: $(tr '\n' ' ' <<<"$reqs")"

echo "== dpkg -I $deb"
control=$(dpkg-deb -f "$deb")
grep -q '^Depends:.*podman (>= 4.3).*dbus-user-session.*uidmap.*slirp4netns | passt' <<<"$control" ||
  fail "deb Depends: $(grep ^Depends <<<"$control")"

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "== install, use, remove"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "./$deb" >/dev/null
  /usr/bin/podunit version | grep -q '^podunit ' || fail "installed podunit does not run"
  test -x /usr/libexec/podunit/podunit-probe || fail "no prober binary"
  test -x /usr/libexec/podunit/podunit-helper || fail "no helper binary"
  man -w podunit >/dev/null 2>&1 || test -f /usr/share/man/man1/podunit.1.gz || fail "no man page"
  test -f /usr/share/bash-completion/completions/podunit || fail "no bash completion"
  dpkg -L podunit | grep -q /usr/share/doc/podunit/copyright || fail "no copyright file"
  DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq podunit >/dev/null
  ! test -e /usr/bin/podunit || fail "apt remove left /usr/bin/podunit"
  ! test -e /usr/libexec/podunit || fail "apt remove left /usr/libexec/podunit"
  echo "installed and removed cleanly"
fi
echo "package-check: ok"
