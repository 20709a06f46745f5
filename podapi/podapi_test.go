package podapi

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
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
		w.Write([]byte(`{"Id":"abc","Image":"img","State":{"Running":true,"Pid":42},"OCIRuntime":"crun","OCIConfigPath":"/nowhere/config.json","Config":{"Labels":{"io.podunit.pod":"p"}}}`))
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
	sock := filepath.Join(t.TempDir(), "podman.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeService{}
	srv := &http.Server{Handler: f}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return New(sock), f
}

func TestInspectAndPID(t *testing.T) {
	c, f := serve(t)
	ctx := context.Background()
	if pid, err := c.ContainerPID(ctx, "web"); err != nil || pid != 42 {
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

// The stop's timeout goes in whole seconds, rounded up; SIGKILL goes from
// the client at the exact deadline in between; a missing container is fine.
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
		"POST /v4.0.0/libpod/containers/web/stop?ignore=true&timeout=5",
		"POST /v4.0.0/libpod/containers/gone/stop?ignore=true&timeout=1",
		"POST /v4.0.0/libpod/containers/web/stop?ignore=true&timeout=2",
	}
	if got := f.seen(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestStopKillsAtTheDeadline(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "podman.sock")
	l, _ := net.Listen("unix", sock)
	killed := make(chan time.Time, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
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
	})}
	go srv.Serve(l)
	defer srv.Close()
	start := time.Now()
	if err := New(sock).StopContainer(context.Background(), "web", 300*time.Millisecond); err != nil {
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
