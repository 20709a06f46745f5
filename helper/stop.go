package helper

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/hooks"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/units/unitdef"
)

// postStart is ExecStartPost of app and sidecar containers with a postStart
// hook (contract.Container.PostStartStep; without one the run helper
// finishes the start, finishStart): the limits go on, the hook runs (the
// unit stays activating, the container is not Running, until it ends), and
// the run is recorded for the prober. A failed hook is the kubelet's
// FailedPostStartHook: the container's preStop runs (reason Health) and this
// helper fails, so systemd kills the container and restarts it per
// restartPolicy.
func (t *task) postStart(ctx context.Context) error {
	if t.c.PostStart == nil {
		return t.finishStart(ctx) // a unit written before the step was a hook's only
	}
	if !t.cmd.InNetns {
		if err := t.limitsOn(ctx); err != nil {
			return err
		}
		if needsNetns(t.c.PostStart) || needsNetns(t.c.PreStop) {
			return t.enterNetns(ctx, t.cmd)
		}
	}
	hctx, cancel := context.WithTimeout(ctx, t.c.PostStartTimeout)
	err := t.target().Runner().Run(hctx, t.c.PostStart)
	cancel()
	if err == nil {
		t.event("Normal", "Started", "Started container %s (postStart %s succeeded)", t.c.Name, t.c.PostStart)
		return t.markStarted()
	}
	t.event("Warning", "FailedPostStartHook", "PostStartHook failed: %v", err)
	t.event("Normal", "Killing", "Killing container %s: its postStart hook failed (reason %s, grace period %s)", t.c.Name, hooks.ReasonHealth, t.rt.Grace)
	t.target().RunPreStop(ctx, t.rt.Grace, hooks.ReasonHealth)
	return &ErrExit{Code: 1, Msg: fmt.Sprintf("postStart hook failed: %v", err)}
}

// finishStart finishes the start of a container without a postStart hook
// (contract.Container.RunRecordsStart): its limits go on, now that it runs,
// and its start is recorded, as the kubelet tells it.
func (t *task) finishStart(ctx context.Context) error {
	if err := t.limitsOn(ctx); err != nil {
		return err
	}
	t.event("Normal", "Started", "Started container %s", t.c.Name)
	return t.markStarted()
}

// limitsOn puts the container's limits on its unit once it runs.
func (t *task) limitsOn(ctx context.Context) error {
	if len(t.c.Limits) == 0 {
		return nil
	}
	if err := t.setLimits(ctx, false); err != nil {
		return fmt.Errorf("putting resource limits on: %w", err)
	}
	return nil
}

func (t *task) markStarted() error {
	now := t.Now()
	return podstate.UpdateRun(t.StateDir, t.rt.Pod, t.c.Name, func(r *podstate.Run) {
		r.Started, r.WaitingUntil = now, time.Time{}
	})
}

// stop is ExecStop. The infra container is stopped at once (its stop
// timeout); a container goes through the kubelet's kill sequence with the
// stop reason: Delete when `podunit down` (or the user) stops it, Dependency
// when the pod's infra is going down under it.
func (t *task) stop(ctx context.Context) error {
	if t.c.Kind == contract.KindInfra {
		eng, err := t.engine(ctx)
		if err != nil {
			return err
		}
		return t.stopped(ctx, eng.StopContainer(ctx, t.c.Podman, t.c.StopTimeout))
	}
	if t.cmd.InNetns && t.cmd.Grace != nil && t.cmd.Reason != "" {
		return t.stopped(ctx, t.target().StopSequence(ctx, *t.cmd.Grace, t.cmd.Reason))
	}
	if t.Getenv("MAINPID") == "" {
		// systemd runs ExecStop even after the main process (conmon, which
		// lives as long as the container) is gone: the container exited, or a
		// probe or a failed postStart already killed it. Nothing to stop, and
		// no preStop to run against a container that is not running.
		return nil
	}
	grace, reason := t.rt.Grace, hooks.ReasonDelete
	if g, ok := podstate.ReadStopRequest(t.StateDir, t.rt.Pod); ok {
		grace = g
	} else if t.infraStopping(ctx) {
		reason = hooks.ReasonDependency
	}
	_ = podstate.UpdateRun(t.StateDir, t.rt.Pod, t.c.Name, func(r *podstate.Run) { r.Stopped = true })
	if needsNetns(t.c.PreStop) {
		cmd := t.cmd
		cmd.Reason, cmd.Grace = reason, &grace
		return t.enterNetns(ctx, cmd) // the stop there removes it (stopped)
	}
	return t.stopped(ctx, t.target().StopSequence(ctx, grace, reason))
}

// stopped follows a stop: once the container's process has ended (err nil),
// the container is removed at once, by podunit's podman service, which runs
// and has podman's storage open. conmon's exit command (`podman container
// cleanup --rm`, a podman process that has to start before it does
// anything, and which the unit's stop waits for) would only find it gone:
// it yields to the removal and is then ended (removeStopped), and the unit
// stops without waiting for it. A removal that fails (an infra whose pod's
// containers are still there) is the exit command's and the clean-up's, as
// it was before.
func (t *task) stopped(ctx context.Context, err error) error {
	if err != nil {
		return err
	}
	if eng, err := t.engine(ctx); err == nil {
		_ = t.removeStopped(ctx, eng, t.c.Podman, t.Getenv("MAINPID"))
	}
	return nil
}

// infraStopping tells whether this stop comes from the pod's infra going down
// (a dependency) rather than from a request to stop this container.
func (t *task) infraStopping(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	sd, err := t.Systemd(ctx)
	if err != nil {
		return false
	}
	defer sd.Close()
	stopping, err := sd.Stopping(ctx, unitdef.InfraUnitName(t.rt.Pod))
	return err == nil && stopping
}

// cleanup is ExecStopPost: the run's end is recorded (for the prober, the
// back-off and `podunit ps`) and the container removed if podman's own
// clean-up (--rm) did not get to it.
func (t *task) cleanup(ctx context.Context) error {
	if t.c.Kind != contract.KindInfra {
		now := t.Now()
		var ended podstate.Run
		_ = podstate.UpdateRun(t.StateDir, t.rt.Pod, t.c.Name, func(r *podstate.Run) {
			defer func() { ended = *r }()
			if t.c.Kind == contract.KindInit && !r.Finished.IsZero() && r.Started.IsZero() {
				return // its runs were recorded as they ended (runInit)
			}
			r.Killed = podstate.KilledBy(t.StateDir, t.rt.Pod, t.c.Name, r.Started)
			r.LastStarted, r.Started, r.WaitingUntil = r.Started, time.Time{}, time.Time{}
			r.Finished, r.Result = now, t.Getenv("SERVICE_RESULT")
			r.ExitCode = 0
			if t.Getenv("EXIT_CODE") == "exited" {
				r.ExitCode, _ = strconv.Atoi(t.Getenv("EXIT_STATUS"))
			}
			r.Message = t.message(r.Failed())
		})
		if len(t.c.Probes) > 0 {
			_ = podstate.SetReady(t.StateDir, t.rt.Pod, t.c.Name, false)
		}
		if t.c.Kind == contract.KindApp {
			if err := t.completePod(ctx); err != nil {
				fmt.Fprintf(t.Out, "ending a completed pod: %v\n", err)
			}
		}
		if err := t.restartKilled(ctx, ended); err != nil {
			fmt.Fprintf(t.Out, "starting %s again after its %s probe failed: %v\n", t.c.Name, ended.Killed, err)
		}
	}
	eng, err := t.engine(ctx)
	if err != nil {
		return err
	}
	err = eng.RemoveContainer(ctx, t.c.Podman)
	if err != nil && t.c.Kind == contract.KindInfra {
		// A sandbox that died on its own has containers still stopping:
		// podman refuses; the infra's next start removes it after them.
		if others, lerr := t.joined(ctx, eng); lerr == nil && len(others) > 0 {
			fmt.Fprintf(t.Out, "keeping %s while %s stop: the next start removes it\n", t.c.Podman, strings.Join(others, ", "))
			return nil
		}
	}
	return err
}

// restartKilled starts the unit again after the prober killed its run for
// a failed liveness or startup probe, where the kubelet restarts the
// container and the unit's Restart= does not (under OnFailure, a container
// that exits 0 on SIGTERM): its start job waits for this stop to be over,
// and the run helper then waits out the back-off. Not while the pod goes
// down, nor against a job systemd has queued for the unit or its sandbox
// (mode "fail": the pod's stop wins).
func (t *task) restartKilled(ctx context.Context, r podstate.Run) error {
	if r.Killed == "" || !t.c.RestartsAfterKill() || t.c.Restarts(r.Result, r.ExitCode) {
		return nil // not killed, not to come back, or systemd brings it back
	}
	if _, ok := podstate.ReadStopRequest(t.StateDir, t.rt.Pod); ok {
		return nil
	}
	sd, err := t.Systemd(ctx)
	if err != nil {
		return err
	}
	defer sd.Close()
	return sd.QueueStart(ctx, unitdef.ContainerUnitName(t.rt.Pod, t.c.Name))
}

// completePod: once every app container of a pod has ended for good (under
// restartPolicy Never or OnFailure, or their own), the pod completes, as
// the kubelet completes it: Succeeded when every app container's last run
// succeeded, else Failed, recorded with the containers' restarts (systemd
// forgets them with the units); its sidecars are stopped (KEP-753: in the
// reverse of their order, which systemd keeps, each started after the one
// before); its activeDeadlineSeconds no longer apply (its deadline unit
// goes); and its sandbox goes after them: the infra unit, whose stop waits
// for every container's. Every app container's clean-up records its own
// end before it reads the others', so the last of them to end sees them all.
func (t *task) completePod(ctx context.Context) error {
	if _, ok := podstate.ReadStopRequest(t.StateDir, t.rt.Pod); ok {
		return nil // the pod is going down: its sidecars go after its app containers
	}
	if !t.completed() {
		return nil
	}
	sd, err := t.Systemd(ctx)
	if err != nil {
		return err
	}
	defer sd.Close()
	done := t.completion(ctx, sd)
	var sidecars []string
	for _, c := range t.rt.Containers {
		if c.Kind == contract.KindSidecar {
			sidecars = append(sidecars, unitdef.ContainerUnitName(t.rt.Pod, c.Name))
		}
	}
	if err := podstate.WriteCompletion(t.StateDir, t.rt.Pod, done); err != nil {
		return err
	}
	stop := sidecars
	if t.rt.Deadline {
		stop = append(slices.Clip(stop), unitdef.DeadlineUnitName(t.rt.Pod))
	}
	if len(sidecars) > 0 {
		t.event("Normal", "Killing", "Stopping sidecar containers: every app container of the pod has completed")
	}
	if err := sd.StopUnits(ctx, stop); err != nil {
		return err
	}
	// Not while a start is still going on (a container that failed to
	// start ends before its start job does): the infra's stop would
	// cancel that job, and `up` would hear "canceled" for the failure.
	// The pod's end unit stops it once that start is over.
	ok, err := sd.StopUnlessBusy(ctx, unitdef.InfraUnitName(t.rt.Pod))
	if err == nil && !ok {
		return sd.StartTransient(ctx, unitdef.EndUnit(t.Self, t.rt.Pod))
	}
	return err
}

// completion is how the pod completed: Succeeded when every app
// container's last run succeeded, else Failed; with each container's
// restarts.
func (t *task) completion(ctx context.Context, sd Systemd) podstate.Completion {
	done := podstate.Completion{Phase: "Succeeded", At: t.Now(), Restarts: map[string]int{}}
	for _, c := range t.rt.Containers {
		r, _ := podstate.LoadRun(t.StateDir, t.rt.Pod, c.Name)
		if c.Kind == contract.KindApp && r.Failed() {
			done.Phase = "Failed"
		}
		n, err := sd.Restarts(ctx, unitdef.ContainerUnitName(t.rt.Pod, c.Name))
		if err != nil {
			n = 0
		}
		if n = max(n, r.Restarts); n > 0 {
			done.Restarts[c.Name] = n
		}
	}
	return done
}

// initFailed: an init container failed for good (restartPolicy Never), so
// the pod has failed, as the kubelet fails it: recorded (its host ports
// and devices are free, exec is refused), and its sandbox let go. The init
// container's start job is still going on (this runs in it): the end unit
// stops the infra once it is over.
func (t *task) initFailed(ctx context.Context) error {
	sd, err := t.Systemd(ctx)
	if err != nil {
		return err
	}
	defer sd.Close()
	done := t.completion(ctx, sd)
	done.Phase = "Failed"
	if err := podstate.WriteCompletion(t.StateDir, t.rt.Pod, done); err != nil {
		return err
	}
	return sd.StartTransient(ctx, unitdef.EndUnit(t.Self, t.rt.Pod))
}

// endWait bounds how long the end unit waits for the starts of the pod's
// units to be over.
const endWait = 2 * time.Minute

// end is the pod's end unit (contract.OpEnd): its deadline unit stopped,
// then its infra (and with it its containers, each through its stop
// sequence) as soon as that cancels no start job, unless the pod is going
// down meanwhile. After endWait it gives up, saying so: the infra stays
// until down.
func (t *task) end(ctx context.Context) error {
	sd, err := t.Systemd(ctx)
	if err != nil {
		return err
	}
	defer sd.Close()
	if t.rt.Deadline {
		if err := sd.StopUnits(ctx, []string{unitdef.DeadlineUnitName(t.rt.Pod)}); err != nil {
			return err
		}
	}
	give := t.Now().Add(endWait)
	for {
		if _, ok := podstate.ReadStopRequest(t.StateDir, t.rt.Pod); ok {
			return nil // down takes it
		}
		ok, err := sd.StopUnlessBusy(ctx, unitdef.InfraUnitName(t.rt.Pod))
		if err != nil || ok {
			return err
		}
		if t.Now().After(give) {
			fmt.Fprintf(t.Out, "a start of the pod's units still goes on after %s: its infra stays until down\n", endWait)
			return nil
		}
		if err := t.Sleep(ctx, 200*time.Millisecond); err != nil {
			return nil
		}
	}
}

// endedForGood tells whether a container's last run ended and its unit
// will not start it again (its Restart=, from the pod's restartPolicy or its
// own, and its restartPolicyRules).
func endedForGood(c *contract.Container, r podstate.Run) bool {
	return !r.Finished.IsZero() && r.Started.IsZero() && !c.RestartsAfter(r.Result, r.ExitCode, r.Killed != "")
}

// deadline is ExecStopPost of the pod's deadline unit. When systemd ended it
// because its runtime ran out (activeDeadlineSeconds), the pod fails, as the
// kubelet fails it: recorded (phase Failed, reason DeadlineExceeded), told
// in an event, and its infra stopped, which stops its containers, each
// through its stop sequence (preStop, the grace period). Any other end (the
// pod going down) does nothing.
func (t *task) deadline(ctx context.Context) error {
	if t.Getenv("SERVICE_RESULT") != "timeout" {
		return nil
	}
	if t.completed() {
		return nil // a pod that ended (Succeeded or Failed) has no deadline left
	}
	if err := podstate.WriteDeadlineExceeded(t.StateDir, t.rt.Pod, t.Now()); err != nil {
		return err
	}
	t.event("Warning", podstate.ReasonDeadlineExceeded, "%s", podstate.MessageDeadlineExceeded)
	sd, err := t.Systemd(ctx)
	if err != nil {
		return err
	}
	defer sd.Close()
	return sd.StopUnits(ctx, []string{unitdef.InfraUnitName(t.rt.Pod)})
}

// completed tells whether every app container of the pod has ended for
// good: the pod is Succeeded or Failed, whatever its sidecars do.
func (t *task) completed() bool {
	for _, c := range t.rt.Containers {
		if c.Kind != contract.KindApp {
			continue
		}
		r, err := podstate.LoadRun(t.StateDir, t.rt.Pod, c.Name)
		if err != nil || !endedForGood(&c, r) {
			return false
		}
	}
	return true
}
