// Package prober is a pod's prober (the kubelet's probe workers, for every
// container of the pod in one process) and the kubelet's kill sequence for
// one container (preStop, then the stop signal, SIGKILL at the end of the
// grace period), which podunit's helpers share with it. It runs inside the
// pod's network namespace: httpGet, tcpSocket and gRPC probes are made
// in-process; exec probes and the stop go through Engine.
//
// It depends on neither Kubernetes' packages nor podman's bindings: the
// prober runs as a small binary of its own (cmd/podunit-probe), one per pod
// for as long as the pod runs.
package prober

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/hooks"
	"github.com/podunit/podunit/podapi"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/prober/quietnet"
)

// Engine is what probes and the kill sequence need of podman.
type Engine interface {
	hooks.Executor
	// StopContainer sends the container's stop signal and SIGKILL after
	// timeout; a container that is not there or not running is not an error.
	StopContainer(ctx context.Context, name string, timeout time.Duration) error
}

// Target is one container, as its handlers and its kill sequence see it.
type Target struct {
	StateDir string
	Pod      string
	C        *contract.Container
	// Engine is podman, connected to when first needed.
	Engine func(ctx context.Context) (Engine, error)
	Now    func() time.Time
}

// Event records an event of the container.
func (t *Target) Event(typ, reason, format string, a ...any) {
	_ = podstate.AppendEvent(t.StateDir, t.Pod, podstate.Event{Time: t.Now(), Type: typ, Reason: reason,
		Container: t.C.Name, Message: fmt.Sprintf(format, a...)})
}

// lazyExec connects to podman only when an exec handler runs.
type lazyExec struct{ t *Target }

func (l lazyExec) Exec(ctx context.Context, container string, argv, env []string) (int, []byte, error) {
	eng, err := l.t.Engine(ctx)
	if err != nil {
		return 0, nil, err
	}
	return eng.Exec(ctx, container, argv, env)
}

// Runner carries out the container's handlers.
func (t *Target) Runner() *hooks.Runner {
	return &hooks.Runner{Exec: lazyExec{t}, Container: t.C.Podman}
}

// StopSequence is the kubelet's kill sequence: preStop (bounded by the grace
// period, told the reason), then the stop signal with what is left of the
// grace period (at least hooks.MinStopSignalPhase), then SIGKILL.
func (t *Target) StopSequence(ctx context.Context, grace time.Duration, reason string) error {
	start := t.Now()
	t.Event("Normal", "Killing", "Stopping container %s (reason %s, grace period %s)", t.C.Name, reason, grace)
	t.RunPreStop(ctx, grace, reason)
	left := hooks.SignalPhase(grace, t.Now().Sub(start))
	eng, err := t.Engine(ctx)
	if err != nil {
		return err
	}
	if err := eng.StopContainer(ctx, t.C.Podman, left); err != nil {
		return fmt.Errorf("stopping %s: %w", t.C.Podman, err)
	}
	return nil
}

// RunPreStop runs the preStop handler, if any, for at most the grace period,
// telling it why the container stops. A failure is an event, not an error:
// termination goes on.
func (t *Target) RunPreStop(ctx context.Context, grace time.Duration, reason string) {
	if t.C.PreStop == nil || grace <= 0 {
		return
	}
	r := t.Runner()
	r.Env = map[string]string{hooks.StopReasonEnv: reason}
	r.Headers = []hooks.Header{{Name: hooks.StopReasonHeader, Value: reason}}
	pctx, cancel := context.WithTimeout(ctx, grace)
	defer cancel()
	if err := r.Run(pctx, t.C.PreStop); err != nil {
		t.Event("Warning", "FailedPreStopHook", "PreStopHook failed: %v", err)
	}
}

// probeOverhead is what an exec probe adds to its own timeout: the runtime
// (or podman's exec API) starting the command.
const probeOverhead = time.Second

// runPollInterval is how often the prober looks at the containers' run
// records (a stat each) to learn of starts and exits where it cannot watch
// them.
const runPollInterval = 500 * time.Millisecond

// Pod is one pod's prober.
type Pod struct {
	StateDir string
	Runtime  *contract.Runtime
	Engine   Engine
	Now      func() time.Time
	// Watch reports changes of a directory's files (podstate.WatchDir);
	// nil, or an error, and the run records are polled.
	Watch func(ctx context.Context, dir string) (<-chan struct{}, error)
}

// Run probes the pod's containers until ctx ends. A failed liveness or
// startup probe kills its container (preStop with reason Health, then the
// stop signal) and systemd restarts it per restartPolicy, after the
// back-off. A container's runs are learnt from its run records (written by
// its unit's helpers as it starts and ends): each run is probed afresh.
func (p *Pod) Run(ctx context.Context) error {
	type slot struct {
		w    *worker
		t    *Target
		r    *hooks.Runner
		seen time.Time // mtime of the run record last read
		size int64
	}
	rt := p.Runtime
	eng := func(context.Context) (Engine, error) { return p.Engine, nil }
	var slots []*slot
	for _, c := range rt.Probed() {
		t := &Target{StateDir: p.StateDir, Pod: rt.Pod, C: c, Engine: eng, Now: p.Now}
		r := t.Runner()
		r.UserAgent = hooks.ProbeUserAgent
		slots = append(slots, &slot{w: newWorker(c), t: t, r: r})
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
	// Each probe runs on a goroutine of its own for as long as the pod is
	// probed, told when to probe: its stack, grown by the first probe, serves
	// every later one (a goroutine a probe spent more on growing its stack,
	// and on the scheduler, than on its own work).
	runs := map[*probeState]chan time.Time{}
	probeLoop := func(s *slot, ps *probeState, jobs <-chan time.Time) {
		timeout := ps.p.Timeout
		if len(ps.p.Handler.Exec) > 0 {
			timeout += probeOverhead
		}
		// httpGet and tcpSocket probes connect through a poller of their
		// own, which arms no Go timer: a probe wakes no thread but the one
		// that runs it (see quietnet).
		r := s.r
		quiet := ps.p.Handler.HTTPGet != nil || ps.p.Handler.TCPSocket != nil
		if quiet {
			poller, err := quietnet.NewPoller()
			if err != nil {
				quiet = false
			} else {
				defer poller.Close()
				r = new(hooks.Runner)
				*r = *s.r
				r.Dial = poller.DialContext
			}
		}
		for {
			var started time.Time
			select {
			case <-ctx.Done():
				return
			case started = <-jobs:
			}
			var err error
			if quiet {
				// The sockets' clock, not p.Now (a test's may be fake).
				err = r.Run(quietnet.WithDeadline(ctx, time.Now().Add(timeout)), &ps.p.Handler)
			} else {
				pctx, cancel := context.WithTimeout(ctx, timeout)
				err = r.Run(pctx, &ps.p.Handler)
				cancel()
			}
			select {
			case results <- result{s, ps, started, err}:
			case <-ctx.Done():
				return
			}
		}
	}
	setReady := func(s *slot, v bool) { _ = podstate.SetReady(p.StateDir, rt.Pod, s.w.c.Name, v) }
	for _, s := range slots {
		setReady(s, false)
	}
	// The run records change when a container starts or exits: watched, they
	// are read only then; where inotify is not to be had, twice a second.
	var changed <-chan struct{}
	if p.Watch != nil {
		if c, err := p.Watch(ctx, podstate.RunDir(p.StateDir, rt.Pod)); err == nil {
			changed = c
		}
	}
	var pollTick <-chan time.Time // nil while watched
	if changed == nil {
		tick := time.NewTicker(runPollInterval)
		defer tick.Stop()
		pollTick = tick.C
	}
	poll := true
	// The probes' schedule, on a timer that wakes no other thread.
	timer, err := quietnet.NewTimer()
	if err != nil {
		return err
	}
	defer timer.Close()
	for {
		now := p.Now()
		if poll {
			poll = false
			for _, s := range slots {
				st, err := os.Stat(podstate.RunFile(p.StateDir, rt.Pod, s.w.c.Name))
				if err != nil || (st.ModTime().Equal(s.seen) && st.Size() == s.size) {
					continue
				}
				s.seen, s.size = st.ModTime(), st.Size()
				run, err := podstate.LoadRun(p.StateDir, rt.Pod, s.w.c.Name)
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
				ch, ok := runs[ps]
				if !ok {
					ch = make(chan time.Time, 1)
					runs[ps] = ch
					go probeLoop(s, ps, ch)
				}
				// A run still waiting (its probe of an earlier run in
				// flight) is replaced by this one, whose result would
				// otherwise be dropped: the loop is the only sender, so the
				// send never blocks.
				select {
				case <-ch:
				default:
				}
				ch <- s.w.started
			}
			if d := s.w.nextDue(); !d.IsZero() && (next.IsZero() || d.Before(next)) {
				next = d
			}
		}
		if next.IsZero() {
			timer.Stop()
		} else {
			timer.Reset(max(next.Sub(p.Now()), time.Millisecond))
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
				s.t.Event("Warning", "Unhealthy", "%s probe failed: %v", capitalize(res.ps.p.Kind), res.err)
			}
			v := s.w.observe(res.ps, res.started, res.err == nil, p.Now())
			if v.readyChanged {
				setReady(s, v.ready)
			}
			if v.kill != "" {
				// Why the run ends, for its clean-up, which starts it again
				// where the kubelet would and systemd would not.
				_ = podstate.WriteKill(p.StateDir, rt.Pod, s.w.c.Name, s.w.started, v.kill)
				msg := fmt.Sprintf("Container %s failed %s probe", s.w.c.Name, v.kill)
				if s.w.c.RestartsAfterKill() {
					msg += ", will be restarted"
				}
				s.t.Event("Normal", "Killing", "%s", msg)
				grace := killGrace(s.w.c, v.kill, rt.Grace)
				go func(s *slot) {
					if err := s.t.StopSequence(ctx, grace, hooks.ReasonHealth); err != nil {
						s.t.Event("Warning", "FailedKilling", "Killing container %s: %v", s.w.c.Name, err)
					}
				}(s)
			}
		}
	}
}

// Serve runs a pod's prober in this process, which does nothing else, until
// ctx ends; crun runs from a copy the process keeps (podapi.KeepRuntimeCopy).
func Serve(ctx context.Context, stateDir string, rt *contract.Runtime, eng Engine) error {
	tune()
	podapi.KeepRuntimeCopy()
	p := &Pod{StateDir: stateDir, Runtime: rt, Engine: eng, Now: time.Now, Watch: podstate.WatchDir}
	if err := p.Run(ctx); err != nil {
		return fmt.Errorf("probing pod %s: %w", rt.Pod, err)
	}
	return nil
}

// tune sets up the process that runs a prober and nothing else: one thread
// runs Go code (the prober mostly waits, and on this kind of load every
// extra thread woken is a context switch that costs more than the probe
// itself); it lives as long as the pod and allocates little per probe: a
// tighter heap target, and what its start-up left behind goes back to the
// system.
func tune() {
	runtime.GOMAXPROCS(1)
	debug.SetGCPercent(25)
	debug.FreeOSMemory()
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
