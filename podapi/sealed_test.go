package podapi

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// crun runs from one sealed copy, sealed exactly as crun checks, holding the
// binary's bytes; a new copy when the binary changes; other runtimes run
// from disk.
func TestSealedRuntime(t *testing.T) {
	truePath, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true(1)")
	}
	data, err := os.ReadFile(truePath)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	crun := filepath.Join(dir, "crun")
	if err := os.WriteFile(crun, data, 0o755); err != nil {
		t.Fatal(err)
	}
	b := &sealedBinary{}
	if p := b.path(crun); p != crun {
		t.Errorf("a copy (%s) before it was asked for", p)
	}
	b.enabled = true
	p := b.path(crun)
	if !strings.HasPrefix(p, "/proc/self/fd/") {
		t.Fatalf("path %q, want a descriptor's", p)
	}
	if seals, err := unix.FcntlInt(b.copy.Fd(), unix.F_GET_SEALS, 0); err != nil || seals != runtimeSeals {
		t.Errorf("seals %#x (%v), want %#x", seals, err, runtimeSeals)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, data) {
		t.Error("the copy differs from the binary")
	}
	if err := unix.Ftruncate(int(b.copy.Fd()), 0); err == nil {
		t.Error("the copy can be truncated")
	}
	cmd := exec.Command(p)
	cmd.Args[0] = crun
	if err := cmd.Run(); err != nil {
		t.Errorf("running the copy: %v", err)
	}
	if again := b.path(crun); again != p {
		t.Errorf("a second copy: %s, then %s", p, again)
	}
	// An upgrade: the binary changes, the copy follows.
	old := b.copy
	later := time.Now().Add(time.Minute)
	if err := os.WriteFile(crun, append(data, 0), 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(crun, later, later)
	b.path(crun)
	if st, _ := b.copy.Stat(); b.copy == old || st.Size() != int64(len(data)+1) {
		t.Error("the copy did not follow the binary")
	}
	runc := filepath.Join(dir, "runc")
	os.WriteFile(runc, data, 0o755)
	if got := b.path(runc); got != runc {
		t.Errorf("runc runs from %s", got)
	}
	if got := b.path(filepath.Join(dir, "missing", "crun")); got != filepath.Join(dir, "missing", "crun") {
		t.Errorf("a missing crun runs from %s", got)
	}
}
