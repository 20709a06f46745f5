package podstate

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The prober learns of a container's start or exit from the run record's
// replacement, at once and without polling; writing elsewhere does not wake it.
func TestWatchDirSeesReplacedRecords(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := filepath.Join(t.TempDir(), "run")
	ch, err := WatchDir(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	wait := func(what string, want bool) {
		t.Helper()
		select {
		case <-ch:
			if !want {
				t.Fatalf("%s: woke the watcher", what)
			}
		case <-time.After(300 * time.Millisecond):
			if want {
				t.Fatalf("%s: no signal", what)
			}
		}
	}
	wait("nothing", false)
	if err := WriteAtomic(filepath.Join(dir, "web.json"), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	wait("a record written by rename", true)
	if err := os.WriteFile(filepath.Join(filepath.Dir(dir), "other"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	wait("a file outside the directory", false)
	if err := os.Remove(filepath.Join(dir, "web.json")); err != nil {
		t.Fatal(err)
	}
	wait("a record removed", true)
	cancel()
	time.Sleep(50 * time.Millisecond)
	if err := WriteAtomic(filepath.Join(dir, "web.json"), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	wait("after the watch ended", false)
}
