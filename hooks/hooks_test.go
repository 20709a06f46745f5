package hooks

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
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

func TestResolve(t *testing.T) {
	c := &corev1.Container{Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "admin", ContainerPort: 9000}}}
	fp := field.NewPath("spec", "containers").Index(0).Child("lifecycle", "preStop")
	h, errs := Resolve(&corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromString("admin"), Path: "quit"}}, c, fp)
	if len(errs) != 0 || h.HTTPGet.Port != 9000 || h.HTTPGet.Path != "/quit" || h.HTTPGet.Scheme != "HTTP" {
		t.Errorf("named port: %+v %v", h, errs)
	}
	_, errs = Resolve(&corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromString("nope")}}, c, fp)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "spec.containers[0].lifecycle.preStop.httpGet.port") ||
		!strings.Contains(errs[0].Error(), "admin, http") {
		t.Errorf("unknown port name: %v", errs)
	}
	_, errs = Resolve(&corev1.LifecycleHandler{}, c, fp)
	if len(errs) != 1 || errs[0].Type != field.ErrorTypeRequired {
		t.Errorf("empty handler: %v", errs)
	}
	_, errs = Resolve(&corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"x"}}, Sleep: &corev1.SleepAction{Seconds: 1}}, c, fp)
	if len(errs) != 1 || errs[0].Type != field.ErrorTypeForbidden {
		t.Errorf("two handlers: %v", errs)
	}
}

func TestEncodeDecode(t *testing.T) {
	secs := int64(4)
	for _, h := range []Handler{
		{Exec: []string{"sh", "-c", "echo $HOME > /x && <y>"}},
		{HTTPGet: &HTTPGet{Scheme: "HTTPS", Port: 443, Path: "/a?b=c", Headers: []Header{{"X-A", "1"}}}},
		{Sleep: &secs},
	} {
		enc := h.Encode()
		if strings.Contains(enc, `\u003c`) {
			t.Errorf("HTML-escaped: %s", enc)
		}
		got, err := Decode(enc)
		if err != nil || got.String() != h.String() || got.Encode() != enc {
			t.Errorf("round trip of %s: %v %v", enc, got, err)
		}
	}
	if _, err := Decode(`{}`); err == nil {
		t.Error("an empty handler decoded")
	}
}

func TestHTTPGetOnce(t *testing.T) {
	var gotReason string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotReason = r.Header.Get(StopReasonHeader)
		switch r.URL.Path {
		case "/ok":
		case "/redirect":
			http.Redirect(w, r, "/ok", http.StatusFound)
		case "/away":
			http.Redirect(w, r, "http://192.0.2.1/", http.StatusFound) // another host: not followed
		case "/missing":
			http.NotFound(w, r)
		case "/error":
			w.WriteHeader(http.StatusInternalServerError)
		case "/slow":
			time.Sleep(2 * time.Second)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	for path, ok := range map[string]bool{"/ok": true, "/redirect": true, "/away": true, "/missing": false, "/error": false} {
		err := HTTPGetOnce(ctx, srv.URL+path, []Header{{StopReasonHeader, ReasonDelete}})
		if (err == nil) != ok {
			t.Errorf("%s: err %v, want ok=%v", path, err, ok)
		}
	}
	if gotReason != ReasonDelete {
		t.Errorf("stop reason header: %q", gotReason)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := HTTPGetOnce(short, srv.URL+"/slow", nil); err == nil || !strings.Contains(err.Error(), "no answer") {
		t.Errorf("slow: %v", err)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	if err := HTTPGetOnce(ctx, "http://"+addr+"/", nil); err == nil {
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

func TestResolveProbeDefaults(t *testing.T) {
	c := &corev1.Container{}
	p, errs := ResolveProbe(&corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(80)}}},
		Liveness, c, field.NewPath("livenessProbe"))
	if len(errs) != 0 || p.Timeout != time.Second || p.Period != 10*time.Second || p.SuccessThreshold != 1 ||
		p.FailureThreshold != 3 || p.InitialDelay != 0 || p.Handler.TCPSocket.Port != 80 || p.Grace != nil {
		t.Errorf("defaults: %+v %v", p, errs)
	}
	ps, err := DecodeProbes(EncodeProbes([]*Probe{p}))
	if err != nil || len(ps) != 1 || ps[0].Handler.TCPSocket.Port != 80 || ps[0].Period != p.Period {
		t.Errorf("round trip: %+v %v", ps, err)
	}
}
