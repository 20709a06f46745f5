package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/podunit/podunit/runner"
)

// label node NODE and node/NODE name this host; "node" followed at once by
// a label is a pod named node.
func TestNodeLabelTarget(t *testing.T) {
	for _, tc := range []struct {
		pos  []string
		name string
		rest []string
		ok   bool
	}{
		{[]string{"node", "vm", "disk=ssd"}, "vm", []string{"disk=ssd"}, true},
		{[]string{"nodes", "vm", "disk-"}, "vm", []string{"disk-"}, true},
		{[]string{"no", "vm", "a=b", "c-"}, "vm", []string{"a=b", "c-"}, true},
		{[]string{"node/vm", "disk=ssd"}, "vm", []string{"disk=ssd"}, true},
		{[]string{"nodes/vm", "disk=ssd"}, "vm", []string{"disk=ssd"}, true},
		{[]string{"node", "disk=ssd"}, "", nil, false}, // the pod "node"
		{[]string{"node", "disk-"}, "", nil, false},
		{[]string{"web", "disk=ssd"}, "", nil, false},
		{[]string{"pod/node", "disk=ssd"}, "", nil, false},
		{[]string{"node/", "disk=ssd"}, "", nil, false},
		{nil, "", nil, false},
	} {
		name, rest, ok := nodeLabelTarget(tc.pos)
		if name != tc.name || ok != tc.ok || !slices.Equal(rest, tc.rest) {
			t.Errorf("%q: %q %q %v, want %q %q %v", tc.pos, name, rest, ok, tc.name, tc.rest, tc.ok)
		}
	}
}

// The node file's labels are changed where they are, added at the end,
// removed; comments, blank lines and extended resources stay; a changed
// value needs --overwrite, as with kubectl; the built-in labels are refused.
func TestEditNodeLabels(t *testing.T) {
	file := []string{"# this host", "disk=hdd", "", "example.com/dongle: 2", "zone = a"}
	for _, tc := range []struct {
		name      string
		set       map[string]string
		remove    []string
		overwrite bool
		want      []string
		changed   bool
		err       string
		is        error // the error's kind, with err
	}{
		{"add", map[string]string{"gpu": "yes", "b": "1"}, nil, false,
			[]string{"# this host", "disk=hdd", "", "example.com/dongle: 2", "zone = a", "b=1", "gpu=yes"}, true, "", nil},
		{"same value", map[string]string{"disk": "hdd", "zone": "a"}, nil, false,
			[]string{"# this host", "disk=hdd", "", "example.com/dongle: 2", "zone=a"}, false, "", nil},
		{"other value", map[string]string{"disk": "ssd"}, nil, false, nil, false, "this host has label disk=hdd already (--overwrite changes it)", runner.ErrConflict},
		{"overwrite", map[string]string{"disk": "ssd"}, nil, true,
			[]string{"# this host", "disk=ssd", "", "example.com/dongle: 2", "zone = a"}, true, "", nil},
		{"remove", nil, []string{"zone", "disk"}, false,
			[]string{"# this host", "", "example.com/dongle: 2"}, true, "", nil},
		{"remove what is not there", nil, []string{"gpu"}, false, file, false, "", nil},
		{"built-in", map[string]string{"kubernetes.io/hostname": "x"}, nil, true, nil, false, "kubernetes.io/hostname is this host's own label", errUsage},
		{"built-in removed", nil, []string{"kubernetes.io/arch"}, false, nil, false, "kubernetes.io/arch is this host's own label", errUsage},
	} {
		got, changed, err := editNodeLabels(slices.Clone(file), tc.set, tc.remove, tc.overwrite)
		if tc.err != "" {
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || changed != tc.changed || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q changed %v (%v), want %q changed %v", tc.name, got, changed, err, tc.want, tc.changed)
		}
	}
	// a key written twice has the last line's value (as nodeLabels reads
	// it); set, it keeps one line, at the first's place
	got, changed, err := editNodeLabels([]string{"a=1", "b=0", "a=2"}, map[string]string{"a": "2"}, nil, false)
	if err != nil || !changed || !slices.Equal(got, []string{"a=2", "b=0"}) {
		t.Errorf("a key twice: %q %v %v", got, changed, err)
	}
	if _, _, err := editNodeLabels([]string{"a=1", "a=2"}, map[string]string{"a": "1"}, nil, false); err == nil {
		t.Error("a key twice, set to its first line's value without --overwrite: no error")
	}
}

// podunit label node NODE writes the node file that nodeLabels reads; the
// command line of another node is not found (exit 3).
func TestLabelNodeCommand(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir()) // no stored DaemonSet to refit
	host := nodeName()
	run := func(args ...string) (string, error) {
		app := newApp()
		var out bytes.Buffer
		app.Writer, app.ErrWriter = &out, &bytes.Buffer{}
		err := app.Run(append([]string{"podunit", "label"}, args...))
		return out.String(), err
	}
	if out, err := run("node", host, "disk=ssd", "tier=web"); err != nil || out != "node/"+host+" labeled\n" {
		t.Fatalf("label node: %q %v", out, err)
	}
	if l := nodeLabels(); l["disk"] != "ssd" || l["tier"] != "web" || l["kubernetes.io/hostname"] != host {
		t.Errorf("labels after: %v", l)
	}
	file := filepath.Join(dir, "podunit", "node-labels")
	if data, err := os.ReadFile(file); err != nil || string(data) != "disk=ssd\ntier=web\n" {
		t.Errorf("node file: %q %v", data, err)
	}
	if _, err := run("node/"+host, "disk=hdd"); exitCode(err) != exitConflict {
		t.Errorf("a changed value without --overwrite: %v", err)
	}
	if out, err := run("node/"+host, "disk=hdd", "tier-", "--overwrite"); err != nil || out != "node/"+host+" labeled\n" {
		t.Errorf("overwrite and remove: %q %v", out, err)
	}
	if l := nodeLabels(); l["disk"] != "hdd" || inSet(l, "tier") {
		t.Errorf("labels after overwrite and remove: %v", l)
	}
	if out, err := run("node", host, "disk=hdd"); err != nil || out != "node/"+host+" not labeled\n" {
		t.Errorf("the same again: %q %v", out, err)
	}
	if _, err := run("node", "other-"+host, "disk=ssd"); exitCode(err) != exitConflict || !strings.Contains(err.Error(), `node "other-`+host+`" not found`) {
		t.Errorf("another node: %v (exit %d)", err, exitCode(err))
	}
	for _, args := range [][]string{{"node", host}, {"node", host, "bad key!=x"}, {"node", host, "a=b", "stray"}, {"node", host, "a=b", "-l", "x=y"}} {
		if _, err := run(args...); exitCode(err) != exitInvalid {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
}
