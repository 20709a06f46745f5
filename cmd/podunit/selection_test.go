package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// --field-selector: the fields the API server selects each kind by, a
// field it does not refused by name; --sort-by: numbers, times, text, and
// what the path does not find first.
func TestSelection(t *testing.T) {
	pod := func(name, phase string, restarts int32, started time.Time) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": name}},
			Spec: corev1.PodSpec{NodeName: "vm", RestartPolicy: corev1.RestartPolicyAlways},
			Status: corev1.PodStatus{Phase: corev1.PodPhase(phase), StartTime: &metav1.Time{Time: started},
				ContainerStatuses: []corev1.ContainerStatus{{Name: "c", RestartCount: restarts}}}}
	}
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	pods := []*corev1.Pod{
		pod("b", "Running", 10, t0.Add(time.Hour)),
		pod("a", "Pending", 9, t0.Add(2*time.Hour)),
		pod("c", "Running", 2, t0),
	}
	sel, err := parseSelection("pods", labels.Everything(), "status.phase=Running,spec.nodeName=vm", "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pods {
		if sel.match(p, p.Labels) {
			got = append(got, p.Name)
		}
	}
	if strings.Join(got, " ") != "b c" {
		t.Errorf("status.phase=Running: %v", got)
	}
	if sel, _ := parseSelection("pods", labels.SelectorFromSet(labels.Set{"app": "b"}), "status.phase!=Pending", ""); !sel.match(pods[0], pods[0].Labels) || sel.match(pods[2], pods[2].Labels) {
		t.Error("-l and --field-selector together")
	}
	for _, c := range []struct{ kind, field, want string }{
		{"pods", "spec.containers=x", `"spec.containers" is not a field pods can be selected by`},
		{"services", "spec.clusterIP=x", `(metadata.name, metadata.namespace)`},
		{"events", "status=x", `involvedObject.name`},
		{"pods", "a==b==c", "--field-selector"},
	} {
		if _, err := parseSelection(c.kind, labels.Everything(), c.field, ""); !errors.Is(err, errUsage) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s --field-selector %s: %v", c.kind, c.field, err)
		}
	}
	ev := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e", Namespace: "ns"}, Type: "Warning", Reason: "Unhealthy",
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web", FieldPath: "spec.containers{c}"}}
	if sel, err := parseSelection("events", labels.Everything(), "involvedObject.name=web,type=Warning,reason=Unhealthy", ""); err != nil || !sel.match(ev, nil) {
		t.Errorf("event fields: %v", err)
	}

	order := func(path string) string {
		list := append([]*corev1.Pod(nil), pods...)
		if err := sortObjects(list, selection{sortBy: path}); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range list {
			names = append(names, p.Name)
		}
		return strings.Join(names, " ")
	}
	for path, want := range map[string]string{
		".metadata.name":                           "a b c",
		"{.metadata.name}":                         "a b c",
		"status.containerStatuses[0].restartCount": "c a b", // 2 < 9 < 10: as numbers
		".status.startTime":                        "c b a",
		".status.nothing":                          "b a c", // none found: as they were
	} {
		if got := order(path); got != want {
			t.Errorf("--sort-by %s: %s, want %s", path, got, want)
		}
	}
	if _, err := parseSelection("pods", labels.Everything(), "", "{.metadata.name"); !errors.Is(err, errUsage) {
		t.Errorf("a bad --sort-by: %v", err)
	}
}
