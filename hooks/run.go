package hooks

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
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
	// UserAgent of httpGet handlers when they set none: LifecycleUserAgent
	// when empty; a prober's is ProbeUserAgent.
	UserAgent string
	// Dial opens the connections of httpGet and tcpSocket handlers; nil:
	// Go's own dialer (a prober's makes no Go timer: prober/quietnet).
	Dial DialFunc
}

// DialFunc opens a connection, as net.Dialer.DialContext does. It is bounded
// by ctx's deadline, and the connection's reads and writes by its own.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// The User-Agents the kubelet sends, of the Kubernetes version whose API
// podunit follows: applications tell probes and hooks from users by them
// (not to log them, say).
const (
	ProbeUserAgent     = "kube-probe/1.37"
	LifecycleUserAgent = "kube-lifecycle/1.37"
)

// Run carries out a handler, bounded by ctx. A handler fails when its command
// exits non-zero, its HTTP answer is outside 200-399 or does not come, its
// gRPC health service does not say SERVING, or ctx ends first.
func (r *Runner) Run(ctx context.Context, h *Handler) error {
	switch {
	case len(h.Exec) > 0:
		return r.runExec(ctx, h.Exec)
	case h.HTTPGet != nil:
		url := RequestURL(h.HTTPGet)
		ua := r.UserAgent
		if ua == "" {
			ua = LifecycleUserAgent
		}
		if err := GetURL(ctx, r.Dial, url, ua, append(append([]Header(nil), h.HTTPGet.Headers...), r.Headers...)); err != nil {
			return fmt.Errorf("httpGet %s: %w", url, err)
		}
		return nil
	case h.TCPSocket != nil:
		addr := net.JoinHostPort(hostOrLoopback(h.TCPSocket.Host), strconv.Itoa(h.TCPSocket.Port))
		if err := DialOnce(ctx, r.Dial, addr); err != nil {
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

// DialOnce succeeds when a TCP connection to addr opens (dial nil: Go's
// own dialer).
func DialOnce(ctx context.Context, dial DialFunc, addr string) error {
	if dial == nil {
		dial = probeDialer.DialContext
	}
	c, err := dial(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("no connection: %v", unwrapURLError(timedOut(ctx, err)))
	}
	return c.Close()
}

// timedOut says that an operation that ran out of ctx's time ended with
// ctx, in the same words whichever noticed first (ctx, or a deadline that
// a connection took from it).
func timedOut(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return context.DeadlineExceeded
	}
	return err
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

// GetURL does one request as the kubelet's prober does: a new connection,
// closed after; TLS certificates not verified; no proxy; redirects followed
// to the same host name only (one elsewhere is the answer; more than 10 is
// a failure). A final status of at least 200 and below 400 is success. A "Host"
// header sets the request's host; User-Agent is userAgent and Accept */*
// unless headers set them (an empty Accept sends none), as the kubelet's.
// It all happens on the caller's goroutine,
// with no transport and no connection pool: a prober spends on a probe
// little more than the system calls of one connection. dial opens the
// connections (nil: Go's own dialer).
func GetURL(ctx context.Context, dial DialFunc, rawURL, userAgent string, headers []Header) error {
	if dial == nil {
		dial = probeDialer.DialContext
	}
	first, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	u := first
	for redirects := 0; ; redirects++ {
		status, location, err := getOnce(ctx, dial, u, userAgent, headers)
		if err != nil {
			return fmt.Errorf("no answer: %v", unwrapURLError(err))
		}
		switch status {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			next, err := u.Parse(location)
			if err != nil || location == "" || next.Hostname() != first.Hostname() || (next.Scheme != "http" && next.Scheme != "https") {
				break // not followed: the redirect is the answer
			}
			if redirects == 10 {
				return errors.New("stopped after 10 redirects")
			}
			u = next
			continue
		}
		if status < 200 || status >= 400 {
			return fmt.Errorf("HTTP status %d", status)
		}
		return nil
	}
}

// getOnce sends one GET on a connection of its own and reads the answer's
// status line and headers.
func getOnce(ctx context.Context, dial DialFunc, u *url.URL, userAgent string, headers []Header) (status int, location string, err error) {
	req := &http.Request{Method: http.MethodGet, URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, Host: u.Host, Close: true}
	for _, h := range headers {
		if strings.EqualFold(h.Name, "Host") {
			req.Host = h.Value
			continue
		}
		req.Header.Add(h.Name, h.Value)
	}
	if _, ok := req.Header["User-Agent"]; !ok {
		req.Header.Set("User-Agent", userAgent)
	}
	if _, ok := req.Header["Accept"]; !ok {
		req.Header.Set("Accept", "*/*")
	} else if req.Header.Get("Accept") == "" {
		req.Header.Del("Accept")
	}
	addr := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		addr = net.JoinHostPort(u.Hostname(), port)
	}
	conn, err := dial(ctx, "tcp", addr)
	if err != nil {
		return 0, "", timedOut(ctx, err)
	}
	defer conn.Close()
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	fail := func(err error) (int, string, error) { return 0, "", timedOut(ctx, err) }
	var c net.Conn = conn
	if u.Scheme == "https" {
		tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, ServerName: u.Hostname()})
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail(err)
		}
		c = tc
	}
	bw := writers.Get().(*bufio.Writer)
	bw.Reset(c)
	err = req.Write(bw)
	if err == nil {
		err = bw.Flush()
	}
	bw.Reset(nil)
	writers.Put(bw)
	if err != nil {
		return fail(err)
	}
	br := readers.Get().(*bufio.Reader)
	br.Reset(c)
	defer func() { br.Reset(nil); readers.Put(br) }()
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return fail(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location"), nil
}

// The buffers of getOnce's requests and answers, used again: a prober makes
// one request a probe, for as long as the pod runs.
var (
	writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 1024) }}
	readers = sync.Pool{New: func() any { return bufio.NewReader(nil) }}
)

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
