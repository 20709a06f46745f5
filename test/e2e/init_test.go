package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/podunit/podunit/units"
)

// Init containers run one at a time, in order, before the app; a sidecar starts
// in its place in that order, keeps running, and stops after the app.
func TestInitAndSidecarOrdering(t *testing.T) {
	const pod = "e2e-init-order"
	dir := sharedDir(t)
	step := func(name string) string {
		return fmt.Sprintf(`
  - name: %s
    image: %s
    command: ["sh", "-c", "echo %s >> /work/log"]
    volumeMounts: [{name: work, mountPath: /work}]`, name, testImage, name)
	}
	up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 5
  initContainers:%s
  - name: sidecar
    image: %s
    restartPolicy: Always
    command: ["sh", "-c", "echo sidecar >> /work/log; trap 'echo sidecar-term >> /work/log; exit 0' TERM; sleep 100000 & wait"]
    volumeMounts: [{name: work, mountPath: /work}]%s
  containers:
  - name: app
    image: %s
    command: ["sh", "-c", "echo app >> /work/log; trap 'echo app-term >> /work/log; exit 0' TERM; sleep 100000 & wait"]
    volumeMounts: [{name: work, mountPath: /work}]
  volumes:
  - name: work
    hostPath: {path: %s}
`, pod, step("init-0")+step("init-1"), testImage, step("init-2"), testImage, dir), pod)
	st := status(t, pod)
	if st == nil || st.Phase != "Running" {
		t.Fatalf("ps: %+v", st)
	}
	for _, c := range st.Containers {
		switch {
		case strings.HasPrefix(c.Name, "init-") && (c.State != "Terminated" || c.Reason != "Completed"):
			t.Errorf("%s: %s/%s, want Terminated/Completed", c.Name, c.State, c.Reason)
		case !strings.HasPrefix(c.Name, "init-") && c.State != "Running":
			t.Errorf("%s: %s, want Running", c.Name, c.State)
		}
	}
	must(t, podunit, "down", pod)
	got := strings.Join(readLines(t, filepath.Join(dir, "log")), " ")
	want := "init-0 init-1 sidecar init-2 app app-term sidecar-term"
	if got != want {
		t.Errorf("order:\n got %s\nwant %s", got, want)
	}
	assertGone(t, pod)
}

// A failing init container under restartPolicy Never fails the pod; the app
// container never starts, and the pod is kept for describe.
func TestInitFailureNever(t *testing.T) {
	const pod = "e2e-init-never"
	path := writeManifest(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: check
    image: %s
    command: ["sh", "-c", "exit 3"]
  containers:
  - name: app
    image: %s
    command: ["sleep", "100000"]
`, pod, testImage, testImage))
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", pod) })
	r := run(t, podunit, "up", path)
	if r.code != 4 || !strings.Contains(r.stderr, "init container check exited with status 3") {
		t.Fatalf("up: exit %d, stderr %s", r.code, r.stderr)
	}
	// the pod failed for good: its sandbox goes, as the kubelet stops it
	eventually(t, 20*time.Second, "the failed pod's infra to stop", func() bool {
		return unitProp(t, "podunit-e2e\\x2dinit\\x2dnever.service", "ActiveState") == "inactive"
	})
	if r := run(t, podunit, "exec", pod, "--", "true"); r.code == 0 || !strings.Contains(r.stderr, "current phase is Failed") {
		t.Errorf("exec into the failed pod: exit %d %s", r.code, r.stderr)
	}
	st := status(t, pod)
	if st == nil || st.Phase != "Failed" {
		t.Fatalf("ps: %+v, want phase Failed", st)
	}
	check, app := st.Containers[0], st.Containers[1]
	if check.State != "Terminated" || check.ExitCode == nil || *check.ExitCode != 3 {
		t.Errorf("init container: %+v", check)
	}
	if app.State != "Waiting" {
		t.Errorf("app container: %+v, want Waiting (never started)", app)
	}
	if got := unitProp(t, "podunit-e2e\\x2dinit\\x2dnever-app.service", "ActiveEnterTimestamp"); got != "" {
		t.Errorf("the app unit was active at %s", got)
	}
	if d := describe(t, pod); !strings.Contains(d, "restartPolicy Never: the pod has failed") {
		t.Errorf("describe:\n%s", d)
	}
	must(t, podunit, "down", pod)
	assertGone(t, pod)
}

// Under OnFailure a failing init container is retried as the kubelet
// retries it: the first time at once, then after a back-off of 10 s; the app
// starts once it succeeds.
func TestInitFailureRetried(t *testing.T) {
	const pod = "e2e-init-retry"
	dir := sharedDir(t)
	start := time.Now()
	up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  restartPolicy: OnFailure
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: flaky
    image: %s
    command: ["sh", "-c", "echo try >> /work/tries; [ $(wc -l < /work/tries) -ge 3 ]"]
    volumeMounts: [{name: work, mountPath: /work}]
  containers:
  - name: app
    image: %s
    command: ["sleep", "100000"]
`+"  volumes:\n  - name: work\n    hostPath: {path: %s}\n", pod, testImage, testImage, dir), pod)
	took := time.Since(start)
	if n := len(readLines(t, filepath.Join(dir, "tries"))); n != 3 {
		t.Errorf("init container ran %d times, want 3", n)
	}
	if took < 9*time.Second {
		t.Errorf("up took %s: no back-off between attempts", took)
	}
	if st := status(t, pod); st == nil || st.Phase != "Running" {
		t.Errorf("ps: %+v", st)
	}
	if d := describe(t, pod); strings.Count(d, "back-off 10s before restarting it") != 1 || !strings.Contains(d, "exited with status 1; restarting it") {
		t.Errorf("describe, want one immediate retry and one back-off of 10s:\n%s", d)
	}
}

// A sidecar that exits is restarted; the app container goes on.
func TestSidecarRestarted(t *testing.T) {
	const pod = "e2e-sidecar-restart"
	up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: helper
    image: %s
    restartPolicy: Always
    command: ["sh", "-c", "sleep 1; exit 1"]
  containers:
  - name: app
    image: %s
    command: ["sleep", "100000"]
`, pod, testImage, testImage), pod)
	eventually(t, 20*time.Second, "the sidecar to restart", func() bool {
		n := unitProp(t, "podunit-e2e\\x2dsidecar\\x2drestart-helper.service", "NRestarts")
		return n != "0" && n != ""
	})
	if s := unitProp(t, "podunit-e2e\\x2dsidecar\\x2drestart-app.service", "ActiveState"); s != "active" {
		t.Errorf("app: %s", s)
	}
}

// A pod that restarts no container completes once its app containers have
// ended for good: its sidecars are stopped then, not before (one app
// container ended at once, the other failed once and came back, as
// OnFailure says), and kubectl's view says Completed; then its infra goes,
// and another pod may take its host port.
func TestSidecarsEndWithThePod(t *testing.T) {
	const pod = "e2e-sidecar-end"
	path := up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  restartPolicy: OnFailure
  terminationGracePeriodSeconds: 2
  initContainers:
  - name: log
    image: %s
    restartPolicy: Always
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]
  containers:
  - name: quick
    image: %s
    command: ["true"]
    ports: [{containerPort: 8080, hostPort: 18557}]
  - name: work
    image: %s
    command: ["sh", "-c", "sleep 1; n=$(cat /shared/n 2>/dev/null || echo 0); echo $((n+1)) > /shared/n; [ $n -ge 1 ]"]
    volumeMounts: [{name: shared, mountPath: /shared}]
  volumes: [{name: shared, emptyDir: {}}]
`, pod, testImage, testImage, testImage), pod)
	eventually(t, 60*time.Second, "the pod to complete", func() bool {
		st := status(t, pod)
		return st != nil && st.Phase == "Succeeded"
	})
	eventually(t, 20*time.Second, "the sidecar to be stopped", func() bool {
		return unitProp(t, "podunit-e2e\\x2dsidecar\\x2dend-log.service", "ActiveState") != "active"
	})
	table := must(t, podunit, "get", "pods", pod)
	if !regexp.MustCompile(pod + `\s+0/3\s+Completed\s+1`).MatchString(table) {
		t.Errorf("get pods:\n%s", table)
	}
	// the sidecar went after work's second run, not after quick's end
	ev := must(t, podunit, "events", pod)
	stop := strings.Index(ev, "Stopping sidecar containers")
	if stop < 0 || strings.Count(ev[:stop], "Started container work") != 2 || !strings.Contains(ev[stop:], "Stopping container log") {
		t.Errorf("events:\n%s", ev)
	}
	if st := status(t, pod); st == nil || st.Phase != "Succeeded" {
		t.Errorf("after the sidecar stopped: %+v", st)
	}
	// Then the sandbox goes, as the kubelet lets a terminal pod's go: the
	// infra, its address and its host port; the pod stays Succeeded with
	// its restarts, until down.
	eventually(t, 20*time.Second, "the infra to go", func() bool {
		return unitProp(t, "podunit-e2e\\x2dsidecar\\x2dend.service", "ActiveState") != "active" &&
			run(t, "podman", "container", "exists", units.InfraContainerName(pod)).code != 0
	})
	if table := must(t, podunit, "get", "pods", pod); !regexp.MustCompile(pod + `\s+0/3\s+Completed\s+1`).MatchString(table) {
		t.Errorf("get pods once the infra went:\n%s", table)
	}
	if r := run(t, podunit, "exec", pod, "-c", "log", "--", "true"); r.code == 0 || !strings.Contains(r.stderr, "cannot exec into a container in a completed pod; current phase is Succeeded") {
		t.Errorf("exec into the completed pod: exit %d\n%s", r.code, r.stderr)
	}
	if r := run(t, podunit, "top", "pod", pod); r.code == 0 || !strings.Contains(r.stderr, "has completed (Succeeded)") {
		t.Errorf("top of the completed pod: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := run(t, podunit, "up", path); r.code != 0 || !strings.Contains(r.stdout, "unchanged") {
		t.Errorf("up of the completed pod's manifest: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	up(t, `
apiVersion: v1
kind: Pod
metadata: {name: e2e-sidecar-end-port}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: `+testImage+`
    command: ["sh", "-c", "trap 'exit 0' TERM; httpd -f -p 8080 & wait"]
    ports: [{containerPort: 8080, hostPort: 18557}]
`, "e2e-sidecar-end-port")
	if st := status(t, "e2e-sidecar-end-port"); st == nil || st.Phase != "Running" {
		t.Errorf("a pod on the completed pod's host port: %+v", st)
	}
}

// An init container that keeps failing shows Init:CrashLoopBackOff with its
// restarts and its last run's termination message, as kubectl shows it;
// `up` stops waiting at --timeout (exit 4) and keeps the pod.
func TestInitCrashLoop(t *testing.T) {
	const pod = "e2e-init-loop"
	path := writeManifest(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: wait-db
    image: %s
    command: ["sh", "-c", "echo 'no database yet' > /dev/termination-log; exit 2"]
  containers:
  - name: app
    image: %s
    command: ["sleep", "100000"]
`, pod, testImage, testImage))
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", pod) })
	done := make(chan result, 1)
	go func() { done <- run(t, podunit, "up", "--timeout", "25s", path) }()
	// the first failure is retried at once; the second waits, one restart made
	row := regexp.MustCompile(pod + `\s+0/1\s+Init:CrashLoopBackOff\s+1\s`)
	eventually(t, 20*time.Second, "Init:CrashLoopBackOff after the second failure", func() bool {
		return row.MatchString(run(t, podunit, "get", "pods", pod).stdout)
	})
	var p struct {
		Status struct {
			Phase string `json:"phase"`
			Init  []struct {
				RestartCount int `json:"restartCount"`
				State        struct {
					Waiting *struct{ Reason, Message string } `json:"waiting"`
				} `json:"state"`
				LastState struct {
					Terminated *struct {
						ExitCode  int    `json:"exitCode"`
						Message   string `json:"message"`
						StartedAt string `json:"startedAt"`
					} `json:"terminated"`
				} `json:"lastState"`
			} `json:"initContainerStatuses"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(must(t, podunit, "get", "pod", pod, "-o", "json")), &p); err != nil {
		t.Fatal(err)
	}
	if s := p.Status; s.Phase != "Pending" || len(s.Init) != 1 || s.Init[0].State.Waiting == nil || s.Init[0].State.Waiting.Reason != "CrashLoopBackOff" ||
		s.Init[0].LastState.Terminated == nil || s.Init[0].LastState.Terminated.ExitCode != 2 ||
		s.Init[0].LastState.Terminated.Message != "no database yet\n" || s.Init[0].LastState.Terminated.StartedAt == "" {
		t.Errorf("status: %+v", s)
	}
	if d := describe(t, pod); !strings.Contains(d, "Last State:     Terminated\n      Reason:       Error\n      Message:      no database yet\n      Exit Code:    2\n") {
		t.Errorf("describe:\n%s", d)
	}
	r := <-done
	if r.code != 4 || !strings.Contains(r.stderr, "still initializing") {
		t.Errorf("up: exit %d\n%s", r.code, r.stderr)
	}
	eventually(t, 30*time.Second, "the third run's start counted", func() bool {
		return regexp.MustCompile(pod + `\s+0/1\s+Init:CrashLoopBackOff\s+2\s`).MatchString(run(t, podunit, "get", "pods", pod).stdout)
	})
}
