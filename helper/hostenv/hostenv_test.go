package hostenv

import (
	"os"
	"path/filepath"
	"testing"
)

// The small binaries are found beside podunit (a build tree's bin/) first,
// then in ../libexec/podunit/ (the packages'); a file that is not
// executable is not one, and none found is "": podunit then runs the
// helpers itself.
func TestHelperAndProberPaths(t *testing.T) {
	root := t.TempDir()
	self := filepath.Join(root, "usr", "bin", "podunit")
	libexec := filepath.Join(root, "usr", "libexec", "podunit")
	put := func(path string, mode os.FileMode) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("#!/bin/true\n"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	put(self, 0o755)
	if got := HelperPath(self); got != "" {
		t.Errorf("none installed: HelperPath = %q", got)
	}
	put(filepath.Join(libexec, "podunit-helper"), 0o644)
	if got := HelperPath(self); got != "" {
		t.Errorf("not executable: HelperPath = %q", got)
	}
	put(filepath.Join(libexec, "podunit-helper"), 0o755)
	put(filepath.Join(libexec, "podunit-probe"), 0o755)
	if got, want := HelperPath(self), filepath.Join(libexec, "podunit-helper"); got != want {
		t.Errorf("packaged: HelperPath = %q, want %q", got, want)
	}
	// the helper finds the prober beside itself
	if got, want := ProberPath(filepath.Join(libexec, "podunit-helper")), filepath.Join(libexec, "podunit-probe"); got != want {
		t.Errorf("from the helper: ProberPath = %q, want %q", got, want)
	}
	beside := filepath.Join(filepath.Dir(self), "podunit-helper")
	put(beside, 0o755)
	if got := HelperPath(self); got != beside {
		t.Errorf("beside podunit: HelperPath = %q, want %q", got, beside)
	}
}
