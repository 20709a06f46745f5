package podstate

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestLockPodExcludesAndWaits(t *testing.T) {
	dir := t.TempDir()
	unlock, err := LockPod(context.Background(), dir, "p", nil)
	if err != nil {
		t.Fatal(err)
	}
	// Another pod's lock is independent.
	other, err := LockPod(context.Background(), dir, "q", nil)
	if err != nil {
		t.Fatal(err)
	}
	other()
	// The same pod's lock waits, and says so, until ctx ends.
	waited := false
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := LockPod(ctx, dir, "p", func() { waited = true }); !errors.Is(err, context.DeadlineExceeded) || !waited {
		t.Fatalf("second lock: %v (waited %v), want a wait ended by the deadline", err, waited)
	}
	// Released, it is taken by the waiter.
	got := make(chan error, 1)
	go func() {
		u, err := LockPod(context.Background(), dir, "p", nil)
		if err == nil {
			u()
		}
		got <- err
	}()
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-got:
		t.Fatalf("lock taken while held: %v", err)
	default:
	}
	unlock()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}

func TestPodBusy(t *testing.T) {
	dir := t.TempDir()
	if PodBusy(dir, "p") {
		t.Error("busy with no lock file")
	}
	unlock, err := LockPod(context.Background(), dir, "p", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !PodBusy(dir, "p") || PodBusy(dir, "q") {
		t.Error("a held lock is not seen, or seen on another pod")
	}
	unlock()
	if PodBusy(dir, "p") {
		t.Error("busy after unlock")
	}
}
