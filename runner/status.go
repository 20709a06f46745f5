package runner

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/units"
	"github.com/podunit/podunit/units/sdbus"
)

// PodStatus is a pod as `podunit ps` reports it, in Kubernetes' terms.
type PodStatus struct {
	Name       string            `json:"name"`
	Namespace  string            `json:"namespace"`
	Labels     map[string]string `json:"labels,omitempty"`
	Phase      string            `json:"phase"` // Pending, Running, Succeeded, Failed, Unknown; Terminating while stopping
	Ready      int               `json:"ready"`
	Total      int               `json:"total"` // app containers and sidecars
	Restarts   int               `json:"restarts"`
	Created    time.Time         `json:"created"`
	Unit       string            `json:"unit"`
	Slice      string            `json:"slice"`
	Containers []ContainerStatus `json:"containers"`
	// Persistent: enabled, it comes back when the user's manager starts.
	Persistent bool `json:"persistent"`
	// Reason and Message explain a Pending pod that podunit holds back
	// (SchedulingGated).
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	// Prober is the state of the pod's prober unit when it is not running
	// as it should ("activating (auto-restart)"): its probes are not
	// being run. "" when it runs, or the pod has none.
	Prober string `json:"prober,omitempty"`
}

// ContainerStatus is one container's state, read from its unit.
type ContainerStatus struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"`   // init, sidecar, app
	State    string `json:"state"`  // Waiting, Running, Terminated
	Reason   string `json:"reason"` // e.g. ContainerCreating, Completed, Error, OOMKilled
	ExitCode *int   `json:"exitCode,omitempty"`
	Restarts int    `json:"restartCount"`
	Ready    bool   `json:"ready"`
	// Message explains a Waiting state (the back-off and the time left).
	Message string `json:"message,omitempty"`
	// LastExitCode is how the previous run ended, once one has.
	LastExitCode *int `json:"lastExitCode,omitempty"`
	// ExitMessage is the termination message of the run that ended last
	// (the Terminated state's, or the last state's).
	ExitMessage string `json:"exitMessage,omitempty"`
	Unit        string `json:"unit"`
	Podman      string `json:"podmanName"`
}

// Status reports every pod podunit knows of: those it has a record of, and any
// whose units are loaded without one.
func (r *Runner) Status(ctx context.Context) ([]PodStatus, error) {
	sts, err := r.Units.List(ctx, units.Prefix+"-*")
	if err != nil {
		return nil, err
	}
	byUnit := map[string]sdbus.UnitState{}
	pods := map[string]bool{}
	for _, s := range sts {
		if s.LoadState != "loaded" {
			continue
		}
		byUnit[s.Name] = s
		if p, _, ok := units.ParseUnitName(s.Name); ok {
			pods[p] = true
		}
	}
	recs, err := r.records()
	if err != nil {
		return nil, err
	}
	known := map[string]*record{}
	for _, rec := range recs {
		known[rec.Pod.Name] = rec
		pods[rec.Pod.Name] = true
	}
	var names []string
	for n := range pods {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []PodStatus
	for _, n := range names {
		n := n
		runs := func(c string) podstate.Run { run, _ := podstate.LoadRun(r.StateDir, n, c); return run }
		_, deleting := podstate.ReadStopRequest(r.StateDir, n)
		ps := podStatus(n, known[n], byUnit, deleting, r.readiness(n, known[n]), runs)
		if _, ok := podstate.DeadlineExceeded(r.StateDir, n); ok && known[n] != nil {
			ps = deadlineFailed(ps, runs)
		} else if done, ok := podstate.LoadCompletion(r.StateDir, n); ok && known[n] != nil {
			ps = completed(ps, done, runs, deleting)
		}
		if known[n] != nil && !deleting && ps.Phase != "Terminating" && (ps.Phase == "Unknown" || hasUnknown(ps)) && podstate.PodBusy(r.StateDir, n) {
			// up is making it (down, which takes the same lock, has left
			// its stop request)
			_, loaded := byUnit[ps.Unit]
			ps = beingCreated(ps, loaded)
		}
		out = append(out, ps)
	}
	for _, g := range r.gatedStatus() {
		if !pods[g.Name] {
			out = append(out, g)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

type containerRef struct{ name, kind string }

// hasUnknown tells whether a container of the pod has no unit.
func hasUnknown(ps PodStatus) bool {
	for _, c := range ps.Containers {
		if c.State == "Waiting" && c.Reason == "Unknown" {
			return true
		}
	}
	return false
}

// beingCreated is the status of a pod that up is making (recorded, its
// units not all there yet): Pending, its containers without a unit waiting
// as the kubelet's are before they are created, ContainerCreating, or
// PodInitializing in a pod with init containers (none is "Unknown", which
// get would show as Init:Unknown). infraLoaded: its infra's unit is there.
func beingCreated(ps PodStatus, infraLoaded bool) PodStatus {
	reason := "ContainerCreating"
	for _, c := range ps.Containers {
		if c.Kind == units.KindInit || c.Kind == units.KindSidecar {
			reason = "PodInitializing"
		}
	}
	if ps.Phase == "Unknown" {
		ps.Phase = "Pending"
	}
	ps.Containers = slices.Clone(ps.Containers)
	for i := range ps.Containers {
		c := &ps.Containers[i]
		if !infraLoaded || (c.State == "Waiting" && c.Reason == "Unknown") {
			c.State, c.Reason = "Waiting", reason
		}
	}
	return ps
}

// readiness reports, for containers with a readiness probe, the prober's last
// verdict; containers without one are ready while running.
func (r *Runner) readiness(pod string, rec *record) func(container string) bool {
	probed := map[string]bool{}
	if rec != nil {
		for _, c := range append(append([]corev1.Container{}, rec.Pod.Spec.InitContainers...), rec.Pod.Spec.Containers...) {
			if c.ReadinessProbe != nil || c.StartupProbe != nil {
				probed[c.Name] = true
			}
		}
	}
	return func(c string) bool {
		if !probed[c] {
			return true
		}
		return podstate.Ready(r.StateDir, pod, c)
	}
}

// deleting says `podunit down` is stopping the pod (its stop request).
func podStatus(name string, rec *record, byUnit map[string]sdbus.UnitState, deleting bool, ready func(string) bool, runs func(string) podstate.Run) PodStatus {
	ps := PodStatus{Name: name, Unit: units.InfraUnitName(name), Slice: units.SliceName(name)}
	var containers []containerRef
	if rec != nil {
		ps.Namespace, ps.Labels, ps.Created = rec.Pod.Namespace, rec.Pod.Labels, rec.Created
		for _, c := range rec.Pod.Spec.InitContainers {
			kind := units.KindInit
			if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
				kind = units.KindSidecar
			}
			containers = append(containers, containerRef{c.Name, kind})
		}
		for _, c := range rec.Pod.Spec.Containers {
			containers = append(containers, containerRef{c.Name, units.KindApp})
		}
		for _, c := range rec.Pod.Spec.EphemeralContainers {
			containers = append(containers, containerRef{c.Name, units.KindEphemeral})
		}
	} else {
		var names []string
		for u := range byUnit {
			if p, c, ok := units.ParseUnitName(u); ok && p == name && c != "" {
				names = append(names, c)
			}
		}
		sort.Strings(names)
		for _, n := range names {
			containers = append(containers, containerRef{n, units.KindApp})
		}
	}
	policy := corev1.RestartPolicyAlways
	if rec != nil && rec.Pod.Spec.RestartPolicy != "" {
		policy = rec.Pod.Spec.RestartPolicy
	}
	initPending, initFailed := false, false
	// the kubelet's counts (getPhase): a container waiting to start again
	// after a run (restarting, or in back-off) counts as stopped
	running, waiting, stopped, succeeded, unknown := 0, 0, 0, 0, 0
	withInit := slices.ContainsFunc(containers, func(c containerRef) bool { return c.kind == units.KindInit || c.kind == units.KindSidecar })
	for _, c := range containers {
		run := runs(c.name)
		cs := containerStatus(name, c, byUnit, run, time.Now())
		if withInit && c.kind != units.KindEphemeral && cs.Reason == "ContainerCreating" && cs.Restarts == 0 && cs.LastExitCode == nil {
			// the kubelet's default waiting reason in a pod with init
			// containers, until a container first runs (get shows an
			// init container's as Init:N/M)
			cs.Reason = "PodInitializing"
		}
		if cs.Ready && !ready(c.name) {
			cs.Ready = false
		}
		ps.Restarts += cs.Restarts
		ps.Containers = append(ps.Containers, cs)
		if c.kind == units.KindInit {
			switch {
			case cs.State == "Terminated" && cs.Reason != "Completed":
				initFailed = true
			case cs.State != "Terminated":
				initPending = true
			}
			continue
		}
		if c.kind == units.KindEphemeral {
			continue // not part of the pod's readiness or phase, as in Kubernetes
		}
		ps.Total++
		if cs.Ready {
			ps.Ready++
		}
		if c.kind == units.KindSidecar {
			continue
		}
		switch {
		case cs.State == "Running":
			running++
		case cs.State == "Terminated":
			stopped++
			// a run a probe killed comes back, whatever its exit code,
			// under any policy but Never (its clean-up starts it again)
			comesBack := run.Killed != "" && policy != corev1.RestartPolicyNever
			if cs.ExitCode != nil && *cs.ExitCode == 0 && !comesBack {
				succeeded++
			}
		case cs.State == "Waiting" && cs.Reason == "Unknown":
			unknown++
		case cs.State == "Waiting" && (cs.Restarts > 0 || cs.LastExitCode != nil):
			stopped++
		default:
			waiting++
		}
	}
	if u, ok := byUnit[units.ProberUnitName(name)]; ok && (u.ActiveState != "active" || u.SubState != "running") {
		ps.Prober = u.ActiveState + " (" + u.SubState + ")"
	}
	infra, infraLoaded := byUnit[ps.Unit]
	switch {
	case deleting || (infraLoaded && infra.Job == "stop"):
		// Being deleted: by podunit down, or by a stop of the pod's infra
		// or slice. A container that stops on its own (its process ended,
		// a liveness probe killed it), or that systemd stops because the
		// sandbox died, terminates no pod.
		ps.Phase = "Terminating"
	case !infraLoaded || rec == nil:
		ps.Phase = "Unknown"
	case infra.ActiveState == "activating" && infra.NRestarts == 0:
		// starting (systemd's restart of a sandbox that died is not: the
		// pod's phase is its containers', as the kubelet keeps it while it
		// makes the sandbox again)
		ps.Phase = "Pending"
	case infra.ActiveState != "active" && infra.ActiveState != "activating":
		ps.Phase = "Failed"
	case initFailed:
		ps.Phase = "Failed"
	case initPending:
		ps.Phase = "Pending"
	case waiting > 0:
		ps.Phase = "Pending"
	case running > 0 && unknown == 0:
		ps.Phase = "Running"
	case running == 0 && stopped > 0 && unknown == 0:
		switch {
		case policy == corev1.RestartPolicyAlways:
			ps.Phase = "Running" // every container is on its way back
		case stopped == succeeded:
			ps.Phase = "Succeeded"
		case policy == corev1.RestartPolicyNever:
			ps.Phase = "Failed"
		default:
			ps.Phase = "Running" // OnFailure: the failed ones come back
		}
	case unknown > 0:
		ps.Phase = "Unknown"
	default:
		ps.Phase = "Pending"
	}
	return ps
}

func containerStatus(pod string, c containerRef, byUnit map[string]sdbus.UnitState, run podstate.Run, now time.Time) ContainerStatus {
	cs := ContainerStatus{Name: c.name, Kind: c.kind, Unit: units.ContainerUnitName(pod, c.name), Podman: units.ContainerName(pod, c.name)}
	u, ok := byUnit[cs.Unit]
	if !ok && !run.Finished.IsZero() && c.kind == units.KindEphemeral {
		// a debug container that ended well: nothing refers to its unit,
		// and systemd unloaded it; its cleanup recorded how it ended
		return endedAsRecorded(cs, run)
	}
	if !ok {
		cs.State, cs.Reason = "Waiting", "Unknown"
		return cs
	}
	// the helper's count, or systemd's for a pod of an earlier podunit
	cs.Restarts = max(int(u.NRestarts), run.Restarts) + run.Retries
	if !run.Finished.IsZero() && (c.kind != units.KindInit || run.Retries > 0) {
		code := run.ExitCode
		cs.LastExitCode = &code
	}
	cs.ExitMessage = run.Message
	if u.ActiveState == "activating" && run.WaitingUntil.After(now) {
		// The run helper waits out the kubelet's back-off before the start
		// (an init container's, between its runs). The restart it waits
		// for is counted already (by systemd as it started the unit, by
		// the helper as it began the wait); the kubelet counts it when the
		// container starts.
		cs.Restarts = max(cs.Restarts-1, 0)
		cs.State, cs.Reason = "Waiting", "CrashLoopBackOff"
		cs.Message = fmt.Sprintf("back-off %s restarting failed container, %s left",
			run.WaitingFor, run.WaitingUntil.Sub(now).Round(time.Second))
		return cs
	}
	switch u.ActiveState {
	case "active", "reloading":
		if u.SubState == "exited" { // an init container that completed
			zero := 0
			cs.State, cs.Reason, cs.ExitCode = "Terminated", "Completed", &zero
			return cs
		}
		cs.State, cs.Ready = "Running", true
	case "deactivating":
		if u.Job == "" && run.Started.IsZero() && !run.Finished.IsZero() && !run.Finished.Before(u.ActiveEnter) {
			// its process ended on its own and its clean-up recorded the
			// run's end (its message too); the unit is still on its way
			// out: terminated
			return terminated(cs, u)
		}
		// stopped on request, or its end not recorded yet
		cs.State, cs.Reason = "Running", "Terminating"
	case "activating":
		switch {
		case u.SubState == "auto-restart":
			cs.State, cs.Reason = "Waiting", "CrashLoopBackOff"
		case c.kind == units.KindInit && u.SubState == "start":
			cs.State = "Running" // an init container at work
		case strings.HasPrefix(u.SubState, "start"):
			cs.State, cs.Reason = "Waiting", "ContainerCreating"
		default:
			cs.State, cs.Reason = "Waiting", u.SubState
		}
	default: // inactive, failed
		if u.ActiveEnter.IsZero() && u.ActiveState == "inactive" {
			if !run.Finished.IsZero() {
				// it ran, and ended before its unit became active (a
				// process quicker than its start's notification): as its
				// clean-up recorded it
				return endedAsRecorded(cs, run)
			}
			// never started: waiting for the init containers before it
			cs.State, cs.Reason = "Waiting", "PodInitializing"
			return cs
		}
		return terminated(cs, u)
	}
	return cs
}

// terminated is a container whose process ended, as its unit tells it.
func terminated(cs ContainerStatus, u sdbus.UnitState) ContainerStatus {
	cs.State = "Terminated"
	code := int(u.ExecMainStatus)
	if u.ExecMainCode == 2 || u.ExecMainCode == 3 { // killed or dumped: by signal
		code = 128 + int(u.ExecMainStatus)
	}
	cs.ExitCode = &code
	switch {
	case u.Result == "oom-kill":
		cs.Reason = "OOMKilled"
	case code == 0 && (u.Result == "success" || u.Result == ""):
		cs.Reason = "Completed"
	default:
		cs.Reason = "Error"
	}
	return cs
}

// Description is what `podunit describe` shows of a pod.
type Description struct {
	Status PodStatus
	Pod    *corev1.Pod // nil when podunit has no record of it
	Events []Event
}

// Describe gathers a pod's status, spec and events.
func (r *Runner) Describe(ctx context.Context, name string) (*Description, error) {
	all, err := r.Status(ctx)
	if err != nil {
		return nil, err
	}
	for _, ps := range all {
		if ps.Name != name {
			continue
		}
		d := &Description{Status: ps}
		if rec, err := r.loadState(name); err == nil {
			d.Pod = rec.Pod
		}
		d.Events, err = Events(r.StateDir, name)
		return d, err
	}
	return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
}

// deadlineFailed is the status of a pod whose activeDeadlineSeconds ran out,
// the kubelet's DeadlineExceeded: Failed from then on, as the kubelet marks
// it before its containers are stopped; each container that has stopped is
// Terminated as its last run ended (its unit is gone with the pod's infra).
func deadlineFailed(ps PodStatus, runs func(string) podstate.Run) PodStatus {
	ps.Phase, ps.Reason, ps.Message = "Failed", podstate.ReasonDeadlineExceeded, podstate.MessageDeadlineExceeded
	for i, c := range ps.Containers {
		if run := runs(c.Name); c.State == "Waiting" && c.Reason == "Unknown" && !run.Finished.IsZero() {
			c = endedAsRecorded(c, run)
		}
		c.Ready = false
		ps.Containers[i] = c
	}
	ps.Ready = 0
	return ps
}

// completed is the status of a pod that completed (every app container
// ended for good): its phase for good, whatever becomes of its units once
// the infra is let go; a container whose unit systemd unloaded is
// Terminated as its last run ended, with the restarts it had.
func completed(ps PodStatus, done podstate.Completion, runs func(string) podstate.Run, deleting bool) PodStatus {
	if !deleting {
		ps.Phase = done.Phase // (its infra's stop, as it completed, deletes nothing)
	}
	ps.Prober = "" // it went with the infra
	ps.Restarts = 0
	for i, c := range ps.Containers {
		if run := runs(c.Name); c.State == "Waiting" && c.Reason == "Unknown" && !run.Finished.IsZero() {
			c = endedAsRecorded(c, run)
			c.Restarts = done.Restarts[c.Name] + run.Retries
		}
		if c.Kind != units.KindEphemeral {
			c.Ready = false
		}
		ps.Restarts += c.Restarts
		ps.Containers[i] = c
	}
	ps.Ready = 0
	return ps
}

// endedAsRecorded is a container whose unit systemd unloaded: Terminated as
// its clean-up recorded the run's end.
func endedAsRecorded(cs ContainerStatus, run podstate.Run) ContainerStatus {
	code := run.ExitCode
	cs.State, cs.ExitCode, cs.Reason, cs.ExitMessage = "Terminated", &code, "Completed", run.Message
	if run.Failed() {
		cs.Reason = "Error"
	}
	return cs
}
