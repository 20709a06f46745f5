package helper

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// fsGroup as the kubelet applies it: the group on everything, group read
// (and write on a writable volume), setgid and group search on directories,
// group execute where the owner has it; symlinks untouched; with
// OnRootMismatch a volume whose root is right already is not walked.
func TestSetVolumeOwnership(t *testing.T) {
	gid := int64(os.Getgid()) // a group the test may give
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "d"), 0o700))
	must(os.WriteFile(filepath.Join(root, "d", "f"), nil, 0o600))
	must(os.WriteFile(filepath.Join(root, "x"), nil, 0o700))
	must(os.Symlink("/etc/passwd", filepath.Join(root, "l")))
	must(os.Chmod(root, 0o700))
	must(SetVolumeOwnership(root, gid, false, false))
	for p, want := range map[string]os.FileMode{
		"":    os.ModeDir | os.ModeSetgid | 0o770,
		"d":   os.ModeDir | os.ModeSetgid | 0o770,
		"d/f": 0o660,
		"x":   0o770,
	} {
		fi, err := os.Stat(filepath.Join(root, p))
		must(err)
		if fi.Mode() != want {
			t.Errorf("%q: mode %v, want %v", p, fi.Mode(), want)
		}
		if g := fi.Sys().(*syscall.Stat_t).Gid; int64(g) != gid {
			t.Errorf("%q: group %d", p, g)
		}
	}
	if fi, _ := os.Lstat("/etc/passwd"); fi.Mode()&0o020 != 0 {
		t.Error("the symlink's target was changed")
	}

	// read-only volumes get group read only
	ro := t.TempDir()
	must(os.WriteFile(filepath.Join(ro, "f"), nil, 0o600))
	must(SetVolumeOwnership(ro, gid, true, false))
	if fi, _ := os.Stat(filepath.Join(ro, "f")); fi.Mode() != 0o640 {
		t.Errorf("read-only volume file: %v, want 0640", fi.Mode())
	}

	// OnRootMismatch: the root is right, so a file made since stays as it is
	must(os.WriteFile(filepath.Join(root, "later"), nil, 0o600))
	must(SetVolumeOwnership(root, gid, false, true))
	if fi, _ := os.Stat(filepath.Join(root, "later")); fi.Mode() != 0o600 {
		t.Errorf("OnRootMismatch walked a volume whose root matched: %v", fi.Mode())
	}
	must(os.Chmod(root, 0o700))
	must(SetVolumeOwnership(root, gid, false, true))
	if fi, _ := os.Stat(filepath.Join(root, "later")); fi.Mode() != 0o660 {
		t.Errorf("OnRootMismatch did not walk a volume whose root did not match: %v", fi.Mode())
	}
}
