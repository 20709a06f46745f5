package proxy

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/podunit/podunit/cluster"
	"github.com/podunit/podunit/helper"
	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/podstate/objstore"
)

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestProxyForwards: the proxy's data path on loopback, a Service whose
// address is 127.0.0.1 in front of a "pod" at 127.0.0.1: TCP and UDP reach
// the target port by its name, a pod that is not ready gets nothing.
func TestProxyForwards(t *testing.T) {
	// The pod: a TCP server that answers "pong <line>", a UDP one that echoes.
	tl, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	go func() {
		for {
			c, err := tl.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadString('\n')
				io.WriteString(c, "pong "+line)
			}()
		}
	}()
	ul, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ul.Close()
	go func() {
		b := make([]byte, 1500)
		for {
			n, from, err := ul.ReadFromUDP(b)
			if err != nil {
				return
			}
			ul.WriteToUDP(append([]byte("echo "), b[:n]...), from)
		}
	}()
	tcpPort, udpPort := tl.Addr().(*net.TCPAddr).Port, ul.LocalAddr().(*net.UDPAddr).Port

	svcPort := freePort(t)
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "default"}, Spec: corev1.ServiceSpec{
		ClusterIP: "127.0.0.1", Selector: map[string]string{"app": "a"},
		Ports: []corev1.ServicePort{
			{Name: "t", Port: int32(svcPort), TargetPort: intstr.FromString("web"), Protocol: corev1.ProtocolTCP},
			{Name: "u", Port: int32(svcPort), TargetPort: intstr.FromInt32(int32(udpPort)), Protocol: corev1.ProtocolUDP},
		}}}
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "a1", Namespace: "default", Labels: map[string]string{"app": "a"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Ports: []corev1.ContainerPort{
			{Name: "web", ContainerPort: int32(tcpPort), Protocol: corev1.ProtocolTCP}}}}}}
	px := &Proxy{Env: &helper.Env{Out: io.Discard}, listeners: map[cluster.Listener]io.Closer{}}
	set := func(ready bool) {
		px.setState(&cluster.State{Services: []*corev1.Service{svc}, Pods: []cluster.Pod{{Spec: p, IP: netip.MustParseAddr("127.0.0.1"), Ready: ready}}})
	}
	set(true)
	defer px.closeAll()

	addr := net.JoinHostPort("127.0.0.1", itoa(svcPort))
	c, err := net.DialTimeout("tcp4", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "ping\n")
	got, _ := io.ReadAll(c)
	c.Close()
	if string(got) != "pong ping\n" {
		t.Errorf("TCP through the proxy: %q", got)
	}

	u, err := net.Dial("udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	u.Write([]byte("hi"))
	u.SetReadDeadline(time.Now().Add(2 * time.Second))
	b := make([]byte, 100)
	n, err := u.Read(b)
	u.Close()
	if err != nil || string(b[:n]) != "echo hi" {
		t.Errorf("UDP through the proxy: %q %v", b[:n], err)
	}

	// Not ready: the connection is refused (closed at once), nothing reaches the pod.
	set(false)
	c, err = net.DialTimeout("tcp4", addr, 2*time.Second)
	if err == nil {
		io.WriteString(c, "ping\n")
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		got, _ = io.ReadAll(c)
		c.Close()
		if strings.Contains(string(got), "pong") {
			t.Errorf("a pod that is not ready answered: %q", got)
		}
	}

	// A Service that goes closes its listener.
	px.setState(&cluster.State{})
	if c, err := net.DialTimeout("tcp4", addr, time.Second); err == nil {
		c.Close()
		t.Error("the listener of a removed Service still accepts")
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

type fakeAddrs struct {
	mu   sync.Mutex
	want []netip.Addr
}

func (f *fakeAddrs) SetAddrs(want []netip.Addr, keep netip.Prefix) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.want = append([]netip.Addr(nil), want...)
	return nil
}

func (f *fakeAddrs) has(a netip.Addr) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Contains(f.want, a)
}

// TestProxyFollowsState: the proxy learns of a Service, a pod, a container's
// start, readiness flips and a pod's removal from the state directory as
// they happen (well before its periodic re-read), starting from an empty
// directory.
func TestProxyFollowsState(t *testing.T) {
	dir := t.TempDir()
	addrs := &fakeAddrs{}
	px := &Proxy{
		Env: &helper.Env{Out: io.Discard, StateDir: dir,
			PodIPs: func(pid int) ([]string, error) { return []string{"10.96.130.7"}, nil }},
		eng: fakeEngine{}, Addrs: addrs,
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := px.start(ctx); err != nil {
		t.Fatal(err)
	}
	defer px.closeAll()
	done := make(chan error, 1)
	go func() { done <- px.follow(ctx, func() bool { return true }) }()

	// Under proxyPoll: only a change seen can explain an update.
	within := func(what string, ok func(*cluster.State) bool) {
		t.Helper()
		deadline := time.Now().Add(proxyPoll / 2)
		for !ok(px.state.Load()) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not seen in %s", what, proxyPoll/2)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	svcIP := netip.MustParseAddr("10.96.0.42")
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "default"}, Spec: corev1.ServiceSpec{
		ClusterIP: svcIP.String(), Selector: map[string]string{"app": "a"},
		Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080), Protocol: corev1.ProtocolTCP}}}}
	if err := objstore.SaveObjects(dir, &pod.Objects{Services: []*corev1.Service{svc}}); err != nil {
		t.Fatal(err)
	}
	within("a Service stored", func(st *cluster.State) bool { return len(st.Services) == 1 })
	if !addrs.has(svcIP) {
		t.Errorf("the Service's address is not on the interface: %v", addrs.want)
	}

	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "a1", Namespace: "default", Labels: map[string]string{"app": "a"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c",
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8080)}}}}}}}
	data, err := json.Marshal(map[string]any{"pod": p})
	if err != nil {
		t.Fatal(err)
	}
	if err := podstate.WriteAtomic(filepath.Join(podstate.PodDir(dir, "a1"), "pod.json"), data); err != nil {
		t.Fatal(err)
	}
	ready := func(want bool) func(st *cluster.State) bool {
		return func(st *cluster.State) bool { return len(st.Pods) == 1 && st.Pods[0].Ready == want }
	}
	within("a pod recorded, not started", ready(false))
	if err := podstate.SaveRun(dir, "a1", "c", podstate.Run{Started: time.Now()}); err != nil {
		t.Fatal(err)
	}
	within("its container started", func(st *cluster.State) bool { return len(st.Pods) == 1 && st.Pods[0].IP.IsValid() })
	if ready(true)(px.state.Load()) {
		t.Fatal("ready before the prober said so")
	}
	if err := podstate.SetReady(dir, "a1", "c", true); err != nil {
		t.Fatal(err)
	}
	within("found ready", ready(true))
	if err := podstate.SetReady(dir, "a1", "c", false); err != nil {
		t.Fatal(err)
	}
	within("found not ready", ready(false))
	if err := podstate.SetReady(dir, "a1", "c", true); err != nil {
		t.Fatal(err)
	}
	within("ready again", ready(true))
	if err := os.RemoveAll(podstate.PodDir(dir, "a1")); err != nil {
		t.Fatal(err)
	}
	within("the pod removed", func(st *cluster.State) bool { return len(st.Pods) == 0 })
	if px.watch == nil {
		t.Error("the proxy went back to polling")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("follow: %v", err)
	}
}

// The proxy serves only: the services container's start and clearing are
// helper.Env's own (podunit-helper runs them).
func TestRunServesOnly(t *testing.T) {
	e := &helper.Env{Out: io.Discard, StateDir: t.TempDir(), Services: Run,
		Engine: func(context.Context) (helper.Engine, error) { return fakeEngine{}, nil }}
	for _, action := range []string{contract.ServicesRun, contract.ServicesClear} {
		if err := Run(context.Background(), e, contract.Command{Op: contract.OpServices, Action: action}); !errors.Is(err, contract.ErrUsage) {
			t.Errorf("proxy Run of %s: %v", action, err)
		}
	}
}

// fakeEngine is a podman with a running services container.
type fakeEngine struct{ helper.Engine }

func (fakeEngine) ContainerPID(ctx context.Context, name string) (int, error) { return 4242, nil }
