package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/runner"
	"github.com/podunit/podunit/units"
)

var daemonSetTypes = []string{"daemonset", "daemonsets", "ds"}

// daemonSetWork is what `up` does, besides starting pods, to make the
// running pods of a manifest's DaemonSets match them.
type daemonSetWork struct {
	// removeFirst: pods of another template removed before the new one
	// starts (RollingUpdate without surge), and those of a DaemonSet whose
	// template no longer fits this host.
	removeFirst []string
	// rollouts: the new pod first, the old one once it is available
	// (RollingUpdate with maxSurge).
	rollouts []runner.Rollout
	// kept: pods of another template that OnDelete keeps.
	kept []string
}

// planDaemonSets sorts the pods a manifest's DaemonSets made (among pods,
// those not running yet, with their plans) into what `up` starts as any
// pod and what their updates do; recorded are the pods that run, unfit the
// DaemonSets (namespace/name) whose template does not fit this host. It
// returns the pods (and plans) that start as any pod.
func planDaemonSets(dss []*appsv1.DaemonSet, pods []*corev1.Pod, plans []*units.Plan, recorded []*corev1.Pod, unfit map[string]bool) (w daemonSetWork, rest []*corev1.Pod, restPlans []*units.Plan) {
	type update struct {
		ds  *appsv1.DaemonSet
		old []string
	}
	updates := map[string]*update{} // by namespace/name: those with old pods
	for _, ds := range dss {
		key := ds.Namespace + "/" + ds.Name
		want := pod.DaemonSetPod(ds).Name
		if unfit[key] {
			// every pod goes, of any template, as from a node the
			// DaemonSet no longer selects
			w.removeFirst = append(w.removeFirst, daemonSetPods(recorded, ds)...)
			continue
		}
		var old []string
		for _, n := range daemonSetPods(recorded, ds) {
			if n != want {
				old = append(old, n)
			}
		}
		if len(old) > 0 {
			updates[key] = &update{ds, old}
		}
	}
	for i, p := range pods {
		u := updates[p.Namespace+"/"+pod.OwnerDaemonSet(p)]
		switch {
		case pod.OwnerDaemonSet(p) == "" || u == nil:
			rest, restPlans = append(rest, p), append(restPlans, plans[i])
		case u.ds.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType:
			// the old pod keeps its template until it is taken down
			w.kept = append(w.kept, u.old...)
		case pod.DaemonSetSurge(u.ds):
			w.rollouts = append(w.rollouts, runner.Rollout{Deployment: pod.DaemonSetRollout(u.ds), Pending: []*corev1.Pod{p}, Plans: []*units.Plan{plans[i]}, Old: u.old})
		default:
			w.removeFirst = append(w.removeFirst, u.old...)
			rest, restPlans = append(rest, p), append(restPlans, plans[i])
		}
	}
	return w, rest, restPlans
}

// daemonSetPods are the recorded pods a DaemonSet made, of any template.
func daemonSetPods(recorded []*corev1.Pod, ds *appsv1.DaemonSet) []string {
	var out []string
	for _, p := range recorded {
		if p.Namespace == ds.Namespace && pod.OwnerDaemonSet(p) == ds.Name {
			out = append(out, p.Name)
		}
	}
	return out
}

// unfitDaemonSets drops from pods those of DaemonSets whose template does
// not fit this host (its nodeSelector, required node affinity): on a
// cluster they run on other nodes, here on none. It returns the pods left,
// the DaemonSets that make none (namespace/name) and a warning for each.
func unfitDaemonSets(pods []*corev1.Pod, dss []*appsv1.DaemonSet, labels map[string]string) ([]*corev1.Pod, map[string]bool, []string) {
	unfit := map[string]bool{}
	var warns []string
	for _, ds := range dss {
		if miss := pod.NodeMisfits(pod.DaemonSetPod(ds), labels); len(miss) > 0 {
			unfit[ds.Namespace+"/"+ds.Name] = true
			warns = append(warns, fmt.Sprintf("daemonset %q: no pod on this host, which its template does not fit: spec.template.%s", ds.Name, strings.Join(miss, "; spec.template.")))
		}
	}
	if len(unfit) == 0 {
		return pods, unfit, nil
	}
	pods = slices.DeleteFunc(slices.Clone(pods), func(p *corev1.Pod) bool {
		return unfit[p.Namespace+"/"+pod.OwnerDaemonSet(p)] && pod.OwnerDaemonSet(p) != ""
	})
	return pods, unfit, warns
}

// daemonSetStatus is a DaemonSet's status on this one node, from its pods.
func daemonSetStatus(ds *appsv1.DaemonSet, pods []*corev1.Pod, labels map[string]string) appsv1.DaemonSetStatus {
	var st appsv1.DaemonSetStatus
	fits := pod.MatchNode(pod.DaemonSetPod(ds), labels) == nil
	if fits {
		st.DesiredNumberScheduled = 1
	}
	hash := pod.TemplateHash(&ds.Spec.Template)
	for _, p := range pods {
		if p.Namespace != ds.Namespace || pod.OwnerDaemonSet(p) != ds.Name {
			continue
		}
		if !fits {
			st.NumberMisscheduled++
			continue
		}
		// the node counts once, however many pods it has (during a surge)
		st.CurrentNumberScheduled = 1
		if p.Labels[pod.LabelRevision] == hash {
			st.UpdatedNumberScheduled = 1
		}
		if conditionTrue(p, corev1.PodReady) {
			st.NumberReady, st.NumberAvailable = 1, 1
		}
	}
	st.NumberUnavailable = st.DesiredNumberScheduled - st.NumberAvailable
	return st
}

// printDaemonSets lists the stored DaemonSets (those named, or all) with
// their pods' counts, as kubectl get daemonsets.
func printDaemonSets(ctx context.Context, w, errw io.Writer, r *runner.Runner, names []string, ns string, sel selection, format string, t tableOpts) error {
	list, pods, err := storedWithPods(ctx, r, func(o *pod.Objects) []*appsv1.DaemonSet { return o.DaemonSets }, "daemonset", names, ns, sel)
	if err != nil {
		return err
	}
	labels := nodeLabels()
	if done, err := listing(w, errw, list, "daemonset.apps", ns, format, len(names) == 1, func(ds *appsv1.DaemonSet) any {
		x := ds.DeepCopy()
		x.APIVersion, x.Kind = "apps/v1", pod.KindDaemonSet
		x.Status = daemonSetStatus(ds, pods, labels)
		return x
	}); done {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	head := t.head("NAME\tDESIRED\tCURRENT\tREADY\tUP-TO-DATE\tAVAILABLE\tNODE SELECTOR\tAGE")
	if format == "wide" {
		head += "\tCONTAINERS\tIMAGES\tSELECTOR"
	}
	fmt.Fprintln(tw, head)
	now := time.Now()
	for _, ds := range list {
		st := daemonSetStatus(ds, pods, labels)
		line := t.row(ds.Namespace, fmt.Sprintf("%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s", t.name("daemonset.apps", ds.Name),
			st.DesiredNumberScheduled, st.CurrentNumberScheduled, st.NumberReady, st.UpdatedNumberScheduled, st.NumberAvailable,
			nodeSelectorColumn(ds.Spec.Template.Spec.NodeSelector), since(ds.CreationTimestamp.Time, now)))
		if format == "wide" {
			cs, images := templateImages(&ds.Spec.Template)
			line += fmt.Sprintf("\t%s\t%s\t%s", cs, images, metav1.FormatLabelSelector(ds.Spec.Selector))
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// nodeSelectorColumn is kubectl's NODE SELECTOR: key=value pairs in order,
// or <none>.
func nodeSelectorColumn(sel map[string]string) string {
	if len(sel) == 0 {
		return "<none>"
	}
	var kv []string
	for k, v := range sel {
		kv = append(kv, k+"="+v)
	}
	slices.Sort(kv)
	return strings.Join(kv, ",")
}

// daemonSetArg is the stored DaemonSet a command's arguments name
// (daemonset/NAME, ds/NAME, `daemonset NAME`); ok is false when they name
// none.
func daemonSetArg(c *cli.Context) (*appsv1.DaemonSet, bool, error) {
	return storedArg(c, daemonSetTypes, "daemonset", func(o *pod.Objects) []*appsv1.DaemonSet { return o.DaemonSets })
}

// applyDaemonSet applies a DaemonSet as `podunit up -` applies it.
func applyDaemonSet(c *cli.Context, ds *appsv1.DaemonSet, persist bool) error {
	ds = ds.DeepCopy()
	ds.APIVersion, ds.Kind = "apps/v1", pod.KindDaemonSet
	return applyWorkload(c, ds, persist)
}

// daemonSetRolledOut is kubectl rollout status of a DaemonSet: what it
// waits for, or what it says when done.
func daemonSetRolledOut(ds *appsv1.DaemonSet, pods []*corev1.Pod) (waiting, done string) {
	st := daemonSetStatus(ds, pods, nodeLabels())
	switch {
	case st.UpdatedNumberScheduled < st.DesiredNumberScheduled:
		return fmt.Sprintf("Waiting for daemon set %q rollout to finish: %d out of %d new pods have been updated...", ds.Name, st.UpdatedNumberScheduled, st.DesiredNumberScheduled), ""
	case st.NumberAvailable < st.DesiredNumberScheduled:
		return fmt.Sprintf("Waiting for daemon set %q rollout to finish: %d of %d updated pods are available...", ds.Name, st.NumberAvailable, st.DesiredNumberScheduled), ""
	}
	for _, p := range pods {
		// an old pod that a surge left is still going
		if p.Namespace == ds.Namespace && pod.OwnerDaemonSet(p) == ds.Name && p.Labels[pod.LabelRevision] != pod.TemplateHash(&ds.Spec.Template) &&
			ds.Spec.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType {
			return fmt.Sprintf("Waiting for daemon set %q rollout to finish: 1 old pod is pending termination...", ds.Name), ""
		}
	}
	return "", fmt.Sprintf("daemon set %q successfully rolled out", ds.Name)
}

// describeDaemonSet is kubectl describe daemonset, with its pod.
func describeDaemonSet(ctx context.Context, w io.Writer, r *runner.Runner, ds *appsv1.DaemonSet) error {
	pods, err := currentPods(ctx, r, nil)
	if err != nil {
		return err
	}
	labels := nodeLabels()
	st := daemonSetStatus(ds, pods, labels)
	hash := pod.TemplateHash(&ds.Spec.Template)
	var owned []*corev1.Pod
	phases := map[corev1.PodPhase]int{}
	for _, p := range pods {
		if p.Namespace == ds.Namespace && pod.OwnerDaemonSet(p) == ds.Name {
			owned = append(owned, p)
			phases[p.Status.Phase]++
		}
	}
	fmt.Fprintf(w, "Name:           %s\n", ds.Name)
	fmt.Fprintf(w, "Namespace:      %s\n", ds.Namespace)
	fmt.Fprintf(w, "Selector:       %s\n", metav1.FormatLabelSelector(ds.Spec.Selector))
	fmt.Fprintf(w, "Node-Selector:  %s\n", nodeSelectorColumn(ds.Spec.Template.Spec.NodeSelector))
	fmt.Fprintf(w, "Labels:         %s\n", labelList(ds.Labels))
	fmt.Fprintf(w, "Desired Number of Nodes Scheduled: %d\n", st.DesiredNumberScheduled)
	fmt.Fprintf(w, "Current Number of Nodes Scheduled: %d\n", st.CurrentNumberScheduled)
	fmt.Fprintf(w, "Number of Nodes Scheduled with Up-to-date Pods: %d\n", st.UpdatedNumberScheduled)
	fmt.Fprintf(w, "Number of Nodes Scheduled with Available Pods: %d\n", st.NumberAvailable)
	fmt.Fprintf(w, "Number of Nodes Misscheduled: %d\n", st.NumberMisscheduled)
	fmt.Fprintf(w, "Pods Status:  %d Running / %d Waiting / %d Succeeded / %d Failed\n",
		phases[corev1.PodRunning], phases[corev1.PodPending], phases[corev1.PodSucceeded], phases[corev1.PodFailed])
	fmt.Fprintf(w, "Update Strategy: %s\n", ds.Spec.UpdateStrategy.Type)
	if ru := ds.Spec.UpdateStrategy.RollingUpdate; ru != nil {
		fmt.Fprintf(w, "  Max Unavailable: %s, Max Surge: %s\n", ru.MaxUnavailable.String(), ru.MaxSurge.String())
	}
	for _, m := range pod.NodeMisfits(pod.DaemonSetPod(ds), labels) {
		fmt.Fprintf(w, "This host:      no pod: spec.template.%s\n", m)
	}
	describePodTemplate(w, &ds.Spec.Template)
	return describeOwnedPods(w, owned, "TEMPLATE", pod.LabelRevision, hash)
}

// describeOwnedPods is describe's list of a workload's pods: each pod's
// name, whether it is of the current template (its label's value is
// current) under column, whether it is ready, its phase.
func describeOwnedPods(w io.Writer, owned []*corev1.Pod, column, label, current string) error {
	fmt.Fprintln(w, "Pods:")
	if len(owned) == 0 {
		fmt.Fprintln(w, "  <none>")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  NAME\t%s\tREADY\tPHASE\n", column)
	for _, p := range owned {
		which := "old"
		if p.Labels[label] == current {
			which = "current"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%v\t%s\n", p.Name, which, conditionTrue(p, corev1.PodReady), p.Status.Phase)
	}
	return tw.Flush()
}

// daemonSetDryRun says what applying a DaemonSet would do to its running
// pods, for up --dry-run.
func daemonSetDryRun(ds *appsv1.DaemonSet, recorded []*corev1.Pod, unfit map[string]bool) []string {
	owned := daemonSetPods(recorded, ds)
	want := pod.DaemonSetPod(ds).Name
	if unfit[ds.Namespace+"/"+ds.Name] {
		if len(owned) == 0 {
			return nil
		}
		return []string{fmt.Sprintf("# daemonset %s/%s: its pods %s would be removed (its template no longer fits this host)", ds.Namespace, ds.Name, strings.Join(owned, ", "))}
	}
	old := slices.DeleteFunc(owned, func(n string) bool { return n == want })
	switch {
	case len(old) == 0:
		return nil
	case ds.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType:
		return []string{fmt.Sprintf("# daemonset %s/%s: its pods %s would be kept (OnDelete): pod %s would not start until they are taken down", ds.Namespace, ds.Name, strings.Join(old, ", "), want)}
	case pod.DaemonSetSurge(ds):
		return []string{fmt.Sprintf("# daemonset %s/%s: its pods %s would be removed once pod %s is available (maxSurge)", ds.Namespace, ds.Name, strings.Join(old, ", "), want)}
	}
	return []string{fmt.Sprintf("# daemonset %s/%s: its pods %s would be removed before pod %s starts", ds.Namespace, ds.Name, strings.Join(old, ", "), want)}
}
