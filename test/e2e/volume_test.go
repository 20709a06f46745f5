package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestPersistentVolume: Kubernetes' tutorial of a hostPath PersistentVolume
// and a claim of its class: the claim binds to it, the pod reads and writes
// the host directory (a subPath part made in it), get pvc and get pv say
// so; applied again nothing changes; the volume cannot go before its claim;
// down --volumes takes both and leaves the data (Retain).
func TestPersistentVolume(t *testing.T) {
	const pod = "e2e-pv"
	dir := sharedDir(t)
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	manifest := fmt.Sprintf(`
apiVersion: v1
kind: PersistentVolume
metadata: {name: e2e-pv-volume, labels: {type: local}}
spec:
  storageClassName: manual
  capacity: {storage: 10Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: %s, type: Directory}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: e2e-pv-other}
spec:
  storageClassName: other
  capacity: {storage: 10Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: %s/other, type: DirectoryOrCreate}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: e2e-pv-claim}
spec:
  storageClassName: manual
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 3Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: storage, persistentVolumeClaim: {claimName: e2e-pv-claim}}]
  containers:
  - name: c
    image: %s
    command: ["sh", "-c", "echo from the pod > /data/logs/out; exec sleep 100000"]
    volumeMounts:
    - {name: storage, mountPath: /data}
    - {name: storage, mountPath: /data/logs, subPath: logs}
`, dir, dir, pod, testImage)
	path := up(t, manifest, pod)
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", path) })
	if got := must(t, "podman", "exec", ctrName(pod, "c"), "cat", "/data/index.html"); got != "from the host\n" {
		t.Errorf("the pod reads %q from the volume's directory", got)
	}
	eventually(t, 15*time.Second, "the pod's file in the host directory's part", func() bool {
		data, err := os.ReadFile(filepath.Join(dir, "logs", "out"))
		return err == nil && string(data) == "from the pod\n"
	})
	if out := must(t, podunit, "get", "pvc"); !regexp.MustCompile(`(?m)^e2e-pv-claim\s+Bound\s+e2e-pv-volume\s+10Gi\s+RWO\s+manual\s+` + pod + `\s`).MatchString(out) {
		t.Errorf("get pvc:\n%s", out)
	}
	out := must(t, podunit, "get", "pv")
	if !regexp.MustCompile(`(?m)^e2e-pv-volume\s+10Gi\s+RWO\s+Retain\s+Bound\s+default/e2e-pv-claim\s+manual\s+`+regexp.QuoteMeta(dir)+`\s`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^e2e-pv-other\s+10Gi\s+RWO\s+Retain\s+Available\s+other\s`).MatchString(out) {
		t.Errorf("get pv:\n%s", out)
	}
	if v := run(t, "podman", "volume", "ls", "-q", "--filter", "label=io.podunit.claim=default/e2e-pv-claim").stdout; strings.TrimSpace(v) != "" {
		t.Errorf("a podman volume for a claim bound to a PersistentVolume: %s", v)
	}
	// applied again: nothing changes, the claim keeps its volume
	if out := must(t, podunit, "up", path); !strings.Contains(out, "persistentvolumeclaim/e2e-pv-claim unchanged") || !strings.Contains(out, "persistentvolume/e2e-pv-volume unchanged") || !strings.Contains(out, "pod/"+pod+" unchanged") {
		t.Errorf("applied again:\n%s", out)
	}
	// the volume does not go before its claim
	if r := run(t, podunit, "down", "pv/e2e-pv-volume"); r.code != 2 || !strings.Contains(r.stderr, "persistentvolume e2e-pv-volume is bound to claim default/e2e-pv-claim") {
		t.Errorf("down of a bound volume: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// down --volumes: the claim and the volumes go, the data stays
	out = must(t, podunit, "down", "--grace-period", "0", "--volumes", path)
	for _, want := range []string{"pod/" + pod + " removed", "persistentvolumeclaim/e2e-pv-claim deleted", "persistentvolume/e2e-pv-volume deleted",
		"persistentvolumeclaim/e2e-pv-claim: its data stays in persistentvolume e2e-pv-volume (Retain)"} {
		if !strings.Contains(out, want) {
			t.Errorf("down --volumes: no %q in:\n%s", want, out)
		}
	}
	if data, err := os.ReadFile(filepath.Join(dir, "logs", "out")); err != nil || string(data) != "from the pod\n" {
		t.Errorf("the data after down --volumes: %q, %v", data, err)
	}
	if r := run(t, podunit, "get", "pv", "e2e-pv-volume"); r.code == 0 {
		t.Errorf("the volume is still listed after down:\n%s", r.stdout)
	}
}
