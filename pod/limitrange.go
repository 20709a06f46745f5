package pod

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// KindLimitRange is a LimitRange: the defaults, bounds and ratios of the
// resources of the containers, pods and claims of its namespace, applied as
// the API server's LimitRanger admission applies them when they are made.
const KindLimitRange = "LimitRange"

// AnnotationLimitRanger records on a pod what a LimitRange set on it, as
// the LimitRanger admission does.
const AnnotationLimitRanger = "kubernetes.io/limit-ranger"

var limitRangeRules = withMetadata(map[string]rule{
	"spec":                                {support: Honoured},
	"spec.limits":                         {support: Honoured},
	"spec.limits[*].type":                 {support: Honoured},
	"spec.limits[*].min":                  {support: Honoured, subtree: true},
	"spec.limits[*].max":                  {support: Honoured, subtree: true},
	"spec.limits[*].default":              {support: Honoured, subtree: true, note: "the limits of a container that has none, when it is made"},
	"spec.limits[*].defaultRequest":       {support: Honoured, subtree: true, note: "the requests of a container that has none, when it is made"},
	"spec.limits[*].maxLimitRequestRatio": {support: Honoured, subtree: true},
})

// loadLimitRange decodes, defaults and validates a LimitRange as the API
// server does.
func loadLimitRange(generic any, js []byte, o *Objects) ([]string, field.ErrorList) {
	var lr corev1.LimitRange
	warns, errs := decodeStrict(generic, js, &lr, limitRangeRules)
	DefaultLimitRange(&lr)
	o.LimitRanges = append(o.LimitRanges, &lr)
	errs = append(errs, validateObjectMeta(lr.Name, lr.Namespace, lr.Labels)...)
	errs = append(errs, validateLimitRange(&lr)...)
	if len(errs) > 0 {
		return nil, errs
	}
	return warns, nil
}

// DefaultLimitRange sets what the API server defaults in a Container item:
// a default limit from max, a default request from the default limit, else
// from min.
func DefaultLimitRange(lr *corev1.LimitRange) {
	for i := range lr.Spec.Limits {
		it := &lr.Spec.Limits[i]
		if it.Type != corev1.LimitTypeContainer {
			continue
		}
		if it.Default == nil {
			it.Default = corev1.ResourceList{}
		}
		if it.DefaultRequest == nil {
			it.DefaultRequest = corev1.ResourceList{}
		}
		for k, v := range it.Max {
			if _, ok := it.Default[k]; !ok {
				it.Default[k] = v.DeepCopy()
			}
		}
		for k, v := range it.Default {
			if _, ok := it.DefaultRequest[k]; !ok {
				it.DefaultRequest[k] = v.DeepCopy()
			}
		}
		for k, v := range it.Min {
			if _, ok := it.DefaultRequest[k]; !ok {
				it.DefaultRequest[k] = v.DeepCopy()
			}
		}
	}
}

// limitResources are the resources a LimitRange item of a type may bound
// (those podunit applies: cpu and memory become the container's cgroup
// limits; ephemeral-storage is checked).
var limitResources = map[corev1.LimitType][]string{
	corev1.LimitTypeContainer:             {"cpu", "memory", "ephemeral-storage"},
	corev1.LimitTypePod:                   {"cpu", "memory", "ephemeral-storage"},
	corev1.LimitTypePersistentVolumeClaim: {"storage"},
}

func validateLimitRange(lr *corev1.LimitRange) field.ErrorList {
	var errs field.ErrorList
	lp := field.NewPath("spec", "limits")
	types := map[corev1.LimitType]int{}
	for i, it := range lr.Spec.Limits {
		ip := lp.Index(i)
		supported, ok := limitResources[it.Type]
		if !ok {
			if it.Type == "" {
				errs = append(errs, field.Required(ip.Child("type"), "Container, Pod or PersistentVolumeClaim"))
			} else {
				errs = append(errs, field.NotSupported(ip.Child("type"), string(it.Type), []string{"Container", "Pod", "PersistentVolumeClaim"}))
			}
			continue
		}
		if j, dup := types[it.Type]; dup {
			errs = append(errs, field.Duplicate(ip.Child("type"), fmt.Sprintf("%s (also %s)", it.Type, lp.Index(j))))
		}
		types[it.Type] = i
		lists := []struct {
			name string
			list corev1.ResourceList
		}{{"min", it.Min}, {"max", it.Max}, {"default", it.Default}, {"defaultRequest", it.DefaultRequest}, {"maxLimitRequestRatio", it.MaxLimitRequestRatio}}
		for _, l := range lists {
			if it.Type != corev1.LimitTypeContainer && (l.name == "default" || l.name == "defaultRequest") && len(l.list) > 0 {
				errs = append(errs, field.Forbidden(ip.Child(l.name), fmt.Sprintf("may not be specified when `type` is '%s'", it.Type)))
				continue
			}
			for _, k := range sortedStringKeys(l.list) {
				q := l.list[corev1.ResourceName(k)]
				kp := ip.Child(l.name).Key(k)
				switch {
				case !slices.Contains(supported, k):
					errs = append(errs, field.NotSupported(kp, k, supported))
				case q.Sign() < 0:
					errs = append(errs, field.Invalid(kp, q.String(), "must be greater than or equal to 0"))
				}
			}
		}
		for _, k := range sortedStringKeys(it.MaxLimitRequestRatio) {
			ratio := it.MaxLimitRequestRatio[corev1.ResourceName(k)]
			if ratio.Cmp(resource.MustParse("1")) < 0 {
				errs = append(errs, field.Invalid(ip.Child("maxLimitRequestRatio").Key(k), ratio.String(), fmt.Sprintf("ratio %s is less than 1", ratio.String())))
			}
			min, hasMin := it.Min[corev1.ResourceName(k)]
			max, hasMax := it.Max[corev1.ResourceName(k)]
			if hasMin && hasMax && min.Sign() > 0 {
				most := float64(max.MilliValue()) / float64(min.MilliValue())
				if float64(ratio.MilliValue())/1000 > most {
					errs = append(errs, field.Invalid(ip.Child("maxLimitRequestRatio").Key(k), ratio.String(), fmt.Sprintf("ratio %s is greater than max/min = %f", ratio.String(), most)))
				}
			}
		}
		// min <= defaultRequest <= default <= max
		keys := map[string]bool{}
		for _, l := range lists[:4] {
			for k := range l.list {
				keys[string(k)] = true
			}
		}
		for _, k := range sortedStringKeys(keys) {
			rn := corev1.ResourceName(k)
			min, hasMin := it.Min[rn]
			max, hasMax := it.Max[rn]
			def, hasDef := it.Default[rn]
			req, hasReq := it.DefaultRequest[rn]
			switch {
			case hasMin && hasMax && min.Cmp(max) > 0:
				errs = append(errs, field.Invalid(ip.Child("min").Key(k), min.String(), fmt.Sprintf("min value %s is greater than max value %s", min.String(), max.String())))
			case hasReq && hasMin && min.Cmp(req) > 0:
				errs = append(errs, field.Invalid(ip.Child("defaultRequest").Key(k), req.String(), fmt.Sprintf("min value %s is greater than default request value %s", min.String(), req.String())))
			case hasReq && hasMax && req.Cmp(max) > 0:
				errs = append(errs, field.Invalid(ip.Child("defaultRequest").Key(k), req.String(), fmt.Sprintf("default request value %s is greater than max value %s", req.String(), max.String())))
			case hasReq && hasDef && req.Cmp(def) > 0:
				errs = append(errs, field.Invalid(ip.Child("defaultRequest").Key(k), req.String(), fmt.Sprintf("default request value %s is greater than default limit value %s", req.String(), def.String())))
			case hasDef && hasMax && def.Cmp(max) > 0:
				errs = append(errs, field.Invalid(ip.Child("default").Key(k), def.String(), fmt.Sprintf("default value %s is greater than max value %s", def.String(), max.String())))
			case hasDef && hasMin && min.Cmp(def) > 0:
				errs = append(errs, field.Invalid(ip.Child("default").Key(k), def.String(), fmt.Sprintf("min value %s is greater than default value %s", min.String(), def.String())))
			}
		}
	}
	return errs
}

// rangesIn are the LimitRanges of a namespace, by name (the order the
// admission reads them in: the first default of a resource wins).
func rangesIn(all []*corev1.LimitRange, ns string) []*corev1.LimitRange {
	var out []*corev1.LimitRange
	for _, lr := range all {
		if lr.Namespace == ns {
			out = append(out, lr)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// containersOf calls f with each container of a pod, init containers first,
// with its field path and how the LimitRanger annotation names its kind.
func containersOf(p *corev1.Pod, f func(c *corev1.Container, cp *field.Path, word string)) {
	for i := range p.Spec.InitContainers {
		f(&p.Spec.InitContainers[i], field.NewPath("spec", "initContainers").Index(i), "init container")
	}
	for i := range p.Spec.Containers {
		f(&p.Spec.Containers[i], field.NewPath("spec", "containers").Index(i), "container")
	}
}

// defaultResources does to a pod being made what the LimitRanger admission
// does first: each container (init containers too) without a limit, or
// without a request, of a resource gets the default of its namespace's
// LimitRanges (ranges), and the pod says so in its AnnotationLimitRanger
// annotation. It tells whether it set anything.
func defaultResources(p *corev1.Pod, ranges []*corev1.LimitRange) bool {
	var set []string
	containersOf(p, func(c *corev1.Container, _ *field.Path, word string) {
		var reqs, lims []string
		for _, lr := range ranges {
			for _, it := range lr.Spec.Limits {
				if it.Type != corev1.LimitTypeContainer {
					continue
				}
				// a request, or a limit it defaults to, stands
				reqs = append(reqs, fillMissing(&c.Resources.Requests, it.DefaultRequest, func(rn corev1.ResourceName) bool { _, ok := containerRequest(c, rn); return ok })...)
				lims = append(lims, fillMissing(&c.Resources.Limits, it.Default, func(rn corev1.ResourceName) bool { _, ok := c.Resources.Limits[rn]; return ok })...)
			}
		}
		if len(reqs) > 0 {
			set = append(set, strings.Join(reqs, ", ")+" request for "+word+" "+c.Name)
		}
		if len(lims) > 0 {
			set = append(set, strings.Join(lims, ", ")+" limit for "+word+" "+c.Name)
		}
	})
	if len(set) == 0 {
		return false
	}
	if p.Annotations == nil {
		p.Annotations = map[string]string{}
	}
	p.Annotations[AnnotationLimitRanger] = "LimitRanger plugin set: " + strings.Join(set, "; ")
	return true
}

// fillMissing puts into *list the defaults of the resources has says are
// missing, and names them.
func fillMissing(list *corev1.ResourceList, defaults corev1.ResourceList, has func(corev1.ResourceName) bool) []string {
	var names []string
	for _, k := range sortedStringKeys(defaults) {
		rn := corev1.ResourceName(k)
		if has(rn) {
			continue
		}
		if *list == nil {
			*list = corev1.ResourceList{}
		}
		(*list)[rn] = defaults[rn].DeepCopy()
		names = append(names, k)
	}
	return names
}

// checkLimitRanges checks a pod's containers, and the pod as a whole,
// against the min, max and maxLimitRequestRatio of its namespace's
// LimitRanges (ranges). The errors name the field and the LimitRange.
func checkLimitRanges(p *corev1.Pod, ranges []*corev1.LimitRange) field.ErrorList {
	var errs field.ErrorList
	for _, lr := range ranges {
		for _, it := range lr.Spec.Limits {
			switch it.Type {
			case corev1.LimitTypeContainer:
				containersOf(p, func(c *corev1.Container, cp *field.Path, _ string) {
					req := func(rn corev1.ResourceName) (resource.Quantity, bool) { return containerRequest(c, rn) }
					lim := func(rn corev1.ResourceName) (resource.Quantity, bool) {
						q, ok := c.Resources.Limits[rn]
						return q, ok
					}
					errs = append(errs, checkLimits(lr.Name, "Container", it, req, lim, cp.Child("resources"))...)
				})
			case corev1.LimitTypePod:
				req := func(rn corev1.ResourceName) (resource.Quantity, bool) { return PodRequests(&p.Spec, rn) }
				// the sum of the limits its containers have, as the
				// admission adds them up (a container without one adds 0)
				lim := func(rn corev1.ResourceName) (resource.Quantity, bool) { return PodLimits(&p.Spec, rn) }
				errs = append(errs, checkLimits(lr.Name, "Pod", it, req, lim, field.NewPath("spec", "containers").Key("*").Child("resources"))...)
			}
		}
	}
	return errs
}

// checkLimits checks what a container or pod has (req, lim) against one
// LimitRange item, with the admission's messages; at is the path of the
// resources.
func checkLimits(name, what string, it corev1.LimitRangeItem, req, lim func(corev1.ResourceName) (resource.Quantity, bool), at *field.Path) field.ErrorList {
	var errs field.ErrorList
	fail := func(p *field.Path, format string, a ...any) {
		errs = append(errs, field.Forbidden(p, fmt.Sprintf("limitrange %q: ", name)+fmt.Sprintf(format, a...)))
	}
	reqPath := func(k string) *field.Path { return at.Child("requests").Key(k) }
	limPath := func(k string) *field.Path { return at.Child("limits").Key(k) }
	for _, k := range sortedStringKeys(it.Min) {
		rn, min := corev1.ResourceName(k), it.Min[corev1.ResourceName(k)]
		r, hasReq := req(rn)
		l, hasLim := lim(rn)
		switch {
		case !hasReq:
			fail(reqPath(k), "minimum %s usage per %s is %s.  No request is specified", k, what, min.String())
		case r.Cmp(min) < 0:
			fail(reqPath(k), "minimum %s usage per %s is %s, but request is %s", k, what, min.String(), r.String())
		case hasLim && l.Cmp(min) < 0:
			fail(limPath(k), "minimum %s usage per %s is %s, but limit is %s", k, what, min.String(), l.String())
		}
	}
	for _, k := range sortedStringKeys(it.Max) {
		rn, max := corev1.ResourceName(k), it.Max[corev1.ResourceName(k)]
		r, hasReq := req(rn)
		l, hasLim := lim(rn)
		switch {
		case !hasLim:
			fail(limPath(k), "maximum %s usage per %s is %s.  No limit is specified", k, what, max.String())
		case l.Cmp(max) > 0:
			fail(limPath(k), "maximum %s usage per %s is %s, but limit is %s", k, what, max.String(), l.String())
		case hasReq && r.Cmp(max) > 0:
			fail(reqPath(k), "maximum %s usage per %s is %s, but request is %s", k, what, max.String(), r.String())
		}
	}
	for _, k := range sortedStringKeys(it.MaxLimitRequestRatio) {
		rn, ratio := corev1.ResourceName(k), it.MaxLimitRequestRatio[corev1.ResourceName(k)]
		r, hasReq := req(rn)
		l, hasLim := lim(rn)
		switch {
		case !hasReq || r.IsZero():
			fail(reqPath(k), "%s max limit to request ratio per %s is %s, but no request is specified or request is 0", k, what, ratio.String())
		case !hasLim || l.IsZero():
			fail(limPath(k), "%s max limit to request ratio per %s is %s, but no limit is specified or limit is 0", k, what, ratio.String())
		default:
			observed := float64(l.MilliValue()) / float64(r.MilliValue())
			if observed*1000 > float64(ratio.MilliValue()) {
				fail(limPath(k), "%s max limit to request ratio per %s is %s, but provided ratio is %f", k, what, ratio.String(), observed)
			}
		}
	}
	return errs
}

// CheckClaimLimits checks a claim's storage request against the
// PersistentVolumeClaim items of its namespace's LimitRanges.
func CheckClaimLimits(c *corev1.PersistentVolumeClaim, all []*corev1.LimitRange) field.ErrorList {
	var errs field.ErrorList
	at := field.NewPath("spec", "resources", "requests")
	for _, lr := range rangesIn(all, c.Namespace) {
		for _, it := range lr.Spec.Limits {
			if it.Type != corev1.LimitTypePersistentVolumeClaim {
				continue
			}
			req := func(rn corev1.ResourceName) (resource.Quantity, bool) {
				q, ok := c.Spec.Resources.Requests[rn]
				return q, ok
			}
			only := corev1.LimitRangeItem{Min: it.Min}
			errs = append(errs, checkLimits(lr.Name, "PersistentVolumeClaim", only, req, req, field.NewPath("spec", "resources"))...)
			for _, k := range sortedStringKeys(it.Max) {
				max := it.Max[corev1.ResourceName(k)]
				if r, ok := req(corev1.ResourceName(k)); ok && r.Cmp(max) > 0 {
					errs = append(errs, field.Forbidden(at.Key(k), fmt.Sprintf("limitrange %q: maximum %s usage per PersistentVolumeClaim is %s, but request is %s", lr.Name, k, max.String(), r.String())))
				}
			}
		}
	}
	return errs
}

// limitPod does to a pod being made what the LimitRanger admission does
// (defaultResources, checkLimitRanges), and checks its resources again, as
// the API server validates a pod after the admission changed it: a request
// above the default limit it got is an error. It returns the pod as written
// when the LimitRanges changed it (nil when they did not).
func limitPod(p *corev1.Pod, all []*corev1.LimitRange) (*corev1.Pod, field.ErrorList) {
	ranges := rangesIn(all, p.Namespace)
	if len(ranges) == 0 {
		return nil, nil
	}
	written := p.DeepCopy()
	if !defaultResources(p, ranges) {
		return nil, checkLimitRanges(p, ranges)
	}
	errs := checkLimitRanges(p, ranges)
	containersOf(p, func(c *corev1.Container, cp *field.Path, _ string) {
		errs = append(errs, checkResources(&c.Resources, cp.Child("resources"), false)...)
	})
	return written, append(errs, validatePodResources(&p.Spec, field.NewPath("spec"))...)
}
