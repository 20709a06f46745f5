package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	corev1 "k8s.io/api/core/v1"

	"github.com/podunit/podunit/units"
)

// logs keeps each container's previous run (--previous) and -f follows the
// output across a restart; debug adds ephemeral containers to a running pod,
// in its namespaces and, with --target, in the target's process namespace;
// exec -it and debug -it give a real terminal that follows its size.
func TestDebugAndLogs(t *testing.T) {
	const pod = "e2e-debug"
	path := writeManifest(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: %s
    command: ["sh", "-c", "n=$(cat /data/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /data/n; echo run-$n; echo err-$n >&2; exec sleep 100000"]
    volumeMounts: [{name: data, mountPath: /data}]
  - name: quiet
    image: %s
    command: ["sleep", "100000"]
  volumes: [{name: data, emptyDir: {}}]
`, pod, testImage, testImage))
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", pod) })
	must(t, podunit, "up", "--wait", "--timeout", "60s", path)

	// logs: both streams, the first run
	if out := must(t, podunit, "logs", pod); out != "run-1\nerr-1\n" {
		t.Errorf("logs: %q", out)
	}
	if r := run(t, podunit, "logs", pod, "--previous"); r.code != 1 || !strings.Contains(r.stderr, `previous terminated container "web"`) {
		t.Errorf("logs --previous before any restart: exit %d %s", r.code, r.stderr)
	}
	// -f follows across a restart of the container
	followed := make(chan result, 1)
	go func() { followed <- run(t, "timeout", "40", podunit, "logs", "-f", pod, "-c", "web", "--prefix") }()
	time.Sleep(time.Second)
	must(t, "systemctl", "--user", "kill", "--signal=KILL", units.ContainerUnitName(pod, "web"))
	eventually(t, 40*time.Second, "the second run's output", func() bool {
		return run(t, podunit, "logs", pod).stdout == "run-2\nerr-2\n"
	})
	if out := must(t, podunit, "logs", pod, "-p"); out != "run-1\nerr-1\n" {
		t.Errorf("logs -p after a restart: %q", out)
	}
	if out := must(t, podunit, "logs", pod, "--previous", "--timestamps", "--tail", "1"); !regexp.MustCompile(`^20\d\d-\d\d-\d\dT[0-9:.]+Z err-1\n$`).MatchString(out) {
		t.Errorf("logs --previous --timestamps --tail 1: %q", out)
	}
	// debug --target: the target's processes, the pod's hostname and
	// network, the exit status of the command
	r := run(t, podunit, "debug", pod, "--image", testImage, "--target", "web", "-c", "dbg", "--attach", "--", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; hostname; echo gave up > /dev/termination-log; exit 3")
	if r.code != 3 || r.stdout != "sleep 100000 \n"+pod+"\n" {
		t.Errorf("debug --target web: exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}
	// its termination message, as any container's
	eventually(t, 20*time.Second, "the debug container's termination message", func() bool {
		return strings.Contains(run(t, podunit, "describe", pod).stdout, "      Message:      gave up\n")
	})
	// without --target: its own process namespace; a generated name
	r = run(t, podunit, "debug", pod, "--image", testImage, "--env", "A=1", "--env=B=two words", "--", "sh", "-c", "echo $A $B; sleep 30")
	m := regexp.MustCompile(`Defaulting debug container name to (debugger-[a-z0-9]{5})\.`).FindStringSubmatch(r.stderr)
	if r.code != 0 || m == nil {
		t.Fatalf("debug with a generated name: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	gen := m[1]
	eventually(t, 20*time.Second, "the generated debug container's output", func() bool {
		return run(t, podunit, "logs", pod, "-c", gen).stdout == "1 two words\n"
	})
	if out := must(t, podunit, "exec", pod, "-c", gen, "--", "sh", "-c", "cat /proc/1/cmdline"); out != "sleep\x0030\x00" {
		t.Errorf("a debug container without --target has PID 1 of its own: %q", out)
	}
	// stdin through -i
	if r := runIn(t, "hello\n", podunit, "debug", pod, "--image", testImage, "-c", "reader", "-i", "--", "sh", "-c", "read x; echo got $x"); r.code != 0 || !strings.Contains(r.stdout, "got hello") {
		t.Errorf("debug -i: exit %d %q %s", r.code, r.stdout, r.stderr)
	}

	// recorded in the pod: ps -a, describe, get -o yaml
	eventually(t, 20*time.Second, "the debug container that read its input to end", func() bool {
		for _, c := range status(t, pod).Containers {
			if c.Name == "reader" {
				return c.State == "Terminated"
			}
		}
		return false
	})
	st := status(t, pod)
	kinds := map[string]string{}
	for _, c := range st.Containers {
		kinds[c.Name] = c.State + "/" + c.Reason
	}
	if kinds["dbg"] != "Terminated/Error" || kinds["reader"] != "Terminated/Completed" || kinds[gen] != "Running/" || st.Phase != "Running" || st.Total != 2 {
		t.Errorf("ps after debug: %+v", st)
	}
	if out := must(t, podunit, "describe", pod); !strings.Contains(out, "Ephemeral Containers:\n  dbg:") || !regexp.MustCompile(`\n    Target:\s+web \(its processes are visible\)\n`).MatchString(out) {
		t.Errorf("describe:\n%s", out)
	}
	var got corev1.Pod
	if err := json.Unmarshal([]byte(must(t, podunit, "get", "pod", pod, "-o", "json")), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Spec.EphemeralContainers) < 3 || got.Spec.EphemeralContainers[0].TargetContainerName != "web" ||
		len(got.Status.EphemeralContainerStatuses) != len(got.Spec.EphemeralContainers) || len(got.Status.ContainerStatuses) != 2 {
		t.Errorf("get -o json: spec %+v\nstatus %+v", got.Spec.EphemeralContainers, got.Status.EphemeralContainerStatuses)
	}

	// bad input: nothing is added
	custom := writeManifest(t, "ports: [{containerPort: 80}]\nreadinessProbe: {exec: {command: [\"true\"]}}\n")
	r = run(t, podunit, "debug", pod, "--image", testImage, "-c", "bad", "--custom", custom)
	if r.code != 2 || !strings.Contains(r.stderr, "spec.ephemeralContainers[3].ports: cannot be set for an Ephemeral Container") ||
		!strings.Contains(r.stderr, "readinessProbe: cannot be set") {
		t.Errorf("debug --custom with ports and a probe: exit %d %s", r.code, r.stderr)
	}
	if r := run(t, podunit, "debug", pod, "--image", testImage, "-c", "dbg"); r.code != 2 || !strings.Contains(r.stderr, `duplicate value "dbg"`) {
		t.Errorf("debug with a name in use: exit %d %s", r.code, r.stderr)
	}
	if r := run(t, podunit, "debug", pod, "--image", testImage, "--target", "nope"); r.code != 2 || !strings.Contains(r.stderr, "targetContainerName: not found: nope") {
		t.Errorf("debug --target nope: exit %d %s", r.code, r.stderr)
	}
	if r := run(t, podunit, "debug", "no-such-pod", "--image", testImage); r.code != 3 {
		t.Errorf("debug of an unknown pod: exit %d %s", r.code, r.stderr)
	}
	if st := status(t, pod); st == nil || len(st.Containers) != 5 { // web, quiet, dbg, the generated one, reader
		t.Errorf("containers after the refused debug commands: %+v", st)
	}

	// terminals: a real pseudo-terminal, resized while the command runs
	ptyShell(t, pod, []string{podunit, "exec", "-it", pod, "--", "sh"}, 3)
	ptyShell(t, pod, []string{podunit, "debug", pod, "-it", "--image", testImage, "-c", "tty", "--", "sh"}, 4)

	must(t, podunit, "down", pod)
	f := <-followed
	if !strings.Contains(f.stdout, "[pod/"+pod+"/web] run-1\n") || !strings.Contains(f.stdout, "[pod/"+pod+"/web] run-2\n") {
		t.Errorf("logs -f across the restart: exit %d\n%s%s", f.code, f.stdout, f.stderr)
	}
	if f.code != 0 {
		t.Errorf("logs -f did not end when the pod was removed: exit %d", f.code)
	}
	assertGone(t, pod)
	if r := run(t, "sh", "-c", "test -e ~/.local/state/podunit/logs/"+pod); r.code == 0 {
		t.Errorf("the pod's logs outlived it")
	}
}

// ptyShell runs a shell command (exec -it, debug -it) on a pseudo-terminal:
// the terminal's size reaches the container, a resize too, and the shell's
// exit status comes back.
func ptyShell(t *testing.T, pod string, args []string, code int) {
	t.Helper()
	cmd := exec.Command(world, append([]string{"exec", "--"}, args...)...)
	cmd.Env = append(os.Environ(), "PODUNIT_WORLD_WD="+repo, "TERM=xterm")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 30, Cols: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	var mu sync.Mutex
	var out bytes.Buffer
	go func() {
		r := bufio.NewReader(tty)
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			mu.Lock()
			out.Write(buf[:n])
			mu.Unlock()
			if err != nil { // io.EOF, or EIO once the command ended
				return
			}
		}
	}()
	seen := func(s string) func() bool {
		return func() bool { mu.Lock(); defer mu.Unlock(); return strings.Contains(out.String(), s) }
	}
	time.Sleep(2 * time.Second) // the shell's prompt
	fmt.Fprintf(tty, "stty size; tty\r")
	eventually(t, 30*time.Second, args[1]+" -it: the terminal's size in the container", seen("30 100"))
	pty.Setsize(tty, &pty.Winsize{Rows: 42, Cols: 120})
	time.Sleep(500 * time.Millisecond)
	fmt.Fprintf(tty, "stty size\r")
	eventually(t, 30*time.Second, args[1]+" -it: the new size after a resize", seen("42 120"))
	fmt.Fprintf(tty, "exit %d\r", code)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); (code == 0 && err != nil) || (code != 0 && (!ok || ee.ExitCode() != code)) {
			t.Errorf("%s -it: exit %v, want %d", args[1], err, code)
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Errorf("%s -it did not end after exit", args[1])
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(out.String(), "/dev/pts/") {
		t.Errorf("%s -it: no terminal in the container:\n%s", args[1], out.String())
	}
}
