package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	corev1 "k8s.io/api/core/v1"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/runner"
)

// livePods are the recorded pods that have not completed: those a quota
// counts.
func livePods(recorded []*corev1.Pod) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range recorded {
		if _, done := podstate.LoadCompletion(podstate.DefaultDir(), p.Name); !done {
			out = append(out, p)
		}
	}
	return out
}

// admitQuotas is the ResourceQuota admission for an up: the manifest's pods
// and objects, in place of those of their names, must keep every quota of
// their namespaces (those stored and the manifest's own) within its hard
// limits, where they add to what is used; a pod made anew must say how much
// it asks for of what a quota of its namespace limits. A pod refused for
// what it does not say is bad input (exit 2); one over a quota a conflict
// with what runs (exit 3). Nothing is changed either way.
func admitQuotas(m *pod.Manifest, known, all *pod.Objects, recorded []*corev1.Pod) error {
	if len(all.ResourceQuotas) == 0 {
		return nil
	}
	before := livePods(recorded)
	applied := map[string]bool{}
	for _, p := range m.Pods {
		applied[p.Name] = true
	}
	ran := map[string]bool{}
	var after []*corev1.Pod
	for _, p := range before {
		ran[p.Name] = true
		if !applied[p.Name] {
			after = append(after, p)
		}
	}
	var created []*corev1.Pod
	for _, p := range m.Pods {
		after = append(after, p)
		if !ran[p.Name] {
			created = append(created, p)
		}
	}
	must, exceeded := pod.QuotaErrors(all.ResourceQuotas, before, after, known, all, created)
	if len(must) > 0 {
		var lines []string
		for _, p := range created {
			if errs := must[p]; len(errs) > 0 {
				lines = append(lines, fmt.Sprintf("pod %q: %d problem(s)", p.Name, len(errs)))
				for _, e := range errs {
					lines = append(lines, "  "+e.Error())
				}
			}
		}
		return fmt.Errorf("%w: %s", pod.ErrInvalid, strings.Join(lines, "\n"))
	}
	if len(exceeded) > 0 {
		return fmt.Errorf("%w: %s", runner.ErrConflict, strings.Join(exceeded, "\n"))
	}
	return nil
}

// quotaStatus fills a quota's status as the quota controller keeps it: its
// hard limits and what the live pods and stored objects use now.
func quotaStatus(q *corev1.ResourceQuota, live []*corev1.Pod, known *pod.Objects) *corev1.ResourceQuota {
	c := q.DeepCopy()
	c.Status.Hard = q.Spec.Hard.DeepCopy()
	c.Status.Used = pod.QuotaUsage(q, live, known)
	return c
}

// quotaColumns are kubectl's REQUEST and LIMIT columns of a quota: each
// resource as used/hard, the limits.* ones in LIMIT.
func quotaColumns(q *corev1.ResourceQuota) (request, limit string) {
	var reqs, lims []string
	for _, k := range sortedNames(q.Status.Hard) {
		used, hard := q.Status.Used[corev1.ResourceName(k)], q.Status.Hard[corev1.ResourceName(k)]
		s := fmt.Sprintf("%s: %s/%s", k, used.String(), hard.String())
		if strings.HasPrefix(k, "limits.") {
			lims = append(lims, s)
		} else {
			reqs = append(reqs, s)
		}
	}
	return strings.Join(reqs, ", "), strings.Join(lims, ", ")
}

// quotaTable is describe's table of a quota: resource, used, hard.
func quotaTable(w io.Writer, indent string, q *corev1.ResourceQuota) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%sResource\tUsed\tHard\n%s--------\t----\t----\n", indent, indent)
	for _, k := range sortedNames(q.Status.Hard) {
		used, hard := q.Status.Used[corev1.ResourceName(k)], q.Status.Hard[corev1.ResourceName(k)]
		fmt.Fprintf(tw, "%s%s\t%s\t%s\n", indent, k, used.String(), hard.String())
	}
	tw.Flush()
}

// formatResources is a resource list as name=quantity, by name.
func formatResources(l corev1.ResourceList) string {
	keys := sortedNames(l)
	for i, k := range keys {
		q := l[corev1.ResourceName(k)]
		keys[i] = k + "=" + q.String()
	}
	return strings.Join(keys, ",")
}

// resourceNames are a resource list's names, sorted.
func sortedNames(l corev1.ResourceList) []string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	return keys
}
