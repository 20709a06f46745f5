package cluster

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/podunit/podunit/pod"
)

// The ingress controller: the service proxy serves every Ingress on two
// ports of its own address on the pod network (not the Services'
// addresses, whose listeners may use any port), which the services
// container publishes on this host's ingress ports.
const (
	IngressHTTP  = 80
	IngressHTTPS = 443
)

// IngressPorts are this host's ports the Ingresses are served on.
type IngressPorts struct{ HTTP, HTTPS int }

// DefaultIngressPorts are 80 and 443 where an unprivileged user may listen
// on them (unprivilegedStart is net.ipv4.ip_unprivileged_port_start; 0 for
// root), else 8080 and 8443, as rootless setups usually map them.
func DefaultIngressPorts(unprivilegedStart int) IngressPorts {
	if unprivilegedStart <= IngressHTTP {
		return IngressPorts{IngressHTTP, IngressHTTPS}
	}
	return IngressPorts{8080, 8443}
}

// ParseIngressPorts reads the user's choice of ingress ports: "http: PORT"
// and "https: PORT" lines (either may be left out: def's stays), "#"
// comments and blank lines.
func ParseIngressPorts(text string, def IngressPorts) (IngressPorts, error) {
	out := def
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if !ok || err != nil || n < 1 || n > 65535 {
			return def, fmt.Errorf("line %d: %q: want \"http: PORT\" or \"https: PORT\" (1-65535)", i+1, line)
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "http":
			out.HTTP = n
		case "https":
			out.HTTPS = n
		default:
			return def, fmt.Errorf("line %d: %q: want \"http: PORT\" or \"https: PORT\"", i+1, line)
		}
	}
	if out.HTTP == out.HTTPS {
		return def, fmt.Errorf("http and https are both %d", out.HTTP)
	}
	return out, nil
}

// IngressPublished are the services container's publications of the
// ingress ports ("HOST:INNER/tcp", as NodePorts writes them), none without an
// Ingress.
func IngressPublished(ingresses int, ports IngressPorts) []string {
	if ingresses == 0 {
		return nil
	}
	return []string{
		strconv.Itoa(ports.HTTP) + ":" + strconv.Itoa(IngressHTTP) + "/tcp",
		strconv.Itoa(ports.HTTPS) + ":" + strconv.Itoa(IngressHTTPS) + "/tcp",
	}
}

// HTTPRoute is what an Ingress says of one request: the Ingress and the
// backend it goes to, and the path rule that matched ("" for the default
// backend).
type HTTPRoute struct {
	Ingress *networkingv1.Ingress
	Backend *networkingv1.IngressBackend
	Path    string
}

// ingressOrder is the order Ingresses are consulted in where two say the
// same: the oldest first, then by namespace and name. A list in that order
// already (OrderIngresses: the proxy orders its state's once) is returned
// as it is: a request does not sort it again.
func ingressOrder(in []*networkingv1.Ingress) []*networkingv1.Ingress {
	if sort.SliceIsSorted(in, func(i, j int) bool { return ingressBefore(in[i], in[j]) }) {
		return in
	}
	out := append([]*networkingv1.Ingress{}, in...)
	OrderIngresses(out)
	return out
}

// OrderIngresses sorts Ingresses in the order they are consulted in.
func OrderIngresses(in []*networkingv1.Ingress) {
	sort.SliceStable(in, func(i, j int) bool { return ingressBefore(in[i], in[j]) })
}

func ingressBefore(a, b *networkingv1.Ingress) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	return a.Name < b.Name
}

// RequestHost is a request's Host without its port and trailing dot, in
// lower case.
func RequestHost(host string) string {
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

// hostMatches tells whether a rule's host covers host: equal, or a
// wildcard "*.example.com" whose "*" stands for exactly one label.
func hostMatches(rule, host string) bool {
	if rest, ok := strings.CutPrefix(rule, "*."); ok {
		label, suffix, found := strings.Cut(host, ".")
		return found && label != "" && suffix == strings.ToLower(rest)
	}
	return strings.ToLower(rule) == host
}

// pathMatch is how well an Ingress path matches a request's path: -1 not
// at all, else the length matched, an Exact match above any Prefix one of
// the same length. A Prefix path matches by whole path elements ("/foo"
// matches "/foo" and "/foo/bar", not "/foobar"); ImplementationSpecific
// matches as Prefix.
func pathMatch(p networkingv1.HTTPIngressPath, path string) int {
	if p.PathType != nil && *p.PathType == networkingv1.PathTypeExact {
		if path == p.Path {
			return 2*len(p.Path) + 1
		}
		return -1
	}
	prefix := strings.TrimRight(p.Path, "/")
	if prefix == "" || path == prefix || strings.HasPrefix(path, prefix+"/") {
		return 2 * len(prefix)
	}
	return -1
}

// RouteHTTP finds where a request for host and path goes, as Ingress
// controllers do: the rules of the requested host, else of a wildcard host
// that covers it, else of rules without a host; among those, the path that
// matches best (an Exact path, else the longest Prefix). A host that has
// rules and no path of them matching goes to the default backend (of the
// oldest Ingress that has one), as does a request no rule covers. ok is
// false when nothing serves it (404).
func RouteHTTP(ingresses []*networkingv1.Ingress, host, path string) (HTTPRoute, bool) {
	host = RequestHost(host)
	ordered := ingressOrder(ingresses)
	for _, tier := range []func(rule string) bool{
		func(rule string) bool { return rule != "" && !strings.HasPrefix(rule, "*.") && hostMatches(rule, host) },
		func(rule string) bool { return strings.HasPrefix(rule, "*.") && hostMatches(rule, host) },
		func(rule string) bool { return rule == "" },
	} {
		found := false
		var best HTTPRoute
		score := -1
		for _, in := range ordered {
			for _, r := range in.Spec.Rules {
				if !tier(r.Host) || r.HTTP == nil {
					continue
				}
				found = true
				for i := range r.HTTP.Paths {
					p := r.HTTP.Paths[i]
					if s := pathMatch(p, path); s > score {
						score = s
						best = HTTPRoute{Ingress: in, Backend: &r.HTTP.Paths[i].Backend, Path: p.Path}
					}
				}
			}
		}
		if score >= 0 {
			return best, true
		}
		if found {
			break
		}
	}
	for _, in := range ordered {
		if in.Spec.DefaultBackend != nil {
			return HTTPRoute{Ingress: in, Backend: in.Spec.DefaultBackend}, true
		}
	}
	return HTTPRoute{}, false
}

// TLSSecret is the Secret (namespace, name) whose certificate an Ingress
// gives for a TLS server name: the first Ingress whose spec.tls lists the
// name, or a wildcard that covers it. ok is false when none does.
func TLSSecret(ingresses []*networkingv1.Ingress, serverName string) (ns, name string, ok bool) {
	serverName = RequestHost(serverName)
	ordered := ingressOrder(ingresses)
	for _, wildcard := range []bool{false, true} {
		for _, in := range ordered {
			for _, t := range in.Spec.TLS {
				if t.SecretName == "" {
					continue
				}
				for _, h := range t.Hosts {
					if strings.HasPrefix(h, "*.") == wildcard && hostMatches(h, serverName) {
						return in.Namespace, t.SecretName, true
					}
				}
			}
		}
	}
	return "", "", false
}

// BackendEndpoints are the endpoints of an Ingress backend's Service port,
// and that port's index in the Service's; svc is nil when the Service does
// not exist, port is -1 when it has no such port (by number, or by name).
func (s *State) BackendEndpoints(ns string, b *networkingv1.IngressBackend) (svc *corev1.Service, port int, eps []Endpoint) {
	if b == nil || b.Service == nil {
		return nil, -1, nil
	}
	svc = s.service(ns, b.Service.Name)
	if svc == nil {
		return nil, -1, nil
	}
	for i, p := range svc.Spec.Ports {
		if p.Protocol != corev1.ProtocolTCP {
			continue
		}
		if (b.Service.Port.Name != "" && p.Name == b.Service.Port.Name) || (b.Service.Port.Name == "" && p.Port == b.Service.Port.Number) {
			return svc, i, s.Endpoints(svc, i)
		}
	}
	return svc, -1, nil
}

// ServeIngress gives an Ingress its status as this host serves it: this
// host's address (hostIP) and ingress ports.
func ServeIngress(in *networkingv1.Ingress, hostIP string, ports IngressPorts) {
	tcp := corev1.ProtocolTCP
	in.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: hostIP, Ports: []networkingv1.IngressPortStatus{
		{Port: int32(ports.HTTP), Protocol: tcp},
		{Port: int32(ports.HTTPS), Protocol: tcp},
	}}}
}

// FitIngressPorts checks that no pod asks for a host port, and no Service is
// published on one, that the Ingresses are served on (IngressPorts),
// while there are Ingresses: the pod's infra, or the service proxy, would
// not start. newIngress says the ports are to be published anew (no
// Ingress is stored yet): then the running pods and Services count too,
// else only newPods and newServices.
func FitIngressPorts(pods, newPods []*corev1.Pod, services, newServices []*corev1.Service, newIngress bool, ports IngressPorts) error {
	http, https := ports.HTTP, ports.HTTPS
	ingress := map[int32]bool{int32(http): true, int32(https): true}
	isNew := map[string]bool{}
	for _, s := range newServices {
		isNew[s.Namespace+"/"+s.Name] = true
	}
	var miss []string
	for _, s := range services {
		if !newIngress && !isNew[s.Namespace+"/"+s.Name] {
			continue
		}
		for _, h := range publishedOn(s, Balanced(s)) {
			if h.proto == corev1.ProtocolTCP && ingress[h.port] {
				miss = append(miss, fmt.Sprintf("service %q: %d/TCP is this host's port of the %s, and the Ingresses are served on it", s.Name, h.port, h.what))
			}
		}
	}
	check := func(ps []*corev1.Pod) {
		for _, p := range ps {
			for _, hp := range pod.HostPorts(p) {
				if hp.Proto == corev1.ProtocolTCP && ingress[hp.Port] {
					miss = append(miss, fmt.Sprintf("pod %q: %s: %d/TCP is this host's ingress port (the Ingresses are served on %d and %d)", p.Name, hp.Path, hp.Port, http, https))
				}
			}
		}
	}
	check(newPods)
	if newIngress {
		check(pods)
	}
	if len(miss) == 0 {
		return nil
	}
	return fmt.Errorf("%w: host port in use (nothing was changed):\n  %s", pod.ErrInvalid, strings.Join(miss, "\n  "))
}
