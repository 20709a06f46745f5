package main

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podunit/podunit/pod"
)

// A Deployment's ReplicaSets: the current template's wants its replicas,
// an old template's (its pods still running) wants none; each counts its
// own pods, is as old as its oldest, and selects by its hash.
func TestReplicaSets(t *testing.T) {
	m, err := pod.Load([]byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: local/app:2}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	d := m.Objects.Deployments[0]
	current := pod.TemplateHash(&d.Spec.Template)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	mk := func(name, hash string, ready bool, created time.Time) *corev1.Pod {
		p := m.Pods[0].DeepCopy()
		p.Name, p.CreationTimestamp = name, metav1.NewTime(created)
		p.Labels = map[string]string{"app": "web", pod.LabelPodTemplateHash: hash}
		p.OwnerReferences[0].Name = pod.ReplicaSetName("web", hash)
		p.Status.Phase = corev1.PodRunning
		if ready {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		}
		if hash != current {
			p.Spec.Containers[0].Image = "local/app:1"
		}
		return p
	}
	pods := []*corev1.Pod{
		mk("web-new-a", current, true, t0.Add(time.Minute)),
		mk("web-old-a", "old12", true, t0),
		mk("web-old-b", "old12", false, t0.Add(time.Second)),
		{ObjectMeta: metav1.ObjectMeta{Name: "bare", Namespace: "default"}},
	}
	rss := replicaSets(m.Objects.Deployments, pods)
	if len(rss) != 2 {
		t.Fatalf("%d ReplicaSets, want the current one and the old one", len(rss))
	}
	cur, old := rss[0], rss[1]
	if cur.Name != "web-"+current || *cur.Spec.Replicas != 2 || cur.Status.Replicas != 1 || cur.Status.ReadyReplicas != 1 || !cur.CreationTimestamp.Time.Equal(t0.Add(time.Minute)) {
		t.Errorf("current: %s wants %d, has %d (%d ready), created %v", cur.Name, *cur.Spec.Replicas, cur.Status.Replicas, cur.Status.ReadyReplicas, cur.CreationTimestamp)
	}
	if cur.Spec.Selector.MatchLabels[pod.LabelPodTemplateHash] != current || cur.Spec.Selector.MatchLabels["app"] != "web" || cur.OwnerReferences[0].Name != "web" {
		t.Errorf("current's selector and owner: %v %v", cur.Spec.Selector, cur.OwnerReferences)
	}
	if old.Name != "web-old12" || *old.Spec.Replicas != 0 || old.Status.Replicas != 2 || old.Status.ReadyReplicas != 1 || !old.CreationTimestamp.Time.Equal(t0) || old.Spec.Template.Spec.Containers[0].Image != "local/app:1" {
		t.Errorf("old: %s wants %d, has %d (%d ready), created %v, image %s", old.Name, *old.Spec.Replicas, old.Status.Replicas, old.Status.ReadyReplicas, old.CreationTimestamp, old.Spec.Template.Spec.Containers[0].Image)
	}
	// no pod at all: the current one alone, age unknown
	if rss := replicaSets(m.Objects.Deployments, nil); len(rss) != 1 || rss[0].Status.Replicas != 0 || ageOrUnknown(rss[0].CreationTimestamp.Time, t0) != "<unknown>" {
		t.Errorf("no pods: %+v", rss)
	}
}
