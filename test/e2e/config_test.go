package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/podunit/podunit/units"
)

// A manifest that bundles a pod with its ConfigMap, Secret and claim runs
// unchanged: env from keys and whole objects, files with their modes,
// read-only, the pod's labels from a downwardAPI volume; the Secret's value
// reaches the container and nothing else (unit properties, command lines,
// unit files, dry-run, describe, the units' logs); the claim's data survives
// down and up, and goes only with `down --volumes`.
func TestConfigObjects(t *testing.T) {
	const pod = "e2e-config"
	// The secret value is written so that a grep for it does not match itself.
	const secret = "c0nfig-s3cr3t-value"
	const pattern = "c0nfig-s3cr3t[-]value"
	manifest := fmt.Sprintf(`
apiVersion: v1
kind: Secret
metadata: {name: e2e-creds}
stringData: {password: %s}
---
apiVersion: v1
kind: Pod
metadata:
  name: %s
  labels: {app: shop, tier: front}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: %s
    command: [sh, -c, "trap 'exit 0' TERM; sleep 100000 & wait"]
    env:
    - {name: LEVEL, valueFrom: {configMapKeyRef: {name: e2e-config, key: log.level}}}
    - {name: PASSWORD, valueFrom: {secretKeyRef: {name: e2e-creds, key: password}}}
    - {name: MISSING, valueFrom: {configMapKeyRef: {name: e2e-config, key: nope, optional: true}}}
    - {name: GREETING, value: "level $(LEVEL) mode $(CFG_mode)"}
    envFrom:
    - {configMapRef: {name: e2e-config}, prefix: CFG_}
    volumeMounts:
    - {name: config, mountPath: /etc/app}
    - {name: config, mountPath: /etc/app.conf, subPath: app.conf}
    - {name: creds, mountPath: /run/creds}
    - {name: podinfo, mountPath: /etc/podinfo}
    - {name: data, mountPath: /data}
  volumes:
  - name: config
    configMap:
      name: e2e-config
      items: [{key: app.conf, path: app.conf}, {key: log.level, path: conf.d/level, mode: 0600}]
  - {name: creds, secret: {secretName: e2e-creds, defaultMode: 0440}}
  - name: podinfo
    downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}
  - {name: data, persistentVolumeClaim: {claimName: e2e-data}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: e2e-config}
data: {log.level: debug, mode: production, app.conf: "listen 8080\n"}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: e2e-data}
spec: {accessModes: [ReadWriteOnce]}
`, secret, pod, testImage)
	path := writeManifest(t, manifest)
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", "--volumes", path) })

	dry := must(t, podunit, "up", "--dry-run", path)
	if strings.Contains(dry, secret) || !strings.Contains(dry, "env PASSWORD=(from a Secret, not shown)") {
		t.Errorf("dry-run shows the secret, or does not say it hides it:\n%s", dry)
	}
	out := must(t, podunit, "up", path)
	for _, want := range []string{"configmap/e2e-config created", "secret/e2e-creds created", "persistentvolumeclaim/e2e-data created", "pod/" + pod + " started"} {
		if !strings.Contains(out, want) {
			t.Errorf("up did not say %q:\n%s", want, out)
		}
	}
	ctr := ctrName(pod, "app")
	sh := func(script string) string { return must(t, "podman", "exec", ctr, "sh", "-c", script) }
	env := sh(`echo "$LEVEL|$PASSWORD|${MISSING-unset}|$GREETING|$CFG_log_level|${CFG_mode}"`)
	if want := "debug|" + secret + "|unset|level debug mode production||production\n"; env != want {
		t.Errorf("env: %q, want %q", env, want)
	}
	files := sh(`cat /etc/app/app.conf /etc/app/conf.d/level /etc/app.conf /run/creds/password; echo; cat /etc/podinfo/labels; echo; stat -L -c '%a %n' /etc/app/app.conf /etc/app/conf.d/level /run/creds/password; ls /etc/app`)
	want := "listen 8080\ndebuglisten 8080\n" + secret + "\napp=\"shop\"\ntier=\"front\"\n644 /etc/app/app.conf\n600 /etc/app/conf.d/level\n440 /run/creds/password\napp.conf\nconf.d\n"
	if files != want {
		t.Errorf("files:\n%s\nwant:\n%s", files, want)
	}
	if r := run(t, "podman", "exec", ctr, "sh", "-c", "echo x > /etc/app/new"); r.code == 0 {
		t.Errorf("a configMap volume is writable")
	}
	sh("echo kept > /data/mark")

	// The secret is nowhere but in the container and podunit's private state.
	assertHidden(t, pattern, `podunit-e2e\x2dconfig*`, `"$XDG_RUNTIME_DIR/systemd/"`,
		`"$XDG_RUNTIME_DIR/podunit/pods/`+pod+`/logs"`, `"$XDG_RUNTIME_DIR/podunit/pods/`+pod+`/events"`)
	if d := must(t, podunit, "describe", pod); strings.Contains(d, secret) {
		t.Errorf("describe shows the secret")
	}
	// The volume files are reached only through podunit's state directory.
	if m := must(t, "sh", "-c", `stat -c %a "$XDG_RUNTIME_DIR/podunit" "$XDG_RUNTIME_DIR/podunit/pods/`+pod+`"`); m != "700\n700\n" {
		t.Errorf("podunit's state directories have modes %q, want 700", m)
	}

	// A changed ConfigMap reaches the pod's volume at once, by one rename of
	// ..data as the kubelet's atomic writer does it; env and the subPath
	// mount keep what the container started with, as in Kubernetes.
	cm := writeManifest(t, `
apiVersion: v1
kind: ConfigMap
metadata: {name: e2e-config}
data: {log.level: info, mode: production, app.conf: "listen 9090\n"}
`)
	if out := must(t, podunit, "up", cm); !strings.Contains(out, "configmap/e2e-config configured") {
		t.Errorf("up of the changed ConfigMap:\n%s", out)
	}
	if got, want := sh(`cat /etc/app/app.conf /etc/app/conf.d/level /etc/app.conf; echo "|$LEVEL"; readlink /etc/app/..data | grep -q '^\.\.20' && echo atomic`), "listen 9090\ninfolisten 8080\n|debug\natomic\n"; got != want {
		t.Errorf("after the ConfigMap changed: %q, want %q", got, want)
	}
	if d := must(t, podunit, "describe", pod); !strings.Contains(d, "VolumesUpdated") || !strings.Contains(d, "volume config updated") {
		t.Errorf("describe has no VolumesUpdated event:\n%s", d)
	}

	// The claim outlives the pod.
	out = must(t, podunit, "down", path)
	if !strings.Contains(out, "secret/e2e-creds deleted") {
		t.Errorf("down did not remove the secret:\n%s", out)
	}
	if !strings.Contains(out, "persistentvolumeclaim/e2e-data: its data stays in podman volume podunit.default.e2e-data (down --volumes removes it)") {
		t.Errorf("down does not say where the claim's data stays:\n%s", out)
	}
	if v := must(t, "podman", "volume", "ls", "-q", "--filter", "label=io.podunit.claim=default/e2e-data"); strings.TrimSpace(v) != "podunit.default.e2e-data" {
		t.Fatalf("the claim's volume did not survive down: %q", v)
	}
	must(t, podunit, "up", path)
	if got := sh("cat /data/mark"); got != "kept\n" {
		t.Errorf("the claim's data after down and up: %q", got)
	}
	// get lists the stored objects as kubectl does: a claim with its volume
	// and the pods using it; -o shows the objects (a Secret's data to whoever
	// asks, as kubectl).
	if out := must(t, podunit, "get", "pvc"); !regexp.MustCompile(`(?m)^e2e-data\s+Bound\s+podunit\.default\.e2e-data\s+<none>\s+RWO\s+<unset>\s+` + pod + `\s+\d+[smhd]\S*$`).MatchString(out) {
		t.Errorf("get pvc:\n%s", out)
	}
	if out := must(t, podunit, "get", "cm/e2e-config", "-o", "jsonpath={.kind} {.data.mode}"); out != "ConfigMap production" {
		t.Errorf("get cm -o jsonpath: %q", out)
	}
	// the ConfigMap as get -o yaml shows it (with the creationTimestamp it
	// got when first applied), applied again: unchanged, as kubectl says
	cmYAML := must(t, podunit, "get", "cm", "e2e-config", "-o", "yaml")
	if !regexp.MustCompile(`(?m)^  creationTimestamp: "20`).MatchString(cmYAML) {
		t.Errorf("get cm -o yaml has no creationTimestamp:\n%s", cmYAML)
	}
	if out := must(t, podunit, "up", writeManifest(t, cmYAML)); out != "configmap/e2e-config unchanged\n" {
		t.Errorf("up of the exported ConfigMap: %q", out)
	}
	if again := must(t, podunit, "get", "cm", "e2e-config", "-o", "yaml"); again != cmYAML {
		t.Errorf("the ConfigMap changed by applying it as it is:\n%s\nwas:\n%s", again, cmYAML)
	}
	if out := must(t, podunit, "get", "secrets"); !regexp.MustCompile(`(?m)^e2e-creds\s+Opaque\s+\d+\s+\d+[smhd]\S*$`).MatchString(out) {
		t.Errorf("get secrets:\n%s", out)
	}
	// Named as kubectl delete names it, a claim the running pod uses is
	// kept whole, object and data; so is a Service named by TYPE/NAME
	// that is not there.
	if r := run(t, podunit, "down", "--volumes", "pvc/e2e-data"); r.code != 3 || !strings.Contains(r.stderr, "persistentvolumeclaim default/e2e-data is in use by pod "+pod) {
		t.Errorf("down pvc/ of a claim in use: exit %d\n%s", r.code, r.stderr)
	}
	if got := sh("cat /data/mark"); got != "kept\n" {
		t.Errorf("the claim's data after a refused down pvc/: %q", got)
	}
	if r := run(t, podunit, "down", "svc/e2e-none"); r.code != 3 || !strings.Contains(r.stderr, `service "e2e-none" not found`) {
		t.Errorf("down svc/ of no Service: exit %d\n%s", r.code, r.stderr)
	}
	if out := must(t, podunit, "down", "secret/e2e-creds"); out != "secret/e2e-creds deleted\n" {
		t.Errorf("down secret/:\n%s", out)
	}
	out = must(t, podunit, "down", "--volumes", path)
	if !strings.Contains(out, "volume/podunit.default.e2e-data removed") {
		t.Errorf("down --volumes did not remove the claim's volume:\n%s", out)
	}
	if v := must(t, "podman", "volume", "ls", "-q", "--filter", "label=io.podunit.claim=default/e2e-data"); strings.TrimSpace(v) != "" {
		t.Errorf("the claim's volume is left after down --volumes: %q", v)
	}
	assertGone(t, pod)
}

// Objects applied on their own serve pods of later manifests; a pod whose
// ConfigMap is missing is refused (exit 2, field path, nothing created); a
// claim's name taken by a volume podunit did not create is refused (exit 3)
// and the volume is left alone.
func TestObjectsAcrossManifests(t *testing.T) {
	const pod = "e2e-objs"
	objs := writeManifest(t, `
apiVersion: v1
kind: ConfigMap
metadata: {name: e2e-shared}
data: {GREETING: hello}
`)
	podPath := writeManifest(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: %s
    command: [sh, -c, "trap 'exit 0' TERM; sleep 100000 & wait"]
    envFrom: [{configMapRef: {name: e2e-shared}}]
`, pod, testImage))
	r := run(t, podunit, "up", podPath)
	if r.code != 2 || !strings.Contains(r.stderr, "spec.containers[0].envFrom[0].configMapRef.name: not found: ConfigMap default/e2e-shared") {
		t.Fatalf("up without the ConfigMap: exit %d\n%s", r.code, r.stderr)
	}
	assertGone(t, pod)
	t.Cleanup(func() { run(t, podunit, "down", objs) })
	if out := must(t, podunit, "up", objs); !strings.Contains(out, "configmap/e2e-shared created") {
		t.Errorf("up of a ConfigMap alone: %s", out)
	}
	if out := must(t, podunit, "up", objs); !strings.Contains(out, "configmap/e2e-shared unchanged") {
		t.Errorf("up of the same ConfigMap again: %s", out)
	}
	changed := writeManifest(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: e2e-shared}\ndata: {GREETING: changed}\n")
	if out := must(t, podunit, "up", changed); !strings.Contains(out, "configmap/e2e-shared configured") {
		t.Errorf("up of a changed ConfigMap: %s", out)
	}
	if out := must(t, podunit, "up", objs); !strings.Contains(out, "configmap/e2e-shared configured") {
		t.Errorf("up of the ConfigMap as it was: %s", out)
	}
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", pod) })
	must(t, podunit, "up", podPath)
	if got := must(t, "podman", "exec", ctrName(pod, "app"), "sh", "-c", "echo $GREETING"); got != "hello\n" {
		t.Errorf("GREETING=%q", got)
	}
	// Down of the pod's manifest works even when its ConfigMap is gone.
	if out := must(t, podunit, "down", objs); !strings.Contains(out, "configmap/e2e-shared deleted") {
		t.Errorf("down of the ConfigMap: %s", out)
	}
	must(t, podunit, "down", "--grace-period", "0", "--force", podPath)
	assertGone(t, pod)
	// A file whose pod is gone already: that is said (exit 3), and its
	// objects are forgotten all the same, as kubectl delete -f does.
	must(t, podunit, "up", objs)
	both := writeManifest(t, readFile(t, objs)+"---\n"+readFile(t, podPath))
	if r := run(t, podunit, "down", both); r.code != 3 || !strings.Contains(r.stdout, "configmap/e2e-shared deleted") {
		t.Errorf("down of a file whose pod is gone: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// A volume podunit did not create is never taken over.
	must(t, "podman", "volume", "create", "--label", "owner=user", "podunit.default.e2e-taken")
	t.Cleanup(func() { run(t, "podman", "volume", "rm", "podunit.default.e2e-taken") })
	claimPath := writeManifest(t, fmt.Sprintf(`
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: e2e-taken}
spec: {accessModes: [ReadWriteOnce]}
---
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  containers:
  - name: app
    image: %s
    volumeMounts: [{name: d, mountPath: /d}]
  volumes: [{name: d, persistentVolumeClaim: {claimName: e2e-taken}}]
`, pod, testImage))
	r = run(t, podunit, "up", claimPath)
	if r.code != 3 || !strings.Contains(r.stderr, "podman volume podunit.default.e2e-taken exists and was not created by podunit") {
		t.Errorf("up over a foreign volume: exit %d\n%s", r.code, r.stderr)
	}
	assertGone(t, pod)
	if l := must(t, "podman", "volume", "inspect", "--format", "{{.Labels}}", "podunit.default.e2e-taken"); !strings.Contains(l, "owner:user") {
		t.Errorf("the user's volume was changed: %s", l)
	}
}

// subPath and subPathExpr on an emptyDir, a claim and a hostPath (its part
// made when missing): each container sees only its part (and a whole
// hostPath with HostToContainer propagation), the parts are
// directories of the one volume, the claim's part outlives the pod, and a symlink a container leaves in the volume that
// leads out of it stops the next start instead of being followed.
func TestSubPathOnNamedVolumes(t *testing.T) {
	const pod = "e2e-subpath"
	dir := sharedDir(t)
	manifest := fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  restartPolicy: Always
  containers:
  - name: writer
    image: %s
    env: [{name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
    command: ["sh", "-c", "echo part > /part/file; cat /db/keep 2>/dev/null > /part/seen; date +%%s%%N >> /db/keep; echo host > /logs/out; exec sleep 100000"]
    volumeMounts:
    - {name: scratch, mountPath: /part, subPath: a/b}
    - {name: claim, mountPath: /db, subPathExpr: "pods/$(POD)"}
    - {name: host, mountPath: /logs, subPath: logs/writer}
  - name: reader
    image: %s
    command: ["sleep", "100000"]
    volumeMounts:
    - {name: scratch, mountPath: /whole}
    - {name: claim, mountPath: /claim}
    - {name: host, mountPath: /host, readOnly: true, mountPropagation: HostToContainer}
  volumes:
  - {name: scratch, emptyDir: {}}
  - {name: claim, persistentVolumeClaim: {claimName: e2e-subpath-data}}
  - {name: host, hostPath: {path: %s}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: e2e-subpath-data}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
`, pod, testImage, testImage, dir)
	path := up(t, manifest, pod)
	t.Cleanup(func() { run(t, podunit, "down", "--volumes", "--grace-period", "0", path) })
	// a hostPath's part is made when missing, as the kubelet makes it
	eventually(t, 15*time.Second, "the writer's file in the hostPath's part", func() bool {
		data, err := os.ReadFile(filepath.Join(dir, "logs", "writer", "out"))
		return err == nil && string(data) == "host\n"
	})
	reader := ctrName(pod, "reader")
	eventually(t, 15*time.Second, "the writer's file in the reader's view of the whole volume", func() bool {
		return run(t, "podman", "exec", reader, "cat", "/whole/a/b/file").stdout == "part\n"
	})
	// mountPropagation: HostToContainer reaches podman as rslave
	if out := must(t, "podman", "inspect", "--format", "{{range .Mounts}}{{.Destination}}={{.Propagation}} {{end}}", reader); !strings.Contains(out, "/host=rslave ") {
		t.Errorf("the reader's hostPath mount is not rslave: %s", out)
	}
	if out := must(t, "podman", "exec", ctrName(pod, "writer"), "ls", "/part"); out != "file\nseen\n" {
		t.Errorf("the writer sees more than its part: %s", out)
	}
	if n := strings.Count(must(t, "podman", "exec", reader, "cat", "/claim/pods/"+pod+"/keep"), "\n"); n != 1 {
		t.Errorf("the claim's part has %d lines, want 1", n)
	}

	// the claim's part outlives the pod
	must(t, podunit, "down", "--grace-period", "0", pod)
	must(t, podunit, "up", path)
	eventually(t, 15*time.Second, "the second run's line in the claim", func() bool {
		return strings.Count(run(t, "podman", "exec", reader, "cat", "/claim/pods/"+pod+"/keep").stdout, "\n") == 2
	})
	if seen := must(t, "podman", "exec", ctrName(pod, "writer"), "cat", "/part/seen"); strings.Count(seen, "\n") != 1 {
		t.Errorf("the second run did not see the first run's data in its part of the claim: %q", seen)
	}

	// a container turns the part into a symlink out of the volume: the
	// writer's next start is refused, nothing outside is mounted
	must(t, "podman", "exec", reader, "sh", "-c", "rm -rf /whole/a && ln -s /etc /whole/a")
	unit := units.ContainerUnitName(pod, "writer")
	must(t, "systemctl", "--user", "restart", "--no-block", unit)
	eventually(t, 20*time.Second, "an event about the refused subPath", func() bool {
		return strings.Contains(describe(t, pod), "leads out of the volume")
	})
	if r := run(t, "podman", "exec", ctrName(pod, "writer"), "true"); r.code == 0 {
		t.Error("the writer runs with a subPath through a symlink out of its volume")
	}
}

// An image volume holds another image's files, read-only; one that is not
// there under pullPolicy Never fails up naming the field, leaving nothing.
func TestImageVolume(t *testing.T) {
	const pod = "e2e-imgvol"
	manifest := fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: %s
    command: ["sh", "-c", "test -x /srv/server && echo has-server; touch /srv/x 2>/dev/null && echo writable || echo read-only"]
    volumeMounts: [{name: tools, mountPath: /srv}]
  volumes:
  - name: tools
    image: {reference: %s}
`, pod, testImage, serverImage)
	up(t, manifest, pod)
	eventually(t, 20*time.Second, "the container's end", func() bool {
		st := status(t, pod)
		return st != nil && len(st.Containers) == 1 && st.Containers[0].State == "Terminated"
	})
	if st := status(t, pod); st.Containers[0].ExitCode == nil || *st.Containers[0].ExitCode != 0 {
		t.Errorf("container: %+v", st.Containers[0])
	}
	if out := must(t, podunit, "logs", pod); out != "has-server\nread-only\n" {
		t.Errorf("logs: %q", out)
	}
	must(t, podunit, "down", pod)

	missing := strings.Replace(manifest, "image: {reference: "+serverImage+"}", "image: {reference: localhost/podunit-test/absent:1, pullPolicy: Never}", 1)
	r := run(t, podunit, "up", writeManifest(t, missing))
	if r.code == 0 || !strings.Contains(r.stderr, `spec.volumes[0].image.reference: image not available: "localhost/podunit-test/absent:1" is not present`) {
		t.Errorf("up with a missing image volume: exit %d\n%s", r.code, r.stderr)
	}
	assertGone(t, pod)
}

// A generic ephemeral volume is the pod's own: its data outlives a restart
// of the container, subPath and fsGroup work on it as on a claim, and down
// removes it.
func TestEphemeralVolume(t *testing.T) {
	const pod = "e2e-ephemeral"
	up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  securityContext: {fsGroup: 2345}
  containers:
  - name: main
    image: %s
    command: ["sh", "-c", "echo run >> /cache/runs; mkdir -p /cache/sub; stat -c %%g /cache; sleep 100000"]
    volumeMounts:
    - {name: cache, mountPath: /cache}
    - {name: cache, mountPath: /data, subPath: sub}
  volumes:
  - name: cache
    ephemeral:
      volumeClaimTemplate:
        spec:
          accessModes: [ReadWriteOnce]
          resources: {requests: {storage: 1Gi}}
`, pod, testImage), pod)
	vol := units.VolumeName(pod, "cache")
	if out := strings.TrimSpace(must(t, "podman", "volume", "ls", "--filter", "label=io.podunit.pod="+pod, "--format", "{{.Name}}")); out != vol {
		t.Fatalf("volumes: %q, want %s", out, vol)
	}
	must(t, "systemctl", "--user", "restart", units.ContainerUnitName(pod, "main"))
	eventually(t, 20*time.Second, "the second run", func() bool {
		return run(t, podunit, "exec", pod, "--", "cat", "/cache/runs").stdout == "run\nrun\n"
	})
	if out := must(t, podunit, "logs", pod); !strings.HasPrefix(out, "2345\n") {
		t.Errorf("the volume's group: %q, want 2345 (fsGroup)", out)
	}
	must(t, podunit, "exec", pod, "--", "sh", "-c", "echo x > /data/f")
	if out := must(t, podunit, "exec", pod, "--", "cat", "/cache/sub/f"); out != "x\n" {
		t.Errorf("subPath: %q", out)
	}
	must(t, podunit, "down", pod)
	assertGone(t, pod)
}

// A ReadWriteOncePod claim is one pod's at a time, as the scheduler keeps
// it: while a pod uses it, another pod that asks for it is refused (exit 2,
// nothing made, naming the one that has it); once that pod is gone, the
// other starts and finds the data.
func TestReadWriteOncePodClaim(t *testing.T) {
	user := func(name, cmd string) string {
		return fmt.Sprintf(`
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: e2e-once}
spec: {accessModes: [ReadWriteOncePod]}
---
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: %s
    command: [sh, -c, "%s; trap 'exit 0' TERM; sleep 100000 & wait"]
    volumeMounts: [{name: d, mountPath: /d}]
  volumes: [{name: d, persistentVolumeClaim: {claimName: e2e-once}}]
`, name, testImage, cmd)
	}
	t.Cleanup(func() { run(t, podunit, "down", "--volumes", "pvc/e2e-once") })
	up(t, user("e2e-once-a", "echo kept > /d/f"), "e2e-once-a")
	second := writeManifest(t, user("e2e-once-b", "cat /d/f"))
	r := run(t, podunit, "up", second)
	if r.code != 2 || !strings.Contains(r.stderr, `pod "e2e-once-b": spec.volumes[0].persistentVolumeClaim.claimName: persistentvolumeclaim "e2e-once" is ReadWriteOncePod, and pod "e2e-once-a" uses it`) {
		t.Errorf("a second pod on a ReadWriteOncePod claim: exit %d\n%s", r.code, r.stderr)
	}
	assertGone(t, "e2e-once-b")
	must(t, podunit, "down", "--grace-period", "0", "e2e-once-a")
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", "e2e-once-b") })
	must(t, podunit, "up", second)
	eventually(t, 30*time.Second, "the second pod to read the first one's data", func() bool {
		return strings.Contains(run(t, podunit, "logs", "e2e-once-b").stdout, "kept")
	})
}
