package cluster

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/podunit/podunit/pod"
)

func svc(name string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Selector: map[string]string{"app": name}, Ports: ports}}
}

func TestEnvVarsKubeletFormat(t *testing.T) {
	s := svc("redis-master",
		corev1.ServicePort{Name: "redis", Port: 6379, Protocol: corev1.ProtocolTCP},
		corev1.ServicePort{Name: "metrics-udp", Port: 9121, Protocol: corev1.ProtocolUDP})
	s.Spec.ClusterIP = "10.96.0.11"
	headless := svc("h", corev1.ServicePort{Port: 80})
	headless.Spec.ClusterIP = corev1.ClusterIPNone
	var got []string
	for _, e := range EnvVars([]*corev1.Service{s, headless}) {
		got = append(got, e.Name+"="+e.Value)
	}
	want := []string{
		"REDIS_MASTER_SERVICE_HOST=10.96.0.11",
		"REDIS_MASTER_SERVICE_PORT=6379",
		"REDIS_MASTER_SERVICE_PORT_REDIS=6379",
		"REDIS_MASTER_SERVICE_PORT_METRICS_UDP=9121",
		"REDIS_MASTER_PORT=tcp://10.96.0.11:6379",
		"REDIS_MASTER_PORT_6379_TCP=tcp://10.96.0.11:6379",
		"REDIS_MASTER_PORT_6379_TCP_PROTO=tcp",
		"REDIS_MASTER_PORT_6379_TCP_PORT=6379",
		"REDIS_MASTER_PORT_6379_TCP_ADDR=10.96.0.11",
		"REDIS_MASTER_PORT_9121_UDP=udp://10.96.0.11:9121",
		"REDIS_MASTER_PORT_9121_UDP_PROTO=udp",
		"REDIS_MASTER_PORT_9121_UDP_PORT=9121",
		"REDIS_MASTER_PORT_9121_UDP_ADDR=10.96.0.11",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestAssignKeepsAndConflicts(t *testing.T) {
	a := svc("a", corev1.ServicePort{Port: 80, Protocol: corev1.ProtocolTCP})
	b := svc("b", corev1.ServicePort{Port: 80, Protocol: corev1.ProtocolTCP})
	if c := Assign([]*corev1.Service{a, b}, nil); c != nil {
		t.Fatal(c[0])
	}
	if a.Spec.ClusterIP != "10.96.0.11" || b.Spec.ClusterIP != "10.96.0.12" {
		t.Fatalf("addresses %s %s", a.Spec.ClusterIP, b.Spec.ClusterIP)
	}
	// Applied again, b keeps its address; a new one gets the next free.
	b2 := svc("b", corev1.ServicePort{Port: 81, Protocol: corev1.ProtocolTCP})
	c := svc("c", corev1.ServicePort{Port: 80, Protocol: corev1.ProtocolTCP})
	if cs := Assign([]*corev1.Service{c, b2}, []*corev1.Service{a, b}); cs != nil {
		t.Fatal(cs[0])
	}
	if b2.Spec.ClusterIP != "10.96.0.12" || c.Spec.ClusterIP != "10.96.0.13" {
		t.Fatalf("b2 %s c %s", b2.Spec.ClusterIP, c.Spec.ClusterIP)
	}
	// An address another Service holds, a node port another holds.
	d := svc("d", corev1.ServicePort{Port: 80, Protocol: corev1.ProtocolTCP})
	d.Spec.ClusterIP = "10.96.0.11"
	n1 := svc("n1", corev1.ServicePort{Port: 80, NodePort: 30080, Protocol: corev1.ProtocolTCP})
	n1.Spec.Type = corev1.ServiceTypeNodePort
	n2 := svc("n2", corev1.ServicePort{Port: 80, NodePort: 30080, Protocol: corev1.ProtocolTCP})
	n2.Spec.Type = corev1.ServiceTypeNodePort
	cs := Assign([]*corev1.Service{d, n1, n2}, []*corev1.Service{a})
	if len(cs) != 2 || cs[0].Service != d || !strings.Contains(cs[0].Error(), "spec.clusterIP") ||
		cs[1].Service != n2 || !strings.Contains(cs[1].Error(), "spec.ports[0].nodePort") {
		t.Fatalf("conflicts: %v", cs)
	}
	if n1.Spec.ClusterIP != "" {
		t.Error("a conflict changed a Service")
	}
	// Node ports: the lowest free.
	n3 := svc("n3", corev1.ServicePort{Port: 80, Protocol: corev1.ProtocolTCP})
	n3.Spec.Type = corev1.ServiceTypeNodePort
	n1.Spec.ClusterIP = "10.96.0.20"
	if cs := Assign([]*corev1.Service{n3}, []*corev1.Service{n1}); cs != nil || n3.Spec.Ports[0].NodePort != 30000 {
		t.Fatalf("node port %d, %v", n3.Spec.Ports[0].NodePort, cs)
	}
	// Outside the range.
	e := svc("e", corev1.ServicePort{Port: 80})
	e.Spec.ClusterIP = "10.96.200.1"
	if cs := Assign([]*corev1.Service{e}, nil); len(cs) != 1 {
		t.Fatal("an address in the pods' range was accepted")
	}
}

// This host is the load balancer of LoadBalancer Services: each is
// published on this host's ports of its port numbers, led to its node
// ports, with the host as its ingress; one whose port a rootless user
// cannot publish stays pending, with a warning; a host port that another
// Service is published on is a conflict, and changes nothing. Applied
// again, a Service keeps its ports.
func TestLoadBalancers(t *testing.T) {
	lb := func(name string, ports ...corev1.ServicePort) *corev1.Service {
		s := svc(name, ports...)
		s.Spec.Type = corev1.ServiceTypeLoadBalancer
		return s
	}
	tcp := func(port, nodePort int32) corev1.ServicePort {
		return corev1.ServicePort{Port: port, NodePort: nodePort, Protocol: corev1.ProtocolTCP}
	}
	web := lb("web", tcp(18081, 30000), corev1.ServicePort{Port: 18081, NodePort: 30001, Protocol: corev1.ProtocolUDP})
	low := lb("low", tcp(80, 30002))
	np := svc("np", tcp(80, 30003))
	np.Spec.Type = corev1.ServiceTypeNodePort
	warns, cs := LoadBalancers([]*corev1.Service{web, low, np}, nil, 1024, "192.0.2.2")
	if cs != nil {
		t.Fatal(cs[0])
	}
	if len(warns) != 1 || !strings.Contains(warns[0], `service "low": spec.ports[0].port: 80 is below this host's net.ipv4.ip_unprivileged_port_start (1024)`) {
		t.Errorf("warnings: %q", warns)
	}
	if !Balanced(web) || web.Status.LoadBalancer.Ingress[0].IP != "192.0.2.2" || Balanced(low) || Balanced(np) {
		t.Errorf("balanced: web %v low %v np %v", web.Status, low.Status, np.Status)
	}
	got := strings.Join(NodePorts([]*corev1.Service{web, low, np}), " ")
	if want := "18081:30000/tcp 18081:30001/udp 30000/tcp 30001/udp 30002/tcp 30003/tcp"; got != want {
		t.Errorf("published %q, want %q", got, want)
	}
	// a port that is its own node port is published once
	same := lb("same", tcp(30100, 30100))
	if _, cs := LoadBalancers([]*corev1.Service{same}, nil, 1024, "192.0.2.2"); cs != nil || !Balanced(same) || strings.Join(NodePorts([]*corev1.Service{same}), " ") != "30100/tcp" {
		t.Errorf("port = node port: %v %v %v", cs, same.Status, NodePorts([]*corev1.Service{same}))
	}
	// as root, port 80 is published
	if _, cs := LoadBalancers([]*corev1.Service{low}, nil, 0, "192.0.2.2"); cs != nil || !Balanced(low) {
		t.Errorf("as root: %v %v", cs, low.Status)
	}
	// Another Service on 18081/TCP, and one on web's node port: conflicts,
	// and the third, which could be published, is not either.
	other := lb("other", tcp(18081, 30010))
	onNode := lb("onnode", tcp(30000, 30011))
	fine := lb("fine", tcp(18090, 30012))
	_, cs = LoadBalancers([]*corev1.Service{fine, other, onNode}, []*corev1.Service{web}, 1024, "192.0.2.2")
	if len(cs) != 2 || cs[0].Service != other || !strings.Contains(cs[0].Error(), "spec.ports[0].port: Invalid value: 18081: this host's port 18081/TCP is already the load balancer of service default/web") ||
		cs[1].Service != onNode || !strings.Contains(cs[1].Error(), "this host's port 30000/TCP is already the node port of service default/web") {
		t.Fatalf("conflicts: %v", cs)
	}
	if Balanced(fine) {
		t.Error("a conflict changed a Service")
	}
	// web applied again (stored as published): no conflict with itself
	again := lb("web", tcp(18081, 30000))
	if _, cs := LoadBalancers([]*corev1.Service{again}, []*corev1.Service{web}, 1024, "192.0.2.2"); cs != nil || !Balanced(again) {
		t.Errorf("applied again: %v %v", cs, again.Status)
	}
}

// A pod's hostPort on a port a Service is published on is refused, naming
// both, when either is new; what already runs is left as it is.
func TestFitServicePorts(t *testing.T) {
	web := svc("web", corev1.ServicePort{Port: 18081, NodePort: 30000, Protocol: corev1.ProtocolTCP})
	web.Spec.Type = corev1.ServiceTypeLoadBalancer
	web.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.2"}}
	hp := func(name string, port int32, proto corev1.Protocol) *corev1.Pod {
		return podOf(name, "default", nil, corev1.ContainerPort{ContainerPort: 80, HostPort: port, Protocol: proto})
	}
	all := []*corev1.Service{web}
	err := FitServicePorts(nil, []*corev1.Pod{hp("a", 18081, corev1.ProtocolTCP), hp("b", 30000, corev1.ProtocolTCP), hp("c", 18081, corev1.ProtocolUDP)}, all, nil)
	if err == nil || !errors.Is(err, pod.ErrInvalid) ||
		!strings.Contains(err.Error(), `pod "a": spec.containers[0].ports[0].hostPort: 18081/TCP is this host's port of the load balancer of service default/web`) ||
		!strings.Contains(err.Error(), `pod "b": spec.containers[0].ports[0].hostPort: 30000/TCP is this host's port of the node port of service default/web`) ||
		strings.Contains(err.Error(), `pod "c"`) {
		t.Errorf("new pods: %v", err)
	}
	// a running pod and a new Service
	if err := FitServicePorts([]*corev1.Pod{hp("run", 18081, corev1.ProtocolTCP)}, nil, all, all); err == nil || !strings.Contains(err.Error(), `pod "run"`) {
		t.Errorf("a new Service on a running pod's host port: %v", err)
	}
	// both running: not this up's to judge
	if err := FitServicePorts([]*corev1.Pod{hp("run", 18081, corev1.ProtocolTCP)}, nil, all, nil); err != nil {
		t.Errorf("what runs: %v", err)
	}
}

func podOf(name, ns string, labels map[string]string, ports ...corev1.ContainerPort) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Ports: ports}}}}
}

func TestEndpointsAndLookup(t *testing.T) {
	web := svc("web", corev1.ServicePort{Name: "http", Port: 80, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP})
	web.Spec.ClusterIP = "10.96.0.11"
	hl := svc("db", corev1.ServicePort{Port: 5432, TargetPort: intstr.FromInt32(5432), Protocol: corev1.ProtocolTCP})
	hl.Spec.ClusterIP = corev1.ClusterIPNone
	hl.Spec.Selector = map[string]string{"app": "db"}
	ext := svc("ext")
	ext.Spec.Type, ext.Spec.ExternalName, ext.Spec.Selector = corev1.ServiceTypeExternalName, "example.org", nil
	p1 := podOf("w1", "default", map[string]string{"app": "web"}, corev1.ContainerPort{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP})
	p2 := podOf("w2", "default", map[string]string{"app": "web"}, corev1.ContainerPort{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP})
	p3 := podOf("w3", "other", map[string]string{"app": "web"}, corev1.ContainerPort{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP})
	d1 := podOf("d1", "default", map[string]string{"app": "db"})
	d1.Spec.Hostname, d1.Spec.Subdomain = "primary", "db"
	st := &State{Services: []*corev1.Service{web, hl, ext}, Pods: []Pod{
		{Spec: p1, IP: netip.MustParseAddr("10.96.128.2"), Ready: true},
		{Spec: p2, IP: netip.MustParseAddr("10.96.128.3"), Ready: false},
		{Spec: p3, IP: netip.MustParseAddr("10.96.128.4"), Ready: true},
		{Spec: d1, IP: netip.MustParseAddr("10.96.128.5"), Ready: true},
	}}
	eps := st.Endpoints(web, 0)
	if len(eps) != 1 || eps[0].Addr.String() != "10.96.128.2:8080" {
		t.Errorf("endpoints: %v (only the ready pod of the namespace)", eps)
	}
	web.Spec.PublishNotReadyAddresses = true
	if eps := st.Endpoints(web, 0); len(eps) != 2 {
		t.Errorf("publishNotReadyAddresses: %v", eps)
	}
	for name, want := range map[string]string{
		"web.default.svc.cluster.local.":           "A 10.96.0.11",
		"WEB.default.svc.cluster.local":            "A 10.96.0.11",
		"db.default.svc.cluster.local":             "A 10.96.128.5",
		"primary.db.default.svc.cluster.local":     "A 10.96.128.5",
		"other.db.default.svc.cluster.local":       "NXDOMAIN",
		"ext.default.svc.cluster.local":            "CNAME example.org",
		"_http._tcp.web.default.svc.cluster.local": "SRV web.default.svc.cluster.local:80",
		"nope.default.svc.cluster.local":           "NXDOMAIN",
		"web.default.default.svc.cluster.local":    "NXDOMAIN",
		"10-96-128-2.default.pod.cluster.local":    "A 10.96.128.2",
		"default.svc.cluster.local":                "NODATA",
	} {
		a, ours := st.Lookup(name)
		got := "NODATA"
		switch {
		case !ours:
			got = "forward"
		case !a.Exists:
			got = "NXDOMAIN"
		case a.CNAME != "":
			got = "CNAME " + a.CNAME
		case len(a.SRV) > 0:
			got = "SRV " + a.SRV[0].Target + ":" + itoa(int(a.SRV[0].Port))
		case len(a.A) > 0:
			got = "A " + a.A[0].String()
		}
		if got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
	if _, ours := st.Lookup("example.com"); ours {
		t.Error("example.com is not the cluster's")
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// The Endpoints object of a Service: ready and not ready pods of its
// namespace in subsets by how their ports resolve (a named port a pod does
// not have is left out for it), hostname under a matching subdomain, none
// for a Service without a selector.
func TestEndpointsOf(t *testing.T) {
	web := svc("web", corev1.ServicePort{Name: "http", Port: 80, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP},
		corev1.ServicePort{Name: "m", Port: 81, TargetPort: intstr.FromInt32(9090), Protocol: corev1.ProtocolTCP})
	p1 := podOf("w1", "default", map[string]string{"app": "web"}, corev1.ContainerPort{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP})
	p2 := podOf("w2", "default", map[string]string{"app": "web"}) // no http port
	p3 := podOf("w3", "default", map[string]string{"app": "web"}, corev1.ContainerPort{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP})
	p3.Spec.Hostname, p3.Spec.Subdomain = "three", "web"
	p4 := podOf("w4", "other", map[string]string{"app": "web"}, corev1.ContainerPort{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP})
	st := &State{Pods: []Pod{
		{Spec: p3, IP: netip.MustParseAddr("10.96.128.4"), Ready: false},
		{Spec: p1, IP: netip.MustParseAddr("10.96.128.2"), Ready: true},
		{Spec: p2, IP: netip.MustParseAddr("10.96.128.3"), Ready: true},
		{Spec: p4, IP: netip.MustParseAddr("10.96.128.5"), Ready: true},
		{Spec: podOf("w5", "default", map[string]string{"app": "web"}), Ready: true}, // no address yet
	}}
	show := func(ep *corev1.Endpoints) string {
		var b strings.Builder
		for _, ss := range ep.Subsets {
			b.WriteString("[")
			for _, p := range ss.Ports {
				b.WriteString(p.Name + ":" + strconv.Itoa(int(p.Port)) + " ")
			}
			for _, a := range ss.Addresses {
				b.WriteString("ready " + a.IP + " " + a.TargetRef.Name + " " + a.Hostname + " " + *a.NodeName + ";")
			}
			for _, a := range ss.NotReadyAddresses {
				b.WriteString("notready " + a.IP + " " + a.TargetRef.Name + " " + a.Hostname + ";")
			}
			b.WriteString("]")
		}
		return b.String()
	}
	web.CreationTimestamp = metav1.NewTime(time.Unix(1700000000, 0))
	ep := st.EndpointsOf(web, "vm")
	if !ep.CreationTimestamp.Equal(&web.CreationTimestamp) {
		t.Errorf("the Endpoints' creationTimestamp %v, want its Service's", ep.CreationTimestamp)
	}
	want := "[http:8080 m:9090 ready 10.96.128.2 w1  vm;notready 10.96.128.4 w3 three;][m:9090 ready 10.96.128.3 w2  vm;]"
	if got := show(ep); got != want || ep.Name != "web" || ep.Namespace != "default" || ep.Kind != "Endpoints" {
		t.Errorf("endpoints:\n%s\nwant\n%s", got, want)
	}
	web.Spec.PublishNotReadyAddresses = true
	if got := show(st.EndpointsOf(web, "vm")); !strings.Contains(got, "ready 10.96.128.4 w3 three vm;") || strings.Contains(got, "notready") {
		t.Errorf("publishNotReadyAddresses: %s", got)
	}
	web.Spec.Selector = nil
	if ep := st.EndpointsOf(web, "vm"); ep != nil {
		t.Errorf("a Service without a selector: %+v", ep)
	}
}

// A node port chosen for a Service skips those another program holds on
// this host; one the manifest names is the manifest's.
func TestAssignAvoidsBusyHostPorts(t *testing.T) {
	busy := func(port int32, proto corev1.Protocol) bool { return port == 30000 && proto == corev1.ProtocolTCP }
	a := svc("a", corev1.ServicePort{Port: 80, Protocol: corev1.ProtocolTCP})
	a.Spec.Type = corev1.ServiceTypeNodePort
	u := svc("u", corev1.ServicePort{Port: 53, Protocol: corev1.ProtocolUDP})
	u.Spec.Type = corev1.ServiceTypeNodePort
	named := svc("named", corev1.ServicePort{Port: 80, NodePort: 30000, Protocol: corev1.ProtocolTCP})
	named.Spec.Type = corev1.ServiceTypeNodePort
	if cs := AssignAvoiding([]*corev1.Service{a, u}, nil, busy); cs != nil {
		t.Fatal(cs[0])
	}
	if a.Spec.Ports[0].NodePort != 30001 || u.Spec.Ports[0].NodePort != 30000 {
		t.Errorf("node ports a %d (30000/TCP is busy), u %d (30000/UDP is not)", a.Spec.Ports[0].NodePort, u.Spec.Ports[0].NodePort)
	}
	if cs := AssignAvoiding([]*corev1.Service{named}, nil, busy); cs != nil || named.Spec.Ports[0].NodePort != 30000 {
		t.Errorf("a named node port: %v %d", cs, named.Spec.Ports[0].NodePort)
	}
}

// The node ports a manifest publishes anew, and the load balancers' ports:
// those no stored Service has (up makes sure they are free before the proxy
// is restarted to publish them).
func TestNewPublishedPorts(t *testing.T) {
	tcp := func(port, nodePort int32) corev1.ServicePort {
		return corev1.ServicePort{Port: port, NodePort: nodePort, Protocol: corev1.ProtocolTCP}
	}
	old := svc("old", tcp(80, 30080))
	again := svc("again", tcp(80, 30080))                                                          // the stored node port, applied again
	udp := svc("udp", corev1.ServicePort{Port: 53, NodePort: 30080, Protocol: corev1.ProtocolUDP}) // same number, other protocol
	fresh := svc("fresh", tcp(80, 30081), tcp(81, 0))                                              // a ClusterIP port has none
	name := func(ps []PortOf) string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Service.Name+"["+strconv.Itoa(p.Index)+"]")
		}
		return strings.Join(out, " ")
	}
	if got := name(NewNodePorts([]*corev1.Service{again, udp, fresh}, []*corev1.Service{old})); got != "udp[0] fresh[0]" {
		t.Errorf("new node ports %q", got)
	}
	lb := svc("lb", tcp(18080, 30090), tcp(30091, 30091))
	lb.Spec.Type = corev1.ServiceTypeLoadBalancer
	lb.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.2"}}
	if got := name(NewlyBalanced([]*corev1.Service{lb}, nil)); got != "lb[0]" {
		t.Errorf("newly balanced %q (a port that is its own node port is one)", got)
	}
	if got := name(NewlyBalanced([]*corev1.Service{lb}, []*corev1.Service{lb})); got != "" {
		t.Errorf("newly balanced when stored: %q", got)
	}
}
