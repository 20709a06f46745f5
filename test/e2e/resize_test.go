package e2e

import (
	"regexp"
	"strings"
	"testing"
)

// Pod-level resources go on the pod's slice; podunit resize changes a
// running container's limits through systemd without a restart (its
// process stays) where resizePolicy says NotRequired, restarts it where it
// says RestartContainer, and changes the slice's for the pod's own.
// describe shows the new values. (Enforcement in the kernel's cgroup files
// is checked in the VM test: the world has no cpu or memory controller.)
func TestResize(t *testing.T) {
	path := writeManifest(t, `
apiVersion: v1
kind: Pod
metadata: {name: rsz}
spec:
  terminationGracePeriodSeconds: 1
  resources:
    limits: {cpu: "2", memory: 512Mi}
  containers:
  - name: c
    image: `+testImage+`
    command: [sleep, "3600"]
    resizePolicy:
    - {resourceName: cpu, restartPolicy: NotRequired}
    - {resourceName: memory, restartPolicy: RestartContainer}
    resources:
      requests: {cpu: 100m, memory: 64Mi}
      limits: {cpu: 500m, memory: 128Mi}
  - {name: d, image: `+testImage+`, command: [sleep, "3600"]}
`)
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", "rsz") })
	r := run(t, podunit, "up", path)
	if r.code != 0 {
		t.Fatalf("up: exit %d\n%s", r.code, r.stderr)
	}
	// limits the user manager cannot enforce are told of, one warning a
	// controller, naming the first field that sets one
	cg := strings.TrimSpace(must(t, "systemctl", "--user", "show", "--value", "-p", "ControlGroup"))
	ctls := strings.Fields(run(t, "cat", "/sys/fs/cgroup/"+strings.TrimPrefix(cg, "/")+"/cgroup.controllers").stdout)
	for ctl, field := range map[string]string{"cpu": `pod "rsz": spec.resources.limits.cpu (and 1 more): not enforced`, "memory": `pod "rsz": spec.resources.limits.memory (and 1 more): not enforced`} {
		delegated := false
		for _, c := range ctls {
			delegated = delegated || c == ctl
		}
		if warned := strings.Contains(r.stderr, field); warned == delegated {
			t.Errorf("the %s controller is delegated: %v, and up warns about it: %v\n%s", ctl, delegated, warned, r.stderr)
		}
	}
	slice, unit := "podunit-rsz.slice", "podunit-rsz-c.service"
	if q, m := unitProp(t, slice, "CPUQuotaPerSecUSec"), unitProp(t, slice, "MemoryMax"); q != "2s" || m != "536870912" {
		t.Errorf("the pod's slice: CPUQuota %s, MemoryMax %s; want 2s and 536870912", q, m)
	}
	pid := func() string {
		return strings.TrimSpace(must(t, "podman", "inspect", "--format", "{{.State.Pid}}", ctrName("rsz", "c")))
	}
	pid0, main0 := pid(), unitProp(t, unit, "MainPID")

	out := must(t, podunit, "resize", "rsz", "-c", "c", "--cpu", "250m")
	if !strings.Contains(out, "without a restart") {
		t.Errorf("resize --cpu: %s", out)
	}
	if q := unitProp(t, unit, "CPUQuotaPerSecUSec"); q != "250ms" {
		t.Errorf("CPUQuota after resize: %s, want 250ms", q)
	}
	if p, m := pid(), unitProp(t, unit, "MainPID"); p != pid0 || m != main0 {
		t.Errorf("a NotRequired resize restarted the container: pid %s -> %s, main %s -> %s", pid0, p, main0, m)
	}
	if d := describe(t, "rsz"); !regexp.MustCompile(`(?m)^      cpu:\s+250m$`).MatchString(d) || !strings.Contains(d, "Resized") {
		t.Errorf("describe after resize:\n%s", d)
	}

	out = must(t, podunit, "resize", "rsz", "-c", "c", "--memory", "96Mi")
	if !strings.Contains(out, "restarted (resizePolicy RestartContainer)") {
		t.Errorf("resize --memory: %s", out)
	}
	eventually(t, 30e9, "the container to run again", func() bool {
		return unitProp(t, unit, "ActiveState") == "active" && unitProp(t, unit, "MemoryMax") == "100663296"
	})
	if p := pid(); p == pid0 {
		t.Errorf("a RestartContainer resize kept the process %s", p)
	}
	if q := unitProp(t, unit, "CPUQuotaPerSecUSec"); q != "250ms" {
		t.Errorf("CPUQuota after the restart: %s, want 250ms (the resized value)", q)
	}
	// the requests stay on through the restart
	if w, l := unitProp(t, unit, "CPUWeight"), unitProp(t, unit, "MemoryLow"); w != "4" || l == "0" {
		t.Errorf("after the restart: CPUWeight %s (want 4, from 100m), MemoryLow %s (want the request)", w, l)
	}

	must(t, podunit, "resize", "rsz", "--cpu", "1500m", "--memory", "384Mi")
	if q, m := unitProp(t, slice, "CPUQuotaPerSecUSec"), unitProp(t, slice, "MemoryMax"); q != "1.500000s" || m != "402653184" {
		t.Errorf("the pod's slice after resize: CPUQuota %s, MemoryMax %s", q, m)
	}

	// Bad values: field paths, exit 2, nothing changed.
	for args, want := range map[string]string{
		"--cpu 2":               "spec.containers[0].resources.limits[cpu]: invalid value \"2\": must be less than or equal to pod limits of 1500m",
		"--requests-memory 1Gi": "spec.containers[0].resources.requests[memory]: invalid value \"1Gi\": must be less than or equal to memory limit of 96Mi",
		"--memory lots":         "--memory \"lots\"",
		"-c nope --cpu 100m":    `no container "nope"`,
	} {
		r := run(t, append([]string{podunit, "resize", "rsz", "-c", "c"}, strings.Fields(args)...)...)
		if strings.HasPrefix(args, "-c nope") {
			r = run(t, append([]string{podunit, "resize", "rsz"}, strings.Fields(args)...)...)
		}
		if r.code == 0 || !strings.Contains(r.stderr, want) {
			t.Errorf("resize %s: exit %d\n%s", args, r.code, r.stderr)
		}
	}
	if q := unitProp(t, unit, "CPUQuotaPerSecUSec"); q != "250ms" {
		t.Errorf("CPUQuota after refused resizes: %s, want 250ms", q)
	}
}
