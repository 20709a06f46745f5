package runner

import (
	"context"
	"errors"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"

	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/units"
)

// ErrNotRunning: the pod exists but is not running (its infra is down).
var ErrNotRunning = errors.New("pod is not running")

// AddEphemeral starts a debug container in a running pod (podunit debug): p
// is the pod with the container added to spec.ephemeralContainers
// (pod.AddEphemeral), plan its one unit and spec (units.TranslateEphemeral).
// Its image is made available as for any container; then it is recorded in
// the pod (its spec, the runtime its helpers read) and its unit started. It
// stays in the pod, as Kubernetes keeps an ephemeral container, and goes with
// it.
func (r *Runner) AddEphemeral(ctx context.Context, p *corev1.Pod, plan *units.Plan) error {
	unlock, err := r.lock(ctx, plan.Pod)
	if err != nil {
		return err
	}
	defer unlock()
	rec, err := r.loadState(plan.Pod)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: %q", ErrNotFound, plan.Pod)
	}
	if err != nil {
		return err
	}
	sts, err := r.Units.Loaded(ctx, units.InfraUnitName(plan.Pod))
	if err != nil {
		return err
	}
	if len(sts) == 0 || sts[0].ActiveState != "active" {
		return fmt.Errorf("%w: pod %q has no running infra container (see podunit describe %s)", ErrNotRunning, plan.Pod, plan.Pod)
	}
	if len(plan.Containers) != 1 || len(plan.Runtime.Containers) != 1 {
		return fmt.Errorf("a debug container's plan has %d units", len(plan.Containers))
	}
	if err := r.prepare(ctx, plan); err != nil {
		return err
	}
	rt, err := podstate.LoadRuntime(r.StateDir, plan.Pod)
	if err != nil {
		return err
	}
	cu := plan.Containers[0]
	rt.Containers = append(rt.Containers, plan.Runtime.Containers[0])
	if err := podstate.SaveRuntime(r.StateDir, rt); err != nil {
		return err
	}
	rec.Pod = p
	if err := r.saveRecord(rec); err != nil {
		return err
	}
	r.event(plan.Pod, Event{Reason: "Created", Container: cu.Container,
		Message: fmt.Sprintf("Created debug container %s as %s", cu.Container, cu.Name)})
	if err := r.Units.Start(ctx, []units.Unit{cu.Unit}); err != nil {
		return r.explainStart(ctx, plan, err)
	}
	return nil
}
