package helper

import (
	"testing"
	"time"

	"github.com/podunit/podunit/podstate"
)

// A container that exits right after each start waits 0, 10, 20, 40, 80,
// 160, 300, 300 s before its restarts, as under the kubelet.
func TestBackOffGrows(t *testing.T) {
	var r podstate.Run
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if w := NextStart(&r, now); w != 0 {
		t.Fatalf("first start waits %s", w)
	}
	want := []time.Duration{0, 10, 20, 40, 80, 160, 300, 300}
	for i, w := range want {
		r.Finished = now // it exited at once
		got := NextStart(&r, now)
		if got != w*time.Second {
			t.Errorf("restart %d: wait %s, want %ds", i+1, got, w)
		}
		now = now.Add(got + time.Second) // it ran for a second
	}
}

// The wait counts from the exit: time already spent since then is deducted.
func TestBackOffCountsFromExit(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := podstate.Run{Finished: start, BackOff: 40 * time.Second, BackOffUpdated: start.Add(-time.Minute)}
	if w := NextStart(&r, start.Add(15*time.Second)); w != 25*time.Second {
		t.Errorf("wait %s, want 25s", w)
	}
	if r.BackOff != 80*time.Second || !r.BackOffUpdated.Equal(start) {
		t.Errorf("back-off %s updated %s", r.BackOff, r.BackOffUpdated)
	}
	r = podstate.Run{Finished: start, BackOff: 40 * time.Second, BackOffUpdated: start.Add(-time.Minute)}
	if w := NextStart(&r, start.Add(time.Hour)); w != 0 {
		t.Errorf("long after the exit: wait %s", w)
	}
}

// A container that ran for more than 10 minutes since the back-off last
// grew restarts at once, and its back-off starts over.
func TestBackOffResets(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := podstate.Run{BackOff: MaxBackOff, BackOffUpdated: start, Finished: start.Add(11 * time.Minute)}
	if w := NextStart(&r, r.Finished); w != 0 {
		t.Errorf("after a long run: wait %s", w)
	}
	if r.BackOff != InitialBackOff {
		t.Errorf("back-off %s, want %s", r.BackOff, InitialBackOff)
	}
	r.Finished = r.Finished.Add(time.Second)
	if w := NextStart(&r, r.Finished); w != InitialBackOff {
		t.Errorf("the next quick exit waits %s, want %s", w, InitialBackOff)
	}
}
