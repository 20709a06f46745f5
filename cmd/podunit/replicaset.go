package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/podstate/objstore"
	"github.com/podunit/podunit/runner"
)

// replicaSetTypes are get's words for ReplicaSets.
var replicaSetTypes = []string{"replicaset", "replicasets", "rs"}

// replicaSets are the ReplicaSets a Deployment controller would keep for the
// Deployments (pure, tested): one for the current template, named
// <deployment>-<pod-template-hash>, that wants spec.replicas pods; and one
// for each other template whose pods still run (a rollout under way), that
// wants none. Their status counts their pods; an old one's template is
// that of one of its pods. podunit keeps no ReplicaSet once its pods are
// gone.
func replicaSets(deps []*appsv1.Deployment, pods []*corev1.Pod) []*appsv1.ReplicaSet {
	var out []*appsv1.ReplicaSet
	for _, d := range deps {
		current := pod.TemplateHash(&d.Spec.Template)
		byHash := map[string][]*corev1.Pod{}
		for _, p := range pods {
			if p.Namespace == d.Namespace && pod.OwnerDeployment(p) == d.Name {
				h := p.Labels[pod.LabelPodTemplateHash]
				byHash[h] = append(byHash[h], p)
			}
		}
		hashes := []string{current}
		for h := range byHash {
			if h != current {
				hashes = append(hashes, h)
			}
		}
		slices.Sort(hashes[1:])
		for _, h := range hashes {
			yes := true
			rs := &appsv1.ReplicaSet{
				TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
				ObjectMeta: metav1.ObjectMeta{
					Name: pod.ReplicaSetName(d.Name, h), Namespace: d.Namespace,
					Labels: map[string]string{pod.LabelPodTemplateHash: h},
					OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: pod.KindDeployment, Name: d.Name,
						Controller: &yes, BlockOwnerDeletion: &yes}},
				},
			}
			for k, v := range d.Spec.Template.Labels {
				rs.Labels[k] = v
			}
			replicas := int32(0)
			rs.Spec.Template = *d.Spec.Template.DeepCopy()
			if h == current {
				replicas = *d.Spec.Replicas
			} else if ps := byHash[h]; len(ps) > 0 {
				rs.Spec.Template = corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: ps[0].Labels, Annotations: ps[0].Annotations}, Spec: *ps[0].Spec.DeepCopy()}
			}
			rs.Spec.Replicas = &replicas
			rs.Spec.MinReadySeconds = d.Spec.MinReadySeconds
			sel := d.Spec.Selector.DeepCopy()
			if sel.MatchLabels == nil {
				sel.MatchLabels = map[string]string{}
			}
			sel.MatchLabels[pod.LabelPodTemplateHash] = h
			rs.Spec.Selector = sel
			rs.Spec.Template.Labels = rs.Labels
			for _, p := range byHash[h] {
				rs.Status.Replicas++
				if p.Status.Phase == corev1.PodRunning && conditionTrue(p, corev1.PodReady) {
					rs.Status.ReadyReplicas++
					rs.Status.AvailableReplicas++
				}
				if c := p.CreationTimestamp; !c.IsZero() && (rs.CreationTimestamp.IsZero() || c.Before(&rs.CreationTimestamp)) {
					rs.CreationTimestamp = c
				}
			}
			rs.Status.FullyLabeledReplicas = rs.Status.Replicas
			out = append(out, rs)
		}
	}
	return out
}

// printReplicaSets is kubectl get replicasets: NAME, DESIRED, CURRENT,
// READY and AGE (-o wide: CONTAINERS, IMAGES, SELECTOR), the names, or the
// ReplicaSets.
func printReplicaSets(ctx context.Context, w, errw io.Writer, r *runner.Runner, names []string, ns string, sel selection, format string, t tableOpts) error {
	known, err := objstore.LoadObjects(podstate.DefaultDir())
	if err != nil {
		return err
	}
	var pods []*corev1.Pod
	if len(known.Deployments) > 0 {
		if pods, err = currentPods(ctx, r, nil); err != nil {
			return err
		}
	}
	list, err := storedNamed(replicaSets(known.Deployments, pods), "replicaset", names, ns, sel)
	if err != nil {
		return err
	}
	if done, err := listing(w, errw, list, "replicaset.apps", ns, format, len(names) == 1, func(rs *appsv1.ReplicaSet) any { return rs }); done {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	head := t.head("NAME\tDESIRED\tCURRENT\tREADY\tAGE")
	if format == "wide" {
		head += "\tCONTAINERS\tIMAGES\tSELECTOR"
	}
	fmt.Fprintln(tw, head)
	now := time.Now()
	for _, rs := range list {
		line := t.row(rs.Namespace, fmt.Sprintf("%s\t%d\t%d\t%d\t%s", t.name("replicaset.apps", rs.Name), *rs.Spec.Replicas, rs.Status.Replicas, rs.Status.ReadyReplicas, ageOrUnknown(rs.CreationTimestamp.Time, now)))
		if format == "wide" {
			cs, images := templateImages(&rs.Spec.Template)
			line += fmt.Sprintf("\t%s\t%s\t%s", cs, images, metav1.FormatLabelSelector(rs.Spec.Selector))
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// ageOrUnknown is an AGE cell: <unknown> for a time not known (a
// ReplicaSet with no pod).
func ageOrUnknown(t, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return since(t, now)
}
