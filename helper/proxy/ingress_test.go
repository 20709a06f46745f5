package proxy

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/podunit/podunit/cluster"
	"github.com/podunit/podunit/helper"
	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate/objstore"
)

// TestIngressRoutes: the ingress handler in front of a "pod" on loopback:
// a routed request reaches it with the client's Host and the forwarding
// headers; what no rule routes is 404, a missing Service or one without a
// ready endpoint 503, an endpoint that does not answer 502.
func TestIngressRoutes(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s host=%s proto=%s fwdhost=%s", r.Method, r.URL.Path, r.Host, r.Header.Get("X-Forwarded-Proto"), r.Header.Get("X-Forwarded-Host"))
	}))
	defer backend.Close()
	port := backend.Listener.Addr().(*net.TCPAddr).Port
	svc := func(name string, target int) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": name},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt(target)}},
		}}
	}
	podOf := func(app string, ready bool) cluster.Pod {
		return cluster.Pod{Spec: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: app + "-1", Namespace: "default", Labels: map[string]string{"app": app}}},
			IP: netip.MustParseAddr("127.0.0.1"), Ready: ready}
	}
	pt := networkingv1.PathTypePrefix
	path := func(p, service string) networkingv1.HTTPIngressPath {
		return networkingv1.HTTPIngressPath{Path: p, PathType: &pt, Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: service, Port: networkingv1.ServiceBackendPort{Name: "http"}}}}
	}
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "site", Namespace: "default"}, Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{
		Host: "app.example",
		IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{
			path("/", "web"), path("/gone", "nosuch"), path("/idle", "idle"), path("/dead", "dead"),
		}}},
	}}}}
	// an ExternalName Service: requests go to that name, at the port
	external := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "ext", Namespace: "default"}, Spec: corev1.ServiceSpec{
		Type: corev1.ServiceTypeExternalName, ExternalName: "localhost.",
		Ports: []corev1.ServicePort{{Name: "http", Port: int32(port), Protocol: corev1.ProtocolTCP}},
	}}
	ing.Spec.Rules[0].HTTP.Paths = append(ing.Spec.Rules[0].HTTP.Paths, path("/ext", "ext"))
	p := &Proxy{Env: &helper.Env{Out: io.Discard}}
	p.state.Store(&cluster.State{
		Services:  []*corev1.Service{svc("web", port), svc("idle", port), svc("dead", freePort(t)), external},
		Ingresses: []*networkingv1.Ingress{ing},
		Pods:      []cluster.Pod{podOf("web", true), podOf("idle", false), podOf("dead", true)},
	})
	in := &ingress{p: p, certs: map[string]cachedCert{}, transport: &http.Transport{}}
	for _, tc := range []struct {
		host, path string
		code       int
		body       string
	}{
		{"app.example:8080", "/a/b", 200, "GET /a/b host=app.example:8080 proto=http fwdhost=app.example:8080"},
		{"other.example", "/", 404, "no Ingress routes"},
		{"app.example", "/gone", 503, `service "nosuch" not found`},
		{"app.example", "/idle", 503, "no ready endpoint"},
		{"app.example", "/dead", 502, "bad gateway: pod dead-1"},
		{"app.example", "/ext/x", 200, "GET /ext/x host=app.example proto=http"},
	} {
		req := httptest.NewRequest("GET", "http://"+tc.host+tc.path, nil)
		rec := httptest.NewRecorder()
		in.ServeHTTP(rec, req)
		if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.body) {
			t.Errorf("%s%s: %d %q, want %d with %q", tc.host, tc.path, rec.Code, rec.Body.String(), tc.code, tc.body)
		}
	}
}

// TestIngressCertificate: a TLS server name gets the certificate of the
// Secret an Ingress names for it, read again when the Secret changes; any
// other name the proxy's self-signed one.
func TestIngressCertificate(t *testing.T) {
	dir := t.TempDir()
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "site", Namespace: "default"}, Spec: networkingv1.IngressSpec{
		TLS: []networkingv1.IngressTLS{{Hosts: []string{"app.example"}, SecretName: "site-tls"}},
	}}
	save := func(cn string) {
		crt, key := testCert(t, cn)
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "site-tls", Namespace: "default"}, Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{"tls.crt": crt, "tls.key": key}}
		if err := objstore.SaveObjects(dir, &pod.Objects{Secrets: []*corev1.Secret{s}}); err != nil {
			t.Fatal(err)
		}
	}
	p := &Proxy{Env: &helper.Env{Out: io.Discard, StateDir: dir}}
	p.state.Store(&cluster.State{Ingresses: []*networkingv1.Ingress{ing}})
	in := &ingress{p: p, certs: map[string]cachedCert{}}
	subject := func(name string) string {
		c, err := in.certificate(&tls.ClientHelloInfo{ServerName: name})
		if err != nil {
			t.Fatal(err)
		}
		x, err := x509.ParseCertificate(c.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return x.Subject.CommonName
	}
	if got := subject("app.example"); got != "podunit ingress (self-signed)" {
		t.Errorf("before the Secret exists: %q", got)
	}
	save("first")
	if got := subject("app.example"); got != "first" {
		t.Errorf("the Secret's certificate: %q", got)
	}
	time.Sleep(10 * time.Millisecond) // a new modification time
	save("second")
	if got := subject("APP.example"); got != "second" {
		t.Errorf("the Secret changed: %q", got)
	}
	if got := subject("other.example"); got != "podunit ingress (self-signed)" {
		t.Errorf("a name no Ingress has: %q", got)
	}
}

func testCert(t *testing.T, cn string) (crt, key []byte) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})
}

// TestIngressUpgrade: a connection upgrade (a WebSocket's handshake) passes
// through, and the bytes after it flow both ways.
func TestIngressUpgrade(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" {
			http.Error(w, "no upgrade", http.StatusBadRequest)
			return
		}
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		rw.Flush()
		line, _ := rw.ReadString('\n')
		rw.WriteString("echo " + line)
		rw.Flush()
	}))
	defer backend.Close()
	port := backend.Listener.Addr().(*net.TCPAddr).Port
	pt := networkingv1.PathTypePrefix
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "ws", Namespace: "default"}, Spec: networkingv1.IngressSpec{
		DefaultBackend: &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "ws", Port: networkingv1.ServiceBackendPort{Number: 80}}},
		Rules: []networkingv1.IngressRule{{IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{
			{Path: "/", PathType: &pt, Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "ws", Port: networkingv1.ServiceBackendPort{Number: 80}}}},
		}}}}},
	}}
	p := &Proxy{Env: &helper.Env{Out: io.Discard}}
	p.state.Store(&cluster.State{
		Services: []*corev1.Service{{ObjectMeta: metav1.ObjectMeta{Name: "ws", Namespace: "default"}, Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "ws"},
			Ports:    []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt(port)}},
		}}},
		Ingresses: []*networkingv1.Ingress{ing},
		Pods: []cluster.Pod{{Spec: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "ws-1", Namespace: "default", Labels: map[string]string{"app": "ws"}}},
			IP: netip.MustParseAddr("127.0.0.1"), Ready: true}},
	})
	front := httptest.NewServer(&ingress{p: p, certs: map[string]cachedCert{}, transport: &http.Transport{}})
	defer front.Close()
	conn, err := net.Dial("tcp", front.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(conn, "GET /chat HTTP/1.1\r\nHost: ws.example\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %s", resp.Status)
	}
	io.WriteString(conn, "hello\n")
	if line, err := br.ReadString('\n'); err != nil || line != "echo hello\n" {
		t.Errorf("after the upgrade: %q %v", line, err)
	}
}

// TestRoundRobinPerService: each Service port takes its own turns, so a
// client alternating between two Services (through Service addresses or an
// Ingress) reaches every endpoint of each, not always the same one.
func TestRoundRobinPerService(t *testing.T) {
	var ports []int32
	for _, name := range []string{"web-a", "web-b", "api-a"} {
		name := name
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, name) }))
		defer s.Close()
		ports = append(ports, int32(s.Listener.Addr().(*net.TCPAddr).Port))
	}
	svc := func(name string) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": name},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("http")}},
		}}
	}
	podOf := func(name, app string, port int32) cluster.Pod {
		return cluster.Pod{Spec: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": app}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: port}}}}}},
			IP: netip.MustParseAddr("127.0.0.1"), Ready: true}
	}
	web, api := svc("web"), svc("api")
	pt := networkingv1.PathTypePrefix
	rule := func(host, service string) networkingv1.IngressRule {
		return networkingv1.IngressRule{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{
			{Path: "/", PathType: &pt, Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: service, Port: networkingv1.ServiceBackendPort{Number: 80}}}},
		}}}}
	}
	p := &Proxy{Env: &helper.Env{Out: io.Discard}}
	p.state.Store(&cluster.State{
		Services:  []*corev1.Service{web, api},
		Pods:      []cluster.Pod{podOf("web-a", "web", ports[0]), podOf("web-b", "web", ports[1]), podOf("api-a", "api", ports[2])},
		Ingresses: []*networkingv1.Ingress{{ObjectMeta: metav1.ObjectMeta{Name: "site", Namespace: "default"}, Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{rule("web.example", "web"), rule("api.example", "api")}}}},
	})
	client := netip.MustParseAddr("10.96.128.9")
	seen := map[string]int{}
	for i := 0; i < 4; i++ {
		seen[p.pick(cluster.Route{Service: web}, client)[0].Pod]++
		if got := p.pick(cluster.Route{Service: api}, client)[0].Pod; got != "api-a" {
			t.Fatalf("api: %s", got)
		}
	}
	if seen["web-a"] != 2 || seen["web-b"] != 2 {
		t.Errorf("Service web, alternating with api: %v, want each pod twice", seen)
	}
	in := &ingress{p: p, certs: map[string]cachedCert{}, transport: &http.Transport{}}
	seen = map[string]int{}
	for i := 0; i < 4; i++ {
		for _, host := range []string{"web.example", "api.example"} {
			rec := httptest.NewRecorder()
			in.ServeHTTP(rec, httptest.NewRequest("GET", "http://"+host+"/", nil))
			if rec.Code != 200 {
				t.Fatalf("%s: %d %s", host, rec.Code, rec.Body)
			}
			seen[rec.Body.String()]++
		}
	}
	if seen["web-a"] != 2 || seen["web-b"] != 2 || seen["api-a"] != 4 {
		t.Errorf("through the Ingress, alternating hosts: %v, want each web pod twice", seen)
	}
}
