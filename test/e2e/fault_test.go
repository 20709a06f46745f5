package e2e

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// The faults a pod meets on a real host, each ending with the pod serving
// again and nothing leaked: its process killed, its conmon killed, the infra
// killed, systemd re-executed, the podman service stopped with its socket
// file left behind.
func TestFaultsPodRecovers(t *testing.T) {
	const pod = "e2e-faults"
	up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: web
    image: localhost/podunit-test/server:3
    ports: [{containerPort: 8080, hostPort: 18183}]
  - name: side
    image: %s
    command: [sleep, "100000"]
`, pod, testImage), pod)
	serving := func() bool { return run(t, "curl", "-sf", "-m", "2", "http://127.0.0.1:18183/").code == 0 }
	eventually(t, 30*time.Second, "the pod serving", serving)
	inspect := func(ctr, format string) string {
		r := run(t, "podman", "inspect", "--format", format, ctr)
		return strings.TrimSpace(r.stdout)
	}
	// recovered: the pod serves again from a new process, every unit is
	// active, and exactly its three containers exist.
	recovered := func(what, ctr, oldPid string) {
		t.Helper()
		eventually(t, 60*time.Second, what+": the pod serving again", func() bool {
			pid := inspect(ctr, "{{.State.Pid}}")
			return pid != "" && pid != "0" && pid != oldPid && serving()
		})
		for _, u := range []string{"podunit-e2e\\x2dfaults.service", "podunit-e2e\\x2dfaults-web.service", "podunit-e2e\\x2dfaults-side.service"} {
			eventually(t, 30*time.Second, what+": "+u+" active", func() bool { return unitProp(t, u, "ActiveState") == "active" })
		}
		names := strings.Fields(must(t, "podman", "ps", "-a", "--filter", "label=io.podunit.pod="+pod, "--format", "{{.Names}}"))
		if len(names) != 3 {
			t.Errorf("%s: containers %v, want exactly the infra, web and side", what, names)
		}
	}
	web, infra := ctrName(pod, "web"), "podunit_"+pod

	pid := inspect(web, "{{.State.Pid}}")
	must(t, "kill", "-9", pid)
	recovered("kill -9 of the container's process", web, pid)

	pid = inspect(web, "{{.State.Pid}}")
	must(t, "kill", "-9", inspect(web, "{{.State.ConmonPid}}"))
	recovered("kill -9 of the container's conmon", web, pid)

	pid = inspect(web, "{{.State.Pid}}")
	must(t, "kill", "-9", inspect(infra, "{{.State.Pid}}"))
	recovered("kill -9 of the infra", web, pid)
	if ns := inspect(web, "{{.NetworkSettings.SandboxKey}}"); ns != "" && ns != inspect(infra, "{{.NetworkSettings.SandboxKey}}") {
		t.Errorf("after the infra's restart web is in another network namespace: %s", ns)
	}

	must(t, "systemctl", "--user", "daemon-reexec")
	pid = inspect(web, "{{.State.Pid}}")
	must(t, "podman", "kill", web)
	recovered("daemon-reexec, then the container killed", web, pid)

	// Every podman service gone, podunit's killed (its socket file left):
	// podunit starts podman.socket again.
	run(t, "systemctl", "--user", "kill", "--signal=KILL", "podunit.podman.service")
	must(t, "systemctl", "--user", "stop", "podman.socket", "podman.service")
	eventually(t, 10*time.Second, "podunit's podman service gone", func() bool {
		return run(t, "systemctl", "--user", "is-active", "podunit.podman.service").stdout != "active\n"
	})
	if r := run(t, "sh", "-c", `test -S "$XDG_RUNTIME_DIR/podman/podman.sock"`); r.code != 0 {
		t.Log("podman.socket removed its socket file; the stale-file case is not exercised")
	}
	if st := status(t, pod); st == nil || st.Phase != "Running" {
		t.Fatalf("ps with the podman service stopped: %+v", st)
	}
	if a := unitProp(t, "podman.socket", "ActiveState"); a != "active" {
		t.Errorf("podman.socket %s after podunit ps", a)
	}
	must(t, "systemctl", "--user", "stop", "podman.socket", "podman.service")
	must(t, podunit, "down", pod)
	assertGone(t, pod)
}

// Objects named as podunit would name them, but not created by it (a user's
// volume with data, a user's container), are never touched: up refuses,
// naming them, and leaves nothing. Names other tools use (podman-compose's
// POD_CONTAINER, kube play's POD-infra) are not in podunit's way.
func TestFaultsForeignObjectsUntouched(t *testing.T) {
	const pod = "e2e-own"
	manifest := writeManifest(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: %s
    command: [sleep, "100000"]
    volumeMounts: [{name: data, mountPath: /data}]
  volumes: [{name: data, emptyDir: {}}]
`, pod, testImage))
	mine := []string{"podunit_e2e-own_app", "e2e-own_app", "e2e-own-infra"}
	vols := []string{"podunit_e2e-own_data", "e2e-own_data"}
	t.Cleanup(func() {
		run(t, podunit, "down", "--grace-period", "0", pod)
		for _, c := range mine {
			run(t, "podman", "rm", "-f", c)
		}
		for _, v := range vols {
			run(t, "podman", "volume", "rm", "-f", v)
		}
	})
	for _, c := range mine {
		must(t, "podman", "create", "--name", c, "--label", "owner=user", testImage, "sleep", "1")
	}
	for _, v := range vols {
		must(t, "podman", "volume", "create", "--label", "owner=user", v)
		must(t, "podman", "run", "--rm", "-v", v+":/d", testImage, "sh", "-c", "echo precious > /d/file")
	}
	intact := func(when string) {
		t.Helper()
		for _, c := range mine {
			if l := run(t, "podman", "inspect", "--format", "{{.Config.Labels.owner}}", c); strings.TrimSpace(l.stdout) != "user" {
				t.Errorf("%s: the user's container %s is gone or changed: %s %s", when, c, l.stdout, l.stderr)
			}
		}
		for _, v := range vols {
			if out := run(t, "podman", "run", "--rm", "-v", v+":/d", testImage, "cat", "/d/file"); out.stdout != "precious\n" {
				t.Errorf("%s: the user's volume %s lost its data: %q %s", when, v, out.stdout, out.stderr)
			}
		}
	}
	r := run(t, podunit, "up", manifest)
	if r.code != 3 {
		t.Errorf("up over the user's objects: exit %d, want 3\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"podman container podunit_e2e-own_app exists and was not created by podunit", "spec.volumes[0].emptyDir: conflict: podman volume podunit_e2e-own_data exists"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("up's error does not say %q:\n%s", want, r.stderr)
		}
	}
	assertGone(t, pod)
	intact("after the refused up")

	// Without the objects in podunit's names, the pod runs beside the others.
	must(t, "podman", "rm", "podunit_e2e-own_app")
	must(t, "podman", "volume", "rm", "podunit_e2e-own_data")
	mine, vols = mine[1:], vols[1:]
	must(t, podunit, "up", manifest)
	must(t, "podman", "exec", ctrName(pod, "app"), "sh", "-c", "test ! -e /data/file")
	must(t, podunit, "down", pod)
	assertGone(t, pod)
	intact("after up and down of the pod")
}

// Of two `podunit up` of one pod at once, exactly one creates it; the other
// finds it made (unchanged, exit 0) or in the making (exit 3, already
// exists); the pod runs.
func TestFaultsConcurrentUp(t *testing.T) {
	const pod = "e2e-race"
	manifest := writeManifest(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: app, image: %s, command: [sleep, "100000"]}
`, pod, testImage))
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", pod) })
	results := make([]result, 2)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func(i int) { defer wg.Done(); results[i] = run(t, podunit, "up", manifest) }(i)
	}
	wg.Wait()
	codes := []int{results[0].code, results[1].code}
	started := strings.Count(results[0].stdout+results[1].stdout, "pod/"+pod+" started")
	if !(codes[0] == 0 && (codes[1] == 3 || codes[1] == 0) || codes[0] == 3 && codes[1] == 0) || started != 1 {
		t.Fatalf("exit codes %v, %d started; want one to start it and the other to exit 0 (unchanged) or 3\n%s%s\n%s%s", codes, started,
			results[0].stdout, results[0].stderr, results[1].stdout, results[1].stderr)
	}
	for _, r := range results {
		if r.code == 3 && !strings.Contains(r.stderr, "already") {
			t.Errorf("the loser's message: %s", r.stderr)
		}
	}
	if st := status(t, pod); st == nil || st.Phase != "Running" || st.Ready != 1 {
		t.Errorf("after the race: %+v", st)
	}
	// down waits for an up in progress, then removes the pod.
	must(t, podunit, "down", pod)
	assertGone(t, pod)
}

// up --replace with a bad image changes nothing: the running pod goes on,
// same container, and the error names the field.
func TestFaultsReplaceWithBadImage(t *testing.T) {
	const pod = "e2e-replace-bad"
	tmpl := `
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: app, image: %s, imagePullPolicy: Never, command: [sleep, "100000"]}
`
	up(t, fmt.Sprintf(tmpl, pod, testImage), pod)
	id := strings.TrimSpace(must(t, "podman", "inspect", "--format", "{{.Id}}", ctrName(pod, "app")))
	bad := writeManifest(t, fmt.Sprintf(tmpl, pod, "localhost/podunit-test/no-such-image:1"))
	r := run(t, podunit, "up", "--replace", bad)
	if r.code != 2 || !strings.Contains(r.stderr, "spec.containers[0].image") {
		t.Errorf("up --replace with a missing image: exit %d, want 2 naming the field\n%s", r.code, r.stderr)
	}
	if got := strings.TrimSpace(must(t, "podman", "inspect", "--format", "{{.Id}} {{.State.Running}}", ctrName(pod, "app"))); got != id+" true" {
		t.Errorf("the running pod was touched: %s, want %s true", got, id)
	}
}

// An image built on this host under a short name (`podman build -t app`
// names it localhost/app:latest) runs under the default imagePullPolicy of
// :latest, Always, with a warning: there is no registry to pull it from.
func TestLocalShortNameImage(t *testing.T) {
	const pod = "e2e-short-name"
	must(t, "podman", "tag", testImage, "localhost/e2e-short:latest")
	t.Cleanup(func() { run(t, "podman", "rmi", "localhost/e2e-short:latest") })
	tmpl := `
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: app, image: %s, command: [sleep, "100000"]}
`
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", pod) })
	r := run(t, podunit, "up", writeManifest(t, fmt.Sprintf(tmpl, pod, "e2e-short")))
	if r.code != 0 || !strings.Contains(r.stderr, `"e2e-short" is the image localhost/e2e-short:latest built on this host: not pulled despite imagePullPolicy Always`) {
		t.Fatalf("up with a locally built short name: exit %d\n%s", r.code, r.stderr)
	}
	if st := status(t, pod); st == nil || st.Phase != "Running" {
		t.Errorf("pod: %+v", st)
	}
	must(t, podunit, "down", pod)
	assertGone(t, pod)
}

// A container that cannot start (its command is not in the image) in a pod
// that restarts nothing: up says why (the runtime's own words) and takes
// back what it made. The pod completes as its container's start fails, and
// letting its infra go then would cancel the start job `up` waits for: it
// must not ("job canceled" would hide the reason). The start fails once,
// with podman run's status (127): podunit's podman service made the
// container and said why it did not start, and podman run, which would fail
// the same way, is not tried after it.
func TestFaultsCommandNotFound(t *testing.T) {
	const pod = "e2e-no-command"
	path := writeManifest(t, `
apiVersion: v1
kind: Pod
metadata: {name: `+pod+`}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: `+testImage+`
    command: ["/no/such/command"]
`)
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", pod) })
	r := run(t, podunit, "up", path)
	if r.code != 1 || !strings.Contains(r.stderr, "/no/such/command") || !strings.Contains(r.stderr, "job failed") || strings.Contains(r.stderr, "canceled") ||
		!strings.Contains(r.stderr, "exit status 127") || strings.Contains(r.stderr, "through podman run") {
		t.Errorf("up: exit %d\n%s", r.code, r.stderr)
	}
	assertGone(t, pod)
}
