package pod

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestLoadEndpoints(t *testing.T) {
	m, err := Load([]byte(`
apiVersion: v1
kind: Service
metadata: {name: db}
spec: {ports: [{name: pg, port: 5432}, {name: metrics, port: 9187}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: db}
subsets:
- addresses: [{ip: 192.168.1.50, hostname: primary}]
  notReadyAddresses: [{ip: 192.168.1.51}]
  ports: [{name: pg, port: 5432}, {name: metrics, port: 9187, appProtocol: http}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: db-1, labels: {kubernetes.io/service-name: db}}
addressType: IPv4
ports: [{name: pg, port: 5433}, {name: metrics, port: 9188}]
endpoints:
- addresses: [10.0.0.7]
  conditions: {ready: false}
- addresses: [10.0.0.8]
  hostname: replica
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Objects.Endpoints) != 1 || len(m.Objects.EndpointSlices) != 1 {
		t.Fatalf("endpoints %d, slices %d", len(m.Objects.Endpoints), len(m.Objects.EndpointSlices))
	}
	// defaulted: the protocols TCP, the namespace default
	if p := m.Objects.Endpoints[0].Subsets[0].Ports[0].Protocol; p != corev1.ProtocolTCP {
		t.Errorf("endpoints port protocol: %q", p)
	}
	es := m.Objects.EndpointSlices[0]
	if es.Namespace != "default" || es.Ports[0].Protocol == nil || *es.Ports[0].Protocol != corev1.ProtocolTCP {
		t.Errorf("slice: namespace %q, port %+v", es.Namespace, es.Ports[0])
	}
	if got := m.Warnings; !strings.Contains(strings.Join(got, "\n"), "subsets[0].ports[1].appProtocol: ignored") {
		t.Errorf("warnings: %q", got)
	}
	if w := EndpointsWarnings(&m.Objects, &m.Objects); len(w) != 0 {
		t.Errorf("endpoints for a Service without a selector, every port named: %q", w)
	}
}

func TestLoadEndpointsErrors(t *testing.T) {
	_, err := Load([]byte(`
apiVersion: v1
kind: Endpoints
metadata: {name: Bad_Name}
subsets:
- addresses: [{ip: 127.0.0.1}, {ip: "fd00::1"}, {ip: 10.96.0.20}, {ip: 169.254.1.1, hostname: "x_y"}, {ip: nope}]
  notReadyAddresses: [{ip: 0.0.0.0}, {ip: 224.0.0.5}]
  ports: [{port: 80}, {port: 0, protocol: SCTP}]
- ports: [{name: a, port: 1}, {name: a, port: 2}]
- addresses: [{ip: 192.0.2.9}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: s}
addressType: FQDN
endpoints:
- addresses: []
- addresses: [192.0.2.300]
  hostname: ""
ports: [{name: x}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: t, labels: {kubernetes.io/service-name: web}}
endpoints: [{addresses: [192.0.2.1], zone: a, weight: 3}]
ports: [{port: 80}]
`))
	if err == nil {
		t.Fatal("bad endpoints loaded")
	}
	for _, want := range []string{
		`metadata.name: invalid value "Bad_Name"`,
		`subsets[0].addresses[0].ip: invalid value "127.0.0.1": may not be in the loopback range`,
		`subsets[0].addresses[1].ip: invalid value "fd00::1": must be an IPv4 address`,
		`subsets[0].addresses[2].ip: invalid value "10.96.0.20": may not be in the Services' range (10.96.0.0/17)`,
		`subsets[0].addresses[3].ip: invalid value "169.254.1.1": may not be in the link-local range`,
		`subsets[0].addresses[3].hostname: invalid value "x_y"`,
		`subsets[0].addresses[4].ip: invalid value "nope"`,
		`subsets[0].notReadyAddresses[0].ip: invalid value "0.0.0.0": may not be unspecified`,
		`subsets[0].notReadyAddresses[1].ip: invalid value "224.0.0.5": may not be a multicast address`,
		`subsets[0].ports[0].name: required: each of several ports needs a name`,
		`subsets[0].ports[1].port: invalid value 0`,
		`subsets[0].ports[1].protocol: unsupported value "SCTP"`,
		`subsets[1].addresses: required: a subset needs an address`,
		`subsets[1].ports[1].name: duplicate value "a (also subsets[1].ports[0])"`,
		`subsets[2].ports: required: a subset needs a port`,
		`metadata.labels[kubernetes.io/service-name]: required`,
		`addressType: unsupported value "FQDN"`,
		`endpoints[0].addresses: required`,
		`endpoints[1].addresses[0]: invalid value "192.0.2.300"`,
		`endpoints[1].hostname: must not be empty when set`,
		`ports[0].port: required`,
		`addressType: required`,
		`endpoints[0].weight: unknown field`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// Endpoints that nothing routes to are warned of: no Service of their
// name, one with a selector or an ExternalName, a port of the Service that
// none of theirs is named for.
func TestEndpointsWarnings(t *testing.T) {
	m, err := Load([]byte(`
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: ext}
spec: {type: ExternalName, externalName: db.example.com}
---
apiVersion: v1
kind: Service
metadata: {name: db}
spec: {ports: [{name: pg, port: 5432}, {name: dns, port: 53, protocol: UDP}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: web}
subsets: [{addresses: [{ip: 192.0.2.1}], ports: [{port: 80}]}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: ext}
subsets: [{addresses: [{ip: 192.0.2.1}], ports: [{port: 80}]}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: gone}
subsets: [{addresses: [{ip: 192.0.2.1}], ports: [{port: 80}]}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: db-a, labels: {kubernetes.io/service-name: db}}
addressType: IPv4
endpoints: [{addresses: [192.0.2.2]}]
ports: [{name: pg, port: 5432}, {name: dns, port: 53}]
`))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(EndpointsWarnings(&m.Objects, &m.Objects), "\n")
	for _, want := range []string{
		`endpoints "web": service "web" has a selector: its endpoints are the pods it selects, and these addresses are not used`,
		`endpoints "ext": service "ext" is an ExternalName Service: its name leads to db.example.com`,
		`endpoints "gone": service "gone" not found`,
		`endpointslice "db-a": no UDP port named "dns", as service "db"'s port 53 has`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("warnings lack %q:\n%s", want, got)
		}
	}
	if strings.Count(got, "\n") != 3 {
		t.Errorf("want 4 warnings:\n%s", got)
	}
}
