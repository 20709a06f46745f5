package hooks

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// Executor runs a command inside a container: its namespaces, cgroup and
// user (podman's exec API in podunit; a fake in tests).
type Executor interface {
	Exec(ctx context.Context, container string, argv, env []string) (code int, output []byte, err error)
}

// Runner carries out handlers for one container. httpGet, tcpSocket and gRPC
// handlers run in-process, in the network namespace of the calling process:
// the caller is in the pod's (podunit's helpers enter it once, at start), so
// images need no HTTP client, shell or grpc_health_probe. exec handlers go
// through Exec.
type Runner struct {
	Exec      Executor
	Container string            // podman name of the container
	Env       map[string]string // extra environment for exec handlers
	Headers   []Header          // extra headers for httpGet handlers
	// HTTP is the client for httpGet handlers; nil: one per call. A prober
	// shares one.
	HTTP *http.Client
}

// Run carries out a handler, bounded by ctx. A handler fails when its command
// exits non-zero, its HTTP answer is outside 200-399 or does not come, its
// gRPC health service does not say SERVING, or ctx ends first.
func (r *Runner) Run(ctx context.Context, h *Handler) error {
	switch {
	case len(h.Exec) > 0:
		return r.runExec(ctx, h.Exec)
	case h.HTTPGet != nil:
		url := RequestURL(h.HTTPGet)
		if err := GetURL(ctx, r.client(), url, append(append([]Header(nil), h.HTTPGet.Headers...), r.Headers...)); err != nil {
			return fmt.Errorf("httpGet %s: %w", url, err)
		}
		return nil
	case h.TCPSocket != nil:
		addr := net.JoinHostPort(hostOrLoopback(h.TCPSocket.Host), strconv.Itoa(h.TCPSocket.Port))
		if err := DialOnce(ctx, addr); err != nil {
			return fmt.Errorf("tcpSocket %s: %w", addr, err)
		}
		return nil
	case h.GRPC != nil:
		return GRPCCheck(ctx, h.GRPC)
	case h.Sleep != nil:
		select {
		case <-time.After(time.Duration(*h.Sleep) * time.Second):
			return nil
		case <-ctx.Done():
			return fmt.Errorf("sleep %ds: cut short after the grace period", *h.Sleep)
		}
	}
	return errors.New("empty handler")
}

func (r *Runner) client() *http.Client {
	if r.HTTP != nil {
		return r.HTTP
	}
	return NewHTTPClient()
}

// runExec runs the command inside the container.
func (r *Runner) runExec(ctx context.Context, argv []string) error {
	if r.Exec == nil {
		return errors.New("exec handlers need podman")
	}
	var env []string
	for _, k := range sortedKeys(r.Env) {
		env = append(env, k+"="+r.Env[k])
	}
	code, out, err := r.Exec.Exec(ctx, r.Container, argv, env)
	what := "exec " + strings.Join(argv, " ")
	if ctx.Err() != nil {
		return fmt.Errorf("%s: did not finish in time", what)
	}
	if err != nil {
		return fmt.Errorf("%s: %v", what, err)
	}
	if code != 0 {
		msg := strings.TrimSpace(string(out))
		if len(msg) > 300 {
			msg = msg[len(msg)-300:]
		}
		if msg != "" {
			msg = ": " + msg
		}
		return fmt.Errorf("%s: exit status %d%s", what, code, msg)
	}
	return nil
}

// probeDialer opens the connections of probes and hooks: each is closed
// as soon as it has served, so no TCP keep-alive is set up on it (three
// system calls fewer a connection).
var probeDialer = &net.Dialer{KeepAlive: -1}

// DialOnce succeeds when a TCP connection to addr opens.
func DialOnce(ctx context.Context, addr string) error {
	c, err := probeDialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("no connection: %v", unwrapURLError(err))
	}
	return c.Close()
}

func hostOrLoopback(h string) string {
	if h == "" {
		return "127.0.0.1"
	}
	return h
}

// RequestURL is the URL of an httpGet handler; without a host it is the pod
// itself, reached on its loopback from inside its network namespace.
func RequestURL(g *HTTPGet) string {
	return strings.ToLower(g.Scheme) + "://" + net.JoinHostPort(hostOrLoopback(g.Host), strconv.Itoa(g.Port)) + g.Path
}

// NewHTTPClient is the client for httpGet handlers, as the kubelet's prober
// has it: no keep-alive (each probe is a new connection), TLS certificates
// not verified, no proxy, redirects followed only on the same host.
func NewHTTPClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true, Proxy: nil,
			DialContext: probeDialer.DialContext},
		CheckRedirect: func(r *http.Request, via []*http.Request) error {
			if r.URL.Host != via[0].URL.Host || len(via) >= 10 {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
}

// GetURL does one request: a status of at least 200 and below 400 is
// success. A "Host" header sets the request's host.
func GetURL(ctx context.Context, client *http.Client, url string, headers []Header) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "podunit-probe/1.0")
	for _, h := range headers {
		if strings.EqualFold(h.Name, "Host") {
			req.Host = h.Value
			continue
		}
		req.Header.Add(h.Name, h.Value)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("no answer: %v", unwrapURLError(err))
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fmt.Errorf("HTTP status %d", resp.StatusCode)
	}
	return nil
}

// GRPCCheck asks the standard gRPC health service (grpc.health.v1.Health) at
// the pod's loopback for the status of g.Service; SERVING is success. As the
// kubelet's, it uses no TLS.
func GRPCCheck(ctx context.Context, g *GRPC) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(g.Port))
	what := "grpc " + addr
	if g.Service != "" {
		what += " service " + strconv.Quote(g.Service)
	}
	conn, err := grpc.DialContext(ctx, addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUserAgent("podunit-probe/1.0"),
		grpc.WithBlock())
	if err != nil {
		return fmt.Errorf("%s: no connection: %v", what, unwrapURLError(err))
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: g.Service})
	if err != nil {
		if st, ok := status.FromError(err); ok {
			switch st.Code() {
			case codes.Unimplemented:
				return fmt.Errorf("%s: the server does not implement the gRPC health protocol", what)
			case codes.DeadlineExceeded:
				return fmt.Errorf("%s: no answer in time", what)
			}
			return fmt.Errorf("%s: %s: %s", what, st.Code(), st.Message())
		}
		return fmt.Errorf("%s: %v", what, err)
	}
	if resp.Status != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("%s: status %s", what, resp.Status)
	}
	return nil
}

func unwrapURLError(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
