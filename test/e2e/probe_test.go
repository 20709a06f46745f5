package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A failing liveness probe kills the container (its preStop hears "Health") and
// systemd restarts it; describe shows why.
func TestLivenessProbeRestarts(t *testing.T) {
	const pod = "e2e-liveness"
	dir := sharedDir(t)
	up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: %s
    command: ["sh", "-c", "touch /tmp/healthy; sleep 4; rm /tmp/healthy; trap 'exit 0' TERM; sleep 100000 & wait"]
    livenessProbe:
      exec: {command: ["cat", "/tmp/healthy"]}
      periodSeconds: 1
      failureThreshold: 2
    lifecycle:
      preStop:
        exec: {command: ["sh", "-c", "echo $PODUNIT_STOP_REASON >> /work/reasons"]}
    volumeMounts: [{name: work, mountPath: /work}]
  volumes:
  - name: work
    hostPath: {path: %s}
`, pod, testImage, dir), pod)
	unit := "podunit-e2e\\x2dliveness-app.service"
	eventually(t, 45*time.Second, "a restart after the liveness probe failed", func() bool {
		n := unitProp(t, unit, "NRestarts")
		return n != "0" && n != ""
	})
	d := describe(t, pod)
	for _, want := range []string{"Liveness probe failed", "failed liveness probe, will be restarted"} {
		if !strings.Contains(d, want) {
			t.Errorf("describe lacks %q:\n%s", want, d)
		}
	}
	if got := readLines(t, filepath.Join(dir, "reasons")); len(got) == 0 || got[0] != "Health" {
		t.Errorf("preStop reasons: %v, want Health", got)
	}
}

// Readiness starts failed and flips once the probe succeeds; ps counts only
// ready containers.
func TestReadinessProbe(t *testing.T) {
	const pod = "e2e-readiness"
	up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: %s
    command: ["sh", "-c", "mkdir -p /srv; (sleep 5; echo ok > /srv/ready) & trap 'exit 0' TERM; httpd -f -p 8080 -h /srv & wait"]
    readinessProbe:
      httpGet: {path: /ready, port: 8080}
      periodSeconds: 1
  - name: plain
    image: %s
    command: ["sleep", "100000"]
`, pod, testImage, testImage), pod)
	st := status(t, pod)
	if st == nil || st.Ready != 1 || st.Total != 2 {
		t.Errorf("right after up: %+v, want 1/2 ready", st)
	}
	eventually(t, 30*time.Second, "the web container to be ready", func() bool {
		st := status(t, pod)
		return st != nil && st.Ready == 2
	})
	if d := describe(t, pod); !strings.Contains(d, "Readiness probe failed") {
		t.Errorf("describe lacks the failed readiness probes:\n%s", d)
	}
}
