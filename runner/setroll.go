package runner

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/podunit/podunit/units"
)

// SetStep is one step of a StatefulSet's controller: pods removed, then
// pods started (a pod of another revision is both, by the same name), then,
// when Wait says so, every pod started Ready for minReadySeconds before the
// next step.
type SetStep struct {
	Remove []string
	Start  []*corev1.Pod
	Plans  []*units.Plan // of Start
	Wait   bool
}

// SetRoll is what `up` does to make a StatefulSet's pods match it, in the
// controller's order: the missing pods from the lowest ordinal, the pods
// beyond its replicas from the highest, then the pods of another revision
// from the highest (OrderedReady waits for each; Parallel starts and removes
// together, but updates one at a time too).
type SetRoll struct {
	Set   *appsv1.StatefulSet
	Steps []SetStep
}

// RollSet runs a set's steps in order; report hears of each pod started or
// removed. A step that fails stops it, the pods left as they are, as the
// controller stops at a pod that does not become Ready; ctx bounds the
// waits (up's --timeout).
func (r *Runner) RollSet(ctx context.Context, roll SetRoll, o UpOptions, report func(RolloutEvent)) error {
	s := roll.Set
	minReady := time.Duration(s.Spec.MinReadySeconds) * time.Second
	for _, step := range roll.Steps {
		if len(step.Remove) > 0 {
			errs := r.DownAll(ctx, step.Remove, DownOptions{})
			for i, name := range step.Remove {
				if errs[i] == nil || errors.Is(errs[i], ErrNotFound) {
					report(RolloutEvent{Pod: name})
					errs[i] = nil
				}
			}
			if err := errors.Join(errs...); err != nil {
				return fmt.Errorf("statefulset %q: removing pods: %w", s.Name, err)
			}
		}
		if len(step.Start) > 0 {
			if err := r.UpAll(ctx, step.Start, step.Plans, o); err != nil {
				return fmt.Errorf("statefulset %q: %w", s.Name, err)
			}
			for _, p := range step.Start {
				report(RolloutEvent{Pod: p.Name, Started: true})
			}
		}
		if !step.Wait {
			continue
		}
		since := map[string]time.Time{}
		for {
			avail, err := r.available(ctx, since, minReady, false)
			if err != nil {
				return err
			}
			ready := true
			for _, p := range step.Start {
				ready = ready && avail[p.Name]
			}
			if ready {
				break
			}
			select {
			case <-ctx.Done():
				var names []string
				for _, p := range step.Start {
					names = append(names, p.Name)
				}
				return fmt.Errorf("statefulset %q: waiting for pod %v to be Ready (the next pods wait for it, as OrderedReady has them): %w", s.Name, names, ctx.Err())
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
	return nil
}
