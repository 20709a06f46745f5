package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/podunit/podunit/units"
)

// TestIngress: a chart-like manifest with an Ingress: HTTP requests reach
// the Service its rules pick by host and path (a Deployment's pods, another
// pod, the default backend), HTTPS with the certificate of the Ingress's
// TLS Secret; get and describe show it; once it is deleted this host's
// ingress ports are no longer published.
func TestIngress(t *testing.T) {
	crt, key := selfSignedCert(t, "shop.example", []string{"shop.example"}, nil)
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	manifest := `
apiVersion: v1
kind: Secret
metadata: {name: shop-tls}
type: kubernetes.io/tls
data: {tls.crt: ` + b64(crt) + `, tls.key: ` + b64(key) + `}
---
apiVersion: v1
kind: Service
metadata: {name: ingweb}
spec:
  selector: {app: ingweb}
  ports: [{name: http, port: 80, targetPort: web}]
---
apiVersion: v1
kind: Service
metadata: {name: ingapi}
spec:
  selector: {app: ingapi}
  ports: [{port: 8000, targetPort: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop}
spec:
  ingressClassName: nginx
  tls: [{hosts: [shop.example], secretName: shop-tls}]
  defaultBackend: {service: {name: ingapi, port: {number: 8000}}}
  rules:
  - host: shop.example
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: ingweb, port: {name: http}}}}
      - {path: /api, pathType: Prefix, backend: {service: {name: ingapi, port: {number: 8000}}}}
      - {path: /missing, pathType: Exact, backend: {service: {name: nosuch, port: {number: 80}}}}
  - host: "*.shop.example"
    http:
      paths: [{path: /, pathType: Prefix, backend: {service: {name: ingapi, port: {number: 8000}}}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ingweb}
spec:
  replicas: 2
  selector: {matchLabels: {app: ingweb}}
  template:
    metadata: {labels: {app: ingweb}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: server
        image: ` + serverImage + `
        ports: [{name: web, containerPort: 8080}]
        readinessProbe: {httpGet: {path: /, port: web}, periodSeconds: 1}
---
apiVersion: v1
kind: Pod
metadata: {name: ingapi, labels: {app: ingapi}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: server
    image: ` + serverImage + `
    readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
`
	path := writeManifest(t, manifest)
	ca := writeManifest(t, string(crt))
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", path) })
	r := run(t, podunit, "up", path)
	if r.code != 0 {
		t.Fatalf("up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	m := regexp.MustCompile(`(?m)^ingress\.networking\.k8s\.io/shop served on this host: http://(\S+):(\d+), https://\S+:(\d+) \(hosts shop\.example,\*\.shop\.example\)$`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("up does not say where the Ingress is served:\n%s", r.stdout)
	}
	hostIP, httpPort, httpsPort := m[1], m[2], m[3]
	if !strings.Contains(r.stderr, `warning: ingress "shop": spec.rules[0].http.paths[2].backend.service.name: service "nosuch" not found: its requests get 503`) {
		t.Errorf("no warning for the missing backend:\n%s", r.stderr)
	}
	get := func(host, path string) (code, body string) {
		out := run(t, "curl", "-s", "-m", "3", "-H", "Host: "+host, "-w", "\n%{http_code}", "http://127.0.0.1:"+httpPort+path).stdout
		i := strings.LastIndexByte(out, '\n')
		if i < 0 {
			return out, ""
		}
		return out[i+1:], strings.TrimSpace(out[:i])
	}
	// both pods of the Deployment answer, in turn, and the other pod (up
	// returns once they are started, not ready: each becomes an endpoint
	// when its readiness probe first passes)
	seen := map[string]bool{}
	eventually(t, 60*time.Second, "both ingweb pods and the ingapi pod through the Ingress", func() bool {
		if code, body := get("shop.example", "/hostname"); code == "200" && strings.HasPrefix(body, "ingweb-") {
			seen[body] = true
		}
		if code, body := get("v1.shop.example", "/hostname"); code == "200" && body == "ingapi" {
			seen[body] = true
		}
		return len(seen) == 3
	})
	for _, tc := range []struct{ host, path, code, body string }{
		{"shop.example:" + httpPort, "/hostname", "200", "ingweb-"}, // Host with a port
		{"v1.shop.example", "/hostname", "200", "ingapi"},           // the wildcard rule
		{"other.example", "/hostname", "200", "ingapi"},             // the default backend
		{"shop.example", "/missing", "503", `service "nosuch" not found`},
	} {
		if code, body := get(tc.host, tc.path); code != tc.code || !strings.Contains(body, tc.body) {
			t.Errorf("%s%s: %s %q, want %s with %q", tc.host, tc.path, code, body, tc.code, tc.body)
		}
	}
	// HTTPS with the Secret's certificate, checked against it; through the
	// host's address too
	for _, addr := range []string{"127.0.0.1", hostIP} {
		out := run(t, "curl", "-s", "-m", "3", "--cacert", ca, "--resolve", "shop.example:"+httpsPort+":"+addr, "https://shop.example:"+httpsPort+"/hostname")
		if out.code != 0 || !strings.HasPrefix(strings.TrimSpace(out.stdout), "ingweb-") {
			t.Errorf("https via %s: exit %d %q %s", addr, out.code, out.stdout, out.stderr)
		}
	}
	ing := must(t, podunit, "get", "ingress")
	if !regexp.MustCompile(`(?m)^shop\s+nginx\s+shop\.example,\*\.shop\.example\s+` + regexp.QuoteMeta(hostIP) + `\s+` + httpPort + `, ` + httpsPort + `\s+\S+$`).MatchString(ing) {
		t.Errorf("get ingress:\n%s", ing)
	}
	desc := must(t, podunit, "describe", "ing", "shop")
	for _, want := range []string{`Default backend:\s+ingapi:8000 \(10\.96\.`, `shop-tls terminates shop\.example`,
		`(?m)^\s+/\s+ingweb:http \(10\.96\.\S+:8080,10\.96\.\S+:8080\)$`, `nosuch:80 \(<error: service "nosuch" not found>\)`} {
		if !regexp.MustCompile(want).MatchString(desc) {
			t.Errorf("describe lacks %s:\n%s", want, desc)
		}
	}
	// Applied again: nothing changes.
	if r := run(t, podunit, "up", path); r.code != 0 || !strings.Contains(r.stdout, "ingress.networking.k8s.io/shop unchanged") {
		t.Errorf("up again: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The Services deleted, the pods running: the Ingress answers 503.
	if out := must(t, podunit, "down", "svc/ingweb", "svc/ingapi"); !strings.Contains(out, "service/ingweb deleted") {
		t.Errorf("down of the Services:\n%s", out)
	}
	if code, body := get("shop.example", "/hostname"); code != "503" || !strings.Contains(body, `service "ingweb" not found`) {
		t.Errorf("without its Service: %s %q", code, body)
	}
	// Then the Ingress: the ports are no longer published though the pods
	// still keep the service proxy up.
	if out := must(t, podunit, "down", "ingress/shop"); !strings.Contains(out, "ingress.networking.k8s.io/shop deleted") {
		t.Errorf("down ingress/shop:\n%s", out)
	}
	if r := run(t, "curl", "-s", "-m", "3", "-H", "Host: shop.example", "http://127.0.0.1:"+httpPort+"/hostname"); r.code == 0 {
		t.Errorf("the ingress port still answers once the Ingress is gone: %q", r.stdout)
	}
	if ports := must(t, "podman", "ps", "--filter", "name=^"+units.ServicesContainer+"$", "--format", "{{.Ports}}"); strings.Contains(ports, "->") {
		t.Errorf("the services container still publishes: %s", ports)
	}
	if st := status(t, "ingapi"); st == nil || st.Phase != "Running" {
		t.Errorf("the pod after its Service and Ingress went: %+v", st)
	}
}

func selfSignedCert(t *testing.T, cn string, dnsNames []string, ips []net.IP) (crt, key []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, DNSNames: dnsNames, IPAddresses: ips,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
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

// TestIngressPortsChosen: ~/.config/podunit/ingress-ports chooses this
// host's ingress ports; a file that cannot be read is an error naming it,
// with nothing changed.
func TestIngressPortsChosen(t *testing.T) {
	const conf = `"${XDG_CONFIG_HOME:-$HOME/.config}/podunit/ingress-ports"`
	t.Cleanup(func() { run(t, "sh", "-c", "rm -f "+conf) })
	must(t, "sh", "-c", "mkdir -p \"$(dirname "+conf+")\" && printf 'http: nope\\n' > "+conf)
	path := writeManifest(t, `
apiVersion: v1
kind: Service
metadata: {name: ingports}
spec:
  selector: {app: ingports}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: ingports}
spec:
  defaultBackend: {service: {name: ingports, port: {number: 80}}}
---
apiVersion: v1
kind: Pod
metadata: {name: ingports, labels: {app: ingports}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: server
    image: `+serverImage+`
    readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
`)
	t.Cleanup(func() { run(t, podunit, "down", "--grace-period", "0", "--force", path) })
	r := run(t, podunit, "up", path)
	if r.code != 2 || !strings.Contains(r.stderr, `podunit/ingress-ports: line 1: "http: nope"`) {
		t.Errorf("up with a bad ingress-ports file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if st := status(t, "ingports"); st != nil {
		t.Errorf("a pod was made: %+v", st)
	}
	must(t, "sh", "-c", "printf '# mine\\nhttp: 18480\\nhttps: 18443\\n' > "+conf)
	out := must(t, podunit, "up", path)
	if !regexp.MustCompile(`ingress\.networking\.k8s\.io/ingports served on this host: http://\S+:18480, https://\S+:18443 \(hosts \*\)`).MatchString(out) {
		t.Errorf("up does not say it serves on the chosen ports:\n%s", out)
	}
	eventually(t, 30*time.Second, "the pod on the chosen port", func() bool {
		return strings.TrimSpace(run(t, "curl", "-s", "-m", "2", "http://127.0.0.1:18480/hostname").stdout) == "ingports"
	})
	if r := run(t, "curl", "-sk", "-m", "2", "https://127.0.0.1:18443/hostname"); strings.TrimSpace(r.stdout) != "ingports" {
		t.Errorf("https on the chosen port: exit %d %q", r.code, r.stdout)
	}
}
