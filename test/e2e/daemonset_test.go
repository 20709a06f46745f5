package e2e

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

func daemonSetManifest(version, strategy, nodeSelector string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: DaemonSet
metadata: {name: e2e-agent, labels: {app: e2e-agent}}
spec:
  selector: {matchLabels: {app: e2e-agent}}
  updateStrategy: %s
  template:
    metadata: {labels: {app: e2e-agent}}
    spec:
      terminationGracePeriodSeconds: 1
      nodeSelector: %s
      tolerations: [{operator: Exists}]
      containers:
      - name: agent
        image: %s
        command: ["sh", "-c", "echo %s; exec sleep 100000"]
`, strategy, nodeSelector, testImage, version)
}

// the DaemonSet's pods, by name
func daemonSetPodNames(t *testing.T) []string {
	t.Helper()
	out := strings.Fields(must(t, podunit, "get", "pods", "-l", "app=e2e-agent", "-o", "name"))
	for i, n := range out {
		out[i] = strings.TrimPrefix(n, "pod/")
	}
	return out
}

// TestDaemonSet: a DaemonSet runs one pod on this host, of its template;
// applied again it changes nothing; a new template replaces the pod as the
// update strategy says (the old one first; with maxSurge the new one first;
// OnDelete when the pod is taken down, and `down` of its pod brings the new
// template); a nodeSelector this host lacks leaves it no pod; down of the
// DaemonSet takes its pod.
func TestDaemonSet(t *testing.T) {
	const linux, windows = "{kubernetes.io/os: linux}", "{kubernetes.io/os: windows}"
	path := writeManifest(t, daemonSetManifest("v1", "{}", linux))
	write := func(yaml string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", "daemonset/e2e-agent") })
	out := must(t, podunit, "up", "--wait", path)
	pods := daemonSetPodNames(t)
	if len(pods) != 1 || !regexp.MustCompile(`^e2e-agent-[a-z0-9]{5}$`).MatchString(pods[0]) || !strings.Contains(out, "daemonset.apps/e2e-agent created") {
		t.Fatalf("pods %v after up:\n%s", pods, out)
	}
	v1 := pods[0]
	eventually(t, 20*time.Second, "get daemonsets to say 1 desired, current, ready, up to date and available", func() bool {
		return regexp.MustCompile(`(?m)^e2e-agent\s+1\s+1\s+1\s+1\s+1\s+kubernetes\.io/os=linux\s+\d+s$`).MatchString(must(t, podunit, "get", "ds"))
	})
	if out := must(t, podunit, "get", "pod", v1, "-o", "jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {.metadata.labels.controller-revision-hash}"); !regexp.MustCompile(`^DaemonSet/e2e-agent [a-z0-9]+$`).MatchString(out) {
		t.Errorf("the pod's owner and revision: %q", out)
	}
	if out := must(t, podunit, "get", "all", "-o", "name"); !strings.Contains(out, "daemonset.apps/e2e-agent\n") {
		t.Errorf("get all -o name:\n%s", out)
	}
	if out := must(t, podunit, "describe", "ds/e2e-agent"); !strings.Contains(out, "Desired Number of Nodes Scheduled: 1") || !regexp.MustCompile(`(?m)^\s+`+v1+`\s+current\s+true\s+Running$`).MatchString(out) {
		t.Errorf("describe ds:\n%s", out)
	}
	if out := must(t, podunit, "logs", "ds/e2e-agent"); out != "v1\n" {
		t.Errorf("logs ds/e2e-agent: %q", out)
	}
	// applied again: nothing starts or goes
	if out := must(t, podunit, "up", path); podLine.MatchString(out) || !strings.Contains(out, "daemonset.apps/e2e-agent unchanged") {
		t.Errorf("applying the same DaemonSet again:\n%s", out)
	}

	// a new template, RollingUpdate without surge: the old pod goes first
	write(daemonSetManifest("v2", "{}", linux))
	out = must(t, podunit, "up", path)
	lines := podLine.FindAllStringSubmatch(out, -1)
	if len(lines) != 2 || lines[0][1] != v1 || lines[0][2] != "removed" || lines[1][2] != "started" {
		t.Fatalf("a new template without surge: want %s removed, then a new pod started:\n%s", v1, out)
	}
	v2 := lines[1][1]
	if out := must(t, podunit, "rollout", "status", "ds/e2e-agent", "--timeout", "30s"); !strings.Contains(out, `daemon set "e2e-agent" successfully rolled out`) {
		t.Errorf("rollout status:\n%s", out)
	}
	eventually(t, 10*time.Second, "the new pod's log", func() bool { return run(t, podunit, "logs", v2).stdout == "v2\n" })

	// with maxSurge: the new pod first, the old one once it is available
	write(daemonSetManifest("v3", "{rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}", linux))
	out = must(t, podunit, "up", path)
	lines = podLine.FindAllStringSubmatch(out, -1)
	if len(lines) != 2 || lines[0][2] != "started" || lines[1][1] != v2 || lines[1][2] != "removed" || !strings.Contains(out, "daemonset.apps/e2e-agent rolled out") {
		t.Fatalf("a new template with maxSurge: want a new pod started, then %s removed:\n%s", v2, out)
	}
	v3 := lines[0][1]

	// OnDelete: the pod keeps its template until it is taken down; then
	// the DaemonSet makes its pod of the new one
	write(daemonSetManifest("v4", "{type: OnDelete}", linux))
	if out := must(t, podunit, "up", path); podLine.MatchString(out) || !strings.Contains(out, "pod/"+v3+" unchanged (its DaemonSet's update strategy") {
		t.Errorf("OnDelete:\n%s", out)
	}
	if out := must(t, podunit, "get", "ds", "e2e-agent"); !regexp.MustCompile(`(?m)^e2e-agent\s+1\s+1\s+1\s+0\s+1\s`).MatchString(out) {
		t.Errorf("OnDelete, before the pod is taken down: want 1 desired, current, ready, 0 up to date:\n%s", out)
	}
	out = must(t, podunit, "down", "--grace-period", "0", v3)
	lines = podLine.FindAllStringSubmatch(out, -1)
	if len(lines) != 2 || lines[0][1] != v3 || lines[1][2] != "started" {
		t.Fatalf("down of an OnDelete DaemonSet's pod: want it removed and a new one started:\n%s", out)
	}
	v4 := lines[1][1]
	eventually(t, 10*time.Second, "the new template's log", func() bool { return run(t, podunit, "logs", v4).stdout == "v4\n" })

	// a nodeSelector this host lacks: no pod, nothing desired, said
	write(daemonSetManifest("v4", "{type: OnDelete}", windows))
	r := run(t, podunit, "up", path)
	if r.code != 0 || !strings.Contains(r.stdout, "pod/"+v4+" removed") || !strings.Contains(r.stderr, `daemonset "e2e-agent": no pod on this host, which its template does not fit: spec.template.spec.nodeSelector[kubernetes.io/os]: wants "windows", this host has "linux"`) {
		t.Errorf("a DaemonSet this host does not fit: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if pods := daemonSetPodNames(t); len(pods) != 0 {
		t.Errorf("pods %v of a DaemonSet this host does not fit", pods)
	}
	if out := must(t, podunit, "get", "ds"); !regexp.MustCompile(`(?m)^e2e-agent\s+0\s+0\s+0\s+0\s+0\s+kubernetes\.io/os=windows\s`).MatchString(out) {
		t.Errorf("get ds of a DaemonSet this host does not fit:\n%s", out)
	}

	// back, then down of the DaemonSet takes its pod and the object
	write(daemonSetManifest("v4", "{type: OnDelete}", linux))
	must(t, podunit, "up", path)
	pods = daemonSetPodNames(t)
	if len(pods) != 1 {
		t.Fatalf("pods %v after the host fits again", pods)
	}
	out = must(t, podunit, "down", "--grace-period", "0", "ds/e2e-agent")
	if !strings.Contains(out, "pod/"+pods[0]+" removed") || !strings.Contains(out, "daemonset.apps/e2e-agent deleted") {
		t.Errorf("down ds/e2e-agent:\n%s", out)
	}
	if r := run(t, podunit, "get", "ds", "e2e-agent"); r.code == 0 || len(daemonSetPodNames(t)) != 0 {
		t.Errorf("after down: get ds exit %d\n%s", r.code, r.stdout)
	}
}

// As the DaemonSet controller adds and removes daemon pods when a node's
// labels change: `label node` that makes a stored DaemonSet's template fit
// this host starts its pod, and taking the label off removes it; a pod of
// no DaemonSet whose nodeSelector no longer fits runs on
// (IgnoredDuringExecution).
func TestDaemonSetFollowsNodeLabels(t *testing.T) {
	nodeFile(t, `# written by the test\n`)
	host := strings.TrimSpace(must(t, "hostname"))
	path := writeManifest(t, daemonSetManifest("v1", "{}", "{e2e-role: agent}"))
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", path) })
	if r := run(t, podunit, "up", path); r.code != 0 || !strings.Contains(r.stderr, "no pod on this host") {
		t.Fatalf("up of a DaemonSet that does not fit: exit %d\n%s", r.code, r.stderr)
	}
	if pods := daemonSetPodNames(t); len(pods) != 0 {
		t.Fatalf("pods of a DaemonSet that does not fit: %q", pods)
	}
	out := must(t, podunit, "label", "node", host, "e2e-role=agent")
	if !strings.HasPrefix(out, "node/"+host+" labeled\n") || !strings.Contains(out, "started") {
		t.Errorf("label node that makes the DaemonSet fit:\n%s", out)
	}
	pods := daemonSetPodNames(t)
	if len(pods) != 1 {
		t.Fatalf("the DaemonSet's pods once the host fits: %q", pods)
	}
	if st := status(t, pods[0]); st == nil || st.Phase != "Running" {
		t.Errorf("the DaemonSet's pod: %+v", st)
	}
	if got := must(t, podunit, "get", "ds", "e2e-agent", "-o", "jsonpath={.status.desiredNumberScheduled} {.status.currentNumberScheduled}"); got != "1 1" {
		t.Errorf("desired and current once the host fits: %q", got)
	}
	if out := must(t, podunit, "label", "node", host, "e2e-role-"); !strings.Contains(out, "pod/"+pods[0]+" removed") {
		t.Errorf("label node that makes the DaemonSet unfit:\n%s", out)
	}
	assertGone(t, pods[0])
	if got := must(t, podunit, "get", "ds", "e2e-agent", "-o", "jsonpath={.status.desiredNumberScheduled} {.status.currentNumberScheduled}"); got != "0 0" {
		t.Errorf("desired and current once the host does not fit: %q", got)
	}
	if got := must(t, "sh", "-c", `cat "$HOME/.config/podunit/node-labels"`); got != "# written by the test\n" {
		t.Errorf("the node file: %q", got)
	}
}
