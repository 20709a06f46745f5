package cluster

import (
	"net/netip"
	"slices"
	"sort"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// NamespaceNameLabel is the label every namespace has, its name, as the API
// server sets it: what a namespaceSelector names one namespace by.
const NamespaceNameLabel = "kubernetes.io/metadata.name"

// DNSPod is the cluster DNS as a NetworkPolicy peer: the pod a cluster's
// kube-dns Service selects (namespace kube-system, k8s-app: kube-dns, ports
// dns/53 UDP and dns-tcp/53 TCP), at the cluster DNS's address. A policy
// that limits a pod's egress lets it resolve names only where it allows
// that peer (by selector, or by an ipBlock holding the address), as on a
// cluster.
var DNSPod = Pod{IP: DNS, Ready: true, Spec: &corev1.Pod{
	ObjectMeta: metav1.ObjectMeta{Name: "kube-dns", Namespace: "kube-system", Labels: map[string]string{"k8s-app": "kube-dns"}},
	Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "coredns", Ports: []corev1.ContainerPort{
		{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
		{Name: "dns-tcp", ContainerPort: 53, Protocol: corev1.ProtocolTCP},
	}}}},
}}

// Allow is traffic a NetworkPolicy lets through, from (ingress) or to
// (egress) a peer: addresses in Net but in none of Except (Net invalid: any
// address), of Protocol ("": any) to a port in From..To (0: any port).
type Allow struct {
	Net      netip.Prefix
	Except   []netip.Prefix
	Protocol corev1.Protocol
	From, To uint16
}

// Matches tells whether the traffic from or to addr with proto to port is
// allowed by a.
func (a Allow) Matches(addr netip.Addr, proto corev1.Protocol, port uint16) bool {
	if a.Net.IsValid() {
		if !a.Net.Contains(addr) {
			return false
		}
		for _, e := range a.Except {
			if e.Contains(addr) {
				return false
			}
		}
	}
	if a.Protocol != "" && a.Protocol != proto {
		return false
	}
	return a.From == 0 || (port >= a.From && port <= a.To)
}

// Firewall is what a pod's NetworkPolicies allow. A nil direction is not
// isolated: everything passes. An isolated one passes only what one of its
// Allows matches (and the replies to what passed).
type Firewall struct {
	Ingress, Egress *[]Allow
}

// Isolated tells whether any direction is limited.
func (f Firewall) Isolated() bool { return f.Ingress != nil || f.Egress != nil }

// Policies is what the NetworkPolicies stored on this host mean for the pods
// of a State: worked out once (Firewalls), asked per connection (Allows).
type Policies struct {
	// Firewalls are those of the pods (by namespace/name) that a policy
	// selects.
	Firewalls map[string]Firewall
	byIP      map[netip.Addr]string
}

// PodKey is a pod's key in Policies.Firewalls.
func PodKey(p *corev1.Pod) string { return p.Namespace + "/" + p.Name }

// NetworkPolicies works out the firewalls of st's pods: policies select pods
// of their own namespace; a namespace's labels are nsLabels' (those of its
// Namespace document) with its name as NamespaceNameLabel. Pods without an
// address are neither isolated nor peers yet.
func (st *State) NetworkPolicies(policies []*networkingv1.NetworkPolicy, nsLabels map[string]map[string]string) *Policies {
	out := &Policies{Firewalls: map[string]Firewall{}, byIP: map[netip.Addr]string{}}
	if len(policies) == 0 {
		return out
	}
	peers := append([]Pod{DNSPod}, st.Pods...)
	// each namespace's labels and each selector worked out once, not for
	// every pair of pods
	nsSets := map[string]labels.Set{}
	for _, p := range peers {
		ns := p.Spec.Namespace
		if _, ok := nsSets[ns]; !ok {
			l := labels.Set{NamespaceNameLabel: ns}
			for k, v := range nsLabels[ns] {
				if k != NamespaceNameLabel {
					l[k] = v
				}
			}
			nsSets[ns] = l
		}
	}
	parsed := map[*metav1.LabelSelector]labels.Selector{}
	m := matcher{nsSets: nsSets, match: func(sel *metav1.LabelSelector, l map[string]string) bool {
		s, ok := parsed[sel]
		if !ok {
			var err error
			if s, err = metav1.LabelSelectorAsSelector(sel); err != nil {
				s = labels.Nothing()
			}
			parsed[sel] = s
		}
		return s.Matches(labels.Set(l))
	}}
	sorted := append([]*networkingv1.NetworkPolicy(nil), policies...)
	sort.Slice(sorted, func(i, j int) bool {
		return sorted[i].Namespace+"/"+sorted[i].Name < sorted[j].Namespace+"/"+sorted[j].Name
	})
	for _, p := range st.Pods {
		if !p.IP.IsValid() {
			continue
		}
		out.byIP[p.IP] = PodKey(p.Spec)
		var fw Firewall
		for _, np := range sorted {
			if np.Namespace != p.Spec.Namespace || !m.match(&np.Spec.PodSelector, p.Spec.Labels) {
				continue
			}
			for _, t := range np.Spec.PolicyTypes {
				switch t {
				case networkingv1.PolicyTypeIngress:
					if fw.Ingress == nil {
						fw.Ingress = &[]Allow{}
					}
					for _, r := range np.Spec.Ingress {
						*fw.Ingress = append(*fw.Ingress, allows(np.Namespace, r.From, r.Ports, peers, m, p.Spec, true)...)
					}
				case networkingv1.PolicyTypeEgress:
					if fw.Egress == nil {
						fw.Egress = &[]Allow{}
					}
					for _, r := range np.Spec.Egress {
						*fw.Egress = append(*fw.Egress, allows(np.Namespace, r.To, r.Ports, peers, m, p.Spec, false)...)
					}
				}
			}
		}
		if fw.Isolated() {
			out.Firewalls[PodKey(p.Spec)] = fw
		}
	}
	return out
}

// Allows tells whether a connection (or datagram) from src to dst, of proto
// to port, may pass: dst's pod admits it (ingress) and src's pod may send
// it (egress); a pod's traffic with itself always passes, as on its
// loopback. An address that is no pod's is outside the cluster: not
// limited itself, and matched by ipBlocks only.
func (ps *Policies) Allows(src, dst netip.Addr, proto corev1.Protocol, port uint16) bool {
	if ps == nil || src == dst {
		return true // a pod reaching itself through a Service: its own traffic
	}
	if fw, ok := ps.Firewalls[ps.byIP[src]]; ok && fw.Egress != nil && !anyMatch(*fw.Egress, dst, proto, port) {
		return false
	}
	if fw, ok := ps.Firewalls[ps.byIP[dst]]; ok && fw.Ingress != nil && !anyMatch(*fw.Ingress, src, proto, port) {
		return false
	}
	return true
}

func anyMatch(as []Allow, addr netip.Addr, proto corev1.Protocol, port uint16) bool {
	for _, a := range as {
		if a.Matches(addr, proto, port) {
			return true
		}
	}
	return false
}

// allows is what one rule of a policy in namespace ns lets through for
// self: from (ingress) or to (egress) its peers, on its ports. A named port
// is the container port of that name of the pod the traffic goes to: self
// for ingress, each peer pod for egress (no address outside the cluster
// matches it then).
func allows(ns string, peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort, pods []Pod, m matcher, self *corev1.Pod, ingress bool) []Allow {
	type target struct {
		net    netip.Prefix // invalid: any address
		except []netip.Prefix
		pod    *corev1.Pod // the peer pod, nil for an ipBlock or any address
	}
	var targets []target
	if len(peers) == 0 {
		targets = append(targets, target{})
	}
	for _, peer := range peers {
		if b := peer.IPBlock; b != nil {
			net, err := netip.ParsePrefix(b.CIDR)
			if err != nil {
				continue
			}
			t := target{net: net.Masked()}
			for _, e := range b.Except {
				if ep, err := netip.ParsePrefix(e); err == nil {
					t.except = append(t.except, ep.Masked())
				}
			}
			targets = append(targets, t)
			continue
		}
		for _, p := range pods {
			switch {
			case !p.IP.IsValid():
				continue
			case peer.NamespaceSelector == nil && p.Spec.Namespace != ns:
				continue
			case peer.NamespaceSelector != nil && !m.match(peer.NamespaceSelector, m.nsSets[p.Spec.Namespace]):
				continue
			case peer.PodSelector != nil && !m.match(peer.PodSelector, p.Spec.Labels):
				continue
			}
			targets = append(targets, target{net: netip.PrefixFrom(p.IP, p.IP.BitLen()), pod: p.Spec})
		}
	}
	var out []Allow
	for _, t := range targets {
		if len(ports) == 0 {
			out = append(out, Allow{Net: t.net, Except: t.except})
			continue
		}
		for _, pp := range ports {
			a := Allow{Net: t.net, Except: t.except}
			if pp.Protocol != nil {
				a.Protocol = *pp.Protocol
			}
			switch {
			case pp.Port == nil:
			case pp.Port.Type == intstr.String:
				if ingress {
					port, ok := namedPort(self, pp.Port.StrVal, a.Protocol)
					if !ok {
						continue
					}
					a.From, a.To = port, port
					break
				}
				// egress: the port of that name of each pod the rule
				// reaches (any pod, for a rule without peers)
				on := []Pod{{Spec: t.pod}}
				if !t.net.IsValid() {
					on = pods
				}
				for _, p := range on {
					port, ok := namedPort(p.Spec, pp.Port.StrVal, a.Protocol)
					if !ok || (p.Spec != t.pod && !p.IP.IsValid()) {
						continue
					}
					b := a
					if !t.net.IsValid() {
						b.Net = netip.PrefixFrom(p.IP, p.IP.BitLen())
					}
					b.From, b.To = port, port
					out = append(out, b)
				}
				continue
			default:
				a.From, a.To = uint16(pp.Port.IntVal), uint16(pp.Port.IntVal)
				if pp.EndPort != nil {
					a.To = uint16(*pp.EndPort)
				}
			}
			out = append(out, a)
		}
	}
	return dedupe(out)
}

// namedPort is the number of p's container port name of proto.
func namedPort(p *corev1.Pod, name string, proto corev1.Protocol) (uint16, bool) {
	if p == nil {
		return 0, false
	}
	for _, c := range append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...) {
		for _, cp := range c.Ports {
			pr := cp.Protocol
			if pr == "" {
				pr = corev1.ProtocolTCP
			}
			if cp.Name == name && (proto == "" || pr == proto) {
				return uint16(cp.ContainerPort), true
			}
		}
	}
	return 0, false
}

// matcher matches label selectors, each parsed once (one that does not
// parse matches nothing), against pods' labels and namespaces' (nsSets).
type matcher struct {
	nsSets map[string]labels.Set
	match  func(sel *metav1.LabelSelector, l map[string]string) bool
}

func dedupe(as []Allow) []Allow {
	var out []Allow
	for _, a := range as {
		if !slices.ContainsFunc(out, func(b Allow) bool {
			return a.Net == b.Net && slices.Equal(a.Except, b.Except) && a.Protocol == b.Protocol && a.From == b.From && a.To == b.To
		}) {
			out = append(out, a)
		}
	}
	return out
}
