package e2e

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A StatefulSet, as its controller runs it: pods named by ordinal, started
// in order (each once the one before is Ready), reachable by name under
// their headless Service, each with a claim of its own that outlives it;
// scaled down from the highest ordinal and up again onto the same data;
// a new template replaces them one at a time from the highest; a pod taken
// down comes back by its name; down of the set keeps the claims, down
// --volumes of the file removes them.
func TestStatefulSet(t *testing.T) {
	const set = "e2e-sts"
	manifest := func(version string) string {
		return fmt.Sprintf(`
apiVersion: v1
kind: Service
metadata: {name: %[1]s}
spec:
  clusterIP: None
  selector: {app: %[1]s}
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: %[1]s}
spec:
  serviceName: %[1]s
  replicas: 3
  selector: {matchLabels: {app: %[1]s}}
  template:
    metadata: {labels: {app: %[1]s}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: %[2]s
        command: ["sh", "-c", "echo $(POD_NAME) %[3]s >> /data/log; exec sleep 100000"]
        env:
        - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        volumeMounts: [{name: data, mountPath: /data}]
        readinessProbe:
          exec: {command: ["true"]}
          initialDelaySeconds: 2
          periodSeconds: 1
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce]}
`, set, testImage, version)
	}
	path := writeManifest(t, manifest("v1"))
	t.Cleanup(func() { run(t, podunit, "down", "--volumes", "--grace-period", "0", "--force", path) })
	out := must(t, podunit, "up", path)
	if !regexp.MustCompile(`(?s)pod/e2e-sts-0 started.*pod/e2e-sts-1 started.*pod/e2e-sts-2 started.*statefulset.apps/e2e-sts rolled out`).MatchString(out) {
		t.Errorf("up:\n%s", out)
	}
	// each started once the one before was Ready (2 s after its start)
	var starts []time.Time
	for i := 0; i < 3; i++ {
		s := must(t, podunit, "get", "pod", fmt.Sprintf("%s-%d", set, i), "-o", "jsonpath={.status.startTime}")
		ts, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatalf("startTime %q: %v", s, err)
		}
		starts = append(starts, ts)
	}
	if !starts[1].After(starts[0]) || !starts[2].After(starts[1]) {
		t.Errorf("start times %v: not one after the other's readiness", starts)
	}
	if out := must(t, podunit, "get", "sts"); !regexp.MustCompile(`(?m)^e2e-sts\s+3/3\s+\d+[smhd]\S*$`).MatchString(out) {
		t.Errorf("get sts:\n%s", out)
	}
	if out := must(t, podunit, "rollout", "status", "sts/"+set); !strings.HasPrefix(out, "statefulset rolling update complete 3 pods at revision e2e-sts-") {
		t.Errorf("rollout status:\n%s", out)
	}
	if d := must(t, podunit, "describe", "statefulset", set); !strings.Contains(d, "Replicas:           3 desired | 3 total") || !strings.Contains(d, "Pods Status:        3 Running") ||
		!regexp.MustCompile(`e2e-sts-2\s+current\s+true\s+Running`).MatchString(d) {
		t.Errorf("describe:\n%s", d)
	}
	// the stable network identity: e2e-sts-2.e2e-sts.default.svc.cluster.local
	ip := must(t, podunit, "get", "pod", set+"-2", "-o", "jsonpath={.status.podIP}")
	if r := run(t, podunit, "exec", set+"-0", "--", "nslookup", set+"-2."+set+".default.svc.cluster.local"); !strings.Contains(r.stdout, ip) {
		t.Errorf("the pod's name under its Service does not resolve to %s:\n%s%s", ip, r.stdout, r.stderr)
	}
	if h := must(t, podunit, "exec", "sts/"+set, "--", "hostname"); h != set+"-0\n" {
		t.Errorf("hostname %q", h)
	}

	// scaled down from the highest ordinal, the claims kept; up again onto
	// the same data
	out = must(t, podunit, "scale", "sts/"+set, "--replicas", "1")
	if !regexp.MustCompile(`(?s)pod/e2e-sts-2 removed.*pod/e2e-sts-1 removed`).MatchString(out) {
		t.Errorf("scale to 1:\n%s", out)
	}
	if out := must(t, podunit, "get", "pvc"); len(regexp.MustCompile(`(?m)^data-e2e-sts-\d\s+Bound`).FindAllString(out, -1)) != 3 {
		t.Errorf("claims after the scale-down:\n%s", out)
	}
	must(t, podunit, "scale", "statefulset", set, "--replicas", "3")
	if log := must(t, podunit, "exec", set+"-2", "--", "cat", "/data/log"); log != "e2e-sts-2 v1\ne2e-sts-2 v1\n" {
		t.Errorf("the claim's data after scaling down and up: %q", log)
	}

	// a new template: one at a time, the highest ordinal first
	if err := os.WriteFile(path, []byte(manifest("v2")), 0o644); err != nil {
		t.Fatal(err)
	}
	out = must(t, podunit, "up", path)
	if !regexp.MustCompile(`(?s)pod/e2e-sts-2 removed\npod/e2e-sts-2 started[^\n]*\npod/e2e-sts-1 removed\npod/e2e-sts-1 started[^\n]*\npod/e2e-sts-0 removed\npod/e2e-sts-0 started`).MatchString(out) {
		t.Errorf("the rolling update:\n%s", out)
	}
	if log := must(t, podunit, "exec", set+"-0", "--", "cat", "/data/log"); log != "e2e-sts-0 v1\ne2e-sts-0 v2\n" {
		t.Errorf("pod 0's data after the update: %q", log)
	}

	// a pod taken down comes back by its name
	out = must(t, podunit, "down", "pod/"+set+"-1")
	if !strings.Contains(out, "pod/e2e-sts-1 removed") || !strings.Contains(out, "pod/e2e-sts-1 started") {
		t.Errorf("down of a set's pod:\n%s", out)
	}

	// the set goes with its pods, the claims stay; --volumes takes them
	out = must(t, podunit, "down", "sts/"+set)
	if !strings.Contains(out, "statefulset.apps/e2e-sts deleted") || strings.Contains(out, "persistentvolumeclaim") {
		t.Errorf("down sts/:\n%s", out)
	}
	if out := must(t, podunit, "get", "pods", "-l", "app="+set, "-o", "name"); out != "" {
		t.Errorf("pods left: %s", out)
	}
	if v := must(t, "podman", "volume", "ls", "-q", "--filter", "label=io.podunit.claim=default/data-"+set+"-0"); strings.TrimSpace(v) == "" {
		t.Error("the claim's volume went with the set")
	}
	// (the set itself is gone already: as kubectl delete -f, that is told,
	// exit 3, and the rest goes)
	r := run(t, podunit, "down", "--volumes", path)
	if r.code != 3 || !strings.Contains(r.stderr, `statefulset "e2e-sts" not found`) || !strings.Contains(r.stdout, "volume/podunit.default.data-e2e-sts-2 removed") {
		t.Errorf("down --volumes: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if v := must(t, "podman", "volume", "ls", "-q", "--filter", "label=io.podunit.claim=default/data-"+set+"-0"); strings.TrimSpace(v) != "" {
		t.Errorf("claims left after down --volumes: %q", v)
	}
}
