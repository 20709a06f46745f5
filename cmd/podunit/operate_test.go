package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/runner"
)

func TestInterleavedExec(t *testing.T) {
	names := map[string]string{"-c": "container", "--container": "container", "-i": "stdin", "-t": "tty", "-it": "stdin,tty"}
	valued := map[string]bool{"container": true}
	for _, c := range []struct {
		args []string
		pos  string
		vals string
	}{
		{[]string{"web", "-c", "app", "-it", "--", "sh", "-c", "ls -l"}, "[web sh -c ls -l]", "map[container:app stdin:true tty:true]"},
		{[]string{"web", "--container=app", "--", "ls"}, "[web ls]", "map[container:app]"},
		{[]string{"web", "sh", "-c", "echo"}, "[web sh -c echo]", "map[]"},      // the command's -c is its own
		{[]string{"web", "--", "-c", "x"}, "[web -c x]", "map[]"},               // after --, all is the command
		{[]string{"web", "-i", "cat", "-t"}, "[web cat -t]", "map[stdin:true]"}, // the command starts at its first word
	} {
		pos, vals, err := interleaved(c.args, names, valued, nil, true)
		if err != nil || fmt.Sprint(pos) != c.pos || fmt.Sprint(vals) != c.vals {
			t.Errorf("%q: %v %v %v, want %s %s", c.args, pos, vals, err, c.pos, c.vals)
		}
	}
	if _, _, err := interleaved([]string{"web", "--for"}, map[string]string{"--for": "for"}, map[string]bool{"for": true}, nil, false); !errors.Is(err, errUsage) {
		t.Errorf("a flag without its value: %v", err)
	}
	if _, _, err := interleaved([]string{"web", "--bogus"}, map[string]string{"--for": "for"}, nil, nil, false); !errors.Is(err, errUsage) {
		t.Errorf("an unknown flag: %v", err)
	}
	pos, vals, _ := interleaved([]string{"a", "--for=delete", "b", "--timeout", "5s"}, map[string]string{"--for": "for", "--timeout": "timeout"}, map[string]bool{"for": true, "timeout": true}, nil, false)
	if fmt.Sprint(pos, vals) != "[a b] map[for:delete timeout:5s]" {
		t.Errorf("wait's flags: %v %v", pos, vals)
	}
}

func TestExecTarget(t *testing.T) {
	dir := t.TempDir()
	rt := &contract.Runtime{Pod: "web", Containers: []contract.Container{
		{Name: "setup", Kind: contract.KindInit, Podman: "podunit_web_setup"},
		{Name: "proxy", Kind: contract.KindSidecar, Podman: "podunit_web_proxy"},
		{Name: "app", Kind: contract.KindApp, Podman: "podunit_web_app"},
		{Name: "worker", Kind: contract.KindApp, Podman: "podunit_web_worker"}}}
	if err := podstate.SaveRuntime(dir, rt); err != nil {
		t.Fatal(err)
	}
	var warn strings.Builder
	if c, err := execTarget(dir, "web", "", &warn); err != nil || c.Podman != "podunit_web_app" {
		t.Errorf("default: %v %v, want the first app container", c, err)
	}
	// kubectl's notice, its containers in kubectl's order
	if got := warn.String(); got != "Defaulted container \"app\" out of: app, worker, setup (init), proxy (init)\n" {
		t.Errorf("notice of the default: %q", got)
	}
	warn.Reset()
	if c, err := execTarget(dir, "web", "proxy", &warn); err != nil || c.Podman != "podunit_web_proxy" || warn.Len() != 0 {
		t.Errorf("named: %v %v %q", c, err, warn.String())
	}
	if _, err := execTarget(dir, "web", "nope", nil); !errors.Is(err, runner.ErrNotFound) {
		t.Errorf("unknown container: %v", err)
	}
	if _, err := execTarget(dir, "gone", "", nil); !errors.Is(err, runner.ErrNotFound) {
		t.Errorf("unknown pod: %v", err)
	}
	// kubectl's default-container annotation picks the container when none
	// is named; one that names no container of the pod is passed over
	record := func(annotation string) {
		rec := fmt.Sprintf(`{"pod": {"metadata": {"name": "web", "annotations": {%q: %q}}}}`, DefaultContainerAnnotation, annotation)
		if err := os.WriteFile(filepath.Join(podstate.PodDir(dir, "web"), "pod.json"), []byte(rec), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	record("worker")
	if c, err := execTarget(dir, "web", "", nil); err != nil || c.Podman != "podunit_web_worker" {
		t.Errorf("default-container worker: %v %v", c, err)
	}
	if c, err := execTarget(dir, "web", "proxy", nil); err != nil || c.Podman != "podunit_web_proxy" {
		t.Errorf("named, despite the annotation: %v %v", c, err)
	}
	warn.Reset()
	if c, err := execTarget(dir, "web", "", &warn); err != nil || c.Podman != "podunit_web_worker" || warn.Len() != 0 {
		t.Errorf("default-container worker, told: %v %v %q", c, err, warn.String())
	}
	record("nope")
	warn.Reset()
	if c, err := execTarget(dir, "web", "", &warn); err != nil || c.Podman != "podunit_web_app" {
		t.Errorf("default-container of no container: %v %v, want the first app container", c, err)
	}
	if got := warn.String(); !strings.HasPrefix(got, "Default container name \"nope\" not found in pod web\nDefaulted container \"app\" out of: ") {
		t.Errorf("notice of an annotation naming no container: %q", got)
	}
	// a pod of one container: nothing to tell
	one := &contract.Runtime{Pod: "one", Containers: []contract.Container{{Name: "c", Kind: contract.KindApp, Podman: "podunit_one_c"}}}
	if err := podstate.SaveRuntime(dir, one); err != nil {
		t.Fatal(err)
	}
	warn.Reset()
	if c, err := execTarget(dir, "one", "", &warn); err != nil || c.Name != "c" || warn.Len() != 0 {
		t.Errorf("one container: %v %v %q", c, err, warn.String())
	}
}

func TestPodMeets(t *testing.T) {
	spec := func(s string) waitSpec {
		w, err := parseWaitFor(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		return w
	}
	st := &runner.PodStatus{Name: "p", Phase: "Running", Ready: 1, Total: 2, Containers: []runner.ContainerStatus{
		{Name: "i", Kind: "init", State: "Terminated", Reason: "Completed"}, {Name: "a", Kind: "app", State: "Running"}}}
	if ok, _, _ := podMeets(st, "p", spec("condition=Ready"), true); ok {
		t.Error("1/2 ready met Ready")
	}
	if ok, _, _ := podMeets(st, "p", spec("condition=Ready=false"), true); !ok {
		t.Error("1/2 ready did not meet Ready=false")
	}
	if ok, _, _ := podMeets(st, "p", spec("condition=Initialized"), true); !ok {
		t.Error("completed init containers: not Initialized")
	}
	st.Ready = 2
	if ok, _, _ := podMeets(st, "p", spec("condition=Ready"), true); !ok {
		t.Error("2/2 ready did not meet Ready")
	}
	if ok, _, _ := podMeets(st, "p", spec("condition=ready=False"), true); ok {
		t.Error("2/2 ready met Ready=False")
	}
	if ok, _, _ := podMeets(nil, "p", spec("delete"), false); !ok {
		t.Error("a gone pod did not meet delete")
	}
	if _, _, err := podMeets(nil, "p", spec("condition=Ready"), true); !errors.Is(err, runner.ErrNotFound) {
		t.Errorf("unknown pod: %v", err)
	}
	st.Phase = "Failed"
	if _, _, err := podMeets(st, "p", spec("condition=Ready"), false); err == nil {
		t.Error("a failed pod is waited for")
	}
	if ok, _, err := podMeets(st, "p", spec("condition=Ready=false"), false); !ok || err != nil {
		t.Errorf("a failed pod is not ready: %v %v", ok, err)
	}
	if ok, _, err := podMeets(st, "p", spec("condition=PodScheduled"), false); !ok || err != nil {
		t.Errorf("a failed pod was scheduled: %v %v", ok, err)
	}
}

// wait --for takes kubectl's forms: conditions with a status, and JSONPaths
// with a value or none (braced, or kubectl's relaxed form), whose value may
// hold "=" inside a filter.
func TestParseWaitFor(t *testing.T) {
	for _, c := range []struct {
		in, value string
		hasValue  bool
	}{
		{"jsonpath={.status.phase}=Running", "Running", true},
		{"jsonpath={.status.podIP}", "", false},
		{`jsonpath={.status.conditions[?(@.type=="Ready")].status}=True`, "True", true},
		{"jsonpath=.status.phase=Succeeded", "Succeeded", true},
	} {
		w, err := parseWaitFor(c.in)
		if err != nil || w.path == nil || w.value != c.value || w.hasValue != c.hasValue {
			t.Errorf("%s: %+v %v", c.in, w, err)
		}
	}
	for _, bad := range []string{"condition=Happy", "condition=Ready=maybe", "jsonpath={.status.phase}Running", "jsonpath={.status[}=x", "ready", ""} {
		if _, err := parseWaitFor(bad); !errors.Is(err, errUsage) {
			t.Errorf("%q: %v, want a usage error", bad, err)
		}
	}
}

func TestNewEvents(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	add := func(pod string, sec int, reason, ctr string) {
		if err := podstate.AppendEvent(dir, pod, podstate.Event{Time: t0.Add(time.Duration(sec) * time.Second), Reason: reason, Container: ctr}); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(dir, "pods", "a"), 0o700)
	os.MkdirAll(filepath.Join(dir, "pods", "b"), 0o700)
	add("a", 1, "Scheduled", "")
	add("b", 2, "Started", "web")
	add("a", 3, "Started", "app")
	seen := map[string]time.Time{}
	evs, err := newEvents(dir, nil, seen)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, e.Object+" "+e.Reason)
	}
	if fmt.Sprint(got) != "[pod/a Scheduled pod/b/web Started pod/a/app Started]" {
		t.Errorf("all pods, in time order: %v", got)
	}
	add("b", 4, "Killing", "web")
	if evs, _ := newEvents(dir, []string{"b"}, seen); len(evs) != 1 || evs[0].Reason != "Killing" {
		t.Errorf("only the new event of b: %+v", evs)
	}
	if evs, _ := newEvents(dir, nil, seen); len(evs) != 0 {
		t.Errorf("nothing new: %+v", evs)
	}
	// a list compacted (a probe failing for a long while) prints none of
	// those printed again: what was not printed yet is one event
	for sec := 5; ; sec++ {
		add("b", sec, "Unhealthy", "web")
		if sec%50 != 0 {
			continue
		}
		printed := seen["b"]
		evs, _ := newEvents(dir, []string{"b"}, seen)
		if all, _ := podstate.Events(dir, "b"); len(all) > sec-4 { // not compacted yet
			if len(evs) != 50 && sec > 50 {
				t.Fatalf("at %d s: %d new events, want 50", sec, len(evs))
			}
			continue
		}
		// the one compacted (counting those printed) and those after it
		if len(evs) == 0 || len(evs) > 50 || evs[0].Times() < 50 || !evs[0].Time.After(printed) || !evs[len(evs)-1].Time.Equal(t0.Add(time.Duration(sec)*time.Second)) {
			t.Errorf("after compaction, at %d s: %+v", sec, evs)
		}
		break
	}
	add("b", 100000, "Killing", "web")
	if evs, _ := newEvents(dir, []string{"b"}, seen); len(evs) != 1 || evs[0].Reason != "Killing" {
		t.Errorf("after compaction, the next event: %+v", evs)
	}
}

// --help among a command's arguments shows its help and runs nothing
// (port-forward ran its forwarder before), as kubectl's; after "--" it is the
// command's own.
func TestHelpAmongArguments(t *testing.T) {
	for _, args := range [][]string{{"port-forward", "pod/nope", "18081:80", "--help"}, {"logs", "nope", "-h"}, {"down", "nope", "--help"}, {"exec", "nope", "--help"}} {
		app := newApp()
		var out, errOut strings.Builder
		app.Writer, app.ErrWriter = &out, &errOut
		err := app.Run(append([]string{"podunit"}, args...))
		if exitCode(err) != 0 || !strings.Contains(out.String(), "podunit "+args[0]+" - ") {
			t.Errorf("%v: exit %d (%v), output:\n%s%s", args, exitCode(err), err, out.String(), errOut.String())
		}
	}
	app := newApp()
	app.Writer, app.ErrWriter = io.Discard, io.Discard
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	if err := app.Run([]string{"podunit", "exec", "nope", "--", "sh", "--help"}); exitCode(err) != exitConflict {
		t.Errorf("exec nope -- sh --help: %v, want the pod not found", err)
	}
}
