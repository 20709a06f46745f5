package podapi

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakeService is enough of podman's libpod API for the client: one running
// container "web" (a name that needs escaping is "a b"), its exec sessions
// answering with output on both streams.
type fakeService struct {
	mu       sync.Mutex
	requests []string
	execEnv  []string
}

func (f *fakeService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.EscapedPath()+"?"+r.URL.RawQuery)
	f.mu.Unlock()
	notFound := func() {
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(apiError{Cause: "no such container", Message: "no container with name or ID \"gone\" found: no such container", Response: 404})
	}
	switch p := strings.TrimPrefix(r.URL.Path, "/v4.0.0/libpod"); {
	case p == "/containers/gone/json" || p == "/containers/gone/stop":
		notFound()
	case p == "/containers/web/json" || p == "/containers/a b/json":
		// the PID is the test's own: one that exists here, not the fake's to signal
		fmt.Fprintf(w, `{"Id":"abc","Image":"img","State":{"Running":true,"Pid":%d},"OCIRuntime":"crun","OCIConfigPath":"/nowhere/config.json","Config":{"Labels":{"io.podunit.pod":"p"},"StopSignal":15}}`, os.Getpid())
	case p == "/containers/web/kill" && r.URL.Query().Get("signal") != "SIGKILL":
		// as podman answers for a container that ended meanwhile
		w.WriteHeader(http.StatusConflict)
		json.NewEncoder(w).Encode(apiError{Message: "can only kill running containers", Response: 409})
	case p == "/containers/web/stop" || p == "/containers/web/kill":
		w.WriteHeader(http.StatusNoContent)
	case p == "/containers/web/exec":
		var body struct {
			Cmd, Env                   []string
			AttachStdout, AttachStderr bool
		}
		json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		f.execEnv = body.Env
		f.mu.Unlock()
		if !body.AttachStdout || !body.AttachStderr || len(body.Cmd) == 0 {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"Id":"sess1"}`))
	case p == "/exec/sess1/start":
		w.Header().Set("Content-Type", "application/vnd.docker.raw-stream")
		w.WriteHeader(http.StatusOK)
		for _, fr := range []struct {
			stream byte
			data   string
		}{{1, "out "}, {2, "err"}} {
			var hdr [8]byte
			hdr[0] = fr.stream
			binary.BigEndian.PutUint32(hdr[4:], uint32(len(fr.data)))
			w.Write(hdr[:])
			w.Write([]byte(fr.data))
		}
	case p == "/exec/sess1/json":
		w.Write([]byte(`{"ExitCode":3,"Running":false}`))
	case p == "/exec/sess1/remove":
		w.WriteHeader(http.StatusOK)
	case r.Method == http.MethodDelete && p == "/containers/web" && r.URL.Query().Get("force") == "true":
		w.Write([]byte(`[{"Id":"abc"}]`))
	case r.Method == http.MethodDelete && p == "/containers/gone":
		notFound()
	case p == "/containers/json" && r.URL.Query().Get("all") == "true" && r.URL.Query().Get("filters") == `{"label":["io.podunit.pod=p"]}`:
		w.Write([]byte(`[{"Id":"abc","Names":["podunit_p_web"]},{"Id":"def","Names":["podunit_p"]}]`))
	case p == "/volumes/podunit.default.data/json":
		w.Write([]byte(`{"Name":"podunit.default.data","Mountpoint":"/home/u/.local/share/containers/storage/volumes/podunit.default.data/_data"}`))
	case p == "/volumes/gone/json":
		notFound()
	default:
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"message":"unexpected ` + r.URL.Path + `"}`))
	}
}

func (f *fakeService) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

func serve(t *testing.T) (*Client, *fakeService) {
	f := &fakeService{}
	return listen(t, f), f
}

// listen serves h on a unix socket for the test's duration, and is a
// client of it.
func listen(t *testing.T, h http.Handler) *Client {
	sock := filepath.Join(t.TempDir(), "podman.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return New(sock)
}

// What the helpers ask of podman besides a running container: remove one
// (a missing one is fine), list a pod's by label, find a volume's data.
func TestRemoveListAndVolumes(t *testing.T) {
	c, f := serve(t)
	ctx := context.Background()
	if err := c.RemoveContainer(ctx, "web"); err != nil {
		t.Errorf("RemoveContainer(web) = %v", err)
	}
	if err := c.RemoveContainer(ctx, "gone"); err != nil {
		t.Errorf("RemoveContainer(gone) = %v, want nil", err)
	}
	if err := c.RemoveContainer(ctx, "other"); err == nil {
		t.Error("RemoveContainer: the service's error was lost")
	}
	names, err := c.Containers(ctx, "io.podunit.pod", "p")
	if err != nil || strings.Join(names, ",") != "podunit_p_web,podunit_p" {
		t.Errorf("Containers = %q, %v", names, err)
	}
	mp, err := c.VolumeMountpoint(ctx, "podunit.default.data")
	if err != nil || !strings.HasSuffix(mp, "/podunit.default.data/_data") {
		t.Errorf("VolumeMountpoint = %q, %v", mp, err)
	}
	if _, err := c.VolumeMountpoint(ctx, "gone"); !errors.Is(err, ErrNotFound) {
		t.Errorf("VolumeMountpoint(gone) = %v, want ErrNotFound", err)
	}
	if seen := strings.Join(f.seen(), "\n"); !strings.Contains(seen, "DELETE /v4.0.0/libpod/containers/web?force=true&ignore=true&timeout=0") {
		t.Errorf("requests:\n%s", seen)
	}
}

func TestInspectAndPID(t *testing.T) {
	c, f := serve(t)
	ctx := context.Background()
	if pid, err := c.ContainerPID(ctx, "web"); err != nil || pid != os.Getpid() {
		t.Errorf("ContainerPID = %d, %v", pid, err)
	}
	if d, err := c.Inspect(ctx, "a b"); err != nil || d.ID != "abc" || d.OCIRuntime != "crun" {
		t.Errorf("Inspect(a b) = %+v, %v", d, err)
	}
	_, err := c.Inspect(ctx, "gone")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `no container with name or ID "gone"`) {
		t.Errorf("a missing container: %v", err)
	}
	if l, ok, err := c.ContainerLabels(ctx, "web"); err != nil || !ok || l["io.podunit.pod"] != "p" {
		t.Errorf("ContainerLabels(web) = %v %v %v", l, ok, err)
	}
	if l, ok, err := c.ContainerLabels(ctx, "gone"); err != nil || ok || l != nil {
		t.Errorf("ContainerLabels(gone) = %v %v %v", l, ok, err)
	}
	if id, img, err := c.ContainerIDs(ctx, "web"); err != nil || id != "abc" || img != "img" {
		t.Errorf("ContainerIDs = %s %s %v", id, img, err)
	}
	if s := f.seen(); s[1] != "GET /v4.0.0/libpod/containers/a%20b/json?" {
		t.Errorf("requests %q", s)
	}
}

// A container podman refuses to signal (it ended between the inspection and
// the signal) goes through podman's stop. Its timeout goes in whole seconds, rounded up;
// SIGKILL goes from the client at the exact deadline in between; a missing
// container is fine.
func TestStopContainer(t *testing.T) {
	c, f := serve(t)
	ctx := context.Background()
	if err := c.StopContainer(ctx, "web", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := c.StopContainer(ctx, "gone", time.Second); err != nil {
		t.Errorf("a missing container: %v", err)
	}
	if err := c.StopContainer(ctx, "web", 1500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	want := []string{
		"GET /v4.0.0/libpod/containers/web/json?",
		"POST /v4.0.0/libpod/containers/web/kill?signal=15",
		"POST /v4.0.0/libpod/containers/web/stop?ignore=true&timeout=5",
		"GET /v4.0.0/libpod/containers/gone/json?",
		"GET /v4.0.0/libpod/containers/web/json?",
		"POST /v4.0.0/libpod/containers/web/kill?signal=15",
		"POST /v4.0.0/libpod/containers/web/stop?ignore=true&timeout=2",
	}
	if got := f.seen(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestStopKillsAtTheDeadline(t *testing.T) {
	killed := make(chan time.Time, 1)
	c := listen(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/json"):
			w.Write([]byte(`{"State":{"Running":false}}`))
			return
		case strings.HasSuffix(r.URL.Path, "/kill") && r.URL.Query().Get("signal") == "SIGKILL":
			killed <- time.Now()
		case strings.HasSuffix(r.URL.Path, "/stop"):
			select { // the container ends when it is killed
			case at := <-killed:
				killed <- at
			case <-time.After(5 * time.Second):
			}
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	start := time.Now()
	if err := c.StopContainer(context.Background(), "web", 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	select {
	case at := <-killed:
		if d := at.Sub(start); d < 300*time.Millisecond {
			t.Errorf("SIGKILL after %s, before the deadline", d)
		}
	default:
		t.Error("no SIGKILL at the deadline")
	}
}

// ownProcess is a container with a PID namespace of its own for
// StopContainer: its process is a real child of the test, which the fake
// service signals as podman would; a container that is not running is
// refused a signal (409), as podman does.
type ownProcess struct {
	cmd        *exec.Cmd
	stopSignal string // JSON: 15 (podman 4) or "SIGTERM" (podman 5)
	running    bool
	ended      chan struct{}
	mu         sync.Mutex
	requests   []string
	killedAt   time.Time
}

func startOwn(t *testing.T, script, stopSignal string) *ownProcess {
	cmd := exec.Command("sh", "-c", script)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done })
	time.Sleep(50 * time.Millisecond) // the shell's traps are set
	return &ownProcess{cmd: cmd, stopSignal: stopSignal, running: true, ended: done}
}

func (o *ownProcess) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.requests = append(o.requests, r.Method+" "+strings.TrimPrefix(r.URL.Path, "/v4.0.0/libpod")+"?"+r.URL.RawQuery)
	switch {
	case strings.HasSuffix(r.URL.Path, "/json"):
		fmt.Fprintf(w, `{"State":{"Running":%t,"Pid":%d},"Config":{"StopSignal":%s}}`,
			o.running, o.cmd.Process.Pid, o.stopSignal)
	case strings.HasSuffix(r.URL.Path, "/kill"):
		if !o.running {
			w.WriteHeader(http.StatusConflict)
			json.NewEncoder(w).Encode(apiError{Message: "can only kill running containers", Response: 409})
			return
		}
		sig := map[string]syscall.Signal{"15": syscall.SIGTERM, "SIGTERM": syscall.SIGTERM, "SIGQUIT": syscall.SIGQUIT, "SIGKILL": syscall.SIGKILL}[r.URL.Query().Get("signal")]
		if sig == 0 {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if sig == syscall.SIGKILL {
			o.killedAt = time.Now()
		}
		o.cmd.Process.Signal(sig)
		w.WriteHeader(http.StatusNoContent)
	case strings.HasSuffix(r.URL.Path, "/stop"):
		o.cmd.Process.Kill()
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusInternalServerError)
	}
}

func (o *ownProcess) seen() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return strings.Join(o.requests, "\n")
}

// A container with a PID namespace of its own gets its stop signal through
// the API, in podman 4's and 5's spelling, and the stop returns when its
// process has ended, long before the grace period is out; no podman stop.
func TestStopWatchesTheProcess(t *testing.T) {
	for _, sig := range []struct{ inspect, sent string }{{"15", "15"}, {`"SIGQUIT"`, "SIGQUIT"}} {
		o := startOwn(t, "trap 'exit 0' TERM QUIT; sleep 30 & wait", sig.inspect)
		start := time.Now()
		if err := listen(t, o).StopContainer(context.Background(), "web", 20*time.Second); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("stop signal %s: returned after %s", sig.sent, d)
		}
		select {
		case <-o.ended:
		case <-time.After(time.Second):
			t.Errorf("stop signal %s: the process still runs", sig.sent)
		}
		want := "GET /containers/web/json?\nPOST /containers/web/kill?signal=" + sig.sent
		if got := o.seen(); got != want {
			t.Errorf("requests:\n%s\nwant:\n%s", got, want)
		}
	}
}

// A process that ignores its stop signal is killed at the deadline, not
// before it, and the stop returns once it has ended.
func TestStopWatchedKillsAtTheDeadline(t *testing.T) {
	o := startOwn(t, "trap '' TERM; sleep 30 & wait; sleep 30", "15")
	start := time.Now()
	if err := listen(t, o).StopContainer(context.Background(), "web", 400*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	o.mu.Lock()
	killed := o.killedAt
	o.mu.Unlock()
	if killed.IsZero() || killed.Sub(start) < 400*time.Millisecond {
		t.Errorf("SIGKILL at %v after the start, want at 400ms", killed.Sub(start))
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("returned after %s", d)
	}
	want := "GET /containers/web/json?\nPOST /containers/web/kill?signal=15\nPOST /containers/web/kill?signal=SIGKILL"
	if got := o.seen(); got != want {
		t.Errorf("requests:\n%s\nwant:\n%s", got, want)
	}
}

// Without a grace period there is no stop signal: SIGKILL at once, as
// podman's stop does with a timeout of 0.
func TestStopWatchedNoGrace(t *testing.T) {
	o := startOwn(t, "trap 'echo term' TERM; sleep 30 & wait", "15")
	if err := listen(t, o).StopContainer(context.Background(), "web", 0); err != nil {
		t.Fatal(err)
	}
	select {
	case <-o.ended:
	case <-time.After(time.Second):
		t.Error("the process still runs")
	}
	want := "GET /containers/web/json?\nPOST /containers/web/kill?signal=SIGKILL"
	if got := o.seen(); got != want {
		t.Errorf("requests:\n%s\nwant:\n%s", got, want)
	}
}

// A container podman no longer calls running (it ended between the
// inspection and the signal) goes to podman's stop, which knows it stopped.
func TestStopWatchedRefused(t *testing.T) {
	o := startOwn(t, "sleep 30", "15")
	c := listen(t, o)
	o.mu.Lock()
	o.running = false
	o.mu.Unlock()
	if err := c.StopContainer(context.Background(), "web", time.Second); err != nil {
		t.Fatal(err)
	}
	if got := o.seen(); !strings.HasSuffix(got, "POST /containers/web/stop?ignore=true&timeout=1") {
		t.Errorf("requests:\n%s", got)
	}
}

// Through the exec API: the command and environment go in the session, both
// output streams come back together, the exit code from the session.
func TestAPIExec(t *testing.T) {
	c, f := serve(t)
	code, out, err := c.apiExec(context.Background(), "web", []string{"sh", "-c", "exit 3"}, []string{"A=1"})
	if err != nil || code != 3 || string(out) != "out err" {
		t.Errorf("apiExec = %d %q %v", code, out, err)
	}
	if f.execEnv[0] != "A=1" {
		t.Errorf("env %q", f.execEnv)
	}
	if s := f.seen(); len(s) != 4 || !strings.HasPrefix(s[3], "POST /v4.0.0/libpod/exec/sess1/remove") {
		t.Errorf("requests %q", s)
	}
}

func TestDemux(t *testing.T) {
	var in []byte
	frame := func(stream byte, s string) {
		var hdr [8]byte
		hdr[0] = stream
		binary.BigEndian.PutUint32(hdr[4:], uint32(len(s)))
		in = append(append(in, hdr[:]...), s...)
	}
	frame(1, "a")
	frame(2, "b")
	var out strings.Builder
	if err := demux(strings.NewReader(string(in)), &out); err != nil || out.String() != "ab" {
		t.Errorf("demux = %q, %v", out.String(), err)
	}
	frame(3, "exec failed")
	out.Reset()
	if err := demux(strings.NewReader(string(in)), &out); err == nil || !strings.Contains(err.Error(), "exec failed") {
		t.Errorf("an error frame: %v", err)
	}
}

// Create and start are one request each; the body is the spec as given, and
// the service's refusal comes back with its message.
func TestCreateAndStart(t *testing.T) {
	var bodies []string
	var paths []string
	c := listen(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		paths = append(paths, r.Method+" "+r.URL.Path)
		bodies = append(bodies, string(data))
		switch r.URL.Path {
		case "/v4.0.0/libpod/_ping":
			w.Write([]byte("OK"))
		case "/v4.0.0/libpod/containers/create":
			if strings.Contains(string(data), "missing") {
				w.WriteHeader(http.StatusInternalServerError)
				w.Write([]byte(`{"cause":"image not known","message":"missing: image not known","response":500}`))
				return
			}
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte(`{"Id":"abc","Warnings":[]}`))
		case "/v4.0.0/libpod/containers/p_web/start":
			w.WriteHeader(http.StatusNoContent)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	ctx := context.Background()
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateContainer(ctx, map[string]string{"name": "p_web", "image": "img"}); err != nil {
		t.Fatal(err)
	}
	if err := c.StartContainer(ctx, "p_web"); err != nil {
		t.Fatal(err)
	}
	err := c.CreateContainer(ctx, map[string]string{"name": "x", "image": "missing"})
	var ae *AnswerError
	if !errors.As(err, &ae) || ae.Status != 500 || ae.Message != "missing: image not known" || err.Error() != "podman: missing: image not known" {
		t.Errorf("refused create: %v", err)
	}
	if err := c.StartContainer(ctx, "gone"); !errors.Is(err, ErrNotFound) || errors.As(err, &ae) {
		t.Errorf("start of a missing container: %v", err)
	}
	if bodies[1] != `{"image":"img","name":"p_web"}` || paths[1] != "POST /v4.0.0/libpod/containers/create" || paths[2] != "POST /v4.0.0/libpod/containers/p_web/start" {
		t.Errorf("requests %q %q", paths, bodies)
	}
}

// A client preferring podunit's own service talks to it while it listens,
// and to the fallback (the user's podman.socket) for each connection where
// nothing does: no socket file, or a stale one left by a service that died.
func TestNewPreferring(t *testing.T) {
	named := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, name) })
	}
	answer := func(c *Client) string {
		t.Helper()
		resp, err := c.do(context.Background(), http.MethodGet, "/_ping", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	own, fallback := listen(t, named("own")).Socket(), listen(t, named("default")).Socket()
	if got := answer(NewPreferring(own, fallback)); got != "own" {
		t.Errorf("both listening: %q answered", got)
	}
	if !Answers(own) {
		t.Error("Answers: false for a listening service")
	}
	missing := filepath.Join(t.TempDir(), "podman.sock")
	if got := answer(NewPreferring(missing, fallback)); got != "default" {
		t.Errorf("no socket file: %q answered", got)
	}
	stale := filepath.Join(t.TempDir(), "podman.sock")
	l, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	if _, err := os.Stat(stale); err != nil {
		t.Fatal(err)
	}
	if Answers(stale) || Answers(missing) {
		t.Error("Answers: true where nothing listens")
	}
	if got := answer(NewPreferring(stale, fallback)); got != "default" {
		t.Errorf("stale socket file: %q answered", got)
	}
	if err := New(stale).Ping(context.Background()); err == nil {
		t.Error("no fallback: a stale socket answered")
	}
}
