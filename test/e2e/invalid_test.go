package e2e

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A broken manifest is refused with the field path, exit status 2, and leaves
// nothing behind, even when the broken pod comes after a good one in the file.
func TestInvalidManifestsLeaveNothing(t *testing.T) {
	good := fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: e2e-good}
spec:
  containers:
  - {name: main, image: %s, command: ["sleep", "100000"]}
---
`, testImage)
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown field", good + fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: e2e-bad}
spec:
  containers:
  - name: main
    image: %s
    lifecycle:
      preStp: {exec: {command: [true]}}
`, testImage), "spec.containers[0].lifecycle"},
		{"typo in a container field", good + fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: e2e-bad}
spec:
  containers:
  - name: main
    image: %s
    comand: [sleep, "1"]
`, testImage), "spec.containers[0].comand: unknown field"},
		{"privileged host port", good + fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: e2e-bad}
spec:
  containers:
  - name: main
    image: %s
    ports: [{containerPort: 8080, hostPort: 80}]
`, testImage), "spec.containers[0].ports[0].hostPort: 80 is below the host's net.ipv4.ip_unprivileged_port_start"},
		{"bad name", good + fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: E2E_Bad}
spec:
  containers:
  - {name: main, image: %s}
`, testImage), "metadata.name"},
		{"missing image", good + `
apiVersion: v1
kind: Pod
metadata: {name: e2e-bad}
spec:
  containers:
  - {name: main, image: localhost/no-such-image:1, imagePullPolicy: Never}
`, "spec.containers[0].image"},
		{"image that cannot be pulled", good + `
apiVersion: v1
kind: Pod
metadata: {name: e2e-bad}
spec:
  containers:
  - {name: main, image: localhost/no-such-image:1}
`, "spec.containers[0].image"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "privileged host port" {
				start, _ := strconv.Atoi(strings.TrimSpace(must(t, "cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start")))
				if start <= 80 {
					t.Logf("this host lets rootless processes bind port 80 (ip_unprivileged_port_start %d): nothing to refuse", start)
					return
				}
			}
			path := writeManifest(t, c.yaml)
			r := run(t, podunit, "up", path)
			if r.code != 2 {
				t.Errorf("exit %d, want 2\nstderr: %s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, c.want) {
				t.Errorf("stderr lacks %q:\n%s", c.want, r.stderr)
			}
			assertGone(t, "e2e-good")
			assertGone(t, "e2e-bad")
		})
	}
}

// A container that cannot start (its host port is held by a program of the
// host) fails `up`, which then removes everything it had created, and leaves
// other pods alone.
func TestFailedStartRollsBack(t *testing.T) {
	first := fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: e2e-port-a}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: %s
    command: ["sleep", "100000"]
    ports: [{containerPort: 80, hostPort: 18282}]
`, testImage)
	up(t, first, "e2e-port-a")
	// A host port no pod holds but a program of the host does: only the
	// start can find out (two pods on one port are refused before, see
	// TestHostPortTaken).
	l, err := net.Listen("tcp", ":18283")
	if err != nil {
		t.Fatalf("holding the host port: %v", err)
	}
	defer l.Close()
	second := strings.ReplaceAll(strings.ReplaceAll(first, "e2e-port-a", "e2e-port-b"), "18282", "18283")
	path := writeManifest(t, second)
	r := run(t, podunit, "up", path)
	if r.code == 0 {
		run(t, podunit, "down", "e2e-port-b")
		t.Fatal("second pod on the same host port started")
	}
	if !strings.Contains(r.stderr, "podunit-e2e\\x2dport\\x2db") {
		t.Errorf("error does not name the failed unit:\n%s", r.stderr)
	}
	assertGone(t, "e2e-port-b")
	if st := status(t, "e2e-port-a"); st == nil || st.Phase != "Running" {
		t.Errorf("the first pod was disturbed: %+v", st)
	}
}

// runAsNonRoot is checked against the image's user before anything starts, as
// the kubelet does; with a non-root runAsUser the hardened pod runs.
func TestRunAsNonRootAndHardening(t *testing.T) {
	manifest := func(pod, user string) string {
		return fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: app
    image: %s
    command: ["sleep", "100000"]
    securityContext:%s
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities: {drop: [ALL]}
    resources:
      requests: {cpu: 100m, memory: 16Mi}
      limits: {cpu: 200m, memory: 64Mi}
`, pod, testImage, user)
	}
	path := writeManifest(t, manifest("e2e-root", ""))
	r := run(t, podunit, "up", path)
	if r.code != 2 || !strings.Contains(r.stderr, "spec.containers[0].securityContext.runAsNonRoot") || !strings.Contains(r.stderr, "will run as root") {
		t.Errorf("root image under runAsNonRoot: exit %d, %s", r.code, r.stderr)
	}
	assertGone(t, "e2e-root")

	const pod = "e2e-hardened"
	up(t, manifest(pod, "\n      runAsUser: 1000"), pod)
	if got := strings.TrimSpace(must(t, "podman", "exec", ctrName(pod, "app"), "id", "-u")); got != "1000" {
		t.Errorf("uid %s", got)
	}
	if r := run(t, "podman", "exec", ctrName(pod, "app"), "touch", "/x"); r.code == 0 {
		t.Error("the root filesystem is writable")
	}
	unit := "podunit-e2e\\x2dhardened-app.service"
	if got := unitProp(t, unit, "MemoryMax"); got != "67108864" {
		t.Errorf("MemoryMax=%s", got)
	}
	if got := unitProp(t, unit, "MemoryLow"); got != "16777216" {
		t.Errorf("MemoryLow=%s", got)
	}
	if got := unitProp(t, unit, "CPUQuotaPerSecUSec"); got != "200ms" {
		t.Errorf("CPUQuotaPerSecUSec=%s", got)
	}
	// A pod with requests alone has its units as created: nothing set at run
	// time, so systemctl has no "changed on disk" warning for them.
	const reqPod = "e2e-requests"
	up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: %s
    command: [sleep, "3600"]
    resources: {requests: {cpu: 100m, memory: 16Mi}}
`, reqPod, testImage), reqPod)
	reqUnit := "podunit-e2e\\x2drequests-app.service"
	eventually(t, 30*time.Second, "the container running", func() bool { return unitProp(t, reqUnit, "ActiveState") == "active" })
	if w, l, n := unitProp(t, reqUnit, "CPUWeight"), unitProp(t, reqUnit, "MemoryLow"), unitProp(t, reqUnit, "NeedDaemonReload"); w != "4" || l != "16777216" || n != "no" {
		t.Errorf("requests alone: CPUWeight %s, MemoryLow %s, NeedDaemonReload %s; want 4, 16777216, no", w, l, n)
	}
}
