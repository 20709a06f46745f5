package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// TestResourceQuota: a namespace's ResourceQuota, stored by one up, limits
// the pods of later ones as the API server's admission does: a pod that
// does not say what the quota counts is refused (exit 2), one that would
// take the namespace over it too (exit 3, kubectl's words), nothing started
// either way; a pod applied again is not counted twice; get and describe
// show what is used.
func TestResourceQuota(t *testing.T) {
	quota := writeManifest(t, `
apiVersion: v1
kind: ResourceQuota
metadata: {name: rq, namespace: e2e-rq}
spec:
  hard: {pods: "2", requests.memory: 64Mi}
`)
	t.Cleanup(func() { run(t, podunit, "down", quota) })
	if r := run(t, podunit, "up", quota); r.code != 0 || !strings.Contains(r.stdout, "resourcequota/rq created") {
		t.Fatalf("up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	podOf := func(name, mem string) string {
		res := ""
		if mem != "" {
			res = ", resources: {requests: {memory: " + mem + "}}"
		}
		path := writeManifest(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s, namespace: e2e-rq}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{name: c, image: %s, command: [sleep, "3600"]%s}]
`, name, testImage, res))
		t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", path) })
		return path
	}
	a := podOf("rqa", "32Mi")
	if r := run(t, podunit, "up", a); r.code != 0 {
		t.Fatalf("up rqa: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := run(t, podunit, "up", podOf("rqnone", "")); r.code != 2 || !strings.Contains(r.stderr, `spec.containers[0].resources.requests[memory]: Required value: resourcequota "rq" limits requests.memory: each container must say it`) {
		t.Errorf("a pod without a memory request: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := run(t, podunit, "up", podOf("rqbig", "48Mi")); r.code != 3 ||
		!strings.Contains(r.stderr, "exceeded quota: rq (namespace e2e-rq), requested: requests.memory=48Mi, used: requests.memory=32Mi, limited: requests.memory=64Mi") {
		t.Errorf("a pod over the memory: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, name := range []string{"rqnone", "rqbig"} {
		if st := status(t, name); st != nil {
			t.Errorf("%s is there: %+v", name, st)
		}
	}
	if r := run(t, podunit, "up", podOf("rqb", "16Mi")); r.code != 0 {
		t.Fatalf("up rqb: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// applied again: the same pod, not one more
	if r := run(t, podunit, "up", a); r.code != 0 || !strings.Contains(r.stdout, "pod/rqa unchanged") {
		t.Errorf("up rqa again: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := run(t, podunit, "up", podOf("rqc", "8Mi")); r.code != 3 || !strings.Contains(r.stderr, "exceeded quota: rq (namespace e2e-rq), requested: pods=1, used: pods=2, limited: pods=2") {
		t.Errorf("a third pod: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if out := must(t, podunit, "get", "quota", "-n", "e2e-rq"); !regexp.MustCompile(`(?m)^rq\s+\S+\s+pods: 2/2, requests.memory: 48Mi/64Mi\s*$`).MatchString(out) {
		t.Errorf("get quota:\n%s", out)
	}
	if out := must(t, podunit, "get", "quota", "rq", "-n", "e2e-rq", "-o", "jsonpath={.status.used.pods} {.status.hard.requests\\.memory}"); out != "2 64Mi" {
		t.Errorf("get quota -o jsonpath: %q", out)
	}
	if out := must(t, podunit, "describe", "quota", "rq", "-n", "e2e-rq"); !regexp.MustCompile(`(?m)^requests\.memory\s+48Mi\s+64Mi$`).MatchString(out) {
		t.Errorf("describe quota:\n%s", out)
	}
}
