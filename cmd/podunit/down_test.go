package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// kubectl's `delete TYPE NAME...`: a kind's word first names that kind even
// where the working directory has a directory of that name (the source tree's
// pod/); only when every argument is a path here are they manifests.
func TestTypeFirst(t *testing.T) {
	dir := t.TempDir()
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chdir(wd) })
	for _, p := range []string{"pod", "svc"} {
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "web.yaml"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args      []string
		selector  bool
		word      string
		remaining []string
	}{
		{[]string{"pod", "web", "db"}, false, "pod", []string{"web", "db"}},
		{[]string{"Pods", "web"}, false, "pods", []string{"web"}},
		{[]string{"svc", "web"}, false, "svc", []string{"web"}},
		{[]string{"deployment", "api"}, false, "deployment", []string{"api"}},
		{[]string{"pod"}, true, "pod", nil},                                   // down pod -l app=web
		{[]string{"pod"}, false, "", []string{"pod"}},                         // the directory pod/
		{[]string{"pod", "web.yaml"}, false, "", []string{"pod", "web.yaml"}}, // both are paths here
		{[]string{"web", "db"}, false, "", []string{"web", "db"}},
		{[]string{"web.yaml"}, false, "", []string{"web.yaml"}},
		{nil, false, "", nil},
	} {
		word, rest := typeFirst(c.args, c.selector)
		if word != c.word || !slices.Equal(rest, c.remaining) {
			t.Errorf("typeFirst(%q, %v) = %q %q, want %q %q", c.args, c.selector, word, rest, c.word, c.remaining)
		}
	}
}
