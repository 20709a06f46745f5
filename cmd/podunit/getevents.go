package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/podstate/objstore"
	"github.com/podunit/podunit/runner"
)

var (
	eventTypes     = []string{"events", "event", "ev"}
	namespaceTypes = []string{"namespaces", "namespace", "ns"}
	endpointsTypes = []string{"endpoints", "endpoint", "ep"}
)

// podEvents are the pods' events as the API server holds them: one v1
// Event for each run of identical events (same container, type, reason and
// message), with its count and first and last time, as the kubelet's event
// recorder aggregates them; in the order they last happened. pods are the
// known pods (their namespaces and which list a container is in); events of
// a pod not among them are left out.
func podEvents(dir string, pods []*corev1.Pod, host string) ([]*corev1.Event, error) {
	var out []*corev1.Event
	for _, p := range pods {
		evs, err := podstate.Events(dir, p.Name)
		if err != nil {
			return nil, err
		}
		for _, e := range podstate.Aggregate(evs) {
			first := e.First
			if first.IsZero() {
				first = e.Time
			}
			out = append(out, &corev1.Event{
				TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Event"},
				ObjectMeta: metav1.ObjectMeta{
					// as the event recorder names them: the object's name and the time in hex
					Name:              fmt.Sprintf("%s.%x", p.Name, first.UnixNano()),
					Namespace:         p.Namespace,
					CreationTimestamp: metav1.NewTime(first),
				},
				InvolvedObject: corev1.ObjectReference{
					APIVersion: "v1", Kind: "Pod", Namespace: p.Namespace, Name: p.Name, UID: p.UID,
					FieldPath: containerFieldPath(p, e.Container),
				},
				Reason: e.Reason, Message: e.Message, Type: e.Type,
				Source:         corev1.EventSource{Component: "podunit", Host: host},
				FirstTimestamp: metav1.NewTime(first), LastTimestamp: metav1.NewTime(e.Time), Count: e.Times(),
				ReportingController: "podunit", ReportingInstance: host,
			})
		}
	}
	slices.SortStableFunc(out, func(a, b *corev1.Event) int { return a.LastTimestamp.Compare(b.LastTimestamp.Time) })
	return out, nil
}

// containerFieldPath is an event's involvedObject.fieldPath for a container
// of p (spec.containers{web}), or "" for the pod itself.
func containerFieldPath(p *corev1.Pod, name string) string {
	if name == "" {
		return ""
	}
	has := func(cs []corev1.Container) bool {
		return slices.ContainsFunc(cs, func(c corev1.Container) bool { return c.Name == name })
	}
	switch {
	case has(p.Spec.InitContainers):
		return "spec.initContainers{" + name + "}"
	case slices.ContainsFunc(p.Spec.EphemeralContainers, func(c corev1.EphemeralContainer) bool { return c.Name == name }):
		return "spec.ephemeralContainers{" + name + "}"
	}
	return "spec.containers{" + name + "}"
}

// eventsNamed are the events of namespace ns ("": every one) whose labels
// match sel (events carry none: only an empty selector matches).
func eventsNamed(evs []*corev1.Event, ns string, sel selection) ([]*corev1.Event, error) {
	evs = slices.DeleteFunc(slices.Clone(evs), func(e *corev1.Event) bool {
		return (ns != "" && e.Namespace != ns) || !sel.match(e, e.Labels)
	})
	return evs, sortObjects(evs, sel)
}

// printEvents is kubectl get events: LAST SEEN, TYPE, REASON, OBJECT and
// MESSAGE (-o wide adds kubectl's SUBOBJECT, SOURCE, FIRST SEEN, COUNT and
// NAME), or the Events themselves (-o json|yaml|jsonpath|custom-columns),
// or their names.
func printEvents(w io.Writer, evs []*corev1.Event, format string, t tableOpts, header bool, now time.Time) error {
	if done, err := structuredOrNames(w, evs, "event", format, false, func(e *corev1.Event) any { return e }); done {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	if header {
		h := "LAST SEEN\tTYPE\tREASON\tOBJECT\tMESSAGE"
		if format == "wide" {
			h = "LAST SEEN\tTYPE\tREASON\tOBJECT\tSUBOBJECT\tSOURCE\tMESSAGE\tFIRST SEEN\tCOUNT\tNAME"
		}
		if t.nsColumn {
			h = "NAMESPACE\t" + h
		}
		fmt.Fprintln(tw, h)
	}
	for _, e := range evs {
		obj := strings.ToLower(e.InvolvedObject.Kind) + "/" + e.InvolvedObject.Name
		msg := strings.ReplaceAll(strings.TrimSpace(e.Message), "\n", " ")
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s", since(e.LastTimestamp.Time, now), e.Type, e.Reason, obj, msg)
		if format == "wide" {
			line = fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s, %s\t%s\t%s\t%d\t%s", since(e.LastTimestamp.Time, now), e.Type, e.Reason, obj,
				e.InvolvedObject.FieldPath, e.Source.Component, e.Source.Host, msg, since(e.FirstTimestamp.Time, now), e.Count, e.Name)
		}
		if t.nsColumn {
			line = e.Namespace + "\t" + line
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// getEvents lists the pods' events (get events), and with watch goes on
// printing each event that is new or happened again, until ctx ends.
func getEvents(ctx context.Context, w, errw io.Writer, ns string, sel selection, format string, t tableOpts, watch bool) error {
	dir := podstate.DefaultDir()
	host := nodeName()
	list := func() ([]*corev1.Event, error) {
		pods, err := runner.KnownPods(dir)
		if err != nil {
			return nil, err
		}
		evs, err := podEvents(dir, pods, host)
		if err != nil {
			return nil, err
		}
		return eventsNamed(evs, ns, sel)
	}
	evs, err := list()
	if err != nil {
		return err
	}
	if !watch {
		if len(evs) == 0 && (format == "" || format == "wide" || format == "name") {
			fmt.Fprintln(errw, noneFound(ns))
			return nil
		}
		return printEvents(w, evs, format, t, true, time.Now())
	}
	if err := printEvents(w, evs, format, t, true, time.Now()); err != nil {
		return err
	}
	shown := map[string]int32{}
	for _, e := range evs {
		shown[e.Name] = e.Count
	}
	return everyWatch(ctx, func() error {
		evs, err := list()
		if err != nil {
			return err
		}
		var fresh []*corev1.Event
		for _, e := range evs {
			if shown[e.Name] != e.Count {
				shown[e.Name] = e.Count
				fresh = append(fresh, e)
			}
		}
		if len(fresh) > 0 {
			return printEvents(w, fresh, format, t, false, time.Now())
		}
		return nil
	})
}

// namespaces are the namespaces there are on this host, as kubectl get ns
// shows a cluster's: default, those applied as Namespace objects, and those
// pods and stored objects are in (applying into a namespace makes it here);
// each Active, with the label the API server gives every namespace
// (kubernetes.io/metadata.name) and a creation time: when its Namespace was
// applied, else when its oldest pod was created.
func namespaces(dir string, pods []*corev1.Pod) ([]*corev1.Namespace, error) {
	known, err := objstore.LoadObjects(dir)
	if err != nil {
		return nil, err
	}
	byName := map[string]*corev1.Namespace{}
	add := func(name string) *corev1.Namespace {
		if name == "" {
			name = metav1.NamespaceDefault
		}
		if byName[name] == nil {
			byName[name] = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		}
		return byName[name]
	}
	add(metav1.NamespaceDefault)
	for _, n := range known.Namespaces {
		ns := n.DeepCopy()
		if ns.CreationTimestamp.IsZero() { // stored by a podunit that gave none
			if t := objstore.ObjectApplied(dir, pod.KindNamespace, "", n.Name); !t.IsZero() {
				ns.CreationTimestamp = metav1.NewTime(t)
			}
		}
		byName[n.Name] = ns
	}
	known.Each(func(_ string, o metav1.Object) {
		if o.GetNamespace() != "" {
			add(o.GetNamespace())
		}
	})
	r := &runner.Runner{StateDir: dir}
	for _, p := range pods {
		ns := add(p.Namespace)
		_, created, err := r.Applied(p.Name) // a waiting pod has none
		if c := metav1.NewTime(created); err == nil && !c.IsZero() && (ns.CreationTimestamp.IsZero() || c.Before(&ns.CreationTimestamp)) {
			ns.CreationTimestamp = c
		}
	}
	var out []*corev1.Namespace
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		ns := byName[name]
		ns.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}
		if ns.Labels == nil {
			ns.Labels = map[string]string{}
		}
		ns.Labels[corev1.LabelMetadataName] = name
		ns.Status.Phase = corev1.NamespaceActive
		out = append(out, ns)
	}
	return out, nil
}

// printNamespaces is kubectl get namespaces: NAME, STATUS and AGE (LABELS
// with --show-labels), the names, or the Namespaces.
func printNamespaces(w, errw io.Writer, all []*corev1.Namespace, names []string, sel selection, format string, t tableOpts, now time.Time) error {
	list, err := storedNamed(all, "namespace", names, "", sel)
	if err != nil {
		return err
	}
	if done, err := listing(w, errw, list, "namespace", "", format, len(names) == 1, func(n *corev1.Namespace) any { return n }); done {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	h := "NAME\tSTATUS\tAGE"
	if t.labels {
		h += "\tLABELS"
	}
	fmt.Fprintln(tw, h)
	for _, n := range list {
		line := fmt.Sprintf("%s\t%s\t%s", t.name("namespace", n.Name), n.Status.Phase, since(n.CreationTimestamp.Time, now))
		if t.labels {
			line += "\t" + labelList(n.Labels)
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}
