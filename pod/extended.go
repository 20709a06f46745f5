package pod

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// IsExtendedResource tells an extended resource's name (example.com/dongle):
// domain-prefixed, outside kubernetes.io, and not a request-only name.
func IsExtendedResource(name corev1.ResourceName) bool {
	n := string(name)
	if !strings.Contains(n, "/") || strings.HasPrefix(n, "requests.") {
		return false
	}
	domain := n[:strings.Index(n, "/")]
	return domain != "kubernetes.io" && !strings.HasSuffix(domain, ".kubernetes.io")
}

// validateExtended applies the API server's rules to an extended resource of
// a container: a qualified name, a whole number, a limit, and a request (if
// given) equal to it: extended resources are never overcommitted.
func validateExtended(r *corev1.ResourceRequirements, rp *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := map[corev1.ResourceName]bool{}
	for n := range r.Limits {
		names[n] = true
	}
	for n := range r.Requests {
		names[n] = true
	}
	for n := range names {
		if !IsExtendedResource(n) {
			continue
		}
		for _, msg := range validation.IsQualifiedName(string(n)) {
			errs = append(errs, field.Invalid(rp.Child("limits").Key(string(n)), string(n), msg))
		}
		lim, hasLim := r.Limits[n]
		req, hasReq := r.Requests[n]
		for _, x := range []struct {
			q   resource.Quantity
			has bool
			p   *field.Path
		}{{lim, hasLim, rp.Child("limits").Key(string(n))}, {req, hasReq, rp.Child("requests").Key(string(n))}} {
			if x.has && (x.q.MilliValue()%1000 != 0 || x.q.Sign() < 0) {
				errs = append(errs, field.Invalid(x.p, x.q.String(), "must be a whole number of units"))
			}
		}
		switch {
		case !hasLim:
			errs = append(errs, field.Required(rp.Child("limits").Key(string(n)), "Limit must be set for non overcommitable resources"))
		case hasReq && req.Cmp(lim) != 0:
			errs = append(errs, field.Invalid(rp.Child("requests").Key(string(n)), req.String(), fmt.Sprintf("must be equal to %s limit of %s", n, lim.String())))
		}
	}
	return errs
}

// ExtendedRequests is what a pod takes of each extended resource (the
// kubelet's sum, sidecars included; a request defaults to the limit).
func ExtendedRequests(s *corev1.PodSpec) map[corev1.ResourceName]int64 {
	out := map[corev1.ResourceName]int64{}
	names := map[corev1.ResourceName]bool{}
	for _, c := range append(append([]corev1.Container{}, s.InitContainers...), s.Containers...) {
		for n := range c.Resources.Limits {
			if IsExtendedResource(n) {
				names[n] = true
			}
		}
	}
	for n := range names {
		if q, ok := AggregateRequests(s, n); ok && q.Value() > 0 {
			out[n] = q.Value()
		}
	}
	return out
}

// FitExtended checks that the pods fit this host's extended resources
// (capacity, from the node file) next to what the running pods take. The
// error names each resource that is short, as the scheduler's Insufficient.
func FitExtended(pods []*corev1.Pod, running []*corev1.Pod, capacity map[string]int64) error {
	used := map[corev1.ResourceName]int64{}
	for _, p := range running {
		for n, v := range ExtendedRequests(&p.Spec) {
			used[n] += v
		}
	}
	var miss []string
	for _, p := range pods {
		want := ExtendedRequests(&p.Spec)
		names := make([]string, 0, len(want))
		for n := range want {
			names = append(names, string(n))
		}
		sort.Strings(names)
		for _, n := range names {
			v := want[corev1.ResourceName(n)]
			have, declared := capacity[n]
			switch {
			case !declared:
				miss = append(miss, fmt.Sprintf("pod %q: Insufficient %s: this host declares none (add \"%s: N\" to ~/.config/podunit/node-labels)", p.Name, n, n))
			case used[corev1.ResourceName(n)]+v > have:
				miss = append(miss, fmt.Sprintf("pod %q: Insufficient %s: asks for %d, %d of %d in use by other pods", p.Name, n, v, used[corev1.ResourceName(n)], have))
			}
			used[corev1.ResourceName(n)] += v
		}
	}
	if len(miss) == 0 {
		return nil
	}
	return fmt.Errorf("%w: does not fit this host:\n  %s", ErrInvalid, strings.Join(miss, "\n  "))
}

// OverRequested tells which pods ask for more cpu or memory than this host
// has left (its allocatable, less what the running pods and the pods before
// them request), as the scheduler's "Insufficient cpu": on a cluster they
// would stay Pending. One line a pod and resource, in the pods' order; a
// resource the host's allocatable lacks is not checked.
func OverRequested(pods, running []*corev1.Pod, allocatable corev1.ResourceList) []string {
	var out []string
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		have, ok := allocatable[name]
		if !ok {
			continue
		}
		amount := func(q resource.Quantity) int64 {
			if name == corev1.ResourceCPU {
				return q.MilliValue()
			}
			return q.Value()
		}
		var used int64
		for _, p := range running {
			if q, ok := PodRequests(&p.Spec, name); ok {
				used += amount(q)
			}
		}
		for _, p := range pods {
			q, ok := PodRequests(&p.Spec, name)
			if !ok || q.IsZero() {
				continue
			}
			if used+amount(q) > amount(have) {
				out = append(out, fmt.Sprintf("pod %q: Insufficient %s: requests %s, %s of this host's %s requested by other pods",
					p.Name, name, q.String(), showAmount(name, used), showAmount(name, amount(have))))
			}
			used += amount(q)
		}
	}
	return out
}

// showAmount writes millicores as kubectl does (250m, 2), bytes in Mi.
func showAmount(name corev1.ResourceName, v int64) string {
	if name == corev1.ResourceCPU {
		return resource.NewMilliQuantity(v, resource.DecimalSI).String()
	}
	return fmt.Sprintf("%dMi", (v+(1<<20)-1)>>20)
}

// FitOncePodClaims checks the claims of access mode ReadWriteOncePod (of
// claims, every claim known): one pod at a time may use one, as the
// scheduler's VolumeRestrictions has it (a second pod stays Pending there).
// The running pods come first, then pods in turn; the error names each pod
// that would be a second, and the one that has the claim.
func FitOncePodClaims(pods, running []*corev1.Pod, claims []*corev1.PersistentVolumeClaim) error {
	once := map[string]bool{}
	for _, c := range claims {
		if slices.Contains(c.Spec.AccessModes, corev1.ReadWriteOncePod) {
			once[c.Namespace+"/"+c.Name] = true
		}
	}
	if len(once) == 0 {
		return nil
	}
	// onceClaim is the ReadWriteOncePod claim a volume of p mounts ("" if none)
	onceClaim := func(p *corev1.Pod, v corev1.Volume) string {
		if v.PersistentVolumeClaim == nil || !once[p.Namespace+"/"+v.PersistentVolumeClaim.ClaimName] {
			return ""
		}
		return p.Namespace + "/" + v.PersistentVolumeClaim.ClaimName
	}
	holder := map[string]string{}
	for _, p := range running {
		for _, v := range p.Spec.Volumes {
			if key := onceClaim(p, v); key != "" {
				holder[key] = p.Name
			}
		}
	}
	var miss []string
	for _, p := range pods {
		for i, v := range p.Spec.Volumes {
			key := onceClaim(p, v)
			if key == "" {
				continue
			}
			if h, ok := holder[key]; ok && h != p.Name {
				miss = append(miss, fmt.Sprintf("pod %q: spec.volumes[%d].persistentVolumeClaim.claimName: persistentvolumeclaim %q is ReadWriteOncePod, and pod %q uses it", p.Name, i, v.PersistentVolumeClaim.ClaimName, h))
				continue
			}
			holder[key] = p.Name
		}
	}
	if len(miss) == 0 {
		return nil
	}
	return fmt.Errorf("%w: one pod at a time may use a ReadWriteOncePod claim (a cluster would keep the second Pending; nothing was changed):\n  %s", ErrInvalid, strings.Join(miss, "\n  "))
}
