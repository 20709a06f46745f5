package hooks

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podunit/podunit/prober/quietnet"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
)

func TestSignalPhase(t *testing.T) {
	for _, c := range []struct {
		grace, elapsed, want time.Duration
	}{
		{30 * time.Second, 0, 30 * time.Second},
		{30 * time.Second, 10 * time.Second, 20 * time.Second},
		{30 * time.Second, 29 * time.Second, 2 * time.Second}, // floor
		{5 * time.Second, 5 * time.Second, 2 * time.Second},   // preStop used it all
		{5 * time.Second, 9 * time.Second, 2 * time.Second},
		{1 * time.Second, 0, 2 * time.Second},
		{0, 0, 0}, // forced: kill at once
	} {
		if got := SignalPhase(c.grace, c.elapsed); got != c.want {
			t.Errorf("SignalPhase(%s, %s) = %s, want %s", c.grace, c.elapsed, got, c.want)
		}
	}
}

type fakeExec struct {
	container string
	argv, env []string
	code      int
	silent    bool
}

func (f *fakeExec) Exec(ctx context.Context, container string, argv, env []string) (int, []byte, error) {
	f.container, f.argv, f.env = container, argv, env
	if f.silent {
		return f.code, nil, nil
	}
	return f.code, []byte("said something"), nil
}

func TestRunnerExec(t *testing.T) {
	fe := &fakeExec{}
	r := &Runner{Exec: fe, Container: "p_c", Env: map[string]string{StopReasonEnv: ReasonHealth}}
	h := &Handler{Exec: []string{"sh", "-c", "echo $X; a, b"}}
	if err := r.Run(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	if fe.container != "p_c" || strings.Join(fe.argv, "|") != "sh|-c|echo $X; a, b" || strings.Join(fe.env, "|") != StopReasonEnv+"="+ReasonHealth {
		t.Errorf("exec got %q %q %q", fe.container, fe.argv, fe.env)
	}
	fe.code = 3
	if err := r.Run(context.Background(), h); err == nil || !strings.Contains(err.Error(), "exit status 3: said something") {
		t.Errorf("a failing command: %v", err)
	}
	fe.silent = true
	if err := r.Run(context.Background(), h); err == nil || !strings.HasSuffix(err.Error(), "exit status 3") {
		t.Errorf("a failing command that says nothing: %v", err)
	}
}

// httpGet handlers with Go's dialer and with the prober's (quietnet): the
// same answers, the same words for a handler that runs out of time.
func TestHTTPGet(t *testing.T) {
	p, err := quietnet.NewPoller()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for name, dial := range map[string]DialFunc{"go": nil, "quietnet": p.DialContext} {
		t.Run(name, func(t *testing.T) { testHTTPGet(t, dial) })
	}
}

func testHTTPGet(t *testing.T, dial DialFunc) {
	var mu sync.Mutex // the handler runs on the server's goroutines
	var gotReason, gotAccept string
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		gotReason, gotAccept = r.Header.Get(StopReasonHeader), r.Header.Get("Accept")
		mu.Unlock()
		switch r.URL.Path {
		case "/ok":
		case "/redirect":
			http.Redirect(w, r, "/ok", http.StatusFound)
		case "/away":
			http.Redirect(w, r, "http://192.0.2.1/", http.StatusFound) // another host: not followed
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusTemporaryRedirect)
		case "/to-missing":
			http.Redirect(w, r, "/missing", http.StatusMovedPermanently)
		case "/host":
			if r.Host != "example.test" || r.Header.Get("User-Agent") == "" || r.Header.Get("Connection") != "close" && !r.Close {
				w.WriteHeader(http.StatusTeapot)
			}
		case "/agent":
			_, hasAccept := r.Header["Accept"]
			if r.UserAgent() != r.URL.Query().Get("ua") || r.Header.Get("Accept") != r.URL.Query().Get("accept") || hasAccept != (r.URL.Query().Get("accept") != "") {
				w.WriteHeader(http.StatusTeapot)
			}
		case "/missing":
			http.NotFound(w, r)
		case "/error":
			w.WriteHeader(http.StatusInternalServerError)
		case "/slow":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	}))
	defer srv.Close()
	defer close(release)
	ctx := context.Background()
	for path, ok := range map[string]bool{"/ok": true, "/redirect": true, "/away": true, "/missing": false, "/error": false,
		"/loop": false, "/to-missing": false} {
		err := GetURL(ctx, dial, srv.URL+path, ProbeUserAgent, []Header{{StopReasonHeader, ReasonDelete}, {"Accept", "a, b"}})
		if (err == nil) != ok {
			t.Errorf("%s: err %v, want ok=%v", path, err, ok)
		}
	}
	mu.Lock()
	if gotReason != ReasonDelete || gotAccept != "a, b" {
		t.Errorf("headers: %q %q", gotReason, gotAccept)
	}
	mu.Unlock()
	// The kubelet's User-Agent and Accept unless the handler sets them; an
	// empty Accept sends none; a hook's agent differs from a probe's.
	if err := GetURL(ctx, dial, srv.URL+"/agent?ua=kube-probe/1.37&accept=*/*", ProbeUserAgent, nil); err != nil {
		t.Errorf("default User-Agent and Accept: %v", err)
	}
	if err := GetURL(ctx, dial, srv.URL+"/agent?ua=mine", ProbeUserAgent, []Header{{"User-Agent", "mine"}, {"Accept", ""}}); err != nil {
		t.Errorf("User-Agent and an empty Accept set: %v", err)
	}
	port, _ := strconv.Atoi(srv.URL[strings.LastIndex(srv.URL, ":")+1:])
	hook := &Handler{HTTPGet: &HTTPGet{Scheme: "HTTP", Host: "127.0.0.1", Port: port, Path: "/agent?ua=kube-lifecycle/1.37&accept=*/*"}}
	if err := (&Runner{Dial: dial}).Run(ctx, hook); err != nil {
		t.Errorf("a hook's User-Agent: %v", err)
	}
	if err := GetURL(ctx, dial, srv.URL+"/loop", ProbeUserAgent, nil); err == nil || !strings.Contains(err.Error(), "stopped after 10 redirects") {
		t.Errorf("a redirect loop: %v", err)
	}
	if err := GetURL(ctx, dial, srv.URL+"/host", ProbeUserAgent, []Header{{"Host", "example.test"}}); err != nil {
		t.Errorf("a Host header: %v", err)
	}
	// HTTPS: the certificate is not checked, as the kubelet does.
	tlsSrv := httptest.NewTLSServer(srv.Config.Handler)
	defer tlsSrv.Close()
	for path, ok := range map[string]bool{"/ok": true, "/redirect": true, "/missing": false} {
		if err := GetURL(ctx, dial, tlsSrv.URL+path, ProbeUserAgent, nil); (err == nil) != ok {
			t.Errorf("https %s: err %v, want ok=%v", path, err, ok)
		}
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	// The answer never comes (until the test ends): the deadline ends the wait.
	if err := GetURL(short, dial, srv.URL+"/slow", ProbeUserAgent, nil); err == nil || !strings.Contains(err.Error(), "no answer: context deadline exceeded") {
		t.Errorf("slow: %v", err)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	if err := GetURL(ctx, dial, "http://"+addr+"/", ProbeUserAgent, nil); err == nil {
		t.Error("a closed port answered")
	}
}

func TestRequestURL(t *testing.T) {
	if u := RequestURL(&HTTPGet{Scheme: "HTTP", Port: 80, Path: "/x"}); u != "http://127.0.0.1:80/x" {
		t.Errorf("default host: %s", u)
	}
	if u := RequestURL(&HTTPGet{Scheme: "HTTPS", Host: "::1", Port: 8443, Path: "/"}); u != "https://[::1]:8443/" {
		t.Errorf("ipv6 host: %s", u)
	}
}

func TestProbeResult(t *testing.T) {
	// Readiness starts failed; flips after successThreshold successes in a row.
	r := NewResult(&Probe{Kind: Readiness, SuccessThreshold: 2, FailureThreshold: 3})
	steps := []struct {
		ok, changed, verdict bool
	}{
		{true, false, false}, {false, false, false}, {true, false, false}, {true, true, true},
		{false, false, true}, {false, false, true}, {false, true, false},
	}
	for i, s := range steps {
		if changed := r.Observe(s.ok); changed != s.changed || r.OK() != s.verdict {
			t.Errorf("step %d: changed %v verdict %v, want %v %v", i, changed, r.OK(), s.changed, s.verdict)
		}
	}
	// Liveness starts succeeded.
	l := NewResult(&Probe{Kind: Liveness, SuccessThreshold: 1, FailureThreshold: 2})
	if !l.OK() || l.Observe(false) || !l.Observe(false) || l.OK() || l.Failures() != 2 {
		t.Errorf("liveness: %+v", l)
	}
}

// A real gRPC health server on loopback: SERVING passes, NOT_SERVING and an
// unknown service fail, a server without the health service fails clearly.
func TestGRPCCheck(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var ua, deadline []string
	srv := grpc.NewServer(grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		md, _ := metadata.FromIncomingContext(ctx)
		ua = md.Get("user-agent")
		if _, ok := ctx.Deadline(); ok {
			deadline = append(deadline, info.FullMethod)
		}
		return h(ctx, req)
	}))
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus("db", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	go srv.Serve(l)
	defer srv.Stop()
	port := l.Addr().(*net.TCPAddr).Port
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := GRPCCheck(ctx, &GRPC{Port: port}); err != nil {
		t.Errorf("serving: %v", err)
	}
	if len(ua) != 1 || !strings.HasPrefix(ua[0], ProbeUserAgent) || len(deadline) != 1 || deadline[0] != "/grpc.health.v1.Health/Check" {
		t.Errorf("the server saw user-agent %q and a deadline on %q", ua, deadline)
	}
	if err := GRPCCheck(ctx, &GRPC{Port: port, Service: "db"}); err == nil || !strings.Contains(err.Error(), `service "db": status NOT_SERVING`) {
		t.Errorf("not serving: %v", err)
	}
	if err := GRPCCheck(ctx, &GRPC{Port: port, Service: "nope"}); err == nil || !strings.Contains(err.Error(), "NotFound: unknown service") {
		t.Errorf("an unknown service: %v", err)
	}
	bare := grpc.NewServer()
	l2, _ := net.Listen("tcp", "127.0.0.1:0")
	go bare.Serve(l2)
	defer bare.Stop()
	if err := GRPCCheck(ctx, &GRPC{Port: l2.Addr().(*net.TCPAddr).Port}); err == nil || !strings.Contains(err.Error(), "does not implement") {
		t.Errorf("no health service: %v", err)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	l3, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l3.Addr().(*net.TCPAddr).Port
	l3.Close()
	if err := GRPCCheck(short, &GRPC{Port: closed}); err == nil || !strings.Contains(err.Error(), "no connection") {
		t.Errorf("a closed port: %v", err)
	}
	// A plain HTTP/1 server is no gRPC server.
	hl, _ := net.Listen("tcp", "127.0.0.1:0")
	go http.Serve(hl, http.NotFoundHandler())
	defer hl.Close()
	if err := GRPCCheck(short, &GRPC{Port: hl.Addr().(*net.TCPAddr).Port}); err == nil {
		t.Error("an HTTP/1 server passed")
	}
}

// The health answer's decoding: the status field among others, unknown
// fields of every wire type skipped, no status is UNKNOWN, garbage too.
func TestHealthStatus(t *testing.T) {
	for _, c := range []struct {
		msg  []byte
		want uint64
	}{
		{nil, healthUnknown},
		{[]byte{0x08, 0x01}, healthServing},
		{[]byte{0x08, 0x02}, healthNotServing},
		{[]byte{0x12, 0x02, 'h', 'i', 0x1d, 1, 2, 3, 4, 0x21, 1, 2, 3, 4, 5, 6, 7, 8, 0x08, 0x01}, healthServing},
		{[]byte{0x08}, healthUnknown},
		{[]byte{0x12, 0x09, 'x'}, healthUnknown},
	} {
		if got := healthStatus(c.msg); got != c.want {
			t.Errorf("healthStatus(% x) = %d, want %d", c.msg, got, c.want)
		}
	}
	if got := healthRequest("db"); !bytes.Equal(got, []byte{0x0a, 2, 'd', 'b'}) {
		t.Errorf("healthRequest(db) = % x", got)
	}
	for d, want := range map[time.Duration]string{time.Second: "1000000u", 2 * time.Minute: "120000m", -time.Second: "0n", 30 * 24 * time.Hour: "2592000S", 4 * 365 * 24 * time.Hour: "2102400M"} {
		if got := grpcTimeout(d); got != want {
			t.Errorf("grpcTimeout(%s) = %s, want %s", d, got, want)
		}
	}
}
