package pod

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// hostPortUse is one host port a pod's container asks for.
type hostPortUse struct {
	pod   string
	path  *field.Path
	ip    string
	port  int32
	proto corev1.Protocol
}

func hostPortsOf(p *corev1.Pod) []hostPortUse {
	var out []hostPortUse
	add := func(cs []corev1.Container, at *field.Path) {
		for i, c := range cs {
			for j, port := range c.Ports {
				if port.HostPort == 0 {
					continue
				}
				proto := port.Protocol
				if proto == "" {
					proto = corev1.ProtocolTCP
				}
				out = append(out, hostPortUse{p.Name, at.Index(i).Child("ports").Index(j).Child("hostPort"), port.HostIP, port.HostPort, proto})
			}
		}
	}
	add(p.Spec.InitContainers, field.NewPath("spec", "initContainers"))
	add(p.Spec.Containers, field.NewPath("spec", "containers"))
	return out
}

// HostPort is a host port a pod's container asks for, and its field path.
type HostPort struct {
	Path  *field.Path
	Port  int32
	Proto corev1.Protocol
}

// HostPorts lists the host ports a pod's containers (init containers
// first) ask for.
func HostPorts(p *corev1.Pod) []HostPort {
	var out []HostPort
	for _, u := range hostPortsOf(p) {
		out = append(out, HostPort{u.path, u.port, u.proto})
	}
	return out
}

func wildcardIP(ip string) bool { return ip == "" || ip == "0.0.0.0" || ip == "::" }

// clashes: the scheduler's rule, the same port and protocol on the same
// address, the unspecified address being every address.
func (a hostPortUse) clashes(b hostPortUse) bool {
	return a.port == b.port && a.proto == b.proto && (a.ip == b.ip || wildcardIP(a.ip) || wildcardIP(b.ip))
}

// FitHostPorts checks, as the scheduler's NodePorts filter does, that no two
// of the pods, and none of them and a running pod, ask for the same host
// port: the second would only fail to start. A pod replaced is not among
// running.
func FitHostPorts(pods, running []*corev1.Pod) error {
	var taken []hostPortUse
	for _, p := range running {
		taken = append(taken, hostPortsOf(p)...)
	}
	var miss []string
	for _, p := range pods {
		uses := hostPortsOf(p)
		for _, u := range uses {
			for _, t := range taken {
				if u.clashes(t) {
					miss = append(miss, fmt.Sprintf("pod %q: %s: %d/%s is taken by pod %q (%s)", p.Name, u.path, u.port, u.proto, t.pod, t.path))
					break
				}
			}
		}
		taken = append(taken, uses...)
	}
	if len(miss) == 0 {
		return nil
	}
	return fmt.Errorf("%w: host port in use (the pod would not start):\n  %s", ErrInvalid, strings.Join(miss, "\n  "))
}
