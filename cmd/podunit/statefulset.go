package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/podstate/objstore"
	"github.com/podunit/podunit/runner"
	"github.com/podunit/podunit/units"
)

var statefulSetTypes = []string{"statefulset", "statefulsets", "sts"}

// setWork is what `up` does to make the running pods of a manifest's
// StatefulSets match them.
type setWork struct {
	rolls []runner.SetRoll
	// kept: running pods of another revision the update strategy leaves
	// as they are (OnDelete, or below the partition)
	kept []string
	// scaledClaims: the claims of the pods a scale-down removes, whose set
	// deletes them (whenScaled: Delete)
	scaledClaims []*corev1.PersistentVolumeClaim
}

// planStatefulSets sorts the pods a manifest's StatefulSets made (among
// pods, those to start, with their plans) into the steps of each set, in
// the controller's order; recorded are the pods that run. It returns the
// pods (and plans) that start as any pod.
func planStatefulSets(sets []*appsv1.StatefulSet, pods []*corev1.Pod, plans []*units.Plan, recorded []*corev1.Pod) (w setWork, rest []*corev1.Pod, restPlans []*units.Plan) {
	type pending struct {
		p    *corev1.Pod
		plan *units.Plan
	}
	key := func(ns, name string) string { return ns + "/" + name }
	mine := map[string]map[string]pending{} // by set, by pod
	for _, s := range sets {
		mine[key(s.Namespace, s.Name)] = map[string]pending{}
	}
	for i, p := range pods {
		if m, ok := mine[key(p.Namespace, pod.OwnerStatefulSet(p))]; ok && pod.OwnerStatefulSet(p) != "" {
			m[p.Name] = pending{p, plans[i]}
			continue
		}
		rest, restPlans = append(rest, p), append(restPlans, plans[i])
	}
	for _, s := range sets {
		todo := mine[key(s.Namespace, s.Name)]
		running := map[string]*corev1.Pod{}
		for _, p := range recorded {
			if p.Namespace == s.Namespace && pod.OwnerStatefulSet(p) == s.Name {
				running[p.Name] = p
			}
		}
		wanted := pod.SetPods(s)
		parallel := s.Spec.PodManagementPolicy == appsv1.ParallelPodManagement
		var steps []runner.SetStep
		// the missing pods, the lowest ordinal first
		together := runner.SetStep{}
		for _, wp := range wanted {
			pd, ok := todo[wp.Name]
			if _, runs := running[wp.Name]; runs || !ok {
				continue
			}
			if parallel {
				together.Start, together.Plans = append(together.Start, pd.p), append(together.Plans, pd.plan)
			} else {
				steps = append(steps, runner.SetStep{Start: []*corev1.Pod{pd.p}, Plans: []*units.Plan{pd.plan}, Wait: true})
			}
		}
		if len(together.Start) > 0 {
			steps = append(steps, together)
		}
		// the pods beyond its replicas, the highest ordinal first
		var condemned []*corev1.Pod
		for _, p := range running {
			if !slices.ContainsFunc(wanted, func(wp *corev1.Pod) bool { return wp.Name == p.Name }) {
				condemned = append(condemned, p)
			}
		}
		slices.SortFunc(condemned, func(a, b *corev1.Pod) int { return pod.SetOrdinal(b) - pod.SetOrdinal(a) })
		together = runner.SetStep{}
		for _, p := range condemned {
			if parallel {
				together.Remove = append(together.Remove, p.Name)
			} else {
				steps = append(steps, runner.SetStep{Remove: []string{p.Name}})
			}
			if s.Spec.PersistentVolumeClaimRetentionPolicy.WhenScaled == appsv1.DeletePersistentVolumeClaimRetentionPolicyType {
				for _, t := range s.Spec.VolumeClaimTemplates {
					w.scaledClaims = append(w.scaledClaims, &corev1.PersistentVolumeClaim{
						ObjectMeta: metav1.ObjectMeta{Name: pod.SetClaimName(t.Name, p.Name), Namespace: s.Namespace}})
				}
			}
		}
		if len(together.Remove) > 0 {
			steps = append(steps, together)
		}
		// the pods of another revision, the highest ordinal first, one at a
		// time (whatever the pod management policy)
		partition := 0
		if ru := s.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
			partition = int(*ru.Partition)
		}
		for i := len(wanted) - 1; i >= 0; i-- {
			wp := wanted[i]
			pd, ok := todo[wp.Name]
			if _, runs := running[wp.Name]; !runs || !ok {
				continue
			}
			if s.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType || pod.SetOrdinal(wp) < partition {
				w.kept = append(w.kept, wp.Name)
				continue
			}
			steps = append(steps, runner.SetStep{Remove: []string{wp.Name}, Start: []*corev1.Pod{pd.p}, Plans: []*units.Plan{pd.plan}, Wait: true})
		}
		if len(steps) > 0 {
			w.rolls = append(w.rolls, runner.SetRoll{Set: s, Steps: steps})
		}
	}
	return w, rest, restPlans
}

// setPods are the recorded pods a StatefulSet made.
func setPods(recorded []*corev1.Pod, s *appsv1.StatefulSet) []string {
	var out []string
	for _, p := range recorded {
		if p.Namespace == s.Namespace && pod.OwnerStatefulSet(p) == s.Name {
			out = append(out, p.Name)
		}
	}
	return out
}

// statefulSetStatus is a StatefulSet's status, from its pods.
func statefulSetStatus(s *appsv1.StatefulSet, pods []*corev1.Pod) appsv1.StatefulSetStatus {
	rev := pod.RevisionHash(s)
	st := appsv1.StatefulSetStatus{UpdateRevision: rev}
	for _, p := range pods {
		if p.Namespace != s.Namespace || pod.OwnerStatefulSet(p) != s.Name {
			continue
		}
		st.Replicas++
		if p.Labels[pod.LabelRevision] == rev {
			st.UpdatedReplicas++
			st.CurrentReplicas++
		}
		if conditionTrue(p, corev1.PodReady) {
			st.ReadyReplicas++
			st.AvailableReplicas++
		}
	}
	if st.UpdatedReplicas == st.Replicas {
		st.CurrentRevision = rev
	}
	return st
}

// printStatefulSets lists the stored StatefulSets (those named, or all)
// with their pods' counts, as kubectl get statefulsets.
func printStatefulSets(ctx context.Context, w, errw io.Writer, r *runner.Runner, names []string, ns string, sel selection, format string, t tableOpts) error {
	list, pods, err := storedWithPods(ctx, r, func(o *pod.Objects) []*appsv1.StatefulSet { return o.StatefulSets }, "statefulset", names, ns, sel)
	if err != nil {
		return err
	}
	if done, err := listing(w, errw, list, "statefulset.apps", ns, format, len(names) == 1, func(s *appsv1.StatefulSet) any {
		x := s.DeepCopy()
		x.APIVersion, x.Kind = "apps/v1", pod.KindStatefulSet
		x.Status = statefulSetStatus(s, pods)
		return x
	}); done {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	head := t.head("NAME\tREADY\tAGE")
	if format == "wide" {
		head += "\tCONTAINERS\tIMAGES"
	}
	fmt.Fprintln(tw, head)
	now := time.Now()
	for _, s := range list {
		st := statefulSetStatus(s, pods)
		line := t.row(s.Namespace, fmt.Sprintf("%s\t%d/%d\t%s", t.name("statefulset.apps", s.Name), st.ReadyReplicas, *s.Spec.Replicas, since(s.CreationTimestamp.Time, now)))
		if format == "wide" {
			cs, imgs := templateImages(&s.Spec.Template)
			line += "\t" + cs + "\t" + imgs
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// statefulSetRef is the NAME of statefulset/NAME (sts/NAME), or "".
func statefulSetRef(a string) string { return typedRef(a, statefulSetTypes) }

// statefulSetsNamed are the stored StatefulSets of a name, in namespace ns
// ("": in any).
func statefulSetsNamed(name, ns string) ([]*appsv1.StatefulSet, error) {
	known, err := objstore.LoadObjects(podstate.DefaultDir())
	if err != nil {
		return nil, err
	}
	return named(known.StatefulSets, name, ns), nil
}

// retainedClaims are the claims of a manifest's StatefulSets that stay when
// the sets go (whenDeleted: Retain, the default): the stored claims of
// every pod they may have made, not only of their current replicas.
func retainedClaims(sets []*appsv1.StatefulSet, claims []*corev1.PersistentVolumeClaim) []*corev1.PersistentVolumeClaim {
	return slices.DeleteFunc(slices.Clone(claims), func(c *corev1.PersistentVolumeClaim) bool {
		return !slices.ContainsFunc(sets, func(s *appsv1.StatefulSet) bool {
			return s.Namespace == c.Namespace && s.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted != appsv1.DeletePersistentVolumeClaimRetentionPolicyType &&
				setClaim(s, c.Name)
		})
	})
}

// deletedClaims are the stored claims a StatefulSet made that go with it
// (whenDeleted: Delete): those of any ordinal, not only of its replicas.
func deletedClaims(s *appsv1.StatefulSet, known []*corev1.PersistentVolumeClaim) []*corev1.PersistentVolumeClaim {
	if s.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted != appsv1.DeletePersistentVolumeClaimRetentionPolicyType {
		return nil
	}
	var out []*corev1.PersistentVolumeClaim
	for _, c := range known {
		if c.Namespace == s.Namespace && setClaim(s, c.Name) {
			out = append(out, c)
		}
	}
	return out
}

// setClaim tells whether a claim's name is one a set's pods have:
// <template>-<set>-<ordinal>.
func setClaim(s *appsv1.StatefulSet, name string) bool {
	for _, t := range s.Spec.VolumeClaimTemplates {
		if rest, ok := strings.CutPrefix(name, t.Name+"-"+s.Name+"-"); ok && rest != "" && strings.Trim(rest, "0123456789") == "" {
			return true
		}
	}
	return false
}

// setOrdinalOf is the ordinal at the end of a set's pod's name, or -1.
func setOrdinalOf(name string) int {
	i := strings.LastIndexByte(name, '-')
	n, err := strconv.Atoi(name[i+1:])
	if i < 0 || err != nil {
		return -1
	}
	return n
}

// setArg is the stored StatefulSet a command's arguments name
// (statefulset/NAME, sts/NAME, `statefulset NAME`); ok is false when they
// name none.
func setArg(c *cli.Context) (*appsv1.StatefulSet, bool, error) {
	return storedArg(c, statefulSetTypes, "statefulset", func(o *pod.Objects) []*appsv1.StatefulSet { return o.StatefulSets })
}

// describeStatefulSet is kubectl describe statefulset: the set, its pods'
// counts and each pod with its revision and claims.
func describeStatefulSet(ctx context.Context, w io.Writer, r *runner.Runner, s *appsv1.StatefulSet) error {
	pods, err := currentPods(ctx, r, nil)
	if err != nil {
		return err
	}
	st := statefulSetStatus(s, pods)
	rev := pod.RevisionHash(s)
	var owned []*corev1.Pod
	phases := map[corev1.PodPhase]int{}
	for _, p := range pods {
		if p.Namespace == s.Namespace && pod.OwnerStatefulSet(p) == s.Name {
			owned = append(owned, p)
			phases[p.Status.Phase]++
		}
	}
	slices.SortFunc(owned, func(a, b *corev1.Pod) int { return pod.SetOrdinal(a) - pod.SetOrdinal(b) })
	fmt.Fprintf(w, "Name:               %s\n", s.Name)
	fmt.Fprintf(w, "Namespace:          %s\n", s.Namespace)
	fmt.Fprintf(w, "Selector:           %s\n", metav1.FormatLabelSelector(s.Spec.Selector))
	fmt.Fprintf(w, "Labels:             %s\n", labelList(s.Labels))
	fmt.Fprintf(w, "Replicas:           %d desired | %d total\n", *s.Spec.Replicas, st.Replicas)
	fmt.Fprintf(w, "Update Strategy:    %s\n", s.Spec.UpdateStrategy.Type)
	if ru := s.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		fmt.Fprintf(w, "  Partition:        %d\n", *ru.Partition)
	}
	fmt.Fprintf(w, "Pod Management:     %s\n", s.Spec.PodManagementPolicy)
	fmt.Fprintf(w, "Service Name:       %s\n", orNone(s.Spec.ServiceName))
	fmt.Fprintf(w, "Pods Status:        %d Running / %d Waiting / %d Succeeded / %d Failed\n",
		phases[corev1.PodRunning], phases[corev1.PodPending], phases[corev1.PodSucceeded], phases[corev1.PodFailed])
	describePodTemplate(w, &s.Spec.Template)
	fmt.Fprintln(w, "Volume Claims:")
	if len(s.Spec.VolumeClaimTemplates) == 0 {
		fmt.Fprintln(w, "  <none>")
	}
	for _, t := range s.Spec.VolumeClaimTemplates {
		fmt.Fprintf(w, "  Name:          %s\n  Access Modes:  %s\n  Retention:     %s when scaled, %s when deleted\n", t.Name, orNone(shortModes(t.Spec.AccessModes)),
			s.Spec.PersistentVolumeClaimRetentionPolicy.WhenScaled, s.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted)
	}
	fmt.Fprintf(w, "Update Revision:    %s\n", rev)
	return describeOwnedPods(w, owned, "REVISION", pod.LabelRevision, rev)
}

// setRolledOut is kubectl rollout status of a StatefulSet: "" once every
// pod is of its current revision and Ready (down to the partition), or
// what it waits for.
func setRolledOut(s *appsv1.StatefulSet, pods []*corev1.Pod) string {
	st := statefulSetStatus(s, pods)
	want := *s.Spec.Replicas
	partition := int32(0)
	if ru := s.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		partition = min(*ru.Partition, want)
	}
	switch {
	case s.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType:
		return "" // kubectl: rollout status only works for RollingUpdate; nothing to wait for
	case st.ReadyReplicas < want:
		return fmt.Sprintf("Waiting for %d pods to be ready...", want-st.ReadyReplicas)
	case st.UpdatedReplicas < want-partition:
		return fmt.Sprintf("Waiting for partitioned roll out to finish: %d out of %d new pods have been updated...", st.UpdatedReplicas, want-partition)
	}
	return ""
}

// setDryRun says what applying a StatefulSet would do to its running pods:
// those beyond its replicas removed, those of another revision replaced
// (or kept, by OnDelete or the partition).
func setDryRun(s *appsv1.StatefulSet, recorded []*corev1.Pod) []string {
	rev := pod.RevisionHash(s)
	wanted := map[string]bool{}
	for _, p := range pod.SetPods(s) {
		wanted[p.Name] = true
	}
	partition := 0
	if ru := s.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		partition = int(*ru.Partition)
	}
	var gone, replaced, kept []*corev1.Pod
	for _, p := range recorded {
		switch {
		case p.Namespace != s.Namespace || pod.OwnerStatefulSet(p) != s.Name:
		case !wanted[p.Name]:
			gone = append(gone, p)
		case p.Labels[pod.LabelRevision] == rev:
		case s.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType || pod.SetOrdinal(p) < partition:
			kept = append(kept, p)
		default:
			replaced = append(replaced, p)
		}
	}
	var out []string
	for _, g := range []struct {
		pods []*corev1.Pod
		what string
	}{{gone, "would be removed (beyond its replicas), the highest ordinal first"},
		{replaced, "would be replaced by revision " + rev + ", one at a time from the highest ordinal"},
		{kept, keptWhy(s, partition)}} {
		if len(g.pods) == 0 {
			continue
		}
		slices.SortFunc(g.pods, func(a, b *corev1.Pod) int { return pod.SetOrdinal(b) - pod.SetOrdinal(a) })
		out = append(out, fmt.Sprintf("# statefulset %s/%s: its pods %s %s", s.Namespace, s.Name, strings.Join(podNames(g.pods), ", "), g.what))
	}
	return out
}

func keptWhy(s *appsv1.StatefulSet, partition int) string {
	if s.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType {
		return "would keep their revision (OnDelete: a pod taken down comes back of the new one)"
	}
	return fmt.Sprintf("would keep their revision (below the partition, %d)", partition)
}

func podNames(pods []*corev1.Pod) []string {
	out := make([]string, len(pods))
	for i, p := range pods {
		out[i] = p.Name
	}
	return out
}
