package cluster

import (
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/podunit/podunit/pod"
)

// TestWrittenEndpoints: a Service without a selector is served by the
// addresses written for it, by an Endpoints object and EndpointSlices, at
// their port of the Service port's name and protocol; not ready ones only
// when it publishes them; the same address in both once; its headless
// name and hostnames answer with them; a Service with a selector keeps its
// pods whatever is written under its name.
func TestWrittenEndpoints(t *testing.T) {
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	db := svc("db", corev1.ServicePort{Name: "pg", Port: 5432, Protocol: tcp}, corev1.ServicePort{Name: "dns", Port: 53, Protocol: udp})
	db.Spec.Selector, db.Spec.ClusterIP = nil, "10.96.0.40"
	headless := svc("dbh", corev1.ServicePort{Name: "pg", Port: 5432, Protocol: tcp})
	headless.Spec.Selector, headless.Spec.ClusterIP = nil, corev1.ClusterIPNone
	web := svc("web", corev1.ServicePort{Port: 80, Protocol: tcp, TargetPort: intstr.FromInt32(80)}) // with a selector
	meta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name, Namespace: "default"} }
	written := func(name string) *corev1.Endpoints {
		return &corev1.Endpoints{ObjectMeta: meta(name), Subsets: []corev1.EndpointSubset{{
			Addresses:         []corev1.EndpointAddress{{IP: "192.0.2.10", Hostname: "primary"}},
			NotReadyAddresses: []corev1.EndpointAddress{{IP: "192.0.2.11"}},
			Ports:             []corev1.EndpointPort{{Name: "pg", Port: 15432, Protocol: tcp}, {Name: "dns", Port: 5353, Protocol: udp}},
		}}}
	}
	str := func(s string) *string { return &s }
	i32 := func(i int32) *int32 { return &i }
	no := false
	slice := func(name, service string) *discoveryv1.EndpointSlice {
		m := meta(name)
		m.Labels = map[string]string{pod.LabelServiceName: service}
		return &discoveryv1.EndpointSlice{ObjectMeta: m, AddressType: discoveryv1.AddressTypeIPv4,
			Ports: []discoveryv1.EndpointPort{{Name: str("pg"), Port: i32(15432), Protocol: &tcp}, {Name: str("other"), Port: i32(1), Protocol: &tcp}},
			Endpoints: []discoveryv1.Endpoint{
				{Addresses: []string{"192.0.2.10"}, Hostname: str("primary")}, // the Endpoints' own, mirrored
				{Addresses: []string{"192.0.2.12", "192.0.2.99"}, Hostname: str("replica")},
				{Addresses: []string{"192.0.2.13"}, Conditions: discoveryv1.EndpointConditions{Ready: &no}},
			}}
	}
	webPod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "default", Labels: map[string]string{"app": "web"}}}
	st := &State{
		Services: []*corev1.Service{db, headless, web},
		Written:  []*corev1.Endpoints{written("db"), written("web")},
		Slices:   []*discoveryv1.EndpointSlice{slice("db-b", "db"), slice("dbh-a", "dbh"), slice("web-a", "web")},
		Pods:     []Pod{{Spec: webPod, IP: netip.MustParseAddr("10.96.128.5"), Ready: true}},
	}
	addrs := func(eps []Endpoint) (out []string) {
		for _, e := range eps {
			out = append(out, e.Addr.String())
		}
		return out
	}
	check := func(what string, got []string, want ...string) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: %v, want %v", what, got, want)
			return
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s: %v, want %v", what, got, want)
				return
			}
		}
	}
	check("db pg", addrs(st.Endpoints(db, 0)), "192.0.2.10:15432", "192.0.2.12:15432")
	check("db dns (UDP: the Endpoints object's only)", addrs(st.Endpoints(db, 1)), "192.0.2.10:5353")
	db.Spec.PublishNotReadyAddresses = true
	check("db pg, not ready published", addrs(st.Endpoints(db, 0)), "192.0.2.10:15432", "192.0.2.11:15432", "192.0.2.12:15432", "192.0.2.13:15432")
	db.Spec.PublishNotReadyAddresses = false
	check("web: its pod, not what is written", addrs(st.Endpoints(web, 0)), "10.96.128.5:80")

	a, ok := st.Lookup("dbh.default.svc.cluster.local")
	var got []string
	for _, ip := range a.A {
		got = append(got, ip.String())
	}
	check("headless A", got, "192.0.2.10", "192.0.2.12")
	if !ok || !a.Exists {
		t.Errorf("headless: %+v %v", a, ok)
	}
	if a, _ := st.Lookup("replica.dbh.default.svc.cluster.local"); len(a.A) != 1 || a.A[0].String() != "192.0.2.12" {
		t.Errorf("replica.dbh: %+v", a)
	}
	if a, _ := st.Lookup("nobody.dbh.default.svc.cluster.local"); len(a.A) != 0 {
		t.Errorf("nobody.dbh: %+v", a)
	}
	if a, _ := st.Lookup("db.default.svc.cluster.local"); len(a.A) != 1 || a.A[0].String() != "10.96.0.40" {
		t.Errorf("db (with an address): %+v", a)
	}

	if ep := st.EndpointsOf(db, "node"); ep == nil || ep.Kind != "Endpoints" || len(ep.Subsets) != 1 || ep.Subsets[0].Addresses[0].IP != "192.0.2.10" {
		t.Errorf("EndpointsOf db: the written one, typed: %+v", ep)
	}
	if ep := st.EndpointsOf(headless, "node"); ep != nil {
		t.Errorf("EndpointsOf dbh (slices only): %+v", ep)
	}
	if ep := st.EndpointsOf(web, "node"); ep == nil || ep.Subsets[0].Addresses[0].IP != "10.96.128.5" {
		t.Errorf("EndpointsOf web: its pods: %+v", ep)
	}
}
