package pod

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// cpu and memory requests are counted as the scheduler counts them (the
// running pods', then each new pod's in turn; a limit stands for a missing
// request; a pod-level request wins) against the host's allocatable.
func TestOverRequested(t *testing.T) {
	mk := func(name, cpu, mem string) *corev1.Pod {
		c := corev1.Container{Name: "c"}
		c.Resources.Requests = corev1.ResourceList{}
		if cpu != "" {
			c.Resources.Requests[corev1.ResourceCPU] = resource.MustParse(cpu)
		}
		if mem != "" {
			c.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(mem)}
		}
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{Containers: []corev1.Container{c}}}
	}
	host := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("1Gi")}
	running := []*corev1.Pod{mk("old", "1500m", "512Mi"), mk("none", "", "")}
	got := OverRequested([]*corev1.Pod{mk("fits", "500m", "256Mi"), mk("more", "1m", "300Mi"), mk("free", "", "")}, running, host)
	want := []string{
		`pod "more": Insufficient cpu: requests 1m, 2 of this host's 2 requested by other pods`,
		`pod "more": Insufficient memory: requests 300Mi, 768Mi of this host's 1024Mi requested by other pods`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// a pod-level request is the pod's
	p := mk("podlevel", "100", "")
	p.Spec.Resources = &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}
	if got := OverRequested([]*corev1.Pod{p}, nil, host); len(got) != 0 {
		t.Errorf("pod-level request of 1 on a host of 2: %q", got)
	}
	if got := OverRequested([]*corev1.Pod{mk("big", "100", "")}, nil, corev1.ResourceList{}); len(got) != 0 {
		t.Errorf("no allocatable known: %q", got)
	}
}
