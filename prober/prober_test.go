package prober

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/hooks"
	"github.com/podunit/podunit/podstate"
)

// fakeEngine records stops and answers exec probes with code.
type fakeEngine struct {
	mu    sync.Mutex
	stops []string
	execs int
	code  int
}

func (f *fakeEngine) Exec(ctx context.Context, name string, argv, env []string) (int, []byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.execs++
	return f.code, nil, nil
}

func (f *fakeEngine) StopContainer(ctx context.Context, name string, timeout time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stops = append(f.stops, name+" "+timeout.String())
	return nil
}

func (f *fakeEngine) stopped() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.stops...)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func fastProbe(kind string, h hooks.Handler, failure int) *hooks.Probe {
	return &hooks.Probe{Kind: kind, Handler: h, Period: 20 * time.Millisecond, Timeout: time.Second,
		SuccessThreshold: 1, FailureThreshold: failure}
}

// The whole prober against real sockets, a real state directory and a fake
// podman: nothing is probed before the run record says the container
// started; readiness follows an HTTP server's answers both ways; a liveness
// probe that fails failureThreshold times kills its container once (preStop
// first, then the stop signal with the probe's own grace), with the events
// the kubelet records; a new run is probed afresh.
func TestPodRun(t *testing.T) {
	var healthy atomic.Bool
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var preStops atomic.Int32
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/prestop" {
			preStops.Add(1)
			return
		}
		if !healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})}
	go srv.Serve(l)
	defer srv.Close()
	port := l.Addr().(*net.TCPAddr).Port
	l2, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l2.Addr().(*net.TCPAddr).Port
	l2.Close()

	dir := t.TempDir()
	grace := 3 * time.Second
	live := fastProbe(hooks.Liveness, hooks.Handler{TCPSocket: &hooks.TCPSocket{Port: closed}}, 2)
	live.Grace = &grace
	rt := &contract.Runtime{Pod: "p", Grace: 30 * time.Second, Containers: []contract.Container{
		{Name: "web", Podman: "p-web", Probes: []*hooks.Probe{fastProbe(hooks.Readiness,
			hooks.Handler{HTTPGet: &hooks.HTTPGet{Scheme: "HTTP", Port: port, Path: "/"}}, 1)}},
		{Name: "dead", Podman: "p-dead", Probes: []*hooks.Probe{live},
			PreStop: &hooks.Handler{HTTPGet: &hooks.HTTPGet{Scheme: "HTTP", Port: port, Path: "/prestop"}}},
		{Name: "plain", Podman: "p-plain"},
	}}
	eng := &fakeEngine{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- (&Pod{StateDir: dir, Runtime: rt, Engine: eng, Now: time.Now, Watch: podstate.WatchDir}).Run(ctx)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	time.Sleep(200 * time.Millisecond)
	healthy.Store(true)
	time.Sleep(100 * time.Millisecond)
	if podstate.Ready(dir, "p", "web") || len(eng.stopped()) != 0 {
		t.Fatalf("probed before the container started: ready %v, stops %v", podstate.Ready(dir, "p", "web"), eng.stopped())
	}
	started := time.Now()
	for _, c := range []string{"web", "dead"} {
		if err := podstate.SaveRun(dir, "p", c, podstate.Run{Started: started}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "web to be ready", func() bool { return podstate.Ready(dir, "p", "web") })
	healthy.Store(false)
	waitFor(t, "web to be unready", func() bool { return !podstate.Ready(dir, "p", "web") })
	healthy.Store(true)
	waitFor(t, "web to be ready again", func() bool { return podstate.Ready(dir, "p", "web") })

	waitFor(t, "dead to be killed", func() bool { return len(eng.stopped()) > 0 })
	time.Sleep(200 * time.Millisecond) // no second kill in the same run
	if s := eng.stopped(); len(s) != 1 || !strings.HasPrefix(s[0], "p-dead ") || preStops.Load() != 1 {
		t.Errorf("stops %v, preStop ran %d times; want one stop of p-dead after one preStop", s, preStops.Load())
	}
	evs, _ := podstate.Events(dir, "p")
	var reasons []string
	for _, e := range evs {
		if e.Container == "dead" {
			reasons = append(reasons, e.Reason)
		}
	}
	if got := strings.Join(reasons, " "); !strings.HasPrefix(got, "Unhealthy Unhealthy Killing Killing") {
		t.Errorf("events of dead: %s", got)
	}
	if said := killings(dir); len(said) == 0 || said[0] != "Container dead failed liveness probe, will be restarted" {
		t.Errorf("Killing events %q", said)
	}
	// The prober says which probe killed which run, for its clean-up.
	if got := podstate.KilledBy(dir, "p", "dead", started); got != hooks.Liveness {
		t.Errorf("killed by %q, want liveness", got)
	}
	if got := podstate.KilledBy(dir, "p", "dead", started.Add(time.Second)); got != "" {
		t.Errorf("another run killed by %q", got)
	}
	// The probe's own grace (3 s), less what preStop took, at least 2 s.
	if s := eng.stopped()[0]; s == "p-dead 30s" {
		t.Errorf("stopped with the pod's grace: %s", s)
	}
	// The container comes back: probed afresh, killed again.
	if err := podstate.SaveRun(dir, "p", "dead", podstate.Run{Started: time.Now()}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "dead's new run to be killed", func() bool { return len(eng.stopped()) == 2 })
}

// Without a watch the run records are polled.
func TestPodRunPolls(t *testing.T) {
	dir := t.TempDir()
	eng := &fakeEngine{}
	rt := &contract.Runtime{Pod: "p", Grace: time.Second, Containers: []contract.Container{
		{Name: "x", Podman: "p-x", Probes: []*hooks.Probe{fastProbe(hooks.Readiness, hooks.Handler{Exec: []string{"true"}}, 1)}}}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go (&Pod{StateDir: dir, Runtime: rt, Engine: eng, Now: time.Now}).Run(ctx)
	time.Sleep(50 * time.Millisecond)
	if err := podstate.SaveRun(dir, "p", "x", podstate.Run{Started: time.Now()}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "x to be ready", func() bool { return podstate.Ready(dir, "p", "x") })
	eng.mu.Lock()
	eng.code = 1
	eng.mu.Unlock()
	waitFor(t, "x to be unready", func() bool { return !podstate.Ready(dir, "p", "x") })
	// The container's run ends: no more probes.
	if err := podstate.SaveRun(dir, "p", "x", podstate.Run{Finished: time.Now()}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(runPollInterval + 100*time.Millisecond)
	eng.mu.Lock()
	n := eng.execs
	eng.mu.Unlock()
	time.Sleep(200 * time.Millisecond)
	eng.mu.Lock()
	defer eng.mu.Unlock()
	if eng.execs != n {
		t.Errorf("probed after the run ended: %d execs, then %d", n, eng.execs)
	}
}

// blockingEngine's exec probes of one container wait until released.
type blockingEngine struct {
	fakeEngine
	block   string
	release chan struct{}
}

func (b *blockingEngine) Exec(ctx context.Context, name string, argv, env []string) (int, []byte, error) {
	if name == b.block {
		select {
		case <-b.release:
		case <-ctx.Done():
		}
	}
	return b.fakeEngine.Exec(ctx, name, argv, env)
}

// A container that starts again, twice, while its probe of an earlier run
// is still in flight holds up no other container's probes.
func TestPodRunRestartsWhileProbing(t *testing.T) {
	dir := t.TempDir()
	eng := &blockingEngine{block: "p-a", release: make(chan struct{})}
	defer close(eng.release)
	slow := fastProbe(hooks.Liveness, hooks.Handler{Exec: []string{"true"}}, 3)
	slow.Timeout = time.Minute
	rt := &contract.Runtime{Pod: "p", Grace: time.Second, Containers: []contract.Container{
		{Name: "a", Podman: "p-a", Probes: []*hooks.Probe{slow}},
		{Name: "b", Podman: "p-b", Probes: []*hooks.Probe{fastProbe(hooks.Readiness, hooks.Handler{Exec: []string{"true"}}, 1)}}}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go (&Pod{StateDir: dir, Runtime: rt, Engine: eng, Now: time.Now}).Run(ctx)
	time.Sleep(50 * time.Millisecond)
	for _, c := range []string{"a", "b"} {
		if err := podstate.SaveRun(dir, "p", c, podstate.Run{Started: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "b to be ready", func() bool { return podstate.Ready(dir, "p", "b") })
	for i := 0; i < 2; i++ { // a's probe of its first run still waits
		time.Sleep(runPollInterval + 200*time.Millisecond)
		if err := podstate.SaveRun(dir, "p", "a", podstate.Run{Started: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(runPollInterval + 200*time.Millisecond)
	count := func() int {
		eng.mu.Lock()
		defer eng.mu.Unlock()
		return eng.execs
	}
	n := count()
	time.Sleep(300 * time.Millisecond)
	if m := count(); m <= n {
		t.Errorf("b's probes stopped while a's probe of an earlier run waited: %d execs, then %d", n, m)
	}
}

// Under restartPolicy Never a failed liveness probe kills the container for
// good: the kubelet's event says so (no "will be restarted").
func TestKillUnderNever(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	rt := &contract.Runtime{Pod: "p", Grace: time.Second, Containers: []contract.Container{
		{Name: "once", Podman: "p-once", Restart: "no",
			Probes: []*hooks.Probe{fastProbe(hooks.Liveness, hooks.Handler{TCPSocket: &hooks.TCPSocket{Port: closed}}, 1)}}}}
	eng := &fakeEngine{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go (&Pod{StateDir: dir, Runtime: rt, Engine: eng, Now: time.Now, Watch: podstate.WatchDir}).Run(ctx)
	if err := podstate.SaveRun(dir, "p", "once", podstate.Run{Started: time.Now()}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the kill", func() bool { return len(eng.stopped()) == 1 })
	if said := killings(dir); len(said) == 0 || said[0] != "Container once failed liveness probe" {
		t.Errorf("Killing events %q", said)
	}
}

// killings are the messages of pod p's Killing events, in order.
func killings(dir string) []string {
	evs, _ := podstate.Events(dir, "p")
	var out []string
	for _, e := range evs {
		if e.Reason == "Killing" {
			out = append(out, e.Message)
		}
	}
	return out
}
