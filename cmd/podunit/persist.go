package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/podunit/podunit/cluster"
	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/podstate/objstore"
	"github.com/podunit/podunit/runner"
	"github.com/podunit/podunit/units"
	"github.com/podunit/podunit/units/sdbus"
)

// A persistent pod comes back when the user's manager starts (at boot for a
// lingering user, at login otherwise): podunit keeps a copy of its manifest
// (the pod and the ConfigMaps, Secrets and claims it refers to) in
// $XDG_DATA_HOME/podunit/pods/POD.yaml (0600, in a 0700 directory), and
// enables podunit@POD.service, a normal user unit that runs
// `podunit up --stored POD`. The unit holds only the pod's name.

// persistTemplate is the user unit podunit installs in
// ~/.config/systemd/user/podunit@.service; the marker line tells podunit's own
// file from one the user wrote, which podunit never overwrites.
const persistMarker = "# Written by podunit (podunit enable); podunit rewrites it."

func persistTemplate(self string) string {
	return persistMarker + `
[Unit]
Description=podunit pod %I (persistent: podunit disable %I)
Wants=podman.socket
After=podman.socket

[Service]
Type=oneshot
ExecStart=` + self + ` up --stored %I
TimeoutStartSec=15min

[Install]
WantedBy=default.target
`
}

func dataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "podunit")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".local", "share", "podunit")
}

func configDir() string {
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".config")
}

func storedPath(name string) string { return filepath.Join(dataDir(), "pods", name+".yaml") }

// persistUnit is the instance of podunit@.service for a pod.
func persistUnit(name string) string { return "podunit@" + units.Escape(name) + ".service" }

// persistent tells whether a pod is enabled: its stored copy exists and its
// unit is wanted by default.target.
func persistent(name string) bool {
	if _, err := os.Stat(storedPath(name)); err != nil {
		return false
	}
	_, err := os.Lstat(filepath.Join(configDir(), "systemd", "user", "default.target.wants", persistUnit(name)))
	return err == nil
}

// storedManifest is the copy of a pod kept for its next start: the objects it
// refers to, then the pod as applied (without what the host gave it: uid,
// status). It must load back as it is, or nothing is stored.
func storedManifest(p *corev1.Pod, objs *pod.Objects) ([]byte, error) {
	var b bytes.Buffer
	doc := func(obj any) error {
		data, err := yaml.Marshal(obj)
		if err != nil {
			return err
		}
		b.WriteString("---\n")
		b.Write(data)
		return nil
	}
	tm := func(kind string) metav1.TypeMeta { return metav1.TypeMeta{APIVersion: "v1", Kind: kind} }
	clean := func(m metav1.ObjectMeta) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, Labels: m.Labels, Annotations: m.Annotations}
	}
	refs := objs.Only(p.Namespace, pod.References(p))
	var errs []error
	for _, c := range refs.ConfigMaps {
		o := *c
		o.TypeMeta, o.ObjectMeta = tm(pod.KindConfigMap), clean(c.ObjectMeta)
		errs = append(errs, doc(&o))
	}
	for _, s := range refs.Secrets {
		o := *s
		o.TypeMeta, o.ObjectMeta, o.StringData = tm(pod.KindSecret), clean(s.ObjectMeta), nil
		errs = append(errs, doc(&o))
	}
	for _, c := range refs.Claims {
		// the PersistentVolume it is bound to comes back with it
		if pv := objs.Volume(c.Spec.VolumeName); pv != nil {
			o := *pv
			o.TypeMeta, o.ObjectMeta, o.Status = tm(pod.KindVolume), clean(pv.ObjectMeta), corev1.PersistentVolumeStatus{}
			errs = append(errs, doc(&o))
		}
		o := *c
		o.TypeMeta, o.ObjectMeta, o.Status = tm(pod.KindClaim), clean(c.ObjectMeta), corev1.PersistentVolumeClaimStatus{}
		errs = append(errs, doc(&o))
	}
	for _, sa := range refs.ServiceAccounts {
		o := *sa
		o.TypeMeta, o.ObjectMeta, o.Secrets = tm(pod.KindServiceAccount), clean(sa.ObjectMeta), nil
		errs = append(errs, doc(&o))
	}
	// The Services that select the pod come back with it, with the address
	// and node ports they have now: the runtime directory that holds them
	// does not outlive a reboot.
	if objs != nil {
		for _, sv := range objs.Services {
			if cluster.Selects(sv, p) {
				// without status, which has no empty form
				errs = append(errs, doc(&struct {
					metav1.TypeMeta `json:",inline"`
					Meta            metav1.ObjectMeta  `json:"metadata"`
					Spec            corev1.ServiceSpec `json:"spec"`
				}{tm(pod.KindService), clean(sv.ObjectMeta), sv.Spec}))
			}
		}
	}
	// So do the Ingresses that route to those Services, with their TLS
	// Secrets.
	if objs != nil {
		for _, in := range objs.Ingresses {
			if !routesTo(in, objs, p) {
				continue
			}
			for _, t := range in.Spec.TLS {
				if s := objs.Secret(in.Namespace, t.SecretName); s != nil && refs.Secret(s.Namespace, s.Name) == nil {
					o := *s
					o.TypeMeta, o.ObjectMeta, o.StringData = tm(pod.KindSecret), clean(s.ObjectMeta), nil
					errs = append(errs, doc(&o))
				}
			}
			errs = append(errs, doc(&struct {
				metav1.TypeMeta `json:",inline"`
				Meta            metav1.ObjectMeta        `json:"metadata"`
				Spec            networkingv1.IngressSpec `json:"spec"`
			}{metav1.TypeMeta{APIVersion: pod.IngressAPIVersion, Kind: pod.KindIngress}, clean(in.ObjectMeta), in.Spec}))
		}
	}
	// So do the NetworkPolicies that select it: it never runs without
	// them.
	if objs != nil {
		for _, np := range objs.NetworkPolicies {
			if !pod.PolicySelects(np, p) {
				continue
			}
			errs = append(errs, doc(&struct {
				metav1.TypeMeta `json:",inline"`
				Meta            metav1.ObjectMeta              `json:"metadata"`
				Spec            networkingv1.NetworkPolicySpec `json:"spec"`
			}{metav1.TypeMeta{APIVersion: pod.NetworkPolicyAPIVersion, Kind: pod.KindNetworkPolicy}, clean(np.ObjectMeta), np.Spec}))
		}
	}
	o := corev1.Pod{TypeMeta: tm("Pod"), ObjectMeta: clean(p.ObjectMeta), Spec: p.Spec}
	// a Deployment's pod stays its when it comes back
	o.OwnerReferences = p.OwnerReferences
	errs = append(errs, doc(&o))
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	data := stripEmpty(b.Bytes())
	if _, err := pod.LoadSources([]pod.Source{{Data: data}}, nil); err != nil {
		return nil, fmt.Errorf("pod %q cannot be stored as it runs: %w", p.Name, err)
	}
	return data, nil
}

// stripEmpty drops the empty fields encoding/json writes for structs
// (creationTimestamp: null, status: {}, resources: {}), which a strict
// reader would take for fields the user set.
func stripEmpty(data []byte) []byte {
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(l)
		if t == "creationTimestamp: null" || t == "status: {}" || t == "resources: {}" {
			continue
		}
		out = append(out, l)
	}
	return []byte(strings.Join(out, "\n"))
}

// enable stores each pod's copy and enables its unit.
func enable(ctx context.Context, mgr *sdbus.Manager, pods []*corev1.Pod, objs *pod.Objects) error {
	unitDir := filepath.Join(configDir(), "systemd", "user")
	tmpl := filepath.Join(unitDir, "podunit@.service")
	if old, err := os.ReadFile(tmpl); err == nil && !bytes.HasPrefix(old, []byte(persistMarker)) {
		return fmt.Errorf("%w: %s exists and was not written by podunit; podunit never overwrites it", runner.ErrConflict, tmpl)
	}
	if err := os.MkdirAll(unitDir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(tmpl, []byte(persistTemplate(selfPath())), 0o644); err != nil {
		return err
	}
	var names []string
	for _, p := range pods {
		data, err := storedManifest(p, objs)
		if err != nil {
			return err
		}
		if err := podstate.WriteAtomic(storedPath(p.Name), data); err != nil {
			return err
		}
		// Its Deployment, StatefulSet or DaemonSet is kept beside it, for
		// `get`, scale and down after a reboot (the runtime directory that
		// holds the applied objects does not outlive one).
		if err := errors.Join(
			keepCopy(objs.Deployment(p.Namespace, pod.OwnerDeployment(p)), storedDeploymentPath),
			keepCopy(objs.StatefulSet(p.Namespace, pod.OwnerStatefulSet(p)), storedSetPath),
			keepCopy(objs.DaemonSet(p.Namespace, pod.OwnerDaemonSet(p)), storedDaemonSetPath),
		); err != nil {
			return err
		}
		names = append(names, persistUnit(p.Name))
	}
	return mgr.Enable(ctx, names)
}

// storedDeploymentPath is where the Deployment of enabled pods is kept.
func storedDeploymentPath(ns, name string) string {
	return filepath.Join(dataDir(), "deployments", ns, name+".json")
}

// storedSetPath is where the StatefulSet of enabled pods is kept.
func storedSetPath(ns, name string) string {
	return filepath.Join(dataDir(), "statefulsets", ns, name+".json")
}

// storedDaemonSetPath is where the DaemonSet of an enabled pod is kept.
func storedDaemonSetPath(ns, name string) string {
	return filepath.Join(dataDir(), "daemonsets", ns, name+".json")
}

// keepCopy keeps a copy of a pod's owner (nil: none) at its path.
func keepCopy[T any, PT interface {
	*T
	metav1.Object
}](x PT, path func(ns, name string) string) error {
	if x == nil {
		return nil
	}
	data, err := json.Marshal(x)
	if err == nil {
		err = podstate.WriteAtomic(path(x.GetNamespace(), x.GetName()), data)
	}
	return err
}

// restoreCopies reads into out the kept copy (keepCopy) of each owner
// (owner: its name) of pods that neither known nor out holds.
func restoreCopies[T any, PT interface {
	*T
	metav1.Object
}](pods []*corev1.Pod, known []PT, out *[]PT, word string, owner func(*corev1.Pod) string, path func(ns, name string) string) error {
	for _, p := range pods {
		name := owner(p)
		if name == "" || len(named(known, name, p.Namespace)) > 0 || len(named(*out, name, p.Namespace)) > 0 {
			continue
		}
		data, err := os.ReadFile(path(p.Namespace, name))
		if err != nil {
			continue // enabled before podunit kept them: the pod comes back alone
		}
		x := PT(new(T))
		if err := json.Unmarshal(data, x); err != nil {
			return fmt.Errorf("the stored %s %s/%s: %w", word, p.Namespace, name, err)
		}
		*out = append(*out, x)
	}
	return nil
}

// restoreDeployments puts back, after a reboot, the Deployments,
// StatefulSets and DaemonSets of enabled pods that come back (those not
// applied since).
func restoreDeployments(pods []*corev1.Pod, known *pod.Objects) error {
	var back pod.Objects
	if err := errors.Join(
		restoreCopies(pods, known.StatefulSets, &back.StatefulSets, "statefulset", pod.OwnerStatefulSet, storedSetPath),
		restoreCopies(pods, known.DaemonSets, &back.DaemonSets, "daemonset", pod.OwnerDaemonSet, storedDaemonSetPath),
		restoreCopies(pods, known.Deployments, &back.Deployments, "deployment", pod.OwnerDeployment, storedDeploymentPath),
	); err != nil {
		return err
	}
	if back.Len() == 0 {
		return nil
	}
	return objstore.SaveObjects(podstate.DefaultDir(), &back)
}

// forgetStoredDeployments removes the kept copies of the Deployments,
// StatefulSets and DaemonSets that go.
func forgetStoredDeployments(o *pod.Objects) error {
	var paths []string
	for _, d := range o.Deployments {
		paths = append(paths, storedDeploymentPath(d.Namespace, d.Name))
	}
	for _, st := range o.StatefulSets {
		paths = append(paths, storedSetPath(st.Namespace, st.Name))
	}
	for _, ds := range o.DaemonSets {
		paths = append(paths, storedDaemonSetPath(ds.Namespace, ds.Name))
	}
	var errs []error
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// disable disables the pods' units and removes their stored copies; the pods
// themselves go on.
func disable(ctx context.Context, mgr *sdbus.Manager, names []string) error {
	var unitNames []string
	for _, n := range names {
		unitNames = append(unitNames, persistUnit(n))
	}
	err := mgr.Disable(ctx, unitNames)
	for _, n := range names {
		if rerr := os.Remove(storedPath(n)); rerr != nil && !os.IsNotExist(rerr) {
			err = errors.Join(err, rerr)
		}
	}
	return err
}

func manager(r *runner.Runner) (*sdbus.Manager, error) {
	m, ok := r.Units.(*sdbus.Manager)
	if !ok {
		return nil, errors.New("no systemd manager")
	}
	return m, nil
}

// disableRunner is disable through a connected runner's manager.
func disableRunner(ctx context.Context, r *runner.Runner, names []string) error {
	mgr, err := manager(r)
	if err != nil {
		return err
	}
	return disable(ctx, mgr, names)
}

func enableCommand() *cli.Command {
	return &cli.Command{
		Name:      "enable",
		Usage:     "make running pods come back when your user manager starts (boot with lingering, or login)",
		ArgsUsage: "POD...",
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return fmt.Errorf("%w: podunit enable POD...", errUsage)
			}
			names, err := podRefs(c.Args().Slice(), false)
			if err != nil {
				return err
			}
			return withRunner(c, time.Minute, func(ctx context.Context, r *runner.Runner) error {
				known, err := objstore.LoadObjects(podstate.DefaultDir())
				if err != nil {
					return err
				}
				var pods []*corev1.Pod
				for _, n := range names {
					p, err := r.Pod(n)
					if err != nil {
						return err
					}
					pods = append(pods, p)
				}
				mgr, err := manager(r)
				if err != nil {
					return err
				}
				if err := enable(ctx, mgr, pods, known); err != nil {
					return err
				}
				for _, p := range pods {
					fmt.Fprintf(c.App.Writer, "pod/%s enabled (%s)\n", p.Name, persistUnit(p.Name))
				}
				return nil
			})
		},
	}
}

func disableCommand() *cli.Command {
	return &cli.Command{
		Name:      "disable",
		Usage:     "stop starting pods when your user manager starts; running pods go on",
		ArgsUsage: "POD...",
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return fmt.Errorf("%w: podunit disable POD...", errUsage)
			}
			names, err := podRefs(c.Args().Slice(), false)
			if err != nil {
				return err
			}
			var errs []error
			for _, n := range names {
				if _, err := os.Stat(storedPath(n)); err != nil {
					errs = append(errs, fmt.Errorf("%w: %q is not enabled", runner.ErrNotFound, n))
				}
			}
			if len(errs) > 0 {
				return errors.Join(errs...)
			}
			return withRunner(c, time.Minute, func(ctx context.Context, r *runner.Runner) error {
				if err := disableRunner(ctx, r, names); err != nil {
					return err
				}
				for _, n := range names {
					fmt.Fprintf(c.App.Writer, "pod/%s disabled\n", n)
				}
				return nil
			})
		},
	}
}

// routesTo tells whether an Ingress has a backend Service that selects p.
func routesTo(in *networkingv1.Ingress, objs *pod.Objects, p *corev1.Pod) bool {
	backends := []*networkingv1.IngressBackend{in.Spec.DefaultBackend}
	for _, r := range in.Spec.Rules {
		if r.HTTP != nil {
			for i := range r.HTTP.Paths {
				backends = append(backends, &r.HTTP.Paths[i].Backend)
			}
		}
	}
	for _, b := range backends {
		if b != nil && b.Service != nil {
			if sv := objs.Service(in.Namespace, b.Service.Name); sv != nil && cluster.Selects(sv, p) {
				return true
			}
		}
	}
	return false
}
