package helper

import (
	"context"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/units/unitdef"
)

// FirewallWait is how long a container's start waits for the service proxy
// to set its pod's NetworkPolicy firewall before it starts anyway, with a
// warning (as a cluster's pod may start before its network plugin applied
// a policy).
const FirewallWait = 10 * time.Second

// awaitFirewall holds a container's start, where NetworkPolicies are stored
// and the pod is on the pod network, until the service proxy has set the
// firewall of the pod's network namespace and, in the same pass, those of
// the pods that name it as a peer: a container does not start before the
// policies that limit it hold, nor before those that let it reach others
// know its address.
func (t *task) awaitFirewall(ctx context.Context) error {
	if t.rt.HostNetwork || !podstate.NetworkPoliciesStored(t.StateDir) {
		return nil
	}
	if _, err := t.engine(ctx); err != nil {
		return err
	}
	n, err := t.podNet(ctx)
	if err != nil || !onPodNetwork(n.ips) {
		return nil // an infra that does not run fails the start soon, saying why
	}
	want := strconv.Itoa(n.pid)
	done := func() bool {
		data, err := os.ReadFile(podstate.FirewallFile(t.StateDir, t.rt.Pod))
		return err == nil && strings.TrimSpace(string(data)) == want
	}
	if done() {
		return nil
	}
	if err := podstate.WriteAtomic(podstate.FirewallWanted(t.StateDir, t.rt.Pod), []byte(want+"\n")); err != nil {
		return err
	}
	deadline := t.Now().Add(FirewallWait)
	for !done() {
		if !t.Now().Before(deadline) {
			t.event("Warning", "NetworkPolicy", "the service proxy did not set the pod's NetworkPolicy firewall within %s: starting without it", FirewallWait)
			return nil
		}
		if err := t.Sleep(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

func onPodNetwork(ips []string) bool {
	for _, s := range ips {
		if a, err := netip.ParseAddr(s); err == nil && unitdef.PodRange.Contains(a) {
			return true
		}
	}
	return false
}
