package main

import (
	"errors"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/netshape"
	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/units"
)

func TestPlatformWarnings(t *testing.T) {
	for _, c := range []struct {
		podman, systemd string
		want            []string
	}{
		{"4.3.1", "252.38-1~deb12u1", nil},
		{"5.4.2", `"257.9-1~deb13u1"`, nil},
		{"4.10.0", "260", nil},
		{"4.2.0", "252", []string{"podman 4.2.0 is older than podunit supports (4.3.0 or newer)"}},
		{"3.4.4", "249.11-0ubuntu3", []string{"podman 3.4.4 is older", "systemd 249.11-0ubuntu3 is older than podunit supports (252 or newer)"}},
	} {
		got := platformWarnings(c.podman, nil, c.systemd, nil)
		if len(got) != len(c.want) {
			t.Errorf("%s/%s: %q, want %d warnings", c.podman, c.systemd, got, len(c.want))
			continue
		}
		for i := range got {
			if !strings.Contains(got[i], c.want[i]) {
				t.Errorf("%s/%s: %q lacks %q", c.podman, c.systemd, got[i], c.want[i])
			}
		}
	}
	if got := platformWarnings("", errors.New("no service"), "252", nil); len(got) != 1 || !strings.Contains(got[0], "could not read podman's version") {
		t.Errorf("unreadable version: %q", got)
	}
	if !versionLess("4.3.1", "4.10") || versionLess("5.0", "4.3.0") || versionLess("4.3.0", "4.3.0") {
		t.Error("versionLess")
	}
}

func TestCheckShapingHelper(t *testing.T) {
	shaped := &units.Plan{Pod: "qos", Bandwidth: netshape.Spec{EgressRateBitsPerSec: 2_000_000}, Runtime: &contract.Runtime{}}
	plain := &units.Plan{Pod: "web", Runtime: &contract.Runtime{}}
	missing := func(string) (string, error) { return "", errors.New("not found") }
	present := func(string) (string, error) { return "/usr/bin/slirp4netns", nil }
	if err := checkShapingHelper([]*units.Plan{plain}, missing); err != nil {
		t.Errorf("an unshaped pod needs no slirp4netns: %v", err)
	}
	if err := checkShapingHelper([]*units.Plan{plain, shaped}, present); err != nil {
		t.Errorf("slirp4netns present: %v", err)
	}
	if err := checkShapingHelper([]*units.Plan{plain, shaped}, missing); err == nil || !strings.Contains(err.Error(), `pod "qos"`) || !strings.Contains(err.Error(), "slirp4netns, which is not installed") {
		t.Errorf("missing slirp4netns: %v", err)
	}
}

// Limits whose controller the user manager lacks are told of, once per
// controller, naming the first field; delegated ones and requests are not.
func TestLimitWarnings(t *testing.T) {
	q := resource.MustParse
	pods := []*corev1.Pod{
		{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "req", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceMemory: q("1Mi")}}},
			{Name: "lim", Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: q("32Mi"), corev1.ResourceCPU: q("1")}}},
		}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "b"}, Spec: corev1.PodSpec{
			Resources:      &corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: q("64Mi")}},
			InitContainers: []corev1.Container{{Name: "i", Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: q("8Mi")}}}},
		}},
	}
	got := limitWarnings(limitPaths(pods), []string{"cpu", "pids"}, "/user.slice/user@1000.service")
	if len(got) != 1 || !strings.HasPrefix(got[0], `pod "a": spec.containers[1].resources.limits.memory (and 2 more): not enforced: your systemd user manager has no memory controller (delegated to /user.slice/user@1000.service: cpu pids)`) {
		t.Errorf("memory not delegated: %q", got)
	}
	if got := limitWarnings(limitPaths(pods), nil, "/"); len(got) != 2 || !strings.Contains(got[0], "limits.cpu: not enforced") || !strings.Contains(got[1], "(delegated to /: none)") {
		t.Errorf("nothing delegated: %q", got)
	}
	if got := limitWarnings(limitPaths(pods), []string{"cpuset", "cpu", "io", "memory", "pids"}, "/"); len(got) != 0 {
		t.Errorf("all delegated: %q", got)
	}
	reqOnly := &corev1.Pod{Spec: corev1.PodSpec{Containers: pods[0].Spec.Containers[:1]}}
	if got := limitWarnings(limitPaths([]*corev1.Pod{reqOnly}), nil, "/"); len(got) != 0 {
		t.Errorf("requests only need no warning: %q", got)
	}
	if got := limitWarnings(limitPaths([]*corev1.Pod{{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "x"}}}}}), nil, "/"); len(got) != 0 {
		t.Errorf("no limits: %q", got)
	}
	// a Deployment's replicas: its template's field, once
	replica := func(name string) *corev1.Pod {
		p := pods[0].DeepCopy()
		p.Name, p.Labels = name, map[string]string{pod.LabelPodTemplateHash: "abc12"}
		p.OwnerReferences = []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web-abc12", Controller: new(bool)}}
		*p.OwnerReferences[0].Controller = true
		return p
	}
	got = limitWarnings(limitPaths([]*corev1.Pod{replica("web-abc12-x"), replica("web-abc12-y")}), []string{"cpu"}, "/")
	if len(got) != 1 || !strings.HasPrefix(got[0], `deployment "web": spec.template.spec.containers[1].resources.limits.memory: not enforced`) {
		t.Errorf("a Deployment's replicas: %q", got)
	}
}

// seLinuxOptions a host without SELinux ignores are named, the pod's and
// each container's, a Deployment's template field once.
func TestSELinuxWarnings(t *testing.T) {
	opts := &corev1.SELinuxOptions{Level: "s0:c1,c2"}
	web := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.PodSpec{
		SecurityContext: &corev1.PodSecurityContext{SELinuxOptions: opts},
		InitContainers:  []corev1.Container{{Name: "i", SecurityContext: &corev1.SecurityContext{SELinuxOptions: opts}}},
		Containers:      []corev1.Container{{Name: "a"}, {Name: "b", SecurityContext: &corev1.SecurityContext{SELinuxOptions: opts}}},
	}}
	plain := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "plain"}, Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "a", SecurityContext: &corev1.SecurityContext{}}}}}
	replica := func(name string) *corev1.Pod {
		p := web.DeepCopy()
		p.Name, p.Labels = name, map[string]string{pod.LabelPodTemplateHash: "abc12"}
		p.OwnerReferences = []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "dep-abc12", Controller: new(bool)}}
		*p.OwnerReferences[0].Controller = true
		return p
	}
	got := seLinuxWarnings([]*corev1.Pod{web, plain, replica("dep-abc12-x"), replica("dep-abc12-y")})
	want := []string{
		`pod "web": spec.securityContext.seLinuxOptions: ignored: SELinux is not enabled on this host (the kubelet ignores it there too)`,
		`pod "web": spec.initContainers[0].securityContext.seLinuxOptions: ignored: SELinux is not enabled on this host (the kubelet ignores it there too)`,
		`pod "web": spec.containers[1].securityContext.seLinuxOptions: ignored: SELinux is not enabled on this host (the kubelet ignores it there too)`,
		`deployment "dep": spec.template.spec.securityContext.seLinuxOptions: ignored: SELinux is not enabled on this host (the kubelet ignores it there too)`,
		`deployment "dep": spec.template.spec.initContainers[0].securityContext.seLinuxOptions: ignored: SELinux is not enabled on this host (the kubelet ignores it there too)`,
		`deployment "dep": spec.template.spec.containers[1].securityContext.seLinuxOptions: ignored: SELinux is not enabled on this host (the kubelet ignores it there too)`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := seLinuxWarnings([]*corev1.Pod{plain}); len(got) != 0 {
		t.Errorf("no seLinuxOptions: %q", got)
	}
}

// A hostPort below the unprivileged port start is refused before anything is
// created, naming each; host-network pods and ports above it pass.
func TestCheckHostPorts(t *testing.T) {
	ports := func(ps ...int32) []corev1.ContainerPort {
		var out []corev1.ContainerPort
		for _, p := range ps {
			out = append(out, corev1.ContainerPort{ContainerPort: 8080, HostPort: p})
		}
		return out
	}
	web := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "side", Ports: ports(53)}},
		Containers:     []corev1.Container{{Name: "a", Ports: ports(8080)}, {Name: "b", Ports: ports(0, 80)}},
	}}
	host := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "host"}, Spec: corev1.PodSpec{HostNetwork: true,
		Containers: []corev1.Container{{Name: "a", Ports: ports(80)}}}}
	err := checkHostPorts([]*corev1.Pod{web, host}, 1024)
	if err == nil {
		t.Fatal("port 80 and 53 accepted")
	}
	msg := err.Error()
	for _, want := range []string{
		`pod "web": spec.initContainers[0].ports[0].hostPort: 53 is below the host's net.ipv4.ip_unprivileged_port_start (1024)`,
		`pod "web": spec.containers[1].ports[1].hostPort: 80 is below`,
		"sysctl -w net.ipv4.ip_unprivileged_port_start=80",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "host") && strings.Contains(msg, `pod "host"`) {
		t.Errorf("a host-network pod's port was checked:\n%s", msg)
	}
	if !errors.Is(err, pod.ErrInvalid) {
		t.Errorf("not an invalid-input error: %v", err)
	}
	for _, start := range []int{80, 0, -1} {
		if err := checkHostPorts([]*corev1.Pod{web, host}, start); start != 80 && err != nil {
			t.Errorf("start %d: %v", start, err)
		} else if start == 80 && (err == nil || strings.Contains(err.Error(), ": 80 is")) {
			t.Errorf("start 80: %v", err)
		}
	}
}
