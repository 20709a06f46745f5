package helper

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/podstate/objstore"
)

// A container of a pod on the pod network starts, where NetworkPolicies are
// stored, once the service proxy says it set the firewall of the infra's
// namespace (process 4242 in the fake engine); it asks for that, and starts
// with a warning when the proxy does not answer in FirewallWait. Without
// policies nothing is read or waited for.
func TestRunAwaitsFirewall(t *testing.T) {
	app := contract.Container{Name: "app", Podman: "p_app", Kind: contract.KindApp, Args: []string{"run", "img"}}
	onPodNet := func(w *world) {
		w.env.PodIPs = func(pid int) ([]string, error) {
			w.podIPsOf = append(w.podIPsOf, pid)
			return []string{"10.96.128.9"}, nil
		}
	}
	storePolicy := func(t *testing.T, w *world) {
		np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "deny", Namespace: "default"}}
		if err := objstore.SaveObjects(w.env.StateDir, &pod.Objects{NetworkPolicies: []*networkingv1.NetworkPolicy{np}}); err != nil {
			t.Fatal(err)
		}
	}

	w := newWorld(t, runtime1(app))
	onPodNet(w)
	if err := w.main(t, contract.Command{Op: contract.OpRun, Pod: "p", Container: "app"}); err != nil {
		t.Fatalf("run: %v", err)
	}
	if len(w.sleeps) != 0 || len(w.podIPsOf) != 0 || len(w.execd) != 1 {
		t.Errorf("no policy stored: slept %v, namespaces read %v, started %d", w.sleeps, w.podIPsOf, len(w.execd))
	}

	// the proxy answers after three looks
	w = newWorld(t, runtime1(app))
	onPodNet(w)
	storePolicy(t, w)
	sleep := w.env.Sleep
	w.env.Sleep = func(ctx context.Context, d time.Duration) error {
		if len(w.sleeps) == 2 {
			data, err := os.ReadFile(podstate.FirewallWanted(w.env.StateDir, "p"))
			if err != nil || strings.TrimSpace(string(data)) != "4242" {
				t.Errorf("asked for the firewall of %q (%v), want 4242", data, err)
			}
			if len(w.execd) != 0 {
				t.Error("started before the firewall was set")
			}
			if err := podstate.WriteAtomic(podstate.FirewallFile(w.env.StateDir, "p"), []byte("4242\n")); err != nil {
				t.Fatal(err)
			}
		}
		return sleep(ctx, d)
	}
	if err := w.main(t, contract.Command{Op: contract.OpRun, Pod: "p", Container: "app"}); err != nil {
		t.Fatalf("run: %v", err)
	}
	if len(w.sleeps) != 3 || len(w.execd) != 1 {
		t.Errorf("slept %v, started %d, want 3 waits, then the start", w.sleeps, len(w.execd))
	}

	// a firewall set for another namespace (an infra before) is not this
	// one's; nobody answers: the start goes on, saying so
	w = newWorld(t, runtime1(app))
	onPodNet(w)
	storePolicy(t, w)
	if err := podstate.WriteAtomic(podstate.FirewallFile(w.env.StateDir, "p"), []byte("4000\n")); err != nil {
		t.Fatal(err)
	}
	if err := w.main(t, contract.Command{Op: contract.OpRun, Pod: "p", Container: "app"}); err != nil {
		t.Fatalf("run: %v", err)
	}
	var waited time.Duration
	for _, d := range w.sleeps {
		waited += d
	}
	if waited < FirewallWait || waited > FirewallWait+time.Second || len(w.execd) != 1 {
		t.Errorf("waited %s, started %d: want %s, then the start", waited, len(w.execd), FirewallWait)
	}
	if evs := events(t, w); !slices.ContainsFunc(evs, func(e string) bool { return strings.HasPrefix(e, "NetworkPolicy: the service proxy did not set") }) {
		t.Errorf("events: %v", evs)
	}

	// a pod not on the pod network (slirp4netns) does not wait
	w = newWorld(t, runtime1(app))
	storePolicy(t, w)
	if err := w.main(t, contract.Command{Op: contract.OpRun, Pod: "p", Container: "app"}); err != nil || len(w.sleeps) != 0 {
		t.Errorf("off the pod network: %v, slept %v", err, w.sleeps)
	}
}
