package prober

import (
	"testing"
	"time"

	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/hooks"
)

func probeOf(kind string, delay, period time.Duration, success, failure int) *hooks.Probe {
	return &hooks.Probe{Kind: kind, Handler: hooks.Handler{TCPSocket: &hooks.TCPSocket{Port: 80}},
		InitialDelay: delay, Period: period, Timeout: time.Second, SuccessThreshold: success, FailureThreshold: failure}
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func kinds(ps []*probeState) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.p.Kind)
	}
	return out
}

// Nothing runs before the initial delay; then each probe runs on its period.
func TestProberInitialDelayAndPeriod(t *testing.T) {
	w := newWorker(&contract.Container{Probes: []*hooks.Probe{probeOf(hooks.Liveness, 5*time.Second, 2*time.Second, 1, 3)}})
	if ready := w.begin(t0); !ready {
		t.Error("a container without a readiness probe is ready once started")
	}
	if d := w.due(t0.Add(4 * time.Second)); len(d) != 0 {
		t.Fatalf("due before the initial delay: %v", kinds(d))
	}
	if w.nextDue() != t0.Add(5*time.Second) {
		t.Errorf("next due %s", w.nextDue())
	}
	d := w.due(t0.Add(5 * time.Second))
	if len(d) != 1 {
		t.Fatalf("due at the delay: %v", kinds(d))
	}
	if again := w.due(t0.Add(6 * time.Second)); len(again) != 0 {
		t.Error("a probe in flight was started again")
	}
	w.observe(d[0], t0, true, t0.Add(5*time.Second))
	if again := w.due(t0.Add(6 * time.Second)); len(again) != 0 {
		t.Error("due before its period")
	}
	if again := w.due(t0.Add(7 * time.Second)); len(again) != 1 {
		t.Error("not due after its period")
	}
}

// Liveness flips (and kills) only after failureThreshold failures in a row.
func TestProberLivenessThreshold(t *testing.T) {
	w := newWorker(&contract.Container{Probes: []*hooks.Probe{probeOf(hooks.Liveness, 0, time.Second, 1, 3)}})
	w.begin(t0)
	now := t0
	results := []bool{false, false, true, false, false}
	for i, ok := range results {
		d := w.due(now)
		if v := w.observe(d[0], t0, ok, now); v.kill != "" {
			t.Fatalf("killed after result %d", i)
		}
		now = now.Add(time.Second)
	}
	d := w.due(now)
	if v := w.observe(d[0], t0, false, now); v.kill != hooks.Liveness {
		t.Fatalf("third failure in a row: %+v", v)
	}
	if d := w.due(now.Add(time.Hour)); len(d) != 0 {
		t.Error("probing goes on after the kill")
	}
}

// Readiness starts failed and flips with its thresholds, both ways.
func TestProberReadinessFlips(t *testing.T) {
	w := newWorker(&contract.Container{Probes: []*hooks.Probe{probeOf(hooks.Readiness, 0, time.Second, 2, 2)}})
	if w.begin(t0) {
		t.Fatal("ready before the readiness probe passed")
	}
	now := t0
	step := func(ok bool) verdict {
		d := w.due(now)
		if len(d) != 1 {
			t.Fatalf("nothing due at %s", now)
		}
		v := w.observe(d[0], t0, ok, now)
		now = now.Add(time.Second)
		return v
	}
	if v := step(true); v.readyChanged {
		t.Error("ready after one success of two")
	}
	if v := step(true); !v.readyChanged || !v.ready {
		t.Errorf("two successes: %+v", v)
	}
	if v := step(false); v.readyChanged {
		t.Error("unready after one failure of two")
	}
	if v := step(false); !v.readyChanged || v.ready || v.kill != "" {
		t.Errorf("two failures: %+v", v)
	}
}

// The startup probe gates liveness and readiness; its success hands over at
// once; its failureThreshold kills.
func TestProberStartupGates(t *testing.T) {
	c := &contract.Container{Probes: []*hooks.Probe{
		probeOf(hooks.Startup, 0, time.Second, 1, 3),
		probeOf(hooks.Liveness, 0, 10*time.Second, 1, 1),
		probeOf(hooks.Readiness, 0, 10*time.Second, 1, 1),
	}}
	w := newWorker(c)
	if w.begin(t0) {
		t.Fatal("ready before startup")
	}
	now := t0
	for i := 0; i < 2; i++ {
		d := w.due(now)
		if got := kinds(d); len(got) != 1 || got[0] != hooks.Startup {
			t.Fatalf("before startup succeeded, due: %v", got)
		}
		w.observe(d[0], t0, false, now)
		now = now.Add(time.Second)
	}
	d := w.due(now)
	w.observe(d[0], t0, true, now)
	after := w.due(now)
	got := kinds(after)
	if len(got) != 2 || got[0] != hooks.Liveness || got[1] != hooks.Readiness {
		t.Errorf("after startup succeeded, due: %v", got)
	}
	for _, ps := range after {
		w.observe(ps, t0, true, now)
	}
	if d := w.due(now.Add(time.Minute)); len(d) != 2 {
		t.Errorf("later, due: %v", kinds(d))
	}
	for _, ps := range w.probes {
		if ps.p.Kind == hooks.Startup && ps.busy {
			t.Error("startup runs again after its success")
		}
	}

	// Three startup failures kill.
	w2 := newWorker(c)
	w2.begin(t0)
	now = t0
	var v verdict
	for i := 0; i < 3; i++ {
		d := w2.due(now)
		v = w2.observe(d[0], t0, false, now)
		now = now.Add(time.Second)
	}
	if v.kill != hooks.Startup {
		t.Errorf("startup failures: %+v", v)
	}
}

// A result from an earlier run of the container is dropped, and a new run
// starts from the initial state.
func TestProberNewRun(t *testing.T) {
	w := newWorker(&contract.Container{Probes: []*hooks.Probe{probeOf(hooks.Liveness, 0, time.Second, 1, 1)}})
	w.begin(t0)
	d := w.due(t0)
	t1 := t0.Add(time.Minute)
	w.begin(t1)
	if v := w.observe(d[0], t0, false, t1); v.kill != "" {
		t.Error("a stale failure killed the new run")
	}
	d = w.due(t1)
	if v := w.observe(d[0], t1, false, t1); v.kill != hooks.Liveness {
		t.Errorf("a failure of the current run: %+v", v)
	}
	w.end()
	if d := w.due(t1.Add(time.Hour)); len(d) != 0 {
		t.Error("probes due after the run ended")
	}
}

func TestKillGrace(t *testing.T) {
	g := 3 * time.Second
	p := probeOf(hooks.Liveness, 0, time.Second, 1, 1)
	p.Grace = &g
	c := &contract.Container{Probes: []*hooks.Probe{p, probeOf(hooks.Startup, 0, time.Second, 1, 1)}}
	if got := killGrace(c, hooks.Liveness, 30*time.Second); got != g {
		t.Errorf("liveness: %s", got)
	}
	if got := killGrace(c, hooks.Startup, 30*time.Second); got != 30*time.Second {
		t.Errorf("startup: %s", got)
	}
}
