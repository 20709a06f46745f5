package proxy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podunit/podunit/cluster"
	"github.com/podunit/podunit/podstate/objstore"
)

// ingress is the proxy's ingress controller: an HTTP and an HTTPS server
// on the proxy's own address, routing each request by the Ingresses of
// the state current at that moment (cluster.RouteHTTP) to a ready endpoint
// of the backend's Service.
type ingress struct {
	p         *Proxy
	servers   []*http.Server
	transport *http.Transport

	mu         sync.Mutex
	certs      map[string]cachedCert // by namespace/name of the Secret
	selfSigned *tls.Certificate
}

type cachedCert struct {
	mod  time.Time
	cert *tls.Certificate // nil: the Secret holds no usable certificate
}

// reconcileIngress serves the Ingresses while there are any.
func (p *Proxy) reconcileIngress(st *cluster.State) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case len(st.Ingresses) > 0 && p.ingress == nil:
		in, err := p.startIngress()
		if err != nil {
			fmt.Fprintf(p.Out, "serving the Ingresses: %v\n", err)
			return
		}
		p.ingress = in
	case len(st.Ingresses) == 0 && p.ingress != nil:
		p.ingress.close()
		p.ingress = nil
	}
}

// ownAddr is the proxy's own address on the pod network (podman's lease,
// not one of the Services' addresses it holds besides).
func ownAddr() (netip.Addr, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return netip.Addr{}, err
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP.To4()); ok && cluster.PodRange.Contains(ip) {
				return ip, nil
			}
		}
	}
	return netip.Addr{}, errors.New("no address of the pod network on the services container's interfaces")
}

func (p *Proxy) startIngress() (*ingress, error) {
	ip, err := ownAddr()
	if err != nil {
		return nil, err
	}
	in := &ingress{p: p, certs: map[string]cachedCert{}, transport: &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
	}}
	for _, port := range []int{cluster.IngressHTTP, cluster.IngressHTTPS} {
		addr := net.JoinHostPort(ip.String(), strconv.Itoa(port))
		ln, err := net.Listen("tcp4", addr)
		if err != nil {
			in.close()
			return nil, err
		}
		srv := &http.Server{Handler: in, ReadHeaderTimeout: 30 * time.Second}
		in.servers = append(in.servers, srv)
		if port == cluster.IngressHTTPS {
			srv.TLSConfig = &tls.Config{GetCertificate: in.certificate, MinVersion: tls.VersionTLS12}
			go srv.ServeTLS(ln, "", "")
		} else {
			go srv.Serve(ln)
		}
		fmt.Fprintf(p.Out, "serving the Ingresses on %s\n", addr)
	}
	return in, nil
}

func (in *ingress) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, s := range in.servers {
		if s.Shutdown(ctx) != nil {
			s.Close()
		}
	}
	in.transport.CloseIdleConnections()
}

// ServeHTTP routes one request: 404 where no Ingress routes it, 503 where
// its Service is missing or has no ready endpoint, 502 where the endpoint
// does not answer, as ingress-nginx answers.
func (in *ingress) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	st := in.p.state.Load()
	route, ok := cluster.RouteHTTP(st.Ingresses, req.Host, req.URL.Path)
	if !ok {
		http.Error(w, "404 page not found: no Ingress routes this host and path", http.StatusNotFound)
		return
	}
	ns := route.Ingress.Namespace
	svc, port, eps := st.BackendEndpoints(ns, route.Backend)
	had := len(eps) > 0
	if client, err := netip.ParseAddrPort(req.RemoteAddr); err == nil {
		eps = in.p.allowed(client.Addr().Unmap(), corev1.ProtocolTCP, eps)
	}
	var target, what string
	switch {
	case svc == nil:
		http.Error(w, fmt.Sprintf("503 service unavailable: ingress %s/%s: service %q not found", ns, route.Ingress.Name, route.Backend.Service.Name), http.StatusServiceUnavailable)
		return
	case svc.Spec.Type == corev1.ServiceTypeExternalName:
		// its external name, at the backend's port number (a named
		// port: that port of the Service's)
		port := route.Backend.Service.Port.Number
		for _, p := range svc.Spec.Ports {
			if route.Backend.Service.Port.Name != "" && p.Name == route.Backend.Service.Port.Name {
				port = p.Port
			}
		}
		if port == 0 {
			port = 80
		}
		target = net.JoinHostPort(strings.TrimSuffix(svc.Spec.ExternalName, "."), strconv.Itoa(int(port)))
		what = "service " + svc.Name + " (ExternalName " + target + ")"
	case len(eps) == 0 && had:
		http.Error(w, fmt.Sprintf("502 bad gateway: service %s/%s: a NetworkPolicy of its pods does not admit this client (%s)", ns, svc.Name, req.RemoteAddr), http.StatusBadGateway)
		return
	case len(eps) == 0:
		http.Error(w, fmt.Sprintf("503 service unavailable: service %s/%s has no ready endpoint for this port", ns, svc.Name), http.StatusServiceUnavailable)
		return
	default:
		ep := eps[in.p.next(svc, port)%uint64(len(eps))]
		target, what = ep.Addr.String(), "endpoint "+ep.Addr.String()
		if ep.Pod != "" {
			what = "pod " + ep.Pod + " (" + ep.Addr.String() + ")"
		}
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(&url.URL{Scheme: "http", Host: target})
			r.Out.Host = r.In.Host // the client's Host, as ingress controllers pass it
			r.SetXForwarded()
		},
		Transport: in.transport,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, fmt.Sprintf("502 bad gateway: %s: %v", what, err), http.StatusBadGateway)
		},
	}
	rp.ServeHTTP(w, req)
}

// certificate is the certificate for a TLS server name: from the Secret an
// Ingress names for it (type kubernetes.io/tls: tls.crt and tls.key), else
// the proxy's own self-signed one, as ingress controllers give a default.
func (in *ingress) certificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	st := in.p.state.Load()
	if ns, name, ok := cluster.TLSSecret(st.Ingresses, hello.ServerName); ok {
		if c := in.secretCert(ns, name); c != nil {
			return c, nil
		}
	}
	return in.ownCert()
}

func (in *ingress) secretCert(ns, name string) *tls.Certificate {
	s, mod, err := objstore.LoadSecret(in.p.StateDir, ns, name)
	if err != nil || s == nil {
		return nil
	}
	key := ns + "/" + name
	in.mu.Lock()
	defer in.mu.Unlock()
	if c, ok := in.certs[key]; ok && c.mod.Equal(mod) {
		return c.cert
	}
	var cert *tls.Certificate
	if c, err := tls.X509KeyPair(s.Data["tls.crt"], s.Data["tls.key"]); err == nil {
		cert = &c
	} else {
		fmt.Fprintf(in.p.Out, "secret %s: no certificate for the Ingresses: %v\n", key, err)
	}
	in.certs[key] = cachedCert{mod: mod, cert: cert}
	return cert
}

func (in *ingress) ownCert() (*tls.Certificate, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.selfSigned != nil {
		return in.selfSigned, nil
	}
	c, err := selfSigned(time.Now())
	if err != nil {
		return nil, err
	}
	in.selfSigned = c
	return c, nil
}

// selfSigned makes the certificate served where no Ingress gives one.
func selfSigned(now time.Time) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "podunit ingress (self-signed)"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
