package cluster

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func ingress(name string, age int, rules ...networkingv1.IngressRule) *networkingv1.Ingress {
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", CreationTimestamp: metav1.NewTime(time.Unix(int64(1000-age), 0))},
		Spec:       networkingv1.IngressSpec{Rules: rules},
	}
}

func backend(svc string, port int32) networkingv1.IngressBackend {
	return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Number: port}}}
}

func rule(host string, paths ...networkingv1.HTTPIngressPath) networkingv1.IngressRule {
	return networkingv1.IngressRule{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths}}}
}

func path(p string, t networkingv1.PathType, svc string) networkingv1.HTTPIngressPath {
	return networkingv1.HTTPIngressPath{Path: p, PathType: &t, Backend: backend(svc, 80)}
}

const (
	exact  = networkingv1.PathTypeExact
	prefix = networkingv1.PathTypePrefix
	impl   = networkingv1.PathTypeImplementationSpecific
)

func TestRouteHTTP(t *testing.T) {
	site := ingress("site", 2,
		rule("app.example.com",
			path("/", prefix, "web"),
			path("/api", prefix, "api"),
			path("/api/v2/", prefix, "api2"),
			path("/login", exact, "login"),
			path("/login", prefix, "loginprefix"),
		),
		rule("*.example.com", path("/", prefix, "wild")),
		rule("", path("/any", impl, "any")),
		rule("only.example.com", path("/x", exact, "onlyx")),
	)
	fallback := ingress("fallback", 1)
	db := backend("default", 8080)
	fallback.Spec.DefaultBackend = &db
	ings := []*networkingv1.Ingress{fallback, site}
	for _, tc := range []struct {
		host, path, want string
	}{
		{"app.example.com", "/", "web"},
		{"App.Example.com:8080", "/index.html", "web"},
		{"app.example.com.", "/api", "api"},
		{"app.example.com", "/api/users", "api"},
		{"app.example.com", "/apix", "web"}, // not a whole element
		{"app.example.com", "/api/v2", "api2"},
		{"app.example.com", "/api/v2/x", "api2"},
		{"app.example.com", "/login", "login"},
		{"app.example.com", "/login/", "loginprefix"},
		{"b.example.com", "/whatever", "wild"},
		{"a.b.example.com", "/any/thing", "any"}, // * is one label
		{"example.com", "/any", "any"},
		{"other.org", "/nothing", "default"},
		{"only.example.com", "/x", "onlyx"},
		{"only.example.com", "/y", "default"}, // its host has rules: no fall-through to others
	} {
		r, ok := RouteHTTP(ings, tc.host, tc.path)
		if !ok {
			t.Errorf("%s%s: no route, want %s", tc.host, tc.path, tc.want)
			continue
		}
		if got := r.Backend.Service.Name; got != tc.want {
			t.Errorf("%s%s: to %s, want %s", tc.host, tc.path, got, tc.want)
		}
	}
	if r, ok := RouteHTTP([]*networkingv1.Ingress{site}, "other.org", "/x"); ok {
		t.Errorf("other.org/x without a default backend: routed to %s, want none (404)", r.Backend.Service.Name)
	}
	// where two Ingresses say the same, the older one wins
	older := ingress("older", 5, rule("dup.example.com", path("/", prefix, "old")))
	newer := ingress("newer", 0, rule("dup.example.com", path("/", prefix, "new")))
	if r, _ := RouteHTTP([]*networkingv1.Ingress{newer, older}, "dup.example.com", "/"); r.Backend.Service.Name != "old" {
		t.Errorf("two Ingresses for one path: routed to %s, want the older one's", r.Backend.Service.Name)
	}
}

func TestTLSSecret(t *testing.T) {
	a := ingress("a", 2)
	a.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"*.example.com"}, SecretName: "wild"}, {Hosts: []string{"app.example.com"}, SecretName: "app"}}
	b := ingress("b", 1)
	b.Namespace = "other"
	b.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"b.example.com"}, SecretName: "bee"}}
	for _, tc := range []struct{ name, ns, secret string }{
		{"app.example.com", "default", "app"},
		{"b.example.com", "other", "bee"}, // exact before wildcard
		{"c.example.com", "default", "wild"},
		{"example.org", "", ""},
	} {
		ns, name, ok := TLSSecret([]*networkingv1.Ingress{a, b}, tc.name)
		if ns != tc.ns || name != tc.secret || ok != (tc.secret != "") {
			t.Errorf("%s: %s/%s %v, want %s/%s", tc.name, ns, name, ok, tc.ns, tc.secret)
		}
	}
}

func TestBackendEndpoints(t *testing.T) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}, Spec: corev1.ServiceSpec{
		Selector: map[string]string{"app": "web"},
		Ports: []corev1.ServicePort{
			{Name: "dns", Port: 80, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt32(53)},
			{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(8080)},
		},
	}}
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "default", Labels: map[string]string{"app": "web"}}}
	st := &State{Services: []*corev1.Service{svc}, Pods: []Pod{{Spec: p, IP: netip.MustParseAddr("10.96.128.5"), Ready: true}}}
	byNumber := backend("web", 80)
	byName := networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Name: "http"}}}
	for _, b := range []*networkingv1.IngressBackend{&byNumber, &byName} {
		got, port, eps := st.BackendEndpoints("default", b)
		if got != svc || port != 1 || len(eps) != 1 || eps[0].Addr.String() != "10.96.128.5:8080" {
			t.Errorf("backend %+v: %v port %d %v, want port 1, the TCP port, and its endpoint 10.96.128.5:8080", b.Service.Port, got, port, eps)
		}
	}
	missing := backend("nope", 80)
	if got, port, eps := st.BackendEndpoints("default", &missing); got != nil || port != -1 || eps != nil {
		t.Errorf("a missing Service: %v %d %v", got, port, eps)
	}
	noPort := backend("web", 81)
	if got, port, eps := st.BackendEndpoints("default", &noPort); got != svc || port != -1 || eps != nil {
		t.Errorf("a port the Service lacks: %v %d %v", got, port, eps)
	}
	if got, _, _ := st.BackendEndpoints("other", &byNumber); got != nil {
		t.Error("a Service of another namespace was found")
	}
	st.Pods[0].Ready = false
	if _, _, eps := st.BackendEndpoints("default", &byNumber); len(eps) != 0 {
		t.Errorf("a pod not ready is an endpoint: %v", eps)
	}
}

func TestIngressPublished(t *testing.T) {
	if got := IngressPublished(0, DefaultIngressPorts(1024)); got != nil {
		t.Errorf("no Ingress: %v", got)
	}
	if got := IngressPublished(1, DefaultIngressPorts(1024)); len(got) != 2 || got[0] != "8080:80/tcp" || got[1] != "8443:443/tcp" {
		t.Errorf("unprivileged: %v", got)
	}
	if got := IngressPublished(2, DefaultIngressPorts(0)); got[0] != "80:80/tcp" || got[1] != "443:443/tcp" {
		t.Errorf("privileged ports allowed: %v", got)
	}
}

func TestFitIngressPorts(t *testing.T) {
	hp := func(name string, port int32) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "c", Ports: []corev1.ContainerPort{{ContainerPort: 80, HostPort: port, Protocol: corev1.ProtocolTCP}}}}}}
	}
	lb := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "lb", Namespace: "default"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer,
		Ports: []corev1.ServicePort{{Port: 8443, NodePort: 30001, Protocol: corev1.ProtocolTCP}}},
		Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "192.0.2.2"}}}}}
	running := []*corev1.Pod{hp("old", 8080)}
	if err := FitIngressPorts(running, []*corev1.Pod{hp("ok", 9090)}, nil, nil, false, DefaultIngressPorts(1024)); err != nil {
		t.Errorf("no clash: %v", err)
	}
	err := FitIngressPorts(running, []*corev1.Pod{hp("new", 8080)}, nil, nil, false, DefaultIngressPorts(1024))
	if err == nil || !strings.Contains(err.Error(), `pod "new": spec.containers[0].ports[0].hostPort: 8080/TCP is this host's ingress port`) || strings.Contains(err.Error(), `"old"`) {
		t.Errorf("a new pod on the ingress port: %v", err)
	}
	// the first Ingress: what runs counts too
	if err := FitIngressPorts(running, nil, []*corev1.Service{lb}, nil, true, DefaultIngressPorts(1024)); err == nil ||
		!strings.Contains(err.Error(), `pod "old"`) || !strings.Contains(err.Error(), `service "lb": 8443/TCP is this host's port of the load balancer`) {
		t.Errorf("the first Ingress beside a pod and a Service on its ports: %v", err)
	}
	// ports 80 and 443 where they may be had
	if err := FitIngressPorts(nil, []*corev1.Pod{hp("new", 8080)}, nil, nil, true, DefaultIngressPorts(0)); err != nil {
		t.Errorf("8080 when the Ingresses are on 80: %v", err)
	}
}

func TestParseIngressPorts(t *testing.T) {
	def := DefaultIngressPorts(1024)
	for _, tc := range []struct {
		text string
		want IngressPorts
		err  string
	}{
		{"", def, ""},
		{"# mine\nhttp: 9080\n\nHTTPS : 9443\n", IngressPorts{9080, 9443}, ""},
		{"https: 9443", IngressPorts{8080, 9443}, ""},
		{"http: 8443", def, "http and https are both 8443"},
		{"http: 70000", def, `line 1: "http: 70000"`},
		{"http 9080", def, `line 1: "http 9080"`},
		{"ftp: 21", def, `line 1: "ftp: 21"`},
	} {
		got, err := ParseIngressPorts(tc.text, def)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %v, want an error with %q", tc.text, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %v %v, want %v", tc.text, got, err, tc.want)
		}
	}
}
