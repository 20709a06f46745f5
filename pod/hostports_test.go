package pod

import (
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func hostPortPod(name string, ports ...corev1.ContainerPort) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Ports: ports}}}}
}

// Host ports clash as the scheduler's NodePorts filter has it: the same port
// and protocol, on the same address or on the unspecified one.
func TestFitHostPorts(t *testing.T) {
	tcp := func(port int32, ip string) corev1.ContainerPort {
		return corev1.ContainerPort{ContainerPort: 80, HostPort: port, HostIP: ip, Protocol: corev1.ProtocolTCP}
	}
	udp := corev1.ContainerPort{ContainerPort: 80, HostPort: 8080, Protocol: corev1.ProtocolUDP}
	running := []*corev1.Pod{hostPortPod("run", tcp(8080, ""))}
	for name, c := range map[string]struct {
		pods []*corev1.Pod
		want string // "" fits
	}{
		"free":                {[]*corev1.Pod{hostPortPod("a", tcp(8081, ""))}, ""},
		"other protocol":      {[]*corev1.Pod{hostPortPod("a", udp)}, ""},
		"taken by running":    {[]*corev1.Pod{hostPortPod("a", tcp(8080, "127.0.0.1"))}, `pod "a": spec.containers[0].ports[0].hostPort: 8080/TCP is taken by pod "run" (spec.containers[0].ports[0].hostPort)`},
		"taken in manifest":   {[]*corev1.Pod{hostPortPod("a", tcp(9090, "10.0.0.1")), hostPortPod("b", tcp(9090, ""))}, `pod "b": spec.containers[0].ports[0].hostPort: 9090/TCP is taken by pod "a"`},
		"two specific ips":    {[]*corev1.Pod{hostPortPod("a", tcp(9090, "10.0.0.1")), hostPortPod("b", tcp(9090, "10.0.0.2"))}, ""},
		"no host port at all": {[]*corev1.Pod{hostPortPod("a", corev1.ContainerPort{ContainerPort: 8080})}, ""},
	} {
		err := FitHostPorts(c.pods, running)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case c.want != "" && (err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}
