package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/runner"
	"github.com/podunit/podunit/units"
)

func setOf(t *testing.T, replicas int, image, extra string) (*appsv1.StatefulSet, []*corev1.Pod) {
	t.Helper()
	m, err := pod.Load([]byte(fmt.Sprintf(`apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: %d
  serviceName: db
  selector: {matchLabels: {app: db}}
%s  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: c, image: %s}]}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce]}
`, replicas, extra, image)))
	if err != nil {
		t.Fatal(err)
	}
	return m.Objects.StatefulSets[0], m.Pods
}

// steps says what each step does: "+db-0 wait", "-db-2", "-db-1 +db-1 wait".
func steps(roll runner.SetRoll) []string {
	var out []string
	for _, s := range roll.Steps {
		var parts []string
		for _, n := range s.Remove {
			parts = append(parts, "-"+n)
		}
		for i, p := range s.Start {
			parts = append(parts, "+"+p.Name)
			if s.Plans[i].Pod != p.Name {
				parts = append(parts, "(plan of "+s.Plans[i].Pod+")")
			}
		}
		if s.Wait {
			parts = append(parts, "wait")
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out
}

// A StatefulSet's pods start from the lowest ordinal, each once the one
// before is Ready; the surplus goes from the highest; another revision
// replaces them one at a time from the highest, down to the partition.
func TestPlanStatefulSets(t *testing.T) {
	plansFor := func(pods []*corev1.Pod) []*units.Plan {
		out := make([]*units.Plan, len(pods))
		for i, p := range pods {
			out[i] = &units.Plan{Pod: p.Name}
		}
		return out
	}
	other := &corev1.Pod{}
	other.Name, other.Namespace = "web", "default"
	_, v1 := setOf(t, 3, "x:1", "")
	for _, c := range []struct {
		name      string
		replicas  int
		image     string
		extra     string
		running   []*corev1.Pod
		toStart   func(all []*corev1.Pod) []*corev1.Pod // of the set's pods, those up is to start
		want      []string
		kept      []string
		scaledOff []string
	}{
		{name: "created in order", replicas: 3, image: "x:1", toStart: func(a []*corev1.Pod) []*corev1.Pod { return a },
			want: []string{"+db-0 wait", "+db-1 wait", "+db-2 wait"}},
		{name: "Parallel: together, no wait", replicas: 3, image: "x:1", extra: "  podManagementPolicy: Parallel\n",
			toStart: func(a []*corev1.Pod) []*corev1.Pod { return a }, want: []string{"+db-0 +db-1 +db-2"}},
		{name: "scaled up: the new ordinals", replicas: 5, image: "x:1", running: v1,
			toStart: func(a []*corev1.Pod) []*corev1.Pod { return a[3:] }, want: []string{"+db-3 wait", "+db-4 wait"}},
		{name: "scaled down: the highest first, claims kept", replicas: 1, image: "x:1", running: v1,
			toStart: func([]*corev1.Pod) []*corev1.Pod { return nil }, want: []string{"-db-2", "-db-1"}},
		{name: "scaled down, whenScaled Delete: their claims go", replicas: 1, image: "x:1", running: v1,
			extra:   "  persistentVolumeClaimRetentionPolicy: {whenScaled: Delete}\n",
			toStart: func([]*corev1.Pod) []*corev1.Pod { return nil }, want: []string{"-db-2", "-db-1"}, scaledOff: []string{"data-db-2", "data-db-1"}},
		{name: "a new revision: the highest first, one at a time", replicas: 3, image: "x:2", running: v1,
			toStart: func(a []*corev1.Pod) []*corev1.Pod { return a },
			want:    []string{"-db-2 +db-2 wait", "-db-1 +db-1 wait", "-db-0 +db-0 wait"}},
		{name: "a new revision and one more: created first, then updated", replicas: 4, image: "x:2", running: v1,
			toStart: func(a []*corev1.Pod) []*corev1.Pod { return a },
			want:    []string{"+db-3 wait", "-db-2 +db-2 wait", "-db-1 +db-1 wait", "-db-0 +db-0 wait"}},
		{name: "partition 2: the lower ordinals keep their revision", replicas: 3, image: "x:2", running: v1,
			extra:   "  updateStrategy: {rollingUpdate: {partition: 2}}\n",
			toStart: func(a []*corev1.Pod) []*corev1.Pod { return a }, want: []string{"-db-2 +db-2 wait"}, kept: []string{"db-1", "db-0"}},
		{name: "OnDelete: nothing replaced", replicas: 3, image: "x:2", running: v1,
			extra:   "  updateStrategy: {type: OnDelete}\n",
			toStart: func(a []*corev1.Pod) []*corev1.Pod { return a }, kept: []string{"db-2", "db-1", "db-0"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, pods := setOf(t, c.replicas, c.image, c.extra)
			start := append(c.toStart(pods), other)
			w, rest, restPlans := planStatefulSets([]*appsv1.StatefulSet{s}, start, plansFor(start), append(slices.Clone(c.running), other))
			if !slices.Equal(names(rest), []string{"web"}) || len(restPlans) != 1 {
				t.Errorf("rest %v", names(rest))
			}
			var got []string
			if len(w.rolls) > 1 {
				t.Fatalf("%d rolls", len(w.rolls))
			}
			if len(w.rolls) == 1 {
				got = steps(w.rolls[0])
			}
			if !slices.Equal(got, c.want) || !slices.Equal(w.kept, c.kept) {
				t.Errorf("steps %q kept %v, want %q kept %v", got, w.kept, c.want, c.kept)
			}
			var off []string
			for _, cl := range w.scaledClaims {
				off = append(off, cl.Name)
			}
			if !slices.Equal(off, c.scaledOff) {
				t.Errorf("claims removed %v, want %v", off, c.scaledOff)
			}
		})
	}
}

// The claims a set keeps when it goes are those of any ordinal it may have
// had, of its templates only.
func TestSetClaims(t *testing.T) {
	s, _ := setOf(t, 2, "x:1", "")
	claim := func(name string) *corev1.PersistentVolumeClaim {
		c := &corev1.PersistentVolumeClaim{}
		c.Name, c.Namespace = name, "default"
		return c
	}
	all := []*corev1.PersistentVolumeClaim{claim("data-db-0"), claim("data-db-7"), claim("data-db-x"), claim("logs-db-0"), claim("data-dbx-0")}
	var kept []string
	for _, c := range retainedClaims([]*appsv1.StatefulSet{s}, all) {
		kept = append(kept, c.Name)
	}
	if !slices.Equal(kept, []string{"data-db-0", "data-db-7"}) {
		t.Errorf("retained %v", kept)
	}
	if d := deletedClaims(s, all); len(d) != 0 {
		t.Errorf("Retain deletes %d claims", len(d))
	}
	s.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted = appsv1.DeletePersistentVolumeClaimRetentionPolicyType
	if d := deletedClaims(s, all); len(d) != 2 || len(retainedClaims([]*appsv1.StatefulSet{s}, all)) != 0 {
		t.Errorf("Delete: deletes %d, retains some", len(d))
	}
	if setOrdinalOf("db-12") != 12 || setOrdinalOf("db") != -1 {
		t.Errorf("setOrdinalOf: %d %d", setOrdinalOf("db-12"), setOrdinalOf("db"))
	}
}

// rollout status of a set waits for every pod Ready and, down to the
// partition, of the current revision.
func TestSetRolledOut(t *testing.T) {
	ready := func(pods []*corev1.Pod, n int) []*corev1.Pod {
		var out []*corev1.Pod
		for i, p := range pods {
			q := p.DeepCopy()
			if i < n {
				q.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
			}
			out = append(out, q)
		}
		return out
	}
	s, v1 := setOf(t, 3, "x:1", "")
	if msg := setRolledOut(s, ready(v1, 2)); msg != "Waiting for 1 pods to be ready..." {
		t.Errorf("two of three ready: %q", msg)
	}
	if msg := setRolledOut(s, ready(v1, 3)); msg != "" {
		t.Errorf("all ready: %q", msg)
	}
	s2, _ := setOf(t, 3, "x:2", "")
	if msg := setRolledOut(s2, ready(v1, 3)); !strings.Contains(msg, "0 out of 3 new pods have been updated") {
		t.Errorf("a new revision: %q", msg)
	}
	s3, _ := setOf(t, 3, "x:2", "  updateStrategy: {rollingUpdate: {partition: 3}}\n")
	if msg := setRolledOut(s3, ready(v1, 3)); msg != "" {
		t.Errorf("everything below the partition: %q", msg)
	}
}

// --dry-run says which running pods applying a set would remove, replace
// or keep.
func TestSetDryRun(t *testing.T) {
	_, v1 := setOf(t, 3, "x:1", "")
	s, _ := setOf(t, 2, "x:2", "  updateStrategy: {rollingUpdate: {partition: 1}}\n")
	got := strings.Join(setDryRun(s, v1), "\n")
	for _, want := range []string{"its pods db-2 would be removed", "its pods db-1 would be replaced by revision " + pod.RevisionHash(s), "its pods db-0 would keep their revision (below the partition, 1)"} {
		if !strings.Contains(got, want) {
			t.Errorf("dry run lacks %q:\n%s", want, got)
		}
	}
	same, _ := setOf(t, 3, "x:1", "")
	if got := setDryRun(same, v1); len(got) != 0 {
		t.Errorf("the same set: %q", got)
	}
}
