package runner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/units"
)

// Rollout replaces a Deployment's pods of other templates (Old) with those
// of its current one (Pending, not running yet; Current run already), as
// its RollingUpdate strategy says: at most replicas+maxSurge pods at any
// time, and at least replicas-maxUnavailable of them available (ready for
// minReadySeconds) while old ones are removed, the unavailable old ones
// first. The Deployment controller's rules, run by podunit until the
// rollout is done, or makes no progress (no pod started or removed, none
// of the new ones newly available) for progressDeadlineSeconds.
type Rollout struct {
	Deployment *appsv1.Deployment
	Pending    []*corev1.Pod
	Plans      []*units.Plan // of Pending
	Current    []string
	Old        []string
}

// RolloutEvent tells what a rollout did: started a pod, began to remove
// one (Stopping: it terminates, and no longer counts), or removed one.
type RolloutEvent struct {
	Pod      string
	Started  bool // or removed
	Stopping bool // removal begun
}

// RollOut runs a rollout to its end; report hears of each pod started or
// removed. On an error (a pod that fails to start, the progress deadline
// passed) the pods are left as they are, old and new, as the controller
// leaves a stalled rollout.
//
// An old pod counts no more once its removal begins: as the controller
// does not wait for a terminating pod (its preStop, its grace period), the
// rollout goes on while it stops, and returns once every removal is over.
// Not so without surge (maxSurge 0, Recreate): the new pods may then need
// the old ones' host ports and devices (up checked them against each
// other only when both run at once), so an old pod is gone before the next
// step.
func (r *Runner) RollOut(ctx context.Context, ro Rollout, o UpOptions, report func(RolloutEvent)) error {
	d := ro.Deployment
	surge, unavailable := pod.RolloutLimits(d)
	minReady := time.Duration(d.Spec.MinReadySeconds) * time.Second
	deadline := time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second
	pending, plans := ro.Pending, ro.Plans // resliced as they start, never written
	st := rolloutState{replicas: int(*d.Spec.Replicas), surge: surge, unavailable: unavailable,
		started: slices.Clone(ro.Current), pending: len(pending), old: slices.Clone(ro.Old)}
	readySince := map[string]time.Time{}
	lastProgress := time.Now()
	newAvailable := 0 // of the started pods: more of them available is progress too
	// removals under way (with surge), and their failures
	type removal struct {
		name string
		err  error
	}
	removals := make(chan removal, len(st.old))
	stopping := 0
	var removeErrs []error
	// collect hears of the removals that ended (wait: of all), and tells
	// of those that failed
	collect := func(wait bool) error {
		for stopping > 0 {
			var rm removal
			if wait {
				rm = <-removals
			} else {
				select {
				case rm = <-removals:
				default:
					return removeErr(d, removeErrs)
				}
			}
			stopping--
			if rm.err == nil || errors.Is(rm.err, ErrNotFound) {
				report(RolloutEvent{Pod: rm.name})
			} else {
				removeErrs = append(removeErrs, rm.err)
			}
		}
		return removeErr(d, removeErrs)
	}
	// every return waits for the removals under way: none is left half done
	defer func() { _ = collect(true) }()
	for first := true; ; first = false {
		if err := collect(false); err != nil {
			return err
		}
		avail, err := r.available(ctx, readySince, minReady, first)
		if err != nil {
			return err
		}
		st.available = func(name string) bool { return avail[name] }
		n := 0
		for _, name := range st.started {
			if avail[name] {
				n++
			}
		}
		progress := n > newAvailable
		newAvailable = n
		start, remove := st.next()
		if len(remove) > 0 && surge > 0 {
			for _, name := range remove {
				st.old = slices.DeleteFunc(st.old, func(n string) bool { return n == name })
				stopping++
				report(RolloutEvent{Pod: name, Stopping: true})
				go func() { removals <- removal{name, r.Down(ctx, name, DownOptions{})} }()
			}
			progress = true
		} else if len(remove) > 0 {
			errs := r.DownAll(ctx, remove, DownOptions{})
			for i, name := range remove {
				if errs[i] == nil || errors.Is(errs[i], ErrNotFound) {
					report(RolloutEvent{Pod: name})
					st.old = slices.DeleteFunc(st.old, func(n string) bool { return n == name })
					progress = true
				}
			}
			if err := errors.Join(errs...); err != nil && !progress {
				return fmt.Errorf("%s %q: removing old pods: %w", rolloutKind(d), d.Name, err)
			}
		}
		if start > 0 {
			if err := r.UpAll(ctx, pending[:start], plans[:start], o); err != nil {
				return fmt.Errorf("%s %q: %w", rolloutKind(d), d.Name, err)
			}
			for _, p := range pending[:start] {
				report(RolloutEvent{Pod: p.Name, Started: true})
				st.started = append(st.started, p.Name)
			}
			pending, plans = pending[start:], plans[start:]
			st.pending = len(pending)
			progress = true
		}
		if st.pending == 0 && len(st.old) == 0 {
			return collect(true)
		}
		if progress {
			lastProgress = time.Now()
		} else if time.Since(lastProgress) > deadline {
			return fmt.Errorf("%s %q exceeded its progress deadline (%s without a new pod available): %d new pod(s) not started, old pod(s) %v kept", rolloutKind(d), d.Name, deadline, st.pending, st.old)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s %q: rollout not finished: %w", rolloutKind(d), d.Name, ctx.Err())
		case <-time.After(time.Second):
		}
	}
}

// removeErr is a rollout's error for its failed removals, if any.
func removeErr(d *appsv1.Deployment, errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%s %q: removing old pods: %w", rolloutKind(d), d.Name, errors.Join(errs...))
}

// available tells which pods are available: Running with every container
// ready, for minReady. Those ready at the first look count as ready for
// long enough (they were before the rollout).
func (r *Runner) available(ctx context.Context, since map[string]time.Time, minReady time.Duration, first bool) (map[string]bool, error) {
	sts, err := r.Status(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	out := map[string]bool{}
	for _, s := range sts {
		if s.Phase != "Running" || s.Total == 0 || s.Ready < s.Total {
			delete(since, s.Name)
			continue
		}
		t, ok := since[s.Name]
		if !ok {
			t = now
			if first {
				t = now.Add(-minReady)
			}
			since[s.Name] = t
		}
		out[s.Name] = now.Sub(t) >= minReady
	}
	return out, nil
}

// rolloutState is where a rolling update stands.
type rolloutState struct {
	replicas, surge, unavailable int
	started                      []string // the current template's pods that run
	pending                      int      // and those still to start
	old                          []string
	available                    func(name string) bool
}

// next is the controller's next step: how many pending pods to start, and
// which old pods to remove. New pods start while there are fewer than
// replicas+surge pods in all. Old pods go while at least
// replicas-unavailable pods stay available: first the unavailable old
// ones (up to all-minAvailable-newUnavailable), then available ones.
func (s rolloutState) next() (start int, remove []string) {
	all := len(s.started) + len(s.old)
	start = min(s.pending, max(0, s.replicas+s.surge-all))
	// the pods started now count, unavailable, when the old ones are weighed
	all += start
	minAvailable := s.replicas - s.unavailable
	newUnavailable, availableNow := start, 0
	for _, n := range s.started {
		if s.available(n) {
			availableNow++
		} else {
			newUnavailable++
		}
	}
	maxDown := all - minAvailable - newUnavailable
	for _, n := range s.old {
		if len(remove) < maxDown && !s.available(n) {
			remove = append(remove, n)
		}
	}
	for _, n := range s.old {
		if s.available(n) {
			availableNow++
		}
	}
	canDown := availableNow - minAvailable
	for _, n := range s.old {
		if canDown <= 0 {
			break
		}
		if s.available(n) {
			remove = append(remove, n)
			canDown--
		}
	}
	return start, remove
}

// rolloutKind is the word for what rolls out: a Deployment, or a DaemonSet
// whose surge update runs as one (its Kind says so).
func rolloutKind(d *appsv1.Deployment) string {
	if d.Kind == pod.KindDaemonSet {
		return "daemonset"
	}
	return "deployment"
}
