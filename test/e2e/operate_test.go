package e2e

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/podunit/podunit/units"
)

// exec runs in the pod's containers with the command's exit status, stdin
// and a real terminal; wait and up --wait return when the pod is Ready (exit
// 4 when the time runs out first) or gone.
func TestExecAndWait(t *testing.T) {
	const pod = "e2e-exec"
	www := sharedDir(t) // outlives the pod: readiness survives up --replace
	path := writeManifest(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: setup
    image: %s
    command: ["true"]
  containers:
  - name: web
    image: %s
    command: ["sh", "-c", "echo ok > /www/index.html && exec httpd -f -p 8080 -h /www"]
    readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 1}
    volumeMounts: [{name: www, mountPath: /www}]
  - name: side
    image: %s
    command: ["sh", "-c", "echo side-line-1; echo side-line-2; exec sleep 100000"]
  volumes: [{name: www, hostPath: {path: %s, type: Directory}}]
`, pod, testImage, testImage, testImage, www))
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", pod) })

	// not ready until /www/ready exists: up --wait gives up with exit 4, and
	// the pod keeps running
	r := run(t, podunit, "up", "--wait", "--timeout", "10s", path)
	if r.code != 4 || !strings.Contains(r.stderr, "timed out") || !strings.Contains(r.stderr, "1/2 ready") {
		t.Fatalf("up --wait on a pod that is not ready: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if st := status(t, pod); st == nil || st.Phase != "Running" {
		t.Fatalf("the pod did not keep running after up --wait timed out: %+v", st)
	}
	if r := run(t, podunit, "wait", pod, "--for=condition=Ready", "--timeout", "2s"); r.code != 4 {
		t.Errorf("wait on a pod that is not ready: exit %d %s", r.code, r.stderr)
	}
	// kubectl's other forms of --for: a condition's status, a JSONPath's value
	for _, f := range []string{"condition=Ready=false", "jsonpath={.status.phase}=Running",
		`jsonpath={.status.containerStatuses[?(@.name=="web")].ready}=false`, "jsonpath={.status.podIP}"} {
		if out := must(t, podunit, "wait", pod, "--for="+f, "--timeout", "10s"); out != "pod/"+pod+" condition met\n" {
			t.Errorf("wait --for=%s: %q", f, out)
		}
	}
	if r := run(t, podunit, "wait", pod, "--for=jsonpath={.status.phase}=Succeeded", "--timeout", "2s"); r.code != 4 || !strings.Contains(r.stderr, "value Running") {
		t.Errorf("wait for a phase the pod does not have: exit %d %s", r.code, r.stderr)
	}
	if out := must(t, podunit, "wait", pod, "--for", "condition=Initialized", "--timeout", "10s"); out != "pod/"+pod+" condition met\n" {
		t.Errorf("wait Initialized: %q", out)
	}

	// exec: the first app container by default, the command's exit status
	if r := run(t, podunit, "exec", pod, "--", "sh", "-c", "touch /www/ready; echo done; exit 7"); r.code != 7 || r.stdout != "done\n" {
		t.Errorf("exec: exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}
	if out := must(t, podunit, "wait", pod, "--for=condition=Ready", "--timeout", "20s"); out != "pod/"+pod+" condition met\n" {
		t.Errorf("wait Ready: %q", out)
	}
	if out := must(t, podunit, "up", "--wait", "--replace", "--timeout", "60s", path); !strings.Contains(out, "pod/"+pod+" started") || !strings.Contains(out, "pod/"+pod+" ready") {
		t.Errorf("up --replace --wait: %q", out)
	}

	// get: a Kubernetes v1 Pod that kubectl-minded tools read
	var got corev1.Pod
	if err := json.Unmarshal([]byte(must(t, podunit, "get", "pod", pod, "-o", "json")), &got); err != nil {
		t.Fatalf("get pod -o json: %v", err)
	}
	conds := map[corev1.PodConditionType]corev1.ConditionStatus{}
	for _, c := range got.Status.Conditions {
		conds[c.Type] = c.Status
	}
	if got.Kind != "Pod" || got.Status.Phase != "Running" || conds[corev1.PodReady] != "True" || conds[corev1.PodInitialized] != "True" ||
		got.Status.PodIP == "" || got.Status.HostIP == "" || got.Status.StartTime == nil || len(got.Status.ContainerStatuses) != 2 ||
		len(got.Status.InitContainerStatuses) != 1 || got.Spec.Containers[0].ReadinessProbe == nil {
		t.Errorf("get pod -o json: %+v", got)
	}
	for _, cs := range got.Status.ContainerStatuses {
		if !cs.Ready || cs.State.Running == nil || cs.State.Running.StartedAt.IsZero() || cs.ImageID == "" || !strings.HasPrefix(cs.ContainerID, "podman://") {
			t.Errorf("container status %+v", cs)
		}
	}
	if ics := got.Status.InitContainerStatuses[0]; ics.State.Terminated == nil || ics.State.Terminated.Reason != "Completed" {
		t.Errorf("init container status %+v", ics)
	}
	if out := must(t, podunit, "get", "pods", "-o", "name"); !strings.Contains(out, "pod/"+pod+"\n") {
		t.Errorf("get pods -o name: %q", out)
	}
	out := must(t, podunit, "get", "pod", pod, "-o", "yaml")
	var fromYAML corev1.Pod
	if err := yaml.UnmarshalStrict([]byte(out), &fromYAML); err != nil || !strings.HasPrefix(out, "apiVersion: v1\nkind: Pod\n") {
		t.Errorf("get -o yaml does not read back as a v1 Pod: %v\n%.300s", err, out)
	} else if fromYAML.Name != pod || fromYAML.Status.Phase != "Running" || len(fromYAML.Status.ContainerStatuses) != 2 ||
		fromYAML.Status.PodIP != got.Status.PodIP || fromYAML.Spec.Containers[0].ReadinessProbe == nil {
		t.Errorf("get -o yaml: %+v", fromYAML)
	}
	if out := must(t, podunit, "get", "pods", pod, "-o", "wide"); !regexp.MustCompile(pod + `\s+2/2\s+Running\s+0\s+\S+\s+` + regexp.QuoteMeta(got.Status.PodIP)).MatchString(out) {
		t.Errorf("get -o wide:\n%s", out)
	}
	if r := run(t, podunit, "get", "pod", "no-such-pod"); r.code != 3 {
		t.Errorf("get of an unknown pod: exit %d", r.code)
	}

	// -c, kubectl's flag order, and a command with flags of its own
	if out := must(t, podunit, "exec", pod, "-c", "side", "--", "sh", "-c", "hostname"); out != pod+"\n" {
		t.Errorf("exec -c side hostname: %q", out)
	}
	if out := must(t, podunit, "exec", "-c", "side", pod, "ls", "-d", "/tmp"); out != "/tmp\n" {
		t.Errorf("exec with flags first and no --: %q", out)
	}
	// stdin streams with -i
	if r := runIn(t, "line one\nline two\n", podunit, "exec", "-i", pod, "--", "wc", "-l"); strings.TrimSpace(r.stdout) != "2" {
		t.Errorf("exec -i wc -l: %q %s", r.stdout, r.stderr)
	}
	// -t: a real terminal, through a pseudo-terminal that script(1) gives us
	r = run(t, "script", "-qec", podunit+" exec -it "+pod+" -- sh -c 'tty; stty size'", "/dev/null")
	if !strings.Contains(r.stdout, "/dev/pts/") {
		t.Errorf("exec -it: no terminal in the container: exit %d %q %s", r.code, r.stdout, r.stderr)
	}

	// logs, with kubectl's flags in kubectl's order
	if out := must(t, podunit, "logs", pod, "side"); out != "side-line-1\nside-line-2\n" {
		t.Errorf("logs POD CONTAINER: %q", out)
	}
	if out := must(t, podunit, "logs", pod, "-c", "side", "--tail", "1"); out != "side-line-2\n" {
		t.Errorf("logs --tail 1: %q", out)
	}
	if out := must(t, podunit, "logs", pod, "-c", "side", "--timestamps", "--since", "10m"); !regexp.MustCompile(`(?m)^20\d\d-\d\d-\d\dT\S+ side-line-1$`).MatchString(out) {
		t.Errorf("logs --timestamps --since 10m: %q", out)
	}
	if out := must(t, podunit, "logs", pod, "--all-containers", "--prefix"); !strings.Contains(out, "[pod/"+pod+"/side] side-line-2\n") {
		t.Errorf("logs --all-containers --prefix: %q", out)
	}

	// events: the pod's so far, and -w prints new ones as they happen
	if out := must(t, podunit, "events", pod); !strings.Contains(out, "pod/"+pod+"/web") || !strings.Contains(out, "Started") {
		t.Errorf("events:\n%s", out)
	}
	watched := make(chan result, 1)
	go func() { watched <- run(t, "timeout", "8", podunit, "events", "-w", pod, "-o", "json") }()
	time.Sleep(2 * time.Second)
	must(t, "systemctl", "--user", "restart", units.ContainerUnitName(pod, "side"))
	w := <-watched
	var after []string
	for _, l := range strings.Split(strings.TrimSpace(w.stdout), "\n") {
		var e struct{ Reason, Object string }
		if json.Unmarshal([]byte(l), &e) == nil && e.Object == "pod/"+pod+"/side" {
			after = append(after, e.Reason)
		}
	}
	if !strings.Contains(strings.Join(after, " "), "Killing") {
		t.Errorf("events -w did not show the side container's restart: %v\n%s", after, w.stdout)
	}

	// bad targets
	if r := run(t, podunit, "exec", pod, "-c", "nope", "--", "true"); r.code != 3 || !strings.Contains(r.stderr, `no container "nope"`) {
		t.Errorf("unknown container: exit %d %s", r.code, r.stderr)
	}
	if r := run(t, podunit, "exec", "no-such-pod", "--", "true"); r.code != 3 {
		t.Errorf("unknown pod: exit %d %s", r.code, r.stderr)
	}
	if r := run(t, podunit, "exec", pod, "-c", "setup", "--", "true"); r.code != 1 || !strings.Contains(r.stderr, "is not running") {
		t.Errorf("a finished init container: exit %d %s", r.code, r.stderr)
	}
	if r := run(t, podunit, "wait", "no-such-pod"); r.code != 3 {
		t.Errorf("wait on an unknown pod: exit %d %s", r.code, r.stderr)
	}

	// wait --for=delete returns once down is done
	done := make(chan result, 1)
	go func() { done <- run(t, podunit, "wait", pod, "--for=delete", "--timeout", "60s") }()
	time.Sleep(2 * time.Second) // wait has found the pod (on a busy machine too)
	must(t, podunit, "down", pod)
	if r := <-done; r.code != 0 || !strings.Contains(r.stdout, "condition met") {
		t.Errorf("wait --for=delete: exit %d %q %s", r.code, r.stdout, r.stderr)
	}
	assertGone(t, pod)
}

// Pod names are unique on the host (they name the units): a pod of the same
// name in another namespace is refused, --replace does not take the other
// one's place, and down of its file leaves the running one alone.
func TestSameNameOtherNamespace(t *testing.T) {
	const pod = "e2e-samename"
	manifest := func(ns string) string {
		return fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s, namespace: %s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: %s
    command: [sh, -c, "trap 'exit 0' TERM; sleep 100000 & wait"]
`, pod, ns, testImage)
	}
	up(t, manifest("e2e-a"), pod)
	other := writeManifest(t, manifest("e2e-b"))
	for _, args := range [][]string{{"up", other}, {"up", "--replace", other}} {
		if r := run(t, append([]string{podunit}, args...)...); r.code != 3 || !strings.Contains(r.stderr, `in namespace "e2e-a"`) {
			t.Errorf("%v: exit %d\n%s", args, r.code, r.stderr)
		}
	}
	if r := run(t, podunit, "down", other); r.code != 3 || !strings.Contains(r.stderr, `the pod "e2e-samename" here is in namespace "e2e-a": left alone`) {
		t.Errorf("down of the other namespace's file: exit %d\n%s", r.code, r.stderr)
	}
	if st := status(t, pod); st == nil || st.Phase != "Running" || st.Namespace != "e2e-a" {
		t.Errorf("the pod of namespace e2e-a after all that: %+v", st)
	}
}

// up -n puts a file's objects that name no namespace in that one, as
// kubectl's -n: the pod finds its ConfigMap there and runs in it; down -n of
// the file (or of the pod's name) finds them again; an object naming
// another namespace is refused.
func TestNamespaceFlag(t *testing.T) {
	const pod = "e2e-nsflag"
	path := writeManifest(t, fmt.Sprintf(`
apiVersion: v1
kind: ConfigMap
metadata: {name: e2e-nsflag-cfg}
data: {GREETING: hello}
---
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: %s
    envFrom: [{configMapRef: {name: e2e-nsflag-cfg}}]
    command: [sh, -c, 'echo "$GREETING"; sleep 100000']
`, pod, testImage))
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", pod) })
	if r := run(t, podunit, "up", "-n", "e2e-team", path); r.code != 0 || !strings.Contains(r.stdout, "configmap/e2e-nsflag-cfg created") {
		t.Fatalf("up -n: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if st := status(t, pod); st == nil || st.Namespace != "e2e-team" || st.Phase != "Running" {
		t.Errorf("pod: %+v", st)
	}
	if out := must(t, podunit, "get", "pods", "-n", "e2e-team", "-o", "name"); out != "pod/"+pod+"\n" {
		t.Errorf("get pods -n e2e-team: %q", out)
	}
	if out := must(t, podunit, "ps", "-n", "e2e-team"); !regexp.MustCompile(`(?m)^` + pod + `\s+e2e-team\s+Running`).MatchString(out) {
		t.Errorf("ps -n e2e-team:\n%s", out)
	}
	if out := must(t, podunit, "ps", "-n", "e2e-other"); strings.Contains(out, pod) {
		t.Errorf("ps -n e2e-other lists the pod:\n%s", out)
	}
	if out := must(t, podunit, "ps", "-A"); !regexp.MustCompile(`(?m)^` + pod + `\s+e2e-team\s+Running`).MatchString(out) { // kubectl's habit
		t.Errorf("ps -A:\n%s", out)
	}
	if out := must(t, podunit, "ps", pod, "-a"); !regexp.MustCompile(pod + `\s+app\s+Running`).MatchString(out) {
		t.Errorf("ps %s -a:\n%s", pod, out)
	}
	for _, args := range [][]string{{"logs", pod, "-n", "e2e-other"}, {"describe", pod, "-n", "e2e-other"}, {"exec", "-n", "e2e-other", pod, "--", "true"}} {
		if r := run(t, append([]string{podunit}, args...)...); r.code != 3 {
			t.Errorf("%q: exit %d, want 3 (not in that namespace)\n%s", args, r.code, r.stderr)
		}
	}
	if out := must(t, podunit, "logs", pod, "-n", "e2e-team"); !strings.Contains(out, "hello") {
		t.Errorf("logs -n e2e-team: %q", out)
	}
	if r := run(t, podunit, "down", "-n", "e2e-other", pod); r.code != 3 {
		t.Errorf("down -n of another namespace: exit %d, want 3 (not found)\n%s", r.code, r.stderr)
	}
	if r := run(t, podunit, "up", "-n", "e2e-other", writeManifest(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: e2e-team}\n")); r.code != 2 || !strings.Contains(r.stderr, "metadata.namespace") {
		t.Errorf("an object of another namespace than -n: exit %d\n%s", r.code, r.stderr)
	}
	out := must(t, podunit, "down", "-n", "e2e-team", path)
	if !strings.Contains(out, "pod/"+pod+" removed") || !strings.Contains(out, "configmap/e2e-nsflag-cfg deleted") {
		t.Errorf("down -n of the file:\n%s", out)
	}
	assertGone(t, pod)
}

// A pod whose host port a running pod holds is refused before anything is
// made (as the scheduler would not place it), naming both.
func TestHostPortTaken(t *testing.T) {
	manifest := func(name string) string {
		return fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: web, image: %s, ports: [{containerPort: 8080, hostPort: 18186}]}
`, name, serverImage)
	}
	up(t, manifest("e2e-port-a"), "e2e-port-a")
	r := run(t, podunit, "up", writeManifest(t, manifest("e2e-port-b")))
	if r.code != 2 || !strings.Contains(r.stderr, `pod "e2e-port-b": spec.containers[0].ports[0].hostPort: 18186/TCP is taken by pod "e2e-port-a"`) {
		t.Errorf("up of a pod whose host port is taken: exit %d\n%s", r.code, r.stderr)
	}
	assertGone(t, "e2e-port-b")
}

// Pods named as kubectl names them: pod/NAME (what podunit prints), a type
// word before the names, and label selectors (-l) on get, ps, wait,
// describe and down; get's jsonpath and custom-columns outputs.
func TestSelectors(t *testing.T) {
	path := writeManifest(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: e2e-sel-fe, labels: {app: e2e-sel, tier: fe}}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{name: app, image: %[1]s, command: [sh, -c, 'echo fe-says-hi; sleep 100000']}]
---
apiVersion: v1
kind: Pod
metadata: {name: e2e-sel-be, labels: {app: e2e-sel, tier: be}}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{name: app, image: %[1]s, command: [sleep, "100000"]}]
---
apiVersion: v1
kind: Service
metadata: {name: e2e-sel, labels: {app: e2e-sel}}
spec:
  selector: {app: e2e-sel}
  ports: [{port: 80}]
`, testImage))
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", path) })
	if r := run(t, podunit, "up", path); r.code != 0 {
		t.Fatalf("up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if out := must(t, podunit, "wait", "pod", "-l", "app=e2e-sel", "--for=condition=Ready", "--timeout", "60s"); out != "pod/e2e-sel-be condition met\npod/e2e-sel-fe condition met\n" {
		t.Errorf("wait pod -l: %q", out)
	}
	if r := run(t, podunit, "wait", "-l", "app=e2e-nobody", "--for=condition=Ready"); r.code != 3 {
		t.Errorf("wait -l matching nothing: exit %d, want 3\n%s", r.code, r.stderr)
	}
	if out := must(t, podunit, "get", "pods", "-l", "app=e2e-sel,tier!=be", "-o", "name"); out != "pod/e2e-sel-fe\n" {
		t.Errorf("get pods -l: %q", out)
	}
	ip := must(t, podunit, "get", "pod/e2e-sel-fe", "-o", "jsonpath={.status.podIP}")
	if _, err := netip.ParseAddr(ip); err != nil {
		t.Errorf("get pod/NAME -o jsonpath={.status.podIP}: %q", ip)
	}
	cols := must(t, podunit, "get", "pods", "-l", "app=e2e-sel", "-o", "custom-columns=NAME:.metadata.name,TIER:.metadata.labels.tier,IP:status.podIP")
	if want := "e2e-sel-fe   fe     " + ip + "\n"; !strings.Contains(cols, want) || !strings.HasPrefix(cols, "NAME") || !strings.Contains(cols, "e2e-sel-be   be") {
		t.Errorf("custom-columns:\n%s\nwant a line %q", cols, want)
	}
	if out := must(t, podunit, "get", "svc", "-l", "app=e2e-sel", "-o", "jsonpath={.items[*].metadata.name}"); out != "e2e-sel" {
		t.Errorf("get svc -l -o jsonpath: %q", out)
	}
	if out := must(t, podunit, "ps", "-l", "tier=be"); !strings.Contains(out, "e2e-sel-be") || strings.Contains(out, "e2e-sel-fe") {
		t.Errorf("ps -l tier=be:\n%s", out)
	}
	if out := must(t, podunit, "describe", "pods", "-l", "app=e2e-sel"); strings.Count(out, "\nName:") != 1 || !strings.HasPrefix(out, "Name:") {
		t.Errorf("describe pods -l: want two descriptions:\n%s", out)
	}
	if out := must(t, podunit, "logs", "pod/e2e-sel-fe"); !strings.Contains(out, "fe-says-hi") {
		t.Errorf("logs pod/NAME: %q", out)
	}
	if out := must(t, podunit, "exec", "pod/e2e-sel-be", "--", "hostname"); out != "e2e-sel-be\n" {
		t.Errorf("exec pod/NAME: %q", out)
	}
	if out := must(t, podunit, "logs", "-l", "tier=fe", "--prefix"); out != "[pod/e2e-sel-fe/app] fe-says-hi\n" {
		t.Errorf("logs -l tier=fe --prefix: %q", out)
	}
	if r := run(t, podunit, "logs", "svc/e2e-sel"); r.code != 2 || !strings.Contains(r.stderr, "svc/e2e-sel is not a pod") {
		t.Errorf("logs svc/NAME: exit %d\n%s", r.code, r.stderr)
	}
	// get -w: the table, then a line when a pod changes (here: goes)
	watched := make(chan result, 1)
	go func() { watched <- run(t, "timeout", "-s", "INT", "8", podunit, "get", "pods", "-w", "-l", "tier=fe") }()
	time.Sleep(2 * time.Second)
	if out := must(t, podunit, "down", "--grace-period", "0", "--force", "-l", "tier=fe"); out != "pod/e2e-sel-fe removed\n" {
		t.Errorf("down -l tier=fe: %q", out)
	}
	w := <-watched
	if lines := strings.Split(strings.TrimSpace(w.stdout), "\n"); len(lines) < 3 || !strings.HasPrefix(lines[0], "NAME") ||
		!regexp.MustCompile(`^e2e-sel-fe\s+1/1\s+Running`).MatchString(lines[1]) || !regexp.MustCompile(`^e2e-sel-fe\s+\d/1\s+Terminating`).MatchString(lines[len(lines)-1]) {
		t.Errorf("get pods -w while the pod went down:\n%s%s", w.stdout, w.stderr)
	}
	assertGone(t, "e2e-sel-fe")
	if st := status(t, "e2e-sel-be"); st == nil || st.Phase != "Running" {
		t.Errorf("the pod -l did not match: %+v", st)
	}
}

// The containers an earlier run of a pod left behind (the user manager
// stopped or the host went down before down: no units, no record; podman
// shows them Created) do not stop the pod from coming back: up removes its
// own (their label) first; down of such a pod removes them.
func TestLeftoverContainers(t *testing.T) {
	for _, pod := range []string{"e2e-left", "e2e-left2"} {
		p := pod
		t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", p) })
		must(t, "podman", "create", "--name", "podunit_"+p, "--label", "io.podunit.pod="+p, "--label", "io.podunit.role=infra", testImage, "sleep", "1000")
		must(t, "podman", "create", "--name", "podunit_"+p+"_app", "--label", "io.podunit.pod="+p, "--network", "container:podunit_"+p, testImage, "sleep", "1000")
	}
	up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: e2e-left}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{name: app, image: %s, command: [sleep, "100000"]}]
`, testImage), "e2e-left")
	if st := status(t, "e2e-left"); st == nil || st.Phase != "Running" {
		t.Errorf("the pod after its leftovers: %+v", st)
	}
	if out := must(t, podunit, "down", "e2e-left2"); out != "pod/e2e-left2 removed\n" {
		t.Errorf("down of a pod with only leftovers: %q", out)
	}
	if out := must(t, "podman", "ps", "-a", "--filter", "label=io.podunit.pod=e2e-left2", "--format", "{{.Names}}"); out != "" {
		t.Errorf("leftovers after down: %q", out)
	}
	if r := run(t, podunit, "down", "e2e-left2"); r.code != 3 {
		t.Errorf("down of a pod with nothing left: exit %d, want 3", r.code)
	}
}

// top: each pod's and container's CPU from their cgroups (memory where the
// manager has the memory controller, <unknown> otherwise).
func TestTop(t *testing.T) {
	up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: e2e-top, labels: {app: e2e-top}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: busy, image: %[1]s, command: [sh, -c, 'while :; do :; done']}
  - {name: idle, image: %[1]s, command: [sleep, "100000"]}
`, testImage), "e2e-top")
	out := must(t, podunit, "top", "pod", "--containers", "-l", "app=e2e-top", "--window", "2s")
	busy := regexp.MustCompile(`(?m)^e2e-top\s+busy\s+(\d+)m\s+(\S+)$`).FindStringSubmatch(out)
	idle := regexp.MustCompile(`(?m)^e2e-top\s+idle\s+(\d+)m\s+(\S+)$`).FindStringSubmatch(out)
	if busy == nil || idle == nil {
		t.Fatalf("top --containers:\n%s", out)
	}
	if b, i := atoi(t, busy[1]), atoi(t, idle[1]); b < 200 || i > 100 {
		t.Errorf("busy %dm, idle %dm: the busy loop should take most of a core, sleep next to nothing\n%s", b, i, out)
	}
	pods := must(t, podunit, "top", "pods", "e2e-top")
	if m := regexp.MustCompile(`(?m)^e2e-top\s+(\d+)m\s+(\S+)$`).FindStringSubmatch(pods); m == nil || atoi(t, m[1]) < 200 {
		t.Errorf("top pods e2e-top:\n%s", pods)
	}
	if r := run(t, podunit, "top", "pod", "e2e-nobody"); r.code != 3 {
		t.Errorf("top of an unknown pod: exit %d, want 3", r.code)
	}
}

// port-forward: a port the pod serves only on its own loopback (not
// published) is reached from this host's, through one helper in the pod's
// network namespace, which goes when the port-forward does.
func TestPortForward(t *testing.T) {
	up(t, `
apiVersion: v1
kind: Pod
metadata: {name: e2e-pf, labels: {app: e2e-pf}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: web, image: `+serverImage+`, args: [-listen, "127.0.0.1:8080"], ports: [{name: http, containerPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: e2e-pf}
spec:
  selector: {app: e2e-pf}
  ports: [{port: 80, targetPort: http}]
`, "e2e-pf")
	t.Cleanup(func() {
		run(t, podunit, "down", writeManifest(t, "apiVersion: v1\nkind: Service\nmetadata: {name: e2e-pf}\nspec: {selector: {app: e2e-pf}, ports: [{port: 80}]}\n"))
	})
	forwarded := make(chan result, 1)
	go func() {
		forwarded <- run(t, "timeout", "-s", "INT", "10", podunit, "port-forward", "pod/e2e-pf", "18997:8080")
	}()
	eventually(t, 8*time.Second, "the forwarded port answering", func() bool {
		return run(t, "curl", "-sf", "-m", "2", "http://127.0.0.1:18997/").code == 0
	})
	r := <-forwarded
	if !strings.Contains(r.stdout, "Forwarding from 127.0.0.1:18997 -> 8080") || !strings.Contains(r.stdout, "Handling connection for 18997") {
		t.Errorf("port-forward said:\n%s%s", r.stdout, r.stderr)
	}
	if left := run(t, "pgrep", "-f", "internal forwar[d]").stdout; left != "" {
		t.Errorf("forwarders left after the port-forward ended: %s", left)
	}
	// svc/NAME: a ready pod of the Service, the Service's port mapped to
	// its (named) targetPort
	go func() {
		forwarded <- run(t, "timeout", "-s", "INT", "8", podunit, "port-forward", "svc/e2e-pf", "18996:80")
	}()
	eventually(t, 8*time.Second, "the Service's forwarded port answering", func() bool {
		return run(t, "curl", "-sf", "-m", "2", "http://127.0.0.1:18996/").code == 0
	})
	if r := <-forwarded; !strings.Contains(r.stdout, "Forwarding from 127.0.0.1:18996 -> 8080") {
		t.Errorf("port-forward svc/e2e-pf said:\n%s%s", r.stdout, r.stderr)
	}
	if r := run(t, podunit, "port-forward", "svc/e2e-pf", "81"); r.code != 2 || !strings.Contains(r.stderr, "has no port 81") {
		t.Errorf("port-forward to a port the Service lacks: exit %d\n%s", r.code, r.stderr)
	}
	if r := run(t, podunit, "port-forward", "e2e-nobody", "8080"); r.code != 3 {
		t.Errorf("port-forward to an unknown pod: exit %d, want 3", r.code)
	}
	if r := run(t, podunit, "port-forward", "e2e-pf", "99999"); r.code != 2 {
		t.Errorf("port-forward to port 99999: exit %d, want 2", r.code)
	}
}

// cp: a file to a pod's container and back (podman cp underneath: no tar
// needed in the image), with the namespace/pod:path form.
func TestCopy(t *testing.T) {
	up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: e2e-cp}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: a, image: %[1]s, command: [sleep, "100000"]}
  - {name: b, image: %[1]s, command: [sleep, "100000"]}
`, testImage), "e2e-cp")
	must(t, "sh", "-c", `echo cp-data > "$HOME/e2e-cp-src"`)
	t.Cleanup(func() { run(t, "sh", "-c", `rm -f "$HOME/e2e-cp-src" "$HOME/e2e-cp-back"`) })
	must(t, "sh", "-c", podunit+` cp "$HOME/e2e-cp-src" e2e-cp:/tmp/in -c b`)
	if out := must(t, podunit, "exec", "e2e-cp", "-c", "b", "--", "cat", "/tmp/in"); out != "cp-data\n" {
		t.Errorf("the copied file in container b: %q", out)
	}
	if r := run(t, podunit, "exec", "e2e-cp", "-c", "a", "--", "cat", "/tmp/in"); r.code == 0 {
		t.Error("the file went to container a too")
	}
	must(t, "sh", "-c", podunit+` cp default/e2e-cp:/tmp/in "$HOME/e2e-cp-back" -c b`)
	if out := must(t, "sh", "-c", `cat "$HOME/e2e-cp-back"`); out != "cp-data\n" {
		t.Errorf("copied back: %q", out)
	}
	if r := run(t, podunit, "cp", "e2e-nobody:/x", "/tmp/x"); r.code != 3 {
		t.Errorf("cp from an unknown pod: exit %d, want 3", r.code)
	}
}

// label: a running pod's labels change as with kubectl label; its Service
// endpoints and its downwardAPI labels file follow at once.
func TestLabel(t *testing.T) {
	path := writeManifest(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: e2e-lab, labels: {app: e2e-lab}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: %s
    command: [sleep, "100000"]
    volumeMounts: [{name: info, mountPath: /info}]
  volumes:
  - name: info
    downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}, {path: owner, fieldRef: {fieldPath: "metadata.annotations['owner']"}}]}
---
apiVersion: v1
kind: Service
metadata: {name: e2e-lab}
spec:
  selector: {app: e2e-lab}
  ports: [{port: 80}]
`, testImage))
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", path) })
	must(t, podunit, "up", path)
	ip := must(t, podunit, "get", "pod/e2e-lab", "-o", "jsonpath={.status.podIP}")
	eventually(t, 10*time.Second, "the pod among the Service's endpoints", func() bool {
		return strings.Contains(must(t, podunit, "get", "svc", "e2e-lab"), ip+":80")
	})
	if out := must(t, podunit, "label", "pod/e2e-lab", "tier=gold"); out != "pod/e2e-lab labeled\n" {
		t.Errorf("label: %q", out)
	}
	if got := must(t, podunit, "exec", "e2e-lab", "--", "cat", "/info/labels"); got != "app=\"e2e-lab\"\ntier=\"gold\"" {
		t.Errorf("the downwardAPI labels file: %q", got)
	}
	if r := run(t, podunit, "label", "e2e-lab", "tier=silver"); r.code != 3 || !strings.Contains(r.stderr, "--overwrite") {
		t.Errorf("label of a label the pod has, without --overwrite: exit %d\n%s", r.code, r.stderr)
	}
	must(t, podunit, "label", "e2e-lab", "tier=silver", "--overwrite")
	if out := must(t, podunit, "get", "pods", "-l", "tier=silver", "-o", "name"); out != "pod/e2e-lab\n" {
		t.Errorf("get -l tier=silver: %q", out)
	}
	must(t, podunit, "label", "e2e-lab", "app-")
	eventually(t, 10*time.Second, "the pod out of the Service's endpoints", func() bool {
		return !strings.Contains(must(t, podunit, "get", "svc", "e2e-lab"), ip+":80")
	})
	// the manifest applied again: its labels are the pod's again, in place
	if out := must(t, podunit, "up", path); !strings.Contains(out, "pod/e2e-lab configured (labels)") {
		t.Errorf("up of the manifest after label: %q", out)
	}
	if got := must(t, podunit, "get", "pod/e2e-lab", "-o", "jsonpath={.metadata.labels}"); got != `{"app":"e2e-lab"}` {
		t.Errorf("labels after up: %s", got)
	}
	if got := must(t, podunit, "get", "pod/e2e-lab", "-o", "jsonpath={.status.podIP}"); got != ip {
		t.Errorf("the pod was recreated: IP %s, was %s", got, ip)
	}
	eventually(t, 10*time.Second, "the pod back among the Service's endpoints", func() bool {
		return strings.Contains(must(t, podunit, "get", "svc", "e2e-lab"), ip+":80")
	})

	// annotate, as kubectl annotate: the downwardAPI file follows; those
	// read when the pod is made are refused; the manifest applied again
	// takes them back in place
	if out := must(t, podunit, "annotate", "e2e-lab", "owner=team-a"); out != "pod/e2e-lab annotated\n" {
		t.Errorf("annotate: %q", out)
	}
	if got := must(t, podunit, "exec", "e2e-lab", "--", "cat", "/info/owner"); got != "team-a" {
		t.Errorf("the downwardAPI annotation file: %q", got)
	}
	if r := run(t, podunit, "annotate", "e2e-lab", "owner=team-b"); r.code != 3 || !strings.Contains(r.stderr, "--overwrite") {
		t.Errorf("annotate without --overwrite: exit %d\n%s", r.code, r.stderr)
	}
	if r := run(t, podunit, "annotate", "e2e-lab", "kubernetes.io/egress-bandwidth=1M"); r.code != 2 || !strings.Contains(r.stderr, "metadata.annotations[kubernetes.io/egress-bandwidth]") {
		t.Errorf("annotate of a bandwidth: exit %d\n%s", r.code, r.stderr)
	}
	if got := must(t, podunit, "get", "pod/e2e-lab", "-o", "jsonpath={.metadata.annotations.owner}"); got != "team-a" {
		t.Errorf("get after annotate: %q", got)
	}
	if out := must(t, podunit, "up", path); !strings.Contains(out, "pod/e2e-lab configured (annotations)") {
		t.Errorf("up of the manifest after annotate: %q", out)
	}
	if got := must(t, podunit, "exec", "e2e-lab", "--", "cat", "/info/owner"); got != "" {
		t.Errorf("the downwardAPI annotation file after up: %q", got)
	}
	if got := must(t, podunit, "get", "pod/e2e-lab", "-o", "jsonpath={.status.podIP}"); got != ip {
		t.Errorf("the pod was recreated by up after annotate: IP %s, was %s", got, ip)
	}
}

// get events, get namespaces and get endpoints, as kubectl users type them:
// a namespace applied, a Service's Endpoints with a ready and a not ready
// pod, a failing readiness probe's events counted in one (describe too),
// and get events -w printing a restart's events as they come; describe of
// a Service, a namespace, a ConfigMap and a Secret (its sizes only).
func TestGetEventsNamespacesEndpoints(t *testing.T) {
	const ns = "e2e-gev"
	path := writeManifest(t, fmt.Sprintf(`
apiVersion: v1
kind: Namespace
metadata: {name: %[1]s, labels: {team: e2e}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: %[1]s}
spec:
  selector: {app: e2e-gev}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: %[1]s}
data: {greeting: hello-from-cm}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: %[1]s}
stringData: {password: s3cr3t-never-shown}
---
apiVersion: v1
kind: Pod
metadata: {name: e2e-gev-ok, namespace: %[1]s, labels: {app: e2e-gev}}
spec:
  containers:
  - name: c
    image: %[2]s
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]
---
apiVersion: v1
kind: Pod
metadata: {name: e2e-gev-bad, namespace: %[1]s, labels: {app: e2e-gev}}
spec:
  containers:
  - name: c
    image: %[2]s
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]
    readinessProbe: {exec: {command: ["false"]}, periodSeconds: 1}
`, ns, testImage))
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", path) })
	if r := run(t, podunit, "up", path); r.code != 0 {
		t.Fatalf("up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	must(t, podunit, "wait", "-n", ns, "pod/e2e-gev-ok", "--for=condition=Ready", "--timeout", "60s")

	if out := must(t, podunit, "get", "ns"); !regexp.MustCompile(`(?m)^default\s+Active\s`).MatchString(out) || !regexp.MustCompile(`(?m)^e2e-gev\s+Active\s+\d+s$`).MatchString(out) {
		t.Errorf("get ns:\n%s", out)
	}
	if out := must(t, podunit, "get", "ns", "-l", "team=e2e", "-o", "name"); out != "namespace/e2e-gev\n" {
		t.Errorf("get ns -l team=e2e -o name: %q", out)
	}

	ip := must(t, podunit, "get", "-n", ns, "pod/e2e-gev-ok", "-o", "jsonpath={.status.podIP}")
	if out := must(t, podunit, "get", "ep", "-n", ns); !regexp.MustCompile(`(?m)^web\s+` + regexp.QuoteMeta(ip) + `:8080\s+\d+[smhd]\S*$`).MatchString(out) {
		t.Errorf("get ep (only the ready pod, %s):\n%s", ip, out)
	}
	if out := must(t, podunit, "get", "endpoints", "web", "-n", ns, "-o", "jsonpath={.subsets[*].notReadyAddresses[*].targetRef.name}"); out != "e2e-gev-bad" {
		t.Errorf("get endpoints -o jsonpath notReadyAddresses: %q", out)
	}

	// describe of the objects, as kubectl's
	if out := must(t, podunit, "describe", "svc", "web", "-n", ns); !regexp.MustCompile(`(?m)^Endpoints:\s+`+regexp.QuoteMeta(ip)+`:8080$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^Selector:\s+app=e2e-gev$`).MatchString(out) || !regexp.MustCompile(`(?m)^Port:\s+http  80/TCP$`).MatchString(out) {
		t.Errorf("describe svc:\n%s", out)
	}
	if out := must(t, podunit, "describe", "ns/"+ns); !regexp.MustCompile(`(?m)^Status:\s+Active$`).MatchString(out) || !strings.Contains(out, "team=e2e") {
		t.Errorf("describe ns:\n%s", out)
	}
	if out := must(t, podunit, "describe", "cm", "-n", ns); !strings.Contains(out, "greeting:\n----\nhello-from-cm\n") {
		t.Errorf("describe cm:\n%s", out)
	}
	if out := must(t, podunit, "describe", "secret/creds", "-n", ns); !regexp.MustCompile(`(?m)^password:\s+18 bytes$`).MatchString(out) || strings.Contains(out, "s3cr3t") {
		t.Errorf("describe secret (sizes, never values):\n%s", out)
	}
	if r := run(t, podunit, "describe", "svc", "nope", "-n", ns); r.code != 3 || !strings.Contains(r.stderr, `service "nope" not found`) {
		t.Errorf("describe svc nope: exit %d %s", r.code, r.stderr)
	}

	// the failing probe: one event, counted
	eventually(t, 30*time.Second, "the readiness probe's Unhealthy event counted 3 times", func() bool {
		out := must(t, podunit, "get", "events", "-n", ns, "-o", "jsonpath={range .items[?(@.reason==\"Unhealthy\")]}{.involvedObject.name} {.involvedObject.fieldPath} {.count}{\"\\n\"}{end}")
		f := strings.Fields(out)
		if len(f) != 3 {
			return false
		}
		n, _ := strconv.Atoi(f[2])
		return f[0] == "e2e-gev-bad" && f[1] == "spec.containers{c}" && n >= 3
	})
	// kubectl's --field-selector and --sort-by
	if out := must(t, podunit, "get", "events", "-n", ns, "--field-selector", "involvedObject.name=e2e-gev-bad,type=Warning", "-o", "jsonpath={.items[*].reason}"); out != "Unhealthy" {
		t.Errorf("get events --field-selector involvedObject.name=...,type=Warning: %q", out)
	}
	if out := must(t, podunit, "get", "pods", "-n", ns, "--field-selector", "status.phase=Running", "--sort-by", ".metadata.name", "-o", "name"); out != "pod/e2e-gev-bad\npod/e2e-gev-ok\n" {
		t.Errorf("get pods --field-selector status.phase=Running --sort-by .metadata.name: %q", out)
	}
	if out := must(t, podunit, "get", "events", "-n", ns, "--sort-by", ".count", "-o", "jsonpath={.items[-1:].reason}"); out != "Unhealthy" {
		t.Errorf("get events --sort-by .count: the most counted last, got %q", out)
	}
	if r := run(t, podunit, "get", "svc", "--field-selector", "spec.clusterIP=x"); r.code != 2 || !strings.Contains(r.stderr, "spec.clusterIP") {
		t.Errorf("get svc --field-selector of a field services are not selected by: exit %d %s", r.code, r.stderr)
	}
	desc := must(t, podunit, "describe", "-n", ns, "e2e-gev-bad")
	if lines := regexp.MustCompile(`(?m)^.*Unhealthy.*$`).FindAllString(desc, -1); len(lines) != 1 || !regexp.MustCompile(`\(x\d+ over \d+s\)`).MatchString(lines[0]) {
		t.Errorf("describe: want one Unhealthy line with its count:\n%s", desc)
	}
	if r := run(t, podunit, "get", "events", "-l", "app=e2e-gev"); r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "No resources found") {
		t.Errorf("get events -l (events have no labels): exit %d %q %q", r.code, r.stdout, r.stderr)
	}

	// -w: the restart's events as they happen
	watched := make(chan result, 1)
	go func() { watched <- run(t, "timeout", "-s", "INT", "10", podunit, "get", "events", "-w", "-n", ns) }()
	time.Sleep(2 * time.Second)
	must(t, "systemctl", "--user", "restart", units.ContainerUnitName("e2e-gev-ok", "c"))
	w := <-watched
	if !regexp.MustCompile(`(?m)^LAST SEEN\s+TYPE`).MatchString(w.stdout) || !regexp.MustCompile(`(?m)^\S+\s+Normal\s+Killing\s+pod/e2e-gev-ok\s`).MatchString(w.stdout) {
		t.Errorf("get events -w while a container restarted:\n%s%s", w.stdout, w.stderr)
	}
	if r := run(t, podunit, "get", "svc", "-w"); r.code != 2 {
		t.Errorf("get svc -w: exit %d, want 2 (only pods and events are watched)", r.code)
	}

	must(t, podunit, "down", "--grace-period", "0", "--force", path)
	if out := must(t, podunit, "get", "ns"); strings.Contains(out, ns) {
		t.Errorf("get ns after down of the file:\n%s", out)
	}
}

// kubectl delete pods --field-selector status.phase=Failed and --all: the
// pods whose status matches go, the others stay.
func TestDownByFieldSelector(t *testing.T) {
	path := writeManifest(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: e2e-fs-ok, namespace: e2e-fs}
spec:
  restartPolicy: Never
  containers: [{name: c, image: %[1]s, command: ["true"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: e2e-fs-bad, namespace: e2e-fs}
spec:
  restartPolicy: Never
  containers: [{name: c, image: %[1]s, command: ["false"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: e2e-fs-runs, namespace: e2e-fs}
spec:
  containers: [{name: c, image: %[1]s, command: ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]}]
`, testImage))
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", path) })
	must(t, podunit, "up", path)
	eventually(t, 30*time.Second, "both run-once pods to end", func() bool {
		return must(t, podunit, "get", "pods", "-n", "e2e-fs", "--field-selector", "status.phase!=Running", "-o", "name") == "pod/e2e-fs-bad\npod/e2e-fs-ok\n"
	})
	if out := must(t, podunit, "delete", "pods", "-n", "e2e-fs", "--field-selector", "status.phase=Failed"); out != "pod/e2e-fs-bad removed\n" {
		t.Errorf("delete pods --field-selector status.phase=Failed: %q", out)
	}
	if out := must(t, podunit, "get", "pods", "-n", "e2e-fs", "-o", "name"); out != "pod/e2e-fs-ok\npod/e2e-fs-runs\n" {
		t.Errorf("left: %q", out)
	}
	if r := run(t, podunit, "down", "svc", "--all"); r.code != 2 {
		t.Errorf("down svc --all: exit %d, want 2 (--all selects pods)", r.code)
	}
	if out := must(t, podunit, "down", "pods", "--all", "-n", "e2e-fs"); !strings.HasPrefix(out, "pod/e2e-fs-ok removed\npod/e2e-fs-runs removed\n") {
		t.Errorf("down pods --all -n e2e-fs: %q", out)
	}
}

// kubectl run: a pod of one container (and with --expose its Service),
// started as up starts a manifest; --dry-run=client -o yaml is a manifest
// up takes without a warning; attaching is refused with what to do.
func TestRun(t *testing.T) {
	const pod = "e2e-run"
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", pod, "svc/"+pod) })
	r := run(t, podunit, "run", pod, "--image", testImage, "--port", "8080", "--expose", "--env", "GREETING=hello-from-run",
		"--", "sh", "-c", "echo $GREETING; trap 'exit 0' TERM; sleep 100000 & wait")
	if r.code != 0 || !strings.Contains(r.stdout, "service/"+pod+" created") || !strings.Contains(r.stdout, "pod/"+pod+" started") || r.stderr != "" {
		t.Fatalf("run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	must(t, podunit, "wait", pod, "--for=condition=Ready", "--timeout", "60s")
	if out := must(t, podunit, "get", "pod", pod, "-o", "jsonpath={.metadata.labels.run} {.spec.restartPolicy} {.spec.containers[0].name}"); out != pod+" Always "+pod {
		t.Errorf("the pod: %q", out)
	}
	eventually(t, 20*time.Second, "its output", func() bool { return strings.Contains(must(t, podunit, "logs", pod), "hello-from-run") })
	ip := must(t, podunit, "get", "pod", pod, "-o", "jsonpath={.status.podIP}")
	if out := must(t, podunit, "get", "ep", pod); !strings.Contains(out, ip+":8080") {
		t.Errorf("its Service's endpoints: %s", out)
	}

	r = run(t, podunit, "run", "e2e-run-dry", "--image", testImage, "--restart", "Never", "--dry-run=client", "-o", "yaml", "--", "true")
	if r.code != 0 || !strings.Contains(r.stdout, "restartPolicy: Never") {
		t.Fatalf("run --dry-run=client -o yaml: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if up := run(t, podunit, "up", "--dry-run", writeManifest(t, r.stdout)); up.code != 0 || up.stderr != "" {
		t.Errorf("up --dry-run of run's manifest: exit %d\n%s", up.code, up.stderr)
	}
	if r := run(t, podunit, "get", "pod", "e2e-run-dry"); r.code == 0 {
		t.Errorf("--dry-run=client made a pod:\n%s", r.stdout)
	}
	if r := run(t, podunit, "run", "--rm", "e2e-run-rm", "--image", testImage); r.code != 2 || !strings.Contains(r.stderr, "needs -i") {
		t.Errorf("run --rm without -i: exit %d %s", r.code, r.stderr)
	}
}

// kubectl run -i --rm: attached to the container (a terminal with -t, its
// size and a resize reaching it), the container's exit status is run's, and
// the pod is gone after; a command that ends before the attach has its
// output shown. attach joins a running container's terminal again.
func TestRunAttached(t *testing.T) {
	t.Cleanup(func() {
		run(t, podunit, "down", "--grace-period", "0", "--force", "e2e-run-it", "e2e-run-once", "e2e-attach")
	})
	ptyShell(t, "e2e-run-it", []string{podunit, "run", "-it", "--rm", "--restart", "Never", "e2e-run-it", "--image", testImage, "--", "sh"}, 3)
	assertGone(t, "e2e-run-it")

	r := run(t, podunit, "run", "e2e-run-once", "-i", "--rm", "--restart", "Never", "--image", testImage, "--", "sh", "-c", "echo once-out; exit 5")
	if r.code != 5 || !strings.Contains(r.stdout, "once-out") {
		t.Errorf("run -i --rm of a short command: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	assertGone(t, "e2e-run-once")

	must(t, podunit, "run", "e2e-attach", "--image", testImage, "--stdin", "--tty", "--attach=false", "--", "sh")
	must(t, podunit, "wait", "e2e-attach", "--for=condition=Ready", "--timeout", "60s")
	ptyShell(t, "e2e-attach", []string{podunit, "attach", "e2e-attach", "-it"}, 0) // as kubectl attach: the session ends, no status
	if r := run(t, podunit, "attach", "e2e-nope"); r.code != 3 {
		t.Errorf("attach to no pod: exit %d %s", r.code, r.stderr)
	}
}
