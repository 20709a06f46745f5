// Package cluster is what pods on one host share as they would share a
// cluster: podunit's pod network, the Services in front of pods, the service
// environment variables the kubelet gives containers, and the DNS names of
// Services and pods. It is pure: addresses, allocation, variables and DNS
// answers are computed from values; the helper that serves them lives in
// helper/ and the podman side in engine/.
package cluster

import (
	"fmt"
	"net/netip"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/units/unitdef"
)

// The pod network: one rootless podman bridge network owned by podunit. Pods
// lease addresses from its upper half; the lower half holds the Services'
// addresses (and the cluster DNS), which the service proxy puts on its own
// interface, so no pod can be given one. 10.96.0.0/16 is where Kubernetes puts
// Service addresses by default: the numbers look familiar.
const (
	Network = "podunit"
	Domain  = "cluster.local"
	// ServicesMAC is the service proxy's hardware address on the network
	// (locally administered), the same in each of its runs: the pods that
	// run while it restarts (its node ports changed) keep reaching the
	// Services' and the DNS's addresses through what their ARP caches hold,
	// instead of timing out until the entries expire.
	ServicesMAC = "02:70:75:00:00:0a"
)

var (
	Subnet   = netip.MustParsePrefix("10.96.0.0/16")
	Gateway  = netip.MustParseAddr("10.96.0.1")
	PodRange = unitdef.PodRange
	// ServiceRange is the lower half: the cluster DNS's and Services' addresses.
	ServiceRange = pod.ServiceRange
	// DNS is the address of the cluster DNS server (kube-dns's usual one).
	DNS = netip.MustParseAddr("10.96.0.10")
	// Services' addresses come from here, DNS excepted.
	serviceFirst = netip.MustParseAddr("10.96.0.11")
	serviceLast  = netip.MustParseAddr("10.96.127.254")
)

// ServiceAddr tells whether ip may be a Service's address.
func ServiceAddr(ip netip.Addr) bool {
	return ip.Compare(serviceFirst) >= 0 && ip.Compare(serviceLast) <= 0
}

// Conflict is a Service that cannot have what it asks for.
type Conflict struct {
	Service *corev1.Service
	Errs    field.ErrorList
}

func (c *Conflict) Error() string {
	return fmt.Sprintf("service %q: %s", c.Service.Name, c.Errs.ToAggregate().Error())
}

// Assign gives each Service of apply its address and node ports. One that
// was applied before (in stored, by namespace and name) keeps those it had
// unless its manifest names others; new ones get the lowest free. An address
// or node port another Service holds is a conflict, as is an address outside
// the Services' range. stored's Services that apply replaces do not count as
// holders. Nothing changes on a conflict.
func Assign(apply []*corev1.Service, stored []*corev1.Service) []*Conflict {
	return AssignAvoiding(apply, stored, nil)
}

// AssignAvoiding is Assign where busy (nil: none) tells which of this
// host's ports another program holds: a node port chosen for a Service
// skips them, as the lowest free is free on the host too.
func AssignAvoiding(apply []*corev1.Service, stored []*corev1.Service, busy func(port int32, proto corev1.Protocol) bool) []*Conflict {
	key := func(s *corev1.Service) string { return s.Namespace + "/" + s.Name }
	replaced := map[string]*corev1.Service{}
	for _, s := range apply {
		replaced[key(s)] = nil
	}
	ips := map[netip.Addr]string{}
	nodePorts := map[int32]string{}
	for _, s := range stored {
		if _, ok := replaced[key(s)]; ok {
			replaced[key(s)] = s
			continue
		}
		if ip, err := netip.ParseAddr(s.Spec.ClusterIP); err == nil {
			ips[ip] = key(s)
		}
		for _, p := range s.Spec.Ports {
			if p.NodePort != 0 {
				nodePorts[p.NodePort] = key(s)
			}
		}
	}
	var conflicts []*Conflict
	type want struct {
		s    *corev1.Service
		ip   netip.Addr
		auto bool
	}
	var wants []want
	for _, s := range apply {
		var errs field.ErrorList
		old := replaced[key(s)]
		w := want{s: s}
		switch {
		case s.Spec.Type == corev1.ServiceTypeExternalName, pod.Headless(s):
		case s.Spec.ClusterIP != "":
			ip, _ := netip.ParseAddr(s.Spec.ClusterIP)
			w.ip = ip
			if !ServiceAddr(ip) {
				errs = append(errs, field.Invalid(field.NewPath("spec", "clusterIP"), s.Spec.ClusterIP,
					fmt.Sprintf("must be in the Services' range %s-%s of podunit's pod network", serviceFirst, serviceLast)))
			} else if by, taken := ips[ip]; taken {
				errs = append(errs, field.Invalid(field.NewPath("spec", "clusterIP"), s.Spec.ClusterIP, "already allocated to service "+by))
			}
		case old != nil && old.Spec.ClusterIP != "" && old.Spec.ClusterIP != corev1.ClusterIPNone:
			w.ip, _ = netip.ParseAddr(old.Spec.ClusterIP)
		default:
			w.auto = true
		}
		if w.ip.IsValid() && len(errs) == 0 {
			ips[w.ip] = key(s)
		}
		for i, p := range s.Spec.Ports {
			if p.NodePort == 0 {
				continue
			}
			if by, taken := nodePorts[p.NodePort]; taken {
				errs = append(errs, field.Invalid(field.NewPath("spec", "ports").Index(i).Child("nodePort"), p.NodePort,
					"provided port is already allocated (to service "+by+")"))
				continue
			}
			nodePorts[p.NodePort] = key(s)
		}
		if len(errs) > 0 {
			conflicts = append(conflicts, &Conflict{Service: s, Errs: errs})
		}
		wants = append(wants, w)
	}
	if len(conflicts) > 0 {
		return conflicts
	}
	// Then the automatic ones, in the manifest's order: addresses...
	next := serviceFirst
	for _, w := range wants {
		if !w.auto {
			if w.ip.IsValid() {
				w.s.Spec.ClusterIP = w.ip.String()
			}
			continue
		}
		for ; ; next = next.Next() {
			if next.Compare(serviceLast) > 0 {
				return []*Conflict{{Service: w.s, Errs: field.ErrorList{field.Invalid(field.NewPath("spec", "clusterIP"), "", "no free address left in the Services' range")}}}
			}
			if _, taken := ips[next]; !taken {
				break
			}
		}
		ips[next] = key(w.s)
		w.s.Spec.ClusterIP = next.String()
	}
	// ...then node ports: those a Service had before, else the lowest free.
	for _, w := range wants {
		s := w.s
		if pod.HasNodePorts(s) {
			old := replaced[key(s)]
			for i := range s.Spec.Ports {
				p := &s.Spec.Ports[i]
				if p.NodePort != 0 {
					continue
				}
				if old != nil {
					for _, op := range old.Spec.Ports {
						if op.Port == p.Port && op.Protocol == p.Protocol && op.NodePort != 0 {
							if _, taken := nodePorts[op.NodePort]; !taken {
								p.NodePort = op.NodePort
							}
						}
					}
				}
				for n := int32(pod.NodePortMin); p.NodePort == 0 && n <= pod.NodePortMax; n++ {
					if _, taken := nodePorts[n]; !taken && (busy == nil || !busy(n, p.Protocol)) {
						p.NodePort = n
					}
				}
				if p.NodePort == 0 {
					return []*Conflict{{Service: s, Errs: field.ErrorList{field.Invalid(field.NewPath("spec", "ports").Index(i).Child("nodePort"), 0, "no free node port left")}}}
				}
				nodePorts[p.NodePort] = key(s)
			}
		}
		if ip := s.Spec.ClusterIP; ip != "" {
			s.Spec.ClusterIPs = []string{ip}
		}
	}
	return nil
}

// InNamespace lists the Services of a namespace, by name.
func InNamespace(all []*corev1.Service, ns string) []*corev1.Service {
	var out []*corev1.Service
	for _, s := range all {
		if s.Namespace == ns {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Selects tells whether a Service's selector picks a pod: every label of the
// selector, with its value. A Service without a selector picks none.
func Selects(s *corev1.Service, p *corev1.Pod) bool {
	if len(s.Spec.Selector) == 0 || s.Namespace != p.Namespace {
		return false
	}
	for k, v := range s.Spec.Selector {
		if got, ok := p.Labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// TargetPort resolves a Service port's targetPort for one pod: a number as
// it is, a name through the pod's container ports (of that protocol). ok is
// false when the pod has no port of that name.
func TargetPort(sp corev1.ServicePort, p *corev1.Pod) (port int, ok bool) {
	if sp.TargetPort.StrVal == "" {
		return int(sp.TargetPort.IntVal), sp.TargetPort.IntVal != 0
	}
	for _, c := range append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...) {
		for _, cp := range c.Ports {
			proto := cp.Protocol
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			if cp.Name == sp.TargetPort.StrVal && proto == sp.Protocol {
				return int(cp.ContainerPort), true
			}
		}
	}
	return 0, false
}

// CheckTargets reports the named targetPorts of a Service that no pod it
// selects among pods has: the field path and the pods looked at. A Service
// that selects none of pods is not checked (its pods may come later).
func CheckTargets(s *corev1.Service, pods []*corev1.Pod) field.ErrorList {
	var errs field.ErrorList
	var picked []*corev1.Pod
	for _, p := range pods {
		if Selects(s, p) {
			picked = append(picked, p)
		}
	}
	if len(picked) == 0 {
		return nil
	}
	for i, sp := range s.Spec.Ports {
		if sp.TargetPort.StrVal == "" {
			continue
		}
		found := false
		for _, p := range picked {
			if _, ok := TargetPort(sp, p); ok {
				found = true
			}
		}
		if !found {
			var names []string
			for _, p := range picked {
				names = append(names, p.Name)
			}
			errs = append(errs, field.Invalid(field.NewPath("spec", "ports").Index(i).Child("targetPort"), sp.TargetPort.StrVal,
				fmt.Sprintf("no %s container port of this name in the pods the Service selects (%v)", sp.Protocol, names)))
		}
	}
	return errs
}
