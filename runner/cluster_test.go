package runner

import (
	"context"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/podstate/objstore"
	"github.com/podunit/podunit/units"
)

// The service proxy: started once with the network, restarted when its node
// ports change, held by users, and taken away with the network only when no
// pod is on it and no Service is left.
func TestServicesLifecycle(t *testing.T) {
	ctx := context.Background()
	fu, fe := newFakeUnits(), &fakeEngine{containers: map[string]map[string]string{}}
	fu.onStart = func(u units.Unit) {
		if u.Name == units.ServicesUnit {
			// what podman run of the services container leaves
			fe.mu.Lock()
			fe.containers[units.ServicesContainer] = map[string]string{units.LabelRole: units.RoleServices, units.LabelNodePorts: fe.nextPorts}
			fe.mu.Unlock()
		}
	}
	r := &Runner{Units: fu, Engine: fe, StateDir: t.TempDir()}
	o := units.Options{Podman: "/usr/bin/podman", Self: "/usr/bin/podunit", InfraImage: "img"}

	release, err := r.UseServices(ctx, units.ServicesFor(o, nil))
	if err != nil {
		t.Fatal(err)
	}
	release()
	if !fe.network || strings.Join(fu.log, ";") != "start podunit.services.service;start podunit.proxy.service" {
		t.Fatalf("first use: network %v, log %v", fe.network, fu.log)
	}
	// Used again with the same node ports: nothing to do.
	release, err = r.UseServices(ctx, units.ServicesFor(o, nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(fu.log) != 2 {
		t.Errorf("a running proxy was touched: %v", fu.log)
	}
	// While it is used, removal waits: here, with a deadline, it gives up.
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	if _, err := r.ReleaseServices(short, 0); err == nil {
		t.Error("ReleaseServices did not wait for the user")
	}
	cancel()
	release()

	// A node port more: the units are replaced.
	fe.nextPorts = "30080/tcp"
	release, err = r.UseServices(ctx, units.ServicesFor(o, []string{"30080/tcp"}))
	if err != nil {
		t.Fatal(err)
	}
	release()
	if got := strings.Join(fu.log[2:], ";"); got != "stop podunit.proxy.service,podunit.services.service;start podunit.services.service;start podunit.proxy.service" {
		t.Errorf("node ports changed: %s", got)
	}
	// the units are the same; the command line their helper runs is new
	if !reflect.DeepEqual(units.ServicesFor(o, nil).Units, units.ServicesFor(o, []string{"30080/tcp"}).Units) {
		t.Error("the units differ with the node ports")
	}
	if argv, err := podstate.LoadServicesRun(r.StateDir); err != nil || !strings.Contains(strings.Join(argv, " "), "--publish 30080:30080 img") {
		t.Errorf("the services container's command line: %q %v", argv, err)
	}

	// A pod on the network, or a Service, keeps them.
	if err := r.saveState(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}}); err != nil {
		t.Fatal(err)
	}
	if done, err := r.ReleaseServices(ctx, 0); err != nil || len(done) != 0 || !fe.network {
		t.Errorf("released with a pod on the network: %v %v", done, err)
	}
	if err := r.saveState(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}, Spec: corev1.PodSpec{HostNetwork: true}}); err != nil {
		t.Fatal(err)
	}
	if done, err := r.ReleaseServices(ctx, 1); err != nil || len(done) != 0 {
		t.Errorf("released with a Service left: %v %v", done, err)
	}
	done, err := r.ReleaseServices(ctx, 0)
	if err != nil || len(done) != 2 || fe.network {
		t.Errorf("not released when nothing is left: %v %v (network %v)", done, err, fe.network)
	}
	if sts, _ := fu.List(ctx, "podunit.*"); len(sts) != 0 {
		t.Errorf("units left: %v", sts)
	}
}

// A pod recorded on the network while the last one's down stops the proxy
// (an up that began meanwhile) keeps the network; and a pod recorded on it
// makes sure it is there.
func TestReleaseServicesRacingUp(t *testing.T) {
	ctx := context.Background()
	fe := &fakeEngine{containers: map[string]map[string]string{}}
	fu := newFakeUnits()
	fu.onStart = func(u units.Unit) {
		if u.Name == units.ServicesUnit {
			fe.mu.Lock()
			fe.containers[units.ServicesContainer] = map[string]string{units.LabelRole: units.RoleServices}
			fe.mu.Unlock()
		}
	}
	r := &Runner{Units: fu, Engine: fe, StateDir: t.TempDir()}
	o := units.Options{Self: "/usr/bin/podunit", Podman: "/usr/bin/podman", InfraImage: "podunit-infra:1"}
	release, err := r.UseServices(ctx, units.ServicesFor(o, nil))
	if err != nil {
		t.Fatal(err)
	}
	release()
	fu.onStop = func([]string) {
		if err := r.saveState(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "new", Namespace: "default"}}); err != nil {
			t.Error(err)
		}
	}
	if _, err := r.ReleaseServices(ctx, 0); err != nil || !fe.network {
		t.Errorf("the network went under a pod recorded meanwhile: %v (network %v)", err, fe.network)
	}
	fe.network = false // taken away before the record
	if err := r.networkFor(ctx); err != nil || !fe.network {
		t.Errorf("networkFor: %v (network %v)", err, fe.network)
	}
}

// What would make the proxy fail is known before the pods start alongside
// it: the network is made, and a container of the proxy's name that podunit
// did not make is refused (and left alone); the proxy's own is fine.
func TestServicesPossible(t *testing.T) {
	ctx := context.Background()
	fe := &fakeEngine{containers: map[string]map[string]string{}}
	r := &Runner{Units: newFakeUnits(), Engine: fe, StateDir: t.TempDir()}
	if err := r.ServicesPossible(ctx); err != nil || !fe.network {
		t.Fatalf("nothing there: %v, network %v", err, fe.network)
	}
	fe.containers[units.ServicesContainer] = map[string]string{units.LabelRole: units.RoleServices}
	if err := r.ServicesPossible(ctx); err != nil {
		t.Errorf("the proxy's own container: %v", err)
	}
	fe.containers[units.ServicesContainer] = map[string]string{"owner": "someone"}
	err := r.ServicesPossible(ctx)
	if err == nil || !strings.Contains(err.Error(), "podunit__services exists and was not created by podunit") {
		t.Errorf("a foreign container of the proxy's name: %v", err)
	}
	if _, ok := fe.containers[units.ServicesContainer]; !ok {
		t.Error("the foreign container was removed")
	}
}

// The last pod on the network, taken down alone, lets the service proxy
// stop while its infra does: after its containers, never before; not while
// another pod is on the network, a Service is stored, or an up uses the
// proxy.
func TestStopProxyUnusedAlongTheInfra(t *testing.T) {
	ctx := context.Background()
	r, fu, fe, p, plan := setup(t, twoContainers)
	fu.onStart = func(u units.Unit) {
		if u.Name == units.ServicesUnit {
			fe.mu.Lock()
			fe.containers[units.ServicesContainer] = map[string]string{units.LabelRole: units.RoleServices}
			fe.mu.Unlock()
		}
	}
	o := units.Options{Self: "/usr/bin/podunit", Podman: "/usr/bin/podman", InfraImage: "podunit-infra:1"}
	startProxy := func() {
		release, err := r.UseServices(ctx, units.ServicesFor(o, nil))
		if err != nil {
			t.Fatal(err)
		}
		release()
	}
	startProxy()
	if err := r.Up(ctx, p, plan, UpOptions{}); err != nil {
		t.Fatal(err)
	}
	var said []string
	down := func() {
		t.Helper()
		said = nil
		fu.mu.Lock()
		fu.log = nil
		fu.mu.Unlock()
		err := r.Down(ctx, "web", DownOptions{WithInfra: func(ctx context.Context) {
			var err error
			if said, err = r.StopProxyUnused(ctx, "web"); err != nil {
				t.Error(err)
			}
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	stopped := func() int { // where in the log the proxy stopped, or -1
		fu.mu.Lock()
		defer fu.mu.Unlock()
		for i, l := range fu.log {
			if strings.Contains(l, units.ProxyUnit) && strings.HasPrefix(l, "stop ") {
				return i
			}
		}
		return -1
	}

	// another pod on the network keeps it
	if err := r.saveState(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: "default"}}); err != nil {
		t.Fatal(err)
	}
	down()
	if stopped() >= 0 || len(said) != 0 {
		t.Errorf("stopped with another pod on the network: %v", fu.log)
	}
	if err := os.RemoveAll(r.podDir("other")); err != nil {
		t.Fatal(err)
	}

	// the last pod: after its containers
	if err := r.Up(ctx, p, plan, UpOptions{}); err != nil {
		t.Fatal(err)
	}
	down()
	containers := slices.IndexFunc(fu.log, func(l string) bool { return strings.Contains(l, units.ContainerUnitName("web", "a")) })
	if i := stopped(); i < 0 || i < containers || len(said) != 1 {
		t.Errorf("the last pod: proxy stopped at %d, its containers at %d: %v (said %v)", i, containers, fu.log, said)
	}

	// a Service stored keeps it
	startProxy()
	if err := r.Up(ctx, p, plan, UpOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := objstore.SaveObjects(r.StateDir, &pod.Objects{Services: []*corev1.Service{{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "default"}}}}); err != nil {
		t.Fatal(err)
	}
	down()
	if stopped() >= 0 {
		t.Errorf("stopped with a Service stored: %v", fu.log)
	}
}
