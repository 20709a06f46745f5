// Package e2e runs the built podunit binary against a real systemd user manager
// and real rootless podman: in the test world (test/world/world.sh) on machines
// without a user session, directly on hosts that have one. Nothing is mocked.
package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/podunit/podunit/units"
)

var (
	repo    string // the repository root
	podunit string // the built binary
	world   string // test/world/world.sh
)

const testImage = "localhost/podunit-test/busybox:1"

func TestMain(m *testing.M) {
	_, file, _, _ := runtime.Caller(0)
	repo = filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
	podunit = filepath.Join(repo, "bin", "podunit")
	world = filepath.Join(repo, "test", "world", "world.sh")
	if _, err := os.Stat(podunit); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: bin/podunit is missing: run `make build` (or `make e2e`)")
		os.Exit(1)
	}
	if out, err := exec.Command(world, "status").Output(); err != nil || strings.TrimSpace(string(out)) == "down" {
		fmt.Fprintln(os.Stderr, "e2e: no test world and no user session: run `test/world/world.sh up` (or `make e2e`)")
		os.Exit(1)
	}
	if out, err := exec.Command(filepath.Join(repo, "test", "images", "build.sh")).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: building test images: %v\n%s", err, out)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// result is what a command did.
type result struct {
	stdout, stderr string
	code           int
}

// run runs a command as the world's user, inside the world.
func run(t testing.TB, args ...string) result {
	t.Helper()
	return runIn(t, "", args...)
}

func runIn(t testing.TB, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(world, append([]string{"exec", "--"}, args...)...)
	cmd.Env = append(os.Environ(), "PODUNIT_WORLD_WD="+repo)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %v: %v", args, err)
	}
	return result{out.String(), errb.String(), code}
}

// must runs a command that has to succeed.
func must(t testing.TB, args ...string) string {
	t.Helper()
	r := run(t, args...)
	if r.code != 0 {
		t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// writeManifest puts a manifest where the world's user can read it.
func writeManifest(t testing.TB, yaml string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "podunit-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "pod.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// up starts a manifest and registers its teardown.
func up(t testing.TB, yaml string, pods ...string) string {
	t.Helper()
	path := writeManifest(t, yaml)
	t.Cleanup(func() {
		for _, p := range pods {
			run(t, podunit, "down", "--grace-period", "0", "--force", p)
		}
	})
	must(t, podunit, "up", path)
	return path
}

// unitProp reads one property of a unit with systemctl --user show.
func unitProp(t testing.TB, unit, prop string) string {
	t.Helper()
	return strings.TrimSpace(must(t, "systemctl", "--user", "show", "--value", "-p", prop, unit))
}

type podStatus struct {
	Name       string `json:"name"`
	Namespace  string `json:"namespace"`
	Phase      string `json:"phase"`
	Ready      int    `json:"ready"`
	Total      int    `json:"total"`
	Restarts   int    `json:"restarts"`
	Containers []struct {
		Name     string `json:"name"`
		State    string `json:"state"`
		Reason   string `json:"reason"`
		Message  string `json:"message"`
		ExitCode *int   `json:"exitCode"`
		LastExit *int   `json:"lastExitCode"`
		Restarts int    `json:"restartCount"`
		Unit     string `json:"unit"`
	} `json:"containers"`
}

func status(t testing.TB, name string) *podStatus {
	t.Helper()
	var all []podStatus
	out := must(t, podunit, "ps", "-o", "json")
	if err := json.Unmarshal([]byte(out), &all); err != nil {
		t.Fatalf("ps -o json: %v\n%s", err, out)
	}
	for i := range all {
		if all[i].Name == name {
			return &all[i]
		}
	}
	return nil
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", timeout, what)
}

// assertGone checks that nothing of a pod is left: no unit, container, volume or record.
func assertGone(t testing.TB, pod string) {
	t.Helper()
	unitList := must(t, "systemctl", "--user", "list-units", "--all", "--plain", "--no-legend", "podunit-"+pod+"*")
	for _, l := range strings.Split(strings.TrimSpace(unitList), "\n") {
		if f := strings.Fields(l); len(f) > 2 && f[1] != "not-found" {
			t.Errorf("unit left behind: %s", l)
		}
	}
	if out := strings.TrimSpace(must(t, "podman", "ps", "-a", "--filter", "label=io.podunit.pod="+pod, "--format", "{{.Names}}")); out != "" {
		t.Errorf("containers left behind: %s", out)
	}
	if out := strings.TrimSpace(must(t, "podman", "volume", "ls", "--filter", "label=io.podunit.pod="+pod, "--format", "{{.Name}}")); out != "" {
		t.Errorf("volumes left behind: %s", out)
	}
	if out := strings.TrimSpace(must(t, "podman", "pod", "ps", "--format", "{{.Name}}")); strings.Contains(out, pod) {
		t.Errorf("pods left behind: %s", out)
	}
	if r := run(t, "sh", "-c", `test -e "$XDG_RUNTIME_DIR/podunit/pods/`+pod+`"`); r.code == 0 {
		t.Errorf("state record left behind for %s", pod)
	}
}

// assertHidden checks that no text matching pattern (a grep -E pattern that
// does not match itself) is on any command line, in the properties of the
// units matching units (a systemctl pattern), or in any file under dirs.
func assertHidden(t testing.TB, pattern, units string, dirs ...string) {
	t.Helper()
	if r := run(t, "sh", "-c", `grep -l -a -E '`+pattern+`' /proc/[0-9]*/cmdline 2>/dev/null | while read f; do tr '\0' ' ' < $f; echo; done`); strings.TrimSpace(r.stdout) != "" {
		t.Errorf("%s is on a command line:\n%s", pattern, r.stdout)
	}
	show := must(t, "systemctl", "--user", "show", units)
	if regexp.MustCompile(pattern).MatchString(show) || !strings.Contains(show, "ExecStart=") {
		t.Errorf("%s is in a unit's properties (or nothing was shown)", pattern)
	}
	if r := run(t, "sh", "-c", `grep -r -l -E '`+pattern+`' `+strings.Join(dirs, " ")+` 2>/dev/null`); strings.TrimSpace(r.stdout) != "" {
		t.Errorf("%s is in a file: %s", pattern, r.stdout)
	}
}

// ctrName is the podman name of a container of a pod.
func ctrName(pod, c string) string { return units.ContainerName(pod, c) }

// nodeFile writes the world user's ~/.config/podunit/node-labels (printf
// format: lines end in \n) for one test.
func nodeFile(t testing.TB, content string) {
	t.Helper()
	must(t, "sh", "-c", `mkdir -p "$HOME/.config/podunit" && printf '`+content+`' > "$HOME/.config/podunit/node-labels"`)
	t.Cleanup(func() { run(t, "sh", "-c", `rm -f "$HOME/.config/podunit/node-labels"`) })
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
