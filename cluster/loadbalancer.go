package cluster

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podunit/podunit/pod"
)

// hostPort is a port of this host that a Service is published on.
type hostPort struct {
	port  int32
	proto corev1.Protocol
}

func (h hostPort) String() string { return strconv.Itoa(int(h.port)) + "/" + string(h.proto) }

// heldPort is a host port and what of a Service it is.
type heldPort struct {
	hostPort
	what string
}

// publishedOn are this host's ports a Service is published on: its node
// ports and, with lb, its own ports (its load balancer's).
func publishedOn(s *corev1.Service, lb bool) []heldPort {
	var out []heldPort
	for _, p := range s.Spec.Ports {
		if p.NodePort != 0 {
			out = append(out, heldPort{hostPort{p.NodePort, p.Protocol}, "node port of service " + s.Namespace + "/" + s.Name})
		}
		if lb {
			out = append(out, heldPort{hostPort{p.Port, p.Protocol}, "load balancer of service " + s.Namespace + "/" + s.Name})
		}
	}
	return out
}

// LoadBalancers makes this host the load balancer of the LoadBalancer
// Services of apply, as k3s's ServiceLB and Docker Desktop do on one node:
// each of their ports is published on this host's port of that number
// (forwarded to its node port, which stays published too), and the
// Service's status names hostIP as its ingress (kubectl's EXTERNAL-IP).
//
// A Service with a port below minPort (the host's
// net.ipv4.ip_unprivileged_port_start, which a rootless user cannot
// publish; 0: no such bound) is not published so: it stays pending,
// reached on its node ports, and a warning says why. A port that another
// Service is published on (its load balancer's, or a node port) is a
// conflict, as two Services on one node port are; nothing changes then.
// stored's Services that apply replaces do not count. Call it after Assign:
// the node ports are known.
func LoadBalancers(apply, stored []*corev1.Service, minPort int, hostIP string) (warns []string, conflicts []*Conflict) {
	key := func(s *corev1.Service) string { return s.Namespace + "/" + s.Name }
	replaced := map[string]bool{}
	for _, s := range apply {
		replaced[key(s)] = true
	}
	held := map[hostPort]string{}
	hold := func(s *corev1.Service, lb bool) {
		for _, h := range publishedOn(s, lb) {
			held[h.hostPort] = h.what
		}
	}
	for _, s := range stored {
		if !replaced[key(s)] {
			hold(s, Balanced(s))
		}
	}
	for _, s := range apply {
		hold(s, false)
	}
	var balanced []*corev1.Service
	for _, s := range apply {
		if s.Spec.Type != corev1.ServiceTypeLoadBalancer {
			continue
		}
		low := -1
		for i, p := range s.Spec.Ports {
			if int(p.Port) < minPort {
				low = i
				break
			}
		}
		if low >= 0 {
			warns = append(warns, fmt.Sprintf("service %q: spec.ports[%d].port: %d is below this host's net.ipv4.ip_unprivileged_port_start (%d), which a rootless user cannot publish: its load balancer stays <pending>; it is reached on its node ports",
				s.Name, low, s.Spec.Ports[low].Port, minPort))
			continue
		}
		var errs field.ErrorList
		for i, p := range s.Spec.Ports {
			h := hostPort{p.Port, p.Protocol}
			if p.Port == p.NodePort {
				continue // its node port publishes it already
			}
			if by, taken := held[h]; taken {
				errs = append(errs, field.Invalid(field.NewPath("spec", "ports").Index(i).Child("port"), p.Port,
					"this host's port "+h.String()+" is already the "+by+" (a LoadBalancer Service is published on this host's port of each of its ports)"))
			}
		}
		if len(errs) > 0 {
			conflicts = append(conflicts, &Conflict{Service: s, Errs: errs})
			continue
		}
		hold(s, true)
		balanced = append(balanced, s)
	}
	if len(conflicts) > 0 {
		return nil, conflicts
	}
	for _, s := range apply {
		s.Status.LoadBalancer = corev1.LoadBalancerStatus{}
	}
	for _, s := range balanced {
		s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: hostIP}}
	}
	return warns, nil
}

// Balanced tells whether a Service is published on this host's ports of its
// own port numbers: a LoadBalancer Service that LoadBalancers gave this
// host as its ingress.
func Balanced(s *corev1.Service) bool {
	return s.Spec.Type == corev1.ServiceTypeLoadBalancer && len(s.Status.LoadBalancer.Ingress) > 0
}

// FitServicePorts checks that no pod asks for a host port that a Service is
// published on (a node port, or a port of a Service this host is the load
// balancer of): the pod's infra, or the service proxy publishing the
// Services, would not start. Only pairs with a pod of pods or a Service of
// newServices are looked at (what is running already is as it is).
func FitServicePorts(pods, newPods []*corev1.Pod, services, newServices []*corev1.Service) error {
	key := func(s *corev1.Service) string { return s.Namespace + "/" + s.Name }
	isNew := map[string]bool{}
	for _, s := range newServices {
		isNew[key(s)] = true
	}
	type holder struct {
		what string
		new  bool
	}
	held := map[hostPort]holder{}
	for _, s := range services {
		for _, h := range publishedOn(s, Balanced(s)) {
			held[h.hostPort] = holder{h.what, isNew[key(s)]}
		}
	}
	var miss []string
	check := func(ps []*corev1.Pod, podsNew bool) {
		for _, p := range ps {
			for _, hp := range pod.HostPorts(p) {
				if h, ok := held[hostPort{hp.Port, hp.Proto}]; ok && (podsNew || h.new) {
					miss = append(miss, fmt.Sprintf("pod %q: %s: %d/%s is this host's port of the %s", p.Name, hp.Path, hp.Port, hp.Proto, h.what))
				}
			}
		}
	}
	check(newPods, true)
	check(pods, false)
	if len(miss) == 0 {
		return nil
	}
	return fmt.Errorf("%w: host port in use (nothing was changed):\n  %s", pod.ErrInvalid, strings.Join(miss, "\n  "))
}

// PortOf is one port of a Service: Service.Spec.Ports[Index].
type PortOf struct {
	Service *corev1.Service
	Index   int
}

// NewlyBalanced are the ports of apply's Services this host is the load
// balancer of that the service proxy does not publish yet (no stored
// Service is balanced on them; a port that is its own node port is
// published as one): whether another program holds them is for the host
// to tell, before the proxy is asked to publish them.
func NewlyBalanced(apply, stored []*corev1.Service) []PortOf {
	return newPorts(apply, stored, func(s *corev1.Service, p corev1.ServicePort) (hostPort, bool) {
		return hostPort{p.Port, p.Protocol}, Balanced(s) && p.Port != p.NodePort
	})
}

// NewNodePorts are the node ports of apply's Services that the service
// proxy does not publish yet (no stored Service has that node port):
// whether another program holds them is for the host to tell, before the
// proxy is asked to publish them.
func NewNodePorts(apply, stored []*corev1.Service) []PortOf {
	return newPorts(apply, stored, func(_ *corev1.Service, p corev1.ServicePort) (hostPort, bool) {
		return hostPort{p.NodePort, p.Protocol}, p.NodePort != 0
	})
}

// newPorts are the ports of apply's Services whose host port (on says
// which, and whether there is one) no port of a stored Service has.
func newPorts(apply, stored []*corev1.Service, on func(*corev1.Service, corev1.ServicePort) (hostPort, bool)) []PortOf {
	ours := map[hostPort]bool{}
	for _, s := range stored {
		for _, p := range s.Spec.Ports {
			if h, ok := on(s, p); ok {
				ours[h] = true
			}
		}
	}
	var out []PortOf
	for _, s := range apply {
		for i, p := range s.Spec.Ports {
			if h, ok := on(s, p); ok && !ours[h] {
				out = append(out, PortOf{s, i})
			}
		}
	}
	return out
}
