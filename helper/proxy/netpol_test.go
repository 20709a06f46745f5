package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podunit/podunit/cluster"
	"github.com/podunit/podunit/helper"
	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/podstate/objstore"
	"github.com/podunit/podunit/units/unitdef"
)

// pidEngine is a podman whose pods' infras run as the processes pids says.
type pidEngine struct {
	helper.Engine
	mu   sync.Mutex
	pids map[string]int // by infra container name
}

func (e *pidEngine) ContainerPID(ctx context.Context, name string) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.pids[name], nil
}

func (e *pidEngine) set(pod string, pid int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pids[unitdef.InfraContainerName(pod)] = pid
}

// TestProxyEnforces: the proxy sets the firewall of the pods a stored
// NetworkPolicy selects, in their infra's network namespace, again when the
// infra is a new one or the policy changes, and takes it away when no
// policy selects the pod; each pod is told once its firewall (and its
// peers') is set, not when setting it failed. Connections through the proxy
// go only to endpoints the policies let the client reach.
func TestProxyEnforces(t *testing.T) {
	dir := t.TempDir()
	ips := map[int]string{101: "10.96.128.2", 102: "10.96.128.3", 103: "10.96.128.4", 201: "10.96.128.2"}
	eng := &pidEngine{pids: map[string]int{}}
	px := &Proxy{
		Env: &helper.Env{Out: io.Discard, StateDir: dir,
			PodIPs: func(pid int) ([]string, error) { return []string{ips[pid]}, nil }},
		eng: eng, Addrs: &fakeAddrs{},
	}
	type call struct {
		pid int
		fw  cluster.Firewall
	}
	var mu sync.Mutex
	var calls []call
	fail := map[int]bool{}
	old := setFirewall
	setFirewall = func(pid int, fw cluster.Firewall) error {
		mu.Lock()
		defer mu.Unlock()
		if fail[pid] {
			return errors.New("no nftables here")
		}
		calls = append(calls, call{pid, fw})
		return nil
	}
	defer func() { setFirewall = old }()
	took := func() []call {
		mu.Lock()
		defer mu.Unlock()
		c := calls
		calls = nil
		return c
	}
	record := func(name string, labels map[string]string, pid int) {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: labels},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}}}
		data, _ := json.Marshal(map[string]any{"pod": p})
		if err := podstate.WriteAtomic(filepath.Join(podstate.PodDir(dir, name), "pod.json"), data); err != nil {
			t.Fatal(err)
		}
		if err := podstate.SaveRun(dir, name, "c", podstate.Run{Started: time.Now()}); err != nil {
			t.Fatal(err)
		}
		eng.set(name, pid)
	}
	marker := func(name string) string {
		data, _ := os.ReadFile(podstate.FirewallFile(dir, name))
		return strings.TrimSpace(string(data))
	}
	record("db", map[string]string{"app": "db"}, 101)
	record("front", map[string]string{"role": "frontend"}, 102)
	record("other", map[string]string{"role": "other"}, 103)
	m, err := pod.LoadSources([]pod.Source{{Data: []byte(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {role: frontend}}}], ports: [{port: http}]}]
`)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := objstore.SaveObjects(dir, &m.Objects); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := px.start(ctx); err != nil {
		t.Fatal(err)
	}
	defer px.closeAll()

	c := took()
	if len(c) != 1 || c[0].pid != 101 || c[0].fw.Ingress == nil || c[0].fw.Egress != nil {
		t.Fatalf("firewalls set: %+v, want db's (pid 101), ingress only", c)
	}
	in := *c[0].fw.Ingress
	front := netip.MustParseAddr("10.96.128.3")
	// the proxy's own traffic passes (it checked it), then the policy's peer
	if !anyMatches(in, netip.MustParseAddr("10.96.0.42"), 8080) || !anyMatches(in, front, 8080) ||
		anyMatches(in, netip.MustParseAddr("10.96.128.4"), 8080) || anyMatches(in, front, 9090) || anyMatches(in, cluster.Gateway, 8080) {
		t.Errorf("db's ingress rules: %+v", in)
	}
	for name, pid := range map[string]string{"db": "101", "front": "102", "other": "103"} {
		if got := marker(name); got != pid {
			t.Errorf("%s's firewall file: %q, want %q", name, got, pid)
		}
	}

	// through the proxy: the frontend reaches db, the other pod does not
	eps := []cluster.Endpoint{{Pod: "db", Addr: netip.MustParseAddrPort("10.96.128.2:8080")}}
	if got := px.allowed(front, corev1.ProtocolTCP, eps); len(got) != 1 {
		t.Errorf("the frontend's connection to db: %v", got)
	}
	if got := px.allowed(netip.MustParseAddr("10.96.128.4"), corev1.ProtocolTCP, eps); len(got) != 0 {
		t.Errorf("another pod's connection to db: %v", got)
	}

	// nothing changed: nothing set again
	if err := px.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if c := took(); len(c) != 0 {
		t.Errorf("set again with nothing changed: %+v", c)
	}

	// db's infra restarts (a new namespace): set there; setting it fails
	// first, and db is not told until it worked
	mu.Lock()
	fail[201] = true
	mu.Unlock()
	eng.set("db", 201)
	if err := podstate.SaveRun(dir, "db", "c", podstate.Run{Started: time.Now().Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	if err := px.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := marker("db"); got != "101" {
		t.Errorf("db's firewall file after a failure: %q, want the old 101", got)
	}
	mu.Lock()
	fail[201] = false
	mu.Unlock()
	if err := px.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if c := took(); len(c) != 1 || c[0].pid != 201 || c[0].fw.Ingress == nil {
		t.Errorf("after the infra's restart: %+v", c)
	}
	if got := marker("db"); got != "201" {
		t.Errorf("db's firewall file: %q, want 201", got)
	}

	// db's infra restarts again, and a container's start asks for the new
	// one's firewall before any container started: set there at once
	eng.set("db", 301)
	ips[301] = "10.96.128.2"
	if err := podstate.WriteAtomic(podstate.FirewallWanted(dir, "db"), []byte("301\n")); err != nil {
		t.Fatal(err)
	}
	if err := px.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if c := took(); len(c) != 1 || c[0].pid != 301 || c[0].fw.Ingress == nil {
		t.Errorf("a new infra asked for: %+v", c)
	}
	if got := marker("db"); got != "301" {
		t.Errorf("db's firewall file: %q, want 301", got)
	}

	// the policy goes: db's firewall is taken away, and nothing else is set
	if _, err := objstore.RemoveObjects(dir, &pod.Objects{NetworkPolicies: []*networkingv1.NetworkPolicy{m.Objects.NetworkPolicies[0]}}); err != nil {
		t.Fatal(err)
	}
	if err := px.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if c := took(); len(c) != 1 || c[0].pid != 301 || c[0].fw.Isolated() {
		t.Errorf("after the policy went: %+v", c)
	}
	if got := px.allowed(netip.MustParseAddr("10.96.128.4"), corev1.ProtocolTCP, eps); len(got) != 1 {
		t.Errorf("without policies, another pod's connection to db: %v", got)
	}
}

func anyMatches(as []cluster.Allow, addr netip.Addr, port uint16) bool {
	for _, a := range as {
		if a.Matches(addr, corev1.ProtocolTCP, port) {
			return true
		}
	}
	return false
}
