package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Two containers share the pod's network (one reaches the other over localhost),
// its UTS namespace (hostname = pod name) and an emptyDir; a hostPort is published.
func TestPodSharesNetworkHostnameAndEmptyDir(t *testing.T) {
	const pod = "e2e-share"
	up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata:
  name: %s
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: server
    image: %s
    command: ["httpd", "-f", "-p", "8080", "-h", "/srv"]
    ports:
    - containerPort: 8080
      hostPort: 18181
    volumeMounts:
    - {name: shared, mountPath: /srv}
  - name: client
    image: %s
    command: ["sh", "-c", "echo written-by-client > /data/note.txt; exec sleep 100000"]
    volumeMounts:
    - {name: shared, mountPath: /data}
  volumes:
  - name: shared
    emptyDir: {}
`, pod, testImage, testImage), pod)

	for _, c := range []string{"server", "client"} {
		unit := "podunit-e2e\\x2dshare-" + c + ".service"
		if got := unitProp(t, unit, "ActiveState"); got != "active" {
			t.Errorf("%s: ActiveState=%s, want active", unit, got)
		}
		if got := strings.TrimSpace(must(t, "podman", "exec", ctrName(pod, c), "hostname")); got != pod {
			t.Errorf("hostname in %s = %q, want %q", c, got, pod)
		}
	}
	if got := unitProp(t, "podunit-e2e\\x2dshare.slice", "ActiveState"); got != "active" {
		t.Errorf("slice ActiveState=%s", got)
	}
	// client -> server over localhost, reading the file the client wrote into the
	// emptyDir that the server serves.
	var body string
	eventually(t, 10*time.Second, "the server to serve the client's file", func() bool {
		r := run(t, "podman", "exec", ctrName(pod, "client"), "wget", "-q", "-O", "-", "http://localhost:8080/note.txt")
		body = r.stdout
		return r.code == 0
	})
	if strings.TrimSpace(body) != "written-by-client" {
		t.Errorf("client fetched %q over localhost", body)
	}
	// hostPort: from the host's loopback.
	var resp *http.Response
	eventually(t, 10*time.Second, "the published port", func() bool {
		var err error
		resp, err = http.Get("http://127.0.0.1:18181/note.txt")
		return err == nil
	})
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(b)) != "written-by-client" {
		t.Errorf("hostPort 18181: %d %q", resp.StatusCode, b)
	}
	st := status(t, pod)
	if st == nil || st.Phase != "Running" || st.Ready != 2 {
		t.Fatalf("ps: %+v, want Running 2/2", st)
	}

	must(t, podunit, "down", pod)
	assertGone(t, pod)
}

func TestRestartPolicy(t *testing.T) {
	manifest := func(pod, policy, code string) string {
		return fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  restartPolicy: %s
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: %s
    command: ["sh", "-c", "sleep 1; exit %s"]
  - name: keeper
    image: %s
    command: ["sleep", "100000"]
`, pod, policy, testImage, code, testImage)
	}
	t.Run("Always restarts an exiting container", func(t *testing.T) {
		const pod = "e2e-always"
		up(t, manifest(pod, "Always", "0"), pod)
		unit := "podunit-e2e\\x2dalways-main.service"
		// the kubelet's count: a restart is counted when the container
		// starts again (the first at once, the second after 10 s)
		eventually(t, 40*time.Second, "two restarts in ps", func() bool {
			st := status(t, pod)
			return st != nil && st.Restarts >= 2
		})
		if n := unitProp(t, unit, "NRestarts"); n < "2" || len(n) != 1 {
			t.Errorf("systemd restarted the unit %s times, want 2 or more", n)
		}
	})
	t.Run("Never leaves a failed container terminated", func(t *testing.T) {
		const pod = "e2e-never"
		up(t, manifest(pod, "Never", "3"), pod)
		unit := "podunit-e2e\\x2dnever-main.service"
		eventually(t, 20*time.Second, "the container to end", func() bool {
			s := unitProp(t, unit, "ActiveState")
			return s == "failed" || s == "inactive"
		})
		time.Sleep(2 * time.Second) // a restart would have happened by now
		if n := unitProp(t, unit, "NRestarts"); n != "0" {
			t.Errorf("NRestarts=%s under Never", n)
		}
		if s := unitProp(t, unit, "ExecMainStatus"); s != "3" {
			t.Errorf("ExecMainStatus=%s, want the container's exit code 3", s)
		}
		st := status(t, pod)
		if st == nil || len(st.Containers) != 2 {
			t.Fatalf("ps: %+v", st)
		}
		c := st.Containers[0]
		if c.State != "Terminated" || c.Reason != "Error" || c.ExitCode == nil || *c.ExitCode != 3 {
			t.Errorf("main container: %+v, want Terminated/Error/3", c)
		}
		if st.Phase != "Running" { // keeper still runs
			t.Errorf("phase %s, want Running while keeper runs", st.Phase)
		}
	})
	t.Run("OnFailure does not restart a container that succeeded", func(t *testing.T) {
		const pod = "e2e-onfailure"
		up(t, manifest(pod, "OnFailure", "0"), pod)
		unit := "podunit-e2e\\x2donfailure-main.service"
		eventually(t, 20*time.Second, "the container to end", func() bool {
			return unitProp(t, unit, "ActiveState") == "inactive"
		})
		time.Sleep(2 * time.Second)
		if n := unitProp(t, unit, "NRestarts"); n != "0" {
			t.Errorf("NRestarts=%s after exit 0 under OnFailure", n)
		}
		st := status(t, pod)
		if c := st.Containers[0]; c.State != "Terminated" || c.Reason != "Completed" {
			t.Errorf("main container: %+v, want Terminated/Completed", c)
		}
	})
}

// Kubernetes $(VAR) expansion happens; shell "$" reaches the container untouched
// (systemd would expand $VAR in Exec lines if podunit did not escape it).
func TestCommandEnvAndDollar(t *testing.T) {
	const pod = "e2e-env"
	up(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata:
  name: %s
  labels: {tier: backend}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: %s
    workingDir: /tmp
    env:
    - {name: GREETING, value: hello}
    - {name: MESSAGE, value: "$(GREETING) world"}
    - name: MY_POD
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    - name: MY_TIER
      valueFrom: {fieldRef: {fieldPath: "metadata.labels['tier']"}}
    command: ["sh", "-c"]
    args:
    - |
      echo "$(MESSAGE)|"'$$(MESSAGE)'"|$MESSAGE|${MY_POD}|$MY_TIER|$(UNDEFINED)|$(pwd)|100%%" > /tmp/out; exec sleep 100000
`, pod, testImage), pod)
	var out string
	eventually(t, 10*time.Second, "the output file", func() bool {
		r := run(t, "podman", "exec", ctrName(pod, "main"), "cat", "/tmp/out")
		out = strings.TrimSpace(r.stdout)
		return r.code == 0 && out != ""
	})
	want := "hello world|$(MESSAGE)|hello world|e2e-env|backend||/tmp|100%"
	// $(UNDEFINED) stays as written for the shell, which runs it as a command
	// substitution of a missing command: empty.
	if out != want {
		t.Errorf("container saw %q\n                  want %q", out, want)
	}
}

func TestUpTwiceAndReplace(t *testing.T) {
	const pod = "e2e-replace"
	yaml := fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: main, image: %s, command: ["sleep", "100000"]}
`, pod, testImage)
	path := up(t, yaml, pod)
	before := unitProp(t, "podunit-e2e\\x2dreplace-main.service", "MainPID")
	// the same pod again: left alone, as kubectl apply leaves it (and
	// apply -f is kubectl's way to say up)
	if out := must(t, podunit, "apply", "-f", path); out != "pod/"+pod+" unchanged\n" {
		t.Errorf("second up: %q, want unchanged", out)
	}
	if again := unitProp(t, "podunit-e2e\\x2dreplace-main.service", "MainPID"); again != before {
		t.Errorf("an unchanged pod was restarted: MainPID %s -> %s", before, again)
	}
	// the pod as get -o yaml shows it (its node, uid, creation and status
	// with it), applied again: the same pod, as kubectl apply takes it
	exported := writeManifest(t, must(t, podunit, "get", "pod", pod, "-o", "yaml"))
	if r := run(t, podunit, "up", exported); r.code != 0 || r.stdout != "pod/"+pod+" unchanged\n" {
		t.Errorf("up of the exported pod: exit %d, %q %s; want unchanged", r.code, r.stdout, r.stderr)
	}
	// another spec: refused, as Kubernetes refuses to change a pod's spec
	changed := writeManifest(t, strings.Replace(yaml, `"100000"`, `"200000"`, 1))
	if r := run(t, podunit, "up", changed); r.code != 3 || !strings.Contains(r.stderr, "already exists") || !strings.Contains(r.stderr, "--replace recreates it") {
		t.Errorf("up of a changed pod: exit %d, %q; want exit 3, 'already exists' and the way out", r.code, r.stderr)
	}
	must(t, podunit, "up", "--replace", path)
	after := unitProp(t, "podunit-e2e\\x2dreplace-main.service", "MainPID")
	if before == after || unitProp(t, "podunit-e2e\\x2dreplace-main.service", "ActiveState") != "active" {
		t.Errorf("--replace: MainPID %s -> %s", before, after)
	}
	// down by file, as well as by name (kubectl's delete pod NAME too, run
	// where a directory is named pod)
	must(t, podunit, "down", path)
	assertGone(t, pod)
	if r := run(t, podunit, "down", pod); r.code != 3 {
		t.Errorf("down of a missing pod: exit %d, want 3", r.code)
	}
	must(t, podunit, "up", path)
	dir := filepath.Dir(writeManifest(t, "")) // a directory the user may enter
	if err := os.Mkdir(filepath.Join(dir, "pod"), 0o755); err != nil {
		t.Fatal(err)
	}
	if r := runIn(t, "", "sh", "-c", "cd "+dir+" && "+podunit+" delete pod "+pod); r.code != 0 || !strings.HasPrefix(r.stdout, "pod/"+pod+" removed\n") {
		t.Errorf("delete pod %s: exit %d\n%s%s", pod, r.code, r.stdout, r.stderr)
	}
	assertGone(t, pod)
}

func TestDryRunChangesNothing(t *testing.T) {
	const pod = "e2e-dry"
	path := writeManifest(t, fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  containers:
  - {name: main, image: %s, args: ["echo", "$HOME"]}
`, pod, testImage))
	out := must(t, podunit, "up", "--dry-run", path)
	for _, want := range []string{"### podunit-e2e\\x2ddry.slice", "### podunit-e2e\\x2ddry-main.service", "Type=notify",
		"ExecStart=" + filepath.Join(repo, "bin", "podunit-helper") + " internal run --pod e2e-dry --container main",
		"busybox:1 echo '$HOME'"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	assertGone(t, pod)
}

// The downward API's status fields: the pod's own address (as its network
// namespace has it) and the host's, in env, through $(VAR) in args, for
// init and app containers; on the host's network both are the host's.
func TestDownwardStatusFields(t *testing.T) {
	hostAddrs := map[string]bool{}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			hostAddrs[n.IP.String()] = true
		}
	}
	manifest := func(pod string, hostNetwork bool) string {
		return fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  hostNetwork: %t
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: init
    image: %s
    env:
    - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
    volumeMounts: [{name: out, mountPath: /out}]
    command: ["sh", "-c", "echo $(POD_IP) > /out/init"]
  containers:
  - name: main
    image: %s
    env:
    - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
    - {name: POD_IPS, valueFrom: {fieldRef: {fieldPath: status.podIPs}}}
    - {name: HOST_IP, valueFrom: {fieldRef: {fieldPath: status.hostIP}}}
    - {name: HOST_IPS, valueFrom: {fieldRef: {fieldPath: status.hostIPs}}}
    - {name: LISTEN, value: "$(POD_IP):8080"}
    volumeMounts: [{name: out, mountPath: /out}]
    command: ["sh", "-c"]
    args: ["echo \"arg=$(POD_IP) env=$POD_IP ips=$POD_IPS host=$HOST_IP hosts=$HOST_IPS listen=$LISTEN\" > /tmp/out; exec sleep 100000"]
  volumes: [{name: out, emptyDir: {}}]
`, pod, hostNetwork, testImage, testImage)
	}
	read := func(pod string) map[string]string {
		var out string
		eventually(t, 15*time.Second, "the output file", func() bool {
			r := run(t, "podman", "exec", ctrName(pod, "main"), "cat", "/tmp/out")
			out = strings.TrimSpace(r.stdout)
			return r.code == 0 && out != ""
		})
		vals := map[string]string{}
		for _, f := range strings.Fields(out) {
			k, v, _ := strings.Cut(f, "=")
			vals[k] = v
		}
		vals["init"] = strings.TrimSpace(must(t, "podman", "exec", ctrName(pod, "main"), "cat", "/out/init"))
		t.Logf("%s: %s, init %s", pod, out, vals["init"])
		return vals
	}

	const pod = "e2e-status"
	up(t, manifest(pod, false), pod)
	v := read(pod)
	own := must(t, "podman", "exec", ctrName(pod, "main"), "ip", "-o", "addr", "show")
	if v["env"] == "" || !strings.Contains(own, " "+v["env"]+"/") || hostAddrs[v["env"]] {
		t.Errorf("status.podIP %q is not an address of the pod's own interfaces (and only of them):\n%s", v["env"], own)
	}
	if v["arg"] != v["env"] || v["init"] != v["env"] || v["listen"] != v["env"]+":8080" {
		t.Errorf("$(POD_IP) in args %q, in the init container %q, in LISTEN %q: want %q", v["arg"], v["init"], v["listen"], v["env"])
	}
	if ips := strings.Split(v["ips"], ","); ips[0] != v["env"] {
		t.Errorf("status.podIPs %q does not start with status.podIP %q", v["ips"], v["env"])
	}
	if !hostAddrs[v["host"]] || strings.Split(v["hosts"], ",")[0] != v["host"] {
		t.Errorf("status.hostIP %q (hostIPs %q) is not an address of this host", v["host"], v["hosts"])
	}

	const hpod = "e2e-status-host"
	up(t, manifest(hpod, true), hpod)
	h := read(hpod)
	if !hostAddrs[h["env"]] || h["env"] != h["host"] || h["init"] != h["host"] {
		t.Errorf("on the host's network: podIP %q, init %q, hostIP %q: want the host's address for all", h["env"], h["init"], h["host"])
	}
}
