package cluster

import (
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podunit/podunit/pod"
)

// Pod is what the service proxy knows of a pod on the pod network.
type Pod struct {
	Spec  *corev1.Pod
	IP    netip.Addr
	Ready bool
}

// State is the Services and pods the proxy serves at one moment.
type State struct {
	Services  []*corev1.Service
	Ingresses []*networkingv1.Ingress
	Pods      []Pod
	// Written and Slices are the endpoints users wrote for Services
	// without a selector.
	Written []*corev1.Endpoints
	Slices  []*discoveryv1.EndpointSlice

	// what Written and Slices hold for each Service, worked out once (the
	// proxy asks at each connection): by namespace/name
	writtenOnce sync.Once
	byService   map[string][]WrittenAddr
	// Policies are what the stored NetworkPolicies mean for Pods (nil:
	// none is stored).
	Policies *Policies
}

// Endpoint is a pod's address and port behind one port of a Service.
type Endpoint struct {
	Pod  string
	Addr netip.AddrPort
}

// Endpoints are the addresses behind port i of a Service: the pods it
// selects that have an address, are ready (unless the Service publishes not
// ready addresses) and have the target port, in pod name order. A Service
// without a selector has the ready addresses written for it (Written), at
// their port of the Service port's name and protocol, in the order written.
func (s *State) Endpoints(svc *corev1.Service, i int) []Endpoint {
	var out []Endpoint
	if len(svc.Spec.Selector) == 0 {
		sp := svc.Spec.Ports[i]
		seen := map[netip.AddrPort]bool{}
		for _, w := range s.written(svc) {
			if !w.Ready && !svc.Spec.PublishNotReadyAddresses {
				continue
			}
			for _, p := range w.Ports {
				if ap := netip.AddrPortFrom(w.IP, uint16(p.Port)); p.Name == sp.Name && p.Protocol == sp.Protocol && !seen[ap] {
					seen[ap] = true
					out = append(out, Endpoint{Addr: ap})
				}
			}
		}
		return out
	}
	for _, p := range s.selected(svc) {
		port, ok := TargetPort(svc.Spec.Ports[i], p.Spec)
		if ok {
			out = append(out, Endpoint{Pod: p.Spec.Name, Addr: netip.AddrPortFrom(p.IP, uint16(port))})
		}
	}
	return out
}

// WrittenAddr is an address written for a Service without a selector, by
// an Endpoints object or an EndpointSlice.
type WrittenAddr struct {
	IP       netip.Addr
	Ready    bool
	Hostname string
	Ports    []corev1.EndpointPort
}

// written are the addresses written for a Service without a selector: those
// of its Endpoints object, then those of the EndpointSlices labelled with its
// name (in name order). An address may come twice (a cluster's Endpoints
// and their mirrored slice): the users count it once.
func (s *State) written(svc *corev1.Service) []WrittenAddr {
	if len(svc.Spec.Selector) > 0 || svc.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	s.writtenOnce.Do(s.indexWritten)
	return s.byService[svc.Namespace+"/"+svc.Name]
}

// indexWritten sorts Written and Slices by the Service they are for.
func (s *State) indexWritten() {
	s.byService = map[string][]WrittenAddr{}
	add := func(key string, w WrittenAddr) {
		if w.IP.IsValid() {
			s.byService[key] = append(s.byService[key], w)
		}
	}
	for _, ep := range s.Written {
		for _, sub := range ep.Subsets {
			for _, addrs := range []struct {
				list  []corev1.EndpointAddress
				ready bool
			}{{sub.Addresses, true}, {sub.NotReadyAddresses, false}} {
				for _, a := range addrs.list {
					ip, _ := netip.ParseAddr(a.IP)
					add(ep.Namespace+"/"+ep.Name, WrittenAddr{IP: ip, Ready: addrs.ready, Hostname: a.Hostname, Ports: sub.Ports})
				}
			}
		}
	}
	slices := make([]*discoveryv1.EndpointSlice, 0, len(s.Slices))
	for _, es := range s.Slices {
		if es.AddressType == discoveryv1.AddressTypeIPv4 {
			slices = append(slices, es)
		}
	}
	sort.Slice(slices, func(i, j int) bool { return slices[i].Name < slices[j].Name })
	for _, es := range slices {
		ports := pod.SlicePorts(es)
		key := es.Namespace + "/" + es.Labels[pod.LabelServiceName]
		for _, e := range es.Endpoints {
			if len(e.Addresses) == 0 {
				continue
			}
			ip, _ := netip.ParseAddr(e.Addresses[0])
			w := WrittenAddr{IP: ip, Ready: e.Conditions.Ready == nil || *e.Conditions.Ready, Ports: ports}
			if e.Hostname != nil {
				w.Hostname = *e.Hostname
			}
			add(key, w)
		}
	}
}

// headless are the addresses a headless Service's name answers with, and
// whose hostname they go by: its ready pods (a pod's hostname only when its
// subdomain is the Service), or what was written for it.
func (s *State) headless(svc *corev1.Service) (addrs []netip.Addr, hostnames []string) {
	if len(svc.Spec.Selector) == 0 {
		seen := map[netip.Addr]bool{}
		for _, w := range s.written(svc) {
			if (w.Ready || svc.Spec.PublishNotReadyAddresses) && !seen[w.IP] {
				seen[w.IP] = true
				addrs, hostnames = append(addrs, w.IP), append(hostnames, w.Hostname)
			}
		}
		return addrs, hostnames
	}
	for _, p := range s.selected(svc) {
		h := ""
		if p.Spec.Spec.Subdomain == svc.Name {
			h = hostname(p.Spec)
		}
		addrs, hostnames = append(addrs, p.IP), append(hostnames, h)
	}
	return addrs, hostnames
}

func (s *State) selected(svc *corev1.Service) []Pod {
	var out []Pod
	for _, p := range s.Pods {
		if p.IP.IsValid() && (p.Ready || svc.Spec.PublishNotReadyAddresses) && Selects(svc, p.Spec) {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Spec.Name < out[j].Spec.Name })
	return out
}

func (s *State) service(ns, name string) *corev1.Service {
	for _, svc := range s.Services {
		if svc.Namespace == ns && svc.Name == name {
			return svc
		}
	}
	return nil
}

// SRV is a DNS SRV record.
type SRV struct {
	Target string
	Port   uint16
}

// Answer is what the cluster DNS says about a name.
type Answer struct {
	// Exists is false for a name of the cluster domain that names nothing
	// (NXDOMAIN). A name that exists may have no address (NODATA).
	Exists bool
	A      []netip.Addr
	CNAME  string
	SRV    []SRV
}

// Lookup answers a query for name under the cluster domain (lower case, no
// trailing dot); ours is false for a name outside it, which the DNS server
// forwards. The names, as Kubernetes' DNS specification has them:
//   - SVC.NS.svc.cluster.local: a Service's address; for a headless one,
//     its ready pods' addresses; for an ExternalName one, a CNAME;
//   - HOSTNAME.SVC.NS.svc.cluster.local: a pod with that hostname and
//     subdomain SVC, when the headless Service SVC exists;
//   - _PORT._PROTO.SVC.NS.svc.cluster.local: SRV of a named port;
//   - A-B-C-D.NS.pod.cluster.local: a pod's address written with dashes.
func (s *State) Lookup(name string) (a Answer, ours bool) {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	if name != Domain && !strings.HasSuffix(name, "."+Domain) {
		return a, false
	}
	labels := strings.Split(strings.TrimSuffix(strings.TrimSuffix(name, Domain), "."), ".")
	if len(labels) == 1 && labels[0] == "" {
		return Answer{Exists: true}, true
	}
	n := len(labels)
	switch labels[n-1] {
	case "svc":
		labels = labels[:n-1]
	case "pod":
		if n == 3 {
			ip, err := netip.ParseAddr(strings.ReplaceAll(labels[0], "-", "."))
			if err == nil && ip.Is4() {
				for _, p := range s.Pods {
					if p.IP == ip && p.Spec.Namespace == labels[1] {
						return Answer{Exists: true, A: []netip.Addr{ip}}, true
					}
				}
			}
		}
		return a, true
	default:
		return a, true
	}
	switch len(labels) {
	case 0, 1: // svc.cluster.local, NS.svc.cluster.local
		return Answer{Exists: true}, true
	case 2:
		svc := s.service(labels[1], labels[0])
		if svc == nil {
			return a, true
		}
		a.Exists = true
		switch {
		case svc.Spec.Type == corev1.ServiceTypeExternalName:
			a.CNAME = strings.TrimSuffix(svc.Spec.ExternalName, ".")
		case pod.Headless(svc):
			a.A, _ = s.headless(svc)
		default:
			if ip, err := netip.ParseAddr(svc.Spec.ClusterIP); err == nil {
				a.A = []netip.Addr{ip}
			}
		}
		return a, true
	case 3:
		svc := s.service(labels[2], labels[1])
		if svc == nil {
			return a, true
		}
		if pod.Headless(svc) {
			addrs, hostnames := s.headless(svc)
			for i, h := range hostnames {
				if h != "" && h == labels[0] {
					return Answer{Exists: true, A: []netip.Addr{addrs[i]}}, true
				}
			}
		}
		return a, true
	case 4:
		svc := s.service(labels[3], labels[2])
		if svc == nil || !strings.HasPrefix(labels[0], "_") || !strings.HasPrefix(labels[1], "_") {
			return a, true
		}
		for _, sp := range svc.Spec.Ports {
			if sp.Name == labels[0][1:] && strings.ToLower(string(sp.Protocol)) == labels[1][1:] {
				target := svc.Name + "." + svc.Namespace + ".svc." + Domain
				return Answer{Exists: true, SRV: []SRV{{Target: target, Port: uint16(sp.Port)}}}, true
			}
		}
		return a, true
	}
	return a, true
}

func hostname(p *corev1.Pod) string {
	if p.Spec.Hostname != "" {
		return p.Spec.Hostname
	}
	return p.Name
}

// Listener is one address and port the proxy listens on for a Service port.
type Listener struct {
	Proto corev1.Protocol
	Addr  netip.AddrPort // the Service's address; for a node port, the unspecified address
}

func (l Listener) String() string {
	return strings.ToLower(string(l.Proto)) + "/" + l.Addr.String()
}

// Route is where a listener's traffic goes: a Service port.
type Route struct {
	Service *corev1.Service
	Port    int // index in Service.Spec.Ports
}

// Routes are the listeners the proxy needs: each port of each Service with
// an address, and each node port.
func (s *State) Routes() map[Listener]Route {
	out := map[Listener]Route{}
	for _, svc := range s.Services {
		ip, err := netip.ParseAddr(svc.Spec.ClusterIP)
		if err != nil {
			continue
		}
		for i, p := range svc.Spec.Ports {
			out[Listener{p.Protocol, netip.AddrPortFrom(ip, uint16(p.Port))}] = Route{svc, i}
			if p.NodePort != 0 {
				out[Listener{p.Protocol, netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(p.NodePort))}] = Route{svc, i}
			}
		}
	}
	return out
}

// Addresses are the addresses the proxy holds: the cluster DNS's and every
// Service's.
func (s *State) Addresses() []netip.Addr {
	out := []netip.Addr{DNS}
	for _, svc := range s.Services {
		if ip, err := netip.ParseAddr(svc.Spec.ClusterIP); err == nil {
			out = append(out, ip)
		}
	}
	return out
}

// NodePorts are what the services container publishes on the host, sorted:
// the node ports of services, "PORT/PROTO", and the ports of those this host
// is the load balancer of (Balanced), "PORT:NODEPORT/PROTO": this host's
// port of the Service's port number leads to the proxy's node port.
func NodePorts(services []*corev1.Service) []string {
	var out []string
	for _, svc := range services {
		for _, p := range svc.Spec.Ports {
			if p.NodePort == 0 {
				continue
			}
			proto := "/" + strings.ToLower(string(p.Protocol))
			out = append(out, strconv.Itoa(int(p.NodePort))+proto)
			if Balanced(svc) && p.Port != p.NodePort {
				out = append(out, strconv.Itoa(int(p.Port))+":"+strconv.Itoa(int(p.NodePort))+proto)
			}
		}
	}
	sort.Strings(out)
	return out
}

// TypedEndpoints is a copy of an Endpoints object with its apiVersion and
// kind, as get prints it.
func TypedEndpoints(ep *corev1.Endpoints) *corev1.Endpoints {
	out := ep.DeepCopy()
	out.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Endpoints"}
	return out
}

// EndpointsOf is the Endpoints object the endpoints controller keeps for a
// Service with a selector (for one without, the Endpoints object written
// for it, or nil): the pods it selects that have an address, the ready ones
// under addresses and the others under notReadyAddresses (every one under
// addresses when the Service publishes not ready addresses), grouped in
// subsets of pods whose target ports resolve alike, in address order; a
// port a pod has no container port for is left out for that pod, as the
// controller does.
func (s *State) EndpointsOf(svc *corev1.Service, node string) *corev1.Endpoints {
	if len(svc.Spec.Selector) == 0 {
		for _, ep := range s.Written {
			if ep.Namespace == svc.Namespace && ep.Name == svc.Name {
				return TypedEndpoints(ep)
			}
		}
		return nil
	}
	ep := &corev1.Endpoints{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Endpoints"},
		ObjectMeta: metav1.ObjectMeta{Name: svc.Name, Namespace: svc.Namespace, Labels: svc.Labels, CreationTimestamp: svc.CreationTimestamp},
	}
	var pods []Pod
	for _, p := range s.Pods {
		if p.IP.IsValid() && Selects(svc, p.Spec) {
			pods = append(pods, p)
		}
	}
	// addresses in address order, as the endpoints controller sorts them
	sort.Slice(pods, func(i, j int) bool { return pods[i].IP.Less(pods[j].IP) })
	bySet := map[string]int{} // ports: index in ep.Subsets
	for _, p := range pods {
		var ports []corev1.EndpointPort
		for _, sp := range svc.Spec.Ports {
			if port, ok := TargetPort(sp, p.Spec); ok {
				ports = append(ports, corev1.EndpointPort{Name: sp.Name, Port: int32(port), Protocol: sp.Protocol, AppProtocol: sp.AppProtocol})
			}
		}
		var key strings.Builder
		for _, pt := range ports {
			key.WriteString(pt.Name + "/" + strconv.Itoa(int(pt.Port)) + "/" + string(pt.Protocol) + ",")
		}
		i, ok := bySet[key.String()]
		if !ok {
			i = len(ep.Subsets)
			bySet[key.String()] = i
			ep.Subsets = append(ep.Subsets, corev1.EndpointSubset{Ports: ports})
		}
		addr := corev1.EndpointAddress{IP: p.IP.String(), NodeName: &node,
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: p.Spec.Namespace, Name: p.Spec.Name, UID: p.Spec.UID}}
		if p.Spec.Spec.Hostname != "" && p.Spec.Spec.Subdomain == svc.Name {
			addr.Hostname = p.Spec.Spec.Hostname
		}
		if p.Ready || svc.Spec.PublishNotReadyAddresses {
			ep.Subsets[i].Addresses = append(ep.Subsets[i].Addresses, addr)
		} else {
			ep.Subsets[i].NotReadyAddresses = append(ep.Subsets[i].NotReadyAddresses, addr)
		}
	}
	return ep
}
