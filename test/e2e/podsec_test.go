package e2e

import (
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podunit/podunit/units"
)

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

// fsGroup: the pod's volumes (a disk emptyDir, a tmpfs emptyDir, a
// configMap) have the group and setgid directories, so what the container
// writes gets it too; the container has the group. supplementalGroups join
// it; Strict leaves out the image's /etc/group (there is none to merge here,
// so the groups are exactly those asked for).
func TestFSGroup(t *testing.T) {
	path := up(t, `
apiVersion: v1
kind: ConfigMap
metadata: {name: fsg-cm}
data: {a.txt: hello}
---
apiVersion: v1
kind: Pod
metadata: {name: fsg}
spec:
  terminationGracePeriodSeconds: 1
  securityContext:
    runAsUser: 1000
    runAsGroup: 3000
    fsGroup: 2000
    supplementalGroups: [4000]
    supplementalGroupsPolicy: Strict
  containers:
  - name: c
    image: `+testImage+`
    command: [sleep, "3600"]
    volumeMounts:
    - {name: data, mountPath: /data}
    - {name: mem, mountPath: /mem}
    - {name: cm, mountPath: /cm}
  volumes:
  - {name: data, emptyDir: {}}
  - {name: mem, emptyDir: {medium: Memory, sizeLimit: 1Mi}}
  - {name: cm, configMap: {name: fsg-cm}}
`, "fsg")
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", path) })
	got := must(t, "podman", "exec", ctrName("fsg", "c"), "sh", "-c",
		`id -u; id -g; id -G; touch /data/new /mem/new; stat -c "%n %g %A" /data /mem /cm /cm/a.txt /data/new /mem/new`)
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if len(lines) != 9 {
		t.Fatalf("inside the container:\n%s", got)
	}
	groups := strings.Fields(lines[2])
	slices.Sort(groups)
	if lines[0] != "1000" || lines[1] != "3000" || strings.Join(slices.Compact(groups), " ") != "2000 3000 4000" {
		t.Errorf("uid, gid, groups: %q %q %q, want 1000, 3000, 3000 2000 4000", lines[0], lines[1], lines[2])
	}
	for _, l := range lines[3:] {
		f := strings.Fields(l)
		if len(f) != 3 || f[1] != "2000" {
			t.Errorf("not of group 2000: %s", l)
			continue
		}
		dir := strings.HasPrefix(f[2], "d")
		if dir && f[2][6] != 's' {
			t.Errorf("a directory without the setgid bit (and group search): %s", l)
		}
		if !dir && f[2][4] != 'r' {
			t.Errorf("a file without group read: %s", l)
		}
	}
	if !strings.Contains(got, "/data 2000 drwxrwsr-x") {
		t.Errorf("the disk emptyDir is not group-writable with setgid:\n%s", got)
	}
	// sizeLimit is the tmpfs's size (podman 4.3 refused it as a quota).
	if df := strings.Fields(must(t, "podman", "exec", ctrName("fsg", "c"), "sh", "-c", "df -k /mem | tail -1")); len(df) < 2 || df[1] != "1024" {
		t.Errorf("the Memory emptyDir with sizeLimit 1Mi: df says %v, want 1024 kB", df)
	}
	events := must(t, podunit, "events", "fsg")
	if !strings.Contains(events, "Volumes given group 2000 (fsGroup)") {
		t.Errorf("no VolumeOwnership event:\n%s", events)
	}
	// A changed ConfigMap's new files get the group too, as the kubelet
	// gives it after each update of such a volume.
	must(t, podunit, "up", writeManifest(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fsg-cm}\ndata: {a.txt: again, b.txt: new}\n"))
	if got := must(t, "podman", "exec", ctrName("fsg", "c"), "sh", "-c", `cat /cm/a.txt /cm/b.txt; echo; stat -L -c "%n %g %A" /cm/a.txt /cm/b.txt`); got != "againnew\n/cm/a.txt 2000 -rw-r--r--\n/cm/b.txt 2000 -rw-r--r--\n" {
		t.Errorf("after the ConfigMap changed:\n%s", got)
	}
}

// hostPID and hostIPC: the containers see the host's processes and share
// its IPC namespace; a pod without them has its own.
func TestHostNamespaces(t *testing.T) {
	up(t, `
apiVersion: v1
kind: Pod
metadata: {name: hostns}
spec:
  terminationGracePeriodSeconds: 1
  hostPID: true
  hostIPC: true
  containers:
  - {name: c, image: `+testImage+`, command: [sleep, "3600"]}
---
apiVersion: v1
kind: Pod
metadata: {name: ownns}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: `+testImage+`, command: [sleep, "3600"]}
`, "hostns", "ownns")
	hostIPC := strings.TrimSpace(must(t, "readlink", "/proc/self/ns/ipc"))
	in := func(pod, cmd string) string {
		return strings.TrimSpace(must(t, "podman", "exec", ctrName(pod, "c"), "sh", "-c", cmd))
	}
	if got := in("hostns", "readlink /proc/self/ns/ipc"); got != hostIPC {
		t.Errorf("hostIPC: the container's IPC namespace is %s, the host's %s", got, hostIPC)
	}
	if got := in("ownns", "readlink /proc/self/ns/ipc"); got == hostIPC {
		t.Errorf("a pod without hostIPC shares the host's IPC namespace %s", got)
	}
	// the test's own shell is a host process the host-PID container sees
	if got := in("hostns", "ls /proc | grep -c '^[0-9]'"); atoi(t, got) < 5 {
		t.Errorf("hostPID: the container sees %s processes", got)
	}
	if got := in("ownns", "cat /proc/1/comm"); got != "sleep" && got != "catatonit" {
		t.Errorf("a pod without hostPID: PID 1 is %q", got)
	}
	if got := in("hostns", "cat /proc/1/comm"); got == "sleep" || got == "catatonit" {
		t.Errorf("hostPID: PID 1 is the pod's own %q", got)
	}
}

// hostUsers: false gives the pod a user namespace of its own: its uid map
// differs from another pod's, and procMount Unmasked is allowed there.
func TestHostUsersFalse(t *testing.T) {
	up(t, `
apiVersion: v1
kind: Pod
metadata: {name: userns, annotations: {kubernetes.io/egress-bandwidth: 10M}}
spec:
  terminationGracePeriodSeconds: 1
  hostUsers: false
  containers:
  - name: c
    image: `+testImage+`
    command: [sleep, "3600"]
    securityContext: {procMount: Unmasked}
  - name: d
    image: `+testImage+`
    command: [sleep, "3600"]
    readinessProbe: {exec: {command: ["true"]}, periodSeconds: 1}
---
apiVersion: v1
kind: Pod
metadata: {name: plainns}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: `+testImage+`, command: [sleep, "3600"]}
`, "userns", "plainns")
	// the helpers reach into the pod's namespaces: probes, shaping
	must(t, podunit, "wait", "userns", "--for=condition=Ready", "--timeout", "60s")
	if d := describe(t, "userns"); !regexp.MustCompile(`(?m)^Bandwidth:\s+egress 10Mbit`).MatchString(d) {
		t.Errorf("hostUsers: false: not shaped:\n%s", d)
	}
	uidMap := func(pod, c string) string {
		return strings.Join(strings.Fields(must(t, "podman", "exec", ctrName(pod, c), "cat", "/proc/self/uid_map")), " ")
	}
	own, other, plain := uidMap("userns", "c"), uidMap("userns", "d"), uidMap("plainns", "c")
	if own == plain {
		t.Errorf("hostUsers: false: the uid map %q is the same as another pod's", own)
	}
	if own != other {
		t.Errorf("the containers of one pod have different user namespaces: %q and %q", own, other)
	}
	if strings.HasPrefix(own, "0 0 ") {
		t.Errorf("hostUsers: false: root of the pod is the user's own id: %q", own)
	}
	masked := func(c string) bool {
		out := must(t, "podman", "exec", ctrName("userns", c), "cat", "/proc/self/mounts")
		return strings.Contains(out, " /proc/kcore ") || strings.Contains(out, " /proc/keys ")
	}
	if masked("c") {
		t.Error("procMount: Unmasked: /proc is still masked")
	}
	if !masked("d") {
		t.Error("procMount Default: /proc is not masked")
	}
	r := run(t, podunit, "up", writeManifest(t, `
apiVersion: v1
kind: Pod
metadata: {name: userns-bad}
spec:
  hostUsers: false
  hostNetwork: true
  containers: [{name: c, image: `+testImage+`, securityContext: {procMount: Unmasked}}]
`))
	if r.code != 2 || !strings.Contains(r.stderr, "spec.hostNetwork: may not be true when `hostUsers` is false") {
		t.Errorf("hostUsers: false with hostNetwork: exit %d\n%s", r.code, r.stderr)
	}
	assertGone(t, "userns-bad")
}

// A seccomp profile of the user's (~/.config/podunit/seccomp) is applied;
// a missing one is bad input, named by its field, nothing created.
func TestSeccompLocalhost(t *testing.T) {
	must(t, "sh", "-c", `mkdir -p "$HOME/.config/podunit/seccomp/test" && cat > "$HOME/.config/podunit/seccomp/test/no-mkdir.json" <<'EOF'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
EOF`)
	t.Cleanup(func() { run(t, "sh", "-c", `rm -rf "$HOME/.config/podunit/seccomp/test"`) })
	up(t, `
apiVersion: v1
kind: Pod
metadata: {name: seccomp}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: `+testImage+`
    command: [sleep, "3600"]
    securityContext:
      seccompProfile: {type: Localhost, localhostProfile: test/no-mkdir.json}
  - {name: d, image: `+testImage+`, command: [sleep, "3600"]}
`, "seccomp")
	r := run(t, "podman", "exec", ctrName("seccomp", "c"), "mkdir", "/tmp/x")
	if r.code == 0 || !strings.Contains(r.stderr, "Operation not permitted") {
		t.Errorf("mkdir under a profile that denies it: exit %d %s", r.code, r.stderr)
	}
	must(t, "podman", "exec", ctrName("seccomp", "d"), "mkdir", "/tmp/x")
	r = run(t, podunit, "up", writeManifest(t, `
apiVersion: v1
kind: Pod
metadata: {name: seccomp-missing}
spec:
  securityContext:
    seccompProfile: {type: Localhost, localhostProfile: test/none.json}
  containers: [{name: c, image: `+testImage+`}]
`))
	if r.code != 2 || !strings.Contains(r.stderr, `spec.securityContext.seccompProfile.localhostProfile: "test/none.json": no profile`) {
		t.Errorf("a missing profile: exit %d\n%s", r.code, r.stderr)
	}
	assertGone(t, "seccomp-missing")
}

// restartPolicyRules: a container with restartPolicy Never is restarted on
// the exit codes its rules name, and on no other.
func TestRestartPolicyRules(t *testing.T) {
	up(t, `
apiVersion: v1
kind: Pod
metadata: {name: rules}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: `+testImage+`
    restartPolicy: Never
    restartPolicyRules:
    - {action: Restart, exitCodes: {operator: In, values: [42]}}
    command: [sh, -c, 'n=$(cat /d/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /d/n; if [ $n -lt 2 ]; then exit 42; fi; exit 7']
    volumeMounts: [{name: d, mountPath: /d}]
  - {name: keep, image: `+testImage+`, command: [sleep, "3600"]}
  volumes: [{name: d, emptyDir: {}}]
`, "rules")
	eventually(t, 60*time.Second, "the container to exit 7 after one restart", func() bool {
		s := status(t, "rules")
		for _, c := range s.Containers {
			if c.Name == "c" && c.ExitCode != nil && *c.ExitCode == 7 {
				return true
			}
		}
		return false
	})
	time.Sleep(3 * time.Second)
	unit := units.ContainerUnitName("rules", "c")
	if n := unitProp(t, unit, "NRestarts"); n != "1" {
		t.Errorf("restarts: %s, want 1 (on exit 42, not on exit 7)", n)
	}
	if st := unitProp(t, unit, "ActiveState"); st == "active" || st == "activating" {
		t.Errorf("after exit 7 the unit is %s", st)
	}
}

// Extended resources declared in the node file are counted across pods: a
// pod that asks for more than is left exits 2 and creates nothing.
func TestExtendedResources(t *testing.T) {
	nodeFile(t, `disk=ssd\nexample.com/dongle: 2\n`)
	manifest := func(name, n string) string {
		return `
apiVersion: v1
kind: Pod
metadata: {name: ` + name + `}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: ` + testImage + `
    command: [sleep, "3600"]
    resources: {limits: {example.com/dongle: "` + n + `"}}
`
	}
	up(t, manifest("dongle-a", "2"), "dongle-a")
	r := run(t, podunit, "up", writeManifest(t, manifest("dongle-b", "1")))
	if r.code != 2 || !strings.Contains(r.stderr, `pod "dongle-b": Insufficient example.com/dongle: asks for 1, 2 of 2 in use by other pods`) {
		t.Errorf("a pod beyond the capacity: exit %d\n%s", r.code, r.stderr)
	}
	assertGone(t, "dongle-b")
	r = run(t, podunit, "up", writeManifest(t, strings.ReplaceAll(manifest("dongle-c", "1"), "example.com/dongle", "other.io/thing")))
	if r.code != 2 || !strings.Contains(r.stderr, `pod "dongle-c": Insufficient other.io/thing: this host declares none`) {
		t.Errorf("an undeclared resource: exit %d\n%s", r.code, r.stderr)
	}
	assertGone(t, "dongle-c")
	must(t, podunit, "down", "--grace-period", "0", "dongle-a")
	up(t, manifest("dongle-b", "1"), "dongle-b")

	// cpu beyond what this host has: the scheduler's Insufficient cpu, as a
	// warning; the pod runs (its request still weighs, CPUWeight=)
	big := strings.ReplaceAll(manifest("cpu-hog", "1"), "limits: {example.com/dongle: \"1\"}", "requests: {cpu: \"1000\"}")
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", "cpu-hog") })
	r = run(t, podunit, "up", writeManifest(t, big))
	if r.code != 0 || !strings.Contains(r.stderr, `warning: pod "cpu-hog": Insufficient cpu: requests 1k, `) || !strings.Contains(r.stderr, "a cluster would keep it Pending") {
		t.Errorf("a pod asking for 1000 CPUs: exit %d\n%s", r.code, r.stderr)
	}
	if s := status(t, "cpu-hog"); s == nil {
		t.Error("the pod asking for 1000 CPUs did not start")
	}
}

// seLinuxOptions on a host without SELinux (this one) are ignored as the
// kubelet ignores them there, with a warning naming each field; the pod runs.
func TestSELinuxOptionsWithoutSELinux(t *testing.T) {
	if _, err := os.Stat("/sys/fs/selinux/enforce"); err == nil {
		t.Fatal("this host has SELinux: the test is about a host without it")
	}
	const name = "e2e-selinux"
	path := writeManifest(t, `
apiVersion: v1
kind: Pod
metadata: {name: `+name+`}
spec:
  terminationGracePeriodSeconds: 1
  securityContext: {seLinuxOptions: {level: "s0:c123,c456"}}
  containers:
  - name: c
    image: `+testImage+`
    command: [sleep, "3600"]
    securityContext: {seLinuxOptions: {type: spc_t}}
`)
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", name) })
	r := run(t, podunit, "up", path)
	if r.code != 0 {
		t.Fatalf("up: exit %d\n%s", r.code, r.stderr)
	}
	for _, f := range []string{"spec.securityContext.seLinuxOptions", "spec.containers[0].securityContext.seLinuxOptions"} {
		if !strings.Contains(r.stderr, `warning: pod "`+name+`": `+f+": ignored: SELinux is not enabled on this host") {
			t.Errorf("no warning for %s:\n%s", f, r.stderr)
		}
	}
	if got := strings.TrimSpace(must(t, "podman", "inspect", "-f", "{{.State.Running}}", ctrName(name, "c"))); got != "true" {
		t.Errorf("the container is not running: %s", got)
	}
}
