package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/units"
)

// Resizer is what an in-place resize needs of systemd: a running unit's
// resource properties changed, or the unit restarted.
type Resizer interface {
	SetLimits(ctx context.Context, unit string, limits []units.Property) error
	RestartUnit(ctx context.Context, name string) error
}

// ResizeRequest asks for new requests and limits: of a container, or, with
// Container "", of the pod (spec.resources). Quantities not named keep
// their values.
type ResizeRequest struct {
	Container        string
	Limits, Requests corev1.ResourceList
}

// Resized says what a resize did.
type Resized struct {
	Container string // "" for the pod's own resources
	Unit      string
	Restarted bool
	Resources corev1.ResourceRequirements // as they are now
	Pod       *corev1.Pod                 // as recorded now
}

// Resize changes a running pod's resources in place, as the kubelet's
// in-place resize does: the new values are checked like a manifest (field
// paths, exit 2), the QoS class must stay, then each resource whose
// resizePolicy is NotRequired (the default) changes on the running unit
// through systemd, and a change of one whose policy is RestartContainer
// restarts the container. The runtime spec carries the new limits for later
// starts, and the pod's record the new values for describe and get.
func (r *Runner) Resize(ctx context.Context, name string, req ResizeRequest) (*Resized, error) {
	rz, ok := r.Units.(Resizer)
	if !ok {
		return nil, errors.New("resize: this systemd connection cannot change unit properties")
	}
	unlock, err := r.lock(ctx, name)
	if err != nil {
		return nil, err
	}
	defer unlock()
	rec, err := r.loadState(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	next := rec.Pod.DeepCopy()
	var target *corev1.ResourceRequirements
	var spec *corev1.Container
	where := "spec.resources"
	if req.Container == "" && next.Spec.Resources == nil {
		// a pod without resources of its own: its only container's
		if len(next.Spec.Containers) != 1 {
			return nil, fmt.Errorf("%w: pod %q has %d containers and no pod-level resources (spec.resources): name one with -c", pod.ErrInvalid, name, len(next.Spec.Containers))
		}
		req.Container = next.Spec.Containers[0].Name
	}
	switch {
	case req.Container == "":
		target = next.Spec.Resources
	default:
		for i := range next.Spec.Containers {
			if next.Spec.Containers[i].Name == req.Container {
				spec, where = &next.Spec.Containers[i], fmt.Sprintf("spec.containers[%d].resources", i)
			}
		}
		for i := range next.Spec.InitContainers {
			c := &next.Spec.InitContainers[i]
			if c.Name != req.Container {
				continue
			}
			if c.RestartPolicy == nil || *c.RestartPolicy != corev1.ContainerRestartPolicyAlways {
				return nil, fmt.Errorf("%w: init container %q cannot be resized (only sidecars and app containers can)", pod.ErrInvalid, c.Name)
			}
			spec, where = c, fmt.Sprintf("spec.initContainers[%d].resources", i)
		}
		if spec == nil {
			return nil, fmt.Errorf("%w: pod %q has no container %q", ErrNotFound, name, req.Container)
		}
		target = &spec.Resources
	}
	old := target.DeepCopy()
	for n, q := range req.Limits {
		if target.Limits == nil {
			target.Limits = corev1.ResourceList{}
		}
		target.Limits[n] = q
	}
	for n, q := range req.Requests {
		if target.Requests == nil {
			target.Requests = corev1.ResourceList{}
		}
		target.Requests[n] = q
	}
	for n := range req.Limits {
		if n != corev1.ResourceCPU && n != corev1.ResourceMemory {
			return nil, fmt.Errorf("%w: %s.limits[%s]: only cpu and memory can be resized", pod.ErrInvalid, where, n)
		}
	}
	for n := range req.Requests {
		if n != corev1.ResourceCPU && n != corev1.ResourceMemory {
			return nil, fmt.Errorf("%w: %s.requests[%s]: only cpu and memory can be resized", pod.ErrInvalid, where, n)
		}
	}
	if errs := pod.Validate(next); len(errs) > 0 {
		return nil, fmt.Errorf("%w: pod %q: %s", pod.ErrInvalid, name, pod.FormatFieldErrors(errs))
	}
	if was, now := pod.QOSClass(&rec.Pod.Spec), pod.QOSClass(&next.Spec); was != now {
		return nil, fmt.Errorf("%w: %s: the pod's QoS class would change from %s to %s, which a resize may not do", pod.ErrInvalid, where, was, now)
	}
	out := &Resized{Container: req.Container, Resources: *target.DeepCopy(), Pod: next}
	props := units.LimitProps(target)
	if spec == nil {
		out.Unit = units.SliceName(name)
		if err := rz.SetLimits(ctx, out.Unit, props); err != nil {
			return nil, fmt.Errorf("resizing %s: %w", out.Unit, err)
		}
	} else {
		out.Unit = units.ContainerUnitName(name, spec.Name)
		restart := false
		for _, n := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if changed(old, target, n) && resizePolicy(spec, n) == corev1.RestartContainer {
				restart = true
			}
		}
		rt, err := podstate.LoadRuntime(r.StateDir, name)
		if err != nil {
			return nil, err
		}
		for i := range rt.Containers {
			if rt.Containers[i].Name == spec.Name {
				rt.Containers[i].Limits = units.SpecLimits(target)
			}
		}
		// the spec first: a start from now on (the restart below, a crash)
		// puts the new limits on
		if err := podstate.SaveRuntime(r.StateDir, rt); err != nil {
			return nil, err
		}
		if restart {
			// the new requests now, the limits off; the start puts the
			// new ones on (the run helper, or the post-start step)
			if err := rz.SetLimits(ctx, out.Unit, units.RestartLimitProps(target)); err != nil {
				return nil, fmt.Errorf("resizing %s: %w", out.Unit, err)
			}
			if err := rz.RestartUnit(ctx, out.Unit); err != nil {
				return nil, fmt.Errorf("restarting %s for its resize: %w", out.Unit, err)
			}
			out.Restarted = true
		} else if err := rz.SetLimits(ctx, out.Unit, props); err != nil {
			return nil, fmt.Errorf("resizing %s: %w", out.Unit, err)
		}
	}
	rec.Pod = next
	if err := r.saveRecord(rec); err != nil {
		return nil, err
	}
	how := "in place"
	if out.Restarted {
		how = "with a restart (resizePolicy RestartContainer)"
	}
	msg := fmt.Sprintf("Resized %s to %s %s", where, describeResources(target), how)
	r.event(name, Event{Reason: "Resized", Container: req.Container, Message: msg})
	return out, nil
}

func changed(a, b *corev1.ResourceRequirements, n corev1.ResourceName) bool {
	for _, pair := range [][2]corev1.ResourceList{{a.Limits, b.Limits}, {a.Requests, b.Requests}} {
		x, xok := pair[0][n]
		y, yok := pair[1][n]
		if xok != yok || (xok && x.Cmp(y) != 0) {
			return true
		}
	}
	return false
}

// resizePolicy is a container's policy for a resource: NotRequired unless
// it says otherwise (the API's default).
func resizePolicy(c *corev1.Container, n corev1.ResourceName) corev1.ResourceResizeRestartPolicy {
	for _, p := range c.ResizePolicy {
		if p.ResourceName == n {
			return p.RestartPolicy
		}
	}
	return corev1.NotRequired
}

func describeResources(r *corev1.ResourceRequirements) string {
	var parts []string
	for _, l := range []struct {
		kind string
		list corev1.ResourceList
	}{{"limits", r.Limits}, {"requests", r.Requests}} {
		for _, n := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if q, ok := l.list[n]; ok {
				parts = append(parts, fmt.Sprintf("%s %s %s", l.kind, n, q.String()))
			}
		}
	}
	if len(parts) == 0 {
		return "no requests or limits"
	}
	return strings.Join(parts, ", ")
}
