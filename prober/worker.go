package prober

import (
	"time"

	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/hooks"
)

// worker is the kubelet's prober state for one container, pure: it is told
// when a run of the container starts and ends and what each probe answered,
// and says which probes are due, when readiness flips and when to kill.
//
// The rules (kubelet's prober): nothing runs before initialDelaySeconds
// (counted from the container's start); the startup probe runs first and
// gates the others until its first success; readiness starts failed and
// liveness succeeded; a verdict flips only after successThreshold or
// failureThreshold consecutive results; a container without a readiness
// probe is ready once started (and its startup probe, if any, succeeded).
type worker struct {
	c           *contract.Container
	probes      []*probeState // startup first when there is one
	started     time.Time     // the run being probed; zero: none
	startupDone bool
	ready       bool
	killed      bool // a probe asked for a kill this run: probe no more
}

type probeState struct {
	p      *hooks.Probe
	result *hooks.Result
	next   time.Time
	busy   bool // a probe is in flight
}

func newWorker(c *contract.Container) *worker {
	w := &worker{c: c}
	for _, p := range c.Probes {
		w.probes = append(w.probes, &probeState{p: p, result: hooks.NewResult(p)})
	}
	return w
}

func (w *worker) probe(kind string) *probeState {
	for _, ps := range w.probes {
		if ps.p.Kind == kind {
			return ps
		}
	}
	return nil
}

// begin starts probing a new run of the container, started at started; it
// returns the initial readiness.
func (w *worker) begin(started time.Time) bool {
	w.started, w.killed = started, false
	w.startupDone = w.probe(hooks.Startup) == nil
	for _, ps := range w.probes {
		ps.result.Reset()
		ps.next = started.Add(ps.p.InitialDelay)
		ps.busy = false
	}
	w.ready = w.startupDone && w.probe(hooks.Readiness) == nil
	return w.ready
}

// end stops probing: the run is over.
func (w *worker) end() { w.started = time.Time{}; w.ready = false }

func (w *worker) active() bool { return !w.started.IsZero() && !w.killed }

// due returns the probes to run at now, each marked busy and scheduled for
// its next period.
func (w *worker) due(now time.Time) []*probeState {
	if !w.active() {
		return nil
	}
	var out []*probeState
	for _, ps := range w.probes {
		if ps.busy || now.Before(ps.next) {
			continue
		}
		if ps.p.Kind != hooks.Startup && !w.startupDone {
			continue // liveness and readiness wait for the startup probe
		}
		if ps.p.Kind == hooks.Startup && w.startupDone {
			continue // done for this run
		}
		ps.busy = true
		ps.next = now.Add(ps.p.Period)
		out = append(out, ps)
	}
	return out
}

// nextDue is when the next probe is due (zero when none is scheduled).
func (w *worker) nextDue() time.Time {
	var t time.Time
	if !w.active() {
		return t
	}
	for _, ps := range w.probes {
		if ps.busy || (ps.p.Kind == hooks.Startup) == w.startupDone {
			continue
		}
		if t.IsZero() || ps.next.Before(t) {
			t = ps.next
		}
	}
	return t
}

// verdict is what one probe result means for the container.
type verdict struct {
	readyChanged bool
	ready        bool
	kill         string // the kind of probe that failed for good: kill the container
}

// observe records a result of ps for the run that started at started (a
// result of an earlier run is dropped).
func (w *worker) observe(ps *probeState, started time.Time, ok bool, now time.Time) verdict {
	ps.busy = false
	var v verdict
	if !w.active() || !started.Equal(w.started) {
		return v
	}
	changed := ps.result.Observe(ok)
	switch ps.p.Kind {
	case hooks.Startup:
		if ok && !w.startupDone {
			// The first success hands over to liveness and readiness, which
			// start at once (or when their initial delay ends).
			w.startupDone = true
			for _, o := range w.probes {
				if o.p.Kind != hooks.Startup && o.next.Before(now) {
					o.next = now
				}
			}
			if w.probe(hooks.Readiness) == nil {
				w.ready, v.readyChanged, v.ready = true, true, true
			}
			return v
		}
		if !ok && ps.result.Failures() >= ps.p.FailureThreshold {
			w.killed, v.kill = true, hooks.Startup
		}
	case hooks.Liveness:
		if changed && !ps.result.OK() {
			w.killed, v.kill = true, hooks.Liveness
		}
	case hooks.Readiness:
		if changed {
			w.ready, v.readyChanged, v.ready = ps.result.OK(), true, ps.result.OK()
		}
	}
	if v.kill != "" && w.ready {
		w.ready, v.readyChanged, v.ready = false, true, false
	}
	return v
}

// killGrace is the grace period of a kill by a probe: the probe's own
// terminationGracePeriodSeconds, else the pod's.
func killGrace(c *contract.Container, kind string, pod time.Duration) time.Duration {
	for _, p := range c.Probes {
		if p.Kind == kind && p.Grace != nil {
			return *p.Grace
		}
	}
	return pod
}
