package main

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/units"
)

func deploymentOf(t *testing.T, replicas, image, strategy string) (*appsv1.Deployment, []*corev1.Pod) {
	t.Helper()
	m, err := pod.Load([]byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: ` + replicas + `
  selector: {matchLabels: {app: web}}
  strategy: {type: ` + strategy + `}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: ` + image + `}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	return m.Objects.Deployments[0], m.Pods
}

func names(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

func TestPlanDeployments(t *testing.T) {
	_, v1 := deploymentOf(t, "3", "x:1", "RollingUpdate")
	other := &corev1.Pod{}
	other.Name, other.Namespace = "db", "default"
	recorded := append(slices.Clone(v1), other)
	plansFor := func(pods []*corev1.Pod) []*units.Plan {
		out := make([]*units.Plan, len(pods))
		for i, p := range pods {
			out[i] = &units.Plan{Pod: p.Name}
		}
		return out
	}

	t.Run("a new template rolls out: its pods wait for the rollout, the old ones go in it", func(t *testing.T) {
		d, v2 := deploymentOf(t, "3", "x:2", "RollingUpdate")
		w, rest, restPlans := planDeployments([]*appsv1.Deployment{d}, v2, plansFor(v2), nil, recorded)
		if len(rest) != 0 || len(restPlans) != 0 || len(w.rollouts) != 1 || len(w.removeFirst)+len(w.removeAfter) != 0 {
			t.Fatalf("rest %v, work %+v", names(rest), w)
		}
		ro := w.rollouts[0]
		if !slices.Equal(names(ro.Pending), names(v2)) || !slices.Equal(ro.Old, names(v1)) || len(ro.Current) != 0 {
			t.Errorf("rollout pending %v old %v current %v", names(ro.Pending), ro.Old, ro.Current)
		}
		for i, p := range ro.Pending {
			if ro.Plans[i].Pod != p.Name {
				t.Errorf("plan %d is %s's, for pod %s", i, ro.Plans[i].Pod, p.Name)
			}
		}
	})
	t.Run("Recreate: the old pods go first, the new ones start as any pod", func(t *testing.T) {
		d, v2 := deploymentOf(t, "2", "x:2", "Recreate")
		w, rest, _ := planDeployments([]*appsv1.Deployment{d}, v2, plansFor(v2), nil, recorded)
		if !slices.Equal(names(rest), names(v2)) || !slices.Equal(w.removeFirst, names(v1)) || len(w.rollouts) != 0 {
			t.Errorf("rest %v, work %+v", names(rest), w)
		}
	})
	t.Run("scaled down: the surplus goes after, nothing rolls", func(t *testing.T) {
		d, v1of2 := deploymentOf(t, "2", "x:1", "RollingUpdate")
		w, rest, _ := planDeployments([]*appsv1.Deployment{d}, nil, nil, names(v1of2), recorded)
		if len(rest) != 0 || !slices.Equal(w.removeAfter, names(v1)[2:]) || len(w.rollouts)+len(w.removeFirst) != 0 {
			t.Errorf("rest %v, work %+v", names(rest), w)
		}
	})
	t.Run("scaled up: the new pods start as any pod", func(t *testing.T) {
		d, v1of4 := deploymentOf(t, "4", "x:1", "RollingUpdate")
		w, rest, _ := planDeployments([]*appsv1.Deployment{d}, v1of4[3:], plansFor(v1of4[3:]), names(v1of4[:3]), recorded)
		if !slices.Equal(names(rest), names(v1of4[3:])) || len(w.rollouts)+len(w.removeFirst)+len(w.removeAfter) != 0 {
			t.Errorf("rest %v, work %+v", names(rest), w)
		}
	})
	t.Run("up --replace of a new template: a running pod of it starts again, counted once", func(t *testing.T) {
		d, v2 := deploymentOf(t, "3", "x:2", "RollingUpdate")
		rec := append(slices.Clone(recorded), v2[0])
		w, _, _ := planDeployments([]*appsv1.Deployment{d}, v2, plansFor(v2), nil, rec)
		if len(w.rollouts) != 1 || len(w.rollouts[0].Pending) != 3 || len(w.rollouts[0].Current) != 0 {
			t.Errorf("work %+v", w)
		}
	})
	t.Run("another namespace's Deployment of that name is another", func(t *testing.T) {
		d, v2 := deploymentOf(t, "3", "x:2", "Recreate")
		d.Namespace = "shop"
		w, _, _ := planDeployments([]*appsv1.Deployment{d}, v2, plansFor(v2), nil, recorded)
		if len(w.removeFirst) != 0 {
			t.Errorf("removes %v of namespace default", w.removeFirst)
		}
	})
}

func TestDeploymentStatus(t *testing.T) {
	d, v2 := deploymentOf(t, "2", "x:2", "RollingUpdate")
	_, v1 := deploymentOf(t, "1", "x:1", "RollingUpdate")
	ready := func(p *corev1.Pod) *corev1.Pod {
		p = p.DeepCopy()
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		return p
	}
	st := deploymentStatus(d, []*corev1.Pod{ready(v2[0]), v2[1], ready(v1[0])})
	if st.Replicas != 3 || st.UpdatedReplicas != 2 || st.ReadyReplicas != 2 || st.UnavailableReplicas != 0 {
		t.Errorf("status %+v", st)
	}
}

// kubectl rollout undo, history and pause have no meaning without old
// ReplicaSets or a controller: a usage error that says what to do instead.
func TestRolloutWithoutHistory(t *testing.T) {
	for _, sub := range []string{"undo", "history", "pause"} {
		app := newApp()
		app.Writer, app.ErrWriter = io.Discard, io.Discard
		err := app.Run([]string{"podunit", "rollout", sub, "deployment/web"})
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "podunit up") {
			t.Errorf("rollout %s: %v", sub, err)
		}
	}
}
