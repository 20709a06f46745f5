#!/usr/bin/env bash
# make test-vm: boots each supported Debian (VM_SUITES, default "bookworm trixie":
# Debian 12 with podman 4.3 and systemd 252, Debian 13 with podman 5.4 and
# systemd 257) in qemu (TCG: KVM does not work on these machines) with systemd as
# PID 1 and cgroup v2, installs the freshly built .deb in it, and runs
# test/vm/guest-test.sh there as root: a user with lingering runs podunit, limits
# are checked for real (OOM kill, CPU quota), hooks, grace, init containers,
# probes, shaping and daemon-reload too, a persistent pod survives a reboot, then
# podunit is removed. Results come back over a 9p share; any FAIL (or no result)
# on any suite fails.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dist=${1:-dist}
deb=$(ls "$dist"/podunit_*.deb 2>/dev/null | tail -1)
[ -n "$deb" ] || { echo "vm: no .deb in $dist (make deb)" >&2; exit 1; }
cache=${PODUNIT_VM_CACHE:-/var/cache/podunit-vm}
suites=${VM_SUITES:-bookworm trixie}
for p in qemu-system-x86 mmdebstrap e2fsprogs qemu-utils; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="${missing:-} $p"
done
if [ -n "${missing:-}" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null; fi

# run_suite SUITE: prints the results; fails when any check failed (1), or
# when the VM gave no results at all (2: it died before the guest test
# finished, such as a guest kernel panic under TCG emulation).
run_suite() {
  local suite=$1 img work start results boot qrc took
  start=$(date +%s)
  img=$("$here/build-image.sh" "$cache" "$suite" | tail -1)
  echo "vm[$suite]: image ready after $(( $(date +%s) - start ))s" >&2
  work=$(mktemp -d /tmp/podunit-vm-$suite.XXXXXX)
  mkdir "$work/share"
  cp "$deb" "$work/share/podunit.deb"
  cp "$here/guest-test.sh" "$work/share/guest-test.sh"
  qemu-img create -q -f qcow2 -b "$img/base.raw" -F raw "$work/disk.qcow2"
  start=$(date +%s)
  results="$work/share/results.txt"
  # The guest test reboots once (its last line is then REBOOT): qemu exits at
  # the reboot (-no-reboot) and the same disk boots again.
  for boot in 1 2; do
    echo "vm[$suite]: boot $boot (TCG; a few minutes); console in $work/console.log" >&2
    set +e
    timeout "${PODUNIT_VM_TIMEOUT:-1500}" qemu-system-x86_64 -accel tcg -cpu max -m 3072 -smp 2 \
      -nographic -no-reboot -nic none \
      -kernel "$img/vmlinuz" -initrd "$img/initrd" \
      -append "root=/dev/vda rw console=ttyS0 systemd.unified_cgroup_hierarchy=1 systemd.show_status=false panic=-1" \
      -drive "file=$work/disk.qcow2,if=virtio,format=qcow2" \
      -virtfs "local,path=$work/share,mount_tag=share,security_model=none,id=share" \
      >>"$work/console.log" 2>&1 </dev/null
    qrc=$?
    set -e
    echo "vm[$suite]: qemu exited with $qrc after $(( $(date +%s) - start ))s" >&2
    [ -s "$results" ] && [ "$(tail -1 "$results")" = REBOOT ] || break
  done
  took=$(( $(date +%s) - start ))
  if [ ! -s "$results" ] || ! grep -q '^DONE' "$results"; then
    echo "vm[$suite]: no results; console tail:" >&2
    tail -40 "$work/console.log" >&2
    return 2
  fi
  sed "s/^/[$suite] /" "$results"
  if grep -q '^FAIL' "$results" || ! grep -q '^DONE failed=0$' "$results"; then
    echo "vm[$suite]: FAILED (${took}s); console: $work/console.log" >&2
    grep '^podunit-vm' "$work/console.log" | tail -20 >&2 || true
    return 1
  fi
  echo "vm[$suite]: all $(grep -c '^PASS' "$results") checks passed in ${took}s ($(grep -m1 '^INFO versions' "$results" | cut -d' ' -f3-))" >&2
  rm -rf "$work"
}

failed=""
for suite in $suites; do
  rc=0
  run_suite "$suite" || rc=$?
  if [ "$rc" = 2 ]; then
    # The emulated machine died, not a check: one more boot of a fresh disk.
    # A check that failed is never run again.
    echo "vm[$suite]: the VM died before its results (console tail above); trying once more" >&2
    rc=0
    run_suite "$suite" || rc=$?
  fi
  [ "$rc" = 0 ] || failed="$failed $suite"
done
[ -z "$failed" ] || { echo "vm: FAILED on:$failed" >&2; exit 1; }
echo "vm: passed on: $suites" >&2
