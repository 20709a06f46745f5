package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
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
func printStatefulSets(ctx context.Context, w, errw io.Writer, r *runner.Runner, names []string, ns string, sel labels.Selector, format string) error {
	known, err := podstate.LoadObjects(podstate.DefaultDir())
	if err != nil {
		return err
	}
	list, err := storedNamed(known.StatefulSets, "statefulset", names, ns, sel)
	if err != nil {
		return err
	}
	if len(list) == 0 && (format == "" || format == "wide" || format == "name") {
		fmt.Fprintln(errw, noneFound(ns))
		return nil
	}
	pods, err := currentPods(ctx, r, nil)
	if err != nil {
		return err
	}
	objs := make([]any, len(list))
	for i, s := range list {
		x := s.DeepCopy()
		x.APIVersion, x.Kind = "apps/v1", pod.KindStatefulSet
		x.Status = statefulSetStatus(s, pods)
		objs[i] = x
	}
	if done, err := printStructured(w, objs, len(names) == 1, format); done {
		return err
	}
	if format == "name" {
		for _, s := range list {
			fmt.Fprintf(w, "statefulset.apps/%s\n", s.Name)
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := "NAMESPACE\tNAME\tREADY"
	if format == "wide" {
		head += "\tCONTAINERS\tIMAGES"
	}
	fmt.Fprintln(tw, head)
	for _, s := range list {
		st := statefulSetStatus(s, pods)
		line := fmt.Sprintf("%s\t%s\t%d/%d", s.Namespace, s.Name, st.ReadyReplicas, *s.Spec.Replicas)
		if format == "wide" {
			var cs, imgs []string
			for _, c := range s.Spec.Template.Spec.Containers {
				cs, imgs = append(cs, c.Name), append(imgs, c.Image)
			}
			line += "\t" + strings.Join(cs, ",") + "\t" + strings.Join(imgs, ",")
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// statefulSetRef is the NAME of statefulset/NAME (sts/NAME), or "".
func statefulSetRef(a string) string {
	kind, name, ok := strings.Cut(a, "/")
	if !ok || !slices.Contains(statefulSetTypes, strings.ToLower(kind)) {
		return ""
	}
	return name
}

// statefulSetsNamed are the stored StatefulSets of a name, in namespace ns
// ("": in any).
func statefulSetsNamed(name, ns string) ([]*appsv1.StatefulSet, error) {
	known, err := podstate.LoadObjects(podstate.DefaultDir())
	if err != nil {
		return nil, err
	}
	var found []*appsv1.StatefulSet
	for _, s := range known.StatefulSets {
		if s.Name == name && (ns == "" || s.Namespace == ns) {
			found = append(found, s)
		}
	}
	return found, nil
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
