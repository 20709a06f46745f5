package e2e

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A pod started with --persist comes back when the user's manager starts
// again (a reboot with lingering, or the next login): from a stored copy of
// its manifest, with its ConfigMap and Secret, through a normal user unit
// that holds only the pod's name. disable, enable and down do what they say.
func TestPersistAcrossRelogin(t *testing.T) {
	if out, _ := exec.Command(world, "status").Output(); strings.TrimSpace(string(out)) != "up" {
		t.Skip("needs the test world: a host session's manager cannot be restarted by a test")
	}
	const pod = "e2e-persist"
	const secret = "persist-s3cret-value"
	pvDir := sharedDir(t) // a PersistentVolume's directory
	manifest := writeManifest(t, fmt.Sprintf(`
apiVersion: v1
kind: ConfigMap
metadata: {name: e2e-persist-cfg}
data: {GREETING: hello-again}
---
apiVersion: v1
kind: Secret
metadata: {name: e2e-persist-creds}
stringData: {token: %s}
---
apiVersion: v1
kind: Service
metadata: {name: e2e-persist-svc}
spec: {selector: {app: e2e-persist}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: e2e-persist-ing}
spec:
  rules: [{host: persist.example, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: e2e-persist-svc, port: {number: 80}}}}]}}]
---
apiVersion: v1
kind: Pod
metadata: {name: %s, labels: {app: e2e-persist}}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: web
    image: localhost/podunit-test/server:3
    ports: [{containerPort: 8080, hostPort: 18184}]
    envFrom: [{configMapRef: {name: e2e-persist-cfg}}]
    env: [{name: TOKEN, valueFrom: {secretKeyRef: {name: e2e-persist-creds, key: token}}}]
    volumeMounts: [{name: host, mountPath: /pv}]
  volumes: [{name: host, persistentVolumeClaim: {claimName: e2e-persist-pvc}}]
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: e2e-persist-pv}
spec: {storageClassName: manual, capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], hostPath: {path: %s, type: Directory}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: e2e-persist-pvc}
spec: {storageClassName: manual, accessModes: [ReadWriteOnce]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: e2e-persist-d}
spec:
  replicas: 1
  selector: {matchLabels: {app: e2e-persist-d}}
  template:
    metadata: {labels: {app: e2e-persist-d}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: c, image: localhost/podunit-test/busybox:1, command: ["sleep", "3600"]}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: e2e-persist-s}
spec:
  replicas: 1
  selector: {matchLabels: {app: e2e-persist-s}}
  template:
    metadata: {labels: {app: e2e-persist-s}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: c, image: localhost/podunit-test/busybox:1, command: ["sleep", "3600"], volumeMounts: [{name: data, mountPath: /data}]}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: e2e-persist-a}
spec:
  selector: {matchLabels: {app: e2e-persist-a}}
  template:
    metadata: {labels: {app: e2e-persist-a}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: c, image: localhost/podunit-test/busybox:1, command: ["sleep", "3600"]}]
`, secret, pod, pvDir))
	t.Cleanup(func() { run(t, podunit, "down", "--volumes", "--grace-period", "0", "--force", pod, manifest) })
	unit := `podunit@e2e\x2dpersist.service`
	out := must(t, podunit, "up", "--persist", manifest)
	if !strings.Contains(out, "pod/e2e-persist enabled ("+unit+")") {
		t.Errorf("up --persist said:\n%s", out)
	}
	if st := status(t, pod); st == nil || !persistentIn(t, pod) {
		t.Fatalf("ps does not show the pod persistent")
	}
	ingressURL := regexp.MustCompile(`ingress\.networking\.k8s\.io/e2e-persist-ing served on this host: http://\S+:(\d+),`).FindStringSubmatch(out)
	if ingressURL == nil {
		t.Fatalf("up does not say where the Ingress is served:\n%s", out)
	}
	viaIngress := func() string {
		return strings.TrimSpace(run(t, "curl", "-s", "-m", "2", "-H", "Host: persist.example", "http://127.0.0.1:"+ingressURL[1]+"/hostname").stdout)
	}
	eventually(t, 30*time.Second, "the pod through the Ingress", func() bool { return viaIngress() == pod })
	if got := strings.TrimSpace(run(t, "systemctl", "--user", "is-enabled", unit).stdout); got != "enabled" {
		t.Errorf("is-enabled %s: %q", unit, got)
	}
	if es := unitProp(t, unit, "ExecStart"); !strings.Contains(es, "up --stored e2e-persist") {
		t.Errorf("ExecStart of %s: %s", unit, es)
	}
	stored := strings.TrimSpace(must(t, "sh", "-c", `ls -l "$HOME/.local/share/podunit/pods/e2e-persist.yaml"`))
	if !strings.HasPrefix(stored, "-rw-------") {
		t.Errorf("stored copy is not private: %s", stored)
	}
	// The pattern does not match itself on assertHidden's own command line.
	assertHidden(t, "persist-s3cret-valu[e]", unit, `"$HOME/.config/systemd"`)

	svcAddr := regexp.MustCompile(`e2e-persist-svc\s+ClusterIP\s+(\S+)`).FindStringSubmatch(must(t, podunit, "get", "svc"))
	if svcAddr == nil {
		t.Fatal("the Service is not listed")
	}

	// A ConfigMap changed while the pod is enabled: it comes back with the
	// new data, as a pod the kubelet starts again reads it anew.
	if out := must(t, podunit, "up", writeManifest(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: e2e-persist-cfg}\ndata: {GREETING: hello-changed}\n")); !strings.Contains(out, "configured") {
		t.Errorf("up of the changed ConfigMap: %s", out)
	}

	must(t, podunit, "exec", "e2e-persist-s-0", "--", "sh", "-c", "echo kept > /data/mark")
	if out, err := exec.Command(world, "relogin").CombinedOutput(); err != nil {
		t.Fatalf("world.sh relogin: %v\n%s", err, out)
	}
	eventually(t, 90*time.Second, "the pod serving after the manager's restart", func() bool {
		return run(t, "curl", "-sf", "-m", "2", "http://127.0.0.1:18184/").code == 0
	})
	if st := status(t, pod); st == nil || st.Phase != "Running" || !persistentIn(t, pod) {
		t.Fatalf("after the restart: %+v", st)
	}
	// its claim is bound to its PersistentVolume again
	if mounts := must(t, "podman", "inspect", "--format", "{{range .Mounts}}{{.Source}}={{.Destination}} {{end}}", ctrName(pod, "web")); !strings.Contains(mounts, pvDir+"=/pv ") {
		t.Errorf("the pod's mounts after the restart: %s", mounts)
	}
	env := must(t, "podman", "inspect", "--format", "{{range .Config.Env}}{{println .}}{{end}}", ctrName(pod, "web"))
	if !strings.Contains(env, "GREETING=hello-changed\n") || !strings.Contains(env, "TOKEN="+secret+"\n") ||
		!strings.Contains(env, "E2E_PERSIST_SVC_SERVICE_HOST="+svcAddr[1]+"\n") {
		t.Errorf("env after the restart:\n%s", env)
	}
	// The Deployment came back with its enabled pod, which is still its.
	eventually(t, 30*time.Second, "the Deployment's pod after the restart", func() bool {
		return strings.TrimSpace(run(t, podunit, "get", "deploy", "e2e-persist-d", "-o", "jsonpath={.status.readyReplicas}").stdout) == "1"
	})
	// So did the StatefulSet, its pod on its claim's data.
	eventually(t, 30*time.Second, "the StatefulSet's pod after the restart", func() bool {
		return strings.TrimSpace(run(t, podunit, "get", "sts", "e2e-persist-s", "-o", "jsonpath={.status.readyReplicas}").stdout) == "1"
	})
	// And the DaemonSet, with its pod.
	eventually(t, 30*time.Second, "the DaemonSet's pod after the restart", func() bool {
		return strings.TrimSpace(run(t, podunit, "get", "ds", "e2e-persist-a", "-o", "jsonpath={.status.numberReady}").stdout) == "1"
	})
	if got := must(t, podunit, "exec", "e2e-persist-s-0", "--", "cat", "/data/mark"); got != "kept\n" {
		t.Errorf("the StatefulSet pod's data after the restart: %q", got)
	}
	// The Ingress came back with the Service it routes to.
	eventually(t, 30*time.Second, "the pod through the Ingress after the restart", func() bool { return viaIngress() == pod })
	// The Service came back with the pod, at the same address, serving it.
	if m := regexp.MustCompile(`e2e-persist-svc\s+ClusterIP\s+(\S+)\s+<none>\s+80/TCP\s+10\.96\.`).FindStringSubmatch(must(t, podunit, "get", "svc")); m == nil || m[1] != svcAddr[1] {
		t.Errorf("the Service after the restart: %v, was %s\n%s", m, svcAddr[1], must(t, podunit, "get", "svc"))
	}

	// disable: the pod goes on, and will not come back.
	if out := must(t, podunit, "disable", pod); !strings.Contains(out, "pod/e2e-persist disabled") {
		t.Errorf("disable said: %s", out)
	}
	if got := strings.TrimSpace(run(t, "systemctl", "--user", "is-enabled", unit).stdout); got == "enabled" {
		t.Errorf("still enabled after disable")
	}
	if st := status(t, pod); st == nil || st.Phase != "Running" || persistentIn(t, pod) {
		t.Errorf("after disable: %+v", st)
	}
	// enable a running pod; down deletes it and its persistence.
	must(t, podunit, "enable", pod)
	if !persistentIn(t, pod) {
		t.Errorf("enable of the running pod did not make it persistent")
	}
	// The pod named and in the file named: one pod, taken down once, and the
	// file's objects forgotten.
	if out := must(t, podunit, "down", pod, manifest); !strings.Contains(out, "pod/e2e-persist disabled") || strings.Count(out, "pod/e2e-persist removed") != 1 ||
		!strings.Contains(out, "service/e2e-persist-svc deleted") || !strings.Contains(out, "ingress.networking.k8s.io/e2e-persist-ing deleted") {
		t.Errorf("down said: %s", out)
	}
	assertGone(t, pod)
	if r := run(t, "sh", "-c", `test -e "$HOME/.local/share/podunit/pods/e2e-persist.yaml"`); r.code == 0 {
		t.Errorf("the stored copy outlived down")
	}
	if r := run(t, "sh", "-c", `ls "$HOME"/.local/share/podunit/pods/ | grep 'e2e-persist-[dsa]'; test -e "$HOME/.local/share/podunit/deployments/default/e2e-persist-d.json" || test -e "$HOME/.local/share/podunit/statefulsets/default/e2e-persist-s.json" || test -e "$HOME/.local/share/podunit/daemonsets/default/e2e-persist-a.json"`); r.code == 0 || strings.TrimSpace(r.stdout) != "" {
		t.Errorf("the Deployment's stored copies outlived down: %s", r.stdout)
	}
	if r := run(t, podunit, "disable", pod); r.code != 3 {
		t.Errorf("disable of a pod not enabled: exit %d, want 3", r.code)
	}
}

func persistentIn(t *testing.T, pod string) bool {
	t.Helper()
	var all []struct {
		Name       string `json:"name"`
		Persistent bool   `json:"persistent"`
	}
	if err := json.Unmarshal([]byte(must(t, podunit, "ps", "-o", "json")), &all); err != nil {
		t.Fatal(err)
	}
	for _, p := range all {
		if p.Name == pod {
			return p.Persistent
		}
	}
	return false
}
