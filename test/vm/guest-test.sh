#!/bin/bash
# Runs inside the test VM (Debian 12 or 13 booted with systemd, cgroup v2, all
# controllers), as root, from podunit-guest-runner.service. Writes one line per
# check to /mnt/share/results.txt ("PASS name" or "FAIL name: why") and a last
# line "DONE failed=N"; the host reads it after the VM powers off. It runs in
# two boots: the first ends with a persistent pod and a reboot (last line
# "REBOOT"; the host boots the VM again), the second checks that the pod came
# back by itself, then removes podunit.
set -u
share=/mnt/share
results=$share/results.txt
phase_file=/var/lib/podunit-vm-phase
phase=1
if [ -e "$phase_file" ]; then phase=2; else : >"$results"; fi
failed=0
say() { echo "podunit-vm: $*" >/dev/ttyS0 2>/dev/null || echo "podunit-vm: $*"; }
# A check's own one-line output (a measured figure) goes with its PASS.
pass() {
  local line="PASS $1"
  if [ -n "${2:-}" ] && [ "$(printf '%s\n' "$2" | wc -l)" = 1 ] && [ ${#2} -le 200 ]; then line="$line: $2"; fi
  echo "$line" >>"$results"; say "$line"
}
fail() { echo "FAIL $1: $(echo "$2" | tr '\n' ' ' | cut -c1-400)" >>"$results"; say "FAIL $1: $2"; failed=$((failed + 1)); }
check() {
  local name=$1; shift
  local out
  if out=$("$@" 2>&1); then pass "$name" "$out"; else fail "$name" "$out"; fi
}
finish() { echo "DONE failed=$failed" >>"$results"; sync; exit 0; }
trap finish EXIT

if [ "$phase" = 2 ]; then
  uid=$(id -u alice)
  as() {
    (cd /home/alice && timeout 300 runuser -u alice -- env HOME=/home/alice USER=alice XDG_RUNTIME_DIR=/run/user/$uid \
      DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$uid/bus PATH=/usr/bin:/bin "$@")
  }
  for _ in $(seq 1 120); do [ -S "/run/user/$uid/bus" ] && break; sleep 1; done
  # Nobody ran podunit since the boot: the lingering user's manager started
  # podunit@web.service, which started the pod from its stored copy.
  check persistent-pod-back-after-reboot bash -c 'for i in $(seq 1 240); do busybox wget -q -O - http://127.0.0.1:18080/ | grep -q "pod web" && exit 0; sleep 1; done; exit 1'
  check persistent-unit-ran bash -c "$(declare -f as); uid=$uid; as systemctl --user show -p Result --value podunit@web.service | grep -qx success"
  check persistent-in-ps bash -c "$(declare -f as); uid=$uid; as podunit ps | grep -Eq '^web .*Running.* yes\$'"
  check persistent-down as podunit down web
  check persistent-disabled bash -c "$(declare -f as); uid=$uid; ! as systemctl --user is-enabled podunit@web.service"
  check nothing-left-after-reboot bash -c "$(declare -f as); uid=$uid; ! as systemctl --user list-units --plain --no-legend 'podunit-*' | grep -q . && [ -z \"\$(as podman ps -aq)\" ]"
  check remove apt-get remove -y podunit
  check removed test ! -e /usr/bin/podunit
  check removed-prober test ! -e /usr/libexec/podunit/podunit-probe
  check removed-helper test ! -e /usr/libexec/podunit/podunit-helper
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
cp "$share/podunit.deb" /tmp/podunit.deb
check install apt-get install -y /tmp/podunit.deb
check binary-runs /usr/bin/podunit version
echo "INFO versions podman $(podman --version | awk '{print $3}'), systemd $(systemctl --version | awk 'NR==1{print $2}'), $(. /etc/os-release; echo "$PRETTY_NAME")" >>"$results"
check man-page test -f /usr/share/man/man1/podunit.1.gz
check completion test -f /usr/share/bash-completion/completions/podunit

# An ordinary user with lingering: their systemd --user starts at boot.
useradd -m -s /bin/bash alice
grep -q '^alice:' /etc/subuid || usermod --add-subuids 100000-165535 --add-subgids 100000-165535 alice
uid=$(id -u alice)
check linger loginctl enable-linger alice
for _ in $(seq 1 120); do [ -S "/run/user/$uid/bus" ] && break; sleep 1; done
as() {
  (cd /home/alice && timeout 300 runuser -u alice -- env HOME=/home/alice USER=alice XDG_RUNTIME_DIR=/run/user/$uid \
    DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$uid/bus PATH=/usr/bin:/bin "$@")
}
check user-manager bash -c "$(declare -f as); uid=$uid; as systemctl --user is-system-running --wait | grep -Eq 'running|degraded'"
check controllers-delegated grep -qw memory "/sys/fs/cgroup/user.slice/user-$uid.slice/user@$uid.service/cgroup.controllers"

# A local image from busybox-static: the VM has no network.
root=/tmp/rootfs
mkdir -p $root/bin $root/tmp $root/www $root/etc
cp /bin/busybox $root/bin/
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"; done
echo '<h1>podunit in a VM</h1>' >$root/www/index.html
tar -C $root -cf /tmp/rootfs.tar . && chmod 644 /tmp/rootfs.tar
check image as podman import --quiet --change 'CMD ["/bin/sh"]' /tmp/rootfs.tar localhost/podunit-test/busybox:1

# The packaged example.
cp /usr/share/doc/podunit/examples/web.yaml /tmp/web.yaml && chmod 644 /tmp/web.yaml
check up-example as podunit up /tmp/web.yaml
check units-active as systemctl --user is-active podunit-web.slice podunit-web.service podunit-web-server.service podunit-web-writer.service
check status-shows-pod bash -c "$(declare -f as); uid=$uid; as systemctl --user --no-pager status 'podunit-*' | grep -q 'podunit-web-server.service'"
check serves bash -c 'for i in $(seq 1 30); do busybox wget -q -O - http://127.0.0.1:18080/ | grep -q "pod web" && exit 0; sleep 1; done; exit 1'

# Limits: enforced here (cgroup v2 with the controllers delegated).
cat >/tmp/limits.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: limits}
spec:
  restartPolicy: Always
  terminationGracePeriodSeconds: 2
  containers:
  - name: hog
    image: localhost/podunit-test/busybox:1
    command: ["sh", "-c", "sleep 3; head -c 300m /dev/zero | tail"]
    resources:
      limits: {memory: 48Mi, cpu: 500m}
  - name: calm
    image: localhost/podunit-test/busybox:1
    command: ["sleep", "100000"]
    resources:
      limits: {cpu: 250m}
YAML
chmod 644 /tmp/limits.yaml
# (and up says nothing of limits it cannot enforce: here it can)
check up-limits bash -c "$(declare -f as); uid=$uid; out=\$(as podunit up /tmp/limits.yaml 2>&1) || { echo \"\$out\"; exit 1; }; echo \"\$out\"; ! echo \"\$out\" | grep -q 'not enforced'"
check cpuquota-visible bash -c "$(declare -f as); uid=$uid; as systemctl --user show -p CPUQuotaPerSecUSec --value podunit-limits-hog.service | grep -qx 500ms"
check memorymax-visible bash -c "$(declare -f as); uid=$uid; as systemctl --user show -p MemoryMax --value podunit-limits-hog.service | grep -qx 50331648"
check memory-max-in-cgroup bash -c "grep -qx 50331648 /sys/fs/cgroup/user.slice/user-$uid.slice/user@$uid.service/podunit.slice/podunit-limits.slice/podunit-limits-hog.service/memory.max"
check cpu-max-in-cgroup bash -c "grep -qx '50000 100000' /sys/fs/cgroup/user.slice/user-$uid.slice/user@$uid.service/podunit.slice/podunit-limits.slice/podunit-limits-hog.service/cpu.max"
check oom-killed-and-restarted bash -c "$(declare -f as); uid=$uid; for i in \$(seq 1 120); do
    n=\$(as systemctl --user show -p NRestarts --value podunit-limits-hog.service)
    [ \"\${n:-0}\" -ge 1 ] && exit 0; sleep 1; done; as systemctl --user status podunit-limits-hog.service --no-pager; exit 1"
# The kernel's word for it (the unit's cgroup, and its counters, are new after
# each restart).
check killed-by-cgroup-oom bash -c "journalctl -k --no-pager | grep -q 'Memory cgroup out of memory: Killed process .*(tail)'"
check calm-unaffected bash -c "$(declare -f as); uid=$uid; as systemctl --user show -p NRestarts --value podunit-limits-calm.service | grep -qx 0"
# top reads memory where the controller is delegated (here): a number, never
# <unknown>, for the pod and the calm container.
check top-memory bash -c "$(declare -f as); uid=$uid; out=\$(as podunit top pod limits --containers); echo \"\$out\"; echo \"\$out\" | grep -Eq '^limits +calm +[0-9]+m +[0-9]+Mi\$' && as podunit top pod limits | grep -Eq '^limits +[0-9]+m +[0-9]+Mi\$'"

# Pod-level resources on the pod's slice: the containers have no memory limit
# of their own; together they exceed the pod's, and the kernel's OOM kill is
# the slice's (oom_memcg), not a container's. Each alone fits: a keeps
# running, and a pod of b alone never restarts. Then an in-place resize: the
# container's cpu.max changes, its process stays.
cat >/tmp/podlim.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: podlim}
spec:
  terminationGracePeriodSeconds: 1
  resources:
    limits: {memory: 96Mi, cpu: 500m}
  containers:
  - name: a
    image: localhost/podunit-test/busybox:1
    command: ["sh", "-c", "dd if=/dev/zero bs=40M count=1 | sleep 100000"]
    resources:
      limits: {cpu: 400m}
  - name: b
    image: localhost/podunit-test/busybox:1
    command: ["sh", "-c", "sleep 8; dd if=/dev/zero bs=70M count=1 | sleep 100000"]
---
apiVersion: v1
kind: Pod
metadata: {name: podlim1}
spec:
  terminationGracePeriodSeconds: 1
  resources:
    limits: {memory: 96Mi}
  containers:
  - name: b
    image: localhost/podunit-test/busybox:1
    command: ["sh", "-c", "dd if=/dev/zero bs=70M count=1 | sleep 100000"]
YAML
chmod 644 /tmp/podlim.yaml
cg=/sys/fs/cgroup/user.slice/user-$uid.slice/user@$uid.service/podunit.slice
check up-pod-resources as podunit up /tmp/podlim.yaml
check pod-memory-max-in-cgroup bash -c "grep -qx 100663296 $cg/podunit-podlim.slice/memory.max"
check pod-cpu-max-in-cgroup bash -c "grep -qx '50000 100000' $cg/podunit-podlim.slice/cpu.max"
check pod-total-oom-killed bash -c "for i in \$(seq 1 120); do
    journalctl -k --no-pager | grep -q 'oom_memcg=/user.slice/user-$uid.slice/user@$uid.service/podunit.slice/podunit-podlim.slice,task_memcg=.*podunit-podlim-b.service' && exit 0; sleep 1; done
    journalctl -k --no-pager | grep -i oom | tail -5; exit 1"
check pod-total-one-alone-fits bash -c "$(declare -f as); uid=$uid; as systemctl --user show -p NRestarts --value podunit-podlim-a.service | grep -qx 0 &&
  as systemctl --user show -p NRestarts --value podunit-podlim1-b.service | grep -qx 0 &&
  as systemctl --user is-active podunit-podlim1-b.service"
pid_a=$(as podman inspect --format '{{.State.Pid}}' podunit_podlim_a 2>/dev/null)
check resize-in-place as podunit resize podlim -c a --cpu 200m
check resize-cpu-max-in-cgroup bash -c "grep -qx '20000 100000' $cg/podunit-podlim.slice/podunit-podlim-a.service/cpu.max"
check resize-same-process bash -c "$(declare -f as); uid=$uid; [ -n '$pid_a' ] && [ \"\$(as podman inspect --format '{{.State.Pid}}' podunit_podlim_a)\" = '$pid_a' ]"
check resize-pod-in-place as podunit resize podlim --memory 128Mi
check resize-pod-memory-max-in-cgroup bash -c "grep -qx 134217728 $cg/podunit-podlim.slice/memory.max"
check down-pod-resources as podunit down /tmp/podlim.yaml

check down as podunit down /tmp/web.yaml /tmp/limits.yaml
check nothing-left bash -c "$(declare -f as); uid=$uid; ! as systemctl --user list-units --plain --no-legend 'podunit-*' | grep -q . && [ -z \"\$(as podman ps -aq)\" ]"

# Lifecycle, as the kubelet runs it: an init container and a sidecar in order,
# postStart, an httpGet readiness probe, preStop with its stop reason, a
# TERM-ignoring container killed at the grace deadline, and a command that
# systemd's daemon-reload must not change.
life=/tmp/life
mkdir -p $life/www && chown -R alice: $life && chmod 755 $life
echo '<p>life</p>' >$life/www/index.html
cat >/tmp/life.yaml <<YAML
apiVersion: v1
kind: Pod
metadata: {name: life}
spec:
  terminationGracePeriodSeconds: 6
  initContainers:
  - name: init
    image: localhost/podunit-test/busybox:1
    command: ["sh", "-c", "echo init >> /life/order"]
    volumeMounts: [{name: life, mountPath: /life}]
  - name: side
    image: localhost/podunit-test/busybox:1
    restartPolicy: Always
    command: ["sh", "-c", "echo side >> /life/order; trap 'exit 0' TERM; sleep 100000 & wait"]
    volumeMounts: [{name: life, mountPath: /life}]
  containers:
  - name: app
    image: localhost/podunit-test/busybox:1
    command: ["sh", "-c", "echo app >> /life/order; trap 'exit 0' TERM; httpd -f -p 8090 -h /life/www & wait"]
    lifecycle:
      postStart: {exec: {command: ["sh", "-c", "echo poststart >> /life/hooks"]}}
      preStop: {exec: {command: ["sh", "-c", "echo prestop-\$PODUNIT_STOP_REASON >> /life/hooks"]}}
    readinessProbe: {httpGet: {path: /ready.html, port: 8090}, periodSeconds: 1}
    volumeMounts: [{name: life, mountPath: /life}]
  - name: stubborn
    image: localhost/podunit-test/busybox:1
    command: ["sh", "-c", "trap 'echo term >> /life/stubborn' TERM; while true; do sleep 1; done"]
    lifecycle:
      preStop: {exec: {command: ["sh", "-c", "cut -d' ' -f1 /proc/uptime > /life/stubborn-stop"]}}
    volumeMounts: [{name: life, mountPath: /life}]
  - name: quoted
    image: localhost/podunit-test/busybox:1
    command: ["sh", "-c", "X='a;b'; echo \"run \$X \\\\\$HOME 'q' \\\\\\\\ %s 100%\" >> /life/runs; exec sleep 100000"]
    volumeMounts: [{name: life, mountPath: /life}]
  volumes:
  - {name: life, hostPath: {path: $life, type: Directory}}
YAML
chmod 644 /tmp/life.yaml
cat >/tmp/life-expected <<'EXP'
run a;b $HOME 'q' \ %s 100%
EXP
ps_ready() { as podunit ps -o json | tr -d ' \n' | grep -o '"name":"life","namespace":"[a-z]*","phase":"[A-Za-z]*","ready":[0-9]*,"total":[0-9]*'; }
check up-lifecycle as podunit up /tmp/life.yaml
check init-sidecar-app-order bash -c "for i in \$(seq 1 60); do [ \"\$(tr '\n' ' ' < $life/order)\" = 'init side app ' ] && exit 0; sleep 1; done; cat $life/order; exit 1"
check poststart-ran bash -c "for i in \$(seq 1 30); do grep -qx poststart $life/hooks 2>/dev/null && exit 0; sleep 1; done; exit 1"
check readiness-gates bash -c "$(declare -f as ps_ready); uid=$uid; sleep 3; r=\$(ps_ready); echo \"\$r\"; echo \"\$r\" | grep -q '\"ready\":3,\"total\":4' || exit 1
  echo ready > $life/www/ready.html
  for i in \$(seq 1 30); do ps_ready | grep -q '\"ready\":4,\"total\":4' && exit 0; sleep 1; done; ps_ready; exit 1"
# The pod's prober is the small binary the package installs, not podunit.
check prober-binary bash -c "$(declare -f as); uid=$uid
  pid=\$(as systemctl --user show -p MainPID --value podunit-life.probes.service)
  readlink /proc/\$pid/exe; readlink /proc/\$pid/exe | grep -qx /usr/libexec/podunit/podunit-probe"
# The containers' units run the package's small helper, not podunit.
check helper-binary bash -c "$(declare -f as); uid=$uid
  as systemctl --user show -p ExecStart --value podunit-life-quoted.service | tee /dev/stderr | grep -q 'path=/usr/libexec/podunit/podunit-helper ; argv\[\]=/usr/libexec/podunit/podunit-helper internal run --pod life --container quoted'"
# The containers start through podunit's own podman service, not a podman
# process each: the unit's main process is conmon, in the unit's conmon group
# (podman's cgroupfs manager put the container inside the unit); the
# service runs.
check service-start bash -c "$(declare -f as); uid=$uid
  pid=\$(as systemctl --user show -p MainPID --value podunit-life-quoted.service)
  cat /proc/\$pid/comm /proc/\$pid/cgroup >&2
  grep -qx conmon /proc/\$pid/comm && grep -q '/podunit-life-quoted.service/conmon\$' /proc/\$pid/cgroup &&
  as systemctl --user is-active podunit.podman.service"
check daemon-reload-keeps-command bash -c "$(declare -f as); uid=$uid
  as systemctl --user daemon-reload && as systemctl --user daemon-reload
  before=\$(as systemctl --user show -p NRestarts --value podunit-life-quoted.service)
  as podman kill podunit_life_quoted >/dev/null
  for i in \$(seq 1 90); do [ \"\$(wc -l < $life/runs)\" -ge 2 ] && break; sleep 1; done
  [ \"\$(wc -l < $life/runs)\" = 2 ] || { cat $life/runs; exit 1; }
  [ \"\$(sed -n 1p $life/runs)\" = \"\$(sed -n 2p $life/runs)\" ] || { cat $life/runs; exit 1; }
  grep -qxF -f /tmp/life-expected $life/runs || { cat $life/runs; exit 1; }"
# The TERM-ignoring container: preStop, then TERM, then KILL at the grace
# deadline (6 s from the start of the stop), give or take 2 s.
check grace-kill bash -c "$(declare -f as); uid=$uid
  as systemctl --user stop podunit-life-stubborn.service
  t0=\$(tr -d . < $life/stubborn-stop)
  t1=\$(( \$(as systemctl --user show -p ExecMainExitTimestampMonotonic --value podunit-life-stubborn.service) / 10000 ))
  d=\$(( t1 - 10#\$t0 ))
  echo \"killed \$((d / 100)).\$((d % 100))s after the stop began (grace 6s); TERM seen: \$(cat $life/stubborn 2>/dev/null | tr '\n' ' ')\"
  [ \$d -ge 590 ] && [ \$d -le 800 ] && grep -qx term $life/stubborn"
check down-lifecycle as podunit down life
check prestop-reason grep -qx prestop-Delete $life/hooks

# Bandwidth shaping through a published port: 2 Mbit/s out of the pod.
mkdir -p /tmp/qos && head -c 1000000 /dev/urandom >/tmp/qos/big && chmod -R a+rX /tmp/qos
cat >/tmp/qos.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: qos
  annotations: {kubernetes.io/egress-bandwidth: 2M}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: server
    image: localhost/podunit-test/busybox:1
    command: ["httpd", "-f", "-p", "8080", "-h", "/srv"]
    ports: [{containerPort: 8080, hostPort: 18091}]
    volumeMounts: [{name: srv, mountPath: /srv}]
  volumes:
  - {name: srv, hostPath: {path: /tmp/qos}}
YAML
chmod 644 /tmp/qos.yaml
check up-qos as podunit up /tmp/qos.yaml
check egress-shaped bash -c 'for i in $(seq 1 30); do busybox wget -q -O /dev/null http://127.0.0.1:18091/big && break; sleep 1; done
  s=$EPOCHREALTIME; busybox wget -q -O /dev/null http://127.0.0.1:18091/big || exit 1; e=$EPOCHREALTIME
  us=$(( ${e/./} - ${s/./} )); rate=$(( 8000000 * 1000000 / us ))
  echo "$rate bit/s (want 2000000 within 10%)"; [ $rate -ge 1800000 ] && [ $rate -le 2200000 ]'
check down-qos as podunit down qos

# A NetworkPolicy, enforced with nftables in the server pod's network
# namespace (this distribution's kernel, its podman): the pod it admits gets
# through, another does not, and without the policy both do.
cat >/tmp/np.yaml <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: npsrv-in}
spec:
  podSelector: {matchLabels: {app: npsrv}}
  ingress: [{from: [{podSelector: {matchLabels: {role: ok}}}], ports: [{port: 8080}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: npsrv, labels: {app: npsrv}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: server, image: localhost/podunit-test/busybox:1, command: ["httpd", "-f", "-p", "8080", "-h", "/etc"]}
---
apiVersion: v1
kind: Pod
metadata: {name: npok, labels: {role: ok}}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{name: c, image: localhost/podunit-test/busybox:1, command: ["sleep", "3600"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: npno}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{name: c, image: localhost/podunit-test/busybox:1, command: ["sleep", "3600"]}]
YAML
chmod 644 /tmp/np.yaml
check up-netpol as podunit up /tmp/np.yaml
check netpol-admits bash -c "$(declare -f as); uid=$uid
  ip=\$(as podunit get pod npsrv -o jsonpath='{.status.podIP}')
  for i in \$(seq 1 30); do as podunit exec npok -- timeout 3 wget -q -O - http://\$ip:8080/hostname | grep -qx npsrv && exit 0; sleep 1; done; exit 1"
check netpol-refuses bash -c "$(declare -f as); uid=$uid
  ip=\$(as podunit get pod npsrv -o jsonpath='{.status.podIP}')
  ! as podunit exec npno -- timeout 3 wget -q -O - http://\$ip:8080/hostname"
check netpol-lifted bash -c "$(declare -f as); uid=$uid
  ip=\$(as podunit get pod npsrv -o jsonpath='{.status.podIP}')
  as podunit down networkpolicy/npsrv-in
  for i in \$(seq 1 30); do as podunit exec npno -- timeout 3 wget -q -O - http://\$ip:8080/hostname | grep -qx npsrv && exit 0; sleep 1; done; exit 1"
check down-netpol as podunit down /tmp/np.yaml

# A Service without a selector whose Endpoints are a process of this host,
# by an address of the host's (on an interface of its own: the VM has no
# network), reached from a pod through the Service's name: this
# distribution's rootless network (slirp4netns, pasta) carries the proxy's
# connection out to the host.
ip link add podunit-ep0 type dummy && ip addr add 192.0.2.50/32 dev podunit-ep0 && ip link set podunit-ep0 up
mkdir -p /tmp/epwww && echo host-endpoint >/tmp/epwww/index.html
busybox httpd -p 192.0.2.50:18431 -h /tmp/epwww
cat >/tmp/ep.yaml <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: ephost}
spec: {ports: [{name: web, port: 80}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: ephost}
subsets: [{addresses: [{ip: 192.0.2.50}], ports: [{name: web, port: 18431}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: epcli}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{name: c, image: localhost/podunit-test/busybox:1, command: ["sleep", "3600"]}]
YAML
chmod 644 /tmp/ep.yaml
check up-endpoints as podunit up /tmp/ep.yaml
check endpoints-host-reached bash -c "$(declare -f as); uid=$uid
  for i in \$(seq 1 30); do as podunit exec epcli -- timeout 3 wget -q -O - http://ephost/ | grep -qx host-endpoint && exit 0; sleep 1; done; exit 1"
check down-endpoints as podunit down /tmp/ep.yaml

# A persistent pod, then a reboot: the second boot checks it came back.
check persist-up as podunit up --persist /tmp/web.yaml
check persist-enabled bash -c "$(declare -f as); uid=$uid; as systemctl --user is-enabled podunit@web.service | grep -qx enabled"
echo 2 >"$phase_file"
trap - EXIT
echo "REBOOT" >>"$results"
sync
systemctl reboot
