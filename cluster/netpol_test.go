package cluster

import (
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podunit/podunit/pod"
)

// policyPods: a server (app=db, port http/8080) and clients in two
// namespaces; shop's Namespace document labels it team=shop.
func policyPods() *State {
	mk := func(ns, name, ip string, labels map[string]string, ports ...corev1.ContainerPort) Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Ports: ports}}}}
		var a netip.Addr
		if ip != "" {
			a = netip.MustParseAddr(ip)
		}
		return Pod{Spec: p, IP: a, Ready: true}
	}
	return &State{Pods: []Pod{
		mk("default", "db", "10.96.128.2", map[string]string{"app": "db"}, corev1.ContainerPort{Name: "http", ContainerPort: 8080}, corev1.ContainerPort{Name: "metrics", ContainerPort: 9090, Protocol: corev1.ProtocolUDP}),
		mk("default", "front", "10.96.128.3", map[string]string{"role": "frontend"}),
		mk("default", "other", "10.96.128.4", map[string]string{"role": "other"}),
		mk("shop", "shopfront", "10.96.128.5", map[string]string{"role": "frontend"}, corev1.ContainerPort{Name: "http", ContainerPort: 3000}),
		mk("default", "starting", "", map[string]string{"role": "frontend"}),
	}}
}

func loadPolicies(t *testing.T, yaml string) *pod.Objects {
	t.Helper()
	m, err := pod.LoadSources([]pod.Source{{Data: []byte(yaml)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &m.Objects
}

func TestNetworkPolicies(t *testing.T) {
	const (
		db, front, other, shop = "10.96.128.2", "10.96.128.3", "10.96.128.4", "10.96.128.5"
		outside                = "192.0.2.7"
		tcp, udp               = corev1.ProtocolTCP, corev1.ProtocolUDP
	)
	type conn struct {
		src, dst string
		proto    corev1.Protocol
		port     uint16
		want     bool
	}
	for _, tc := range []struct {
		name     string
		policies string
		isolated []string // pods with a firewall
		conns    []conn
	}{{
		name:  "no policy: everything passes",
		conns: []conn{{other, db, tcp, 8080, true}, {outside, db, tcp, 1, true}},
	}, {
		name: "ingress from a pod selector on a named port",
		policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{podSelector: {matchLabels: {role: frontend}}}]
    ports: [{port: http}]
`,
		isolated: []string{"default/db"},
		conns: []conn{
			{front, db, tcp, 8080, true},
			{front, db, tcp, 9090, false},   // not the named port
			{front, db, udp, 8080, false},   // the name is TCP's
			{other, db, tcp, 8080, false},   // not selected
			{shop, db, tcp, 8080, false},    // a podSelector alone: the policy's namespace only
			{outside, db, tcp, 8080, false}, // not a pod
			{db, other, tcp, 80, true},      // egress not limited, and other is not isolated
		},
	}, {
		name: "namespace selector, ANDed with a pod selector in one peer",
		policies: `
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: shop}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db}
spec:
  podSelector: {}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {team: shop}}, podSelector: {matchLabels: {role: frontend}}}]
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: default}}, podSelector: {matchLabels: {role: other}}}]
`,
		isolated: []string{"default/db", "default/front", "default/other"},
		conns: []conn{
			{shop, db, tcp, 8080, true},
			{shop, db, udp, 53, true}, // no ports: any
			{front, db, tcp, 8080, false},
			{other, db, tcp, 8080, true}, // by the namespace's own name label
			{db, shop, tcp, 3000, true},  // shop's pods are not isolated
		},
	}, {
		name: "egress: DNS by selector, an ipBlock with an exception, a port range",
		policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: front}
spec:
  podSelector: {matchLabels: {role: frontend}}
  policyTypes: [Egress]
  egress:
  - to: [{namespaceSelector: {}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]
    ports: [{port: 53, protocol: UDP}]
  - to: [{ipBlock: {cidr: 192.0.2.0/24, except: [192.0.2.128/25]}}]
    ports: [{port: 8000, endPort: 8100}]
`,
		isolated: []string{"default/front"},
		conns: []conn{
			{front, DNS.String(), udp, 53, true},
			{front, DNS.String(), tcp, 53, false},
			{front, outside, tcp, 8050, true},
			{front, outside, tcp, 8101, false},
			{front, "192.0.2.200", tcp, 8050, false}, // the exception
			{front, db, tcp, 8080, false},
			{db, front, tcp, 80, true}, // front's ingress is not limited
			{shop, outside, tcp, 1, true},
		},
	}, {
		name: "egress to any destination on a named port: each pod's own number",
		policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: other}
spec:
  podSelector: {matchLabels: {role: other}}
  policyTypes: [Egress]
  egress:
  - ports: [{port: http}]
`,
		isolated: []string{"default/other"},
		conns: []conn{
			{other, db, tcp, 8080, true},
			{other, shop, tcp, 3000, true},
			{other, db, tcp, 3000, false},
			{other, outside, tcp, 8080, false}, // no pod: no named port
		},
	}, {
		name: "deny all, both ways, beside an allowing policy: policies add up",
		policies: `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-all}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{}]
`,
		isolated: []string{"default/db", "default/front", "default/other"},
		conns: []conn{
			{outside, db, tcp, 8080, true},
			{shop, db, tcp, 8080, true},
			{front, db, tcp, 8080, false}, // front may not send
			{db, outside, tcp, 80, false},
			{shop, front, tcp, 80, false},
			{front, front, tcp, 80, true}, // itself, through a Service
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			st := policyPods()
			o := loadPolicies(t, "apiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n---\n"+tc.policies)
			nsLabels := map[string]map[string]string{}
			for _, ns := range o.Namespaces {
				nsLabels[ns.Name] = ns.Labels
			}
			ps := st.NetworkPolicies(o.NetworkPolicies, nsLabels)
			var got []string
			for k := range ps.Firewalls {
				got = append(got, k)
			}
			if len(got) != len(tc.isolated) {
				t.Errorf("isolated: %v, want %v", got, tc.isolated)
			}
			for _, k := range tc.isolated {
				if _, ok := ps.Firewalls[k]; !ok {
					t.Errorf("%s has no firewall (isolated: %v)", k, got)
				}
			}
			if _, ok := ps.Firewalls["default/starting"]; ok {
				t.Errorf("a pod without an address has a firewall")
			}
			for _, c := range tc.conns {
				if ok := ps.Allows(netip.MustParseAddr(c.src), netip.MustParseAddr(c.dst), c.proto, c.port); ok != c.want {
					t.Errorf("%s -> %s %s/%d: allowed %v, want %v", c.src, c.dst, c.proto, c.port, ok, c.want)
				}
			}
		})
	}
}

// The firewall's Allows match as Allows says: a pod isolated for ingress
// admits a peer only on the rule's ports.
func TestAllowMatches(t *testing.T) {
	a := Allow{Net: netip.MustParsePrefix("10.0.0.0/8"), Except: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}, Protocol: corev1.ProtocolTCP, From: 80, To: 90}
	for _, tc := range []struct {
		addr  string
		proto corev1.Protocol
		port  uint16
		want  bool
	}{
		{"10.2.3.4", corev1.ProtocolTCP, 80, true},
		{"10.2.3.4", corev1.ProtocolTCP, 90, true},
		{"10.2.3.4", corev1.ProtocolTCP, 91, false},
		{"10.2.3.4", corev1.ProtocolUDP, 80, false},
		{"10.1.3.4", corev1.ProtocolTCP, 80, false},
		{"11.2.3.4", corev1.ProtocolTCP, 80, false},
	} {
		if got := a.Matches(netip.MustParseAddr(tc.addr), tc.proto, tc.port); got != tc.want {
			t.Errorf("%s %s/%d: %v, want %v", tc.addr, tc.proto, tc.port, got, tc.want)
		}
	}
	if !(Allow{}).Matches(netip.MustParseAddr("192.0.2.1"), corev1.ProtocolSCTP, 9) {
		t.Error("an empty Allow (any peer, any port) does not match")
	}
}
