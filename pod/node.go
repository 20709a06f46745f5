package pod

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// MatchNode checks the pod's nodeSelector against this host's labels. Like the
// scheduler, every selector entry must match exactly; a pod that could not be
// scheduled here is refused rather than run in the wrong place.
func MatchNode(p *corev1.Pod, nodeLabels map[string]string) error {
	miss := NodeMisfits(p, nodeLabels)
	if len(miss) == 0 {
		return nil
	}
	return fmt.Errorf("%w: pod %q does not fit this host:\n  %s\n  (this host's labels: podunit get nodes --show-labels; podunit label node NODE KEY=VALUE sets one)", ErrInvalid, p.Name, strings.Join(miss, "\n  "))
}

// NodeMisfits are the reasons, each at its field path, why a pod does not
// fit a host of these labels; none when it does.
func NodeMisfits(p *corev1.Pod, nodeLabels map[string]string) []string {
	var miss []string
	for k, want := range p.Spec.NodeSelector {
		if got, ok := nodeLabels[k]; !ok || got != want {
			if ok {
				miss = append(miss, fmt.Sprintf("spec.nodeSelector[%s]: wants %q, this host has %q", k, want, got))
			} else {
				miss = append(miss, fmt.Sprintf("spec.nodeSelector[%s]: wants %q, this host has no such label", k, want))
			}
		}
	}
	sort.Strings(miss)
	if na := nodeAffinity(p); na != nil {
		if why := matchTerms(na.NodeSelectorTerms, nodeLabels); why != "" {
			miss = append(miss, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution: "+why)
		}
	}
	return miss
}

func nodeAffinity(p *corev1.Pod) *corev1.NodeSelector {
	if a := p.Spec.Affinity; a != nil && a.NodeAffinity != nil {
		return a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution
	}
	return nil
}

// matchTerms is the scheduler's rule for required node affinity: the terms
// are ORed, the requirements of a term ANDed; a term without requirements
// matches nothing. It says why no term matches, or "".
func matchTerms(terms []corev1.NodeSelectorTerm, labels map[string]string) string {
	var why []string
	for i, t := range terms {
		miss := termMiss(t, labels)
		if miss == "" {
			return ""
		}
		why = append(why, fmt.Sprintf("term %d: %s", i, miss))
	}
	return "no term matches this host (" + strings.Join(why, "; ") + ")"
}

func termMiss(t corev1.NodeSelectorTerm, labels map[string]string) string {
	if len(t.MatchExpressions) == 0 && len(t.MatchFields) == 0 {
		return "empty"
	}
	for _, r := range t.MatchExpressions {
		if !matchRequirement(r, labels[r.Key], hasKey(labels, r.Key)) {
			return describeMiss(r, labels)
		}
	}
	for _, r := range t.MatchFields {
		// metadata.name, the only field the scheduler knows, is the host's name
		name, ok := labels["kubernetes.io/hostname"]
		if !matchRequirement(r, name, ok) {
			return fmt.Sprintf("%s %s %v: this host is %q", r.Key, r.Operator, r.Values, name)
		}
	}
	return ""
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

func describeMiss(r corev1.NodeSelectorRequirement, labels map[string]string) string {
	got, ok := labels[r.Key]
	have := "this host has no such label"
	if ok {
		have = fmt.Sprintf("this host has %q", got)
	}
	if len(r.Values) == 0 {
		return fmt.Sprintf("%s %s: %s", r.Key, r.Operator, have)
	}
	return fmt.Sprintf("%s %s %v: %s", r.Key, r.Operator, r.Values, have)
}

func matchRequirement(r corev1.NodeSelectorRequirement, value string, present bool) bool {
	switch r.Operator {
	case corev1.NodeSelectorOpIn:
		return present && slices.Contains(r.Values, value)
	case corev1.NodeSelectorOpNotIn:
		return !present || !slices.Contains(r.Values, value)
	case corev1.NodeSelectorOpExists:
		return present
	case corev1.NodeSelectorOpDoesNotExist:
		return !present
	case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
		if !present || len(r.Values) != 1 {
			return false
		}
		have, err1 := strconv.ParseInt(value, 10, 64)
		want, err2 := strconv.ParseInt(r.Values[0], 10, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		if r.Operator == corev1.NodeSelectorOpGt {
			return have > want
		}
		return have < want
	}
	return false
}

// validateNodeAffinity applies the API server's rules to required node
// affinity: at least one term; In and NotIn with values, Exists and
// DoesNotExist without, Gt and Lt with one integer; keys that are label
// names; matchFields on metadata.name only.
func validateNodeAffinity(p *corev1.Pod) field.ErrorList {
	ns := nodeAffinity(p)
	if ns == nil {
		return nil
	}
	fp := field.NewPath("spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution")
	var errs field.ErrorList
	if len(ns.NodeSelectorTerms) == 0 {
		errs = append(errs, field.Required(fp.Child("nodeSelectorTerms"), "must have at least one node selector term"))
	}
	for i, t := range ns.NodeSelectorTerms {
		tp := fp.Child("nodeSelectorTerms").Index(i)
		for j, r := range t.MatchExpressions {
			rp := tp.Child("matchExpressions").Index(j)
			for _, msg := range validation.IsQualifiedName(r.Key) {
				errs = append(errs, field.Invalid(rp.Child("key"), r.Key, msg))
			}
			errs = append(errs, validateRequirement(r, rp)...)
		}
		for j, r := range t.MatchFields {
			rp := tp.Child("matchFields").Index(j)
			if r.Key != "metadata.name" {
				errs = append(errs, field.NotSupported(rp.Child("key"), r.Key, []string{"metadata.name"}))
			}
			if r.Operator != corev1.NodeSelectorOpIn && r.Operator != corev1.NodeSelectorOpNotIn {
				errs = append(errs, field.NotSupported(rp.Child("operator"), r.Operator, []string{"In", "NotIn"}))
			} else if len(r.Values) != 1 {
				errs = append(errs, field.Required(rp.Child("values"), "must have exactly one value for metadata.name"))
			}
		}
	}
	return errs
}

func validateRequirement(r corev1.NodeSelectorRequirement, rp *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch r.Operator {
	case corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn:
		if len(r.Values) == 0 {
			errs = append(errs, field.Required(rp.Child("values"), "must be specified when `operator` is 'In' or 'NotIn'"))
		}
	case corev1.NodeSelectorOpExists, corev1.NodeSelectorOpDoesNotExist:
		if len(r.Values) > 0 {
			errs = append(errs, field.Forbidden(rp.Child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
		}
	case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
		if len(r.Values) != 1 {
			errs = append(errs, field.Required(rp.Child("values"), "must be specified single value when `operator` is 'Lt' or 'Gt'"))
		} else if _, err := strconv.ParseInt(r.Values[0], 10, 64); err != nil {
			errs = append(errs, field.Invalid(rp.Child("values").Index(0), r.Values[0], "must be an integer"))
		}
	default:
		errs = append(errs, field.NotSupported(rp.Child("operator"), r.Operator, []string{"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"}))
	}
	for i, v := range r.Values {
		for _, msg := range validation.IsValidLabelValue(v) {
			errs = append(errs, field.Invalid(rp.Child("values").Index(i), v, msg))
		}
	}
	return errs
}

// validateGates: scheduling gates are qualified names, each once.
func validateGates(p *corev1.Pod) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, g := range p.Spec.SchedulingGates {
		fp := field.NewPath("spec", "schedulingGates").Index(i).Child("name")
		for _, msg := range validation.IsQualifiedName(g.Name) {
			errs = append(errs, field.Invalid(fp, g.Name, msg))
		}
		if seen[g.Name] {
			errs = append(errs, field.Duplicate(fp, g.Name))
		}
		seen[g.Name] = true
	}
	return errs
}
