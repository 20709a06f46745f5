package e2e

import (
	"strings"
	"testing"
)

// TestLimitRange: a namespace's LimitRange, stored by one up, gives the
// containers of pods made later its defaults (a Deployment's too) and the
// pod records it; a pod beyond its max is refused with the field, exit 2,
// nothing started; once it is deleted, new pods get nothing.
func TestLimitRange(t *testing.T) {
	// a pod that runs before the LimitRange
	early := writeManifest(t, `
apiVersion: v1
kind: Pod
metadata: {name: lrearly, namespace: e2e-lr}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{name: c, image: `+testImage+`, command: [sleep, "3600"]}]
`)
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", early) })
	must(t, podunit, "up", early)
	ranges := writeManifest(t, `
apiVersion: v1
kind: Namespace
metadata: {name: e2e-lr}
---
apiVersion: v1
kind: LimitRange
metadata: {name: mem, namespace: e2e-lr}
spec:
  limits:
  - type: Container
    default: {memory: 64Mi}
    defaultRequest: {memory: 32Mi, cpu: 50m}
    max: {memory: 128Mi}
`)
	t.Cleanup(func() { run(t, podunit, "down", ranges) })
	if r := run(t, podunit, "up", ranges); r.code != 0 || !strings.Contains(r.stdout, "limitrange/mem created") {
		t.Fatalf("up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// the admission acts when a pod is made: one that runs is left as it is
	if r := run(t, podunit, "up", early); r.code != 0 || !strings.Contains(r.stdout, "pod/lrearly unchanged") {
		t.Errorf("up of the earlier pod again: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := must(t, podunit, "get", "pod", "lrearly", "-n", "e2e-lr", "-o", "jsonpath={.spec.containers[0].resources}"); got != "{}" && got != "" {
		t.Errorf("the earlier pod's resources: %s", got)
	}
	app := `
apiVersion: apps/v1
kind: Deployment
metadata: {name: lrweb, namespace: e2e-lr}
spec:
  replicas: 1
  selector: {matchLabels: {app: lrweb}}
  template:
    metadata: {labels: {app: lrweb}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: c, image: ` + testImage + `, command: [sleep, "3600"], resources: {requests: {cpu: 10m}}}
`
	path := writeManifest(t, app)
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", path) })
	must(t, podunit, "up", path)
	name := strings.TrimPrefix(strings.TrimSpace(must(t, podunit, "get", "pods", "-n", "e2e-lr", "-l", "app=lrweb", "-o", "name")), "pod/")
	got := must(t, podunit, "get", "pod", name, "-n", "e2e-lr", "-o", `jsonpath={.spec.containers[0].resources.requests.cpu} {.spec.containers[0].resources.requests.memory} {.spec.containers[0].resources.limits.memory} {.metadata.annotations.kubernetes\.io/limit-ranger}`)
	if want := "10m 32Mi 64Mi LimitRanger plugin set: memory request for container c; memory limit for container c"; got != want {
		t.Errorf("the Deployment's pod:\n%s\nwant:\n%s", got, want)
	}
	if r := run(t, podunit, "up", path); r.code != 0 || !strings.Contains(r.stdout, "pod/"+name+" unchanged") {
		t.Errorf("up again: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if out := must(t, podunit, "describe", "ns", "e2e-lr"); !strings.Contains(out, "Resource Limits") || !strings.Contains(out, "Container memory   -   128Mi 32Mi") {
		t.Errorf("describe ns:\n%s", out)
	}

	big := writeManifest(t, `
apiVersion: v1
kind: Pod
metadata: {name: lrbig, namespace: e2e-lr}
spec:
  containers:
  - {name: c, image: `+testImage+`, command: [sleep, "3600"], resources: {limits: {memory: 1Gi}}}
`)
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", big) })
	if r := run(t, podunit, "up", big); r.code != 2 || !strings.Contains(r.stderr, `spec.containers[0].resources.limits[memory]: limitrange "mem": maximum memory usage per Container is 128Mi, but limit is 1Gi`) {
		t.Errorf("up beyond the max: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if st := status(t, "lrbig"); st != nil {
		t.Errorf("a refused pod is there: %+v", st)
	}

	// deleted: the next pod gets no defaults
	if out := must(t, podunit, "down", "limitrange/mem", "-n", "e2e-lr"); !strings.Contains(out, "limitrange/mem deleted") {
		t.Errorf("down limitrange/mem: %s", out)
	}
	r := run(t, podunit, "up", big)
	if r.code != 0 {
		t.Fatalf("up without the LimitRange: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := must(t, podunit, "get", "pod", "lrbig", "-n", "e2e-lr", "-o", `jsonpath={.spec.containers[0].resources.requests.memory}|{.metadata.annotations}`); got != "|" {
		t.Errorf("a pod after the LimitRange went: %q", got)
	}
}
