package helper

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/hooks"
	"github.com/podunit/podunit/netshape"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/units/unitdef"
)

type fakeSystemd struct {
	mu       sync.Mutex
	limits   map[string][]unitdef.Property
	stopping bool
	stopped  []string // StopUnits' units, in turn
	restarts map[string]int
	busy     bool // StopUnlessBusy finds jobs it would cancel
	busyFor  int  // ... for this many calls more
	started  []unitdef.Unit
	// startedUnits are QueueStart's units, in turn
	startedUnits []string
}

func (f *fakeSystemd) StartTransient(ctx context.Context, u unitdef.Unit) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = append(f.started, u)
	return nil
}

func (f *fakeSystemd) QueueStart(ctx context.Context, unit string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.startedUnits = append(f.startedUnits, unit)
	return nil
}

func (f *fakeSystemd) StopUnlessBusy(ctx context.Context, unit string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.busy {
		return false, nil
	}
	if f.busyFor > 0 {
		f.busyFor--
		return false, nil
	}
	f.stopped = append(f.stopped, unit)
	return true, nil
}

func (f *fakeSystemd) Restarts(ctx context.Context, unit string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.restarts[unit], nil
}

func (f *fakeSystemd) StopUnits(ctx context.Context, names []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = append(f.stopped, names...)
	return nil
}

func (f *fakeSystemd) SetLimits(ctx context.Context, unit string, l []unitdef.Property) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.limits[unit] = l
	return nil
}
func (f *fakeSystemd) Stopping(ctx context.Context, unit string) (bool, error) {
	return f.stopping, nil
}
func (f *fakeSystemd) Close() {}

type execCall struct {
	container  string
	argv, env  []string
	durationOf time.Duration
}

type stopCall struct {
	container string
	timeout   time.Duration
}

type fakeEngine struct {
	mu      sync.Mutex
	clock   *fakeClock
	execs   []execCall
	stops   []stopCall
	removed []string
	// execTakes is how long each exec runs (on the fake clock); execCode its
	// exit status.
	execTakes time.Duration
	execCode  int
	// stopErr is what StopContainer returns
	stopErr error
	// containers that exist, by name: their labels
	containers map[string]map[string]string
	// volumes that exist, by name: their mountpoints
	volumes map[string]string
	// hostsFile is podman's hosts file of the infra
	hostsFile string
}

func (f *fakeEngine) Exec(ctx context.Context, c string, argv, env []string) (int, []byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.execs = append(f.execs, execCall{c, argv, env, f.execTakes})
	f.clock.advance(f.execTakes)
	return f.execCode, nil, nil
}
func (f *fakeEngine) ContainerPID(ctx context.Context, name string) (int, error) { return 4242, nil }
func (f *fakeEngine) InfraNet(ctx context.Context, name string) (int, string, error) {
	return 4242, f.hostsFile, nil
}
func (f *fakeEngine) StopContainer(ctx context.Context, name string, timeout time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stops = append(f.stops, stopCall{name, timeout})
	return f.stopErr
}
func (f *fakeEngine) RemoveContainer(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	// as podman: no infra goes while a container joined to it exists
	if l := f.containers[name]; l[unitdef.LabelRole] == "infra" {
		for n, o := range f.containers {
			if n != name && o[unitdef.LabelPod] == l[unitdef.LabelPod] {
				return fmt.Errorf("container %s has dependent containers which must be removed before it: %s", name, n)
			}
		}
	}
	f.removed = append(f.removed, name)
	delete(f.containers, name)
	return nil
}
func (f *fakeEngine) VolumeMountpoint(ctx context.Context, name string) (string, error) {
	if f.volumes[name] == "" {
		return "", fmt.Errorf("no such volume: %s", name)
	}
	return f.volumes[name], nil
}
func (f *fakeEngine) Containers(ctx context.Context, key, value string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for n, l := range f.containers {
		if l[key] == value {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}
func (f *fakeEngine) ContainerLabels(ctx context.Context, name string) (map[string]string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.containers[name]
	return l, ok, nil
}

var _ Systemd = (*fakeSystemd)(nil)
var _ Engine = (*fakeEngine)(nil)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var errExecd = errors.New("exec'd (fake)")

type world struct {
	env    *Env
	sd     *fakeSystemd
	eng    *fakeEngine
	clock  *fakeClock
	execd  [][]string // argv of every Exec (process replacement)
	execEn [][]string
	sleeps []time.Duration
	vars   map[string]string
	// runs are the exit codes the fake Run returns in turn.
	runs []int
	// podIPsOf are the processes whose namespace's addresses were read.
	podIPsOf []int
}

func newWorld(t *testing.T, rt *contract.Runtime) *world {
	t.Helper()
	w := &world{clock: &fakeClock{now: t0}, sd: &fakeSystemd{limits: map[string][]unitdef.Property{}}, vars: map[string]string{}}
	w.eng = &fakeEngine{clock: w.clock}
	w.env = &Env{
		StateDir: t.TempDir(), Self: "/usr/bin/podunit", Nsenter: "/usr/bin/nsenter",
		Systemd: func(context.Context) (Systemd, error) { return w.sd, nil },
		Engine:  func(context.Context) (Engine, error) { return w.eng, nil },
		Shaper:  fakeShaper{},
		Exec: func(path string, argv, env []string) error {
			w.execd = append(w.execd, argv)
			w.execEn = append(w.execEn, env)
			return errExecd
		},
		Run: func(ctx context.Context, path string, argv, env []string) (int, error) {
			w.execd = append(w.execd, argv)
			w.execEn = append(w.execEn, env)
			if len(w.runs) == 0 {
				return 0, nil // podman run -d: the container started
			}
			code := w.runs[0]
			w.runs = w.runs[1:]
			return code, nil
		},
		Environ: func() []string { return []string{"PATH=/usr/bin", "NOTIFY_SOCKET=/run/n", "A=from-systemd"} },
		Getenv:  func(k string) string { return w.vars[k] },
		PodIPs: func(pid int) ([]string, error) {
			w.podIPsOf = append(w.podIPsOf, pid)
			return []string{"10.0.2.100", "fd00::1"}, nil
		},
		HostIPs: func() []string { return []string{"192.0.2.2"} },
		Now:     w.clock.Now,
		Sleep: func(ctx context.Context, d time.Duration) error {
			w.sleeps = append(w.sleeps, d)
			w.clock.advance(d)
			return nil
		},
		Out: &bytes.Buffer{},
	}
	if err := podstate.SaveRuntime(w.env.StateDir, rt); err != nil {
		t.Fatal(err)
	}
	return w
}

type fakeShaper struct{}

func (fakeShaper) Apply(netshape.Spec) (any, string, error) {
	return map[string]int{"rate": 1}, "shaped", nil
}
func (fakeShaper) Show() (any, string, error) { return map[string]int{"rate": 1}, "shaped", nil }

func runtime1(c contract.Container) *contract.Runtime {
	return &contract.Runtime{Pod: "p", Podman: "/usr/bin/podman", Infra: "p-infra", Grace: 30 * time.Second,
		InfraSpec:  contract.Container{Podman: "p-infra", Kind: contract.KindInfra, Args: []string{"run", "infra"}, StopTimeout: 2 * time.Second},
		Containers: []contract.Container{c}}
}

func (w *world) main(t *testing.T, cmd contract.Command) error {
	t.Helper()
	return w.env.Main(context.Background(), cmd)
}

func events(t *testing.T, w *world) []string {
	evs, err := podstate.Events(w.env.StateDir, "p")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.Reason+": "+e.Message)
	}
	return out
}

// The container's values never reach a command line: podman gets "--env
// NAME" and finds the value in its environment; the last definition wins.
func TestRunExecsPodmanWithEnvironment(t *testing.T) {
	c := contract.Container{Name: "app", Podman: "p_app", Kind: contract.KindApp,
		Args: []string{"run", "--name", "p_app", "--env", "A", "--env", "TOKEN", "img", "sh", "-c", "a; b"},
		Env:  []contract.EnvVar{{Name: "A", Value: "1"}, {Name: "TOKEN", Value: "s3cret, with comma"}, {Name: "A", Value: "2"}}}
	w := newWorld(t, runtime1(c))
	if err := w.main(t, contract.Command{Op: contract.OpRun, Pod: "p", Container: "app"}); err != nil {
		t.Fatalf("run: %v", err)
	}
	argv := strings.Join(w.execd[0], " ")
	if argv != "/usr/bin/podman run --name p_app --env A --env TOKEN img sh -c a; b" || strings.Contains(argv, "s3cret") {
		t.Errorf("argv: %s", argv)
	}
	env := strings.Join(w.execEn[0], "\n")
	for _, want := range []string{"PATH=/usr/bin", "NOTIFY_SOCKET=/run/n", "A=2", "TOKEN=s3cret, with comma"} {
		if !strings.Contains(env+"\n", want+"\n") {
			t.Errorf("environment lacks %q:\n%s", want, env)
		}
	}
	if strings.Contains(env, "A=from-systemd") {
		t.Error("the manager's A was not replaced by the container's")
	}
	if len(w.sleeps) != 0 {
		t.Errorf("a first start waited %v", w.sleeps)
	}
}

// The downward API's status fields are filled in at the start, wherever
// $(VAR) expansion carried them: the pod's addresses from the infra's network
// namespace (its process 4242 in the fake engine), the host's from the host.
func TestRunFillsStatusFields(t *testing.T) {
	c := contract.Container{Name: "app", Podman: "p_app", Kind: contract.KindApp,
		Args: []string{"run", "--env", "POD_IP", "img", "--bind=" + contract.StatusRef(contract.FieldPodIP) + ":80"},
		Env: []contract.EnvVar{{Name: "POD_IP", Value: contract.StatusRef(contract.FieldPodIP)},
			{Name: "IPS", Value: contract.StatusRef(contract.FieldPodIPs)},
			{Name: "HOST", Value: "h=" + contract.StatusRef(contract.FieldHostIP)}}}
	w := newWorld(t, runtime1(c))
	if err := w.main(t, contract.Command{Op: contract.OpRun, Pod: "p", Container: "app"}); err != nil {
		t.Fatalf("run: %v", err)
	}
	if got := strings.Join(w.execd[0], " "); got != "/usr/bin/podman run --env POD_IP img --bind=10.0.2.100:80" {
		t.Errorf("argv: %s", got)
	}
	env := strings.Join(w.execEn[0], "\n") + "\n"
	for _, want := range []string{"POD_IP=10.0.2.100\n", "IPS=10.0.2.100,fd00::1\n", "HOST=h=192.0.2.2\n"} {
		if !strings.Contains(env, want) {
			t.Errorf("environment lacks %q:\n%s", want, env)
		}
	}
	if len(w.podIPsOf) != 1 || w.podIPsOf[0] != 4242 {
		t.Errorf("pod addresses read from %v, want the infra's process 4242", w.podIPsOf)
	}

	// on the host's network the pod's address is the host's, and nothing
	// looks into a namespace
	rt := runtime1(c)
	rt.HostNetwork = true
	w = newWorld(t, rt)
	if err := w.main(t, contract.Command{Op: contract.OpRun, Pod: "p", Container: "app"}); err != nil {
		t.Fatalf("run: %v", err)
	}
	if got := strings.Join(w.execd[0], " "); !strings.HasSuffix(got, "--bind=192.0.2.2:80") || len(w.podIPsOf) != 0 {
		t.Errorf("host network: argv %s, namespaces read %v", got, w.podIPsOf)
	}

	// a container without references starts without reading anything
	w = newWorld(t, runtime1(contract.Container{Name: "app", Podman: "p_app", Kind: contract.KindApp, Args: []string{"run", "img"}}))
	if err := w.main(t, contract.Command{Op: contract.OpRun, Pod: "p", Container: "app"}); err != nil || len(w.podIPsOf) != 0 {
		t.Fatalf("run: %v, namespaces read %v", err, w.podIPsOf)
	}
}

// A restart after an exit waits out the back-off (and says so); limits come
// off before podman starts (the post-start step of its postStart hook puts
// them on again).
func TestRunBackOffAndLimits(t *testing.T) {
	c := contract.Container{Name: "app", Podman: "p_app", Kind: contract.KindApp, Args: []string{"run", "img"},
		Limits: []contract.Limit{{Name: "MemoryMax", Value: 1 << 20}}, PostStart: &hooks.Handler{Exec: []string{"warm-up"}}}
	w := newWorld(t, runtime1(c))
	_ = podstate.SaveRun(w.env.StateDir, "p", "app", podstate.Run{Finished: t0.Add(-5 * time.Second), BackOff: 20 * time.Second, BackOffUpdated: t0.Add(-time.Minute)})
	if err := w.main(t, contract.Command{Op: contract.OpRun, Pod: "p", Container: "app"}); !errors.Is(err, errExecd) {
		t.Fatalf("run: %v", err)
	}
	if len(w.sleeps) != 1 || w.sleeps[0] != 15*time.Second {
		t.Errorf("slept %v, want 15s (20s from the exit 5s ago)", w.sleeps)
	}
	ev := strings.Join(events(t, w), "\n")
	if !strings.Contains(ev, "BackOff: Back-off 20s restarting failed container app") {
		t.Errorf("events:\n%s", ev)
	}
	r, _ := podstate.LoadRun(w.env.StateDir, "p", "app")
	if r.BackOff != 40*time.Second || !r.WaitingUntil.IsZero() {
		t.Errorf("run after the wait: %+v", r)
	}
	l := w.sd.limits[unitdef.ContainerUnitName("p", "app")]
	if len(l) != 1 || l[0].Name != "MemoryMax" || l[0].Value != unitdef.NoLimit["MemoryMax"] {
		t.Errorf("limits before the start: %+v", l)
	}

	// A stop on request owes no back-off.
	_ = podstate.SaveRun(w.env.StateDir, "p", "app", podstate.Run{Finished: w.clock.Now(), Stopped: true, BackOff: 80 * time.Second, BackOffUpdated: w.clock.Now()})
	w.sleeps = nil
	_ = w.main(t, contract.Command{Op: contract.OpRun, Pod: "p", Container: "app"})
	if len(w.sleeps) != 0 {
		t.Errorf("after a requested stop, slept %v", w.sleeps)
	}
}

// An init container is retried with the kubelet's back-off (the first
// retry at once); under restartPolicy Never its failure is the helper's.
func TestInitRetries(t *testing.T) {
	c := contract.Container{Name: "init", Podman: "p_init", Kind: contract.KindInit, Args: []string{"run", "img"}, Retry: true}
	w := newWorld(t, runtime1(c))
	w.runs = []int{1, 1, 1, 1, 0}
	if err := w.main(t, contract.Command{Op: contract.OpRun, Pod: "p", Container: "init"}); err != nil {
		t.Fatalf("run: %v", err)
	}
	if got := w.sleeps; len(got) != 3 || got[0] != 10*time.Second || got[1] != 20*time.Second || got[2] != 40*time.Second {
		t.Errorf("back-off %v, want 10s 20s 40s (after a first retry at once)", got)
	}
	var reasons []string
	for _, e := range events(t, w) {
		reasons = append(reasons, strings.SplitN(e, ":", 2)[0])
	}
	if got := strings.Join(reasons, " "); got != "Started Failed Started BackOff Started BackOff Started BackOff Started Completed" {
		t.Errorf("events: %s", got)
	}
	// each run is recorded as it ends: four restarts, the last run's end
	r, _ := podstate.LoadRun(w.env.StateDir, "p", "init")
	if r.Retries != 4 || r.ExitCode != 0 || r.Result != "success" || !r.WaitingUntil.IsZero() || !r.Started.IsZero() ||
		!r.Finished.Equal(w.clock.Now()) || !r.LastStarted.Equal(w.clock.Now()) {
		t.Errorf("run after success: %+v", r)
	}

	// while it waits, the record says for how long and how the run ended
	w = newWorld(t, runtime1(c))
	w.runs = []int{1, 1, 1}
	var waits []podstate.Run
	w.env.Sleep = func(ctx context.Context, d time.Duration) error {
		r, _ := podstate.LoadRun(w.env.StateDir, "p", "init")
		waits = append(waits, r)
		if len(waits) == 2 {
			return context.Canceled // the unit is stopped
		}
		return nil
	}
	_ = w.main(t, contract.Command{Op: contract.OpRun, Pod: "p", Container: "init"})
	if len(waits) != 2 || waits[1].Retries != 3 || waits[1].ExitCode != 1 || waits[1].WaitingFor != 20*time.Second ||
		!waits[1].WaitingUntil.Equal(w.clock.Now().Add(20*time.Second)) {
		t.Errorf("records while backing off: %+v", waits)
	}
	// the unit's cleanup keeps them
	w.vars["EXIT_CODE"], w.vars["EXIT_STATUS"], w.vars["SERVICE_RESULT"] = "exited", "143", "exit-code"
	_ = w.main(t, contract.Command{Op: contract.OpCleanup, Pod: "p", Container: "init"})
	if r, _ := podstate.LoadRun(w.env.StateDir, "p", "init"); r.ExitCode != 1 || r.Retries != 3 {
		t.Errorf("after cleanup: %+v", r)
	}
	c.Retry = false
	w = newWorld(t, runtime1(c))
	w.runs = []int{3}
	var ee *ErrExit
	if err := w.main(t, contract.Command{Op: contract.OpRun, Pod: "p", Container: "init"}); !errors.As(err, &ee) || ee.Code != 3 {
		t.Errorf("restartPolicy Never: %v", err)
	}
	// ... the pod has failed: recorded, and its end unit started (its infra
	// cannot be stopped while the init container's start job goes on)
	if done, ok := podstate.LoadCompletion(w.env.StateDir, "p"); !ok || done.Phase != "Failed" {
		t.Errorf("restartPolicy Never: completion %+v %v, want Failed", done, ok)
	}
	if len(w.sd.started) != 1 || w.sd.started[0].Name != "podunit-p.end.service" || len(w.sd.stopped) != 0 {
		t.Errorf("restartPolicy Never: started %+v, stopped %v; want the end unit only", w.sd.started, w.sd.stopped)
	}
}

// The end unit stops the deadline unit, then the infra once that cancels
// no start job; not while the pod goes down; it gives up after endWait.
func TestEndUnit(t *testing.T) {
	rt := runtime1(contract.Container{Name: "app", Podman: "p_app", Kind: contract.KindApp})
	rt.Deadline = true
	w := newWorld(t, rt)
	w.sd.busyFor = 3
	if err := w.main(t, contract.Command{Op: contract.OpEnd, Pod: "p"}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(w.sd.stopped, " "); got != "podunit-p.deadline.service podunit-p.service" || len(w.sleeps) != 3 {
		t.Errorf("stopped %q after %v", got, w.sleeps)
	}

	w = newWorld(t, runtime1(contract.Container{Name: "app", Podman: "p_app", Kind: contract.KindApp}))
	w.sd.busy = true
	if err := w.main(t, contract.Command{Op: contract.OpEnd, Pod: "p"}); err != nil {
		t.Fatal(err)
	}
	if len(w.sd.stopped) != 0 || w.clock.Now().Sub(t0) < endWait || w.clock.Now().Sub(t0) > endWait+time.Second ||
		!strings.Contains(w.env.Out.(*bytes.Buffer).String(), "its infra stays until down") {
		t.Errorf("busy for good: stopped %v, gave up after %s: %q", w.sd.stopped, w.clock.Now().Sub(t0), w.env.Out)
	}

	w = newWorld(t, runtime1(contract.Container{Name: "app", Podman: "p_app", Kind: contract.KindApp}))
	w.sd.busyFor = 2
	w.env.Sleep = func(ctx context.Context, d time.Duration) error {
		return podstate.WriteStopRequest(w.env.StateDir, "p", time.Second) // down came
	}
	if err := w.main(t, contract.Command{Op: contract.OpEnd, Pod: "p"}); err != nil || len(w.sd.stopped) != 0 {
		t.Errorf("while going down: %v, stopped %v", err, w.sd.stopped)
	}
}

func preStopped(grace time.Duration) contract.Container {
	return contract.Container{Name: "app", Podman: "p_app", Kind: contract.KindApp,
		PreStop: &hooks.Handler{Exec: []string{"drain"}}}
}

// The stop helper decides the reason and grace outside (where systemd is),
// then enters the pod's namespaces to run the preStop.
func TestStopDecidesThenEnters(t *testing.T) {
	for _, c := range []struct {
		name     string
		request  *time.Duration
		stopping bool
		want     string
	}{
		{"down", ptr(4 * time.Second), false, "--in-netns --reason Delete --grace 4s"},
		{"user stops the unit", nil, false, "--in-netns --reason Delete --grace 30s"},
		{"infra going down", nil, true, "--in-netns --reason Dependency --grace 30s"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, runtime1(preStopped(0)))
			w.vars["MAINPID"] = "99"
			w.sd.stopping = c.stopping
			if c.request != nil {
				_ = podstate.WriteStopRequest(w.env.StateDir, "p", *c.request)
			}
			if err := w.main(t, contract.Command{Op: contract.OpStop, Pod: "p", Container: "app"}); !errors.Is(err, errExecd) {
				t.Fatalf("stop: %v", err)
			}
			argv := strings.Join(w.execd[0], " ")
			if !strings.HasPrefix(argv, "/usr/bin/nsenter --user --preserve-credentials --net --target 4242 -- /usr/bin/podunit internal stop --pod p --container app ") ||
				!strings.HasSuffix(argv, c.want) {
				t.Errorf("argv: %s", argv)
			}
			if r, _ := podstate.LoadRun(w.env.StateDir, "p", "app"); !r.Stopped {
				t.Error("the stop was not recorded as requested")
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// The kill sequence: preStop (told why) bounded by the grace period, then the
// stop signal with what is left, at least 2 s; grace 0 kills at once.
func TestStopSequence(t *testing.T) {
	for _, c := range []struct {
		name          string
		grace, hook   time.Duration
		wantPreStop   bool
		wantStopAfter time.Duration
	}{
		{"hook quick", 10 * time.Second, 3 * time.Second, true, 7 * time.Second},
		{"hook slow", 10 * time.Second, 9500 * time.Millisecond, true, 2 * time.Second},
		// exact: the engine kills at the deadline itself (podman's API
		// counts whole seconds)
		{"fraction kept", 10 * time.Second, 2500 * time.Millisecond, true, 7500 * time.Millisecond},
		{"forced", 0, time.Second, false, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, runtime1(preStopped(c.grace)))
			w.eng.execTakes = c.hook
			g := c.grace
			err := w.main(t, contract.Command{Op: contract.OpStop, Pod: "p", Container: "app", InNetns: true, Reason: hooks.ReasonHealth, Grace: &g})
			if err != nil {
				t.Fatal(err)
			}
			if (len(w.eng.execs) == 1) != c.wantPreStop {
				t.Fatalf("preStop ran %d times", len(w.eng.execs))
			}
			if c.wantPreStop && strings.Join(w.eng.execs[0].env, ",") != hooks.StopReasonEnv+"="+hooks.ReasonHealth {
				t.Errorf("preStop env %v", w.eng.execs[0].env)
			}
			if len(w.eng.stops) != 1 || w.eng.stops[0].container != "p_app" || w.eng.stops[0].timeout != c.wantStopAfter {
				t.Errorf("stops %+v, want one after %s", w.eng.stops, c.wantStopAfter)
			}
			// removed as soon as it ended, not left to conmon's exit command
			if strings.Join(w.eng.removed, ",") != "p_app" {
				t.Errorf("removed %v, want p_app", w.eng.removed)
			}
		})
	}
}

// A stop that failed (the container may still run) removes nothing: the
// unit's own kill and its clean-up deal with it.
func TestStopFailedRemovesNothing(t *testing.T) {
	for _, c := range []struct {
		name string
		cmd  contract.Command
	}{
		{"app", contract.Command{Op: contract.OpStop, Pod: "p", Container: "app"}},
		{"infra", contract.Command{Op: contract.OpStop, Pod: "p"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, runtime1(contract.Container{Name: "app"}))
			w.vars["MAINPID"] = "99"
			w.eng.stopErr = errors.New("podman: no answer")
			if err := w.main(t, c.cmd); err == nil {
				t.Fatal("a failed stop succeeded")
			}
			if len(w.eng.stops) != 1 || len(w.eng.removed) != 0 {
				t.Errorf("stops %+v, removed %v", w.eng.stops, w.eng.removed)
			}
		})
	}
}

// A container that already exited has nothing to stop and no preStop to run.
func TestStopAfterExit(t *testing.T) {
	w := newWorld(t, runtime1(preStopped(0)))
	if err := w.main(t, contract.Command{Op: contract.OpStop, Pod: "p", Container: "app"}); err != nil {
		t.Fatal(err)
	}
	if len(w.execd)+len(w.eng.execs)+len(w.eng.stops)+len(w.eng.removed) != 0 {
		t.Errorf("did something: %v %v %v %v", w.execd, w.eng.execs, w.eng.stops, w.eng.removed)
	}
}

// A failing postStart hook: FailedPostStartHook, the preStop told "Health",
// and the helper fails so that systemd kills and restarts the container.
func TestPostStartFailure(t *testing.T) {
	c := preStopped(0)
	c.PostStart = &hooks.Handler{Exec: []string{"warm-up"}}
	c.PostStartTimeout = time.Minute
	w := newWorld(t, runtime1(c))
	w.eng.execCode = 1
	err := w.main(t, contract.Command{Op: contract.OpPostStart, Pod: "p", Container: "app", InNetns: true})
	var ee *ErrExit
	if !errors.As(err, &ee) || ee.Code != 1 {
		t.Fatalf("post-start: %v", err)
	}
	if len(w.eng.execs) != 2 || w.eng.execs[0].argv[0] != "warm-up" || w.eng.execs[1].argv[0] != "drain" ||
		strings.Join(w.eng.execs[1].env, ",") != hooks.StopReasonEnv+"="+hooks.ReasonHealth {
		t.Errorf("execs %+v", w.eng.execs)
	}
	ev := strings.Join(events(t, w), "\n")
	if !strings.Contains(ev, "FailedPostStartHook") {
		t.Errorf("events:\n%s", ev)
	}
	if r, _ := podstate.LoadRun(w.env.StateDir, "p", "app"); !r.Started.IsZero() {
		t.Error("a failed start was recorded as Running")
	}
}

// postStart puts the limits on, then (with a hook) enters the pod's
// namespaces; without one it records the run at once.
func TestPostStartLimitsAndRun(t *testing.T) {
	c := contract.Container{Name: "app", Podman: "p_app", Kind: contract.KindApp, Limits: []contract.Limit{{Name: "CPUQuota", Value: 500000}}}
	w := newWorld(t, runtime1(c))
	if err := w.main(t, contract.Command{Op: contract.OpPostStart, Pod: "p", Container: "app"}); err != nil {
		t.Fatal(err)
	}
	if l := w.sd.limits[unitdef.ContainerUnitName("p", "app")]; len(l) != 1 || l[0].Value != uint64(500000) {
		t.Errorf("limits: %+v", l)
	}
	if r, _ := podstate.LoadRun(w.env.StateDir, "p", "app"); !r.Started.Equal(t0) {
		t.Errorf("run: %+v", r)
	}
	c.PostStart = &hooks.Handler{HTTPGet: &hooks.HTTPGet{Scheme: "HTTP", Port: 80, Path: "/"}}
	w = newWorld(t, runtime1(c))
	if err := w.main(t, contract.Command{Op: contract.OpPostStart, Pod: "p", Container: "app"}); !errors.Is(err, errExecd) {
		t.Fatalf("with an httpGet hook: %v", err)
	}
	if got := strings.Join(w.execd[0], " "); got != "/usr/bin/nsenter --user --preserve-credentials --net --target 4242 -- /usr/bin/podunit internal post-start --pod p --container app --in-netns" {
		t.Errorf("argv %q", got)
	}
	// a pod on the host's network is there already: only podman's user
	// namespace is joined (the host's network namespace is not its to enter)
	rt := runtime1(c)
	rt.HostNetwork = true
	w = newWorld(t, rt)
	if err := w.main(t, contract.Command{Op: contract.OpPostStart, Pod: "p", Container: "app"}); !errors.Is(err, errExecd) {
		t.Fatalf("host network, with an httpGet hook: %v", err)
	}
	if got := strings.Join(w.execd[0], " "); got != "/usr/bin/nsenter --user --preserve-credentials --target 4242 -- /usr/bin/podunit internal post-start --pod p --container app --in-netns" {
		t.Errorf("host network: argv %q", got)
	}
}

// cleanup records how the run ended and removes the container.
func TestCleanupRecordsExit(t *testing.T) {
	c := contract.Container{Name: "app", Podman: "p_app", Kind: contract.KindApp}
	w := newWorld(t, runtime1(c))
	_ = podstate.SaveRun(w.env.StateDir, "p", "app", podstate.Run{Started: t0.Add(-time.Hour)})
	w.vars["EXIT_CODE"], w.vars["EXIT_STATUS"], w.vars["SERVICE_RESULT"] = "exited", "3", "exit-code"
	if err := w.main(t, contract.Command{Op: contract.OpCleanup, Pod: "p", Container: "app"}); err != nil {
		t.Fatal(err)
	}
	r, _ := podstate.LoadRun(w.env.StateDir, "p", "app")
	if !r.Started.IsZero() || !r.Finished.Equal(t0) || r.ExitCode != 3 || r.Result != "exit-code" {
		t.Errorf("run: %+v", r)
	}
	if len(w.eng.removed) != 1 || w.eng.removed[0] != "p_app" {
		t.Errorf("removed %v", w.eng.removed)
	}
}

// A pod that restarts no container (Never, or OnFailure after a success)
// completes: when its last app container ends for good, its clean-up
// records the pod's phase and the containers' restarts, and stops the
// sidecars and then the sandbox (the infra), as the kubelet does; not
// before, not under Always, not after a failure OnFailure retries, not
// while the pod is being deleted.
func TestCleanupEndsSidecarsOfACompletedPod(t *testing.T) {
	mk := func(policy string) *contract.Runtime {
		restart := map[string]string{"Never": "no", "OnFailure": "on-failure", "Always": "always"}[policy]
		rt := runtime1(contract.Container{Name: "log", Podman: "p_log", Kind: contract.KindSidecar, Restart: "always"})
		rt.Containers = append(rt.Containers,
			contract.Container{Name: "a", Podman: "p_a", Kind: contract.KindApp, Restart: restart},
			contract.Container{Name: "b", Podman: "p_b", Kind: contract.KindApp, Restart: restart})
		return rt
	}
	end := func(t *testing.T, w *world, name, status string) {
		t.Helper()
		_ = podstate.SaveRun(w.env.StateDir, "p", name, podstate.Run{Started: t0.Add(-time.Minute)})
		w.vars["EXIT_CODE"], w.vars["EXIT_STATUS"], w.vars["SERVICE_RESULT"] = "exited", status, "success"
		if status != "0" {
			w.vars["SERVICE_RESULT"] = "exit-code"
		}
		if err := w.main(t, contract.Command{Op: contract.OpCleanup, Pod: "p", Container: name}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name, policy   string
		statusA        string
		stopRequest    bool
		wantAfterFirst bool // a ended, b still runs: never
		want           bool
	}{
		{"Never, both succeeded", "Never", "0", false, false, true},
		{"Never, one failed", "Never", "1", false, false, true},
		{"OnFailure, both succeeded", "OnFailure", "0", false, false, true},
		{"OnFailure, a failed (it comes back)", "OnFailure", "1", false, false, false},
		{"Always", "Always", "0", false, false, false},
		{"unknown Restart (assumed to come back)", "", "0", false, false, false},
		{"Never, pod being deleted", "Never", "0", true, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, mk(c.policy))
			w.sd.restarts = map[string]int{"podunit-p-b.service": 2}
			if c.stopRequest {
				if err := podstate.WriteStopRequest(w.env.StateDir, "p", time.Second); err != nil {
					t.Fatal(err)
				}
			}
			_ = podstate.SaveRun(w.env.StateDir, "p", "b", podstate.Run{Started: t0.Add(-time.Minute)})
			end(t, w, "a", c.statusA)
			if len(w.sd.stopped) != 0 {
				t.Fatalf("sidecars stopped while b runs: %v", w.sd.stopped)
			}
			end(t, w, "b", "0")
			got := len(w.sd.stopped) > 0
			if got != c.want {
				t.Fatalf("sidecars stopped: %v, want %v", w.sd.stopped, c.want)
			}
			if got && strings.Join(w.sd.stopped, " ") != `podunit-p-log.service podunit-p.service` {
				t.Errorf("stopped %v, want the sidecar, then the infra", w.sd.stopped)
			}
			done, ok := podstate.LoadCompletion(w.env.StateDir, "p")
			if ok != c.want {
				t.Fatalf("completion recorded: %v, want %v", ok, c.want)
			}
			if want := map[bool]string{true: "Succeeded", false: "Failed"}[c.statusA == "0"]; ok && (done.Phase != want || done.Restarts["b"] != 2 || len(done.Restarts) != 1 || !done.At.Equal(t0)) {
				t.Errorf("completion %+v, want %s with b's 2 restarts", done, want)
			}
			if got && !strings.Contains(strings.Join(events(t, w), "\n"), "Stopping sidecar containers") {
				t.Errorf("no event: %v", events(t, w))
			}
		})
	}
	// a pod that completes while a start is going on (a container that
	// failed to start) leaves its infra to the end unit: stopping it now
	// would cancel the job
	w := newWorld(t, mk("Never"))
	w.sd.busy = true
	_ = podstate.SaveRun(w.env.StateDir, "p", "b", podstate.Run{Finished: t0, Result: "success"})
	end(t, w, "a", "127")
	if done, ok := podstate.LoadCompletion(w.env.StateDir, "p"); !ok || done.Phase != "Failed" || strings.Join(w.sd.stopped, " ") != "podunit-p-log.service" {
		t.Errorf("completed during a start: %+v %v, stopped %v (want the sidecar only)", done, ok, w.sd.stopped)
	}
	if len(w.sd.started) != 1 || w.sd.started[0].Name != "podunit-p.end.service" {
		t.Errorf("completed during a start: started %+v, want the end unit", w.sd.started)
	}
	// a sidecar's own end stops nothing
	w = newWorld(t, mk("Never"))
	end(t, w, "log", "0")
	if len(w.sd.stopped) != 0 {
		t.Errorf("a sidecar's end stopped %v", w.sd.stopped)
	}
	// a completed pod's deadline unit goes too (its deadline no longer applies)
	rt := mk("Never")
	rt.Deadline = true
	w = newWorld(t, rt)
	_ = podstate.SaveRun(w.env.StateDir, "p", "b", podstate.Run{Finished: t0, Result: "success"})
	end(t, w, "a", "0")
	if got := strings.Join(w.sd.stopped, " "); got != "podunit-p-log.service podunit-p.deadline.service podunit-p.service" {
		t.Errorf("completed with a deadline: stopped %q", got)
	}
}

// The infra is stopped with its own short timeout, through the API.
func TestStopInfra(t *testing.T) {
	w := newWorld(t, runtime1(contract.Container{Name: "app"}))
	if err := w.main(t, contract.Command{Op: contract.OpStop, Pod: "p"}); err != nil {
		t.Fatal(err)
	}
	if len(w.eng.stops) != 1 || w.eng.stops[0].container != "p-infra" || w.eng.stops[0].timeout != 2*time.Second {
		t.Errorf("stops %+v", w.eng.stops)
	}
	if strings.Join(w.eng.removed, ",") != "p-infra" {
		t.Errorf("removed %v, want p-infra", w.eng.removed)
	}
	// With a container of its pod still there, podman refuses to remove the
	// sandbox: the stop succeeds all the same, the sandbox kept for its
	// clean-up.
	w = newWorld(t, runtime1(contract.Container{Name: "app"}))
	w.eng.containers = map[string]map[string]string{
		"p-infra": {unitdef.LabelPod: "p", unitdef.LabelRole: "infra"},
		"p_app":   {unitdef.LabelPod: "p"},
	}
	if err := w.main(t, contract.Command{Op: contract.OpStop, Pod: "p"}); err != nil {
		t.Fatal(err)
	}
	if len(w.eng.removed) != 0 || w.eng.containers["p-infra"] == nil {
		t.Errorf("removed %v", w.eng.removed)
	}
}

// A container of the pod's name left by an earlier run of the pod is removed
// before the start; one that is not the pod's is never touched, and the start
// fails naming it (for app and init containers alike).
func TestRunClearsOnlyItsOwnStaleContainer(t *testing.T) {
	for _, kind := range []string{contract.KindApp, contract.KindInit} {
		c := contract.Container{Name: "app", Podman: "podunit_p_app", Kind: kind, Args: []string{"run", "img"}}
		w := newWorld(t, runtime1(c))
		w.runs = []int{0}
		w.eng.containers = map[string]map[string]string{"podunit_p_app": {unitdef.LabelPod: "p", unitdef.LabelContainer: "app"}}
		if err := w.main(t, contract.Command{Op: contract.OpRun, Pod: "p", Container: "app"}); err != nil && !errors.Is(err, errExecd) {
			t.Fatalf("%s: run over a stale container: %v", kind, err)
		}
		if len(w.eng.removed) != 1 || w.eng.removed[0] != "podunit_p_app" {
			t.Errorf("%s: removed %v, want the stale podunit_p_app", kind, w.eng.removed)
		}

		w = newWorld(t, runtime1(c))
		w.eng.containers = map[string]map[string]string{"podunit_p_app": {"made-by": "the user"}}
		var ee *ErrExit
		err := w.main(t, contract.Command{Op: contract.OpRun, Pod: "p", Container: "app"})
		if !errors.As(err, &ee) || !strings.Contains(ee.Msg, "podman container podunit_p_app exists and was not created by podunit") {
			t.Fatalf("%s: run over a user's container: %v", kind, err)
		}
		if len(w.eng.removed) != 0 || len(w.execd) != 0 {
			t.Errorf("%s: the user's container was touched: removed %v, exec %v", kind, w.eng.removed, w.execd)
		}
		if ev := strings.Join(events(t, w), "\n"); !strings.Contains(ev, "podunit_p_app exists and was not created by podunit") {
			t.Errorf("%s: no event: %s", kind, ev)
		}
	}
}

// Every start after the first is a restart, as the kubelet counts them:
// systemd's own count starts over when a start is not its automatic
// restart (a restart of the unit, or of the pod's sandbox).
func TestRunCountsRestarts(t *testing.T) {
	c := contract.Container{Name: "app", Podman: "podunit_p_app", Kind: contract.KindApp, Restart: "always", Args: []string{"run", "img"}}
	w := newWorld(t, runtime1(c))
	w.vars["SERVICE_RESULT"], w.vars["EXIT_CODE"], w.vars["EXIT_STATUS"] = "success", "exited", "0"
	restarts := func() int {
		r, err := podstate.LoadRun(w.env.StateDir, "p", "app")
		if err != nil {
			t.Fatal(err)
		}
		return r.Restarts
	}
	cycle := func(stopped bool) {
		t.Helper()
		if err := w.main(t, contract.Command{Op: contract.OpRun, Pod: "p", Container: "app"}); err != nil {
			t.Fatalf("run: %v", err)
		}
		if stopped {
			if err := podstate.UpdateRun(w.env.StateDir, "p", "app", func(r *podstate.Run) { r.Stopped = true }); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.main(t, contract.Command{Op: contract.OpCleanup, Pod: "p", Container: "app"}); err != nil {
			t.Fatalf("cleanup: %v", err)
		}
		w.clock.advance(time.Hour) // no back-off
	}
	cycle(false)
	if n := restarts(); n != 0 {
		t.Fatalf("after the first run: %d restarts", n)
	}
	cycle(false) // systemd's restart
	cycle(true)  // stopped on request (its unit's, or the sandbox's, restart)
	if err := w.main(t, contract.Command{Op: contract.OpRun, Pod: "p", Container: "app"}); err != nil {
		t.Fatalf("run: %v", err)
	}
	if n := restarts(); n != 3 {
		t.Errorf("after four starts: %d restarts, want 3", n)
	}
}

// An infra that systemd restarts again and again is tried every
// unitdef.InfraRetry (the kubelet's retry of a sandbox), never given up; a
// start that is not systemd's restart, or one long after the last, goes at
// once.
func TestInfraRestartsArePaced(t *testing.T) {
	w := newWorld(t, runtime1(contract.Container{Name: "app", Podman: "podunit_p_app", Kind: contract.KindApp, Args: []string{"run", "img"}}))
	w.sd.restarts = map[string]int{}
	start := func(after time.Duration, restarts int) []time.Duration {
		t.Helper()
		w.clock.advance(after)
		w.sd.restarts[unitdef.InfraUnitName("p")] = restarts
		w.sleeps = nil
		if err := w.main(t, contract.Command{Op: contract.OpRun, Pod: "p"}); !errors.Is(err, errExecd) {
			t.Fatalf("infra run: %v", err)
		}
		return w.sleeps
	}
	if s := start(0, 0); len(s) != 0 {
		t.Errorf("first start waited %v", s)
	}
	if s := start(2*time.Second, 0); len(s) != 0 {
		t.Errorf("a restart asked for (systemd's count 0) waited %v", s)
	}
	if s := start(time.Second, 1); fmt.Sprint(s) != "[9s]" {
		t.Errorf("systemd's restart 1s after the last start waited %v, want [9s]", s)
	}
	if s := start(time.Second, 2); fmt.Sprint(s) != "[9s]" {
		t.Errorf("the next one waited %v, want [9s] (counted from the last try)", s)
	}
	if s := start(unitdef.InfraRetry, 3); len(s) != 0 {
		t.Errorf("a restart %s after the last start waited %v", unitdef.InfraRetry, s)
	}
	want := []string{
		"SandboxChanged: Pod sandbox changed, it will be killed and re-created.",
		"BackOff: Back-off 9s making the pod's sandbox again (the last try was 1s ago)",
		"SandboxChanged: Pod sandbox changed, it will be killed and re-created.",
		"BackOff: Back-off 9s making the pod's sandbox again (the last try was 1s ago)",
		"SandboxChanged: Pod sandbox changed, it will be killed and re-created.",
	}
	if got := events(t, w); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A sandbox that died on its own leaves its container while systemd stops
// the pod's containers (each within its grace period), and podman removes no
// container others depend on: the infra's restart waits for them to be gone
// before it removes the old one; its clean-up leaves it to that start. Past
// unitdef.StaleWait, the pod's containers still there (no unit stops them)
// are removed; another pod's are never touched.
func TestInfraRestartWaitsForTheOldSandboxsContainers(t *testing.T) {
	app := contract.Container{Name: "app", Podman: "podunit_p_app", Kind: contract.KindApp, Args: []string{"run", "img"}}
	setup := func() *world {
		w := newWorld(t, runtime1(app))
		w.eng.containers = map[string]map[string]string{
			"p-infra":       {unitdef.LabelPod: "p", unitdef.LabelRole: "infra"},
			"podunit_p_app": {unitdef.LabelPod: "p", unitdef.LabelContainer: "app"},
			"podunit_q_app": {unitdef.LabelPod: "q", unitdef.LabelContainer: "app"},
		}
		return w
	}
	infra := contract.Command{Op: contract.OpRun, Pod: "p"}

	// its clean-up (ExecStopPost) keeps the old infra while the app stops
	w := setup()
	if err := w.main(t, contract.Command{Op: contract.OpCleanup, Pod: "p"}); err != nil {
		t.Fatalf("cleanup: %v", err)
	}
	if len(w.eng.removed) != 0 {
		t.Errorf("cleanup removed %v while the pod's app container exists", w.eng.removed)
	}
	if out := w.env.Out.(*bytes.Buffer).String(); !strings.Contains(out, "keeping p-infra while podunit_p_app stop") {
		t.Errorf("cleanup said %q", out)
	}

	// the app's unit removes its container after three looks
	w = setup()
	w.env.Sleep = func(ctx context.Context, d time.Duration) error {
		w.sleeps = append(w.sleeps, d)
		w.clock.advance(d)
		if len(w.sleeps) == 3 {
			w.eng.mu.Lock()
			delete(w.eng.containers, "podunit_p_app")
			w.eng.mu.Unlock()
		}
		return nil
	}
	if err := w.main(t, infra); !errors.Is(err, errExecd) {
		t.Fatalf("infra run: %v", err)
	}
	if got := fmt.Sprint(w.eng.removed); got != "[p-infra]" {
		t.Errorf("removed %s, want [p-infra] once the app's container was gone", got)
	}
	if len(w.sleeps) != 3 || w.sleeps[0] != staleInterval {
		t.Errorf("sleeps %v, want 3 of %s", w.sleeps, staleInterval)
	}
	if len(w.execd) != 1 || w.execd[0][len(w.execd[0])-1] != "infra" {
		t.Errorf("exec %v, want the infra's podman run", w.execd)
	}
	if out := w.env.Out.(*bytes.Buffer).String(); strings.Count(out, "waiting for podunit_p_app to stop before the pod's sandbox is made again") != 1 {
		t.Errorf("said %q, want the wait told once", out)
	}

	// a leftover no unit stops goes after unitdef.StaleWait
	w = setup()
	if err := w.main(t, infra); !errors.Is(err, errExecd) {
		t.Fatalf("infra run: %v", err)
	}
	if got := fmt.Sprint(w.eng.removed); got != "[podunit_p_app p-infra]" {
		t.Errorf("removed %s, want the leftover, then the old infra", got)
	}
	waited := time.Duration(len(w.sleeps)) * staleInterval
	if want := unitdef.StaleWait(30 * time.Second); waited != want {
		t.Errorf("waited %s, want unitdef.StaleWait: %s", waited, want)
	}
	if _, ok := w.eng.containers["podunit_q_app"]; !ok {
		t.Error("another pod's container was removed")
	}
}

// A subPath of a named volume becomes a bind mount of the part, made when
// missing; a symlink the container left that leads out of the volume is
// refused, one inside it is followed; a file may be mounted.
func TestRunSubPaths(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	c := contract.Container{Name: "app", Podman: "p_app", Kind: contract.KindApp,
		Args:     []string{"run", "--volume", contract.VolumeRef("vol") + "/data/db:/var/lib/db:rw", "img"},
		SubPaths: []contract.SubPath{{Arg: 2, Volume: "vol", Path: "data/db"}}}
	start := func(c contract.Container) (*world, error) {
		w := newWorld(t, runtime1(c))
		w.eng.volumes = map[string]string{"vol": root}
		return w, w.main(t, contract.Command{Op: contract.OpRun, Pod: "p", Container: "app"})
	}
	w, err := start(c)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if got, want := strings.Join(w.execd[0], " "), "/usr/bin/podman run --volume "+root+"/data/db:/var/lib/db:rw img"; got != want {
		t.Errorf("argv:\n got %s\nwant %s", got, want)
	}
	if fi, err := os.Stat(filepath.Join(root, "data", "db")); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o750 {
		t.Errorf("the subPath directory was not made 0750: %v %v", fi, err)
	}

	// the container replaced data with a symlink out of the volume
	os.RemoveAll(filepath.Join(root, "data"))
	os.Symlink(outside, filepath.Join(root, "data"))
	w, err = start(c)
	var ee *ErrExit
	if !errors.As(err, &ee) || !strings.Contains(ee.Msg, "leads out of the volume") || len(w.execd) != 0 {
		t.Errorf("a symlink out of the volume: err %v, execd %v", err, w.execd)
	}
	if _, err := os.Stat(filepath.Join(outside, "db")); err == nil {
		t.Error("a directory was made outside the volume")
	}
	if evs := strings.Join(events(t, w), "\n"); !strings.Contains(evs, "leads out of the volume") {
		t.Errorf("no event says why: %s", evs)
	}

	// a symlink inside the volume is fine, and a file may be mounted
	os.Remove(filepath.Join(root, "data"))
	os.MkdirAll(filepath.Join(root, "real", "db"), 0o755)
	os.Symlink("real", filepath.Join(root, "data"))
	os.WriteFile(filepath.Join(root, "real", "db", "conf"), []byte("x"), 0o644)
	c.Args[2] = contract.VolumeRef("vol") + "/data/db/conf:/etc/conf:ro"
	c.SubPaths[0].Path = "data/db/conf"
	w, err = start(c)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	real, _ := filepath.EvalSymlinks(root)
	if got := w.execd[0][3]; got != real+"/real/db/conf:/etc/conf:ro" {
		t.Errorf("file subPath through an inner symlink: %s", got)
	}
}

// A subPath of a hostPath directory is made inside it when missing, as the
// kubelet makes it; no volume is asked of podman.
func TestRunHostPathSubPath(t *testing.T) {
	host := t.TempDir()
	c := contract.Container{Name: "app", Podman: "p_app", Kind: contract.KindApp,
		Args:     []string{"run", "--volume", host + "/logs/app:/var/log/app:rw", "img"},
		SubPaths: []contract.SubPath{{Arg: 2, Root: host, Path: "logs/app"}}}
	w := newWorld(t, runtime1(c))
	if err := w.main(t, contract.Command{Op: contract.OpRun, Pod: "p", Container: "app"}); err != nil {
		t.Fatalf("run: %v", err)
	}
	real, _ := filepath.EvalSymlinks(host)
	if got, want := strings.Join(w.execd[0], " "), "/usr/bin/podman run --volume "+real+"/logs/app:/var/log/app:rw img"; got != want {
		t.Errorf("argv:\n got %s\nwant %s", got, want)
	}
	if fi, err := os.Stat(filepath.Join(host, "logs", "app")); err != nil || !fi.IsDir() {
		t.Errorf("the subPath directory was not made: %v %v", fi, err)
	}
	// a missing host directory is the run's failure, with an event
	c.SubPaths[0].Root, c.Args[2] = host+"/nope", host+"/nope/logs/app:/var/log/app:rw"
	w = newWorld(t, runtime1(c))
	var ee *ErrExit
	if err := w.main(t, contract.Command{Op: contract.OpRun, Pod: "p", Container: "app"}); !errors.As(err, &ee) || len(w.execd) != 0 ||
		!strings.Contains(strings.Join(events(t, w), "\n"), "of directory "+host+"/nope") {
		t.Errorf("a missing hostPath: err %v, execd %v, events %v", err, w.execd, events(t, w))
	}
}

// The termination message file is emptied for each run, writable by any
// user of the container, and read when the run ends; under
// FallbackToLogsOnError a failed run that wrote none gets its log's end.
func TestTerminationMessage(t *testing.T) {
	dir := t.TempDir()
	c := contract.Container{Name: "app", Podman: "p_app", Kind: contract.KindApp, Args: []string{"run", "img"},
		Message: filepath.Join(dir, "termination", "app"), Log: filepath.Join(dir, "logs", "app.log")}
	w := newWorld(t, runtime1(c))
	run := func() {
		t.Helper()
		if err := w.main(t, contract.Command{Op: contract.OpRun, Pod: "p", Container: "app"}); err != nil {
			t.Fatalf("run: %v", err)
		}
	}
	end := func(code string) podstate.Run {
		t.Helper()
		w.vars["EXIT_CODE"], w.vars["EXIT_STATUS"], w.vars["SERVICE_RESULT"] = "exited", code, "exit-code"
		if code == "0" {
			w.vars["SERVICE_RESULT"] = "success"
		}
		if err := w.main(t, contract.Command{Op: contract.OpCleanup, Pod: "p", Container: "app"}); err != nil {
			t.Fatal(err)
		}
		r, _ := podstate.LoadRun(w.env.StateDir, "p", "app")
		return r
	}
	run()
	fi, err := os.Stat(c.Message)
	if err != nil || fi.Size() != 0 || fi.Mode().Perm() != 0o666 {
		t.Fatalf("message file before the run: %v %v", fi, err)
	}
	_ = os.WriteFile(c.Message, []byte("disk full\n"+strings.Repeat("x", 5000)), 0o666)
	r := end("3")
	if !strings.HasPrefix(r.Message, "disk full\n") || len(r.Message) != 4096 {
		t.Errorf("message: %d bytes %.20q, want the file's first 4096", len(r.Message), r.Message)
	}
	run()
	if b, _ := os.ReadFile(c.Message); len(b) != 0 {
		t.Errorf("the next run's file holds %q", b)
	}
	var log strings.Builder
	for i := 1; i <= 100; i++ {
		fmt.Fprintf(&log, "2026-12-04T07:00:00.%09dZ stdout F line %d\n", i, i)
	}
	_ = os.WriteFile(c.Log, []byte(log.String()), 0o600)
	if r := end("1"); r.Message != "" {
		t.Errorf("policy File took the log: %q", r.Message)
	}

	c.MessageFromLog = true
	w = newWorld(t, runtime1(c))
	run()
	_ = os.WriteFile(c.Log, []byte(log.String()), 0o600) // run rotated it
	r = end("1")
	if !strings.HasPrefix(r.Message, "line 21\n") || !strings.HasSuffix(r.Message, "line 100\n") {
		t.Errorf("fallback to the log: %q, want lines 21 to 100", r.Message)
	}
	run()
	_ = os.WriteFile(c.Log, []byte(log.String()), 0o600)
	if r := end("0"); r.Message != "" {
		t.Errorf("a run that succeeded took its log: %q", r.Message)
	}
	run()
	_ = os.WriteFile(c.Log, []byte(strings.Repeat("2026-12-04T07:00:00Z stderr F "+strings.Repeat("y", 99)+"\n", 30)), 0o600)
	if r := end("2"); len(r.Message) != 2048 {
		t.Errorf("fallback kept %d bytes, want the last 2048", len(r.Message))
	}
}

// The deadline unit's clean-up fails the pod when systemd ended the unit for
// its runtime (activeDeadlineSeconds): recorded, an event, the infra
// stopped; a stop of the pod's own (down) does nothing.
func TestDeadline(t *testing.T) {
	w := newWorld(t, runtime1(contract.Container{Name: "app", Podman: "p_app", Kind: contract.KindApp, Restart: "no"}))
	w.vars["SERVICE_RESULT"] = "success"
	if err := w.main(t, contract.Command{Op: contract.OpDeadline, Pod: "p"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := podstate.DeadlineExceeded(w.env.StateDir, "p"); ok || len(w.sd.stopped) != 0 {
		t.Fatalf("a stop on request failed the pod: stopped %v", w.sd.stopped)
	}
	w.vars["SERVICE_RESULT"] = "timeout"
	if err := w.main(t, contract.Command{Op: contract.OpDeadline, Pod: "p"}); err != nil {
		t.Fatal(err)
	}
	at, ok := podstate.DeadlineExceeded(w.env.StateDir, "p")
	if !ok || !at.Equal(t0) {
		t.Errorf("deadline record: %v %v", at, ok)
	}
	if strings.Join(w.sd.stopped, " ") != "podunit-p.service" {
		t.Errorf("stopped %v, want the infra", w.sd.stopped)
	}
	if ev := strings.Join(events(t, w), "\n"); !strings.Contains(ev, "DeadlineExceeded: Pod was active on the node longer than the specified deadline") {
		t.Errorf("events: %s", ev)
	}

	// a pod that completed before its deadline stays as it ended
	w = newWorld(t, runtime1(contract.Container{Name: "app", Podman: "p_app", Kind: contract.KindApp, Restart: "no"}))
	_ = podstate.SaveRun(w.env.StateDir, "p", "app", podstate.Run{Finished: t0.Add(-time.Minute), Result: "success"})
	w.vars["SERVICE_RESULT"] = "timeout"
	if err := w.main(t, contract.Command{Op: contract.OpDeadline, Pod: "p"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := podstate.DeadlineExceeded(w.env.StateDir, "p"); ok || len(w.sd.stopped) != 0 {
		t.Errorf("a completed pod failed its deadline: stopped %v", w.sd.stopped)
	}
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// A run the prober killed (its record says which probe) comes back as the
// kubelet brings it back: under any restartPolicy but Never, whatever its
// exit code. Where systemd's Restart= would not start it again (OnFailure,
// a container that exits 0 on SIGTERM), its clean-up queues its unit's
// start, and the pod does not complete; not while the pod goes down. The
// next run's start forgets the kill.
func TestCleanupRestartsAProbeKilledRun(t *testing.T) {
	for _, c := range []struct {
		name, restart, status string
		stopRequest           bool
		wantStart             bool
		wantComplete          bool
	}{
		{"OnFailure, exit 0", "on-failure", "0", false, true, false},
		{"OnFailure, exit 143 (systemd restarts it)", "on-failure", "143", false, false, false},
		{"Always (systemd restarts it)", "always", "0", false, false, false},
		{"Never", "no", "0", false, false, true},
		{"OnFailure, pod going down", "on-failure", "0", true, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, runtime1(contract.Container{Name: "app", Podman: "p_app", Kind: contract.KindApp, Restart: c.restart}))
			if c.stopRequest {
				if err := podstate.WriteStopRequest(w.env.StateDir, "p", time.Second); err != nil {
					t.Fatal(err)
				}
			}
			_ = podstate.SaveRun(w.env.StateDir, "p", "app", podstate.Run{Started: t0.Add(-time.Minute)})
			_ = podstate.WriteKill(w.env.StateDir, "p", "app", t0.Add(-time.Minute), hooks.Liveness)
			w.vars["EXIT_CODE"], w.vars["EXIT_STATUS"], w.vars["SERVICE_RESULT"] = "exited", c.status, "success"
			if c.status != "0" {
				w.vars["SERVICE_RESULT"] = "exit-code"
			}
			if err := w.main(t, contract.Command{Op: contract.OpCleanup, Pod: "p", Container: "app"}); err != nil {
				t.Fatal(err)
			}
			if got := len(w.sd.startedUnits) == 1 && w.sd.startedUnits[0] == "podunit-p-app.service"; got != c.wantStart || len(w.sd.startedUnits) > 1 {
				t.Errorf("queued starts %v, want the unit's: %v", w.sd.startedUnits, c.wantStart)
			}
			if _, ok := podstate.LoadCompletion(w.env.StateDir, "p"); ok != c.wantComplete {
				t.Errorf("pod completed: %v, want %v", ok, c.wantComplete)
			}
		})
	}
	// a run that ended on its own under OnFailure with 0 is done with (the
	// prober killed an earlier run)
	w := newWorld(t, runtime1(contract.Container{Name: "app", Podman: "p_app", Kind: contract.KindApp, Restart: "on-failure"}))
	_ = podstate.SaveRun(w.env.StateDir, "p", "app", podstate.Run{Started: t0.Add(-time.Minute)})
	_ = podstate.WriteKill(w.env.StateDir, "p", "app", t0.Add(-time.Hour), hooks.Liveness)
	w.vars["EXIT_CODE"], w.vars["EXIT_STATUS"], w.vars["SERVICE_RESULT"] = "exited", "0", "success"
	if err := w.main(t, contract.Command{Op: contract.OpCleanup, Pod: "p", Container: "app"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := podstate.LoadCompletion(w.env.StateDir, "p"); len(w.sd.startedUnits) != 0 || !ok {
		t.Errorf("a run that succeeded on its own: starts %v, completed %v", w.sd.startedUnits, ok)
	}
	// the next start forgets the kill
	w = newWorld(t, runtime1(contract.Container{Name: "app", Podman: "p_app", Kind: contract.KindApp, Restart: "on-failure"}))
	_ = podstate.SaveRun(w.env.StateDir, "p", "app", podstate.Run{Finished: t0, Killed: hooks.Startup})
	if err := w.main(t, contract.Command{Op: contract.OpRun, Pod: "p", Container: "app"}); err != nil && err != errExecd {
		t.Fatalf("run: %v", err)
	}
	if r, _ := podstate.LoadRun(w.env.StateDir, "p", "app"); r.Killed != "" || r.Restarts != 1 {
		t.Errorf("run record after the restart: %+v", r)
	}
}
