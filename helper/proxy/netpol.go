package proxy

import (
	"fmt"
	"net/netip"
	"reflect"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"github.com/podunit/podunit/cluster"
	"github.com/podunit/podunit/netshape/nft"
	"github.com/podunit/podunit/podstate"
)

// applied is the firewall last set in a pod's network namespace.
type applied struct {
	pid int
	fw  cluster.Firewall
}

// marked is the network namespace (infra pid) each pod's FirewallFile says
// its firewall was set for.
type marked map[string]int

// setFirewall sets a firewall in the network namespace of a process; a
// variable for the tests.
var setFirewall = func(pid int, fw cluster.Firewall) error {
	return nft.Apply(fmt.Sprintf("/proc/%d/ns/net", pid), fw)
}

// enforce keeps each pod's NetworkPolicy firewall in its network namespace
// as st says, setting it again where it changed or the pod's infra is a new
// one (a new namespace). What reaches a pod through the proxy (a Service,
// an Ingress, a node port) passes its firewall: the proxy checked it
// (allowed) against both pods' policies before connecting.
//
// Once a pass has set every firewall, each pod it knows the address of is
// told so (podstate.FirewallFile): its containers' starts wait for that
// where policies are stored.
func (p *Proxy) enforce(st *cluster.State) {
	failed := map[string]bool{}
	defer func() {
		if st.Policies == nil {
			return
		}
		for _, pd := range st.Pods {
			c, ok := p.ips[pd.Spec.Name]
			if !ok || c.pid <= 0 || failed[pd.Spec.Name] || p.marked[pd.Spec.Name] == c.pid {
				continue
			}
			if err := podstate.WriteAtomic(podstate.FirewallFile(p.StateDir, pd.Spec.Name), []byte(strconv.Itoa(c.pid)+"\n")); err == nil {
				p.marked[pd.Spec.Name] = c.pid
			}
		}
	}()
	for _, pd := range st.Pods {
		c, ok := p.ips[pd.Spec.Name]
		if !ok || c.pid <= 0 {
			continue
		}
		var fw cluster.Firewall
		if st.Policies != nil {
			fw = st.Policies.Firewalls[cluster.PodKey(pd.Spec)]
		}
		fw = p.withProxy(fw)
		last, had := p.firewalls[pd.Spec.Name]
		if had && last.pid == c.pid && reflect.DeepEqual(last.fw, fw) {
			continue
		}
		if !had && !fw.Isolated() {
			continue // nothing set there, nothing to set
		}
		if err := setFirewall(c.pid, fw); err != nil {
			fmt.Fprintf(p.Out, "pod %s: network policy: %v\n", pd.Spec.Name, err)
			delete(p.firewalls, pd.Spec.Name) // tried again at the next refresh
			failed[pd.Spec.Name] = true
			continue
		}
		if fw.Isolated() {
			p.firewalls[pd.Spec.Name] = applied{pid: c.pid, fw: fw}
		} else {
			delete(p.firewalls, pd.Spec.Name)
		}
	}
}

// withProxy adds to an isolated firewall what the proxy passes on: from its
// own address (ingress), to the Services' addresses (egress). The cluster
// DNS is a peer like any other (cluster.DNSPod), and the network's gateway
// (this host) is outside the cluster.
func (p *Proxy) withProxy(fw cluster.Firewall) cluster.Firewall {
	except := []netip.Prefix{netip.PrefixFrom(cluster.Gateway, 32), netip.PrefixFrom(cluster.DNS, 32)}
	if fw.Ingress != nil {
		in := []cluster.Allow{{Net: cluster.ServiceRange, Except: except}}
		if p.ownAddr.IsValid() {
			in = append(in, cluster.Allow{Net: netip.PrefixFrom(p.ownAddr, 32)})
		}
		in = append(in, *fw.Ingress...)
		fw.Ingress = &in
	}
	if fw.Egress != nil {
		out := append([]cluster.Allow{{Net: cluster.ServiceRange, Except: except}}, *fw.Egress...)
		fw.Egress = &out
	}
	return fw
}

// allowed are the endpoints the NetworkPolicies let client reach with
// proto, in the same order.
func (p *Proxy) allowed(client netip.Addr, proto corev1.Protocol, eps []cluster.Endpoint) []cluster.Endpoint {
	pol := p.state.Load().Policies
	if pol == nil {
		return eps
	}
	out := eps[:0:0]
	for _, ep := range eps {
		if pol.Allows(client, ep.Addr.Addr(), proto, ep.Addr.Port()) {
			out = append(out, ep)
		}
	}
	return out
}
