package helper

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/hooks"
	"github.com/podunit/podunit/podstate"
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

// probeOverhead is what an exec probe adds to its own timeout: podman's exec
// API creates a session and starts the runtime.
const probeOverhead = time.Second

// runPollInterval is how often the prober looks at the containers' run
// records (a stat each) to learn of starts and exits.
const runPollInterval = 500 * time.Millisecond

// probe is the pod's prober: one process for all its containers, inside the
// pod's network namespace (entered once, at start), running httpGet,
// tcpSocket and gRPC probes in-process and exec probes through podman's API.
// A failed liveness or startup probe kills its container (preStop with
// reason Health, then the stop signal) and systemd restarts it per
// restartPolicy, after the back-off. If the pod's infra goes away, so does
// the prober (systemd starts it again with the pod).
func (t *task) probe(ctx context.Context) error {
	if !t.cmd.InNetns {
		return t.enterNetns(ctx, t.cmd)
	}
	// One thread runs Go code: the prober mostly waits, and on this kind of
	// load every extra thread woken is a context switch that costs more than
	// the probe itself.
	runtime.GOMAXPROCS(1)
	// It lives as long as the pod and allocates little per probe: a tighter
	// heap target, and what podunit's start-up left behind goes back to the
	// system once the prober is set up.
	debug.SetGCPercent(25)
	// One connection to podman for the whole prober: exec probes and kills.
	if _, err := t.engine(ctx); err != nil {
		return err
	}
	type slot struct {
		w    *worker
		task *task
		r    *hooks.Runner
		seen time.Time // mtime of the run record last read
		size int64
	}
	var slots []*slot
	for _, c := range t.rt.Probed() {
		ct := &task{Env: t.Env, cmd: t.cmd, rt: t.rt, c: c, eng: t.eng}
		r := ct.runner()
		r.UserAgent = hooks.ProbeUserAgent
		slots = append(slots, &slot{w: newWorker(c), task: ct, r: r})
	}
	if len(slots) == 0 {
		<-ctx.Done()
		return nil
	}
	type result struct {
		s       *slot
		ps      *probeState
		started time.Time
		err     error
	}
	results := make(chan result, 16)
	setReady := func(s *slot, v bool) { _ = podstate.SetReady(t.StateDir, t.rt.Pod, s.w.c.Name, v) }
	for _, s := range slots {
		setReady(s, false)
	}
	// The run records change when a container starts or exits: watched, they
	// are read only then; where inotify is not to be had, twice a second.
	changed, err := watchDir(ctx, podstate.RunDir(t.StateDir, t.rt.Pod))
	var pollTick <-chan time.Time // nil while watched
	if err != nil {
		tick := time.NewTicker(runPollInterval)
		defer tick.Stop()
		pollTick = tick.C
	}
	debug.FreeOSMemory()
	poll := true
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		now := t.Now()
		if poll {
			poll = false
			for _, s := range slots {
				st, err := os.Stat(podstate.RunFile(t.StateDir, t.rt.Pod, s.w.c.Name))
				if err != nil || (st.ModTime().Equal(s.seen) && st.Size() == s.size) {
					continue
				}
				s.seen, s.size = st.ModTime(), st.Size()
				run, err := podstate.LoadRun(t.StateDir, t.rt.Pod, s.w.c.Name)
				if err != nil {
					continue
				}
				switch {
				case !run.Started.IsZero() && !run.Started.Equal(s.w.started):
					setReady(s, s.w.begin(run.Started))
				case run.Started.IsZero() && !s.w.started.IsZero():
					s.w.end()
					setReady(s, false)
				}
			}
		}
		var next time.Time
		for _, s := range slots {
			for _, ps := range s.w.due(now) {
				go func(s *slot, ps *probeState, started time.Time) {
					timeout := ps.p.Timeout
					if len(ps.p.Handler.Exec) > 0 {
						timeout += probeOverhead
					}
					pctx, cancel := context.WithTimeout(ctx, timeout)
					err := s.r.Run(pctx, &ps.p.Handler)
					cancel()
					results <- result{s, ps, started, err}
				}(s, ps, s.w.started)
			}
			if d := s.w.nextDue(); !d.IsZero() && (next.IsZero() || d.Before(next)) {
				next = d
			}
		}
		if next.IsZero() {
			timer.Stop()
		} else {
			timer.Reset(max(next.Sub(t.Now()), time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
			poll = true
		case <-pollTick:
			poll = true
		case <-timer.C:
		case res := <-results:
			s := res.s
			if res.err != nil && ctx.Err() == nil && res.started.Equal(s.w.started) {
				s.task.event("Warning", "Unhealthy", "%s probe failed: %v", capitalize(res.ps.p.Kind), res.err)
			}
			v := s.w.observe(res.ps, res.started, res.err == nil, t.Now())
			if v.readyChanged {
				setReady(s, v.ready)
			}
			if v.kill != "" {
				s.task.event("Normal", "Killing", "Container %s failed %s probe, will be restarted", s.w.c.Name, v.kill)
				grace := killGrace(s.w.c, v.kill, t.rt.Grace)
				go func(s *slot) {
					if err := s.task.stopSequence(ctx, grace, hooks.ReasonHealth); err != nil {
						s.task.event("Warning", "FailedKilling", "Killing container %s: %v", s.w.c.Name, err)
					}
				}(s)
			}
		}
	}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
