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

const serverImage = "localhost/podunit-test/server:3"

// sharedDir is a host directory every container of a test may write to; it
// outlives the pod, so what happened during `down` can be read afterwards.
func sharedDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "podunit-e2e-work-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o777)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return strings.Fields(strings.TrimSpace(string(data)))
}

func describe(t *testing.T, pod string) string {
	t.Helper()
	return must(t, podunit, "describe", pod)
}

// The lifecycle demo of the Kubernetes documentation: postStart writes a message
// file, preStop asks the server to quit.
func TestLifecycleDemo(t *testing.T) {
	const pod = "e2e-lifecycle-demo"
	up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 10
  containers:
  - name: lifecycle-demo-container
    image: %s
    command: ["sh", "-c", "trap 'echo quitting >> /usr/share/message; exit 0' QUIT; httpd -f -p 8080 & wait"]
    lifecycle:
      postStart:
        exec:
          command: ["/bin/sh", "-c", "echo Hello from the postStart handler > /usr/share/message"]
      preStop:
        exec:
          command: ["/bin/sh", "-c", "kill -QUIT 1; sleep 1"]
`, pod, testImage), pod)
	// `up` returns once postStart has run: the message is there at once.
	got := strings.TrimSpace(must(t, "podman", "exec", ctrName(pod, "lifecycle-demo-container"), "cat", "/usr/share/message"))
	if got != "Hello from the postStart handler" {
		t.Errorf("message = %q", got)
	}
	d := describe(t, pod)
	for _, want := range []string{"postStart:", "exec /bin/sh -c echo Hello", "preStop:", "Started"} {
		if !strings.Contains(d, want) {
			t.Errorf("describe lacks %q:\n%s", want, d)
		}
	}
	start := time.Now()
	must(t, podunit, "down", pod)
	// The server quit on the preStop's request, well before the 10 s grace.
	if took := time.Since(start); took > 6*time.Second {
		t.Errorf("down took %s: preStop's quit was not honoured", took)
	}
	assertGone(t, pod)
}

// preStop runs before the stop signal, and learns why the container stops.
func TestPreStopBeforeTermAndStopReason(t *testing.T) {
	const pod = "e2e-order"
	dir := sharedDir(t)
	up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 10
  containers:
  - name: main
    image: %s
    command: ["sh", "-c", "trap 'echo term >> /work/log; exit 0' TERM; echo started >> /work/log; sleep 100000 & wait"]
    lifecycle:
      preStop:
        exec:
          command: ["sh", "-c", "echo prestop-$PODUNIT_STOP_REASON >> /work/log"]
    volumeMounts: [{name: work, mountPath: /work}]
  volumes:
  - name: work
    hostPath: {path: %s, type: Directory}
`, pod, testImage, dir), pod)
	must(t, podunit, "down", pod)
	got := strings.Join(readLines(t, filepath.Join(dir, "log")), " ")
	if got != "started prestop-Delete term" {
		t.Errorf("log: %q, want %q", got, "started prestop-Delete term")
	}
}

// When the pod's infra goes (`systemctl --user stop podunit-<pod>.service`), the
// containers stop because of a dependency, and their preStop hears so.
func TestStopReasonDependency(t *testing.T) {
	const pod = "e2e-dep"
	dir := sharedDir(t)
	up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 5
  containers:
  - name: main
    image: %s
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]
    lifecycle:
      preStop:
        exec: {command: ["sh", "-c", "echo $PODUNIT_STOP_REASON >> /work/reason"]}
    volumeMounts: [{name: work, mountPath: /work}]
  volumes:
  - name: work
    hostPath: {path: %s}
`, pod, testImage, dir), pod)
	must(t, "systemctl", "--user", "stop", "podunit-e2e\\x2ddep.service")
	if got := strings.Join(readLines(t, filepath.Join(dir, "reason")), " "); got != "Dependency" {
		t.Errorf("stop reason %q, want Dependency", got)
	}
}

// A container that ignores SIGTERM is killed when the grace period ends: about
// grace, not twice it; a preStop longer than grace does not extend it beyond
// grace + 2 s. `ps` shows Terminating meanwhile.
func TestGracePeriod(t *testing.T) {
	manifest := func(pod, lifecycle string) string {
		return fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 5
  containers:
  - name: stubborn
    image: %s
    command: ["sleep", "100000"]
%s`, pod, testImage, lifecycle)
	}
	timeDown := func(t *testing.T, pod string) time.Duration {
		seen := make(chan string, 1)
		go func() {
			time.Sleep(1500 * time.Millisecond)
			st := status(t, pod)
			if st != nil {
				seen <- st.Phase
			} else {
				seen <- "gone"
			}
		}()
		start := time.Now()
		must(t, podunit, "down", pod)
		took := time.Since(start)
		if phase := <-seen; phase != "Terminating" {
			t.Errorf("ps during down: phase %s, want Terminating", phase)
		}
		assertGone(t, pod)
		return took
	}
	t.Run("SIGTERM ignored", func(t *testing.T) {
		const pod = "e2e-grace"
		up(t, manifest(pod, ""), pod)
		took := timeDown(t, pod)
		t.Logf("down took %s with grace 5s", took)
		if took < 4500*time.Millisecond || took > 8*time.Second {
			t.Errorf("down took %s, want about 5s", took)
		}
	})
	t.Run("preStop longer than grace", func(t *testing.T) {
		const pod = "e2e-grace-prestop"
		up(t, manifest(pod, `    lifecycle:
      preStop:
        exec: {command: ["sleep", "100"]}
`), pod)
		took := timeDown(t, pod)
		t.Logf("down took %s with grace 5s and a 100s preStop", took)
		if took < 6500*time.Millisecond || took > 9500*time.Millisecond {
			t.Errorf("down took %s, want about grace + 2s = 7s", took)
		}
	})
	t.Run("grace-period override and force", func(t *testing.T) {
		const pod = "e2e-grace-force"
		up(t, manifest(pod, ""), pod)
		start := time.Now()
		must(t, podunit, "down", "--grace-period", "0", "--force", pod)
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("forced down took %s", took)
		}
		assertGone(t, pod)
	})
}

// A failing postStart: FailedPostStartHook, the container killed and restarted
// per restartPolicy; a hanging one is cut off.
func TestFailingPostStart(t *testing.T) {
	for _, c := range []struct{ name, pod, hook, annotations string }{
		{"failing", "e2e-poststart-fail", `exec: {command: ["sh", "-c", "exit 7"]}`, ""},
		{"hanging", "e2e-poststart-hang", `exec: {command: ["sleep", "1000"]}`, "  annotations: {podunit.io/post-start-timeout: 3s}\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := writeManifest(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata:
  name: %s
%sspec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: main
    image: %s
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]
    lifecycle:
      postStart:
        %s
`, c.pod, c.annotations, testImage, c.hook))
			t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", c.pod) })
			start := time.Now()
			r := run(t, podunit, "up", path)
			if r.code != 4 || !strings.Contains(r.stderr, "PostStartHook failed") {
				t.Errorf("up: exit %d (want 4), stderr %s", r.code, r.stderr)
			}
			if c.name == "hanging" && time.Since(start) > 20*time.Second {
				t.Errorf("a hanging postStart held up for %s", time.Since(start))
			}
			unit := "podunit-" + strings.ReplaceAll(c.pod, "-", "\\x2d") + "-main.service"
			eventually(t, 30*time.Second, "a restart", func() bool {
				n := unitProp(t, unit, "NRestarts")
				return n != "0" && n != ""
			})
			d := describe(t, c.pod)
			if !strings.Contains(d, "FailedPostStartHook") {
				t.Errorf("describe lacks FailedPostStartHook:\n%s", d)
			}
			if st := status(t, c.pod); st == nil || st.Containers[0].State == "Running" && st.Containers[0].Restarts == 0 {
				t.Errorf("ps: %+v", st)
			}
		})
	}
}

// httpGet hooks run from outside the container, against an image that has no
// shell and no HTTP client; the preStop request carries the stop reason.
func TestHTTPGetHooksWithoutClientInImage(t *testing.T) {
	const pod = "e2e-httpget"
	dir := sharedDir(t)
	up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 5
  containers:
  - name: web
    image: %s
    args: ["-listen", ":8080", "-log", "/work/requests"]
    ports: [{name: http, containerPort: 8080}]
    lifecycle:
      postStart:
        httpGet: {path: /started, port: http}
      preStop:
        httpGet:
          path: /stopping
          port: 8080
          httpHeaders: [{name: X-Test, value: "yes"}]
    volumeMounts: [{name: work, mountPath: /work}]
  volumes:
  - name: work
    hostPath: {path: %s}
`, pod, serverImage, dir), pod)
	data, _ := os.ReadFile(filepath.Join(dir, "requests"))
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) < 2 || lines[1] != "GET /started reason=" {
		t.Errorf("after up: %q", lines)
	}
	must(t, podunit, "down", pod)
	data, _ = os.ReadFile(filepath.Join(dir, "requests"))
	got := strings.Split(strings.TrimSpace(string(data)), "\n")
	want := []string{"start", "GET /started reason=", "GET /stopping reason=Delete", "signal terminated"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A postStart httpGet that gets a 500 fails like any failed hook.
func TestHTTPGetHookStatusFailure(t *testing.T) {
	const pod = "e2e-httpget-500"
	path := writeManifest(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 2
  containers:
  - name: web
    image: %s
    lifecycle:
      postStart:
        httpGet: {path: /fail, port: 8080}
`, pod, serverImage))
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", pod) })
	r := run(t, podunit, "up", path)
	if r.code != 4 || !strings.Contains(r.stderr, "HTTP status 500") {
		t.Errorf("up: exit %d, stderr %s", r.code, r.stderr)
	}
	eventually(t, 15*time.Second, "the container to be killed", func() bool {
		st := status(t, pod)
		return st != nil && st.Containers[0].State == "Terminated"
	})
}

// A postStart hook that starts something in the background and exits 0 has
// succeeded, even though the background process still holds its output.
func TestPostStartBackgroundChild(t *testing.T) {
	const pod = "e2e-poststart-bg"
	up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: %s
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]
    lifecycle:
      postStart:
        exec: {command: ["sh", "-c", "echo starting; sleep 4343 & echo started"]}
`, pod, testImage), pod)
	d := describe(t, pod)
	if strings.Contains(d, "FailedPostStartHook") || !strings.Contains(d, "postStart") {
		t.Errorf("describe:\n%s", d)
	}
	if out := must(t, "podman", "exec", ctrName(pod, "main"), "ps", "-o", "args"); !strings.Contains(out, "sleep 4343") {
		t.Errorf("the hook's background process is not running:\n%s", out)
	}
	if st := status(t, pod); st == nil || st.Ready != 1 || st.Restarts != 0 {
		t.Errorf("status %+v, want 1/1 ready, no restarts", st)
	}
}

// activeDeadlineSeconds: that long after the pod started, it fails as the
// kubelet fails it (DeadlineExceeded): its containers are stopped through
// their stop sequence (preStop runs), none comes back, and kubectl's view
// and describe say why; down removes it.
func TestActiveDeadline(t *testing.T) {
	const pod = "e2e-deadline"
	dir := sharedDir(t)
	path := up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  restartPolicy: Always
  activeDeadlineSeconds: 4
  terminationGracePeriodSeconds: 2
  containers:
  - name: main
    image: %s
    command: ["sh", "-c", "trap 'echo term >> /work/log; exit 0' TERM; sleep 100000 & wait"]
    lifecycle:
      preStop: {exec: {command: ["sh", "-c", "echo prestop >> /work/log"]}}
    volumeMounts: [{name: work, mountPath: /work}]
  volumes:
  - {name: work, hostPath: {path: %s}}
`, pod, testImage, dir), pod)
	start := time.Now()
	if st := status(t, pod); st == nil || st.Phase != "Running" {
		t.Fatalf("before the deadline: %+v", st)
	}
	eventually(t, 30*time.Second, "the pod to fail", func() bool {
		st := status(t, pod)
		return st != nil && st.Phase == "Failed"
	})
	if took := time.Since(start); took < 3*time.Second {
		t.Errorf("failed after %s, before its 4 s deadline", took)
	}
	// Failed at once, as the kubelet marks it; its container stops meanwhile
	eventually(t, 20*time.Second, "the container to stop", func() bool {
		st := status(t, pod)
		return st != nil && len(st.Containers) == 1 && st.Containers[0].State == "Terminated"
	})
	// kubectl's STATUS is the container's end (Completed: it exited 0 on
	// SIGTERM); the pod's own says why
	table := must(t, podunit, "get", "pods", pod)
	if !regexp.MustCompile(pod + `\s+0/1\s+Completed\s+0`).MatchString(table) {
		t.Errorf("get pods:\n%s", table)
	}
	if got := must(t, podunit, "get", "pod/"+pod, "-o", "jsonpath={.status.phase} {.status.reason}"); got != "Failed DeadlineExceeded" {
		t.Errorf("status: %q", got)
	}
	desc := must(t, podunit, "describe", "pod/"+pod)
	for _, want := range []string{`(?m)^Status:\s+Failed$`, `(?m)^Reason:\s+DeadlineExceeded$`, `(?m)^Message:\s+Pod was active on the node longer than the specified deadline$`, "Terminated"} {
		if !regexp.MustCompile(want).MatchString(desc) {
			t.Errorf("describe lacks %q:\n%s", want, desc)
		}
	}
	ev := must(t, podunit, "events", pod)
	if !strings.Contains(ev, "DeadlineExceeded") || !strings.Contains(ev, "Stopping container main") {
		t.Errorf("events:\n%s", ev)
	}
	if got := strings.Join(readLines(t, filepath.Join(dir, "log")), " "); got != "prestop term" {
		t.Errorf("the stop sequence: %q, want preStop then SIGTERM", got)
	}
	// nothing comes back, though restartPolicy is Always
	time.Sleep(3 * time.Second)
	if r := run(t, "podman", "container", "exists", ctrName(pod, "main")); r.code == 0 {
		t.Errorf("the container is there again after the deadline")
	}
	if st := status(t, pod); st == nil || st.Phase != "Failed" {
		t.Errorf("later: %+v", st)
	}
	must(t, podunit, "down", path)
	assertGone(t, pod)

	// a pod that completed before its deadline stays Succeeded
	const done = "e2e-deadline-done"
	up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  restartPolicy: Never
  activeDeadlineSeconds: 3
  terminationGracePeriodSeconds: 1
  containers:
  - {name: main, image: %s, command: ["true"]}
`, done, testImage), done)
	eventually(t, 20*time.Second, "the pod to complete", func() bool {
		st := status(t, done)
		return st != nil && st.Phase == "Succeeded"
	})
	// its deadline unit went with its completion, not at the deadline
	eventually(t, 20*time.Second, "its deadline unit to go", func() bool {
		return unitProp(t, "podunit-e2e\\x2ddeadline\\x2ddone.deadline.service", "ActiveState") == "inactive"
	})
	time.Sleep(3 * time.Second) // past the deadline
	if st := status(t, done); st == nil || st.Phase != "Succeeded" {
		t.Errorf("a pod that completed before its deadline: %+v", st)
	}
}

// A container's stop signal goes to its first process only, as the
// kubelet's runtime sends it, through podman's kill, and the stop is over as
// soon as that process ended, long before the grace period. The container's
// other processes end with it: in a PID namespace of its own the kernel
// ends them, in the pod's shared one the runtime kills them (containerd
// does the same); none is left running.
func TestStopSignalAndSharedPIDNamespace(t *testing.T) {
	dir := sharedDir(t)
	manifest := func(pod, share, sleep string) string {
		script := "(trap 'echo child >> /work/$POD; exit 0' TERM; sleep " + sleep + " & wait) & " +
			"trap 'echo main >> /work/$POD; exit 0' TERM; wait"
		return fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 30
  shareProcessNamespace: %s
  containers:
  - name: main
    image: %s
    command: ["sh", "-c", %q]
    env: [{name: POD, value: %s}]
    volumeMounts: [{name: work, mountPath: /work}]
  volumes:
  - name: work
    hostPath: {path: %s}
`, pod, share, testImage, script, pod, dir)
	}
	for _, c := range []struct{ pod, share, sleep string }{
		{"e2e-ownpid", "false", "100011"},
		{"e2e-sharedpid", "true", "100012"},
	} {
		up(t, manifest(c.pod, c.share, c.sleep), c.pod)
		eventually(t, 30*time.Second, c.pod+" running", func() bool {
			return strings.Contains(run(t, "podman", "exec", ctrName(c.pod, "main"), "ps").stdout, "sleep "+c.sleep)
		})
		since := strings.TrimSpace(must(t, "date", "+%s"))
		start := time.Now()
		must(t, podunit, "down", c.pod)
		if d := time.Since(start); d > 15*time.Second {
			t.Errorf("%s: down took %s: the grace period ran out", c.pod, d)
		}
		if got := strings.Join(readLines(t, filepath.Join(dir, c.pod)), " "); got != "main" {
			t.Errorf("%s: the stop signal reached %q, want the first process only", c.pod, got)
		}
		if r := run(t, "pgrep", "-f", "^sleep "+c.sleep+"$"); r.code == 0 {
			t.Errorf("%s: the container's other process outlived it: %s", c.pod, r.stdout)
		}
		events := " " + strings.Join(strings.Fields(must(t, "podman", "events", "--stream=false", "--since", since,
			"--filter", "container="+ctrName(c.pod, "main"), "--format", "{{.Status}}")), " ") + " "
		if !strings.Contains(events, " kill ") {
			t.Errorf("%s: podman's events %q, want a kill", c.pod, events)
		}
	}
}
