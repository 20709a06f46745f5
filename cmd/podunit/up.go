package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/podunit/podunit/cluster"
	"github.com/podunit/podunit/engine"
	"github.com/podunit/podunit/helper/hostenv"
	"github.com/podunit/podunit/netinfo"
	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/podstate/objstore"
	"github.com/podunit/podunit/runner"
	"github.com/podunit/podunit/units"
	"github.com/podunit/podunit/units/sdbus"
)

// InfraImage is built locally from the host's catatonit on first use.
const InfraImage = "localhost/podunit-infra:1"

func upCommand() *cli.Command {
	return &cli.Command{
		Name:      "up",
		Aliases:   []string{"apply"},
		Usage:     "start the pods of a manifest",
		ArgsUsage: "FILE|DIR|URL... (or - for standard input)",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "dry-run", Usage: "print the units that would be started, change nothing"},
			&cli.BoolFlag{Name: "replace", Usage: "stop and replace a running pod of the same name"},
			&cli.DurationFlag{Name: "timeout", Value: 5 * time.Minute, Usage: "give up (and clean up) after this long"},
			&cli.BoolFlag{Name: "wait", Usage: "return only when every pod is Ready (exit 4 when --timeout runs out first)"},
			&cli.BoolFlag{Name: "persist", Usage: "also enable the pods: they come back when your user manager starts (see podunit enable)"},
			&cli.BoolFlag{Name: "stored", Usage: "the arguments are pods enabled earlier: start them from their stored copies (what podunit@POD.service runs)"},
			&cli.StringSliceFlag{Name: "filename", Aliases: []string{"f"}, Usage: "a manifest file, directory or http(s) URL, as kubectl's -f (FILE arguments do the same)"},
			&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Usage: "the namespace of the objects that name none (one naming another is an error), as kubectl's -n"},
		},
		Action: func(c *cli.Context) error {
			args, err := flagsAnywhere(c)
			if err != nil {
				return err
			}
			args = append(c.StringSlice("filename"), args...)
			if len(args) == 0 {
				return fmt.Errorf("%w: podunit up FILE|DIR|URL...", errUsage)
			}
			named := slices.Clone(args)
			if c.Bool("stored") {
				if c.Bool("persist") || c.Bool("replace") {
					return fmt.Errorf("%w: --stored takes neither --persist nor --replace", errUsage)
				}
				for i, n := range args {
					if _, err := os.Stat(storedPath(n)); err != nil {
						return fmt.Errorf("%w: pod %q is not enabled (no %s)", runner.ErrNotFound, n, storedPath(n))
					}
					args[i] = storedPath(n)
				}
			}
			m, err := loadManifest(c.String("namespace"), args...)
			if err != nil {
				return err
			}
			if !seLinuxEnabled() {
				m.Warnings = append(m.Warnings, seLinuxWarnings(m.Pods)...)
			}
			if c.Bool("persist") {
				for _, j := range m.Objects.Jobs {
					m.Warnings = append(m.Warnings, fmt.Sprintf("job %q: --persist: a Job is not brought back when the manager starts again; its pods run to completion once", j.Name))
				}
				for _, cj := range m.Objects.CronJobs {
					m.Warnings = append(m.Warnings, fmt.Sprintf("cronjob %q: --persist: a CronJob's timer is not brought back when the manager starts again", cj.Name))
				}
			}
			for _, w := range m.Warnings {
				fmt.Fprintf(c.App.ErrWriter, "warning: %s\n", w)
			}
			// Pods with scheduling gates wait, unscheduled: kept, not started.
			var gated []*corev1.Pod
			ready := m.Pods[:0:0]
			for _, p := range m.Pods {
				if len(p.Spec.SchedulingGates) > 0 {
					gated = append(gated, p)
				} else {
					ready = append(ready, p)
				}
			}
			if len(gated) > 0 && c.Bool("persist") {
				return fmt.Errorf("%w: --persist: pod %q has scheduling gates; enable it once it runs", errUsage, gated[0].Name)
			}
			m.Pods = ready
			labels := nodeLabels()
			// a DaemonSet whose template does not fit this host runs no pod
			var unfit map[string]bool
			var dsWarns []string
			m.Pods, unfit, dsWarns = unfitDaemonSets(m.Pods, m.Objects.DaemonSets, labels)
			for _, w := range dsWarns {
				fmt.Fprintf(c.App.ErrWriter, "warning: %s\n", w)
			}
			var errs []error
			for _, p := range m.Pods {
				if err := pod.MatchNode(p, labels); err != nil {
					errs = append(errs, err)
				}
			}
			for _, j := range m.Objects.Jobs {
				// its pods would never be placed: told now, as a pod's
				if err := pod.MatchNode(pod.JobPod(j, "", 0, "xxxxx"), labels); err != nil {
					errs = append(errs, fmt.Errorf("job %q: %w", j.Name, err))
				}
			}
			if len(errs) > 0 {
				return errors.Join(errs...)
			}
			// the pods that run: read once, for the checks and the Deployments
			recorded, err := runner.RecordedPods(podstate.DefaultDir())
			if err != nil {
				return err
			}
			others := otherPods(m.Pods, recorded)
			// A Deployment's old pods that go before its new ones start
			// (Recreate, or a RollingUpdate without surge) leave their
			// host ports and devices to them.
			for _, d := range m.Objects.Deployments {
				if surge, _ := pod.RolloutLimits(d); surge == 0 {
					owned := ownedPods(recorded, d)
					others = slices.DeleteFunc(others, func(p *corev1.Pod) bool { return slices.Contains(owned, p.Name) && p.Namespace == d.Namespace })
				}
			}
			for _, ds := range m.Objects.DaemonSets {
				if !pod.DaemonSetSurge(ds) || unfit[ds.Namespace+"/"+ds.Name] {
					owned := daemonSetPods(recorded, ds)
					others = slices.DeleteFunc(others, func(p *corev1.Pod) bool { return slices.Contains(owned, p.Name) && p.Namespace == ds.Namespace })
				}
			}
			if err := fitExtended(m.Pods, others); err != nil {
				return err
			}
			// cpu and memory that the host cannot guarantee: a cluster's
			// scheduler would keep the pod Pending; here it runs, told so
			opts := translateOptions()
			for _, w := range pod.OverRequested(m.Pods, others, opts.Allocatable) {
				fmt.Fprintf(c.App.ErrWriter, "warning: %s: a cluster would keep it Pending; podunit starts it, without that guarantee\n", w)
			}
			if err := pod.FitHostPorts(m.Pods, others); err != nil {
				if d := surgingDeployment(m, recorded); d != "" {
					return fmt.Errorf("%w\n(deployment %q rolls out with a pod more than its replicas: with a hostPort, use strategy Recreate, or rollingUpdate.maxSurge: 0)", err, d)
				}
				for _, ds := range m.Objects.DaemonSets {
					if pod.DaemonSetSurge(ds) && len(daemonSetPods(recorded, ds)) > 0 {
						return fmt.Errorf("%w\n(daemonset %q starts its new pod beside the old one: with a hostPort, use rollingUpdate.maxUnavailable: 1 and no maxSurge)", err, ds.Name)
					}
				}
				return err
			}
			if err := checkSeccompProfiles(m.Pods, seccompDir()); err != nil {
				return err
			}
			known, err := objstore.LoadObjects(podstate.DefaultDir())
			if err != nil {
				return err
			}
			if err := pod.FitOncePodClaims(m.Pods, others, pod.Over(&m.Objects, known).Claims); err != nil {
				if d := surgingDeployment(m, recorded); d != "" {
					return fmt.Errorf("%w\n(deployment %q rolls out with a pod more than its replicas: with a ReadWriteOncePod claim, use strategy Recreate, or rollingUpdate.maxSurge: 0)", err, d)
				}
				return err
			}
			replacedJobs, err := jobChanges(m.Objects.Jobs, known, c.Bool("replace"))
			if err != nil {
				return err
			}
			if c.Bool("stored") {
				// after a reboot: the Deployments of the pods that come back
				if err := restoreDeployments(m.Pods, known); err != nil {
					return err
				}
				if known, err = objstore.LoadObjects(podstate.DefaultDir()); err != nil {
					return err
				}
			}
			var gatedData [][]byte
			services, lbWarns, err := assignServices(m, known, lbPortStart())
			if err != nil {
				return err
			}
			for _, w := range lbWarns {
				fmt.Fprintln(c.App.ErrWriter, "warning: "+w)
			}
			all := pod.Over(&m.Objects, known)
			if err := admitQuotas(m, known, all, recorded); err != nil {
				return err
			}
			ingresses := len(all.Ingresses)
			ingPorts, err := ingressPorts()
			if err != nil && ingresses > 0 {
				return err
			}
			if len(m.Objects.Ingresses) > 0 {
				hostIP := netinfo.HostIPs("/proc")[0]
				for _, in := range m.Objects.Ingresses {
					for _, w := range pod.IngressWarnings(in, all) {
						fmt.Fprintln(c.App.ErrWriter, "warning: "+w)
					}
					cluster.ServeIngress(in, hostIP, ingPorts)
				}
			}
			for _, w := range pod.EndpointsWarnings(&m.Objects, all) {
				fmt.Fprintln(c.App.ErrWriter, "warning: "+w)
			}
			for _, w := range pod.NetworkPolicyWarnings(m.Pods, all) {
				fmt.Fprintln(c.App.ErrWriter, "warning: "+w)
			}
			if err := cluster.FitServicePorts(others, m.Pods, services, m.Objects.Services); err != nil {
				return err
			}
			opts.Services = services
			if ingresses > 0 {
				if err := cluster.FitIngressPorts(others, m.Pods, services, m.Objects.Services, len(known.Ingresses) == 0, ingPorts); err != nil {
					return err
				}
			}
			plans := make([]*units.Plan, len(m.Pods))
			translateAll := func(podNetwork bool) error {
				for i, p := range m.Pods {
					o := opts
					o.PodNetwork = podNetwork
					o.UID = newUID()
					if !journalAvailable() {
						o.LogDir = podstate.LogDir(podstate.DefaultDir(), p.Name)
					}
					p.UID = typesUID(o.UID)
					var err error
					if plans[i], err = units.Translate(p, m.Resolved[p.Name], o); err != nil {
						return err
					}
				}
				return nil
			}
			if err := translateAll(true); err != nil {
				return err
			}
			if !c.Bool("dry-run") {
				if err := checkShapingHelper(plans, findHelper); err != nil {
					return err
				}
				if os.Getuid() != 0 {
					if err := checkHostPorts(m.Pods, unprivilegedPortStart()); err != nil {
						return err
					}
				}
				if err := checkPublishedPorts(m.Objects.Services, known.Services); err != nil {
					return err
				}
				if err := checkIngressPorts(ingresses, len(known.Ingresses), ingPorts); err != nil {
					return err
				}
			}
			// The service proxy runs while a pod is on the pod network or a
			// Service exists.
			needProxy := len(services) > 0 || ingresses > 0
			for _, p := range m.Pods {
				needProxy = needProxy || runner.OnPodNetwork(p)
			}
			proxySpec := serviceProxy(opts, services, ingresses, ingPorts)
			if c.Bool("dry-run") {
				fmt.Fprint(c.App.Writer, renderObjects(&m.Objects))
				// what applying them would do to the Deployments' running pods
				for _, d := range m.Objects.Deployments {
					var mine []string
					for _, p := range m.Pods {
						if p.Namespace == d.Namespace && pod.OwnerDeployment(p) == d.Name {
							mine = append(mine, p.Name)
						}
					}
					var gone []string
					for _, n := range ownedPods(recorded, d) {
						if !slices.Contains(mine, n) {
							gone = append(gone, n)
						}
					}
					if len(gone) > 0 {
						slices.Sort(gone)
						fmt.Fprintf(c.App.Writer, "# deployment %s/%s: its pods %s would be removed (%s)\n", d.Namespace, d.Name, strings.Join(gone, ", "), d.Spec.Strategy.Type)
					}
				}
				// and to the StatefulSets' running pods
				for _, st := range m.Objects.StatefulSets {
					for _, l := range setDryRun(st, recorded) {
						fmt.Fprintln(c.App.Writer, l)
					}
				}
				// and to the DaemonSets'
				for _, ds := range m.Objects.DaemonSets {
					for _, l := range daemonSetDryRun(ds, recorded, unfit) {
						fmt.Fprintln(c.App.Writer, l)
					}
				}
				for _, p := range gated {
					fmt.Fprintf(c.App.Writer, "# pod %s/%s would wait, SchedulingGated (%s): `podunit ungate %s GATE...` starts it once no gate is left\n",
						p.Namespace, p.Name, gateNames(p), p.Name)
				}
				if needProxy {
					fmt.Fprintf(c.App.Writer, "# the service proxy runs (network %s, cluster DNS %s), unless it does already:\n", cluster.Network, cluster.DNS)
					fmt.Fprint(c.App.Writer, proxySpec.Render())
				}
				for _, pl := range plans {
					fmt.Fprint(c.App.Writer, pl.Render())
				}
				return nil
			}
			applied := func() error {
				if err := objstore.SaveObjects(podstate.DefaultDir(), &m.Objects); err != nil {
					return err
				}
				for _, l := range appliedLines(&m.Objects, known) {
					fmt.Fprintln(c.App.Writer, l)
				}
				for _, l := range publishedLines(m.Objects.Services) {
					fmt.Fprintln(c.App.Writer, l)
				}
				for _, in := range m.Objects.Ingresses {
					fmt.Fprintln(c.App.Writer, ingressLine(in))
				}
				if len(m.Objects.ConfigMaps)+len(m.Objects.Secrets) > 0 {
					all := pod.Over(&m.Objects, known)
					running, err := runner.RecordedPods(podstate.DefaultDir())
					if err != nil {
						fmt.Fprintf(c.App.ErrWriter, "warning: the running pods' volumes and stored copies were not refreshed: %v\n", err)
						return nil
					}
					refreshVolumes(c.Context, c.App.ErrWriter, podstate.DefaultDir(), running, all, opts)
					refreshStored(c.App.ErrWriter, running, all)
				}
				return nil
			}
			// applied, and the Jobs' controllers and the CronJobs' timers
			// started, after the Jobs replaced are taken down
			appliedWithWorkloads := func(ctx context.Context, r *runner.Runner) error {
				for _, old := range replacedJobs {
					if err := downJob(ctx, r, old); err != nil {
						return err
					}
				}
				if err := applied(); err != nil {
					return err
				}
				if err := startJobs(ctx, r, m.Objects.Jobs); err != nil {
					return err
				}
				return startCronJobs(ctx, r, m.Objects.CronJobs, known)
			}
			if len(gated) > 0 {
				all := pod.Over(&m.Objects, known)
				for _, p := range gated {
					data, err := storedManifest(p, all)
					if err != nil {
						return err
					}
					gatedData = append(gatedData, data)
				}
			}
			ownsPods := false // a Deployment or StatefulSet scaled to 0 still has pods to remove
			for _, d := range m.Objects.Deployments {
				ownsPods = ownsPods || len(ownedPods(recorded, d)) > 0
			}
			for _, s := range m.Objects.StatefulSets {
				ownsPods = ownsPods || len(setPods(recorded, s)) > 0
			}
			for _, ds := range m.Objects.DaemonSets {
				ownsPods = ownsPods || len(daemonSetPods(recorded, ds)) > 0
			}
			if len(m.Pods) == 0 && !needProxy && len(gated) == 0 && !ownsPods {
				if len(m.Objects.Jobs)+len(m.Objects.CronJobs) == 0 {
					return applied()
				}
				return withRunner(c, c.Duration("timeout"), appliedWithWorkloads)
			}
			return withStartingRunner(c, c.Duration("timeout"), func(ctx context.Context, r *runner.Runner) error {
				release := func() {}
				defer func() { release() }()
				var proxy *proxyStart // the service proxy starting in the background
				if pv, ok := r.Engine.(versioner); ok && len(m.Pods) > 0 {
					if sv, ok := r.Units.(versioner); ok {
						warnPlatform(ctx, os.Stderr, pv, sv)
					}
				}
				if mgr, ok := r.Units.(cgrouper); ok {
					warnLimits(ctx, c.App.ErrWriter, mgr, m.Pods)
				}
				if err := r.Engine.EnsureInfraImage(ctx, InfraImage); err != nil {
					return err
				}
				if needProxy {
					// Services (and Ingresses) are stored first, so that the pods find them by
					// name as soon as they start; taken back if the pods fail.
					if err := objstore.SaveObjects(podstate.DefaultDir(), &pod.Objects{Services: m.Objects.Services, Ingresses: m.Objects.Ingresses}); err != nil {
						return err
					}
					if err := os.MkdirAll(servicesLogDir(), 0o700); err != nil {
						return err
					}
					var rel func()
					if len(m.Pods) > 0 {
						// The pods' infra joins the pod network, which is
						// made first; their containers wait for the proxy
						// (ordered after its units), which starts alongside.
						err = r.ServicesPossible(ctx)
						if err == nil {
							proxy = startProxy(ctx, r, proxySpec)
						}
					} else {
						rel, err = r.UseServices(ctx, proxySpec)
					}
					switch {
					case err != nil && len(services) == 0 && ingresses == 0:
						// Without Services the pods can do without the pod
						// network: each gets a slirp4netns network of its own.
						fmt.Fprintf(c.App.ErrWriter, "warning: podunit's pod network is not available, so the pods run each on a slirp4netns network of its own, without cluster DNS: %v\n", err)
						if _, rerr := r.ReleaseServices(ctx, 0); rerr != nil {
							fmt.Fprintf(c.App.ErrWriter, "warning: %v\n", rerr)
						}
						if err := translateAll(false); err != nil {
							return err
						}
					case err != nil:
						restoreServices(&m.Objects, known)
						return err
					case rel != nil:
						// held until the pods are recorded: the last pod's down
						// meanwhile does not take the network away under them
						release = rel
					}
				}
				// proxyUp waits for the proxy started alongside the pods:
				// its failure takes back what this up started (pods: those).
				proxyUp := func(pods []*corev1.Pod, podsErr error) error {
					if proxy == nil {
						return nil
					}
					rel, err := proxy.wait()
					proxy = nil
					if err == nil {
						release = rel
						return nil
					}
					if podsErr == nil {
						var names []string
						for _, p := range pods {
							names = append(names, p.Name)
						}
						r.DownAll(context.WithoutCancel(ctx), names, runner.DownOptions{})
					}
					restoreServices(&m.Objects, known)
					return err
				}
				defer func() {
					if proxy != nil {
						if rel, err := proxy.wait(); err == nil {
							rel()
						}
					}
				}()
				for i, p := range gated {
					if err := r.Gate(ctx, p, gatedData[i], c.Bool("replace")); err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "pod/%s created, SchedulingGated (%s)\n", p.Name, gateNames(p))
				}
				// A pod that runs already as the manifest has it is left
				// alone ("unchanged", as kubectl apply says), so that applying
				// a bundle again updates its objects; a changed one is an
				// error (pods are immutable: --replace recreates it).
				// One whose labels or annotations alone changed (not those
				// read at its creation) gets them in place, as kubectl apply
				// changes them ("configured").
				var unchanged, relabeled []*corev1.Pod
				if !c.Bool("replace") && !c.Bool("stored") {
					var pods []*corev1.Pod
					var keep []*units.Plan
					for i, p := range m.Pods {
						d, err := r.Compare(ctx, p)
						if err != nil {
							return err
						}
						if w := m.Unlimited[p.Name]; w != nil && d == runner.Changed {
							// it runs as written, made before its LimitRange
							if dw, err := r.Compare(ctx, w); err == nil && (dw == runner.Same || dw == runner.MetadataOnly) {
								d, p = dw, w
							}
						}
						switch d {
						case runner.Same:
							unchanged = append(unchanged, p)
						case runner.MetadataOnly:
							relabeled = append(relabeled, p)
						default:
							pods, keep = append(pods, p), append(keep, plans[i])
						}
					}
					m.Pods, plans = pods, keep
				}
				// A Deployment's pods of another template, or beyond its
				// replicas, go as its strategy says.
				var running []string
				for _, p := range append(slices.Clone(unchanged), relabeled...) {
					running = append(running, p.Name)
				}
				work, rest, restPlans := planDeployments(m.Objects.Deployments, m.Pods, plans, running, recorded)
				// A StatefulSet's pods start, go and are updated in its order.
				swork, rest, restPlans := planStatefulSets(m.Objects.StatefulSets, rest, restPlans, recorded)
				// A DaemonSet's pod is replaced as its update strategy says.
				dwork, rest, restPlans := planDaemonSets(m.Objects.DaemonSets, rest, restPlans, recorded, unfit)
				work.removeFirst = append(work.removeFirst, dwork.removeFirst...)
				work.rollouts = append(work.rollouts, dwork.rollouts...)
				inherit := map[string]bool{} // Deployments and StatefulSets (ownerKey) whose pods are enabled
				for _, p := range recorded {
					if k := ownerKey(p); k != "" {
						inherit[k] = inherit[k] || persistent(p.Name)
					}
				}
				var rolled []*corev1.Pod
				for _, ro := range work.rollouts {
					rolled = append(rolled, ro.Pending...)
				}
				for _, sr := range swork.rolls {
					for _, step := range sr.Steps {
						rolled = append(rolled, step.Start...)
					}
				}
				m.Pods, plans = rest, restPlans
				// a Deployment's pod removed: it no longer comes back at login
				gone := func(name string) error {
					fmt.Fprintf(c.App.Writer, "pod/%s removed\n", name)
					if persistent(name) {
						return disableRunner(ctx, r, []string{name})
					}
					return nil
				}
				removed := func(names []string) error {
					var errs []error
					for i, err := range r.DownAll(ctx, names, runner.DownOptions{}) {
						if err != nil && !errors.Is(err, runner.ErrNotFound) {
							errs = append(errs, err)
							continue
						}
						errs = append(errs, gone(names[i]))
					}
					return errors.Join(errs...)
				}
				if err := removed(work.removeFirst); err != nil {
					return err
				}
				relabeledWhat := map[string]string{}
				for _, p := range relabeled {
					old, err := r.Pod(p.Name)
					if err != nil {
						return err
					}
					var what []string
					now, changed, err := r.Relabel(ctx, p.Name, p.Labels, keysGone(old.Labels, p.Labels), true)
					if err != nil {
						return err
					} else if changed {
						what = append(what, "labels")
					}
					if now, changed, err = r.Annotate(ctx, p.Name, p.Annotations, keysGone(old.Annotations, p.Annotations), true); err != nil {
						return err
					} else if changed {
						what = append(what, "annotations")
					}
					if len(what) == 0 {
						what = []string{"metadata"}
					}
					relabeledWhat[p.Name] = strings.Join(what, ", ")
					if err := refreshPod(ctx, podstate.DefaultDir(), now, pod.Over(&m.Objects, known), opts, "with the pod's new "+relabeledWhat[p.Name]); err != nil {
						fmt.Fprintf(c.App.ErrWriter, "warning: pod %q: its volumes keep the %s they had: %v\n", p.Name, relabeledWhat[p.Name], err)
					}
				}
				if len(relabeled) > 0 {
					if running, err := runner.RecordedPods(podstate.DefaultDir()); err == nil {
						refreshStored(c.App.ErrWriter, running, pod.Over(&m.Objects, known))
					} else {
						fmt.Fprintf(c.App.ErrWriter, "warning: the enabled pods' stored copies were not refreshed: %v\n", err)
					}
				}
				if len(m.Pods) > 0 {
					// All pods of a file, or none.
					err := r.UpAll(ctx, m.Pods, plans, runner.UpOptions{Replace: c.Bool("replace")})
					if perr := proxyUp(m.Pods, err); perr != nil {
						err = errors.Join(err, perr)
					}
					if err != nil {
						if c.Bool("stored") && errors.Is(err, runner.ErrExists) {
							fmt.Fprintf(c.App.Writer, "%v: already running\n", strings.Join(named, " "))
							return nil
						}
						restoreServices(&m.Objects, known)
						release()
						release = func() {}
						if needProxy {
							left, _ := objstore.LoadObjects(podstate.DefaultDir())
							if left != nil {
								_, _ = r.ReleaseServices(ctx, len(left.Services)+len(left.Ingresses))
							}
						}
						return err
					}
				}
				if err := proxyUp(nil, nil); err != nil {
					return err
				}
				release()
				release = func() {}
				if err := appliedWithWorkloads(ctx, r); err != nil {
					return err
				}
				for _, p := range unchanged {
					fmt.Fprintf(c.App.Writer, "pod/%s unchanged\n", p.Name)
				}
				for _, p := range relabeled {
					fmt.Fprintf(c.App.Writer, "pod/%s configured (%s)\n", p.Name, relabeledWhat[p.Name])
				}
				for _, p := range m.Pods {
					fmt.Fprintf(c.App.Writer, "pod/%s started (%s)\n", p.Name, units.SliceName(p.Name))
				}
				for _, n := range swork.kept {
					fmt.Fprintf(c.App.Writer, "pod/%s unchanged (its StatefulSet's update strategy keeps its revision)\n", n)
				}
				for _, n := range dwork.kept {
					fmt.Fprintf(c.App.Writer, "pod/%s unchanged (its DaemonSet's update strategy, OnDelete, keeps its template until it is taken down)\n", n)
				}
				// The Deployments roll out side by side, as their controllers
				// would, and so do the StatefulSets.
				var mu sync.Mutex // the output
				rollErrs := make([]error, len(work.rollouts)+len(swork.rolls))
				var wg sync.WaitGroup
				report := func(e runner.RolloutEvent) {
					mu.Lock()
					defer mu.Unlock()
					if e.Started {
						fmt.Fprintf(c.App.Writer, "pod/%s started (%s)\n", e.Pod, units.SliceName(e.Pod))
						return
					}
					if e.Stopping {
						return // said once it is removed
					}
					if err := gone(e.Pod); err != nil {
						fmt.Fprintf(c.App.ErrWriter, "warning: %v\n", err)
					}
				}
				for i, sr := range swork.rolls {
					wg.Add(1)
					go func() {
						defer wg.Done()
						rollErrs[len(work.rollouts)+i] = r.RollSet(ctx, sr, runner.UpOptions{Replace: c.Bool("replace")}, report)
						if rollErrs[len(work.rollouts)+i] == nil {
							mu.Lock()
							fmt.Fprintf(c.App.Writer, "statefulset.apps/%s rolled out\n", sr.Set.Name)
							mu.Unlock()
						}
					}()
				}
				for i, ro := range work.rollouts {
					wg.Add(1)
					go func() {
						defer wg.Done()
						rollErrs[i] = r.RollOut(ctx, ro, runner.UpOptions{Replace: c.Bool("replace")}, report)
						if rollErrs[i] == nil {
							mu.Lock()
							fmt.Fprintf(c.App.Writer, "%s.apps/%s rolled out\n", strings.ToLower(cmp.Or(ro.Deployment.Kind, pod.KindDeployment)), ro.Deployment.Name)
							mu.Unlock()
						}
					}()
				}
				wg.Wait()
				if err := errors.Join(rollErrs...); err != nil {
					return err
				}
				if err := removed(work.removeAfter); err != nil {
					return err
				}
				// the claims of the pods a StatefulSet scaled away, when it
				// deletes them
				if len(swork.scaledClaims) > 0 {
					if err := removeClaims(ctx, c.App.Writer, r, swork.scaledClaims); err != nil {
						return err
					}
				}
				m.Pods = append(append(append(m.Pods, rolled...), unchanged...), relabeled...) // enabled and waited for alike
				if len(m.Pods) == 0 {
					return nil
				}
				// A Deployment's new pods come back at login when its
				// pods did: enabled as they were.
				toEnable := m.Pods
				if !c.Bool("persist") {
					toEnable = nil
					for _, p := range m.Pods {
						if inherit[ownerKey(p)] && !persistent(p.Name) {
							toEnable = append(toEnable, p)
						}
					}
				}
				if len(toEnable) > 0 {
					known, err := objstore.LoadObjects(podstate.DefaultDir())
					if err != nil {
						return err
					}
					mgr, err := manager(r)
					if err != nil {
						return err
					}
					if err := enable(ctx, mgr, toEnable, known); err != nil {
						return fmt.Errorf("the pods run, but enabling them failed: %w", err)
					}
					for _, p := range toEnable {
						fmt.Fprintf(c.App.Writer, "pod/%s enabled (%s)\n", p.Name, persistUnit(p.Name))
					}
				}
				if c.Bool("wait") {
					var names []string
					for _, p := range m.Pods {
						names = append(names, p.Name)
					}
					left := time.Minute
					if d, ok := ctx.Deadline(); ok {
						left = time.Until(d) - time.Second
					}
					if err := waitFor(ctx, r, names, "condition=Ready", max(left, 0), func(p string) {
						fmt.Fprintf(c.App.Writer, "pod/%s ready\n", p)
					}); err != nil {
						var te errTimeout
						if errors.As(err, &te) {
							return errTimeout{te.msg + "; the pods keep running (podunit describe, podunit down)"}
						}
						return err
					}
				}
				return nil
			})
		},
	}
}

// loadManifest reads manifest files (directories: their .yaml, .yml and
// .json files, in name order; "-": standard input; an http or https URL:
// what it serves, as kubectl -f reads it) as one manifest, whose pods
// may refer to the objects it defines and to those stored by earlier `up`s.
// namespace, when not "", is that of the objects that name none
// (kubectl's -n).
func loadManifest(namespace string, paths ...string) (*pod.Manifest, error) {
	return loadManifestFor(true, namespace, paths...)
}

func loadManifestFor(bindRefs bool, namespace string, paths ...string) (*pod.Manifest, error) {
	if namespace != "" {
		if msgs := validation.IsDNS1123Label(namespace); len(msgs) > 0 {
			return nil, fmt.Errorf("%w: -n %s: %s", errUsage, namespace, strings.Join(msgs, "; "))
		}
	}
	var srcs []pod.Source
	for _, path := range paths {
		if path == "-" {
			data, err := io.ReadAll(os.Stdin)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", errUsage, err)
			}
			srcs = append(srcs, pod.Source{Name: "-", Data: data, Namespace: namespace})
			continue
		}
		if isURL(path) {
			data, err := fetchManifest(path)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", errUsage, err)
			}
			srcs = append(srcs, pod.Source{Name: path, Data: data, Namespace: namespace})
			continue
		}
		files := []string{path}
		if st, err := os.Stat(path); err == nil && st.IsDir() {
			files = nil
			entries, err := os.ReadDir(path)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", errUsage, err)
			}
			for _, e := range entries {
				if ext := filepath.Ext(e.Name()); !e.IsDir() && (ext == ".yaml" || ext == ".yml" || ext == ".json") {
					files = append(files, filepath.Join(path, e.Name()))
				}
			}
			if len(files) == 0 {
				return nil, fmt.Errorf("%w: %s: no .yaml, .yml or .json file in the directory", errUsage, path)
			}
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", errUsage, err)
			}
			srcs = append(srcs, pod.Source{Name: f, Data: data, Namespace: namespace})
		}
	}
	load := func(srcs []pod.Source) (*pod.Manifest, error) {
		if !bindRefs {
			return pod.LoadNames(srcs)
		}
		known, err := objstore.LoadObjects(podstate.DefaultDir())
		if err != nil {
			return nil, fmt.Errorf("reading the stored ConfigMaps, Secrets and claims: %w", err)
		}
		return pod.LoadSources(srcs, known)
	}
	if len(srcs) == 1 {
		// One file: errors read "FILE: document N", as they always have.
		name := srcs[0].Name
		srcs[0].Name = ""
		m, err := load(srcs)
		if err != nil && name != "-" {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return m, err
	}
	return load(srcs)
}

// isURL tells whether a manifest argument is a URL to fetch (kubectl -f
// takes them: the Kubernetes documentation's examples are applied that way).
func isURL(arg string) bool {
	return strings.HasPrefix(arg, "https://") || strings.HasPrefix(arg, "http://")
}

// manifestArg tells whether an argument names a manifest to read: a file or
// directory that exists, standard input ("-") or a URL.
func manifestArg(arg string) bool {
	if arg == "-" || isURL(arg) {
		return true
	}
	_, err := os.Stat(arg)
	return err == nil
}

// maxManifest is the most a manifest URL may serve.
const maxManifest = 32 << 20

// fetchManifest reads a manifest from a URL, following redirects; anything
// but 200 OK is an error that says what the server answered.
func fetchManifest(url string) ([]byte, error) {
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching %s: the server answered %s", url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxManifest+1))
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %v", url, err)
	}
	if len(data) > maxManifest {
		return nil, fmt.Errorf("fetching %s: more than %d MiB, not a manifest", url, maxManifest>>20)
	}
	return data, nil
}

// objectLines say what happened to each object, kubectl-style.
func objectLines(o *pod.Objects, verb string) []string {
	var out []string
	o.Each(func(kind string, obj metav1.Object) {
		out = append(out, fmt.Sprintf("%s/%s %s", kindWord(kind), obj.GetName(), verb))
	})
	return out
}

// appliedLines say, as kubectl apply does, which of a manifest's objects
// are new ("created"), changed ("configured") or the same as stored
// ("unchanged").
func appliedLines(o, known *pod.Objects) []string {
	var out []string
	o.Each(func(kind string, obj metav1.Object) {
		verb := "created"
		if old := known.Find(kind, obj.GetNamespace(), obj.GetName()); old != nil {
			verb = "configured"
			a, errA := json.Marshal(old)
			b, errB := json.Marshal(obj)
			if errA == nil && errB == nil && bytes.Equal(a, b) {
				verb = "unchanged"
			}
		}
		out = append(out, fmt.Sprintf("%s/%s %s", kindWord(kind), obj.GetName(), verb))
	})
	return out
}

// publishedLines say on which of this host's ports the Services published
// there are reached: a LoadBalancer's own ports (this host is its load
// balancer, cluster.LoadBalancers), and node ports as kubectl's PORT(S) of
// get svc shows them (port:nodePort/protocol).
func publishedLines(services []*corev1.Service) []string {
	var out []string
	for _, s := range services {
		var lb, ports []string
		for _, p := range s.Spec.Ports {
			if p.NodePort == 0 {
				continue
			}
			ports = append(ports, fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, p.Protocol))
			lb = append(lb, fmt.Sprintf("%d/%s", p.Port, p.Protocol))
		}
		switch {
		case len(ports) == 0:
		case cluster.Balanced(s):
			out = append(out, fmt.Sprintf("service/%s published on this host (load balancer %s): %s; node ports %s", s.Name, s.Status.LoadBalancer.Ingress[0].IP, strings.Join(lb, ","), strings.Join(ports, ",")))
		case s.Spec.Type == corev1.ServiceTypeLoadBalancer:
			out = append(out, fmt.Sprintf("service/%s published on this host (node ports; its load balancer <pending>): %s", s.Name, strings.Join(ports, ",")))
		default:
			out = append(out, fmt.Sprintf("service/%s published on this host (node ports): %s", s.Name, strings.Join(ports, ",")))
		}
	}
	return out
}

// ingressLine says where an Ingress is served on this host.
func ingressLine(in *networkingv1.Ingress) string {
	return fmt.Sprintf("ingress.networking.k8s.io/%s served on this host: %s (hosts %s)", in.Name, strings.Join(ingressURLs(in), ", "), ingressHosts(in))
}

// ingressURLs are the addresses an Ingress is served on (its status).
func ingressURLs(in *networkingv1.Ingress) []string {
	var out []string
	for _, lb := range in.Status.LoadBalancer.Ingress {
		for i, p := range lb.Ports {
			// cluster.ServeIngress: HTTP, then HTTPS
			scheme := "http"
			if i > 0 {
				scheme = "https"
			}
			out = append(out, fmt.Sprintf("%s://%s:%d", scheme, lb.IP, p.Port))
		}
	}
	return out
}

// ingressHosts are an Ingress's rules' hosts, as kubectl's HOSTS column
// shows them ("*": a rule for any host).
func ingressHosts(in *networkingv1.Ingress) string {
	var hosts []string
	for _, r := range in.Spec.Rules {
		h := r.Host
		if h == "" {
			h = "*"
		}
		if !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	if len(hosts) == 0 {
		return "*"
	}
	return strings.Join(hosts, ",")
}

// kindWord is how kubectl names a kind in its messages: configmap,
// deployment.apps.
func kindWord(kind string) string {
	if kind == pod.KindDeployment || kind == pod.KindStatefulSet || kind == pod.KindDaemonSet {
		return strings.ToLower(kind) + ".apps"
	}
	if kind == pod.KindIngress || kind == pod.KindNetworkPolicy {
		return strings.ToLower(kind) + ".networking.k8s.io"
	}
	if kind == pod.KindEndpointSlice {
		return strings.ToLower(kind) + ".discovery.k8s.io"
	}
	if kind == pod.KindJob || kind == pod.KindCronJob {
		return strings.ToLower(kind) + ".batch"
	}
	return strings.ToLower(kind)
}

// renderObjects is the dry-run view of a manifest's objects: names and keys,
// never a Secret's values.
func renderObjects(o *pod.Objects) string {
	var b strings.Builder
	for _, c := range o.ConfigMaps {
		var keys []string
		for k := range c.Data {
			keys = append(keys, k)
		}
		for k := range c.BinaryData {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(&b, "# configmap %s/%s would be stored, keys: %s\n", c.Namespace, c.Name, strings.Join(keys, ", "))
	}
	for _, s := range o.Secrets {
		var keys []string
		for k := range s.Data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(&b, "# secret %s/%s (%s) would be stored, keys: %s (values not shown)\n", s.Namespace, s.Name, s.Type, strings.Join(keys, ", "))
	}
	for _, pv := range o.Volumes {
		dir, _ := pod.VolumePath(pv)
		q := pv.Spec.Capacity[corev1.ResourceStorage]
		fmt.Fprintf(&b, "# persistentvolume %s would be stored: host directory %s, %s, class %q\n", pv.Name, dir, q.String(), pv.Spec.StorageClassName)
	}
	for _, c := range o.Claims {
		if c.Spec.VolumeName != "" {
			fmt.Fprintf(&b, "# persistentvolumeclaim %s/%s would be stored: bound to persistentvolume %s\n", c.Namespace, c.Name, c.Spec.VolumeName)
			continue
		}
		fmt.Fprintf(&b, "# persistentvolumeclaim %s/%s would be stored: podman volume %s, created when a pod first uses it\n",
			c.Namespace, c.Name, units.ClaimVolumeName(c.Namespace, c.Name))
	}
	for _, sv := range o.Services {
		var ports []string
		for _, p := range sv.Spec.Ports {
			pp := fmt.Sprintf("%d->%s/%s", p.Port, p.TargetPort.String(), p.Protocol)
			if p.NodePort != 0 {
				pp += fmt.Sprintf(" (node port %d)", p.NodePort)
			}
			ports = append(ports, pp)
		}
		addr := sv.Spec.ClusterIP
		if sv.Spec.Type == corev1.ServiceTypeExternalName {
			addr = "CNAME " + sv.Spec.ExternalName
		}
		fmt.Fprintf(&b, "# service %s/%s would be stored: %s %s, ports %s, selector %s\n",
			sv.Namespace, sv.Name, sv.Spec.Type, addr, strings.Join(ports, ", "), formatSelector(sv.Spec.Selector))
	}
	for _, ep := range o.Endpoints {
		var addrs []string
		for _, sub := range ep.Subsets {
			for _, a := range sub.Addresses {
				for _, p := range sub.Ports {
					addrs = append(addrs, net.JoinHostPort(a.IP, strconv.Itoa(int(p.Port))))
				}
			}
		}
		fmt.Fprintf(&b, "# endpoints %s/%s would be stored: %s\n", ep.Namespace, ep.Name, orNone(strings.Join(addrs, ",")))
	}
	for _, es := range o.EndpointSlices {
		fmt.Fprintf(&b, "# endpointslice %s/%s would be stored: service %s, %s, ports %s\n", es.Namespace, es.Name, es.Labels[pod.LabelServiceName], sliceEndpoints(es), slicePorts(es))
	}
	for _, q := range o.ResourceQuotas {
		fmt.Fprintf(&b, "# resourcequota %s/%s would be stored: hard %s; the namespace's pods and objects made from now on are checked against it\n", q.Namespace, q.Name, formatResources(q.Spec.Hard))
	}
	for _, lr := range o.LimitRanges {
		var items []string
		for _, it := range lr.Spec.Limits {
			items = append(items, string(it.Type))
		}
		fmt.Fprintf(&b, "# limitrange %s/%s would be stored: limits of %s; the namespace's pods and claims made from now on get its defaults and are checked against it\n", lr.Namespace, lr.Name, strings.Join(items, ", "))
	}
	for _, in := range o.Ingresses {
		fmt.Fprintf(&b, "# ingress %s/%s would be stored: hosts %s, served on %s\n", in.Namespace, in.Name, ingressHosts(in), strings.Join(ingressURLs(in), ", "))
	}
	for _, np := range o.NetworkPolicies {
		pods := "every pod of the namespace"
		if len(np.Spec.PodSelector.MatchLabels)+len(np.Spec.PodSelector.MatchExpressions) > 0 {
			pods = "pods " + metav1.FormatLabelSelector(&np.Spec.PodSelector)
		}
		fmt.Fprintf(&b, "# networkpolicy %s/%s would be stored: %s, %s\n", np.Namespace, np.Name, pods, policyTypes(np))
	}
	for _, sa := range o.ServiceAccounts {
		var names []string
		for _, r := range sa.ImagePullSecrets {
			names = append(names, r.Name)
		}
		pulls := "none"
		if len(names) > 0 {
			pulls = strings.Join(names, ", ")
		}
		fmt.Fprintf(&b, "# serviceaccount %s/%s would be stored, imagePullSecrets: %s\n", sa.Namespace, sa.Name, pulls)
	}
	for _, n := range o.Namespaces {
		fmt.Fprintf(&b, "# namespace %s would be stored\n", n.Name)
	}
	for _, d := range o.Deployments {
		how := string(d.Spec.Strategy.Type)
		if d.Spec.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType {
			surge, unavailable := pod.RolloutLimits(d)
			how += fmt.Sprintf(": at most %d pod(s) more and %d unavailable while old pods are replaced", surge, unavailable)
		}
		fmt.Fprintf(&b, "# deployment %s/%s would be stored: %d pod(s) of template %s (%s), below\n",
			d.Namespace, d.Name, *d.Spec.Replicas, pod.TemplateHash(&d.Spec.Template), how)
	}
	for _, st := range o.StatefulSets {
		fmt.Fprintf(&b, "# statefulset %s/%s would be stored: %d pod(s) of revision %s, started %s, updated %s, claims %s when it goes\n",
			st.Namespace, st.Name, *st.Spec.Replicas, pod.RevisionHash(st), map[appsv1.PodManagementPolicyType]string{
				appsv1.OrderedReadyPodManagement: "in order, each once the one before is Ready", appsv1.ParallelPodManagement: "together"}[st.Spec.PodManagementPolicy],
			map[appsv1.StatefulSetUpdateStrategyType]string{appsv1.RollingUpdateStatefulSetStrategyType: "one at a time from the highest ordinal",
				appsv1.OnDeleteStatefulSetStrategyType: "when a pod is taken down"}[st.Spec.UpdateStrategy.Type],
			map[appsv1.PersistentVolumeClaimRetentionPolicyType]string{appsv1.RetainPersistentVolumeClaimRetentionPolicyType: "kept",
				appsv1.DeletePersistentVolumeClaimRetentionPolicyType: "removed"}[st.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted])
	}
	for _, ds := range o.DaemonSets {
		var how string
		switch {
		case ds.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType:
			how = "replaced when taken down (OnDelete)"
		case pod.DaemonSetSurge(ds):
			how = "the new pod first, the old one once it is available (maxSurge)"
		default:
			how = "the old pod removed first, then the new one started"
		}
		fmt.Fprintf(&b, "# daemonset %s/%s would be stored: one pod of template %s on this host, below; another template: %s\n",
			ds.Namespace, ds.Name, pod.TemplateHash(&ds.Spec.Template), how)
	}
	for _, cj := range o.CronJobs {
		cals := "?"
		if c, err := pod.ParseCron(cj.Spec.Schedule); err == nil {
			tz := ""
			if cj.Spec.TimeZone != nil {
				tz = *cj.Spec.TimeZone
			}
			cals = strings.Join(c.CalendarSpecs(tz), " | ")
		}
		fmt.Fprintf(&b, "# cronjob %s/%s would be stored, and its timer %s started: OnCalendar=%s, a Job of its jobTemplate each time (%s)\n",
			cj.Namespace, cj.Name, units.CronJobTimerName(cj.Namespace, cj.Name), cals, cj.Spec.ConcurrencyPolicy)
	}
	for _, j := range o.Jobs {
		completions := "its first success, once no pod runs"
		if j.Spec.Completions != nil {
			completions = fmt.Sprintf("%d completion(s)", *j.Spec.Completions)
			if pod.JobIndexed(j) {
				completions = fmt.Sprintf("a success for each index 0..%d", *j.Spec.Completions-1)
			}
		}
		fmt.Fprintf(&b, "# job %s/%s would be stored, and its controller %s started: %d pod(s) at a time until %s, backoffLimit %d\n",
			j.Namespace, j.Name, units.JobUnitName(j.Namespace, j.Name), *j.Spec.Parallelism, completions, *j.Spec.BackoffLimit)
	}
	return b.String()
}

func translateOptions() units.Options {
	self := selfPath()
	podman := podmanPath()
	o := units.Options{Podman: podman, Self: self, Helper: hostenv.HelperPath(self), Sleep: sleepPath(), InfraImage: InfraImage, NodeName: nodeName(), StateDir: podstate.DefaultDir(),
		ContainerLogs: podstate.ContainerLogs(), PodNetwork: true, AppArmor: appArmorEnabled(), SELinux: seLinuxEnabled(), SeccompDir: seccompDir()}
	memory, _ := memTotal("/proc/meminfo")
	o.Allocatable = hostResources(runtime.NumCPU(), memory, storageSize())
	return o
}

// sleepPath is coreutils' sleep, the process of a pod's deadline unit (""
// when not found: translation's default).
func sleepPath() string {
	p, _ := exec.LookPath("sleep")
	return p
}

// nodeName is this host's name as pods see it: spec.nodeName, the
// kubernetes.io/hostname label.
func nodeName() string {
	host, _ := os.Hostname()
	return host
}

func journalAvailable() bool {
	_, err := os.Stat("/run/systemd/journal/socket")
	return err == nil
}

// nodeLabels are the labels this host carries for nodeSelector: the well-known
// ones Kubernetes sets on every node, and the user's own from
// ~/.config/podunit/node-labels (one key=value a line).
func nodeLabels() map[string]string {
	host := nodeName()
	l := map[string]string{
		"kubernetes.io/hostname": host,
		"kubernetes.io/os":       runtime.GOOS,
		"kubernetes.io/arch":     runtime.GOARCH,
	}
	_, lines := nodeFile()
	for _, line := range lines {
		if k, v, ok := strings.Cut(line, "="); ok {
			l[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return l
}

// nodeFile is ~/.config/podunit/node-labels and its lines, trimmed, without
// comments and blank lines (none when there is no such file).
func nodeFile() (string, []string) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", nil
	}
	file := filepath.Join(dir, "podunit", "node-labels")
	data, err := os.ReadFile(file)
	if err != nil {
		return file, nil
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return file, out
}

// nodeCapacity are the extended resources this host declares in the same
// file, one "NAME: COUNT" a line (example.com/dongle: 4).
func nodeCapacity() (map[string]int64, error) {
	file, lines := nodeFile()
	out := map[string]int64{}
	for _, line := range lines {
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.Contains(line, "=") {
			continue // a label
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || !pod.IsExtendedResource(corev1.ResourceName(k)) {
			return nil, fmt.Errorf("%s: %q: an extended resource is NAME: COUNT, with a domain-prefixed name (example.com/dongle: 4)", file, line)
		}
		out[k] = n
	}
	return out, nil
}

// fitExtended checks the pods against the extended resources the host
// declares and the other pods use.
func fitExtended(pods, others []*corev1.Pod) error {
	need := false
	for _, p := range pods {
		need = need || len(pod.ExtendedRequests(&p.Spec)) > 0
	}
	if !need {
		return nil
	}
	capacity, err := nodeCapacity()
	if err != nil {
		return err
	}
	return pod.FitExtended(pods, others, capacity)
}

// otherPods are the pods podunit runs besides pods, those that hold host
// ports and devices: one of the same name does not count (replaced, or the
// up fails on it as existing), nor one that completed and let its sandbox
// go, as the scheduler counts no terminal pod.
func otherPods(pods, recorded []*corev1.Pod) []*corev1.Pod {
	var running []*corev1.Pod
	for _, r := range recorded {
		if slices.ContainsFunc(pods, func(p *corev1.Pod) bool { return p.Name == r.Name }) {
			continue
		}
		if _, done := podstate.LoadCompletion(podstate.DefaultDir(), r.Name); done {
			continue
		}
		running = append(running, r)
	}
	return running
}

func newUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// keysGone are the keys of was that is lacks.
func keysGone(was, is map[string]string) []string {
	var gone []string
	for k := range was {
		if _, ok := is[k]; !ok {
			gone = append(gone, k)
		}
	}
	return gone
}

// withRunner runs f with a connected runner, ending on Ctrl-C, SIGTERM or the
// timeout.
func withRunner(c *cli.Context, timeout time.Duration, f func(ctx context.Context, r *runner.Runner) error) error {
	return runWith(c, timeout, false, f)
}

// withStartingRunner is withRunner for a command that starts pods: the
// runner talks to podunit's own podman service, started now if it is not
// running, which the pods' containers start through anyway (one podman
// service woken, not two).
func withStartingRunner(c *cli.Context, timeout time.Duration, f func(ctx context.Context, r *runner.Runner) error) error {
	return runWith(c, timeout, true, f)
}

func runWith(c *cli.Context, timeout time.Duration, starting bool, f func(ctx context.Context, r *runner.Runner) error) error {
	ctx, cancel := context.WithTimeout(c.Context, timeout)
	defer cancel()
	// An interrupted command still cleans up: up rolls back, down finishes.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, closeFn, err := connect(ctx, starting)
	if err != nil {
		return err
	}
	defer closeFn()
	return f(ctx, r)
}

// connect reaches the user's systemd manager and podman: podunit's own
// podman service while it runs, else (starting: podunit's own service
// started now, where it can be) the user's podman.socket, started when
// nothing listens at the socket: no file yet, or a stale one (podman.socket
// stopped, or a `podman system service` gone).
func connect(ctx context.Context, starting bool) (*runner.Runner, func(), error) {
	mgr, err := sdbus.Connect(ctx)
	if err != nil {
		return nil, nil, err
	}
	if starting {
		// Started if it does not answer. Where it cannot start, the user's
		// service does (with a time of its own), and the units' helpers say
		// why their containers start with podman run.
		_, _ = hostenv.OwnService(ctx, mgr, podmanPath())
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	eng, err := connectPodman(cctx, mgr)
	if err != nil {
		mgr.Close()
		return nil, nil, err
	}
	r := &runner.Runner{Units: mgr, Engine: eng, StateDir: podstate.DefaultDir(), Logs: podstate.ContainerLogs(), Log: os.Stderr}
	if isTerminal(os.Stderr) {
		r.Progress = os.Stderr // quiet for scripts and logs
	}
	return r, mgr.Close, nil
}

// isTerminal tells whether f is a terminal.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// connectPodman connects to the user's podman service, starting podman.socket
// through mgr (or a connection of its own when mgr is nil) when nothing
// listens at the socket.
func connectPodman(ctx context.Context, mgr *sdbus.Manager) (*engine.Podman, error) {
	eng, err := engine.Connect(ctx)
	if err == nil {
		return eng, nil
	}
	if mgr == nil {
		m, merr := sdbus.Connect(ctx)
		if merr != nil {
			return nil, err
		}
		defer m.Close()
		mgr = m
	}
	if serr := mgr.StartUnit(ctx, "podman.socket"); serr != nil {
		return nil, fmt.Errorf("%w (and starting podman.socket: %v)", err, serr)
	}
	return engine.Connect(ctx)
}

// podmanPath is podman's absolute path (systemd wants one in Exec lines).
func podmanPath() string {
	if p, err := exec.LookPath("podman"); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs
		}
	}
	return "/usr/bin/podman"
}

// selfPath is this binary's path: units call it for their hooks.
func selfPath() string {
	if p, err := os.Executable(); err == nil {
		return p
	}
	return "/usr/bin/podunit"
}

// assignServices gives the manifest's Services their addresses and node
// ports (keeping those they had when applied before), makes this host the
// load balancer of the LoadBalancer ones (cluster.LoadBalancers: on this
// host's ports from minPort up) and checks their named target ports against
// the manifest's pods; it returns every Service that will exist, the
// manifest's in place of stored ones, and the warnings of those left pending.
func assignServices(m *pod.Manifest, known *pod.Objects, minPort int) ([]*corev1.Service, []string, error) {
	conflicts := cluster.AssignAvoiding(m.Objects.Services, known.Services, func(port int32, proto corev1.Protocol) bool {
		return portFree(proto, int(port)) != nil
	})
	var warns []string
	if len(conflicts) == 0 && slices.ContainsFunc(m.Objects.Services, func(s *corev1.Service) bool { return s.Spec.Type == corev1.ServiceTypeLoadBalancer }) {
		// the host's address is looked up only for a load balancer's ingress
		warns, conflicts = cluster.LoadBalancers(m.Objects.Services, known.Services, minPort, netinfo.HostIPs("/proc")[0])
	}
	for _, s := range m.Objects.Services {
		if errs := cluster.CheckTargets(s, m.Pods); len(errs) > 0 {
			conflicts = append(conflicts, &cluster.Conflict{Service: s, Errs: errs})
		}
	}
	if len(conflicts) > 0 {
		var b strings.Builder
		for _, c := range conflicts {
			fmt.Fprintf(&b, "\nservice %q: %d problem(s)", c.Service.Name, len(c.Errs))
			for _, e := range c.Errs {
				fmt.Fprintf(&b, "\n  %s", e.Error())
			}
		}
		return nil, nil, fmt.Errorf("%w: nothing was changed:%s", pod.ErrInvalid, b.String())
	}
	return pod.Over(&m.Objects, known).Services, warns, nil
}

// surgingDeployment names a Deployment of m that rolls out with a pod more
// than its replicas (maxSurge) over pods it already has: its new pods start
// beside its old ones ("" when none does).
func surgingDeployment(m *pod.Manifest, recorded []*corev1.Pod) string {
	for _, d := range m.Objects.Deployments {
		if surge, _ := pod.RolloutLimits(d); surge > 0 && len(ownedPods(recorded, d)) > 0 {
			return d.Name
		}
	}
	return ""
}

// lbPortStart is the lowest port this user can publish on the host: the
// host's net.ipv4.ip_unprivileged_port_start for a rootless user (1024 when
// it cannot be read), 0 for root.
func lbPortStart() int {
	if os.Getuid() == 0 {
		return 0
	}
	if n := unprivilegedPortStart(); n >= 0 {
		return n
	}
	return 1024
}

// checkPublishedPorts makes sure this host's ports that the Services of
// apply are to be published on anew (their node ports, cluster.NewNodePorts,
// and a LoadBalancer's ports, cluster.NewlyBalanced) are free, before
// anything changes: the service proxy, restarted to publish a port another
// program holds, would not start, and every Service and the cluster DNS
// with it.
func checkPublishedPorts(apply, stored []*corev1.Service) error {
	var busy []string
	for _, kind := range []struct {
		ports []cluster.PortOf
		field string
		port  func(corev1.ServicePort) int32
	}{
		{cluster.NewNodePorts(apply, stored), "nodePort", func(p corev1.ServicePort) int32 { return p.NodePort }},
		{cluster.NewlyBalanced(apply, stored), "port", func(p corev1.ServicePort) int32 { return p.Port }},
	} {
		for _, po := range kind.ports {
			p := po.Service.Spec.Ports[po.Index]
			if err := portFree(p.Protocol, int(kind.port(p))); err != nil {
				busy = append(busy, fmt.Sprintf("service %q: spec.ports[%d].%s: this host's port %d/%s: %v", po.Service.Name, po.Index, kind.field, kind.port(p), p.Protocol, err))
			}
		}
	}
	if len(busy) > 0 {
		return fmt.Errorf("a Service is published on this host's ports (its node ports; a LoadBalancer's ports too), and another program holds one (nothing was changed):\n  %s", strings.Join(busy, "\n  "))
	}
	return nil
}

// checkIngressPorts makes sure this host's ingress ports are free when the
// first Ingress is to publish them, before anything changes (see
// checkPublishedPorts).
func checkIngressPorts(ingresses, stored int, ports cluster.IngressPorts) error {
	if ingresses == 0 || stored > 0 {
		return nil
	}
	var busy []string
	for _, port := range []int{ports.HTTP, ports.HTTPS} {
		if err := portFree(corev1.ProtocolTCP, port); err != nil {
			busy = append(busy, fmt.Sprintf("this host's port %d/TCP: %v", port, err))
		}
	}
	if len(busy) > 0 {
		file, _ := ingressPortsFile()
		return fmt.Errorf("the Ingresses are served on this host's ports, and another program holds one (nothing was changed; %s can name others, \"http: PORT\" and \"https: PORT\" lines):\n  %s", file, strings.Join(busy, "\n  "))
	}
	return nil
}

// portFree tells whether this host's port of proto can be listened on.
func portFree(proto corev1.Protocol, port int) error {
	addr := ":" + strconv.Itoa(port)
	if proto == corev1.ProtocolUDP {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return unwrapOp(err)
		}
		return c.Close()
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return unwrapOp(err)
	}
	return l.Close()
}

// unwrapOp is the cause of a network operation's error, without the
// operation and address the caller says itself.
func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// serviceProxy is the service proxy that publishes the node ports of
// services; of o it needs Podman, Self and InfraImage. Its units write to
// files on every host: what made them fail is then told with the failure.
// ingresses (how many are stored) adds the ingress ports (ingressPorts).
func serviceProxy(o units.Options, services []*corev1.Service, ingresses int, ports cluster.IngressPorts) units.Services {
	o.LogDir = servicesLogDir()
	published := append(cluster.NodePorts(services), cluster.IngressPublished(ingresses, ports)...)
	sort.Strings(published)
	svc := units.ServicesFor(o, published)
	svc.IngressPorts = cluster.IngressPublished(1, ports)
	return svc
}

// ingressPortsFile is ~/.config/podunit/ingress-ports, where the user may
// choose this host's ingress ports.
func ingressPortsFile() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "podunit", "ingress-ports"), nil
}

// ingressPorts are this host's ingress ports: those of ingressPortsFile,
// else 80 and 443 where this user may listen on them, else 8080 and 8443.
func ingressPorts() (cluster.IngressPorts, error) {
	def := cluster.DefaultIngressPorts(lbPortStart())
	file, err := ingressPortsFile()
	if err != nil {
		return def, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return def, nil
		}
		return def, err
	}
	ports, err := cluster.ParseIngressPorts(string(data), def)
	if err != nil {
		return def, fmt.Errorf("%w: %s: %v", pod.ErrInvalid, file, err)
	}
	return ports, nil
}

func servicesLogDir() string { return filepath.Join(podstate.DefaultDir(), "services") }

// proxyStart is the service proxy starting in the background
// (Runner.UseServices) while up starts the pods.
type proxyStart struct {
	done    chan struct{}
	release func()
	err     error
}

func startProxy(ctx context.Context, r *runner.Runner, svc units.Services) *proxyStart {
	p := &proxyStart{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.release, p.err = r.UseServices(ctx, svc)
	}()
	return p
}

// wait is UseServices' result: release ends the use of the pod network.
func (p *proxyStart) wait() (release func(), err error) {
	<-p.done
	return p.release, p.err
}

// restoreServices takes back the Services and Ingresses an `up` stored before its pods
// failed: new ones go, replaced ones come back as they were.
func restoreServices(applied *pod.Objects, known *pod.Objects) {
	dir := podstate.DefaultDir()
	_, _ = objstore.RemoveObjects(dir, &pod.Objects{Services: applied.Services, Ingresses: applied.Ingresses})
	var back pod.Objects
	for _, s := range applied.Services {
		if old := known.Service(s.Namespace, s.Name); old != nil {
			back.Services = append(back.Services, old)
		}
	}
	for _, in := range applied.Ingresses {
		if old := known.Ingress(in.Namespace, in.Name); old != nil {
			back.Ingresses = append(back.Ingresses, old)
		}
	}
	_ = objstore.SaveObjects(dir, &back)
}

func formatSelector(m map[string]string) string {
	var kv []string
	for k, v := range m {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	if len(kv) == 0 {
		return "<none>"
	}
	return strings.Join(kv, ",")
}

func gateNames(p *corev1.Pod) string {
	var names []string
	for _, g := range p.Spec.SchedulingGates {
		names = append(names, g.Name)
	}
	return strings.Join(names, ", ")
}

// ownerKey names the Deployment, StatefulSet or DaemonSet that made a pod
// (KIND/NAMESPACE/NAME), or "" for a pod of its own.
func ownerKey(p *corev1.Pod) string {
	if d := pod.OwnerDeployment(p); d != "" {
		return pod.KindDeployment + "/" + p.Namespace + "/" + d
	}
	if s := pod.OwnerStatefulSet(p); s != "" {
		return pod.KindStatefulSet + "/" + p.Namespace + "/" + s
	}
	if ds := pod.OwnerDaemonSet(p); ds != "" {
		return pod.KindDaemonSet + "/" + p.Namespace + "/" + ds
	}
	return ""
}

// claimUnits are stored claims as podunit's volumes of them: all of them,
// for claim protection, and those whose data is a podman volume of their
// own (data); a claim bound to a PersistentVolume keeps its data there
// (Retain).
func claimUnits(claims []*corev1.PersistentVolumeClaim) (all, data []units.Claim) {
	for _, cl := range claims {
		c := units.Claim{Name: units.ClaimVolumeName(cl.Namespace, cl.Name), Namespace: cl.Namespace, Claim: cl.Name}
		all = append(all, c)
		if cl.Spec.VolumeName == "" {
			data = append(data, c)
		}
	}
	return all, data
}

// removeClaims removes claims, their objects and their data (once no pod
// uses them), and says so.
func removeClaims(ctx context.Context, w io.Writer, r *runner.Runner, claims []*corev1.PersistentVolumeClaim) error {
	all, uc := claimUnits(claims)
	if err := r.ClaimsUnused(all); err != nil {
		return err
	}
	removed, err := objstore.RemoveObjects(podstate.DefaultDir(), &pod.Objects{Claims: claims})
	for _, l := range objectLines(removed, "deleted") {
		fmt.Fprintln(w, l)
	}
	if err != nil {
		return err
	}
	if err := r.RemoveClaims(ctx, uc); err != nil {
		return err
	}
	for _, c := range uc {
		fmt.Fprintf(w, "volume/%s removed\n", c.Name)
	}
	return nil
}

// policyTypes says what a NetworkPolicy limits: "ingress limited, egress
// limited".
func policyTypes(np *networkingv1.NetworkPolicy) string {
	var out []string
	for _, t := range np.Spec.PolicyTypes {
		out = append(out, strings.ToLower(string(t))+" limited")
	}
	return strings.Join(out, ", ")
}
