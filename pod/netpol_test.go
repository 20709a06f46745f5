package pod

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

func TestLoadNetworkPolicy(t *testing.T) {
	m, err := Load([]byte(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from:
    - podSelector: {matchExpressions: [{key: role, operator: In, values: [web, api]}]}
    - namespaceSelector: {matchLabels: {team: ops}}
    - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}
    ports: [{port: http}, {port: 9000, endPort: 9010, protocol: UDP}]
  egress:
  - to: [{ipBlock: {cidr: "2001:db8::/32"}}]
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Objects.NetworkPolicies) != 1 {
		t.Fatalf("policies: %d", len(m.Objects.NetworkPolicies))
	}
	np := m.Objects.NetworkPolicies[0]
	// defaulted as the API server does: Egress, as there are egress rules;
	// a port's protocol TCP
	if got := np.Spec.PolicyTypes; len(got) != 2 || got[0] != networkingv1.PolicyTypeIngress || got[1] != networkingv1.PolicyTypeEgress {
		t.Errorf("policyTypes: %v", got)
	}
	if p := np.Spec.Ingress[0].Ports[0].Protocol; p == nil || *p != corev1.ProtocolTCP {
		t.Errorf("ports[0].protocol: %v", p)
	}
	if p := np.Spec.Ingress[0].Ports[1].Protocol; p == nil || *p != corev1.ProtocolUDP {
		t.Errorf("ports[1].protocol: %v", p)
	}
	ingressOnly, err := Load([]byte("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny}\nspec: {podSelector: {}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := ingressOnly.Objects.NetworkPolicies[0].Spec.PolicyTypes; len(got) != 1 || got[0] != networkingv1.PolicyTypeIngress {
		t.Errorf("policyTypes of a policy without egress rules: %v", got)
	}
}

func TestLoadNetworkPolicyErrors(t *testing.T) {
	_, err := Load([]byte(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad}
spec:
  podSelector: {matchExpressions: [{key: app, operator: Near}]}
  policyTypes: [Ingress, Sideways, Ingress]
  ingress:
  - from:
    - {}
    - ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/16, 10.0.0.0/8]}
      podSelector: {}
    - ipBlock: {cidr: 10.0.0.300/8}
    ports:
    - {port: 0}
    - {port: web_port}
    - {port: 90, endPort: 80}
    - {port: http, endPort: 90}
    - {endPort: 90, protocol: ICMP}
  egress:
  - to: [{podSelector: {matchLabels: {"bad key!": x}}}]
    ports: [{port: 80, endPort: 70000}]
  - priority: 1
`))
	if err == nil {
		t.Fatal("a bad NetworkPolicy loaded")
	}
	for _, want := range []string{
		`spec.podSelector: "Near" is not a valid label selector operator`,
		`spec.policyTypes: must have at most 2 items`,
		`spec.policyTypes[1]: unsupported value "Sideways"`,
		`spec.policyTypes[2]: duplicate value "Ingress"`,
		`spec.ingress[0].from[0]: required: must specify a peer`,
		`spec.ingress[0].from[1]: may not specify both ipBlock and another peer`,
		`spec.ingress[0].from[1].ipBlock.except[0]: invalid value "11.0.0.0/16": must be a strict subset of`,
		`spec.ingress[0].from[1].ipBlock.except[1]: invalid value "10.0.0.0/8": must be a strict subset of`,
		`spec.ingress[0].from[2].ipBlock.cidr: invalid value "10.0.0.300/8"`,
		`spec.ingress[0].ports[0].port: invalid value 0`,
		`spec.ingress[0].ports[1].port: invalid value "web_port"`,
		`spec.ingress[0].ports[2].endPort: invalid value 80: must be greater than or equal to`,
		`spec.ingress[0].ports[3].endPort: may not be specified when ` + "`port`" + ` is non-numeric`,
		`spec.ingress[0].ports[4].protocol: unsupported value "ICMP"`,
		`spec.ingress[0].ports[4].endPort: may not be specified when ` + "`port`" + ` is not specified`,
		`spec.egress[0].to[0].podSelector: key: Invalid value: "bad key!"`,
		`spec.egress[0].ports[0].endPort: invalid value 70000`,
		`spec.egress[1].priority`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// A pod that its annotation puts on slirp4netns is warned of when a policy
// selects it; one on the pod network is not.
func TestNetworkPolicyWarnings(t *testing.T) {
	m, err := Load([]byte(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny}
spec: {podSelector: {matchLabels: {app: a}}}
---
apiVersion: v1
kind: Pod
metadata: {name: slirp, labels: {app: a}, annotations: {podunit.io/network: slirp4netns}}
spec: {containers: [{name: c, image: x:1}]}
---
apiVersion: v1
kind: Pod
metadata: {name: onnet, labels: {app: a}}
spec: {containers: [{name: c, image: x:1}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	w := NetworkPolicyWarnings(m.Pods, &m.Objects)
	if len(w) != 1 || !strings.Contains(w[0], `pod "slirp": networkpolicy "deny" selects it, but it runs on slirp4netns`) {
		t.Errorf("warnings: %q", w)
	}
}
