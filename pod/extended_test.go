package pod

import (
	"errors"
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

// A ReadWriteOncePod claim is one pod's at a time: a running pod holds it,
// a second pod of a manifest is refused naming the first; the pod that
// holds it, applied again (or replaced), is not a second; other modes are
// shared.
func TestFitOncePodClaims(t *testing.T) {
	claim := func(name string, mode corev1.PersistentVolumeAccessMode) *corev1.PersistentVolumeClaim {
		return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{mode}}}
	}
	user := func(name string, claims ...string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}}
		for _, c := range claims {
			p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: c, VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: c}}})
		}
		return p
	}
	claims := []*corev1.PersistentVolumeClaim{claim("once", corev1.ReadWriteOncePod), claim("shared", corev1.ReadWriteOnce)}
	if err := FitOncePodClaims([]*corev1.Pod{user("a", "shared", "once"), user("b", "shared")}, []*corev1.Pod{user("c", "shared")}, claims); err != nil {
		t.Errorf("one user each: %v", err)
	}
	err := FitOncePodClaims([]*corev1.Pod{user("a", "once"), user("b", "shared", "once")}, nil, claims)
	if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `pod "b": spec.volumes[1].persistentVolumeClaim.claimName: persistentvolumeclaim "once" is ReadWriteOncePod, and pod "a" uses it`) {
		t.Errorf("two users in a manifest: %v", err)
	}
	if err := FitOncePodClaims([]*corev1.Pod{user("b", "once")}, []*corev1.Pod{user("a", "once")}, claims); err == nil || !strings.Contains(err.Error(), `pod "a" uses it`) {
		t.Errorf("a running user: %v", err)
	}
	if err := FitOncePodClaims([]*corev1.Pod{user("a", "once")}, []*corev1.Pod{user("a", "once")}, claims); err != nil {
		t.Errorf("the holder again: %v", err)
	}
}
