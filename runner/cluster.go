package runner

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podunit/podunit/cluster"
	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/podstate/objstore"
	"github.com/podunit/podunit/units"
)

// OnPodNetwork tells whether a pod joins podunit's pod network.
func OnPodNetwork(p *corev1.Pod) bool {
	return !p.Spec.HostNetwork && p.Annotations[pod.AnnotationNetwork] != pod.NetworkSlirp
}

// EnsureServices makes sure the pod network exists and the service proxy
// runs as svc says, publishing its node ports. A proxy that publishes other
// node ports is restarted with the new command line: the set is fixed when
// its container starts. With keep, it publishes the ports of every Service and Ingress stored now too: another
// podunit, starting pods at the same moment (the persistent pods at a
// login), may have stored its Services, which svc, made before, lacks.
func (r *Runner) EnsureServices(ctx context.Context, svc units.Services, keep bool) error {
	unlock, err := r.servicesLock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if err := r.Engine.EnsureNetwork(ctx); err != nil {
		return err
	}
	loaded, active, err := r.proxyUnits(ctx)
	if err != nil {
		return err
	}
	if keep {
		svc = r.withStored(svc)
	}
	if active[units.ServicesUnit] {
		have, err := r.published(ctx)
		if err != nil {
			return err
		}
		if slices.Equal(have, svc.NodePorts) {
			if !active[units.ProxyUnit] {
				return r.Units.StartKept(ctx, svc.Units[1:])
			}
			return nil
		}
	}
	us := svc.Units
	if err := podstate.SaveServicesRun(r.StateDir, svc.Run); err != nil {
		return fmt.Errorf("starting the service proxy: %w", err)
	}
	if len(loaded) > 0 {
		if err := r.Units.Stop(ctx, loaded); err != nil {
			return fmt.Errorf("restarting the service proxy: %w", err)
		}
	}
	// Stopped, the units may stay loaded while the pods' units refer to
	// them: they start again as they are, and read the new command line.
	if err := r.Units.StartKept(ctx, us); err != nil {
		// not left restarting in the background
		var names []string
		for _, u := range us {
			names = append(names, u.Name)
		}
		_ = r.Units.Stop(ctx, names)
		if log := unitLogTail(us); log != "" {
			return fmt.Errorf("starting the service proxy: %w\n%s", err, log)
		}
		return fmt.Errorf("starting the service proxy: %w", err)
	}
	return nil
}

// withStored is svc publishing, besides its own ports, those of the
// Services and Ingresses stored now.
func (r *Runner) withStored(svc units.Services) units.Services {
	services, err := objstore.LoadServices(r.StateDir)
	if err != nil {
		return svc
	}
	stored := cluster.NodePorts(services)
	if ings, err := objstore.LoadIngresses(r.StateDir); err == nil && len(ings) > 0 {
		stored = append(stored, svc.IngressPorts...)
	}
	all := slices.Clone(svc.NodePorts)
	for _, p := range stored {
		if !slices.Contains(all, p) {
			all = append(all, p)
		}
	}
	if len(all) == len(svc.NodePorts) {
		return svc
	}
	slices.Sort(all)
	return svc.Publishing(all)
}

// RepublishServices restarts a running service proxy that publishes other
// node ports than svc (a Service that had one is gone); one that does not
// run is left so.
func (r *Runner) RepublishServices(ctx context.Context, svc units.Services) error {
	_, active, err := r.proxyUnits(ctx)
	if err != nil || !active[units.ServicesUnit] {
		return err
	}
	have, err := r.published(ctx)
	if err != nil || slices.Equal(have, svc.NodePorts) {
		return err
	}
	return r.EnsureServices(ctx, svc, false)
}

// ServicesPossible makes sure the pod network exists and that nothing of
// another's stands where the service proxy goes (a podman container of its
// name that podunit did not create): what makes the proxy fail is then
// known before any pod starts on the network, while the proxy itself may
// start alongside the pods (UseServices).
func (r *Runner) ServicesPossible(ctx context.Context) error {
	if err := r.Engine.EnsureNetwork(ctx); err != nil {
		return err
	}
	labels, ok, err := r.Engine.ContainerLabels(ctx, units.ServicesContainer)
	if err != nil {
		return err
	}
	if ok && labels[units.LabelRole] != units.RoleServices {
		return fmt.Errorf("podman container %s exists and was not created by podunit; rename or remove it", units.ServicesContainer)
	}
	return nil
}

// UseServices makes sure the pod network and the service proxy are there
// (EnsureServices) and keeps them there until release is called: a
// podunit removing them (ReleaseServices, at the last pod's down) waits for
// every user. Many podunits may use them at once.
func (r *Runner) UseServices(ctx context.Context, svc units.Services) (release func(), err error) {
	for attempt := 0; ; attempt++ {
		unlock, err := podstate.LockShared(ctx, r.StateDir, servicesLockName, nil)
		if err != nil {
			return nil, err
		}
		ok, err := r.servicesUp(ctx, svc.NodePorts)
		if err == nil && ok {
			return unlock, nil
		}
		unlock()
		if attempt == 3 {
			return nil, fmt.Errorf("the service proxy does not stay up (systemctl --user status %s %s): %v", units.ServicesUnit, units.ProxyUnit, err)
		}
		if err := r.EnsureServices(ctx, svc, true); err != nil {
			return nil, err
		}
	}
}

// servicesUp tells whether both units of the proxy are active and its
// container publishes nodePorts, and maybe more.
func (r *Runner) servicesUp(ctx context.Context, nodePorts []string) (bool, error) {
	sts, err := r.Units.Loaded(ctx, units.ServicesUnit, units.ProxyUnit)
	if err != nil {
		return false, err
	}
	n := 0
	for _, s := range sts {
		if s.ActiveState == "active" {
			n++
		}
	}
	if n < 2 {
		return false, nil
	}
	have, err := r.published(ctx)
	if err != nil {
		return false, err
	}
	for _, p := range nodePorts {
		if !slices.Contains(have, p) {
			return false, nil
		}
	}
	return true, nil
}

// proxyUnits are the service proxy's units that systemd has loaded, and
// which of them are active (or getting there).
func (r *Runner) proxyUnits(ctx context.Context) (loaded []string, active map[string]bool, err error) {
	sts, err := r.Units.Loaded(ctx, units.ServicesUnit, units.ProxyUnit)
	if err != nil {
		return nil, nil, err
	}
	active = map[string]bool{}
	for _, s := range sts {
		if s.LoadState == "loaded" {
			loaded = append(loaded, s.Name)
		}
		active[s.Name] = s.ActiveState == "active" || s.ActiveState == "activating" || s.ActiveState == "reloading"
	}
	return loaded, active, nil
}

// published is what the services container publishes (nil: none, or no
// container).
func (r *Runner) published(ctx context.Context) ([]string, error) {
	labels, ok, err := r.Engine.ContainerLabels(ctx, units.ServicesContainer)
	if err != nil || !ok {
		return nil, err
	}
	if v := labels[units.LabelNodePorts]; v != "" {
		return strings.Split(v, ","), nil
	}
	return nil, nil
}

// ReleaseServices stops the service proxy and removes the pod network once
// no pod is on it and no Service is left (services: those stored). It says
// what it removed.
func (r *Runner) ReleaseServices(ctx context.Context, services int) ([]string, error) {
	if services > 0 {
		return nil, nil
	}
	unlock, err := r.servicesLock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	done, used, err := r.stopProxyUnused(ctx, "")
	if err != nil || used {
		return done, err
	}
	// The records once more, under the network's lock: a pod recorded on
	// the network since (an up that began meanwhile) keeps it.
	unlockNet, err := podstate.LockPod(ctx, r.StateDir, networkLockName, nil)
	if err != nil {
		return done, err
	}
	defer unlockNet()
	recs, err := r.records()
	if err != nil {
		return done, err
	}
	for _, rec := range recs {
		if OnPodNetwork(rec.Pod) {
			return done, nil
		}
	}
	removed, err := r.Engine.RemoveNetwork(ctx)
	if err != nil {
		return done, err
	}
	if removed {
		done = append(done, "network/"+cluster.Network+" removed")
	}
	return done, nil
}

// StopProxyUnused stops the service proxy when the pod leaving is the last
// on the pod network and no Service is stored, to be called once its
// containers stopped (DownOptions.WithInfra): the proxy then stops while
// the pod's infra does, not after it. The pod network stays for
// ReleaseServices, which removes it once the pod's sandbox is gone. It says
// what it stopped.
func (r *Runner) StopProxyUnused(ctx context.Context, leaving string) ([]string, error) {
	// Not waited for: the caller holds the leaving pod's lock, and an up
	// that holds the lock shared (UseServices) may wait for that pod's; a
	// proxy in use now is ReleaseServices' to judge, after.
	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	unlock, err := podstate.LockPod(tctx, r.StateDir, servicesLockName, nil)
	if err != nil {
		if tctx.Err() != nil && ctx.Err() == nil {
			return nil, nil
		}
		return nil, err
	}
	defer unlock()
	// under the lock: a Service stored meanwhile (its up waits for the
	// lock to start the proxy) keeps the proxy
	known, err := objstore.LoadObjects(r.StateDir)
	if err != nil || len(known.Services)+len(known.Ingresses) > 0 {
		return nil, err
	}
	done, _, err := r.stopProxyUnused(ctx, leaving)
	return done, err
}

// stopProxyUnused stops the service proxy's loaded units unless a pod other
// than leaving ("": any) is recorded on the pod network (used), under the
// services lock its callers hold. It says what it stopped.
func (r *Runner) stopProxyUnused(ctx context.Context, leaving string) (done []string, used bool, err error) {
	recs, err := r.records()
	if err != nil {
		return nil, false, err
	}
	for _, rec := range recs {
		if OnPodNetwork(rec.Pod) && rec.Pod.Name != leaving {
			return nil, true, nil
		}
	}
	loaded, _, err := r.proxyUnits(ctx)
	if err != nil || len(loaded) == 0 {
		return nil, false, err
	}
	if err := r.Units.Stop(ctx, loaded); err != nil {
		return nil, false, err
	}
	return []string{"the service proxy stopped"}, false, nil
}

// networkFor makes sure the pod network is there for a pod just recorded on
// it: under the network's lock, which ReleaseServices holds while it looks
// at the records and removes the network, a removal that did not see the
// record is over, and a later one sees it.
func (r *Runner) networkFor(ctx context.Context) error {
	unlock, err := podstate.LockShared(ctx, r.StateDir, networkLockName, nil)
	if err != nil {
		return err
	}
	defer unlock()
	return r.Engine.EnsureNetwork(ctx)
}

// networkLockName is the pod network's lock (networkFor, ReleaseServices).
const networkLockName = ".network"

// servicesLock is held while the service proxy and the pod network are
// started or removed: two podunits never do it at once. Its name starts with
// a dot, which no pod's does.
func (r *Runner) servicesLock(ctx context.Context) (func(), error) {
	return podstate.LockPod(ctx, r.StateDir, servicesLockName, func() {
		r.logf("waiting for another podunit starting or stopping the service proxy")
	})
}

const servicesLockName = ".services"
