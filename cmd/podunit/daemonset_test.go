package main

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/units"
)

func daemonSetOf(t *testing.T, image, strategy, nodeSelector string) (*appsv1.DaemonSet, *corev1.Pod) {
	t.Helper()
	m, err := pod.Load([]byte(`apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  updateStrategy: ` + strategy + `
  template:
    metadata: {labels: {app: agent}}
    spec:
      nodeSelector: ` + nodeSelector + `
      containers: [{name: c, image: ` + image + `}]
`))
	if err != nil {
		t.Fatal(err)
	}
	return m.Objects.DaemonSets[0], m.Pods[0]
}

func TestPlanDaemonSets(t *testing.T) {
	_, v1 := daemonSetOf(t, "x:1", "{}", "{}")
	other := &corev1.Pod{}
	other.Name, other.Namespace = "db", "default"
	recorded := []*corev1.Pod{v1, other}
	plan := func(p *corev1.Pod) []*units.Plan { return []*units.Plan{{Pod: p.Name}} }
	none := map[string]bool{}

	t.Run("first: the pod starts as any pod", func(t *testing.T) {
		ds, p := daemonSetOf(t, "x:1", "{}", "{}")
		w, rest, plans := planDaemonSets([]*appsv1.DaemonSet{ds}, []*corev1.Pod{p}, plan(p), []*corev1.Pod{other}, none)
		if !slices.Equal(names(rest), []string{p.Name}) || plans[0].Pod != p.Name || len(w.removeFirst)+len(w.rollouts)+len(w.kept) != 0 {
			t.Errorf("rest %v, work %+v", names(rest), w)
		}
	})
	t.Run("RollingUpdate without surge: the old pod goes first", func(t *testing.T) {
		ds, v2 := daemonSetOf(t, "x:2", "{rollingUpdate: {maxUnavailable: 1}}", "{}")
		w, rest, _ := planDaemonSets([]*appsv1.DaemonSet{ds}, []*corev1.Pod{v2}, plan(v2), recorded, none)
		if !slices.Equal(names(rest), []string{v2.Name}) || !slices.Equal(w.removeFirst, []string{v1.Name}) || len(w.rollouts)+len(w.kept) != 0 {
			t.Errorf("rest %v, work %+v", names(rest), w)
		}
	})
	t.Run("maxSurge: the new pod rolls out beside the old one", func(t *testing.T) {
		ds, v2 := daemonSetOf(t, "x:2", "{rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}", "{}")
		w, rest, _ := planDaemonSets([]*appsv1.DaemonSet{ds}, []*corev1.Pod{v2}, plan(v2), recorded, none)
		if len(rest) != 0 || len(w.rollouts) != 1 || len(w.removeFirst)+len(w.kept) != 0 {
			t.Fatalf("rest %v, work %+v", names(rest), w)
		}
		ro := w.rollouts[0]
		if !slices.Equal(names(ro.Pending), []string{v2.Name}) || ro.Plans[0].Pod != v2.Name || !slices.Equal(ro.Old, []string{v1.Name}) {
			t.Errorf("rollout pending %v old %v", names(ro.Pending), ro.Old)
		}
		if surge, unavailable := pod.RolloutLimits(ro.Deployment); surge != 1 || unavailable != 0 || *ro.Deployment.Spec.Replicas != 1 || ro.Deployment.Kind != pod.KindDaemonSet {
			t.Errorf("rollout of %s: replicas %d, surge %d, unavailable %d", ro.Deployment.Kind, *ro.Deployment.Spec.Replicas, surge, unavailable)
		}
	})
	t.Run("OnDelete: the old pod stays, the new one waits", func(t *testing.T) {
		ds, v2 := daemonSetOf(t, "x:2", "{type: OnDelete}", "{}")
		w, rest, _ := planDaemonSets([]*appsv1.DaemonSet{ds}, []*corev1.Pod{v2}, plan(v2), recorded, none)
		if len(rest) != 0 || !slices.Equal(w.kept, []string{v1.Name}) || len(w.removeFirst)+len(w.rollouts) != 0 {
			t.Errorf("rest %v, work %+v", names(rest), w)
		}
	})
	t.Run("a template this host does not fit: every pod goes, of this template too", func(t *testing.T) {
		ds, _ := daemonSetOf(t, "x:1", "{}", "{disk: ssd}")
		w, rest, _ := planDaemonSets([]*appsv1.DaemonSet{ds}, nil, nil, recorded, map[string]bool{"default/agent": true})
		if len(rest) != 0 || !slices.Equal(w.removeFirst, []string{v1.Name}) {
			t.Errorf("rest %v, work %+v", names(rest), w)
		}
	})
	t.Run("another namespace's DaemonSet of that name is another", func(t *testing.T) {
		ds, v2 := daemonSetOf(t, "x:2", "{}", "{}")
		ds.Namespace = "shop"
		w, _, _ := planDaemonSets([]*appsv1.DaemonSet{ds}, []*corev1.Pod{v2}, plan(v2), recorded, none)
		if len(w.removeFirst) != 0 {
			t.Errorf("removes %v of namespace default", w.removeFirst)
		}
	})
}

func TestUnfitDaemonSets(t *testing.T) {
	ds, p := daemonSetOf(t, "x:1", "{}", "{disk: ssd}")
	other := &corev1.Pod{}
	other.Name, other.Namespace = "db", "default"
	pods, unfit, warns := unfitDaemonSets([]*corev1.Pod{p, other}, []*appsv1.DaemonSet{ds}, map[string]string{"disk": "hdd"})
	if !slices.Equal(names(pods), []string{"db"}) || !unfit["default/agent"] || len(warns) != 1 ||
		!strings.Contains(warns[0], `daemonset "agent": no pod on this host, which its template does not fit: spec.template.spec.nodeSelector[disk]: wants "ssd", this host has "hdd"`) {
		t.Errorf("pods %v, unfit %v, warnings %q", names(pods), unfit, warns)
	}
	if pods, unfit, warns := unfitDaemonSets([]*corev1.Pod{p}, []*appsv1.DaemonSet{ds}, map[string]string{"disk": "ssd"}); len(pods) != 1 || len(unfit)+len(warns) != 0 {
		t.Errorf("on a host that fits: pods %v, unfit %v, warnings %q", names(pods), unfit, warns)
	}
}

func TestDaemonSetStatus(t *testing.T) {
	ds, v2 := daemonSetOf(t, "x:2", "{rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}", "{}")
	_, v1 := daemonSetOf(t, "x:1", "{}", "{}")
	ready := v1.DeepCopy()
	ready.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	// during a surge: two pods on the one node, the old one ready
	st := daemonSetStatus(ds, []*corev1.Pod{ready, v2}, nil)
	if st.DesiredNumberScheduled != 1 || st.CurrentNumberScheduled != 1 || st.UpdatedNumberScheduled != 1 || st.NumberReady != 1 || st.NumberMisscheduled != 0 {
		t.Errorf("status %+v", st)
	}
	if waiting, done := daemonSetRolledOut(ds, []*corev1.Pod{ready, v2}); waiting == "" || done != "" {
		t.Errorf("rollout status: %q, %q", waiting, done)
	}
	// a node selector this host does not have: nothing desired, a pod misscheduled
	sel, _ := daemonSetOf(t, "x:1", "{}", "{disk: ssd}")
	st = daemonSetStatus(sel, []*corev1.Pod{ready}, map[string]string{})
	if st.DesiredNumberScheduled != 0 || st.CurrentNumberScheduled != 0 || st.NumberMisscheduled != 1 {
		t.Errorf("status off this host %+v", st)
	}
}
