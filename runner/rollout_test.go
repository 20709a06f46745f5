package runner

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/units"
)

func TestRolloutNext(t *testing.T) {
	for _, tc := range []struct {
		name                         string
		replicas, surge, unavailable int
		started                      []string
		pending                      int
		old                          []string
		avail                        []string
		start                        int
		remove                       []string
	}{
		{name: "surge first: one new, no old goes while it is not available",
			replicas: 3, surge: 1, started: nil, pending: 3, old: []string{"o1", "o2", "o3"}, avail: []string{"o1", "o2", "o3"},
			start: 1},
		{name: "the new one available: an old one goes, no room for another new yet",
			replicas: 3, surge: 1, started: []string{"n1"}, pending: 2, old: []string{"o1", "o2", "o3"}, avail: []string{"n1", "o1", "o2", "o3"},
			remove: []string{"o1"}},
		{name: "room again: the next new starts",
			replicas: 3, surge: 1, started: []string{"n1"}, pending: 2, old: []string{"o2", "o3"}, avail: []string{"n1", "o2", "o3"},
			start: 1},
		{name: "no surge: an old one goes first",
			replicas: 3, unavailable: 1, pending: 3, old: []string{"o1", "o2", "o3"}, avail: []string{"o1", "o2", "o3"},
			remove: []string{"o1"}},
		{name: "no surge, one gone: the first new starts",
			replicas: 3, unavailable: 1, pending: 3, old: []string{"o2", "o3"}, avail: []string{"o2", "o3"},
			start: 1},
		{name: "unavailable old pods go first, available ones stay for minAvailable",
			replicas: 2, surge: 1, unavailable: 0, started: []string{"n1"}, pending: 1, old: []string{"o1", "o2"}, avail: []string{"n1", "o2"},
			remove: []string{"o1"}},
		{name: "a new pod that never becomes available holds the old ones",
			replicas: 2, surge: 1, started: []string{"n1"}, pending: 1, old: []string{"o1", "o2"}, avail: []string{"o1", "o2"}},
		{name: "25% of 4 either way: one more, one less",
			replicas: 4, surge: 1, unavailable: 1, pending: 4, old: []string{"o1", "o2", "o3", "o4"}, avail: []string{"o1", "o2", "o3", "o4"},
			start: 1, remove: []string{"o1"}},
		{name: "all new available: the last old ones go",
			replicas: 2, surge: 1, started: []string{"n1", "n2"}, old: []string{"o2"}, avail: []string{"n1", "n2", "o2"},
			remove: []string{"o2"}},
		{name: "scaled to 0: every old one goes",
			replicas: 0, surge: 0, unavailable: 0, old: []string{"o1", "o2"}, avail: []string{"o1"},
			remove: []string{"o2", "o1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := rolloutState{replicas: tc.replicas, surge: tc.surge, unavailable: tc.unavailable,
				started: tc.started, pending: tc.pending, old: tc.old,
				available: func(n string) bool { return slices.Contains(tc.avail, n) }}
			start, remove := s.next()
			if start != tc.start || !slices.Equal(remove, tc.remove) {
				t.Errorf("next() = start %d, remove %v; want start %d, remove %v", start, remove, tc.start, tc.remove)
			}
		})
	}
}

// rolloutSetup runs version 1 of a Deployment of replicas pods, and gives
// the rollout to version 2 (whose pods are ready when ready2 says).
func rolloutSetup(t *testing.T, replicas string, probe bool) (*Runner, *fakeUnits, Rollout) {
	t.Helper()
	doc := func(v string) *pod.Manifest {
		readiness := ""
		if probe && v == "2" {
			readiness = ", readinessProbe: {tcpSocket: {port: 80}}"
		}
		m, err := pod.Load([]byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: ` + replicas + `
  progressDeadlineSeconds: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: local/app:` + v + readiness + `}]}
`))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	plans := func(m *pod.Manifest) []*units.Plan {
		var out []*units.Plan
		for _, p := range m.Pods {
			plan, err := units.Translate(p, m.Resolved[p.Name], units.Options{Podman: "/usr/bin/podman", Self: "/usr/bin/podunit", InfraImage: "infra:1"})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, plan)
		}
		return out
	}
	fu := newFakeUnits()
	fe := &fakeEngine{images: map[string]bool{"local/app:1": true, "local/app:2": true}, volumes: map[string]map[string]string{}, containers: map[string]map[string]string{}}
	r := &Runner{Units: fu, Engine: fe, StateDir: t.TempDir()}
	v1, v2 := doc("1"), doc("2")
	if err := r.UpAll(context.Background(), v1.Pods, plans(v1), UpOptions{}); err != nil {
		t.Fatal(err)
	}
	var old []string
	for _, p := range v1.Pods {
		old = append(old, p.Name)
	}
	return r, fu, Rollout{Deployment: v2.Objects.Deployments[0], Pending: v2.Pods, Plans: plans(v2), Old: old}
}

func TestRollOutReplacesOldPods(t *testing.T) {
	r, _, ro := rolloutSetup(t, "3", false)
	var events []string
	running := 3
	stopping := map[string]bool{}
	err := r.RollOut(context.Background(), ro, UpOptions{}, func(e RolloutEvent) {
		switch {
		case e.Started:
			running++
			events = append(events, "+"+e.Pod)
		case e.Stopping:
			// a terminating pod counts no more (with surge its removal
			// goes on while the rollout does)
			running--
			stopping[e.Pod] = true
		default:
			if !stopping[e.Pod] {
				t.Errorf("%s removed, never said to stop", e.Pod)
			}
			events = append(events, "-"+e.Pod)
		}
		if running > 4 || running < 3 {
			t.Errorf("%d pods at once (3 replicas, maxSurge 1, maxUnavailable 0)", running)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	sts, err := r.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var now []string // the running pods (the fake keeps stopped units loaded)
	for _, s := range sts {
		if s.Phase == "Running" {
			now = append(now, s.Name)
		}
	}
	for _, p := range ro.Pending {
		if !slices.Contains(now, p.Name) {
			t.Errorf("new pod %s does not run: %v", p.Name, now)
		}
	}
	for _, o := range ro.Old {
		if slices.Contains(now, o) {
			t.Errorf("old pod %s runs on: %v", o, now)
		}
	}
	if len(events) != 6 || events[0][0] != '+' {
		t.Errorf("events %v: want a new pod first, 3 started and 3 removed", events)
	}
}

func TestRollOutStallsAtTheDeadline(t *testing.T) {
	r, _, ro := rolloutSetup(t, "2", true) // the new pods never become ready
	start := time.Now()
	var events []string
	err := r.RollOut(context.Background(), ro, UpOptions{}, func(e RolloutEvent) {
		events = append(events, fmt.Sprint(e.Started, e.Pod))
	})
	if err == nil || !strings.Contains(err.Error(), "progress deadline") {
		t.Fatalf("RollOut: %v, want the progress deadline passed", err)
	}
	if len(events) != 1 || time.Since(start) > 10*time.Second {
		t.Errorf("events %v after %s: want one new pod started, no old one removed", events, time.Since(start))
	}
	sts, _ := r.Status(context.Background())
	for _, o := range ro.Old {
		if !slices.ContainsFunc(sts, func(s PodStatus) bool { return s.Name == o && s.Phase == "Running" }) {
			t.Errorf("old pod %s is not kept running", o)
		}
	}
}

// An old pod that takes long to stop (its grace period) does not hold the
// rollout up, as a terminating pod does not hold the controller's: the new
// pods all start meanwhile, and RollOut returns once it is gone.
func TestRollOutGoesOnWhileAnOldPodStops(t *testing.T) {
	r, fu, ro := rolloutSetup(t, "3", false)
	release := make(chan struct{})
	var once sync.Once
	slow := ""
	fu.onStop = func(names []string) {
		for _, o := range ro.Old {
			if slices.Contains(names, units.InfraUnitName(o)) {
				first := false
				once.Do(func() { slow, first = o, true })
				if first {
					<-release
				}
			}
		}
	}
	var mu sync.Mutex
	var events []string
	done := make(chan error)
	go func() {
		done <- r.RollOut(context.Background(), ro, UpOptions{}, func(e RolloutEvent) {
			mu.Lock()
			defer mu.Unlock()
			switch {
			case e.Started:
				events = append(events, "+"+e.Pod)
			case !e.Stopping:
				events = append(events, "-"+e.Pod)
			}
		})
	}()
	started := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, e := range events {
			if e[0] == '+' {
				n++
			}
		}
		return n
	}
	for deadline := time.Now().Add(20 * time.Second); started() < 3; time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("RollOut returned while an old pod still stops: %v (events %v)", err, events)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new pods did not all start while an old pod stopped: %v", events)
		}
	}
	select {
	case err := <-done:
		t.Fatalf("RollOut returned while old pod %s still stops: %v", slow, err)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 6 || slices.Index(events, "-"+slow) < slices.Index(events, "+"+ro.Pending[2].Name) {
		t.Errorf("events %v: want 3 started, 3 removed, the slow one (%s) after the last start", events, slow)
	}
}
