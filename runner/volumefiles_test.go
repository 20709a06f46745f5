package runner

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/podunit/podunit/units"
)

// A volume is laid out as the kubelet's atomic writer does; new content is
// a new directory behind ..data, the old one and the names it alone had go;
// the same content changes nothing, the volume root's mode included.
func TestWriteVolume(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cfg")
	now := time.Date(2026, 12, 4, 1, 2, 3, 0, time.UTC)
	files := func(kv ...string) []units.File {
		var out []units.File
		for i := 0; i < len(kv); i += 2 {
			out = append(out, units.File{Volume: "cfg", Dir: dir, Path: kv[i], Data: []byte(kv[i+1]), Mode: 0o644})
		}
		return out
	}
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return "<" + err.Error() + ">"
		}
		return string(data)
	}
	entries := func() []string {
		ents, _ := os.ReadDir(dir)
		var out []string
		for _, e := range ents {
			n := e.Name()
			if strings.HasPrefix(n, "..2026_12_04_01_02_03.") {
				n = "..TS"
			}
			out = append(out, n)
		}
		return out
	}

	changed, err := WriteVolume(dir, files("a", "1", "sub/b", "2"), now)
	if err != nil || !changed {
		t.Fatalf("first write: %v %v", changed, err)
	}
	if got := entries(); !slices.Equal(got, []string{"..TS", "..data", "a", "sub"}) {
		t.Errorf("layout: %q", got)
	}
	if l, _ := os.Readlink(filepath.Join(dir, "a")); l != "..data/a" || read("a") != "1" || read("sub/b") != "2" {
		t.Errorf("a -> %q, a %q, sub/b %q", l, read("a"), read("sub/b"))
	}
	first, _ := os.Readlink(filepath.Join(dir, "..data"))
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o755 {
		t.Errorf("root mode %v", fi.Mode())
	}

	os.Chmod(dir, 0o750|os.ModeSetgid) // as fsGroup leaves it
	if changed, err := WriteVolume(dir, files("a", "1", "sub/b", "2"), now); err != nil || changed {
		t.Errorf("same content: changed %v, %v", changed, err)
	}
	if fi, _ := os.Stat(dir); fi.Mode()&os.ModeSetgid == 0 {
		t.Errorf("the same content reset the root's mode: %v", fi.Mode())
	}

	if changed, err := WriteVolume(dir, files("a", "3", "c", "4"), now); err != nil || !changed {
		t.Fatalf("new content: %v %v", changed, err)
	}
	second, _ := os.Readlink(filepath.Join(dir, "..data"))
	if second == first || read("a") != "3" || read("c") != "4" {
		t.Errorf("..data %q (was %q), a %q, c %q", second, first, read("a"), read("c"))
	}
	if got := entries(); !slices.Equal(got, []string{"..TS", "..data", "a", "c"}) {
		t.Errorf("after the update: %q (the old directory and sub must go)", got)
	}

	// a mode change alone is a change
	fs := files("a", "3", "c", "4")
	fs[1].Mode = 0o600
	if changed, _ := WriteVolume(dir, fs, now); !changed {
		t.Error("a new mode was not written")
	}
	if fi, _ := os.Stat(filepath.Join(dir, "c")); fi.Mode().Perm() != 0o600 {
		t.Errorf("c has mode %v", fi.Mode())
	}

	// a volume written by an earlier podunit (plain files) is replaced
	old := filepath.Join(t.TempDir(), "old")
	os.MkdirAll(filepath.Join(old, "d"), 0o755)
	os.WriteFile(filepath.Join(old, "a"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(old, "d", "e"), []byte("y"), 0o644)
	if changed, err := WriteVolume(old, []units.File{{Path: "a", Data: []byte("z"), Mode: 0o644}}, now); err != nil || !changed {
		t.Fatalf("old layout: %v %v", changed, err)
	}
	if _, err := os.Lstat(filepath.Join(old, "d")); err == nil {
		t.Error("a name of the old layout is left")
	}
	if data, _ := os.ReadFile(filepath.Join(old, "a")); string(data) != "z" {
		t.Errorf("a: %q", data)
	}

	// an empty volume (an optional ConfigMap that is missing) has ..data only
	empty := filepath.Join(t.TempDir(), "empty")
	if _, err := WriteVolume(empty, nil, now); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(empty); len(ents) != 2 {
		t.Errorf("empty volume: %v", ents)
	}
}
