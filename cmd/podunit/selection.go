package main

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
)

// selection is which objects get lists and in what order: kubectl's -l,
// --field-selector and --sort-by. Its zero value is every object, in the
// kind's own order.
type selection struct {
	labels labels.Selector
	fields fields.Selector
	sortBy string // a JSONPath expression
}

func byLabels(s labels.Selector) selection { return selection{labels: s} }

// match tells whether o (with labels l) is selected.
func (s selection) match(o any, l map[string]string) bool {
	if s.labels != nil && !s.labels.Matches(labels.Set(l)) {
		return false
	}
	return s.fields == nil || s.fields.Matches(fieldSet(o))
}

// fieldSet is what --field-selector matches of an object: the fields the
// API server lets select its kind (metadata.name and metadata.namespace of
// every kind; more of pods, events, Secrets, namespaces and nodes).
func fieldSet(o any) fields.Set {
	set := fields.Set{"metadata.name": "", "metadata.namespace": ""} // every kind's
	if m, err := meta.Accessor(o); err == nil {
		set["metadata.name"], set["metadata.namespace"] = m.GetName(), m.GetNamespace()
	}
	switch x := o.(type) {
	case *corev1.Pod:
		set["spec.nodeName"] = x.Spec.NodeName
		set["spec.restartPolicy"] = string(x.Spec.RestartPolicy)
		set["spec.schedulerName"] = x.Spec.SchedulerName
		set["spec.serviceAccountName"] = x.Spec.ServiceAccountName
		set["spec.hostNetwork"] = strconv.FormatBool(x.Spec.HostNetwork)
		set["status.phase"] = string(x.Status.Phase)
		set["status.podIP"] = x.Status.PodIP
		set["status.nominatedNodeName"] = x.Status.NominatedNodeName
	case *corev1.Event:
		set["involvedObject.kind"] = x.InvolvedObject.Kind
		set["involvedObject.namespace"] = x.InvolvedObject.Namespace
		set["involvedObject.name"] = x.InvolvedObject.Name
		set["involvedObject.uid"] = string(x.InvolvedObject.UID)
		set["involvedObject.apiVersion"] = x.InvolvedObject.APIVersion
		set["involvedObject.resourceVersion"] = x.InvolvedObject.ResourceVersion
		set["involvedObject.fieldPath"] = x.InvolvedObject.FieldPath
		set["reason"] = x.Reason
		set["reportingComponent"] = x.ReportingController
		set["source"] = x.Source.Component
		set["type"] = x.Type
	case *corev1.Secret:
		set["type"] = string(x.Type)
	case *corev1.Namespace:
		set["status.phase"] = string(x.Status.Phase)
	case *corev1.Node:
		set["spec.unschedulable"] = strconv.FormatBool(x.Spec.Unschedulable)
	}
	return set
}

// fieldKinds are, by get's kind, an object of it (for the fields it can be
// selected by); a kind not here has metadata.name and metadata.namespace.
var fieldKinds = map[string]any{
	"pods": &corev1.Pod{}, "events": &corev1.Event{}, "secrets": &corev1.Secret{},
	"namespaces": &corev1.Namespace{}, "nodes": &corev1.Node{},
}

// parseSelection reads get's -l, --field-selector and --sort-by for kind
// (as getArgs names it); a field the kind cannot be selected by is a usage
// error, as the API server refuses it.
func parseSelection(kind string, sel labels.Selector, field, sortBy string) (selection, error) {
	s := selection{labels: sel, sortBy: sortBy}
	if field != "" {
		fs, err := fields.ParseSelector(field)
		if err != nil {
			return s, fmt.Errorf("%w: --field-selector %q: %v", errUsage, field, err)
		}
		known := fieldSet(fieldKinds[kind])
		for _, r := range fs.Requirements() {
			if _, ok := known[r.Field]; !ok {
				names := make([]string, 0, len(known))
				for k := range known {
					names = append(names, k)
				}
				slices.Sort(names)
				return s, fmt.Errorf("%w: --field-selector: %q is not a field %s can be selected by (%s)", errUsage, r.Field, kind, strings.Join(names, ", "))
			}
		}
		s.fields = fs
	}
	if sortBy != "" {
		if _, err := parseJSONPath(sortPath(sortBy)); err != nil {
			return s, fmt.Errorf("%w: --sort-by %q: %v", errUsage, sortBy, err)
		}
	}
	return s, nil
}

// sortPath is a --sort-by expression as a JSONPath template: kubectl takes
// it with or without its braces and leading dot.
func sortPath(expr string) string {
	if strings.HasPrefix(expr, "{") {
		return expr
	}
	if !strings.HasPrefix(expr, ".") {
		expr = "." + expr
	}
	return "{" + expr + "}"
}

// sortObjects orders list by s.sortBy, as kubectl's --sort-by: numbers as
// numbers, times as times, other values as text; an object where the path
// finds nothing comes first. Equal ones keep their order.
func sortObjects[T any](list []T, s selection) error {
	if s.sortBy == "" || len(list) < 2 {
		return nil
	}
	j, err := parseJSONPath(sortPath(s.sortBy))
	if err != nil {
		return err
	}
	keys := make([]any, len(list))
	for i, o := range list {
		generic, err := asJSON(o)
		if err != nil {
			return err
		}
		res, err := j.FindResults(generic)
		if err != nil {
			return fmt.Errorf("%w: --sort-by %q: %v", errUsage, s.sortBy, err)
		}
		if len(res) > 0 && len(res[0]) > 0 {
			keys[i] = res[0][0].Interface()
		}
	}
	idx := make([]int, len(list))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return lessValue(keys[idx[a]], keys[idx[b]]) })
	sorted := make([]T, len(list))
	for i, k := range idx {
		sorted[i] = list[k]
	}
	copy(list, sorted)
	return nil
}

// lessValue compares two JSON values the way kubectl's sort does.
func lessValue(a, b any) bool {
	switch {
	case a == nil:
		return b != nil
	case b == nil:
		return false
	}
	if x, ok := a.(float64); ok {
		if y, ok := b.(float64); ok {
			return x < y
		}
	}
	as, bs := fmt.Sprint(a), fmt.Sprint(b)
	if ta, err := time.Parse(time.RFC3339Nano, as); err == nil {
		if tb, err := time.Parse(time.RFC3339Nano, bs); err == nil {
			return ta.Before(tb)
		}
	}
	return as < bs
}
