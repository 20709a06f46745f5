package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/podstate/objstore"
	"github.com/podunit/podunit/runner"
	"github.com/podunit/podunit/units"
)

func downCommand() *cli.Command {
	return &cli.Command{
		Name:      "down",
		Aliases:   []string{"delete"},
		Usage:     "stop pods gracefully and remove their units, containers and volumes",
		ArgsUsage: "FILE|POD...|TYPE/NAME...|-l SELECTOR",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "grace-period", Value: -1, Usage: "seconds each container gets to stop (default: the pod's terminationGracePeriodSeconds)"},
			&cli.BoolFlag{Name: "force", Usage: "with --grace-period 0: kill at once"},
			&cli.BoolFlag{Name: "volumes", Usage: "also remove the data of the PersistentVolumeClaims the manifest defines"},
			&cli.DurationFlag{Name: "timeout", Value: 10 * time.Minute, Usage: "give up after this long"},
			&cli.StringSliceFlag{Name: "filename", Aliases: []string{"f"}, Usage: "a manifest file or http(s) URL, as kubectl's -f (FILE arguments do the same)"},
			&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Usage: "the namespace of the pods named and of the files' objects that name none (as given to up -n)"},
			selectorFlag(),
			&cli.StringFlag{Name: "field-selector", Usage: "the pods whose fields match, as kubectl's (status.phase=Failed, status.phase!=Running)"},
			&cli.BoolFlag{Name: "all", Usage: "every pod (of -n's namespace), as kubectl delete pods --all"},
		},
		Action: func(c *cli.Context) error {
			args, err := flagsAnywhere(c)
			if err != nil {
				return err
			}
			for _, f := range c.StringSlice("filename") {
				if !manifestArg(f) {
					_, err := os.Stat(f)
					return fmt.Errorf("%w: -f %s: %v", errUsage, f, err)
				}
			}
			args = append(c.StringSlice("filename"), args...)
			selector, fieldSel, all := c.String("selector"), c.String("field-selector"), c.Bool("all")
			selecting := selector != "" || fieldSel != "" || all
			// pods as kubectl names them (pod/web, `pod web`), other kinds
			// too (svc/web, `svc web`); a file is a file, though a TYPE word
			// first names a kind, whatever the directory holds (its pod/ dir)
			word, args := typeFirst(args, selecting)
			if selecting && word != "" && !slices.Contains(podTypes, word) {
				return fmt.Errorf("%w: -l, --field-selector and --all select pods", errUsage)
			}
			var refs []string
			var objRefs [][2]string // kind, name: deployment/NAME, service/NAME, configmap/NAME...
			for _, a := range args {
				switch {
				case slices.Contains(podTypes, word):
					refs = append(refs, a)
					continue
				case word != "":
					objRefs = append(objRefs, [2]string{objectKinds[word], a})
					continue
				}
				if manifestArg(a) {
					refs = append(refs, a)
					continue
				}
				if kind, name := objectRef(a); kind != "" {
					objRefs = append(objRefs, [2]string{kind, name})
					continue
				}
				ref, err := podRef(a)
				if err != nil {
					return err
				}
				refs = append(refs, ref)
			}
			args = refs
			if selecting {
				if len(args)+len(objRefs) > 0 {
					return fmt.Errorf("%w: files or pod names and -l, --field-selector or --all exclude each other", errUsage)
				}
				if args, err = selectDown(c, selector, fieldSel); err != nil {
					return err
				}
				if len(args) == 0 {
					fmt.Fprintln(c.App.ErrWriter, noneFound(c.String("namespace")))
					return nil
				}
			}
			if len(args)+len(objRefs) == 0 {
				return fmt.Errorf("%w: podunit down FILE|POD...|TYPE/NAME...|-l SELECTOR", errUsage)
			}
			var o runner.DownOptions
			if g := c.Int("grace-period"); g >= 0 {
				if g == 0 && !c.Bool("force") {
					// kubectl's rule: 0 means "immediately" only with --force.
					g = 1
				}
				d := time.Duration(g) * time.Second
				o.Grace = &d
			} else if c.Bool("force") {
				return fmt.Errorf("%w: --force needs --grace-period 0", errUsage)
			}
			var names []string // each once: a pod named and in a file named is one pod
			add := func(n string) {
				if !slices.Contains(names, n) {
					names = append(names, n)
				}
			}
			var named []string            // pods named (by name or -l), not by a file or Deployment
			fileNS := map[string]string{} // the namespace a file gives a pod
			var objs pod.Objects          // the ConfigMaps, Secrets and claims of the manifests named
			recorded, err := runner.RecordedPods(podstate.DefaultDir())
			if err != nil {
				return err
			}
			// Objects named as kubectl delete names them: the stored ones.
			// A Deployment's pods go with it, of every template it had; a
			// StatefulSet's too, its claims stay unless it deletes them
			// (whenDeleted: Delete).
			known, err := objstore.LoadObjects(podstate.DefaultDir())
			if err != nil {
				return err
			}
			if len(objRefs) > 0 {
				for _, ref := range objRefs {
					found := known.Filter(func(kind string, o metav1.Object) bool {
						return kind == ref[0] && o.GetName() == ref[1] && (c.String("namespace") == "" || o.GetNamespace() == c.String("namespace"))
					})
					if found.Len() == 0 {
						return notFound{kind: strings.ToLower(ref[0]), name: ref[1], ns: c.String("namespace")}
					}
					objs = *pod.Over(found, &objs)
				}
			}
			for _, a := range args {
				if manifestArg(a) {
					m, err := loadManifestFor(false, c.String("namespace"), a)
					if err != nil {
						return err
					}
					for _, p := range m.Pods {
						if ownerKey(p) != "" {
							continue // its Deployment's or StatefulSet's pods that run, below
						}
						add(p.Name)
						fileNS[p.Name] = p.Namespace
					}
					objs = *pod.Over(&m.Objects, &objs)
					continue
				}
				add(a)
				named = append(named, a)
				if ns := c.String("namespace"); ns != "" {
					fileNS[a] = ns // a pod named with -n is that namespace's
				}
			}
			var missing []error                            // Deployments of the files with neither a record nor a pod
			var dataClaims []*corev1.PersistentVolumeClaim // whose data goes too, besides --volumes
			if len(objs.StatefulSets) > 0 {
				// the claims a set keeps stay stored, unless --volumes says
				// to remove their data too
				if !c.Bool("volumes") {
					keep := retainedClaims(objs.StatefulSets, objs.Claims)
					objs.Claims = slices.DeleteFunc(objs.Claims, func(cl *corev1.PersistentVolumeClaim) bool { return slices.Contains(keep, cl) })
				}
				for _, st := range objs.StatefulSets {
					owned := setPods(recorded, st)
					// the highest ordinal first, as the controller removes them
					slices.SortFunc(owned, func(a, b string) int { return setOrdinalOf(b) - setOrdinalOf(a) })
					for _, n := range owned {
						add(n)
						fileNS[n] = st.Namespace
					}
					if len(owned) == 0 && known.StatefulSet(st.Namespace, st.Name) == nil {
						missing = append(missing, notFound{kind: "statefulset", name: st.Name})
					}
					for _, cl := range deletedClaims(st, known.Claims) {
						if !slices.ContainsFunc(objs.Claims, func(x *corev1.PersistentVolumeClaim) bool { return x.Namespace == cl.Namespace && x.Name == cl.Name }) {
							objs.Claims = append(objs.Claims, cl)
						}
						dataClaims = append(dataClaims, cl)
					}
				}
			}
			if len(objs.Deployments)+len(objs.DaemonSets) > 0 {
				// their pods go, of every template; one with neither a
				// record nor a pod is missing
				takeOwned := func(o metav1.Object, kind string, owned []string, stored bool) {
					for _, n := range owned {
						add(n)
						fileNS[n] = o.GetNamespace()
					}
					if len(owned) == 0 && !stored {
						missing = append(missing, notFound{kind: kind, name: o.GetName()})
					}
				}
				for _, d := range objs.Deployments {
					takeOwned(d, "deployment", ownedPods(recorded, d), known.Deployment(d.Namespace, d.Name) != nil)
				}
				for _, ds := range objs.DaemonSets {
					takeOwned(ds, "daemonset", daemonSetPods(recorded, ds), known.DaemonSet(ds.Namespace, ds.Name) != nil)
				}
			}
			if len(objs.Volumes) > 0 {
				// as Kubernetes' PV protection: a volume goes with its claim,
				// or after it
				for _, pv := range objs.Volumes {
					for _, cl := range known.Claims {
						if cl.Spec.VolumeName == pv.Name && objs.Claim(cl.Namespace, cl.Name) == nil {
							return fmt.Errorf("%w: persistentvolume %s is bound to claim %s/%s: take the claim down first (or with it), its data stays in the volume's directory", errUsage, pv.Name, cl.Namespace, cl.Name)
						}
					}
				}
			}
			forget := func(ctx context.Context, r *runner.Runner) error {
				var claims []units.Claim
				withData := dataClaims
				if c.Bool("volumes") {
					withData = objs.Claims
				}
				if len(withData) > 0 {
					// as stored: a claim's binding is there
					withData = slices.Clone(withData)
					for i, cl := range withData {
						if sc := known.Claim(cl.Namespace, cl.Name); sc != nil {
							withData[i] = sc
						}
					}
					all, data := claimUnits(withData)
					// a claim a pod uses is kept whole: object and data
					if err := r.ClaimsUnused(all); err != nil {
						return err
					}
					for _, cl := range withData {
						if cl.Spec.VolumeName != "" {
							fmt.Fprintf(c.App.Writer, "persistentvolumeclaim/%s: its data stays in persistentvolume %s (Retain)\n", cl.Name, cl.Spec.VolumeName)
						}
					}
					claims = data
				}
				removed, err := objstore.RemoveObjects(podstate.DefaultDir(), &objs)
				err = errors.Join(err, forgetStoredDeployments(&objs))
				for _, j := range objs.Jobs {
					err = errors.Join(err, objstore.RemoveJobState(podstate.DefaultDir(), j.Namespace, j.Name))
				}
				for _, cj := range objs.CronJobs {
					err = errors.Join(err, objstore.RemoveCronJobState(podstate.DefaultDir(), cj.Namespace, cj.Name))
				}
				for _, l := range objectLines(removed, "deleted") {
					fmt.Fprintln(c.App.Writer, l)
				}
				if r != nil {
					// a claim deleted whose data stays says where it is, and
					// what removes it
					for _, cl := range objs.Claims {
						if cl.Spec.VolumeName != "" || slices.ContainsFunc(claims, func(d units.Claim) bool { return d.Namespace == cl.Namespace && d.Claim == cl.Name }) {
							continue
						}
						if vols, verr := r.Engine.Volumes(ctx, units.LabelClaim, cl.Namespace+"/"+cl.Name); verr == nil && len(vols) > 0 {
							fmt.Fprintf(c.App.Writer, "persistentvolumeclaim/%s: its data stays in podman volume %s (down --volumes removes it)\n", cl.Name, strings.Join(vols, ", "))
						}
					}
				}
				if err != nil || len(claims) == 0 {
					return err
				}
				if err := r.RemoveClaims(ctx, claims); err != nil {
					return err
				}
				for _, cl := range claims {
					fmt.Fprintf(c.App.Writer, "volume/%s removed\n", cl.Name)
				}
				return nil
			}
			// The service proxy and the pod network go with the last pod and
			// Service on them.
			release := func(ctx context.Context, r *runner.Runner) error {
				known, err := objstore.LoadObjects(podstate.DefaultDir())
				if err != nil {
					return err
				}
				// a node port (or the last Ingress) gone is no longer
				// published
				o := units.Options{Podman: podmanPath(), Self: selfPath(), InfraImage: InfraImage}
				ports, _ := ingressPorts() // up refuses a file it cannot read: what it published came from a good one
				republish := serviceProxy(o, known.Services, len(known.Ingresses), ports)
				if len(known.Services)+len(known.Ingresses) > 0 {
					return r.RepublishServices(ctx, republish)
				}
				done, err := r.ReleaseServices(ctx, 0)
				for _, l := range done {
					fmt.Fprintln(c.App.Writer, l)
				}
				if err != nil {
					return err
				}
				// kept for the pods still on the pod network: with nothing
				// published (a no-op when it stopped)
				return r.RepublishServices(ctx, republish)
			}
			if len(names) == 0 && !c.Bool("volumes") && len(dataClaims) == 0 && len(objs.Jobs)+len(objs.CronJobs) == 0 {
				if len(objs.Services)+len(objs.Ingresses) == 0 {
					return errors.Join(append(missing, forget(c.Context, nil))...)
				}
				return withRunner(c, c.Duration("timeout"), func(ctx context.Context, r *runner.Runner) error {
					if err := forget(ctx, r); err != nil {
						return err
					}
					return errors.Join(append(missing, release(ctx, r))...)
				})
			}
			return withRunner(c, c.Duration("timeout"), func(ctx context.Context, r *runner.Runner) error {
				errs := missing
				// A Job's controller stops first (it makes no more pods),
				// then its pods go with it.
				if len(objs.Jobs)+len(objs.CronJobs) > 0 {
					known, err := objstore.LoadObjects(podstate.DefaultDir())
					if err != nil {
						return err
					}
					// a CronJob's timer stops first; its Jobs go with it
					for _, cj := range objs.CronJobs {
						made, err := stopCronJob(ctx, r, cj, known)
						if err != nil {
							return err
						}
						for _, j := range made {
							if objs.Job(j.Namespace, j.Name) == nil {
								objs.Jobs = append(objs.Jobs, j)
							}
						}
						if known.CronJob(cj.Namespace, cj.Name) == nil {
							errs = append(errs, notFound{kind: "cronjob.batch", name: cj.Name})
						}
					}
					for _, j := range objs.Jobs {
						pods, err := stopJob(ctx, r, j)
						if err != nil {
							return err
						}
						for _, n := range pods {
							add(n)
							fileNS[n] = j.Namespace
						}
						if len(pods) == 0 && known.Job(j.Namespace, j.Name) == nil {
							errs = append(errs, notFound{kind: "job.batch", name: j.Name})
						}
					}
				}
				// A pod that waits for its scheduling gates has nothing running.
				running := names[:0:0]
				for _, n := range names {
					// The pod of that name here is another one when a file
					// puts it in another namespace: not taken down.
					if ns, ok := fileNS[n]; ok {
						if have, err := r.Pod(n); err == nil && have.Namespace != ns {
							errs = append(errs, fmt.Errorf("%w: %q in namespace %q (the pod %q here is in namespace %q: left alone)", runner.ErrNotFound, n, ns, n, have.Namespace))
							continue
						}
					}
					if r.Ungated(n) {
						if _, _, err := r.Applied(n); err != nil {
							fmt.Fprintf(c.App.Writer, "pod/%s removed\n", n)
							continue
						}
					}
					running = append(running, n)
				}
				names = running
				// One pod alone, that nothing makes again: when it is the
				// last on the pod network, the service proxy stops while its
				// infra does (release, below, then finds it stopped).
				var early []string
				if len(names) == 1 && !slices.ContainsFunc(recorded, func(p *corev1.Pod) bool { return p.Name == names[0] && ownerKey(p) != "" }) {
					o.WithInfra = func(ctx context.Context) {
						done, err := r.StopProxyUnused(ctx, names[0])
						if err != nil {
							// release tries again
							fmt.Fprintf(c.App.ErrWriter, "warning: stopping the service proxy: %v\n", err)
						}
						early = done
					}
				}
				failed := false // a pod that is there could not be taken down
				wasEnabled := map[string]bool{}
				for i, err := range r.DownAll(ctx, names, o) {
					// A deleted pod does not come back at the next login.
					wasPersistent := persistent(names[i])
					wasEnabled[names[i]] = wasPersistent
					if wasPersistent {
						if derr := disableRunner(ctx, r, names[i:i+1]); derr != nil {
							errs = append(errs, derr)
						} else {
							fmt.Fprintf(c.App.Writer, "pod/%s disabled\n", names[i])
						}
					}
					if err != nil {
						if !(wasPersistent && errors.Is(err, runner.ErrNotFound)) {
							errs = append(errs, err)
						}
						failed = failed || !errors.Is(err, runner.ErrNotFound)
						continue
					}
					fmt.Fprintf(c.App.Writer, "pod/%s removed\n", names[i])
				}
				for _, l := range early {
					fmt.Fprintln(c.App.Writer, l)
				}
				// As kubectl delete -f: the file's objects go though one of
				// its pods was gone already (that is still reported, exit 3);
				// not while a pod that uses them could not be stopped.
				if !failed {
					errs = append(errs, forget(ctx, r))
				}
				errs = append(errs, release(ctx, r))
				// As its ReplicaSet would, a Deployment that stays makes up
				// for the pods of it named here: they start again.
				remade, sets, dss := remadeBy(recorded, named, &objs)
				for _, d := range remade {
					// enabled again when a pod of it taken down was
					persist := slices.ContainsFunc(ownedPods(recorded, d), func(n string) bool { return wasEnabled[n] })
					errs = append(errs, applyDeployment(c, d, persist))
				}
				for _, st := range sets {
					persist := slices.ContainsFunc(setPods(recorded, st), func(n string) bool { return wasEnabled[n] })
					errs = append(errs, applyStatefulSet(c, st, persist))
				}
				for _, ds := range dss {
					persist := slices.ContainsFunc(daemonSetPods(recorded, ds), func(n string) bool { return wasEnabled[n] })
					errs = append(errs, applyDaemonSet(c, ds, persist))
				}
				return errors.Join(errs...)
			})
		},
	}
}

// typeFirst reads kubectl's `TYPE NAME...` (delete pod web db, delete svc
// web): a first word that is a kind's name, followed by names (or by -l: a
// pod word alone), is that kind, unless every argument is a file or
// directory here (then they are manifests). It returns the kind's word
// ("" when args are not of that form) and the names.
func typeFirst(args []string, selector bool) (word string, names []string) {
	if len(args) == 0 {
		return "", args
	}
	word = strings.ToLower(args[0])
	_, isKind := objectKinds[word]
	isPod := slices.Contains(podTypes, word)
	switch {
	case !isKind && !isPod:
		return "", args
	case len(args) == 1 && selector:
		return word, nil // down pods -l ... (another kind: refused by the caller)
	case len(args) == 1:
		return "", args
	}
	for _, a := range args {
		if _, err := os.Stat(a); err != nil {
			return word, args[1:]
		}
	}
	return "", args
}

// objectKinds are kubectl's names of the kinds podunit stores.
var objectKinds = map[string]string{
	"deployment": pod.KindDeployment, "deployments": pod.KindDeployment, "deploy": pod.KindDeployment,
	"statefulset": pod.KindStatefulSet, "statefulsets": pod.KindStatefulSet, "sts": pod.KindStatefulSet,
	"daemonset": pod.KindDaemonSet, "daemonsets": pod.KindDaemonSet, "ds": pod.KindDaemonSet,
	"job": pod.KindJob, "jobs": pod.KindJob,
	"cronjob": pod.KindCronJob, "cronjobs": pod.KindCronJob, "cj": pod.KindCronJob,
	"service": pod.KindService, "services": pod.KindService, "svc": pod.KindService,
	"ingress": pod.KindIngress, "ingresses": pod.KindIngress, "ing": pod.KindIngress,
	"endpoints": pod.KindEndpoints, "endpoint": pod.KindEndpoints, "ep": pod.KindEndpoints,
	"endpointslice": pod.KindEndpointSlice, "endpointslices": pod.KindEndpointSlice,
	"resourcequota": pod.KindResourceQuota, "resourcequotas": pod.KindResourceQuota, "quota": pod.KindResourceQuota,
	"limitrange": pod.KindLimitRange, "limitranges": pod.KindLimitRange, "limits": pod.KindLimitRange,
	"networkpolicy": pod.KindNetworkPolicy, "networkpolicies": pod.KindNetworkPolicy, "netpol": pod.KindNetworkPolicy,
	"configmap": pod.KindConfigMap, "configmaps": pod.KindConfigMap, "cm": pod.KindConfigMap,
	"secret": pod.KindSecret, "secrets": pod.KindSecret,
	"persistentvolumeclaim": pod.KindClaim, "persistentvolumeclaims": pod.KindClaim, "pvc": pod.KindClaim,
	"persistentvolume": pod.KindVolume, "persistentvolumes": pod.KindVolume, "pv": pod.KindVolume,
	"serviceaccount": pod.KindServiceAccount, "serviceaccounts": pod.KindServiceAccount, "sa": pod.KindServiceAccount,
}

// selectDown is which pods down -l, --field-selector or --all takes: those
// of -n's namespace (any without) whose labels and fields match. A field
// selector needs the pods' status (status.phase): read as get reads it.
func selectDown(c *cli.Context, selector, fieldSel string) ([]string, error) {
	ns := c.String("namespace")
	lsel := labels.Everything() // --all
	if selector != "" {
		var err error
		if lsel, err = parseSelector(selector); err != nil {
			return nil, err
		}
	}
	if fieldSel == "" {
		pods, err := runner.KnownPods(podstate.DefaultDir())
		return matching(pods, lsel, ns), err
	}
	sel, err := parseSelection("pods", lsel, fieldSel, "")
	if err != nil {
		return nil, err
	}
	var names []string
	err = withRunner(c, time.Minute, func(ctx context.Context, r *runner.Runner) error {
		pods, err := currentPods(ctx, r, nil)
		for _, p := range pods {
			if (ns == "" || p.Namespace == ns) && sel.match(p, p.Labels) {
				names = append(names, p.Name)
			}
		}
		return err
	})
	slices.Sort(names)
	return names, err
}

// objectRef reads TYPE/NAME of a stored kind (svc/web, configmap/app):
// its kind and name, or "" when a is not one.
func objectRef(a string) (kind, name string) {
	t, name, ok := strings.Cut(a, "/")
	if kind = objectKinds[strings.ToLower(t)]; !ok || kind == "" || name == "" {
		return "", ""
	}
	return kind, name
}
