package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/runner"
)

func TestExitCodes(t *testing.T) {
	for _, c := range []struct {
		err  error
		want int
	}{
		{fmt.Errorf("f.yaml: %w", pod.ErrInvalid), exitInvalid},
		{fmt.Errorf("%w: podunit up FILE", errUsage), exitInvalid},
		{fmt.Errorf("spec.containers[0].image: %w", runner.ErrImage), exitInvalid},
		{fmt.Errorf("spec.containers[0].securityContext.runAsNonRoot: %w and image will run as root", runner.ErrNonRoot), exitInvalid},
		{fmt.Errorf("%w: %q", runner.ErrExists, "web"), exitConflict},
		{fmt.Errorf("%w: %q", runner.ErrNotFound, "web"), exitConflict},
		{notFound{kind: "deployment", name: "web"}, exitConflict},
		{fmt.Errorf("%w: init failed", runner.ErrPodFailed), exitPodFailed},
		{errors.New("dbus: connection refused"), exitFailure},
	} {
		if got := exitCode(c.err); got != c.want {
			t.Errorf("exitCode(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}

// dryPod writes a pod manifest named dry to dir, for dry runs.
func dryPod(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "pod.yaml")
	if err := os.WriteFile(path, []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: dry}\nspec:\n  containers: [{name: c, image: x:1}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// `up --dry-run` prints the plan and touches nothing: it needs no systemd.
func TestDryRunCLI(t *testing.T) {
	dir := t.TempDir()
	path := dryPod(t, dir)
	app := newApp()
	var out bytes.Buffer
	app.Writer = &out
	if err := app.Run([]string{"podunit", "up", "--dry-run", path}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"### podunit-dry.slice", "### podunit-dry-c.service", "--pull=never"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dry run lacks %q", want)
		}
	}
	err := app.Run([]string{"podunit", "up", "--dry-run", filepath.Join(dir, "missing.yaml")})
	if exitCode(err) != exitInvalid {
		t.Errorf("missing file: %v (exit %d)", err, exitCode(err))
	}
}

func TestGenerated(t *testing.T) {
	for _, what := range []string{"man", "bash", "zsh", "fish"} {
		app := newApp()
		var out bytes.Buffer
		app.Writer = &out
		if err := app.Run([]string{"podunit", "internal", "gen", what}); err != nil || out.Len() < 100 {
			t.Errorf("gen %s: %v (%d bytes)", what, err, out.Len())
		}
		if what == "man" && (!strings.Contains(out.String(), ".TH podunit 1") || strings.Contains(out.String(), "shape-here")) {
			t.Errorf("man page: section or hidden commands wrong")
		}
		if what == "man" || what == "fish" {
			for _, cmd := range []string{"debug", "exec", "logs", "wait", "get", "events", "previous", "target"} {
				if !strings.Contains(out.String(), cmd) {
					t.Errorf("gen %s: no %s", what, cmd)
				}
			}
		}
	}
}

// Flags may follow the arguments, as kubectl's may, and -f names a file as
// kubectl's does; an unknown flag or command is a usage error (exit 2), not
// an argument.
func TestFlagsAnywhere(t *testing.T) {
	dir := t.TempDir()
	path := dryPod(t, dir)
	for _, args := range [][]string{{"up", path, "--dry-run"}, {"up", "-f", path, "--dry-run"}, {"up", "--dry-run=true", "--filename=" + path},
		{"apply", "-f", path, "--dry-run"}} { // kubectl's word for it
		app := newApp()
		var out bytes.Buffer
		app.Writer = &out
		if err := app.Run(append([]string{"podunit"}, args...)); err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		if !strings.Contains(out.String(), "### podunit-dry-c.service") {
			t.Errorf("%q is not a dry run:\n%.300s", args, out.String())
		}
	}
	for _, args := range [][]string{
		{"up", path, "--no-such-flag"},
		{"up", "--no-such-flag", path},
		{"up", path, "--timeout", "1x"},
		{"down", "web", "--grace-period", "soon"},
		{"down", "-f", filepath.Join(dir, "missing.yaml")},
		{"create", "-f", path},
		{"get", "pods", "-n"},
		{"get", "pods", "-n", "a", "-A"},
		{"ps", "-A", "-n", "a"},
	} {
		app := newApp()
		app.Writer, app.ErrWriter = &bytes.Buffer{}, &bytes.Buffer{}
		err := app.Run(append([]string{"podunit"}, args...))
		if exitCode(err) != exitInvalid || !errors.Is(err, errUsage) {
			t.Errorf("%q: %v (exit %d), want a usage error", args, err, exitCode(err))
		}
	}
}

// up -n puts the objects that name no namespace in that one, as kubectl's
// -n; an invalid namespace is a usage error.
func TestUpNamespace(t *testing.T) {
	dir := t.TempDir()
	path := dryPod(t, dir)
	app := newApp()
	var out bytes.Buffer
	app.Writer = &out
	if err := app.Run([]string{"podunit", "up", "--dry-run", path, "-n", "team"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "# pod team/dry:") || !strings.Contains(out.String(), "team.svc.cluster.local") {
		t.Errorf("dry run is not in namespace team:\n%.600s", out.String())
	}
	app = newApp()
	app.Writer = &bytes.Buffer{}
	if err := app.Run([]string{"podunit", "up", "--dry-run", "-n", "Bad_NS", path}); !errors.Is(err, errUsage) {
		t.Errorf("an invalid namespace: %v", err)
	}
}

// -n on the commands that name a pod: the pod must be in that namespace
// (pod names are unique on the host), as kubectl finds it only there.
func TestInNamespace(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	if err := podstate.SaveRuntime(podstate.DefaultDir(), &contract.Runtime{Pod: "web", Namespace: "team"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		pod, ns string
		found   bool
	}{{"web", "", true}, {"web", "team", true}, {"web", "default", false}, {"nope", "team", false}, {"nope", "", true}} {
		err := inNamespace(c.pod, c.ns)
		if (err == nil) != c.found || (err != nil && !errors.Is(err, runner.ErrNotFound)) {
			t.Errorf("%s in %q: %v", c.pod, c.ns, err)
		}
	}
	// through the CLI: describe -n of another namespace is not found (exit 3)
	app := newApp()
	app.Writer, app.ErrWriter = &bytes.Buffer{}, &bytes.Buffer{}
	if err := app.Run([]string{"podunit", "describe", "pod", "web", "-n", "default"}); exitCode(err) != exitConflict {
		t.Errorf("describe pod web -n default: %v (exit %d)", err, exitCode(err))
	}
	for _, args := range [][]string{{"logs", "web", "-n", "default"}, {"exec", "-n", "default", "web", "--", "true"}} {
		app := newApp()
		app.Writer, app.ErrWriter = &bytes.Buffer{}, &bytes.Buffer{}
		if err := app.Run(append([]string{"podunit"}, args...)); exitCode(err) != exitConflict {
			t.Errorf("%q: %v (exit %d)", args, err, exitCode(err))
		}
	}
}

// Every helper command the units may run is one `podunit internal` knows.
func TestInternalHasEveryHelper(t *testing.T) {
	have := map[string]bool{}
	for _, c := range internalCommand().Subcommands {
		have[c.Name] = true
	}
	for _, op := range contract.Ops {
		if !have[string(op)] {
			t.Errorf("podunit internal %s: no such command", op)
		}
	}
}
