package e2e

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// deploymentManifest: a Deployment of replicas server pods (ready when
// readyPath answers) behind a Service, with strategy (a YAML flow map).
func deploymentManifest(replicas int, version, readyPath, strategy string) string {
	return fmt.Sprintf(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: dweb}
spec:
  replicas: %d
  progressDeadlineSeconds: 4
  selector: {matchLabels: {app: dweb}}
  strategy: %s
  template:
    metadata: {labels: {app: dweb}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: server
        image: %s
        args: ["-listen", ":8080"]
        env: [{name: VERSION, value: "%s"}]
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {httpGet: {path: %s, port: http}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: dweb}
spec:
  selector: {app: dweb}
  ports: [{port: 80, targetPort: http}]
`, replicas, strategy, serverImage, version, readyPath)
}

// deploymentPods are the running pods of Deployment dweb, by name.
func deploymentPods(t *testing.T) []string {
	t.Helper()
	out := strings.Fields(must(t, podunit, "get", "pods", "-l", "app=dweb", "-o", "name"))
	for i, n := range out {
		out[i] = strings.TrimPrefix(n, "pod/")
	}
	slices.Sort(out)
	return out
}

// lines of up's output that start or remove pods, in order
var podLine = regexp.MustCompile(`(?m)^pod/(\S+) (started|removed)`)

// TestDeployment: a Deployment runs its replicas as pods behind its Service;
// applying it again changes nothing; scale starts and removes pods; a new
// template rolls out within maxSurge/maxUnavailable (enabled pods make
// enabled pods), a rollout whose pods
// never become ready stops at progressDeadlineSeconds and keeps the old pods;
// a pod of it taken down is made again; Recreate removes the old pods before
// starting new ones; rollout restart replaces every pod; down of the file
// takes every pod it ever made.
func TestDeployment(t *testing.T) {
	path := writeManifest(t, deploymentManifest(2, "1", "/", "{}"))
	write := func(yaml string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", "deployment/dweb") })
	out := must(t, podunit, "up", "--wait", "--persist", path)
	v1 := deploymentPods(t)
	if len(v1) != 2 || !strings.Contains(out, "deployment.apps/dweb created") {
		t.Fatalf("pods %v after up:\n%s", v1, out)
	}
	for _, p := range v1 {
		if !regexp.MustCompile(`^dweb-[a-z0-9]{6,10}-[a-z0-9]{5}$`).MatchString(p) {
			t.Errorf("pod name %q is not dweb-<pod-template-hash>-<5 characters>", p)
		}
	}
	eventually(t, 20*time.Second, "get deployments to say 2/2 ready", func() bool {
		return regexp.MustCompile(`(?m)^dweb\s+2/2\s+2\s+2`).MatchString(must(t, podunit, "get", "deployments"))
	})
	if out := must(t, podunit, "wait", "--for=condition=Available", "deployment/dweb", "--timeout", "20s"); !strings.Contains(out, "deployment.apps/dweb condition met") {
		t.Errorf("wait for Available:\n%s", out)
	}
	if out := must(t, podunit, "describe", "deployment/dweb"); !strings.Contains(out, "Replicas:               2 desired | 2 updated | 2 total | 2 available | 0 unavailable") {
		t.Errorf("describe deployment:\n%s", out)
	}
	if out := must(t, podunit, "get", "all", "-o", "name"); !strings.Contains(out, "pod/"+v1[0]+"\n") || !strings.Contains(out, "service/dweb\n") || !strings.Contains(out, "deployment.apps/dweb\n") {
		t.Errorf("get all -o name:\n%s", out)
	}
	// several kinds at once, as kubectl: a table each, names as KIND/NAME;
	// one List in JSON
	if out := must(t, podunit, "get", "all"); !regexp.MustCompile(`(?m)^NAME\s+READY\s+STATUS[^\n]*\npod/dweb-`).MatchString(out) || !regexp.MustCompile(`(?m)^\nNAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\ndeployment\.apps/dweb\s+2/2\s`).MatchString(out) {
		t.Errorf("get all:\n%s", out)
	} else if !regexp.MustCompile(`(?m)^\nNAME\s+DESIRED\s+CURRENT\s+READY\s+AGE\nreplicaset\.apps/dweb-[a-z0-9]+\s+2\s+2\s+2\s+\d+s$`).MatchString(out) {
		t.Errorf("get all: no ReplicaSet of dweb with 2 desired, current and ready:\n%s", out)
	}
	if out := must(t, podunit, "get", "rs", "-o", "jsonpath={range .items[*]}{.metadata.name} {.spec.replicas} {.status.readyReplicas}{end}"); !regexp.MustCompile(`^dweb-[a-z0-9]+ 2 2$`).MatchString(out) {
		t.Errorf("get rs -o jsonpath: %q", out)
	}
	if out := must(t, podunit, "get", "svc,deploy", "dweb", "-o", "jsonpath={.kind} {range .items[*]}{.kind}/{.metadata.name} {end}"); out != "List Service/dweb Deployment/dweb " {
		t.Errorf("get svc,deploy dweb -o jsonpath: %q", out)
	}
	if out := must(t, podunit, "get", "svc/dweb", "deploy/dweb", "-A"); !regexp.MustCompile(`(?m)^NAMESPACE\s+NAME\s+TYPE[^\n]*\ndefault\s+service/dweb\s+ClusterIP\s`).MatchString(out) {
		t.Errorf("get svc/dweb deploy/dweb -A:\n%s", out)
	}
	if r := run(t, podunit, "get", "svc,cm", "dweb"); r.code == 0 || !strings.Contains(r.stdout, "service/dweb") || !strings.Contains(r.stderr, `configmap "dweb" not found`) {
		t.Errorf("get svc,cm dweb (no such ConfigMap): exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// the Service balances over both
	if svc := must(t, podunit, "get", "svc", "dweb"); strings.Count(svc, ":8080") != 2 {
		t.Errorf("the Service's endpoints are not both pods:\n%s", svc)
	}

	// applied again: nothing starts or goes
	out = must(t, podunit, "up", path)
	if podLine.MatchString(out) || !strings.Contains(out, "deployment.apps/dweb unchanged") {
		t.Errorf("applying the same Deployment again:\n%s", out)
	}

	// exported with every kind (its pods and ReplicaSet beside it) and
	// applied again: the Deployment makes them, nothing starts or goes
	exported := writeManifest(t, must(t, podunit, "get", "all", "-o", "yaml"))
	if r := run(t, podunit, "up", exported); r.code != 0 || podLine.MatchString(r.stdout) || !strings.Contains(r.stdout, "deployment.apps/dweb unchanged") ||
		!strings.Contains(r.stdout, "service/dweb unchanged") || !regexp.MustCompile(`replicaset "dweb-[a-z0-9]+": ignored: deployment "dweb" of this manifest makes it`).MatchString(r.stderr) {
		t.Errorf("get all -o yaml applied again: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if got := deploymentPods(t); !slices.Equal(got, v1) {
		t.Errorf("pods after the export applied again: %v, want %v", got, v1)
	}

	// scale up keeps the pods there are; down removes pods
	out = must(t, podunit, "scale", "deployment/dweb", "--replicas", "3")
	v1three := deploymentPods(t)
	if len(v1three) != 3 || !strings.Contains(out, "deployment.apps/dweb scaled") {
		t.Fatalf("after scale to 3: %v\n%s", v1three, out)
	}
	for _, p := range v1 {
		if !slices.Contains(v1three, p) {
			t.Errorf("scaling up replaced %s: %v", p, v1three)
		}
	}
	write(deploymentManifest(3, "1", "/", "{}"))

	// a rolling update: 3 replicas, 25% -> at most 1 more, none unavailable
	write(deploymentManifest(3, "2", "/", "{}"))
	// --dry-run says which pods would go, and changes nothing
	out = must(t, podunit, "up", "--dry-run", path)
	if !strings.Contains(out, "# deployment default/dweb: its pods "+strings.Join(v1three, ", ")+" would be removed (RollingUpdate)") {
		t.Errorf("dry-run of a new template:\n%s", out)
	}
	if got := deploymentPods(t); !slices.Equal(got, v1three) {
		t.Errorf("dry-run changed the pods: %v", got)
	}
	out = must(t, podunit, "up", path)
	v2 := deploymentPods(t)
	if len(v2) != 3 || !strings.Contains(out, "deployment.apps/dweb rolled out") {
		t.Fatalf("after the rollout: %v\n%s", v2, out)
	}
	running := 3
	for _, m := range podLine.FindAllStringSubmatch(out, -1) {
		if m[2] == "started" {
			running++
			if slices.Contains(v1three, m[1]) {
				t.Errorf("an old pod started: %s", m[1])
			}
		} else {
			running--
			if !slices.Contains(v1three, m[1]) {
				t.Errorf("a new pod removed: %s", m[1])
			}
		}
		if running > 4 || running < 3 {
			t.Errorf("%d pods at once (maxSurge 1, maxUnavailable 0 of 3):\n%s", running, out)
		}
	}
	for _, p := range v1three {
		if slices.Contains(v2, p) {
			t.Errorf("old pod %s still runs: %v", p, v2)
		}
		assertGone(t, p)
	}
	// enabled pods make enabled pods: the new ones come back at login, the
	// old ones no longer do
	for _, p := range append(slices.Clone(v2), v1three...) {
		want := slices.Contains(v2, p)
		if s := status(t, p); want && s == nil {
			t.Errorf("no status of %s", p)
		}
		if got := run(t, "sh", "-c", `test -L "$HOME/.config/systemd/user/default.target.wants/podunit@$(systemd-escape `+p+`).service"`).code == 0; got != want {
			t.Errorf("pod %s enabled: %v, want %v", p, got, want)
		}
	}
	if env := must(t, "podman", "inspect", "--format", "{{range .Config.Env}}{{println .}}{{end}}", ctrName(v2[0], "server")); !strings.Contains(env, "VERSION=2\n") {
		t.Errorf("the new pods' environment:\n%s", env)
	}

	// a template whose pods never become ready: the rollout stops at the
	// deadline, the old pods stay
	write(deploymentManifest(3, "3", "/fail", "{}"))
	r := run(t, podunit, "up", path)
	if r.code == 0 || !strings.Contains(r.stderr, "progress deadline") {
		t.Errorf("a stalled rollout: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	stalled := deploymentPods(t)
	for _, p := range v2 {
		if !slices.Contains(stalled, p) {
			t.Errorf("a ready pod went in a stalled rollout: %s (pods %v)", p, stalled)
		}
	}
	if len(stalled) != 4 {
		t.Errorf("pods during the stalled rollout: %v; want the 3 old and 1 new (maxSurge)", stalled)
	}
	// applying the good one again removes the unready pod, keeps the others
	write(deploymentManifest(3, "2", "/", "{}"))
	out = must(t, podunit, "up", path)
	if got := deploymentPods(t); !slices.Equal(got, v2) {
		t.Errorf("after going back: %v, want %v\n%s", got, v2, out)
	}

	// a pod taken down is made again by its Deployment
	out = must(t, podunit, "down", "--grace-period", "0", "--force", "pod/"+v2[0])
	if !regexp.MustCompile(`(?s)pod/` + v2[0] + ` removed.*pod/` + v2[0] + ` started`).MatchString(out) {
		t.Errorf("down of a Deployment's pod:\n%s", out)
	}
	eventually(t, 20*time.Second, "the pod made again to be Running", func() bool {
		s := status(t, v2[0])
		return s != nil && s.Phase == "Running"
	})

	// Recreate: every old pod goes before a new one starts
	write(deploymentManifest(3, "4", "/", "{type: Recreate}"))
	out = must(t, podunit, "up", path)
	lines := podLine.FindAllStringSubmatch(out, -1)
	if len(lines) != 6 {
		t.Fatalf("Recreate of 3 pods:\n%s", out)
	}
	for i, m := range lines {
		if want := map[bool]string{true: "removed", false: "started"}[i < 3]; m[2] != want {
			t.Errorf("Recreate: line %d is %q, want %s first, then started:\n%s", i, m[0], "removed", out)
		}
	}
	v4 := deploymentPods(t)

	// kubectl rollout restart and status; logs of deployment/NAME is a pod's
	out = must(t, podunit, "rollout", "restart", "deployment/dweb")
	restarted := deploymentPods(t)
	if !strings.Contains(out, "deployment.apps/dweb restarted") || len(restarted) != 3 {
		t.Fatalf("rollout restart: pods %v\n%s", restarted, out)
	}
	for _, p := range restarted {
		if slices.Contains(v4, p) {
			t.Errorf("rollout restart kept pod %s", p)
		}
	}
	if out = must(t, podunit, "rollout", "status", "deployment/dweb", "--timeout", "30s"); !strings.Contains(out, `deployment "dweb" successfully rolled out`) {
		t.Errorf("rollout status:\n%s", out)
	}
	if r := run(t, podunit, "logs", "deployment/dweb"); r.code != 0 || !strings.Contains(r.stderr, "Found 3 pods, using pod/"+restarted[0]) {
		t.Errorf("logs deployment/dweb: exit %d\n%s", r.code, r.stderr)
	}
	v4 = restarted

	// kubectl set image: the template's image changes and the pods roll out
	tagged := strings.Replace(serverImage, ":", ":e2e-set-", 1)
	must(t, "podman", "tag", serverImage, tagged)
	t.Cleanup(func() { run(t, "podman", "untag", tagged, tagged) })
	if r := run(t, podunit, "set", "image", "deployment/dweb", "nope="+tagged); r.code != 2 || !strings.Contains(r.stderr, `unable to find container named "nope"`) {
		t.Errorf("set image of an unknown container: exit %d\n%s", r.code, r.stderr)
	}
	if out := must(t, podunit, "set", "image", "deployment/dweb", "server="+tagged); !strings.Contains(out, "deployment.apps/dweb image updated") {
		t.Errorf("set image:\n%s", out)
	}
	if got := strings.Fields(must(t, podunit, "get", "pods", "-l", "app=dweb", "-o", "jsonpath={.items[*].spec.containers[0].image}")); len(got) != 3 || slices.ContainsFunc(got, func(i string) bool { return i != tagged }) {
		t.Errorf("images after set image: %v, want 3 of %s", got, tagged)
	}
	if out := must(t, podunit, "set", "image", "deployment/dweb", "server="+tagged); !strings.Contains(out, "deployment.apps/dweb image unchanged") {
		t.Errorf("set image to the image it has:\n%s", out)
	}
	if r := run(t, podunit, "set", "image", "pod/"+deploymentPods(t)[0], "server="+serverImage); r.code != 2 || !strings.Contains(r.stderr, "--replace") {
		t.Errorf("set image of a pod: exit %d\n%s", r.code, r.stderr)
	}
	// kubectl set env: the template's environment changes and the pods roll out
	if out := must(t, podunit, "set", "env", "deployment/dweb", "GREETING=hi there", "VERSION-"); !strings.Contains(out, "deployment.apps/dweb env updated") {
		t.Errorf("set env:\n%s", out)
	}
	withEnv := deploymentPods(t)
	if len(withEnv) != 3 || slices.ContainsFunc(withEnv, func(p string) bool { return slices.Contains(v4, p) }) {
		t.Errorf("set env did not roll the pods out: %v, were %v", withEnv, v4)
	}
	if got := must(t, podunit, "get", "pod", withEnv[0], "-o", "jsonpath={.spec.containers[0].env}"); got != `[{"name":"GREETING","value":"hi there"}]` {
		t.Errorf("a pod's env after set env: %s", got)
	}
	if got := must(t, "podman", "inspect", "--format", "{{range .Config.Env}}{{println .}}{{end}}", ctrName(withEnv[0], "server")); !strings.Contains(got, "GREETING=hi there\n") || strings.Contains(got, "VERSION=") {
		t.Errorf("the container's environment after set env:\n%s", got)
	}
	if out := must(t, podunit, "set", "env", "deployment/dweb", "--list"); out != "# container server\nGREETING=hi there\n" {
		t.Errorf("set env --list: %q", out)
	}
	v4 = withEnv

	// down of the file: every pod, the Deployment and the Service
	out = must(t, podunit, "down", "--grace-period", "0", "--force", path)
	if !strings.Contains(out, "deployment.apps/dweb deleted") {
		t.Errorf("down:\n%s", out)
	}
	for _, p := range v4 {
		assertGone(t, p)
	}
	if got := run(t, podunit, "get", "deployment", "dweb"); got.code == 0 {
		t.Errorf("get deployment dweb after down: %s", got.stdout)
	}
}

// TestDeploymentSharedClaim: the replicas of a Deployment in a namespace of
// its own share a claim (they start side by side, and one of them makes its
// volume); exec of deployment/NAME -n NS reaches one of them.
func TestDeploymentSharedClaim(t *testing.T) {
	path := writeManifest(t, `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: shared, namespace: dteam}
spec: {accessModes: [ReadWriteMany], resources: {requests: {storage: 1Gi}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: writer, namespace: dteam}
spec:
  replicas: 2
  selector: {matchLabels: {app: writer}}
  template:
    metadata: {labels: {app: writer}}
    spec:
      terminationGracePeriodSeconds: 1
      initContainers:
      - name: init
        image: `+testImage+`
        command: ["sh", "-c", "echo $(POD) >> /data/log"]
        env: [{name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
        volumeMounts: [{name: d, mountPath: /data}]
      containers:
      - name: main
        image: `+testImage+`
        command: ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]
        volumeMounts: [{name: d, mountPath: /data}]
      volumes: [{name: d, persistentVolumeClaim: {claimName: shared}}]
`)
	t.Cleanup(func() { run(t, podunit, "down", "--volumes", "--grace-period", "0", "--force", path) })
	must(t, podunit, "up", "--wait", path)
	pods := strings.Fields(must(t, podunit, "get", "pods", "-n", "dteam", "-o", "name"))
	if len(pods) != 2 {
		t.Fatalf("pods: %v", pods)
	}
	r := run(t, podunit, "exec", "-n", "dteam", "deployment/writer", "-c", "main", "--", "cat", "/data/log")
	for _, p := range pods {
		if !strings.Contains(r.stdout, strings.TrimPrefix(p, "pod/")+"\n") {
			t.Errorf("the shared claim's log lacks %s: exit %d\n%s%s", p, r.code, r.stdout, r.stderr)
		}
	}
	must(t, podunit, "down", "--volumes", path)
	for _, p := range pods {
		assertGone(t, strings.TrimPrefix(p, "pod/"))
	}
}

// TestRolloutDoesNotWaitForTermination: as the Deployment controller does
// not count a terminating pod, a rollout goes on while an old pod spends its
// grace period (its main process ignores SIGTERM): every new pod starts
// before the first old one is gone, the old pods show Terminating
// meanwhile, and up returns once they are gone.
func TestRolloutDoesNotWaitForTermination(t *testing.T) {
	manifest := func(version string) string {
		return fmt.Sprintf(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: slowstop}
spec:
  replicas: 2
  selector: {matchLabels: {app: slowstop}}
  template:
    metadata: {labels: {app: slowstop}}
    spec:
      terminationGracePeriodSeconds: 20
      containers:
      - name: c
        image: %s
        command: ["sleep", "3600"]
        env: [{name: VERSION, value: "%s"}]
`, testImage, version)
	}
	path := writeManifest(t, manifest("1"))
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", "deployment/slowstop") })
	must(t, podunit, "up", path)
	old := strings.Fields(must(t, podunit, "get", "pods", "-l", "app=slowstop", "-o", "name"))
	if len(old) != 2 {
		t.Fatalf("pods before the rollout: %v", old)
	}
	if err := os.WriteFile(path, []byte(manifest("2")), 0o644); err != nil {
		t.Fatal(err)
	}
	// a look at the pods while the rollout runs
	seen := make(chan string, 1)
	go func() {
		var saw string
		for i := 0; i < 100; i++ {
			time.Sleep(200 * time.Millisecond)
			out := run(t, podunit, "get", "pods", "-l", "app=slowstop").stdout
			if strings.Count(out, "Terminating") > 0 && strings.Count(out, "Running") >= 2 {
				saw = out
				break
			}
		}
		seen <- saw
	}()
	out := must(t, podunit, "up", path)
	lines := podLine.FindAllStringSubmatch(out, -1)
	if len(lines) != 4 || lines[0][2] != "started" || lines[1][2] != "started" {
		t.Errorf("rollout: want both new pods started before any old one is gone:\n%s", out)
	}
	if saw := <-seen; saw == "" {
		t.Errorf("no look during the rollout saw an old pod Terminating beside two running pods")
	}
	now := strings.Fields(must(t, podunit, "get", "pods", "-l", "app=slowstop", "-o", "name"))
	for _, o := range old {
		if slices.Contains(now, o) {
			t.Errorf("old pod %s is still there after up: %v", o, now)
		}
	}
	if len(now) != 2 {
		t.Errorf("pods after the rollout: %v", now)
	}
}
