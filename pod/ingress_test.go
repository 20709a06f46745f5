package pod

import (
	"strings"
	"testing"
)

func TestLoadIngress(t *testing.T) {
	m, err := Load([]byte(`
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: site, annotations: {nginx.ingress.kubernetes.io/rewrite-target: /}}
spec:
  ingressClassName: nginx
  tls: [{hosts: [a.example.com, "*.example.com"], secretName: site-tls}]
  defaultBackend: {service: {name: fallback, port: {name: http}}}
  rules:
  - host: a.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
      - {pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
  - http:
      paths: [{path: /x, pathType: ImplementationSpecific, backend: {service: {name: web, port: {number: 80}}}}]
status: {loadBalancer: {ingress: [{ip: 1.2.3.4}]}}
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Objects.Ingresses) != 1 {
		t.Fatalf("ingresses: %d", len(m.Objects.Ingresses))
	}
	in := m.Objects.Ingresses[0]
	if in.Namespace != "default" || in.Spec.Rules[0].HTTP.Paths[1].Path != "/" || len(in.Status.LoadBalancer.Ingress) != 0 {
		t.Errorf("defaults: namespace %q, an empty Prefix path %q, status %v", in.Namespace, in.Spec.Rules[0].HTTP.Paths[1].Path, in.Status)
	}
	if w := strings.Join(m.Warnings, "\n"); !strings.Contains(w, "metadata.annotations: ignored: nginx.ingress.kubernetes.io/rewrite-target: another ingress controller's") {
		t.Errorf("no warning for the nginx annotation:\n%s", w)
	}
	all := Over(&m.Objects, nil)
	w := strings.Join(IngressWarnings(in, all), "\n")
	for _, want := range []string{
		`ingress "site": spec.defaultBackend.service.name: service "fallback" not found`,
		`spec.rules[0].http.paths[0].backend.service.name: service "web" not found`,
		`spec.tls[0].secretName: secret "site-tls" not found`,
	} {
		if !strings.Contains(w, want) {
			t.Errorf("warnings lack %q:\n%s", want, w)
		}
	}
	m2, err := Load([]byte(`
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Secret
metadata: {name: tls}
stringData: {cert: x}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: ok}
spec:
  tls: [{secretName: tls}]
  rules:
  - http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}
      - {path: /b, pathType: Prefix, backend: {service: {name: web, port: {name: grpc}}}}
      - {path: /c, pathType: Prefix, backend: {service: {name: web, port: {number: 81}}}}
`))
	if err != nil {
		t.Fatal(err)
	}
	w = strings.Join(IngressWarnings(m2.Objects.Ingresses[0], &m2.Objects), "\n")
	for _, want := range []string{
		`spec.rules[0].http.paths[1].backend.service.port.name: service "web" has no port named "grpc"`,
		`spec.rules[0].http.paths[2].backend.service.port.number: service "web" has no port 81`,
		`spec.tls[0].secretName: secret "tls" holds no tls.crt and tls.key`,
	} {
		if !strings.Contains(w, want) {
			t.Errorf("warnings lack %q:\n%s", want, w)
		}
	}
	if strings.Contains(w, "paths[0]") {
		t.Errorf("a backend that is there is warned about:\n%s", w)
	}
}

func TestLoadIngressErrors(t *testing.T) {
	_, err := Load([]byte(`
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: bad}
spec:
  defaultBackend: {resource: {kind: Bucket, name: b}}
  tls: [{hosts: ["a..b"], secretName: Bad_Name}]
  rules:
  - host: 10.0.0.1
    http:
      paths:
      - {path: /a, backend: {service: {name: web, port: {number: 80}}}}
      - {path: b, pathType: Prefix, backend: {service: {name: web, port: {number: 80, name: http}}}}
      - {path: /c, pathType: Regex, backend: {service: {name: web}}}
      - {path: /d/../e, pathType: Exact, backend: {service: {name: Web, port: {number: 70000}}}}
  - host: "*.*.example.com"
    http: {paths: []}
`))
	if err == nil {
		t.Fatal("a bad Ingress loaded")
	}
	for _, want := range []string{
		`spec.defaultBackend.resource: not supported by podunit: a backend is a Service on this host`,
		`spec.tls[0].hosts[0]: invalid value "a..b"`,
		`spec.tls[0].secretName: invalid value "Bad_Name"`,
		`spec.rules[0].host: invalid value "10.0.0.1": must be a DNS name, not an IP address`,
		`spec.rules[0].http.paths[0].pathType: required`,
		`spec.rules[0].http.paths[1].path: invalid value "b": must be an absolute path`,
		`spec.rules[0].http.paths[1].backend.service.port: invalid value {http 80}: cannot set both`,
		`spec.rules[0].http.paths[2].pathType: unsupported value Regex`,
		`spec.rules[0].http.paths[2].backend.service.port: required`,
		`spec.rules[0].http.paths[3].path: invalid value "/d/../e": must not contain '/../'`,
		`spec.rules[0].http.paths[3].backend.service.name: invalid value "Web"`,
		`spec.rules[0].http.paths[3].backend.service.port.number: invalid value 70000`,
		`spec.rules[1].host: invalid value "*.*.example.com"`,
		`spec.rules[1].http.paths: required`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	for _, doc := range []string{
		"apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: old}\nspec: {defaultBackend: {service: {name: a, port: {number: 1}}}}\n",
		"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: empty}\nspec: {}\n",
		"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: x}\nspec: {rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: a, port: {number: 1}}}}]}}], bogus: 1}\n",
	} {
		if _, err := Load([]byte(doc)); err == nil {
			t.Errorf("loaded:\n%s", doc)
		}
	}
}

func TestIngressClassSkipped(t *testing.T) {
	m, err := Load([]byte("apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: nginx}\nspec: {controller: k8s.io/ingress-nginx}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(m.Warnings, "\n"); !strings.Contains(w, `ingressclass "nginx": ignored: the service proxy is this host's only ingress controller`) {
		t.Errorf("warnings: %s", w)
	}
}
