package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/podunit/podunit/units"
)

// The units hold references, not payloads: after `systemctl --user
// daemon-reload` (systemd re-parses the transient unit files it wrote) a
// container whose command holds ;, $, quotes, backslashes and newlines is
// killed and comes back running exactly the same command with the same
// environment.
func TestDaemonReloadKeepsCommand(t *testing.T) {
	const pod = "e2e-reload"
	dir := sharedDir(t)
	tricky := "a;b $HOME ${PATH} \"dq\" 'sq' \\back %n %% `tick`\nline2;"
	script := `printf '%s|%s|%s\n' "$1" "$WEIRD" "$(X=ok; echo $X)" >> /work/runs; trap 'exit 0' TERM; sleep 100000 & wait`
	cmd, _ := json.Marshal([]string{"sh", "-c", script, "argv0", tricky})
	env, _ := json.Marshal(tricky + " env")
	up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: %s
    command: %s
    env: [{name: WEIRD, value: %s}]
    volumeMounts: [{name: work, mountPath: /work}]
  volumes:
  - name: work
    hostPath: {path: %s}
`, pod, testImage, cmd, env, dir), pod)
	runs := filepath.Join(dir, "runs")
	read := func() string { data, _ := os.ReadFile(runs); return string(data) }
	eventually(t, 20*time.Second, "the first run's record", func() bool { return strings.Count(read(), "|ok\n") == 1 })
	first := read()
	want := tricky + "|" + tricky + " env|ok\n"
	if first != want {
		t.Fatalf("first run recorded %q, want %q", first, want)
	}
	unit := `podunit-e2e\x2dreload-app.service`
	argvOf := regexp.MustCompile(`argv\[\]=([^;]*);`)
	execStart := func() string {
		m := argvOf.FindStringSubmatch(unitProp(t, unit, "ExecStart"))
		if m == nil {
			t.Fatalf("no argv in ExecStart")
		}
		return strings.TrimSpace(m[1])
	}
	before := execStart()
	// the small helper built beside podunit, not podunit itself
	if want := filepath.Join(filepath.Dir(podunit), "podunit-helper") + " internal run --pod e2e-reload --container app"; before != want {
		t.Errorf("ExecStart argv: %s", before)
	}
	for i := 0; i < 2; i++ {
		must(t, "systemctl", "--user", "daemon-reload")
	}
	if after := execStart(); after != before {
		t.Errorf("ExecStart changed over daemon-reload:\n%s\n%s", before, after)
	}
	must(t, "podman", "kill", ctrName(pod, "app"))
	eventually(t, 30*time.Second, "the restarted run's record", func() bool { return strings.Count(read(), "|ok\n") == 2 })
	if got := read(); got != want+want {
		t.Errorf("after daemon-reload and a restart, runs:\n%q\nwant:\n%q", got, want+want)
	}
	if n := unitProp(t, unit, "NRestarts"); n != "1" {
		t.Errorf("NRestarts %s, want 1", n)
	}
}

// No value of the manifest's env or probe/hook headers appears on any command
// line (/proc/*/cmdline) or in any unit's properties; a header value with
// commas arrives intact.
func TestNoPayloadInArgvOrUnits(t *testing.T) {
	const pod = "e2e-secrets"
	const port = 18466
	dir := sharedDir(t)
	up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: init
    image: %s
    command: ["sh", "-c", "test \"$INIT_TOKEN\" = init-tok3n-value"]
    env: [{name: INIT_TOKEN, value: init-tok3n-value}]
  containers:
  - name: web
    image: %s
    args: ["-listen", ":8080", "-log", "/work/log"]
    env: [{name: API_TOKEN, value: app-tok3n-value}]
    ports: [{containerPort: 8080, hostPort: %d}]
    volumeMounts: [{name: work, mountPath: /work}]
    readinessProbe:
      httpGet:
        path: /headers
        port: 8080
        httpHeaders:
        - {name: Authorization, value: "Bearer hdr-tok3n-value, second"}
        - {name: Accept, value: "a, b"}
      periodSeconds: 1
    lifecycle:
      preStop:
        httpGet:
          path: /headers
          port: 8080
          httpHeaders: [{name: Authorization, value: "Bearer prestop-tok3n-value"}]
  volumes:
  - name: work
    hostPath: {path: %s}
`, pod, testImage, serverImage, port, dir), pod)
	eventually(t, 30*time.Second, "the pod to be ready", func() bool {
		st := status(t, pod)
		return st != nil && st.Ready == 1
	})
	// A pattern that does not match itself in grep's own command line.
	const values = `(init|app|hdr|prestop)-tok3n[-]value`
	assertHidden(t, values, "podunit-e2e\\x2dsecrets*", `"$XDG_RUNTIME_DIR/systemd/transient/"`)
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if log := strings.Join(readLines(t, filepath.Join(dir, "log")), " "); !strings.Contains(log, "headers Authorization=Bearer hdr-tok3n-value, second Accept=a, b") {
		t.Errorf("the probe's headers did not arrive intact: %s", log)
	}
	must(t, podunit, "down", pod)
	if log := strings.Join(readLines(t, filepath.Join(dir, "log")), " "); !strings.Contains(log, "headers Authorization=Bearer prestop-tok3n-value Accept=") {
		t.Errorf("the preStop's header did not arrive: %s", log)
	}
}

// A gRPC liveness probe, done from outside the container with the standard
// health protocol, restarts a container whose health service turns
// NOT_SERVING.
func TestGRPCLivenessProbe(t *testing.T) {
	const pod = "e2e-grpc"
	const port = 18467
	up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: srv
    image: %s
    args: ["-listen", ":8080", "-grpc", ":9090"]
    ports: [{containerPort: 8080, hostPort: %d}]
    livenessProbe:
      grpc: {port: 9090}
      periodSeconds: 1
      failureThreshold: 2
`, pod, serverImage, port), pod)
	unit := `podunit-e2e\x2dgrpc-srv.service`
	time.Sleep(3 * time.Second)
	if n := unitProp(t, unit, "NRestarts"); n != "0" {
		t.Fatalf("restarted while SERVING: %s\n%s", n, describe(t, pod))
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/grpc/not-serving", port))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	eventually(t, 30*time.Second, "a restart after NOT_SERVING", func() bool { return unitProp(t, unit, "NRestarts") == "1" })
	d := describe(t, pod)
	for _, want := range []string{"Liveness probe failed: grpc 127.0.0.1:9090: status NOT_SERVING", "failed liveness probe, will be restarted"} {
		if !strings.Contains(d, want) {
			t.Errorf("describe lacks %q:\n%s", want, d)
		}
	}
	// The new run serves again: it stays up.
	eventually(t, 20*time.Second, "the restarted container running", func() bool {
		st := status(t, pod)
		return st != nil && len(st.Containers) == 1 && st.Containers[0].State == "Running"
	})
	time.Sleep(3 * time.Second)
	if n := unitProp(t, unit, "NRestarts"); n != "1" {
		t.Errorf("NRestarts %s after the new run served, want 1", n)
	}
}

// A container that keeps exiting is restarted with the kubelet's back-off:
// ps shows CrashLoopBackOff with the wait left, and the waits grow.
func TestCrashLoopBackOff(t *testing.T) {
	const pod = "e2e-crashloop"
	up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: %s
    command: ["sh", "-c", "exit 3"]
`, pod, testImage), pod)
	backOff := regexp.MustCompile(`^back-off (\d+)s restarting failed container, (\d+)s left$`)
	seen := map[string]bool{}
	eventually(t, 60*time.Second, "back-offs of 10s and then 20s", func() bool {
		st := status(t, pod)
		if st == nil || len(st.Containers) != 1 {
			return false
		}
		c := st.Containers[0]
		if c.Reason == "CrashLoopBackOff" {
			// the pod is Running, as the kubelet has it: its container is
			// on its way back
			if st.Phase != "Running" {
				t.Errorf("phase %s in CrashLoopBackOff, want Running", st.Phase)
			}
			if m := backOff.FindStringSubmatch(c.Message); m != nil {
				seen[m[1]] = true
			} else if c.Message != "" {
				t.Errorf("message %q", c.Message)
			}
		}
		return seen["10"] && seen["20"]
	})
	if seen["40"] {
		t.Error("a 40 s back-off before 20 s ran out")
	}
	d := describe(t, pod)
	for _, want := range []string{"Back-off 10s restarting failed container c", "Back-off 20s restarting failed container c", "Last State:     Terminated\n      Reason:       Error\n      Exit Code:    3\n"} {
		if !strings.Contains(d, want) {
			t.Errorf("describe lacks %q:\n%s", want, d)
		}
	}
	if out := must(t, podunit, "get", "pods", pod); !regexp.MustCompile(pod + `\s+0/1\s+(CrashLoopBackOff|ContainerCreating|Error)\s+\d+`).MatchString(out) {
		t.Errorf("get pods:\n%s", out)
	}
	// systemd never gives up: the unit is waiting or restarting, not failed.
	if s := unitProp(t, `podunit-e2e\x2dcrashloop-c.service`, "ActiveState"); s == "failed" || s == "inactive" {
		t.Errorf("unit %s", s)
	}
}

// `systemctl --user restart` of a pod's infra unit restarts the whole pod: the
// containers come back in the new namespaces (init containers first), and so
// does the prober, whose readiness probe must pass in the new network
// namespace for the pod to be Ready again.
func TestRestartInfraRestartsPod(t *testing.T) {
	const pod = "e2e-restart"
	dir := sharedDir(t)
	up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: init
    image: %s
    command: [sh, -c, "echo init >> /work/inits"]
    volumeMounts: [{name: work, mountPath: /work}]
  containers:
  - name: web
    image: %s
    readinessProbe:
      httpGet: {path: /, port: 8080}
      periodSeconds: 1
  volumes:
  - name: work
    hostPath: {path: %s}
`, pod, testImage, serverImage, dir), pod)
	ready := func() bool { s := status(t, pod); return s != nil && s.Ready == 1 }
	eventually(t, 20*time.Second, "the pod to be ready", ready)
	checkProberBinary(t, `podunit-e2e\x2drestart.probes.service`)
	before := containerID(t, ctrName(pod, "web"))
	must(t, "systemctl", "--user", "restart", `podunit-e2e\x2drestart.service`)
	eventually(t, 30*time.Second, "the web container to be replaced", func() bool {
		return replacedAndRunning(t, ctrName(pod, "web"), before)
	})
	eventually(t, 20*time.Second, "the pod to be ready again", ready)
	if data, _ := os.ReadFile(filepath.Join(dir, "inits")); string(data) != "init\ninit\n" {
		t.Errorf("init container runs: %q, want two", data)
	}
	if s := unitProp(t, `podunit-e2e\x2drestart.probes.service`, "ActiveState"); s != "active" {
		t.Errorf("prober unit %s after the restart", s)
	}
	checkProberBinary(t, `podunit-e2e\x2drestart.probes.service`)
}

// When the sandbox dies on its own (its process killed, as an OOM kill or a
// crash would), the pod comes back as the kubelet brings it back: its
// containers are stopped within their grace period (one here ignores
// SIGTERM), then the new sandbox starts and they start again in it, and the
// prober follows. Before, the infra's restart found the old infra container
// still held by the stopping container, failed five times in a row, and
// systemd gave the pod up.
func TestSandboxDeathRestartsPod(t *testing.T) {
	const pod = "e2e-sandbox"
	up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 4
  containers:
  - name: web
    image: %s
    readinessProbe:
      httpGet: {path: /, port: 8080}
      periodSeconds: 1
  - name: stubborn
    image: %s
    command: [sh, -c, "trap '' TERM; while true; do sleep 1; done"]
`, pod, serverImage, testImage), pod)
	ready := func() bool { s := status(t, pod); return s != nil && s.Ready == 2 }
	eventually(t, 20*time.Second, "the pod to be ready", ready)
	infra, web, stubborn := containerID(t, units.InfraContainerName(pod)), containerID(t, ctrName(pod, "web")), containerID(t, ctrName(pod, "stubborn"))
	killed := time.Now()
	must(t, "podman", "kill", units.InfraContainerName(pod))
	eventually(t, 60*time.Second, "a new sandbox and new containers", func() bool {
		return replacedAndRunning(t, units.InfraContainerName(pod), infra) && replacedAndRunning(t, ctrName(pod, "web"), web) &&
			replacedAndRunning(t, ctrName(pod, "stubborn"), stubborn)
	})
	if d := time.Since(killed); d < 4*time.Second {
		t.Errorf("the containers came back %s after the kill, before the stubborn one's grace period (4s) ran out", d)
	}
	eventually(t, 20*time.Second, "the pod to be ready again", ready)
	// each container runs again: a restart, as the kubelet counts it
	s := status(t, pod)
	for _, c := range s.Containers {
		if c.Restarts != 1 {
			t.Errorf("container %s: %d restarts after the sandbox's, want 1", c.Name, c.Restarts)
		}
	}
	if s.Restarts != 2 {
		t.Errorf("the pod's restarts: %d, want 2", s.Restarts)
	}
	for _, u := range []string{`podunit-e2e\x2dsandbox.service`, `podunit-e2e\x2dsandbox.probes.service`} {
		if s := unitProp(t, u, "ActiveState"); s != "active" {
			t.Errorf("%s is %s after the sandbox's restart", u, s)
		}
	}
	checkProberBinary(t, `podunit-e2e\x2dsandbox.probes.service`)
}

// A sandbox that cannot be made again at once is tried again every 10 s,
// as the kubelet retries it, for as long as it takes, and the pod comes
// back once it can; systemd's own restarts (one a second) gave a pod whose
// sandbox failed fast up after five. Here the infra's image is out of reach
// (untagged) for 15 s after the sandbox died.
func TestSandboxRetriedUntilItStarts(t *testing.T) {
	const pod, infraImage = "e2e-sandbox-retry", "localhost/podunit-infra:1"
	up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: %s
    ports: [{containerPort: 8080, hostPort: 18097}]
`, pod, serverImage), pod)
	ready := func() bool { s := status(t, pod); return s != nil && s.Ready == 1 }
	eventually(t, 20*time.Second, "the pod to be ready", ready)
	infra := containerID(t, units.InfraContainerName(pod))
	image := strings.TrimSpace(must(t, "podman", "inspect", "--format", "{{.Image}}", units.InfraContainerName(pod)))
	must(t, "podman", "untag", image, infraImage)
	tagged := false
	tag := func() {
		if !tagged {
			must(t, "podman", "tag", image, infraImage)
			tagged = true
		}
	}
	t.Cleanup(tag)
	must(t, "podman", "kill", units.InfraContainerName(pod))
	time.Sleep(15 * time.Second)
	if s := unitProp(t, `podunit-e2e\x2dsandbox\x2dretry.service`, "ActiveState"); s != "activating" {
		t.Errorf("the infra unit is %s while its image is missing, want activating (trying again)", s)
	}
	// the pod stays Running meanwhile, as the kubelet keeps it
	if s := status(t, pod); s == nil || s.Phase != "Running" {
		t.Errorf("while the sandbox is made again: %+v, want phase Running", s)
	}
	tag()
	eventually(t, 30*time.Second, "a new sandbox, once its image is back", func() bool {
		return replacedAndRunning(t, units.InfraContainerName(pod), infra)
	})
	eventually(t, 30*time.Second, "the pod to be ready again", ready)
	evs := must(t, podunit, "events", pod)
	for _, want := range []string{"SandboxChanged", "s making the pod's sandbox again (the last try was "} {
		if !strings.Contains(evs, want) {
			t.Errorf("no event %q:\n%s", want, evs)
		}
	}
	if r := run(t, "curl", "-sf", "-m", "2", "http://127.0.0.1:18097/"); r.code != 0 {
		t.Errorf("the host port does not answer: %+v", r)
	}
}

// containerID is a podman container's ID.
func containerID(t *testing.T, name string) string {
	t.Helper()
	return strings.TrimSpace(must(t, "podman", "inspect", "--format", "{{.Id}}", name))
}

// replacedAndRunning: the container of that name is another than before
// (a new ID) and runs.
func replacedAndRunning(t *testing.T, name, before string) bool {
	t.Helper()
	r := run(t, "podman", "inspect", "--format", "{{.Id}} {{.State.Running}}", name)
	return r.code == 0 && !strings.HasPrefix(r.stdout, before) && strings.Contains(r.stdout, "true")
}

// checkProberBinary: a pod's prober runs as podunit-probe (built beside
// podunit), in the pod's network namespace, not as podunit itself.
func checkProberBinary(t *testing.T, unit string) {
	t.Helper()
	pid := unitProp(t, unit, "MainPID")
	exe := strings.TrimSpace(run(t, "readlink", "/proc/"+pid+"/exe").stdout)
	if want := filepath.Join(filepath.Dir(podunit), "podunit-probe"); exe != want {
		t.Errorf("the prober (pid %s) runs %q, want %s", pid, exe, want)
	}
	own := strings.TrimSpace(run(t, "readlink", "/proc/self/ns/net").stdout)
	if ns := strings.TrimSpace(run(t, "readlink", "/proc/"+pid+"/ns/net").stdout); ns == "" || ns == own {
		t.Errorf("the prober's network namespace %q is the host's (%s)", ns, own)
	}
}

// A container's termination message is what it wrote at its
// terminationMessagePath (the default, or its own; whatever user it runs
// as, on a read-only root), or under FallbackToLogsOnError the end of the
// log of a failed run that wrote none.
func TestTerminationMessage(t *testing.T) {
	const pod = "e2e-termmsg"
	up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %[1]s}
spec:
  restartPolicy: Never
  containers:
  - name: own-path
    image: %[2]s
    command: ["sh", "-c", "printf 'all done' > /tmp/status"]
    terminationMessagePath: /tmp/status
  - name: from-log
    image: %[2]s
    command: ["sh", "-c", "echo starting; echo 'fatal: no config' >&2; exit 3"]
    terminationMessagePolicy: FallbackToLogsOnError
  - name: nonroot
    image: %[2]s
    command: ["sh", "-c", "echo \"uid $(id -u)\" > /dev/termination-log; exit 1"]
    securityContext: {runAsUser: 1234, readOnlyRootFilesystem: true}
  - name: quiet
    image: %[2]s
    command: ["sh", "-c", "echo a log line; exit 1"]
`, pod, testImage), pod)
	type term struct {
		ExitCode int    `json:"exitCode"`
		Message  string `json:"message"`
	}
	var p struct {
		Status struct {
			Containers []struct {
				Name  string `json:"name"`
				State struct {
					Terminated *term `json:"terminated"`
				} `json:"state"`
			} `json:"containerStatuses"`
		} `json:"status"`
	}
	want := map[string]term{"own-path": {0, "all done"}, "from-log": {3, "starting\nfatal: no config\n"}, "nonroot": {1, "uid 1234\n"}, "quiet": {1, ""}}
	eventually(t, 20*time.Second, "every container's end", func() bool {
		if err := json.Unmarshal([]byte(must(t, podunit, "get", "pod", pod, "-o", "json")), &p); err != nil {
			t.Fatal(err)
		}
		for _, c := range p.Status.Containers {
			if c.State.Terminated == nil {
				return false
			}
		}
		return len(p.Status.Containers) == 4
	})
	for _, c := range p.Status.Containers {
		if got := *c.State.Terminated; got != want[c.Name] {
			t.Errorf("%s: %+v, want %+v", c.Name, got, want[c.Name])
		}
	}
	if d := describe(t, pod); !strings.Contains(d, "      Message:      starting\n                    fatal: no config\n") {
		t.Errorf("describe:\n%s", d)
	}
}

// Infra, app and sidecar containers start through podunit's own podman service
// (podunit.podman.service), not a podman process each: the unit's main
// process is the container's conmon, inside the unit's own control group
// (its "conmon" group), as podman run --cgroups=split would have it; so
// does the service proxy's container; a restart starts the same way.
func TestContainersStartThroughPodunitsService(t *testing.T) {
	const pod = "e2e-svcstart"
	up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: side
    image: %s
    restartPolicy: Always
    command: [sleep, "100000"]
  containers:
  - name: app
    image: %s
    command: [sh, -c, 'trap "exit 0" TERM; sleep 100000 & wait']
`, pod, testImage, testImage), pod)
	// conmonOf checks a unit's main process and returns its pid.
	conmonOf := func(unit string) string {
		pid := unitProp(t, unit, "MainPID")
		comm := strings.TrimSpace(must(t, "cat", "/proc/"+pid+"/comm"))
		cg := strings.TrimSpace(must(t, "cat", "/proc/"+pid+"/cgroup"))
		if comm != "conmon" || !strings.HasSuffix(cg, "/"+unit+"/conmon") {
			t.Errorf("%s: main process %s is %q in %q, want conmon in the unit's conmon group", unit, pid, comm, cg)
		}
		return pid
	}
	conmonOf(units.InfraUnitName(pod))
	conmonOf(units.ServicesUnit)
	conmonOf(units.ContainerUnitName(pod, "side"))
	first := conmonOf(units.ContainerUnitName(pod, "app"))
	if got := strings.TrimSpace(run(t, "systemctl", "--user", "is-active", "podunit.podman.service").stdout); got != "active" {
		t.Errorf("podunit.podman.service is %q", got)
	}
	must(t, "podman", "kill", ctrName(pod, "app"))
	unit := units.ContainerUnitName(pod, "app")
	eventually(t, 30*time.Second, "the app's restart", func() bool {
		return unitProp(t, unit, "NRestarts") == "1" && unitProp(t, unit, "ActiveState") == "active"
	})
	if again := conmonOf(unit); again == first {
		t.Errorf("the restarted unit kept main process %s", again)
	}

	// A pod with a user namespace of its own (hostUsers: false): its infra
	// gets podman's automatic mapping, its container joins it.
	const own = "e2e-svcstart-userns"
	up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  hostUsers: false
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: %s
    command: [sh, -c, 'trap "exit 0" TERM; sleep 100000 & wait']
`, own, testImage), own)
	conmonOf(units.InfraUnitName(own))
	conmonOf(units.ContainerUnitName(own, "app"))
}

// While podunit's own podman service runs, a pod's whole life goes through
// it: `up`, its helpers (post-start hook, probes, preStop hook, stop,
// clean-up), exec, logs, ps and `down` wake no other podman service. With
// podman.socket and both services stopped, `up` starts podunit's.
func TestOnePodmanServiceForAPodsLife(t *testing.T) {
	const pod = "e2e-onesvc"
	t.Cleanup(func() { run(t, "systemctl", "--user", "start", "podman.socket") })
	must(t, "systemctl", "--user", "stop", "podman.socket", "podman.service", "podunit.podman.service")
	woken := unitProp(t, "podman.service", "InactiveExitTimestampMonotonic")
	path := up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: %s
    command: [sh, -c, 'echo hello from app; trap "exit 0" TERM; sleep 100000 & wait']
    lifecycle:
      postStart: {exec: {command: [touch, /tmp/started]}}
      preStop: {exec: {command: [sh, -c, 'echo pre > /tmp/pre']}}
    readinessProbe: {exec: {command: [test, -f, /tmp/started]}, periodSeconds: 1}
  - name: web
    image: %s
    livenessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
    readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
`, pod, testImage, serverImage), pod)
	if got := strings.TrimSpace(run(t, "systemctl", "--user", "is-active", "podunit.podman.service").stdout); got != "active" {
		t.Fatalf("after up, podunit.podman.service is %q", got)
	}
	eventually(t, 60*time.Second, "the pod ready", func() bool {
		st := status(t, pod)
		return st != nil && st.Ready == 2
	})
	if out := must(t, podunit, "exec", pod, "-c", "app", "--", "ls", "/tmp/started"); out != "/tmp/started\n" {
		t.Errorf("exec: %q", out)
	}
	if out := must(t, podunit, "logs", pod, "-c", "app"); !strings.Contains(out, "hello from app") {
		t.Errorf("logs: %q", out)
	}
	time.Sleep(3 * time.Second) // probes at work
	must(t, podunit, "describe", "pod", pod)
	must(t, podunit, "down", path)
	assertGone(t, pod)
	if now := unitProp(t, "podman.service", "InactiveExitTimestampMonotonic"); now != woken {
		t.Errorf("podman.service was started during the pod's life (InactiveExitTimestampMonotonic %s, was %s)", now, woken)
	}
	if a := unitProp(t, "podman.socket", "ActiveState"); a != "inactive" {
		t.Errorf("podman.socket %s after the pod's life", a)
	}
}

// A container's stop ends conmon's exit command (`podman container cleanup
// --rm ID`) once podunit's podman service has removed the container,
// rather than wait for that podman process to start up and find nothing:
// the run's exit status is still the container's own (conmon's, which
// ignores its exit command's), the container is gone, and no clean-up
// process of it outlives the unit, whatever it had started.
func TestStopEndsConmonsExitCommand(t *testing.T) {
	const pod = "e2e-exitcmd"
	up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 5
  containers:
  - name: c
    image: %s
    command: [sh, -c, 'trap "exit 7" TERM; sleep 100000 & wait']
  - name: keep
    image: %s
    command: [sh, -c, 'trap "exit 0" TERM; sleep 100000 & wait']
`, pod, testImage, testImage), pod)
	id := strings.TrimSpace(must(t, "podman", "inspect", "--format", "{{.Id}}", ctrName(pod, "c")))
	unit := units.ContainerUnitName(pod, "c")
	if conmon := unitProp(t, unit, "MainPID"); !strings.Contains(must(t, "cat", "/proc/"+conmon+"/cmdline"), id) {
		t.Fatalf("the unit's main process %s is not the container's conmon", conmon)
	}
	must(t, "systemctl", "--user", "stop", unit)
	if r := run(t, "pgrep", "-f", "[c]ontainer cleanup.* "+id); r.code == 0 {
		t.Errorf("a clean-up of the container outlived its unit: %s", r.stdout)
	}
	if out := strings.TrimSpace(run(t, "podman", "ps", "-a", "--filter", "id="+id, "--format", "{{.Names}}").stdout); out != "" {
		t.Errorf("the stopped container is still there: %s", out)
	}
	st := status(t, pod)
	var c *int
	for _, ct := range st.Containers {
		if ct.Name == "c" {
			c = ct.ExitCode
			if ct.State != "Terminated" || ct.Reason != "Error" {
				t.Errorf("c: %s (%s), want Terminated (Error)", ct.State, ct.Reason)
			}
		}
	}
	if c == nil || *c != 7 {
		t.Errorf("c's exit code %v, want 7 (its SIGTERM trap's)\n%s", c, must(t, podunit, "describe", "pod/"+pod))
	}
	if got := unitProp(t, units.ContainerUnitName(pod, "keep"), "ActiveState"); got != "active" {
		t.Errorf("the other container's unit is %s", got)
	}
}
