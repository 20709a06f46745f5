package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podunit/podunit/netshape"
	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/units"
	"github.com/podunit/podunit/units/sdbus"
)

// fakeUnits records what would happen to systemd.
type fakeUnits struct {
	mu      sync.Mutex
	loaded  map[string]sdbus.UnitState
	log     []string
	failing map[string]bool // units whose start job fails
	onStart func(units.Unit)
	onStop  func([]string) // called unlocked, after the units stopped
	starts  int            // calls of Start
}

var _ UnitManager = (*fakeUnits)(nil)

func newFakeUnits() *fakeUnits {
	return &fakeUnits{loaded: map[string]sdbus.UnitState{}, failing: map[string]bool{}}
}

func (f *fakeUnits) Start(_ context.Context, us []units.Unit) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts++
	var errs []error
	for _, u := range us {
		f.log = append(f.log, "start "+u.Name)
		st := sdbus.UnitState{Name: u.Name, LoadState: "loaded", ActiveState: "active", SubState: "running"}
		if f.failing[u.Name] {
			st.ActiveState, st.Result = "failed", "exit-code"
			errs = append(errs, &sdbus.JobError{Unit: u.Name, Op: "start", Result: "failed"})
		}
		f.loaded[u.Name] = st
		if f.onStart != nil && !f.failing[u.Name] {
			f.onStart(u)
		}
	}
	return errors.Join(errs...)
}

// StartKept starts the units as Start does (the fake forgets stopped units).
func (f *fakeUnits) StartKept(ctx context.Context, us []units.Unit) error { return f.Start(ctx, us) }

func (f *fakeUnits) Stop(_ context.Context, names []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	f.log = append(f.log, "stop "+strings.Join(sorted, ","))
	for _, n := range names {
		delete(f.loaded, n)
	}
	if f.onStop != nil {
		f.mu.Unlock()
		f.onStop(names)
		f.mu.Lock()
	}
	return nil
}

// Loaded is List: the fake's states carry no properties beyond what systemd
// lists units with unless a test sets them.
func (f *fakeUnits) Loaded(ctx context.Context, patterns ...string) ([]sdbus.UnitState, error) {
	return f.List(ctx, patterns...)
}

func (f *fakeUnits) List(_ context.Context, patterns ...string) ([]sdbus.UnitState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []sdbus.UnitState
	for n, st := range f.loaded {
		for _, p := range patterns {
			if ok, _ := filepath.Match(p, n); ok {
				out = append(out, st)
				break
			}
		}
	}
	return out, nil
}

type fakeEngine struct {
	mu         sync.Mutex
	images     map[string]bool
	pulls      []string
	volumes    map[string]map[string]string
	containers map[string]map[string]string // name: labels
	removed    []string                     // containers and volumes removed
	authFiles  []string                     // "path mode content" of each auth file a pull got
	network    bool                         // the pod network exists
	nextPorts  string                       // node ports the next services container publishes
}

var _ Engine = (*fakeEngine)(nil)

func (e *fakeEngine) EnsureNetwork(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.network = true
	return nil
}

func (e *fakeEngine) RemoveNetwork(context.Context) (bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	had := e.network
	e.network = false
	return had, nil
}

func (e *fakeEngine) ImageExists(_ context.Context, ref string) (bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.images[ref], nil
}
func (e *fakeEngine) ImageSize(context.Context, string) (int64, error) { return 1234567, nil }

func (e *fakeEngine) ImageUser(_ context.Context, ref string) (string, error) {
	return map[string]string{"local/app:1": "", "local/nonroot:1": "1000:1000", "local/named:1": "app"}[ref], nil
}
func (e *fakeEngine) ImageNames(_ context.Context, ref string) ([]string, error) {
	return map[string][]string{"built": {"localhost/built:latest"}, "pulled": {"docker.io/library/pulled:latest", "localhost/pulled:latest"}}[ref], nil
}
func (e *fakeEngine) PullImage(_ context.Context, ref, authFile string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pulls = append(e.pulls, ref)
	if authFile != "" {
		data, err := os.ReadFile(authFile)
		st, serr := os.Stat(authFile)
		if err != nil || serr != nil {
			return fmt.Errorf("auth file: %v %v", err, serr)
		}
		e.authFiles = append(e.authFiles, fmt.Sprintf("%s %04o %s", authFile, st.Mode().Perm(), data))
	}
	// a short name is pulled from Docker Hub, and found by it afterwards
	short := strings.TrimPrefix(ref, "docker.io/")
	if strings.HasPrefix(short, "private/") {
		if authFile == "" {
			return errors.New("reading manifest: unauthorized: authentication required")
		}
		e.images[ref], e.images[short] = true, true
		return nil
	}
	if strings.HasPrefix(short, "remote/") {
		e.images[ref], e.images[short] = true, true
		return nil
	}
	return errors.New("registry unreachable")
}
func (e *fakeEngine) EnsureInfraImage(context.Context, string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return nil
}
func (e *fakeEngine) CreateVolume(_ context.Context, name string, labels, _ map[string]string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.volumes[name] = labels
	return nil
}
func (e *fakeEngine) VolumeLabels(_ context.Context, name string) (map[string]string, bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	l, ok := e.volumes[name]
	return l, ok, nil
}

func (e *fakeEngine) RemoveVolume(_ context.Context, name string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.volumes[name]; ok {
		e.removed = append(e.removed, "volume "+name)
	}
	delete(e.volumes, name)
	return nil
}
func (e *fakeEngine) RemoveUnusedVolume(ctx context.Context, name string) error {
	return e.RemoveVolume(ctx, name)
}
func (e *fakeEngine) Volumes(_ context.Context, k, v string) ([]string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for n, l := range e.volumes {
		if l[k] == v {
			out = append(out, n)
		}
	}
	return out, nil
}
func (e *fakeEngine) Containers(_ context.Context, k, v string) ([]string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for n, l := range e.containers {
		if l[k] == v {
			out = append(out, n)
		}
	}
	return out, nil
}
func (e *fakeEngine) ContainerLabels(_ context.Context, name string) (map[string]string, bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	l, ok := e.containers[name]
	return l, ok, nil
}
func (e *fakeEngine) RemoveContainer(_ context.Context, name string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if l, ok := e.containers[name]; ok && l[units.LabelRole] == "infra" {
		// podman refuses while a container that joined it exists
		for n, ol := range e.containers {
			if n != name && ol[units.LabelPod] == l[units.LabelPod] {
				return fmt.Errorf("container %s has dependent containers which must be removed before it: %s", name, n)
			}
		}
	}
	if _, ok := e.containers[name]; ok {
		e.removed = append(e.removed, "container "+name)
	}
	delete(e.containers, name)
	return nil
}

func setup(t *testing.T, manifest string) (*Runner, *fakeUnits, *fakeEngine, *corev1.Pod, *units.Plan) {
	t.Helper()
	m, err := pod.Load([]byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	p := m.Pods[0]
	plan, err := units.Translate(p, m.Resolved[p.Name], units.Options{Podman: "/usr/bin/podman", Self: "/usr/bin/podunit", InfraImage: "infra:1"})
	if err != nil {
		t.Fatal(err)
	}
	fu := newFakeUnits()
	fe := &fakeEngine{images: map[string]bool{"local/app:1": true, "localhost/built:latest": true, "built": true, "pulled": true}, volumes: map[string]map[string]string{}, containers: map[string]map[string]string{}}
	return &Runner{Units: fu, Engine: fe, StateDir: t.TempDir()}, fu, fe, p, plan
}

const twoContainers = `
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - {name: a, image: local/app:1, volumeMounts: [{name: v, mountPath: /v}]}
  - {name: b, image: local/app:1}
  volumes: [{name: v, emptyDir: {}}]
`

// Up hands systemd the pod's units in one go (its ordering does the
// stages), in the order they name each other: slice, infra, containers.
func TestUpStartsInOrderAndDownReverses(t *testing.T) {
	r, fu, fe, p, plan := setup(t, twoContainers)
	if err := r.Up(context.Background(), p, plan, UpOptions{}); err != nil {
		t.Fatal(err)
	}
	want := []string{"start podunit-web.slice", "start podunit-web.service", "start podunit-web-a.service", "start podunit-web-b.service"}
	if strings.Join(fu.log, "\n") != strings.Join(want, "\n") {
		t.Errorf("start order:\n%s", strings.Join(fu.log, "\n"))
	}
	if fu.starts != 1 {
		t.Errorf("the units started in %d calls, want 1", fu.starts)
	}
	if _, ok := fe.volumes["podunit_web_v"]; !ok {
		t.Error("emptyDir volume not created")
	}
	if _, err := os.Stat(filepath.Join(r.StateDir, "pods", "web", recordFile)); err != nil {
		t.Errorf("no record: %v", err)
	}
	if err := r.Up(context.Background(), p, plan, UpOptions{}); !errors.Is(err, ErrExists) {
		t.Errorf("second Up: %v, want ErrExists", err)
	}
	fu.log = nil
	g := 5 * time.Second
	if err := r.Down(context.Background(), "web", DownOptions{Grace: &g}); err != nil {
		t.Fatal(err)
	}
	want = []string{
		"stop podunit-web-a.service,podunit-web-b.service", "stop podunit-web.service", "stop podunit-web.slice",
	}
	if strings.Join(fu.log, "\n") != strings.Join(want, "\n") {
		t.Errorf("down:\n%s\nwant:\n%s", strings.Join(fu.log, "\n"), strings.Join(want, "\n"))
	}
	if len(fe.volumes) != 0 || len(fu.loaded) != 0 {
		t.Errorf("left behind: volumes %v units %v", fe.volumes, fu.loaded)
	}
	if _, err := os.Stat(filepath.Join(r.StateDir, "pods", "web")); !os.IsNotExist(err) {
		t.Errorf("record left behind: %v", err)
	}
	if err := r.Down(context.Background(), "web", DownOptions{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Down of a gone pod: %v, want ErrNotFound", err)
	}
}

func TestFailedStartRollsBack(t *testing.T) {
	r, fu, fe, p, plan := setup(t, twoContainers)
	fu.failing["podunit-web-b.service"] = true
	err := r.Up(context.Background(), p, plan, UpOptions{})
	if err == nil || !strings.Contains(err.Error(), "podunit-web-b.service") {
		t.Fatalf("Up: %v, want a failure naming the unit", err)
	}
	if len(fu.loaded) != 0 || len(fe.volumes) != 0 {
		t.Errorf("half a pod left: units %v volumes %v", fu.loaded, fe.volumes)
	}
}

// An image several containers name is pulled once; one that cannot be had
// is reported once, naming every container's field that names it.
func TestImagesOfSeveralContainersOnce(t *testing.T) {
	r, _, fe, _, plan := setup(t, twoContainers)
	plan.Images = []units.Image{
		{Ref: "remote/app:2", PullPolicy: "Always", FieldPath: "spec.containers[0].image"},
		{Ref: "remote/app:2", PullPolicy: "Always", FieldPath: "spec.containers[1].image"},
		{Ref: "remote/app:1", PullPolicy: "IfNotPresent", FieldPath: "spec.containers[2].image"},
		{Ref: "remote/app:1", PullPolicy: "IfNotPresent", FieldPath: "spec.containers[3].image"},
		{Ref: "remote/app:1", PullPolicy: "Always", FieldPath: "spec.containers[4].image"},
		{Ref: "local/missing:1", PullPolicy: "IfNotPresent", FieldPath: "spec.containers[5].image"},
		{Ref: "local/missing:1", PullPolicy: "IfNotPresent", FieldPath: "spec.containers[6].image"},
	}
	err := r.prepare(context.Background(), plan)
	want := []string{"docker.io/remote/app:2", "docker.io/remote/app:1", "docker.io/local/missing:1"}
	if strings.Join(fe.pulls, " ") != strings.Join(want, " ") {
		t.Errorf("pulls %v, want %v", fe.pulls, want)
	}
	if err == nil || !strings.HasPrefix(err.Error(), "spec.containers[5].image: ") || !strings.HasSuffix(err.Error(), " (the image of spec.containers[6].image too)") {
		t.Errorf("the missing image reported as %v", err)
	}
}

func TestImagePullPolicies(t *testing.T) {
	for _, c := range []struct {
		image, policy string
		wantErr       bool
		wantPull      bool
	}{
		{"local/app:1", "IfNotPresent", false, false},
		{"local/app:1", "Never", false, false},
		{"local/missing:1", "Never", true, false},
		{"remote/app:1", "IfNotPresent", false, true},
		{"local/missing:1", "IfNotPresent", true, true},
		{"local/app:1", "Always", true, true}, // the pull is attempted and fails
		{"remote/app:2", "Always", false, true},
		{"localhost/built:latest", "Always", false, false}, // local builds have no registry
		{"localhost/missing:latest", "Always", true, true},
		{"built", "Always", false, false}, // a short name podman finds built on this host
		{"pulled", "Always", true, true},  // also from a registry: the pull is attempted (and fails here)
		{"missing", "Always", true, true}, // one that is not here
	} {
		r, fu, fe, _, _ := setup(t, twoContainers)
		_, err := r.ensureImage(context.Background(), units.Image{Ref: c.image, PullPolicy: c.policy, FieldPath: "spec.containers[0].image"}, nil, "")
		if (err != nil) != c.wantErr || (len(fe.pulls) > 0) != c.wantPull {
			t.Errorf("%s %s: err %v pulls %v", c.image, c.policy, err, fe.pulls)
		}
		if err != nil && (!errors.Is(err, ErrImage) || !strings.HasPrefix(err.Error(), "spec.containers[0].image: ")) {
			t.Errorf("%s %s: error %q lacks the field path or ErrImage", c.image, c.policy, err)
		}
		if len(fu.log) != 0 {
			t.Errorf("units touched while checking images: %v", fu.log)
		}
	}
	// A short name means Docker Hub, as in Kubernetes, whatever the host's
	// registries.conf searches; a full one is pulled as it is.
	for ref, want := range map[string]string{
		"remote/app:1": "docker.io/remote/app:1", "missing": "docker.io/library/missing:latest",
		"nginx:1.25": "docker.io/library/nginx:1.25", "quay.io/remote/app:1": "quay.io/remote/app:1",
		"localhost:5000/app:1": "localhost:5000/app:1",
	} {
		r, _, fe, _, _ := setup(t, twoContainers)
		_, err := r.ensureImage(context.Background(), units.Image{Ref: ref, PullPolicy: "IfNotPresent", FieldPath: "spec.containers[0].image"}, nil, "")
		if len(fe.pulls) != 1 || fe.pulls[0] != want {
			t.Errorf("%s: pulled %v, want %s", ref, fe.pulls, want)
		}
		if err != nil && ref != want && !strings.Contains(err.Error(), "pulling it ("+want+")") {
			t.Errorf("%s: the error does not say what was pulled: %v", ref, err)
		}
	}
}

// imagePullSecrets reach the pull as a 0600 file in the state directory that
// is gone afterwards; a refused pull names the registry and the credentials.
func TestPullWithCredentials(t *testing.T) {
	r, _, fe, _, _ := setup(t, twoContainers)
	auth := &pod.PullAuth{Secrets: []string{"regcred"}, Registries: []string{"private"},
		From: map[string]string{"private": "regcred"}, AuthFile: []byte(`{"auths":{"private":{"auth":"dTpw"}}}`)}
	plan := &units.Plan{Pod: "p", PullAuth: auth, Images: []units.Image{{Ref: "private/app:1", PullPolicy: "IfNotPresent", FieldPath: "spec.containers[0].image"}}}
	if err := r.prepare(context.Background(), plan); err != nil {
		t.Fatal(err)
	}
	if len(fe.authFiles) != 1 {
		t.Fatalf("auth files seen by the pulls: %v", fe.authFiles)
	}
	path, rest, _ := strings.Cut(fe.authFiles[0], " ")
	if rest != `0600 {"auths":{"private":{"auth":"dTpw"}}}` || filepath.Dir(path) != r.StateDir {
		t.Errorf("auth file %s: %s", path, rest)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("auth file %s left behind: %v", path, err)
	}

	r, _, _, _, _ = setup(t, twoContainers)
	plan.PullAuth = nil
	err := r.prepare(context.Background(), plan)
	if err == nil || !strings.Contains(err.Error(), `"private/app:1" is not present and pulling it (docker.io/private/app:1) from registry docker.io without credentials (the pod has no imagePullSecrets) failed: reading manifest: unauthorized`) {
		t.Errorf("without credentials: %v", err)
	}
	_, err = r.ensureImage(context.Background(), units.Image{Ref: "remote.example:5000/x/app:1", PullPolicy: "IfNotPresent", FieldPath: "f"},
		&pod.PullAuth{Registries: []string{"remote.example:5000"}, From: map[string]string{"remote.example:5000": "regcred"}}, "")
	if err == nil || !strings.Contains(err.Error(), "pulling it from registry remote.example:5000 with the credentials of Secret regcred (imagePullSecrets) failed") {
		t.Errorf("with credentials: %v", err)
	}
}

// Containers left after the units stopped go before the infra, whatever
// order podman lists them in.
func TestDownRemovesInfraLast(t *testing.T) {
	for i := 0; i < 5; i++ { // map order: several orders of the list
		r, _, fe, p, plan := setup(t, twoContainers)
		if err := r.Up(context.Background(), p, plan, UpOptions{}); err != nil {
			t.Fatal(err)
		}
		fe.containers = map[string]map[string]string{
			"podunit_web":   {units.LabelPod: "web", units.LabelRole: "infra"},
			"podunit_web_a": {units.LabelPod: "web"},
			"podunit_web_b": {units.LabelPod: "web"},
		}
		if err := r.Down(context.Background(), "web", DownOptions{}); err != nil {
			t.Fatal(err)
		}
		var ctrs []string
		for _, x := range fe.removed {
			if strings.HasPrefix(x, "container ") {
				ctrs = append(ctrs, x)
			}
		}
		if len(fe.containers) != 0 || len(ctrs) != 3 || ctrs[2] != "container podunit_web" {
			t.Fatalf("left %v, removed %v", fe.containers, fe.removed)
		}
	}
}

func TestStopRequestRoundTrip(t *testing.T) {
	r := &Runner{StateDir: t.TempDir()}
	if _, ok := podstate.ReadStopRequest(r.StateDir, "p"); ok {
		t.Error("a request where none was written")
	}
	if err := r.writeStopRequest("p", 7*time.Second); err != nil {
		t.Fatal(err)
	}
	if g, ok := podstate.ReadStopRequest(r.StateDir, "p"); !ok || g != 7*time.Second {
		t.Errorf("read %v %v", g, ok)
	}
}

func TestStatusPhases(t *testing.T) {
	rec := &record{Pod: &corev1.Pod{}}
	rec.Pod.Name, rec.Pod.Namespace = "p", "default"
	rec.Pod.Spec.Containers = []corev1.Container{{Name: "a"}, {Name: "b"}}
	rec.Pod.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "dbg"}}}
	st := func(active, sub, result string, code int32) sdbus.UnitState {
		return sdbus.UnitState{LoadState: "loaded", ActiveState: active, SubState: sub, Result: result, ExecMainStatus: code, ExecMainCode: 1,
			ActiveEnter: time.Unix(1, 0)}
	}
	restarting := st("activating", "auto-restart", "exit-code", 1)
	restarting.NRestarts = 2
	stopping := func(job string) sdbus.UnitState {
		u := st("deactivating", "stop", "", 0)
		u.Job = job
		return u
	}
	exited := st("deactivating", "stop-post", "success", 1) // its process ended, the unit cleans up
	for _, c := range []struct {
		name     string
		policy   corev1.RestartPolicy
		a, b     sdbus.UnitState
		deleting bool   // podunit down's stop request
		infraJob string // a job queued on the infra
		phase    string
		recorded bool // the containers' clean-up recorded their run's end
	}{
		{"running", "", st("active", "running", "success", 0), st("active", "running", "success", 0), false, "", "Running", false},
		{"one done", "Never", st("inactive", "dead", "success", 0), st("active", "running", "success", 0), false, "", "Running", false},
		{"all done", "Never", st("inactive", "dead", "success", 0), st("inactive", "dead", "success", 0), false, "", "Succeeded", false},
		{"all done, OnFailure", "OnFailure", st("inactive", "dead", "success", 0), st("inactive", "dead", "success", 0), false, "", "Succeeded", false},
		{"all done, Always: they come back", "Always", st("inactive", "dead", "success", 0), st("inactive", "dead", "success", 0), false, "", "Running", false},
		{"one failed", "Never", st("failed", "failed", "exit-code", 3), st("inactive", "dead", "success", 0), false, "", "Failed", false},
		{"one failed, OnFailure", "OnFailure", st("failed", "failed", "exit-code", 3), st("inactive", "dead", "success", 0), false, "", "Running", false},
		{"crash loop", "Always", restarting, restarting, false, "", "Running", false},
		{"crash loop beside a running one", "Always", restarting, st("active", "running", "success", 0), false, "", "Running", false},
		{"one still starting for the first time", "Always", st("activating", "start", "", 0), st("active", "running", "success", 0), false, "", "Pending", false},
		{"starting", "", st("activating", "start", "", 0), st("activating", "start", "", 0), false, "", "Pending", false},
		{"down stops it", "", stopping("stop"), st("active", "running", "", 0), true, "", "Terminating", false},
		{"down asked, nothing stopping yet", "", st("active", "running", "", 0), st("active", "running", "", 0), true, "", "Terminating", false},
		{"its infra or slice stopped", "", stopping("stop"), st("active", "running", "", 0), false, "stop", "Terminating", false},
		{"one container stopped on request", "", stopping("stop"), st("active", "running", "", 0), false, "", "Running", false},
		{"one container restarted on request", "", stopping("restart"), st("active", "running", "", 0), false, "", "Running", false},
		{"one exited, Always: cleaning up", "Always", exited, st("active", "running", "", 0), false, "", "Running", true},
		{"both exited, Always: cleaning up", "Always", exited, exited, false, "", "Running", true},
		{"both exited, Never: cleaning up", "Never", exited, exited, false, "", "Failed", true},
		{"both exited, Never: their ends not recorded yet", "Never", exited, exited, false, "", "Running", false},
		{"a debug container ending", "", st("active", "running", "", 0), st("active", "running", "", 0), false, "", "Running", false},
	} {
		rec.Pod.Spec.RestartPolicy = c.policy
		infra := st("active", "running", "success", 0)
		infra.Job = c.infraJob
		byUnit := map[string]sdbus.UnitState{
			"podunit-p.service":   infra,
			"podunit-p-a.service": c.a,
			"podunit-p-b.service": c.b,
			// an ephemeral container whose unit is on its way out
			"podunit-p-dbg.service": st("deactivating", "stop-sigterm", "", 0),
		}
		run := podstate.Run{}
		if c.recorded {
			run = podstate.Run{Finished: time.Unix(2, 0), ExitCode: 1, Message: "bye"}
		}
		got := podStatus("p", rec, byUnit, c.deleting, func(string) bool { return true }, func(string) podstate.Run { return run })
		if got.Phase != c.phase {
			t.Errorf("%s: phase %s, want %s", c.name, got.Phase, c.phase)
		}
		// a container stopped on request is Running until it has stopped;
		// one whose process ended is Terminated, with its message, once
		// its clean-up recorded the end, while its unit finishes
		ended := c.a.ActiveState == "deactivating" && c.a.Job == "" && c.recorded
		switch a := got.Containers[0]; {
		case c.a.ActiveState == "deactivating" && !ended && (a.State != "Running" || a.Reason != "Terminating"):
			t.Errorf("%s: container a %+v, want Running (Terminating)", c.name, a)
		case ended && (a.State != "Terminated" || a.Reason != "Error" || a.ExitCode == nil || *a.ExitCode != 1 || a.ExitMessage != "bye"):
			t.Errorf("%s: container a %+v, want Terminated (Error), exit code 1, its message", c.name, a)
		}
	}
	// Containers a liveness probe killed, which exited 0 on SIGTERM: they
	// come back under OnFailure (their clean-up starts them again), the pod
	// is Running meanwhile; under Never they are done, and it Succeeded.
	for policy, want := range map[corev1.RestartPolicy]string{"OnFailure": "Running", "Always": "Running", "Never": "Succeeded"} {
		rec.Pod.Spec.RestartPolicy = policy
		done := st("inactive", "dead", "success", 0)
		byUnit := map[string]sdbus.UnitState{"podunit-p.service": st("active", "running", "success", 0), "podunit-p-a.service": done, "podunit-p-b.service": done}
		killed := podstate.Run{Finished: time.Unix(2, 0), Result: "success", Killed: "liveness"}
		if got := podStatus("p", rec, byUnit, false, func(string) bool { return true }, func(string) podstate.Run { return killed }); got.Phase != want {
			t.Errorf("killed by a probe, exit 0, %s: phase %s, want %s", policy, got.Phase, want)
		}
	}
	// The sandbox: starting, the pod is Pending; made again by systemd
	// after it died, the pod's phase is its containers' (stopped by the
	// sandbox's death, on their way back).
	killed := st("failed", "failed", "signal", 9)
	for _, c := range []struct {
		name     string
		policy   corev1.RestartPolicy
		restarts uint32
		phase    string
	}{
		{"first start", "Always", 0, "Pending"},
		{"a restart asked for", "Always", 0, "Pending"},
		{"made again, Always", "Always", 1, "Running"},
		{"made again, OnFailure", "OnFailure", 3, "Running"},
	} {
		rec.Pod.Spec.RestartPolicy = c.policy
		infra := st("activating", "start", "", 0)
		infra.NRestarts = c.restarts
		byUnit := map[string]sdbus.UnitState{"podunit-p.service": infra, "podunit-p-a.service": killed, "podunit-p-b.service": killed}
		if got := podStatus("p", rec, byUnit, false, func(string) bool { return true }, func(string) podstate.Run { return podstate.Run{Finished: time.Unix(2, 0), ExitCode: 137} }); got.Phase != c.phase {
			t.Errorf("sandbox %s: phase %s, want %s", c.name, got.Phase, c.phase)
		}
	}
}

func TestUpAllIsAllOrNothing(t *testing.T) {
	m, err := pod.Load([]byte(twoContainers + "---\n" + strings.ReplaceAll(twoContainers, "name: web", "name: api")))
	if err != nil {
		t.Fatal(err)
	}
	var plans []*units.Plan
	for _, p := range m.Pods {
		pl, err := units.Translate(p, m.Resolved[p.Name], units.Options{Podman: "/usr/bin/podman", Self: "/usr/bin/podunit", InfraImage: "infra:1"})
		if err != nil {
			t.Fatal(err)
		}
		plans = append(plans, pl)
	}
	fu := newFakeUnits()
	fe := &fakeEngine{images: map[string]bool{"local/app:1": true}, volumes: map[string]map[string]string{}}
	r := &Runner{Units: fu, Engine: fe, StateDir: t.TempDir()}
	fu.failing["podunit-api-b.service"] = true
	if err := r.UpAll(context.Background(), m.Pods, plans, UpOptions{}); err == nil {
		t.Fatal("UpAll succeeded with a failing container")
	}
	if len(fu.loaded) != 0 || len(fe.volumes) != 0 {
		t.Errorf("left behind: units %v volumes %v", fu.loaded, fe.volumes)
	}
	delete(fu.failing, "podunit-api-b.service")
	if err := r.UpAll(context.Background(), m.Pods, plans, UpOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(fu.loaded) != 8 {
		t.Errorf("%d units loaded, want 8", len(fu.loaded))
	}
	for _, err := range r.DownAll(context.Background(), []string{"web", "api"}, DownOptions{}) {
		if err != nil {
			t.Error(err)
		}
	}
	if len(fu.loaded) != 0 {
		t.Errorf("left after DownAll: %v", fu.loaded)
	}
}

func TestRunAsNonRoot(t *testing.T) {
	for image, ok := range map[string]bool{"local/app:1": false, "local/nonroot:1": true, "local/named:1": false} {
		r, _, _, _, _ := setup(t, twoContainers)
		err := r.checkNonRoot(context.Background(), units.NonRootCheck{Image: image, FieldPath: "spec.containers[0].securityContext.runAsNonRoot"})
		if (err == nil) != ok {
			t.Errorf("%s: %v", image, err)
		}
		if err != nil && (!strings.HasPrefix(err.Error(), "spec.containers[0].securityContext.runAsNonRoot: runAsNonRoot is set and image ") ||
			!errors.Is(err, ErrNonRoot) || errors.Is(err, ErrImage)) {
			t.Errorf("%s: want the field path and ErrNonRoot (the image is there): %v", image, err)
		}
	}
}

// Objects with podunit's names that podunit did not create (a user's, or
// another pod's) are never removed: up refuses, naming each, and starts nothing.
func TestUpNeverTakesOverForeignObjects(t *testing.T) {
	r, fu, fe, p, plan := setup(t, twoContainers)
	fe.containers["podunit_web_a"] = map[string]string{}                                   // the user's
	fe.containers["podunit_web"] = map[string]string{units.LabelPod: "other"}              // not this pod's
	fe.containers["podunit_web_b"] = map[string]string{units.LabelPod: "web"}              // a stale one of its own: fine
	fe.volumes["podunit_web_v"] = map[string]string{"owner": "me"}                         // the user's data
	fe.volumes["web_v"], fe.containers["web_a"] = map[string]string{}, map[string]string{} // podman-compose style names: not in the way
	err := r.Up(context.Background(), p, plan, UpOptions{})
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("Up: %v, want ErrConflict", err)
	}
	for _, want := range []string{"podman container podunit_web_a exists", "podman container podunit_web exists", `belongs to podunit pod "other"`,
		"spec.volumes[0].emptyDir: conflict: podman volume podunit_web_v exists"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "podunit_web_b") {
		t.Errorf("the pod's own stale container reported as a conflict: %v", err)
	}
	if len(fu.log) != 0 || len(fe.removed) != 0 || len(fe.volumes) != 2 || len(fe.containers) != 4 {
		t.Errorf("something touched: units %v, removed %v", fu.log, fe.removed)
	}
}

// up --replace checks the new pod completely before it stops the old one: a
// missing image or a conflict leaves the running pod as it was.
func TestReplaceChecksBeforeStopping(t *testing.T) {
	r, fu, fe, p, plan := setup(t, twoContainers)
	if err := r.Up(context.Background(), p, plan, UpOptions{}); err != nil {
		t.Fatal(err)
	}
	running := len(fu.loaded)
	bad := strings.Replace(twoContainers, "{name: b, image: local/app:1}", "{name: b, image: local/typo:1}", 1)
	m, err := pod.Load([]byte(bad))
	if err != nil {
		t.Fatal(err)
	}
	plan2, err := units.Translate(m.Pods[0], m.Resolved["web"], units.Options{Podman: "/usr/bin/podman", Self: "/usr/bin/podunit", InfraImage: "infra:1"})
	if err != nil {
		t.Fatal(err)
	}
	fu.log = nil
	err = r.Up(context.Background(), m.Pods[0], plan2, UpOptions{Replace: true})
	if !errors.Is(err, ErrImage) || !strings.Contains(err.Error(), "spec.containers[1].image") {
		t.Fatalf("replace with a missing image: %v, want ErrImage at spec.containers[1].image", err)
	}
	if len(fu.loaded) != running || len(fu.log) != 0 || len(fe.removed) != 0 {
		t.Errorf("the old pod was touched: %d of %d units left, log %v, removed %v", len(fu.loaded), running, fu.log, fe.removed)
	}
	// A good replacement does stop the old pod, then starts the new one.
	if err := r.Up(context.Background(), p, plan, UpOptions{Replace: true}); err != nil {
		t.Fatal(err)
	}
	if len(fu.log) == 0 || !strings.HasPrefix(fu.log[0], "stop ") || len(fu.loaded) != running {
		t.Errorf("replace: log %v, %d units", fu.log, len(fu.loaded))
	}
}

// Of two concurrent Up of one pod, exactly one creates it; the other waits
// for the pod's lock, then finds the pod and fails with ErrExists.
func TestConcurrentUpOneWins(t *testing.T) {
	r, fu, _, p, plan := setup(t, twoContainers)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Add(1)
		go func(i int) { defer wg.Done(); errs[i] = r.Up(context.Background(), p, plan, UpOptions{}) }(i)
	}
	wg.Wait()
	won, exists := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, ErrExists):
			exists++
		default:
			t.Errorf("Up: %v", err)
		}
	}
	if won != 1 || exists != 1 {
		t.Fatalf("%d won, %d found it existing: %v", won, exists, errs)
	}
	starts := 0
	for _, l := range fu.log {
		if strings.HasPrefix(l, "start podunit-web.service") {
			starts++
		}
	}
	if starts != 1 {
		t.Errorf("infra started %d times: %v", starts, fu.log)
	}
}

// With Progress (a terminal), up says what takes time: each pull, with the
// image's size; without it, up is quiet.
func TestUpProgress(t *testing.T) {
	r, _, fe, p, plan := setup(t, strings.ReplaceAll(twoContainers, "local/app:1", "remote/app:1"))
	var out strings.Builder
	r.Progress = &out
	if err := r.Up(context.Background(), p, plan, UpOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(fe.pulls) == 0 {
		t.Fatal("nothing pulled")
	}
	for _, ref := range fe.pulls {
		if !strings.Contains(out.String(), "pulling image "+ref+" ...\n") ||
			!regexp.MustCompile(`pulled image `+regexp.QuoteMeta(ref)+` \(1\.23 MB\) in \d`).MatchString(out.String()) {
			t.Errorf("progress of the pull of %s:\n%s", ref, out.String())
		}
	}
	if humanSize(999) != "999 B" || humanSize(5_600_000) != "5.6 MB" || humanSize(1_234_567_890) != "1.23 GB" {
		t.Errorf("humanSize: %s %s %s", humanSize(999), humanSize(5_600_000), humanSize(1_234_567_890))
	}
}

// A prober unit that is not running is told of: its probes are not run.
func TestStatusProber(t *testing.T) {
	rec := &record{Pod: &corev1.Pod{}}
	rec.Pod.Name = "p"
	rec.Pod.Spec.Containers = []corev1.Container{{Name: "a"}}
	st := func(active, sub string) sdbus.UnitState {
		return sdbus.UnitState{LoadState: "loaded", ActiveState: active, SubState: sub, ActiveEnter: time.Unix(1, 0)}
	}
	for _, c := range []struct {
		prober *sdbus.UnitState
		want   string
	}{
		{nil, ""},
		{&sdbus.UnitState{LoadState: "loaded", ActiveState: "active", SubState: "running"}, ""},
		{&sdbus.UnitState{LoadState: "loaded", ActiveState: "activating", SubState: "auto-restart"}, "activating (auto-restart)"},
		{&sdbus.UnitState{LoadState: "loaded", ActiveState: "failed", SubState: "failed"}, "failed (failed)"},
	} {
		byUnit := map[string]sdbus.UnitState{"podunit-p.service": st("active", "running"), "podunit-p-a.service": st("active", "running")}
		if c.prober != nil {
			byUnit[units.ProberUnitName("p")] = *c.prober
		}
		got := podStatus("p", rec, byUnit, false, func(string) bool { return true }, func(string) podstate.Run { return podstate.Run{} })
		if got.Prober != c.want {
			t.Errorf("prober %+v: %q, want %q", c.prober, got.Prober, c.want)
		}
	}
}

// The containers an earlier run of a pod left (the user manager stopped, the
// host went down: no units, no record) are the pod's own: up removes them,
// infra last, before it starts the pod again, and down of that pod removes
// them rather than saying it does not exist. Another pod's are left alone.
func TestLeftoversOfAnEarlierRun(t *testing.T) {
	r, _, fe, p, plan := setup(t, twoContainers)
	fe.containers = map[string]map[string]string{
		"podunit_web":   {units.LabelPod: "web", units.LabelRole: "infra"},
		"podunit_web_a": {units.LabelPod: "web"},
		"podunit_db":    {units.LabelPod: "db", units.LabelRole: "infra"},
	}
	if err := r.Up(context.Background(), p, plan, UpOptions{}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fe.removed, []string{"container podunit_web_a", "container podunit_web"}) || fe.containers["podunit_db"] == nil {
		t.Errorf("removed %v, left %v", fe.removed, fe.containers)
	}

	r2, _, fe2, _, _ := setup(t, twoContainers)
	fe2.containers = map[string]map[string]string{"podunit_web": {units.LabelPod: "web", units.LabelRole: "infra"}}
	if err := r2.Down(context.Background(), "web", DownOptions{}); err != nil {
		t.Fatalf("down of a pod with only leftovers: %v", err)
	}
	if len(fe2.containers) != 0 {
		t.Errorf("left %v", fe2.containers)
	}
	if err := r2.Down(context.Background(), "web", DownOptions{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("down of a pod with nothing left: %v, want ErrNotFound", err)
	}
}

// A pod applied again as it runs is unchanged (its uid, status and the debug
// containers added since aside); another spec, or a pod whose units are
// gone, is not.
func TestUnchanged(t *testing.T) {
	r, _, _, p, plan := setup(t, twoContainers)
	ctx := context.Background()
	if same, err := r.Unchanged(ctx, p); err != nil || same {
		t.Fatalf("a pod not running: %v %v", same, err)
	}
	if err := r.Up(ctx, p, plan, UpOptions{}); err != nil {
		t.Fatal(err)
	}
	again := p.DeepCopy()
	again.UID = "another"
	again.Spec.EphemeralContainers = nil
	if same, err := r.Unchanged(ctx, again); err != nil || !same {
		t.Errorf("the same pod: %v %v", same, err)
	}
	changed := p.DeepCopy()
	changed.Spec.Containers[0].Image = "other:2"
	if same, _ := r.Unchanged(ctx, changed); same {
		t.Error("another image is unchanged")
	}
	relabeled := p.DeepCopy()
	relabeled.Labels = map[string]string{"new": "label"}
	if same, _ := r.Unchanged(ctx, relabeled); same {
		t.Error("other labels are unchanged")
	}
	err := r.Up(ctx, changed, plan, UpOptions{})
	if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "with a spec other than this one") {
		t.Errorf("up of the changed pod: %v", err)
	}
}

func TestRelabel(t *testing.T) {
	r, _, _, p, plan := setup(t, twoContainers)
	ctx := context.Background()
	if _, _, err := r.Relabel(ctx, "web", map[string]string{"a": "1"}, nil, false); !errors.Is(err, ErrNotFound) {
		t.Errorf("relabel of a pod not running: %v", err)
	}
	p.Labels = map[string]string{"app": "web"}
	if err := r.Up(ctx, p, plan, UpOptions{}); err != nil {
		t.Fatal(err)
	}
	got, changed, err := r.Relabel(ctx, "web", map[string]string{"tier": "fe"}, nil, false)
	if err != nil || !changed || got.Labels["tier"] != "fe" || got.Labels["app"] != "web" {
		t.Fatalf("add: %v %v %v", got.Labels, changed, err)
	}
	if _, _, err := r.Relabel(ctx, "web", map[string]string{"tier": "be"}, nil, false); !errors.Is(err, ErrConflict) {
		t.Errorf("change without overwrite: %v", err)
	}
	if _, changed, _ := r.Relabel(ctx, "web", map[string]string{"tier": "fe"}, []string{"nope"}, false); changed {
		t.Error("the same value and an absent key changed something")
	}
	got, changed, err = r.Relabel(ctx, "web", map[string]string{"tier": "be"}, []string{"app"}, true)
	if err != nil || !changed || len(got.Labels) != 1 || got.Labels["tier"] != "be" {
		t.Errorf("overwrite and remove: %v %v %v", got.Labels, changed, err)
	}
	if rec, _ := r.Pod("web"); rec.Labels["tier"] != "be" {
		t.Errorf("the record: %v", rec.Labels)
	}
}

func TestCompare(t *testing.T) {
	r, _, _, p, plan := setup(t, twoContainers)
	ctx := context.Background()
	if err := r.Up(ctx, p, plan, UpOptions{}); err != nil {
		t.Fatal(err)
	}
	relabeled := p.DeepCopy()
	relabeled.Labels = map[string]string{"tier": "be"}
	if d, err := r.Compare(ctx, relabeled); err != nil || d != MetadataOnly {
		t.Errorf("labels alone: %v %v", d, err)
	}
	annotated := p.DeepCopy()
	annotated.Annotations = map[string]string{"note": "x"}
	if d, err := r.Compare(ctx, annotated); err != nil || d != MetadataOnly {
		t.Errorf("an annotation alone: %v %v", d, err)
	}
	annotated.Annotations[netshape.EgressAnnotation] = "1M"
	if d, _ := r.Compare(ctx, annotated); d != Changed {
		t.Errorf("a bandwidth annotation, read when the pod is made: %v", d)
	}
	if d, _ := r.Compare(ctx, p.DeepCopy()); d != Same {
		t.Errorf("the same pod: %v", d)
	}
	exported := p.DeepCopy() // as podunit get pod -o yaml shows it
	exported.Spec.NodeName, exported.UID, exported.ResourceVersion, exported.Generation = "host", "u-1", "7", 1
	exported.CreationTimestamp = metav1.Now()
	exported.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
	exported.Status.Phase = corev1.PodRunning
	if d, _ := r.Compare(ctx, exported); d != Same {
		t.Errorf("the same pod as get -o yaml shows it: %v", d)
	}
	both := relabeled.DeepCopy()
	both.Spec.Containers[0].Image = "other:2"
	if d, _ := r.Compare(ctx, both); d != Changed {
		t.Errorf("labels and an image changed: %v", d)
	}
}

// racingEngine makes a volume itself when asked to create one, as a pod
// starting side by side with the same claim would, and fails the creation.
type racingEngine struct{ *fakeEngine }

func (e racingEngine) CreateVolume(ctx context.Context, name string, labels, opts map[string]string) error {
	_ = e.fakeEngine.CreateVolume(ctx, name, labels, opts)
	return errors.New("adding volume to state: name " + name + " is in use: volume already exists")
}

const claimPod = `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers: [{name: a, image: local/app:1, volumeMounts: [{name: v, mountPath: /v}]}]
  volumes: [{name: v, persistentVolumeClaim: {claimName: data}}]
`

// Two pods of one claim start at once: the one that loses the race to
// create its volume uses the volume the other made.
func TestClaimMadeByAnotherPodMeanwhile(t *testing.T) {
	r, _, fe, p, plan := setup(t, claimPod)
	if len(plan.Claims) != 1 {
		t.Fatalf("claims %v", plan.Claims)
	}
	r.Engine = racingEngine{fe}
	if err := r.Up(context.Background(), p, plan, UpOptions{}); err != nil {
		t.Fatalf("Up: %v", err)
	}
	// a volume of that name that is not the claim's is still a conflict
	r2, _, fe2, p2, plan2 := setup(t, claimPod)
	r2.Engine = foreignVolumeEngine{fe2}
	if err := r2.Up(context.Background(), p2, plan2, UpOptions{}); err == nil {
		t.Error("Up used a volume it did not make")
	}
}

// foreignVolumeEngine: someone else made a volume of the name meanwhile.
type foreignVolumeEngine struct{ *fakeEngine }

func (e foreignVolumeEngine) CreateVolume(ctx context.Context, name string, _, opts map[string]string) error {
	_ = e.fakeEngine.CreateVolume(ctx, name, map[string]string{"owner": "someone"}, opts)
	return errors.New("volume already exists")
}

// An init container that failed and waits to run again shows
// CrashLoopBackOff with its restarts, its last run's end and message; the
// pod is Pending. Running again, it is Running with the restarts counted.
func TestStatusInitBackOff(t *testing.T) {
	rec := &record{Pod: &corev1.Pod{}}
	rec.Pod.Name = "p"
	rec.Pod.Spec.InitContainers = []corev1.Container{{Name: "init"}}
	rec.Pod.Spec.Containers = []corev1.Container{{Name: "a"}}
	st := func(active, sub string) sdbus.UnitState {
		return sdbus.UnitState{LoadState: "loaded", ActiveState: active, SubState: sub, ActiveEnter: time.Unix(1, 0)}
	}
	byUnit := map[string]sdbus.UnitState{"podunit-p.service": st("active", "running"),
		"podunit-p-init.service": st("activating", "start"),
		"podunit-p-a.service":    {LoadState: "loaded", ActiveState: "inactive", SubState: "dead"}}
	run := podstate.Run{Finished: time.Now(), ExitCode: 2, Result: "exit-code", Retries: 3, Message: "no database",
		WaitingUntil: time.Now().Add(75 * time.Second), WaitingFor: 80 * time.Second}
	got := podStatus("p", rec, byUnit, false, func(string) bool { return true }, func(c string) podstate.Run {
		if c == "init" {
			return run
		}
		return podstate.Run{}
	})
	cs := got.Containers[0]
	// three runs failed, two restarts made: the third waits
	if got.Phase != "Pending" || cs.State != "Waiting" || cs.Reason != "CrashLoopBackOff" || cs.Restarts != 2 ||
		cs.LastExitCode == nil || *cs.LastExitCode != 2 || cs.ExitMessage != "no database" ||
		!strings.HasPrefix(cs.Message, "back-off 1m20s restarting failed container, 1m1") {
		t.Errorf("backing off: phase %s, %+v", got.Phase, cs)
	}
	run.WaitingUntil, run.Started = time.Time{}, time.Now()
	got = podStatus("p", rec, byUnit, false, func(string) bool { return true }, func(c string) podstate.Run {
		if c == "init" {
			return run
		}
		return podstate.Run{}
	})
	if cs := got.Containers[0]; got.Phase != "Pending" || cs.State != "Running" || cs.Restarts != 3 {
		t.Errorf("running again: phase %s, %+v", got.Phase, cs)
	}
}

// A container whose unit never became active is waiting for the init
// containers, unless its clean-up recorded a run that ended (a process that
// exited before its start was notified): then it is Terminated as recorded.
func TestStatusNeverActive(t *testing.T) {
	rec := &record{Pod: &corev1.Pod{}}
	rec.Pod.Name, rec.Pod.Spec.RestartPolicy = "p", corev1.RestartPolicyOnFailure
	rec.Pod.Spec.Containers = []corev1.Container{{Name: "quick"}}
	byUnit := map[string]sdbus.UnitState{"podunit-p.service": {LoadState: "loaded", ActiveState: "active", SubState: "running"},
		"podunit-p-quick.service": {LoadState: "loaded", ActiveState: "inactive", SubState: "dead"}}
	got := podStatus("p", rec, byUnit, false, func(string) bool { return true }, func(string) podstate.Run { return podstate.Run{} })
	if cs := got.Containers[0]; cs.State != "Waiting" || cs.Reason != "PodInitializing" || got.Phase != "Pending" {
		t.Errorf("never ran: phase %s, %+v", got.Phase, cs)
	}
	ended := podstate.Run{Finished: time.Unix(5, 0), Result: "success"}
	got = podStatus("p", rec, byUnit, false, func(string) bool { return true }, func(string) podstate.Run { return ended })
	if cs := got.Containers[0]; cs.State != "Terminated" || cs.Reason != "Completed" || cs.ExitCode == nil || *cs.ExitCode != 0 || got.Phase != "Succeeded" {
		t.Errorf("ran and ended before its unit was active: phase %s, %+v", got.Phase, cs)
	}
}

// An app container waiting out its back-off has the restarts made so far,
// as the kubelet counts them (when the container starts again): systemd has
// counted the unit's restart into the wait, and so has the run helper.
func TestStatusAppBackOffCountsRestartsMade(t *testing.T) {
	rec := &record{Pod: &corev1.Pod{}}
	rec.Pod.Name = "p"
	rec.Pod.Spec.Containers = []corev1.Container{{Name: "a"}}
	app := sdbus.UnitState{LoadState: "loaded", ActiveState: "activating", SubState: "start", ActiveEnter: time.Unix(1, 0), NRestarts: 3}
	byUnit := map[string]sdbus.UnitState{"podunit-p.service": {LoadState: "loaded", ActiveState: "active", SubState: "running"},
		"podunit-p-a.service": app}
	// four runs ended, three restarts made (immediately, after 10 s, after
	// 20 s); the fourth waits 40 s
	run := podstate.Run{Finished: time.Now(), ExitCode: 1, Result: "exit-code", Restarts: 3,
		WaitingUntil: time.Now().Add(30 * time.Second), WaitingFor: 40 * time.Second}
	runs := func(string) podstate.Run { return run }
	got := podStatus("p", rec, byUnit, false, func(string) bool { return true }, runs)
	if cs := got.Containers[0]; cs.Reason != "CrashLoopBackOff" || cs.Restarts != 2 || got.Restarts != 2 {
		t.Errorf("waiting: %+v, pod's restarts %d", cs, got.Restarts)
	}
	run.WaitingUntil, run.WaitingFor, run.Started = time.Time{}, 0, time.Now()
	app.ActiveState, app.SubState = "active", "running"
	byUnit["podunit-p-a.service"] = app
	got = podStatus("p", rec, byUnit, false, func(string) bool { return true }, runs)
	if cs := got.Containers[0]; cs.State != "Running" || cs.Restarts != 3 {
		t.Errorf("started again: %+v", cs)
	}
	// between its exit and systemd's restart of its unit, nobody has
	// counted the next restart yet
	run.Started, run.Restarts = time.Time{}, 3
	app.ActiveState, app.SubState, app.NRestarts = "activating", "auto-restart", 3
	byUnit["podunit-p-a.service"] = app
	got = podStatus("p", rec, byUnit, false, func(string) bool { return true }, runs)
	if cs := got.Containers[0]; cs.Reason != "CrashLoopBackOff" || cs.Restarts != 3 {
		t.Errorf("exited, about to be restarted: %+v", cs)
	}
}

// A claim a pod podunit runs uses is never removed, as Kubernetes' claim
// protection keeps it; once no pod uses it, its volume goes.
func TestRemoveClaimsInUse(t *testing.T) {
	r, _, fe, p, _ := setup(t, twoContainers)
	p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "d", VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}})
	if err := r.saveState(p); err != nil {
		t.Fatal(err)
	}
	fe.volumes["podunit.default.data"] = map[string]string{units.LabelClaim: "default/data"}
	claim := []units.Claim{{Name: "podunit.default.data", Namespace: "default", Claim: "data"}}
	err := r.RemoveClaims(context.Background(), claim)
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "in use by pod web") || fe.volumes["podunit.default.data"] == nil {
		t.Fatalf("removing a claim in use: %v; volumes %v", err, fe.volumes)
	}
	// the same name in another namespace is another claim
	if err := r.ClaimsUnused([]units.Claim{{Namespace: "other", Claim: "data"}}); err != nil {
		t.Errorf("another namespace's claim: %v", err)
	}
	if err := os.RemoveAll(r.podDir("web")); err != nil {
		t.Fatal(err)
	}
	if err := r.RemoveClaims(context.Background(), claim); err != nil || fe.volumes["podunit.default.data"] != nil {
		t.Errorf("removing it unused: %v; volumes %v", err, fe.volumes)
	}
}

// A pod whose activeDeadlineSeconds ran out is Failed (DeadlineExceeded) at
// once, as the kubelet marks it, its containers Terminated as their runs
// ended though their units are gone, none ready.
func TestDeadlineFailed(t *testing.T) {
	runs := func(c string) podstate.Run {
		if c == "a" {
			return podstate.Run{Finished: time.Unix(5, 0), ExitCode: 143, Result: "exit-code", Message: "bye"}
		}
		return podstate.Run{}
	}
	stopping := PodStatus{Phase: "Terminating", Ready: 1, Containers: []ContainerStatus{{Name: "b", State: "Running", Reason: "Terminating", Ready: true}}}
	if got := deadlineFailed(stopping, runs); got.Phase != "Failed" || got.Reason != "DeadlineExceeded" || got.Ready != 0 || got.Containers[0].Ready {
		t.Errorf("while stopping: %+v", got)
	}
	ps := PodStatus{Phase: "Unknown", Ready: 1, Total: 2, Containers: []ContainerStatus{
		{Name: "a", State: "Waiting", Reason: "Unknown"},
		{Name: "b", State: "Waiting", Reason: "Unknown"},
	}}
	got := deadlineFailed(ps, runs)
	if got.Phase != "Failed" || got.Reason != "DeadlineExceeded" || got.Message != podstate.MessageDeadlineExceeded || got.Ready != 0 {
		t.Fatalf("stopped: %+v", got)
	}
	a, b := got.Containers[0], got.Containers[1]
	if a.State != "Terminated" || a.Reason != "Error" || a.ExitCode == nil || *a.ExitCode != 143 || a.ExitMessage != "bye" {
		t.Errorf("a: %+v", a)
	}
	if b.State != "Waiting" || b.Reason != "Unknown" {
		t.Errorf("b never ran: %+v", b)
	}
}

// A pod that completed keeps its phase once its infra went: a container
// whose unit systemd unloaded is Terminated as its run ended, with the
// restarts recorded at completion; one still loaded (failed) is read from
// systemd; none is ready, no prober is reported; down shows Terminating.
func TestCompleted(t *testing.T) {
	runs := func(c string) podstate.Run {
		if c == "work" {
			return podstate.Run{Finished: time.Unix(5, 0), ExitCode: 0, Result: "success"}
		}
		return podstate.Run{Finished: time.Unix(4, 0), ExitCode: 1, Result: "exit-code"}
	}
	one := 1
	ps := PodStatus{Phase: "Unknown", Prober: "inactive (dead)", Ready: 1, Total: 2, Containers: []ContainerStatus{
		{Name: "work", State: "Waiting", Reason: "Unknown"},
		{Name: "bad", State: "Terminated", Reason: "Error", ExitCode: &one, Restarts: 3},
	}}
	done := podstate.Completion{Phase: "Failed", Restarts: map[string]int{"work": 2, "bad": 3}}
	got := completed(ps, done, runs, false)
	if got.Phase != "Failed" || got.Ready != 0 || got.Prober != "" || got.Restarts != 5 {
		t.Fatalf("completed: %+v", got)
	}
	w, b := got.Containers[0], got.Containers[1]
	if w.State != "Terminated" || w.Reason != "Completed" || w.ExitCode == nil || *w.ExitCode != 0 || w.Restarts != 2 || w.Ready {
		t.Errorf("work: %+v", w)
	}
	if b.State != "Terminated" || b.Reason != "Error" || b.Restarts != 3 {
		t.Errorf("bad: %+v", b)
	}
	// its infra stopping as it completed: still its recorded phase
	ps.Phase = "Terminating"
	if got := completed(ps, done, runs, false); got.Phase != "Failed" {
		t.Errorf("its infra stopping: %s", got.Phase)
	}
	if got := completed(ps, done, runs, true); got.Phase != "Terminating" {
		t.Errorf("going down: %s", got.Phase)
	}
}

// A completed pod whose units systemd unloaded is still there: up of it
// again is refused as for any pod that exists (the command says
// "unchanged"), its status is its recorded phase, and down removes it.
func TestCompletedPodExists(t *testing.T) {
	r, fu, _, p, plan := setup(t, twoContainers)
	if err := r.Up(context.Background(), p, plan, UpOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := podstate.WriteCompletion(r.StateDir, "web", podstate.Completion{Phase: "Succeeded"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"a", "b"} {
		_ = podstate.SaveRun(r.StateDir, "web", c, podstate.Run{Finished: time.Unix(5, 0), Result: "success"})
	}
	fu.mu.Lock()
	for n := range fu.loaded {
		if n != "podunit-web.slice" {
			delete(fu.loaded, n)
		}
	}
	fu.mu.Unlock()
	if err := r.Up(context.Background(), p, plan, UpOptions{}); !errors.Is(err, ErrExists) {
		t.Errorf("up again: %v, want ErrExists", err)
	}
	sts, err := r.Status(context.Background())
	if err != nil || len(sts) != 1 || sts[0].Phase != "Succeeded" || sts[0].Containers[0].State != "Terminated" {
		t.Fatalf("status: %v %+v", err, sts)
	}
	if err := r.Down(context.Background(), "web", DownOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, ok := podstate.LoadCompletion(r.StateDir, "web"); ok {
		t.Error("the completion record outlived down")
	}
}

// A pod with activeDeadlineSeconds: its deadline unit starts with the infra
// (the time counts from the pod's start) and goes with it at down.
func TestDeadlineUnitStartsAndGoesWithTheInfra(t *testing.T) {
	r, fu, _, p, plan := setup(t, strings.Replace(twoContainers, "spec:\n", "spec:\n  activeDeadlineSeconds: 30\n", 1))
	if err := r.Up(context.Background(), p, plan, UpOptions{}); err != nil {
		t.Fatal(err)
	}
	want := []string{"start podunit-web.slice", "start podunit-web.service", "start podunit-web.deadline.service", "start podunit-web-a.service", "start podunit-web-b.service"}
	if strings.Join(fu.log, "\n") != strings.Join(want, "\n") {
		t.Errorf("start order:\n%s", strings.Join(fu.log, "\n"))
	}
	fu.log = nil
	if err := r.Down(context.Background(), "web", DownOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(fu.log, "\n"); !strings.Contains(got, "stop podunit-web.deadline.service,podunit-web.service") {
		t.Errorf("down:\n%s", got)
	}
}

// A pod up is still making shows no "Unknown": Pending, its containers
// without a unit waiting as the kubelet's (PodInitializing with init
// containers, else ContainerCreating); those with a unit keep their state.
func TestBeingCreated(t *testing.T) {
	ps := PodStatus{Phase: "Unknown", Containers: []ContainerStatus{
		{Name: "i", Kind: units.KindInit, State: "Running"},
		{Name: "a", Kind: units.KindApp, State: "Waiting", Reason: "Unknown"},
	}}
	got := beingCreated(ps, true)
	if got.Phase != "Pending" || got.Containers[0].State != "Running" || got.Containers[1].Reason != "PodInitializing" {
		t.Errorf("init at work, app without its unit: %+v", got)
	}
	if ps.Containers[1].Reason != "Unknown" {
		t.Error("the status given was changed")
	}
	got = beingCreated(PodStatus{Phase: "Unknown", Containers: []ContainerStatus{{Name: "a", Kind: units.KindApp, State: "Waiting", Reason: "Unknown"}}}, false)
	if got.Phase != "Pending" || got.Containers[0].State != "Waiting" || got.Containers[0].Reason != "ContainerCreating" {
		t.Errorf("no infra yet: %+v", got)
	}
}

// After its init containers, an app container that is being started for
// the first time waits as PodInitializing, as the kubelet's default waiting
// reason in a pod with init containers; without them, or once it has run,
// ContainerCreating.
func TestStatusAfterInit(t *testing.T) {
	byUnit := map[string]sdbus.UnitState{"podunit-p.service": {LoadState: "loaded", ActiveState: "active", SubState: "running"},
		"podunit-p-i.service": {LoadState: "loaded", ActiveState: "active", SubState: "exited", ActiveEnter: time.Unix(1, 0)},
		"podunit-p-a.service": {LoadState: "loaded", ActiveState: "activating", SubState: "start"}}
	status := func(inits []corev1.Container, run podstate.Run) ContainerStatus {
		rec := &record{Pod: &corev1.Pod{}}
		rec.Pod.Name = "p"
		rec.Pod.Spec.InitContainers = inits
		rec.Pod.Spec.Containers = []corev1.Container{{Name: "a"}}
		got := podStatus("p", rec, byUnit, false, func(string) bool { return true }, func(c string) podstate.Run {
			if c == "a" {
				return run
			}
			return podstate.Run{}
		})
		return got.Containers[len(got.Containers)-1]
	}
	if cs := status([]corev1.Container{{Name: "i"}}, podstate.Run{}); cs.State != "Waiting" || cs.Reason != "PodInitializing" {
		t.Errorf("after init, first start: %+v", cs)
	}
	if cs := status(nil, podstate.Run{}); cs.Reason != "ContainerCreating" {
		t.Errorf("no init container: %+v", cs)
	}
	side := corev1.ContainerRestartPolicyAlways
	byUnit["podunit-p-s.service"] = sdbus.UnitState{LoadState: "loaded", ActiveState: "activating", SubState: "start"}
	got := podStatus("p", &record{Pod: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "s", RestartPolicy: &side}}, Containers: []corev1.Container{{Name: "a"}}}}},
		byUnit, false, func(string) bool { return true }, func(string) podstate.Run { return podstate.Run{} })
	if cs := got.Containers[0]; cs.Kind != units.KindSidecar || cs.Reason != "PodInitializing" {
		t.Errorf("a sidecar's first start: %+v", cs)
	}
	ran := podstate.Run{Finished: time.Unix(5, 0), ExitCode: 1, Restarts: 1}
	if cs := status([]corev1.Container{{Name: "i"}}, ran); cs.Reason != "ContainerCreating" {
		t.Errorf("after init, starting again: %+v", cs)
	}
}
