package helper

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/podlog"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/units/unitdef"
)

// run is ExecStart: it starts the container from its spec. An app or sidecar
// container first waits out its crash-loop back-off, then has its limits
// taken off, then becomes podman (exec, so conmon reports to systemd as
// before). An init container runs to completion here, retried with back-off.
func (t *task) run(ctx context.Context) error {
	if t.c.Kind != contract.KindInfra {
		if err := t.awaitFirewall(ctx); err != nil {
			return err
		}
	}
	switch t.c.Kind {
	case contract.KindInit:
		return t.runInit(ctx)
	case contract.KindInfra:
		if err := t.paceInfra(ctx); err != nil {
			return err
		}
	case contract.KindApp, contract.KindSidecar:
		if err := t.waitBackOff(ctx); err != nil {
			return err
		}
		if len(t.c.Limits) > 0 {
			if err := t.setLimits(ctx, true); err != nil {
				return fmt.Errorf("taking resource limits off before the start: %w", err)
			}
		}
	}
	if err := t.clearStale(ctx); err != nil {
		return err
	}
	if err := t.fillStatus(ctx); err != nil {
		return err
	}
	if err := t.fillSubPaths(ctx); err != nil {
		return err
	}
	if err := t.writeHosts(ctx); err != nil {
		return err
	}
	if err := t.newLog(); err != nil {
		return err
	}
	if err := t.resetMessage(); err != nil {
		return err
	}
	if done, err := t.launch(ctx); done {
		return err
	}
	argv, env := t.podman()
	if !t.c.RunRecordsStart() {
		return t.Exec(t.rt.Podman, argv, env)
	}
	// No post-start step follows: podman run starts the detached container
	// (telling systemd conmon's pid and that it is ready) and ends, then
	// the start is finished here.
	code, err := t.Run(ctx, t.rt.Podman, argv, env)
	if err != nil {
		return err
	}
	if code != 0 {
		return &ErrExit{Code: code}
	}
	return t.finishStart(ctx)
}

// fillStatus puts the downward API's status values (the pod's and the host's
// addresses) where translation left references to them: in env values and in
// the arguments $(VAR) expansion carried them into. The pod's addresses are
// read from its infra's network namespace, which exists by now: containers
// start after the infra. A pod on the host's network has the host's.
func (t *task) fillStatus(ctx context.Context) error {
	if !t.c.UsesStatus() {
		return nil
	}
	host := t.HostIPs()
	pod := host
	if !t.rt.HostNetwork {
		n, err := t.podNet(ctx)
		if err != nil {
			return fmt.Errorf("reading the pod's address (status.podIP): %w", err)
		}
		pod = n.ips
	}
	vals := map[string]string{
		contract.FieldHostIP: host[0], contract.FieldHostIPs: strings.Join(host, ","),
		contract.FieldPodIP: pod[0], contract.FieldPodIPs: strings.Join(pod, ","),
	}
	t.status = vals
	c := *t.c
	c.Args = make([]string, len(t.c.Args))
	for i, a := range t.c.Args {
		c.Args[i] = contract.FillStatus(a, vals)
	}
	c.SubPaths = make([]contract.SubPath, len(t.c.SubPaths))
	for i, sp := range t.c.SubPaths {
		sp.Path = contract.FillStatus(sp.Path, vals) // subPathExpr may use them
		c.SubPaths[i] = sp
	}
	c.Env = make([]contract.EnvVar, len(t.c.Env))
	for i, e := range t.c.Env {
		e.Value = contract.FillStatus(e.Value, vals)
		c.Env[i] = e
	}
	t.c = &c
	return nil
}

// podNetwork is what a container's start reads of the pod's network: its
// addresses and podman's hosts file of the infra.
type podNetwork struct {
	pid       int // the infra's process
	ips       []string
	hostsFile string
}

// podNet reads the pod's network once, from its infra's network namespace,
// which exists by now: containers start after the infra.
func (t *task) podNet(ctx context.Context) (*podNetwork, error) {
	if t.net != nil {
		return t.net, nil
	}
	eng, err := t.engine(ctx)
	if err != nil {
		return nil, err
	}
	pid, hostsFile, err := eng.InfraNet(ctx, t.rt.Infra)
	if err == nil && pid <= 0 {
		err = fmt.Errorf("infra container %s is not running", t.rt.Infra)
	}
	if err != nil {
		return nil, err
	}
	ips, err := t.PodIPs(pid)
	if err != nil {
		return nil, err
	}
	t.net = &podNetwork{pid: pid, ips: ips, hostsFile: hostsFile}
	return t.net, nil
}

// clearStale makes room for the container: a container of its name left by an
// earlier run of this pod (its conmon killed before --rm could act) is
// removed; one that is not the pod's own is never touched, and the start fails
// naming it.
func (t *task) clearStale(ctx context.Context) error {
	eng, err := t.engine(ctx)
	if err != nil {
		// Without the service, podman run itself (which needs none) fails on a
		// name in use: it never replaces a container.
		fmt.Fprintf(t.Out, "not checking for a stale container %s: %v\n", t.c.Podman, err)
		return nil
	}
	labels, ok, err := eng.ContainerLabels(ctx, t.c.Podman)
	if err != nil || !ok {
		return err
	}
	if labels[unitdef.LabelPod] != t.rt.Pod {
		t.event("Warning", "Failed", "podman container %s exists and was not created by podunit for this pod: not starting (rename or remove it)", t.c.Podman)
		return &ErrExit{Code: 1, Msg: fmt.Sprintf("podman container %s exists and was not created by podunit for pod %q; rename or remove it", t.c.Podman, t.rt.Pod)}
	}
	if t.c.Kind == contract.KindInfra {
		if err := t.awaitDependents(ctx, eng); err != nil {
			return err
		}
	}
	return eng.RemoveContainer(ctx, t.c.Podman)
}

// paceInfra keeps an infra that systemd restarts again and again (its
// podman run failing: a host port taken, podman broken) to one try every
// unitdef.InfraRetry, as the kubelet retries a sandbox, rather than systemd's
// one a second, whose start limit would give the pod up after five. A start
// that is not systemd's own restart (the first, one asked for) goes at once,
// and so does the restart of a sandbox started more than unitdef.InfraRetry
// ago (one that dies sooner waits the rest of it). systemd's restarts
// are told as the kubelet tells a sandbox it makes again.
func (t *task) paceInfra(ctx context.Context) error {
	now := t.Now()
	var last time.Time
	if err := podstate.UpdateRun(t.StateDir, t.rt.Pod, "", func(r *podstate.Run) { last, r.LastStarted = r.LastStarted, now }); err != nil {
		return err
	}
	if last.IsZero() {
		return nil // the first start
	}
	sd, err := t.Systemd(ctx)
	if err != nil {
		return nil // no way to tell: not held back
	}
	n, err := sd.Restarts(ctx, unitdef.InfraUnitName(t.rt.Pod))
	sd.Close()
	if err != nil || n == 0 {
		return nil
	}
	t.event("Normal", "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.")
	since := now.Sub(last)
	if since >= unitdef.InfraRetry {
		return nil
	}
	wait := unitdef.InfraRetry - since
	t.event("Warning", "BackOff", "Back-off %s making the pod's sandbox again (the last try was %s ago)", roundSeconds(wait), since.Round(100*time.Millisecond))
	if err := t.Sleep(ctx, wait); err != nil {
		return &ErrExit{Code: 143, Msg: "stopped while waiting to make the sandbox again"}
	}
	return podstate.UpdateRun(t.StateDir, t.rt.Pod, "", func(r *podstate.Run) { r.LastStarted = t.Now() })
}

// joined names the pod's containers (podman's label) other than the infra,
// which joined its namespaces: podman removes no infra while one exists.
func (t *task) joined(ctx context.Context, eng Engine) ([]string, error) {
	names, err := eng.Containers(ctx, unitdef.LabelPod, t.rt.Pod)
	return slices.DeleteFunc(names, func(n string) bool { return n == t.rt.Infra }), err
}

// staleInterval is how often a restarting infra looks for the old sandbox's
// containers.
const staleInterval = 250 * time.Millisecond

// awaitDependents waits, before the old infra container goes, for the pod's
// other containers: when the sandbox died on its own (its process killed),
// systemd stops them while it restarts the infra, each within its grace
// period, and podman removes no container that others depend on. Past
// unitdef.StaleWait, those left are leftovers no unit stops: being the pod's
// own (their label), they are removed.
func (t *task) awaitDependents(ctx context.Context, eng Engine) error {
	deadline := t.Now().Add(unitdef.StaleWait(t.rt.Grace))
	told := false
	for {
		names, err := t.joined(ctx, eng)
		if err != nil {
			return err
		}
		if len(names) == 0 {
			return nil
		}
		if !t.Now().Before(deadline) {
			for _, n := range names {
				fmt.Fprintf(t.Out, "removing %s, left by the old sandbox after %s\n", n, unitdef.StaleWait(t.rt.Grace))
				if err := eng.RemoveContainer(ctx, n); err != nil {
					return err
				}
			}
			return nil
		}
		if !told {
			fmt.Fprintf(t.Out, "waiting for %s to stop before the pod's sandbox is made again\n", strings.Join(names, ", "))
			told = true
		}
		if err := t.Sleep(ctx, staleInterval); err != nil {
			return &ErrExit{Code: 143, Msg: "stopped while waiting for the old sandbox's containers"}
		}
	}
}

// podman is the container's podman command line and environment: the
// container's variables are in the environment, where "--env NAME" finds them.
func (t *task) podman() (argv, env []string) {
	argv = append([]string{t.rt.Podman}, t.c.Args...)
	vals := t.envValues()
	for _, kv := range t.Environ() {
		if name, _, _ := strings.Cut(kv, "="); !hasKey(vals, name) {
			env = append(env, kv)
		}
	}
	names := make([]string, 0, len(vals))
	for n := range vals {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		env = append(env, n+"="+vals[n])
	}
	return argv, env
}

// envValues are the container's variables by name: the last definition
// wins, as in Kubernetes.
func (t *task) envValues() map[string]string {
	vals := map[string]string{}
	for _, e := range t.c.Env {
		vals[e.Name] = e.Value
	}
	return vals
}

// waitBackOff waits before a restart as the kubelet does (CrashLoopBackOff);
// `podunit ps` shows the wait while it lasts. A stop of the unit ends it.
func (t *task) waitBackOff(ctx context.Context) error {
	var wait time.Duration
	var delay time.Duration
	err := podstate.UpdateRun(t.StateDir, t.rt.Pod, t.c.Name, func(r *podstate.Run) {
		r.Started = time.Time{}
		if !r.Finished.IsZero() {
			r.Restarts++ // a run ended before this one
		}
		r.Killed = ""
		if r.Stopped {
			// stopped on request (systemctl stop, restart): no back-off
			r.Stopped, r.Finished = false, time.Time{}
		}
		delay = r.BackOff
		wait = NextStart(r, t.Now())
		if wait > 0 {
			r.WaitingUntil, r.WaitingFor = t.Now().Add(wait), delay
		}
	})
	if err != nil || wait <= 0 {
		return err
	}
	t.event("Warning", "BackOff", "Back-off %s restarting failed container %s", roundSeconds(delay), t.c.Name)
	if err := t.Sleep(ctx, wait); err != nil {
		return &ErrExit{Code: 143, Msg: "stopped during the back-off"}
	}
	return podstate.UpdateRun(t.StateDir, t.rt.Pod, t.c.Name, func(r *podstate.Run) { r.WaitingUntil, r.WaitingFor = time.Time{}, 0 })
}

func roundSeconds(d time.Duration) time.Duration { return d.Round(time.Second) }

// setLimits puts the container's limits on its unit, or takes them off.
func (t *task) setLimits(ctx context.Context, clear bool) error {
	var props []unitdef.Property
	for _, l := range t.c.Limits {
		v := l.Value
		if clear {
			v = unitdef.NoLimit[l.Name]
		}
		props = append(props, unitdef.Property{Name: l.Name, Value: v})
	}
	sd, err := t.Systemd(ctx)
	if err != nil {
		return err
	}
	defer sd.Close()
	return sd.SetLimits(ctx, unitdef.ContainerUnitName(t.rt.Pod, t.c.Name), props)
}

// runInit runs an init container to completion, in the foreground, as many
// times as it takes when the pod's restartPolicy allows retries: the kubelet's
// back-off between attempts (the first retry at once, then 10 s doubling to 5
// min). A stop of the unit (ctx) ends the loop; the container itself is
// stopped by ExecStop.
func (t *task) runInit(ctx context.Context) error {
	if err := t.clearStale(ctx); err != nil {
		return err
	}
	if err := t.fillStatus(ctx); err != nil {
		return err
	}
	if err := t.fillSubPaths(ctx); err != nil {
		return err
	}
	if err := t.writeHosts(ctx); err != nil {
		return err
	}
	argv, env := t.podman()
	var backOff time.Duration // the wait before the next retry
	for attempt := 1; ; attempt++ {
		if err := t.newLog(); err != nil {
			return err
		}
		if err := t.resetMessage(); err != nil {
			return err
		}
		started := t.Now()
		if err := podstate.UpdateRun(t.StateDir, t.rt.Pod, t.c.Name, func(r *podstate.Run) {
			r.Started, r.WaitingUntil, r.WaitingFor = started, time.Time{}, 0
		}); err != nil {
			return err
		}
		t.event("Normal", "Started", "Started init container %s (attempt %d)", t.c.Name, attempt)
		code, err := t.Run(ctx, t.rt.Podman, argv, env)
		if ctx.Err() != nil {
			return &ErrExit{Code: 143, Msg: "stopped"}
		}
		if err != nil {
			return err
		}
		// The run is recorded as the kubelet keeps an init container's
		// status: its end, its message, and while it waits to run again,
		// its restarts and the back-off (Init:CrashLoopBackOff).
		retry := code != 0 && t.c.Retry
		now := t.Now()
		if err := podstate.UpdateRun(t.StateDir, t.rt.Pod, t.c.Name, func(r *podstate.Run) {
			r.LastStarted, r.Started, r.Finished, r.ExitCode = started, time.Time{}, now, code
			r.Result, r.Message = "success", t.message(code != 0)
			if code != 0 {
				r.Result = "exit-code"
			}
			if retry {
				r.Retries++
				if backOff > 0 {
					r.WaitingUntil, r.WaitingFor = now.Add(backOff), backOff
				}
			}
		}); err != nil {
			return err
		}
		if code == 0 {
			t.event("Normal", "Completed", "Init container %s completed", t.c.Name)
			return nil
		}
		if !retry {
			t.event("Warning", "Failed", "Init container %s exited with status %d; restartPolicy Never: the pod has failed", t.c.Name, code)
			if err := t.initFailed(ctx); err != nil {
				fmt.Fprintf(t.Out, "letting the failed pod's sandbox go: %v\n", err)
			}
			return &ErrExit{Code: code}
		}
		if backOff == 0 {
			// the kubelet's first restart is at once (its back-off for the
			// container starts then)
			t.event("Warning", "Failed", "Init container %s exited with status %d; restarting it", t.c.Name, code)
			backOff = InitialBackOff
			continue
		}
		t.event("Warning", "BackOff", "Init container %s exited with status %d; back-off %s before restarting it", t.c.Name, code, backOff)
		if err := t.Sleep(ctx, backOff); err != nil {
			return &ErrExit{Code: 143, Msg: "stopped"}
		}
		if backOff *= 2; backOff > MaxBackOff {
			backOff = MaxBackOff
		}
	}
}

// newLog makes room for the output of a new run: the last run's becomes the
// previous one (logs --previous).
func (t *task) newLog() error {
	if t.c.Log == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(t.c.Log), 0o700); err != nil {
		return fmt.Errorf("the container's log directory: %w", err)
	}
	if err := podlog.Rotate(t.c.Log); err != nil {
		return fmt.Errorf("keeping the previous run's log: %w", err)
	}
	return nil
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }
