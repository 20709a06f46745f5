package pod

import (
	"strings"
	"testing"
)

func svcDoc(spec string) []byte {
	return []byte("apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: " + spec + "\n")
}

// Services are checked as the API server checks them; what podunit cannot
// honour is refused by name, LoadBalancer is published like NodePort with a
// warning that says so.
func TestServiceValidation(t *testing.T) {
	for _, c := range []struct {
		spec, want string
	}{
		{`{ports: [{port: 80}, {port: 81}]}`, "spec.ports[0].name: required"},
		{`{ports: [{name: a, port: 80}, {name: a, port: 81}]}`, "spec.ports[1].name: duplicate"},
		{`{ports: [{port: 70000}]}`, "spec.ports[0].port: invalid value 70000"},
		{`{ports: [{port: 80, protocol: SCTP}]}`, `spec.ports[0].protocol: unsupported value SCTP: supported values: "TCP", "UDP"`},
		{`{ports: [{port: 80, targetPort: "Bad_Name"}]}`, "spec.ports[0].targetPort: invalid value \"Bad_Name\""},
		{`{ports: [{port: 80, nodePort: 30080}]}`, "spec.ports[0].nodePort: only a NodePort or LoadBalancer"},
		{`{type: NodePort, ports: [{port: 80, nodePort: 80}]}`, "spec.ports[0].nodePort: invalid value 80: provided port is not in the valid range"},
		{`{type: ExternalName}`, "spec.externalName: required"},
		{`{type: ExternalName, externalName: x.example, selector: {a: b}}`, "spec.selector: an ExternalName Service selects no pods"},
		{`{clusterIP: "10.96.0.300", ports: [{port: 80}]}`, "spec.clusterIP: invalid value \"10.96.0.300\""},
		{`{ipFamilies: [IPv6], ports: [{port: 80}]}`, "spec.ipFamilies[0]: unsupported value IPv6"},
		{`{externalIPs: [1.2.3.4], ports: [{port: 80}]}`, "spec.externalIPs: not supported by podunit"},
		{`{type: NodePort, clusterIP: None, ports: [{port: 80}]}`, "spec.clusterIP: invalid value \"None\": a headless Service cannot be of type NodePort"},
		{`{}`, "spec.ports: required"},
		{`{type: NodePort, externalTrafficPolicy: Nearest, ports: [{port: 80}]}`, `spec.externalTrafficPolicy: unsupported value "Nearest"`},
		{`{externalTrafficPolicy: Local, ports: [{port: 80}]}`, "spec.externalTrafficPolicy: invalid value \"Local\": may only be set when type is NodePort or LoadBalancer"},
		{`{internalTrafficPolicy: Node, ports: [{port: 80}]}`, `spec.internalTrafficPolicy: unsupported value "Node"`},
	} {
		_, err := Load(svcDoc(c.spec))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.spec, err, c.want)
		}
	}
	m, err := Load(svcDoc(`{type: LoadBalancer, selector: {app: web}, ports: [{port: 80, targetPort: http}]}`))
	if err != nil {
		t.Fatal(err)
	}
	// this host is its load balancer (cluster.LoadBalancers): no warning
	if len(m.Warnings) != 0 {
		t.Errorf("warnings: %v", m.Warnings)
	}
	s := m.Objects.Services[0]
	if s.Spec.Ports[0].Protocol != "TCP" || s.Spec.SessionAffinity != "None" || s.Namespace != "default" {
		t.Errorf("defaults: %+v", s.Spec)
	}
	// The traffic policies route alike on one node: kubectl's own output
	// (Cluster) passes without a word, an external Local warns that the
	// client's address is not kept.
	m, err = Load(svcDoc(`{type: NodePort, externalTrafficPolicy: Cluster, internalTrafficPolicy: Cluster, ports: [{port: 80}]}`))
	if err != nil || len(m.Warnings) != 0 {
		t.Errorf("Cluster policies: %v, warnings %q", err, m.Warnings)
	}
	m, err = Load(svcDoc(`{type: NodePort, externalTrafficPolicy: Local, internalTrafficPolicy: Local, ports: [{port: 80}]}`))
	if err != nil || len(m.Warnings) != 1 || !strings.Contains(m.Warnings[0], "spec.externalTrafficPolicy: Local: clients reach the pods from the service proxy's address") {
		t.Errorf("Local policies: %v, warnings %q", err, m.Warnings)
	}
	// A headless Service needs no port; targetPort defaults to port.
	m, err = Load(svcDoc(`{clusterIP: None, selector: {app: web}}`))
	if err != nil || !Headless(m.Objects.Services[0]) {
		t.Errorf("headless: %v", err)
	}
	m, _ = Load(svcDoc(`{ports: [{port: 8080}]}`))
	if tp := m.Objects.Services[0].Spec.Ports[0].TargetPort; tp.IntVal != 8080 {
		t.Errorf("targetPort defaults to %v", tp)
	}
}
