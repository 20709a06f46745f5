package pod

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// PodRequests is what the pod asks for in all, by the kubelet's rules: the
// pod-level requests where set, else what its containers ask for
// (AggregateRequests).
func PodRequests(s *corev1.PodSpec, name corev1.ResourceName) (resource.Quantity, bool) {
	if s.Resources != nil {
		if q, ok := s.Resources.Requests[name]; ok {
			return q, true
		}
	}
	return AggregateRequests(s, name)
}

// containerRequest is a container's request, which defaults to its limit.
func containerRequest(c *corev1.Container, name corev1.ResourceName) (resource.Quantity, bool) {
	if q, ok := c.Resources.Requests[name]; ok {
		return q, true
	}
	q, ok := c.Resources.Limits[name]
	return q, ok
}

// AggregateRequests sums the containers' requests as the scheduler does for
// sidecars (KEP 753): the app containers and sidecars run together; an init
// container runs next to the sidecars started before it. ok is false when no
// container asks for the resource.
func AggregateRequests(s *corev1.PodSpec, name corev1.ResourceName) (resource.Quantity, bool) {
	return aggregate(s, name, containerRequest)
}

// PodLimits is the most the pod may use of a resource, by the same rules as
// PodRequests (what kubectl describe node adds up): the pod-level limit where
// set, else its containers' limits (a container without one counts 0).
func PodLimits(s *corev1.PodSpec, name corev1.ResourceName) (resource.Quantity, bool) {
	if s.Resources != nil {
		if q, ok := s.Resources.Limits[name]; ok {
			return q, true
		}
	}
	return aggregate(s, name, func(c *corev1.Container, name corev1.ResourceName) (resource.Quantity, bool) {
		q, ok := c.Resources.Limits[name]
		return q, ok
	})
}

// aggregate sums what each container has of a resource (get) over the
// containers that run together: app containers and sidecars, or an init
// container with the sidecars started before it, whichever is more.
func aggregate(s *corev1.PodSpec, name corev1.ResourceName, get func(*corev1.Container, corev1.ResourceName) (resource.Quantity, bool)) (resource.Quantity, bool) {
	var sum, sidecars, initMax resource.Quantity
	any := false
	for i := range s.InitContainers {
		c := &s.InitContainers[i]
		q, ok := get(c, name)
		any = any || ok
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecars.Add(q)
			continue
		}
		at := sidecars.DeepCopy()
		at.Add(q)
		if at.Cmp(initMax) > 0 {
			initMax = at
		}
	}
	for i := range s.Containers {
		q, ok := get(&s.Containers[i], name)
		any = any || ok
		sum.Add(q)
	}
	sum.Add(sidecars)
	if initMax.Cmp(sum) > 0 {
		sum = initMax
	}
	return sum, any
}

// DefaultPodResources fills the pod-level requests the API server defaults:
// a resource with a pod-level limit and no pod-level request asks for what
// its containers ask for, or, when none does, for the limit.
func DefaultPodResources(s *corev1.PodSpec) {
	r := s.Resources
	if r == nil {
		return
	}
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		lim, hasLimit := r.Limits[name]
		if _, ok := r.Requests[name]; ok || !hasLimit {
			continue
		}
		if r.Requests == nil {
			r.Requests = corev1.ResourceList{}
		}
		if q, ok := AggregateRequests(s, name); ok {
			r.Requests[name] = q
		} else {
			r.Requests[name] = lim.DeepCopy()
		}
	}
}

// validatePodResources checks spec.resources (pod-level requests and limits),
// and the containers' resizePolicy and restartPolicyRules.
func validatePodResources(s *corev1.PodSpec, sp *field.Path) field.ErrorList {
	var errs field.ErrorList
	if r := s.Resources; r != nil {
		rp := sp.Child("resources")
		errs = append(errs, checkResources(r, rp, true)...)
		for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if req, ok := r.Requests[name]; ok {
				if agg, ok := AggregateRequests(s, name); ok && req.Cmp(agg) < 0 {
					errs = append(errs, field.Invalid(rp.Child("requests").Key(string(name)), req.String(),
						fmt.Sprintf("must be greater than or equal to aggregate container requests of %s", agg.String())))
				}
			}
			lim, ok := r.Limits[name]
			if !ok {
				continue
			}
			check := func(c *corev1.Container, cp *field.Path) {
				if q, ok := c.Resources.Limits[name]; ok && q.Cmp(lim) > 0 {
					errs = append(errs, field.Invalid(cp.Child("resources", "limits").Key(string(name)), q.String(),
						fmt.Sprintf("must be less than or equal to pod limits of %s", lim.String())))
				}
			}
			for i := range s.InitContainers {
				check(&s.InitContainers[i], sp.Child("initContainers").Index(i))
			}
			for i := range s.Containers {
				check(&s.Containers[i], sp.Child("containers").Index(i))
			}
		}
	}
	for i := range s.InitContainers {
		c := &s.InitContainers[i]
		cp := sp.Child("initContainers").Index(i)
		sidecar := c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
		if len(c.ResizePolicy) > 0 && !sidecar {
			errs = append(errs, field.Forbidden(cp.Child("resizePolicy"), "must not be set for init containers"))
		}
		errs = append(errs, validateResizePolicy(c.ResizePolicy, cp.Child("resizePolicy"))...)
	}
	for i := range s.Containers {
		c := &s.Containers[i]
		cp := sp.Child("containers").Index(i)
		errs = append(errs, validateResizePolicy(c.ResizePolicy, cp.Child("resizePolicy"))...)
		errs = append(errs, validateRestartRules(c, cp)...)
	}
	return errs
}

func validateResizePolicy(policies []corev1.ContainerResizePolicy, fp *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := sets.New[corev1.ResourceName]()
	for i, p := range policies {
		pp := fp.Index(i)
		switch p.ResourceName {
		case corev1.ResourceCPU, corev1.ResourceMemory:
			if seen.Has(p.ResourceName) {
				errs = append(errs, field.Duplicate(pp.Child("resourceName"), p.ResourceName))
			}
			seen.Insert(p.ResourceName)
		default:
			errs = append(errs, field.NotSupported(pp.Child("resourceName"), p.ResourceName, []string{"cpu", "memory"}))
		}
		switch p.RestartPolicy {
		case corev1.NotRequired, corev1.RestartContainer:
		default:
			errs = append(errs, field.NotSupported(pp.Child("restartPolicy"), p.RestartPolicy, []string{"NotRequired", "RestartContainer"}))
		}
	}
	return errs
}

// validateRestartRules: an app container's own restartPolicy (which
// overrides the pod's) and its restartPolicyRules, with the API server's
// rules.
func validateRestartRules(c *corev1.Container, cp *field.Path) field.ErrorList {
	var errs field.ErrorList
	if c.RestartPolicy != nil {
		switch *c.RestartPolicy {
		case corev1.ContainerRestartPolicyAlways, corev1.ContainerRestartPolicyOnFailure, corev1.ContainerRestartPolicyNever:
		default:
			errs = append(errs, field.NotSupported(cp.Child("restartPolicy"), *c.RestartPolicy, []string{"Always", "Never", "OnFailure"}))
		}
	}
	if len(c.RestartPolicyRules) > 0 && c.RestartPolicy == nil {
		errs = append(errs, field.Required(cp.Child("restartPolicy"), "must be specified when restartPolicyRules are used"))
	}
	if len(c.RestartPolicyRules) > 20 {
		errs = append(errs, field.TooMany(cp.Child("restartPolicyRules"), len(c.RestartPolicyRules), 20))
	}
	for i, r := range c.RestartPolicyRules {
		rp := cp.Child("restartPolicyRules").Index(i)
		switch r.Action {
		case corev1.ContainerRestartRuleActionRestart:
		case corev1.ContainerRestartRuleActionRestartAllContainers:
			errs = append(errs, field.Forbidden(rp.Child("action"), "not supported by podunit: RestartAllContainers"))
		default:
			errs = append(errs, field.NotSupported(rp.Child("action"), r.Action, []string{"Restart"}))
		}
		if r.ExitCodes == nil {
			errs = append(errs, field.Required(rp.Child("exitCodes"), "must be specified"))
			continue
		}
		ep := rp.Child("exitCodes")
		switch r.ExitCodes.Operator {
		case corev1.ContainerRestartRuleOnExitCodesOpIn, corev1.ContainerRestartRuleOnExitCodesOpNotIn:
		default:
			errs = append(errs, field.NotSupported(ep.Child("operator"), r.ExitCodes.Operator, []string{"In", "NotIn"}))
		}
		if r.ExitCodes.Operator == corev1.ContainerRestartRuleOnExitCodesOpIn && len(r.ExitCodes.Values) == 0 {
			errs = append(errs, field.Required(ep.Child("values"), "must have at least one value for operator In"))
		}
		if len(r.ExitCodes.Values) > 255 {
			errs = append(errs, field.TooMany(ep.Child("values"), len(r.ExitCodes.Values), 255))
		}
		seen := map[int32]bool{}
		for j, v := range r.ExitCodes.Values {
			if v < 0 || v > 255 {
				errs = append(errs, field.Invalid(ep.Child("values").Index(j), v, "must be between 0 and 255, inclusive"))
			}
			if seen[v] {
				errs = append(errs, field.Duplicate(ep.Child("values").Index(j), v))
			}
			seen[v] = true
		}
	}
	return errs
}

// RestartsOn works out, for every exit code, whether a container is
// restarted: the first of its restartPolicyRules that matches decides, else
// its restartPolicy (its own, or the pod's).
func RestartsOn(c *corev1.Container, podPolicy corev1.RestartPolicy) [256]bool {
	policy := podPolicy
	if c.RestartPolicy != nil {
		policy = corev1.RestartPolicy(*c.RestartPolicy)
	}
	var out [256]bool
	for code := range out {
		out[code] = policy == corev1.RestartPolicyAlways || (policy == corev1.RestartPolicyOnFailure && code != 0)
		for _, r := range c.RestartPolicyRules {
			if r.ExitCodes == nil {
				continue
			}
			in := slices.Contains(r.ExitCodes.Values, int32(code))
			if in == (r.ExitCodes.Operator == corev1.ContainerRestartRuleOnExitCodesOpIn) {
				out[code] = r.Action == corev1.ContainerRestartRuleActionRestart
				break
			}
		}
	}
	return out
}

// QOSClass follows Kubernetes: Guaranteed when cpu and memory have limits
// equal to their requests (the pod's own when it has spec.resources, else
// every container's), BestEffort when nothing asks for anything.
func QOSClass(s *corev1.PodSpec) corev1.PodQOSClass {
	containers := append(append([]corev1.Container{}, s.InitContainers...), s.Containers...)
	var decide []corev1.ResourceRequirements // the requirements that set the class
	if s.Resources != nil {
		decide = []corev1.ResourceRequirements{*s.Resources}
	}
	any := s.Resources != nil && (len(s.Resources.Limits) > 0 || len(s.Resources.Requests) > 0)
	for _, c := range containers {
		any = any || len(c.Resources.Limits) > 0 || len(c.Resources.Requests) > 0
		if s.Resources == nil {
			decide = append(decide, c.Resources)
		}
	}
	if !any {
		return corev1.PodQOSBestEffort
	}
	for _, r := range decide {
		for _, n := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			l, ok := r.Limits[n]
			q, rok := r.Requests[n]
			if !ok || (rok && q.Cmp(l) != 0) {
				return corev1.PodQOSBurstable
			}
		}
	}
	return corev1.PodQOSGuaranteed
}
