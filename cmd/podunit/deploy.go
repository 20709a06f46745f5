package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/podstate/objstore"
	"github.com/podunit/podunit/runner"
	"github.com/podunit/podunit/units"
)

var deploymentTypes = []string{"deployment", "deployments", "deploy"}

// deploymentWork is what `up` does, besides starting pods, to make the
// running pods of a manifest's Deployments match them.
type deploymentWork struct {
	// removeFirst: the old pods of Deployments with strategy Recreate,
	// removed before their new pods start.
	removeFirst []string
	// removeAfter: pods of a current template beyond its replicas (scaled
	// down), removed once the manifest's pods run.
	removeAfter []string
	// rollouts: RollingUpdates, run once the manifest's other pods run.
	rollouts []runner.Rollout
}

// planDeployments sorts the pods a manifest's Deployments made (among pods,
// those not running yet, with their plans) into what `up` starts as any
// pod and what their rollouts do; running names the manifest's pods that
// run already, recorded every pod that runs. It returns the pods (and
// plans) that start as any pod.
func planDeployments(ds []*appsv1.Deployment, pods []*corev1.Pod, plans []*units.Plan, running []string, recorded []*corev1.Pod) (w deploymentWork, rest []*corev1.Pod, restPlans []*units.Plan) {
	rolling := map[string]*runner.Rollout{} // by namespace/name
	for _, d := range ds {
		key := d.Namespace + "/" + d.Name
		hash := pod.TemplateHash(&d.Spec.Template)
		wanted := map[string]bool{}
		for _, p := range pod.DeploymentPods(d) {
			wanted[p.Name] = true
		}
		var old, current []string
		for _, p := range recorded {
			if p.Namespace != d.Namespace || pod.OwnerDeployment(p) != d.Name {
				continue
			}
			switch {
			case wanted[p.Name]:
				current = append(current, p.Name)
			case p.Labels[pod.LabelPodTemplateHash] == hash:
				w.removeAfter = append(w.removeAfter, p.Name)
			default:
				old = append(old, p.Name)
			}
		}
		switch {
		case len(old) == 0:
		case d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType:
			w.removeFirst = append(w.removeFirst, old...)
		default:
			for _, n := range running {
				if wanted[n] && !slices.Contains(current, n) {
					current = append(current, n)
				}
			}
			rolling[key] = &runner.Rollout{Deployment: d, Current: current, Old: old}
		}
	}
	for i, p := range pods {
		if ro := rolling[p.Namespace+"/"+pod.OwnerDeployment(p)]; ro != nil && pod.OwnerDeployment(p) != "" {
			ro.Pending, ro.Plans = append(ro.Pending, p), append(ro.Plans, plans[i])
			// one that runs and starts again (up --replace) counts once
			ro.Current = slices.DeleteFunc(ro.Current, func(n string) bool { return n == p.Name })
			continue
		}
		rest, restPlans = append(rest, p), append(restPlans, plans[i])
	}
	for _, d := range ds {
		if ro := rolling[d.Namespace+"/"+d.Name]; ro != nil {
			w.rollouts = append(w.rollouts, *ro)
		}
	}
	return w, rest, restPlans
}

// ownedPods are the recorded pods a Deployment made, of any template.
func ownedPods(recorded []*corev1.Pod, d *appsv1.Deployment) []string {
	var out []string
	for _, p := range recorded {
		if p.Namespace == d.Namespace && pod.OwnerDeployment(p) == d.Name {
			out = append(out, p.Name)
		}
	}
	return out
}

// deploymentStatus is a Deployment's status, from its pods.
func deploymentStatus(d *appsv1.Deployment, pods []*corev1.Pod) appsv1.DeploymentStatus {
	hash := pod.TemplateHash(&d.Spec.Template)
	var st appsv1.DeploymentStatus
	for _, p := range pods {
		if p.Namespace != d.Namespace || pod.OwnerDeployment(p) != d.Name {
			continue
		}
		st.Replicas++
		if p.Labels[pod.LabelPodTemplateHash] == hash {
			st.UpdatedReplicas++
		}
		if conditionTrue(p, corev1.PodReady) {
			st.ReadyReplicas++
			st.AvailableReplicas++
		}
	}
	st.UnavailableReplicas = max(0, *d.Spec.Replicas-st.AvailableReplicas)
	return st
}

// printDeployments lists the stored Deployments (those named, or all) with
// their pods' counts, as kubectl get deployments.
func printDeployments(ctx context.Context, w, errw io.Writer, r *runner.Runner, names []string, ns string, sel selection, format string, t tableOpts) error {
	list, pods, err := storedWithPods(ctx, r, func(o *pod.Objects) []*appsv1.Deployment { return o.Deployments }, "deployment", names, ns, sel)
	if err != nil {
		return err
	}
	if done, err := listing(w, errw, list, "deployment.apps", ns, format, len(names) == 1, func(d *appsv1.Deployment) any {
		x := d.DeepCopy()
		x.APIVersion, x.Kind = "apps/v1", pod.KindDeployment
		x.Status = deploymentStatus(d, pods)
		return x
	}); done {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	head := t.head("NAME\tREADY\tUP-TO-DATE\tAVAILABLE\tAGE")
	if format == "wide" {
		head += "\tCONTAINERS\tIMAGES\tSELECTOR"
	}
	fmt.Fprintln(tw, head)
	now := time.Now()
	for _, d := range list {
		st := deploymentStatus(d, pods)
		line := t.row(d.Namespace, fmt.Sprintf("%s\t%d/%d\t%d\t%d\t%s", t.name("deployment.apps", d.Name), st.ReadyReplicas, *d.Spec.Replicas, st.UpdatedReplicas, st.AvailableReplicas, since(d.CreationTimestamp.Time, now)))
		if format == "wide" {
			cs, images := templateImages(&d.Spec.Template)
			line += fmt.Sprintf("\t%s\t%s\t%s", cs, images, metav1.FormatLabelSelector(d.Spec.Selector))
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// templateImages are a template's containers and their images, kubectl's
// CONTAINERS and IMAGES columns.
func templateImages(t *corev1.PodTemplateSpec) (containers, images string) {
	var cs, imgs []string
	for _, c := range t.Spec.Containers {
		cs, imgs = append(cs, c.Name), append(imgs, c.Image)
	}
	return strings.Join(cs, ","), strings.Join(imgs, ",")
}

// scaleCommand is kubectl scale for Deployments: the stored Deployment with
// another replica count, applied as `podunit up` applies it.
func scaleCommand() *cli.Command {
	return &cli.Command{
		Name:      "scale",
		Usage:     "set a Deployment's or StatefulSet's replicas and start or remove its pods to match",
		ArgsUsage: "deployment/NAME | statefulset/NAME | TYPE NAME  --replicas N",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "replicas", Value: -1, DefaultText: "none", Usage: "the new number of pods (required)"},
			&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Usage: "the Deployment's namespace (default: the only one of that name)"},
		},
		Action: func(c *cli.Context) error {
			_, vals, err := cmdFlags(c, false)
			if err != nil {
				return err
			}
			replicas, err := strconv.Atoi(vals["replicas"])
			if err != nil || replicas < 0 {
				return fmt.Errorf("%w: --replicas N (0 or more) is required", errUsage)
			}
			if ds, ok, err := daemonSetArg(c); ok {
				if err != nil {
					return err
				}
				return fmt.Errorf("%w: daemonset.apps/%s is not scalable: a DaemonSet runs one pod on each node its template fits (here: this host), and its nodeSelector decides", errUsage, ds.Name)
			}
			if found, ok, err := setArg(c); ok {
				if err != nil {
					return err
				}
				st := found.DeepCopy()
				n := int32(replicas)
				st.Spec.Replicas = &n
				if err := applyStatefulSet(c, st, false); err != nil {
					return err
				}
				fmt.Fprintf(c.App.Writer, "statefulset.apps/%s scaled\n", st.Name)
				return nil
			}
			found, err := deploymentArg(c)
			if err != nil {
				return err
			}
			d := found.DeepCopy()
			n := int32(replicas)
			d.Spec.Replicas = &n
			if err := applyDeployment(c, d, false); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "deployment.apps/%s scaled\n", d.Name)
			return nil
		},
	}
}

// markRestarted is kubectl rollout restart's mark on a template: a changed
// template, so a rolling replacement of every pod.
func markRestarted(t *corev1.PodTemplateSpec) {
	if t.Annotations == nil {
		t.Annotations = map[string]string{}
	}
	t.Annotations["kubectl.kubernetes.io/restartedAt"] = time.Now().Format(time.RFC3339)
}

// waitRollout is kubectl rollout status: once a second, check says what
// the rollout waits for (told when it changes) or that it is done, until
// --timeout (exit 4).
func waitRollout(c *cli.Context, kind, name string, check func(pods []*corev1.Pod) (waiting, done string)) error {
	return withRunner(c, c.Duration("timeout")+time.Minute, func(ctx context.Context, r *runner.Runner) error {
		deadline := time.Now().Add(c.Duration("timeout"))
		last := ""
		for {
			pods, err := currentPods(ctx, r, nil)
			if err != nil {
				return err
			}
			msg, done := check(pods)
			if done != "" {
				fmt.Fprintln(c.App.Writer, done)
				return nil
			}
			if msg != last {
				fmt.Fprintln(c.App.Writer, msg)
				last = msg
			}
			if time.Now().After(deadline) {
				return errTimeout{fmt.Sprintf("%s %q: not rolled out after %s", kind, name, c.Duration("timeout"))}
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Second):
			}
		}
	})
}

// applyDeployment applies a Deployment as `podunit up -` applies it: the
// same checks, the same rollout, its output.
func applyDeployment(c *cli.Context, d *appsv1.Deployment, persist bool) error {
	d = d.DeepCopy()
	d.APIVersion, d.Kind = "apps/v1", pod.KindDeployment
	return applyWorkload(c, d, persist)
}

// applyStatefulSet applies a StatefulSet as `podunit up -` applies it.
func applyStatefulSet(c *cli.Context, s *appsv1.StatefulSet, persist bool) error {
	s = s.DeepCopy()
	s.APIVersion, s.Kind = "apps/v1", pod.KindStatefulSet
	return applyWorkload(c, s, persist)
}

// applyWorkload applies a stored Deployment or StatefulSet as the user
// wrote it: without what a cluster's export carried (warned about when it
// was applied), the status, and the defaults podunit warns about.
func applyWorkload(c *cli.Context, obj any, persist bool) error {
	data, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return err
	}
	delete(doc, "status")
	if md, ok := doc["metadata"].(map[string]any); ok {
		for _, k := range []string{"uid", "resourceVersion", "generation", "managedFields", "creationTimestamp"} {
			delete(md, k)
		}
	}
	spec, _ := doc["spec"].(map[string]any)
	if h, ok := spec["revisionHistoryLimit"].(float64); ok && h == 10 {
		delete(spec, "revisionHistoryLimit")
	}
	var parts []any
	if t, ok := spec["template"]; ok {
		parts = append(parts, t)
	}
	tmpls, _ := spec["volumeClaimTemplates"].([]any)
	for _, t := range append(parts, tmpls...) {
		if t, ok := t.(map[string]any); ok {
			delete(t, "status")
			if md, ok := t["metadata"].(map[string]any); ok {
				delete(md, "creationTimestamp")
			}
		}
	}
	return applyDoc(c, doc, persist)
}

// applyDoc runs `podunit up -` of one document.
func applyDoc(c *cli.Context, doc map[string]any, persist bool) error {
	data, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	args := []string{"up", "-"}
	if persist {
		args = append(args, "--persist")
	}
	up := exec.CommandContext(c.Context, self, args...)
	up.Stdin, up.Stdout, up.Stderr = bytes.NewReader(data), c.App.Writer, c.App.ErrWriter
	if err := up.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return cli.Exit("", ee.ExitCode())
		}
		return err
	}
	return nil
}

// remadeBy are the stored Deployments, StatefulSets and DaemonSets that
// made pods of named, other than those going (gone): `down` of such a pod
// is followed by its owner making up its count (a StatefulSet's pod comes
// back by its name, of the set's current template; a DaemonSet's pod of its
// current template, OnDelete too).
func remadeBy(recorded []*corev1.Pod, named []string, gone *pod.Objects) ([]*appsv1.Deployment, []*appsv1.StatefulSet, []*appsv1.DaemonSet) {
	known, err := objstore.LoadObjects(podstate.DefaultDir())
	if err != nil {
		return nil, nil, nil
	}
	var out []*appsv1.Deployment
	var sets []*appsv1.StatefulSet
	var dss []*appsv1.DaemonSet
	for _, p := range recorded {
		if !slices.Contains(named, p.Name) {
			continue
		}
		if owner := pod.OwnerDaemonSet(p); owner != "" && gone.DaemonSet(p.Namespace, owner) == nil {
			if ds := known.DaemonSet(p.Namespace, owner); ds != nil && !slices.Contains(dss, ds) {
				dss = append(dss, ds)
			}
		}
		if owner := pod.OwnerStatefulSet(p); owner != "" && gone.StatefulSet(p.Namespace, owner) == nil {
			if s := known.StatefulSet(p.Namespace, owner); s != nil && !slices.Contains(sets, s) {
				sets = append(sets, s)
			}
		}
		owner := pod.OwnerDeployment(p)
		if owner == "" || gone.Deployment(p.Namespace, owner) != nil {
			continue
		}
		if d := known.Deployment(p.Namespace, owner); d != nil && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out, sets, dss
}

// rolloutCommand is kubectl rollout for Deployments: restart (a rolling
// replacement of every pod, by a changed template annotation, as kubectl
// does it) and status (wait until the pods are of the current template and
// available).
func rolloutCommand() *cli.Command {
	nsFlag := &cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Usage: "the Deployment's namespace (default: the only one of that name)"}
	return &cli.Command{
		Name:  "rollout",
		Usage: "restart a Deployment's, StatefulSet's or DaemonSet's pods, or wait for its rollout (kubectl rollout restart|status)",
		Subcommands: []*cli.Command{{
			Name:      "restart",
			Usage:     "replace every pod of a Deployment, as its strategy rolls a new template out",
			ArgsUsage: "deployment/NAME | statefulset/NAME | daemonset/NAME",
			Flags:     []cli.Flag{nsFlag},
			Action: func(c *cli.Context) error {
				if ds, ok, err := daemonSetArg(c); ok {
					if err != nil {
						return err
					}
					ds = ds.DeepCopy()
					markRestarted(&ds.Spec.Template)
					if err := applyDaemonSet(c, ds, false); err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "daemonset.apps/%s restarted\n", ds.Name)
					return nil
				}
				if s, ok, err := setArg(c); ok {
					if err != nil {
						return err
					}
					s = s.DeepCopy()
					markRestarted(&s.Spec.Template)
					if err := applyStatefulSet(c, s, false); err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "statefulset.apps/%s restarted\n", s.Name)
					return nil
				}
				d, err := deploymentArg(c)
				if err != nil {
					return err
				}
				d = d.DeepCopy()
				markRestarted(&d.Spec.Template)
				if err := applyDeployment(c, d, false); err != nil {
					return err
				}
				fmt.Fprintf(c.App.Writer, "deployment.apps/%s restarted\n", d.Name)
				return nil
			},
		}, {
			Name:      "status",
			Usage:     "wait until every pod of a Deployment is of its current template and available",
			ArgsUsage: "deployment/NAME",
			Flags: []cli.Flag{nsFlag,
				&cli.DurationFlag{Name: "timeout", Value: 10 * time.Minute, Usage: "give up (exit 4) after this long"}},
			Action: func(c *cli.Context) error {
				if ds, ok, err := daemonSetArg(c); ok {
					if err != nil {
						return err
					}
					return waitRollout(c, "daemonset", ds.Name, func(pods []*corev1.Pod) (string, string) {
						return daemonSetRolledOut(ds, pods)
					})
				}
				if s, ok, err := setArg(c); ok {
					if err != nil {
						return err
					}
					return waitRollout(c, "statefulset", s.Name, func(pods []*corev1.Pod) (string, string) {
						if msg := setRolledOut(s, pods); msg != "" {
							return msg, ""
						}
						return "", fmt.Sprintf("statefulset rolling update complete %d pods at revision %s...", *s.Spec.Replicas, pod.RevisionHash(s))
					})
				}
				d, err := deploymentArg(c)
				if err != nil {
					return err
				}
				return waitRollout(c, "deployment", d.Name, func(pods []*corev1.Pod) (string, string) {
					st := deploymentStatus(d, pods)
					want := *d.Spec.Replicas
					switch {
					case st.UpdatedReplicas < want:
						return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d out of %d new replicas have been updated...", d.Name, st.UpdatedReplicas, want), ""
					case st.Replicas > st.UpdatedReplicas:
						return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d old replicas are pending termination...", d.Name, st.Replicas-st.UpdatedReplicas), ""
					case st.AvailableReplicas < want:
						return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d of %d updated replicas are available...", d.Name, st.AvailableReplicas, want), ""
					}
					return "", fmt.Sprintf("deployment %q successfully rolled out", d.Name)
				})
			},
		}, {
			Name:  "undo",
			Usage: "not kept: apply the earlier manifest",
			Action: func(*cli.Context) error {
				return fmt.Errorf("%w: podunit keeps no old ReplicaSets to undo to: `podunit up` the earlier manifest, which rolls its pods out again", errUsage)
			},
		}, {
			Name:  "history",
			Usage: "not kept: the manifests are the history",
			Action: func(*cli.Context) error {
				return fmt.Errorf("%w: podunit keeps no rollout history (no old ReplicaSets): the manifests you applied with `podunit up` are it", errUsage)
			},
		}, {
			Name:  "pause",
			Usage: "not supported: a Deployment rolls out when applied",
			Action: func(*cli.Context) error {
				return fmt.Errorf("%w: there is no controller to pause: a Deployment rolls out when `podunit up` applies it", errUsage)
			},
		}},
	}
}

// deploymentArg is the stored Deployment a command names (deployment/NAME,
// or `deployment NAME`; -n when its name is in several namespaces).
func deploymentArg(c *cli.Context) (*appsv1.Deployment, error) {
	pos, vals, err := cmdFlags(c, false)
	if err != nil {
		return nil, err
	}
	var name string
	switch {
	case len(pos) == 1 && strings.Contains(pos[0], "/"):
		if name = deploymentRef(pos[0]); name == "" {
			return nil, fmt.Errorf("%w: %s: podunit %s takes Deployments (deployment/NAME)", errUsage, pos[0], c.Command.Name)
		}
	case len(pos) == 2 && slices.Contains(deploymentTypes, pos[0]):
		name = pos[1]
	default:
		return nil, fmt.Errorf("%w: podunit %s deployment/NAME", errUsage, c.Command.FullName())
	}
	return oneNamed(deploymentsNamed, "deployment", name, vals["namespace"])
}

// deploymentRef is NAME of deployment/NAME (deploy/NAME, deployments/NAME),
// or "" for anything else.
func deploymentRef(a string) string { return typedRef(a, deploymentTypes) }

// typedRef is NAME of TYPE/NAME when TYPE is one of types, or "".
func typedRef(a string, types []string) string {
	kind, name, ok := strings.Cut(a, "/")
	if !ok || !slices.Contains(types, strings.ToLower(kind)) {
		return ""
	}
	return name
}

// deploymentsNamed are the stored Deployments of a name, in namespace ns
// ("": in any).
func deploymentsNamed(name, ns string) ([]*appsv1.Deployment, error) {
	known, err := objstore.LoadObjects(podstate.DefaultDir())
	if err != nil {
		return nil, err
	}
	return named(known.Deployments, name, ns), nil
}

// named are the objects of a name, in namespace ns ("": in any).
func named[T metav1.Object](all []T, name, ns string) []T {
	var found []T
	for _, x := range all {
		if x.GetName() == name && (ns == "" || x.GetNamespace() == ns) {
			found = append(found, x)
		}
	}
	return found
}

// isDeploymentArg tells whether a command's arguments name a Deployment
// (deployment/NAME, or `deployment NAME`).
func isDeploymentArg(pos []string) bool {
	return (len(pos) == 2 && slices.Contains(deploymentTypes, pos[0])) || (len(pos) == 1 && deploymentRef(pos[0]) != "")
}

// waitDeployment is kubectl wait for a Deployment: --for=condition=Available
// (at least replicas-maxUnavailable pods available, the controller's
// condition) or delete.
func waitDeployment(c *cli.Context) error {
	_, vals, err := cmdFlags(c, false)
	if err != nil {
		return err
	}
	cond := strings.ToLower(vals["for"])
	if cond != "condition=available" && cond != "delete" {
		return fmt.Errorf("%w: a Deployment is waited for with --for=condition=Available or --for=delete", errUsage)
	}
	timeout, err := time.ParseDuration(vals["timeout"])
	if err != nil || timeout < 0 {
		return fmt.Errorf("%w: --timeout %q: a duration such as 30s or 2m", errUsage, vals["timeout"])
	}
	d, err := deploymentArg(c)
	if err != nil {
		if cond == "delete" && errors.Is(err, runner.ErrNotFound) {
			return nil
		}
		return err
	}
	return withRunner(c, timeout+30*time.Second, func(ctx context.Context, r *runner.Runner) error {
		deadline := time.Now().Add(timeout)
		for {
			met := false
			if cond == "delete" {
				known, err := objstore.LoadObjects(podstate.DefaultDir())
				if err != nil {
					return err
				}
				met = known.Deployment(d.Namespace, d.Name) == nil
			} else {
				pods, err := currentPods(ctx, r, nil)
				if err != nil {
					return err
				}
				_, unavailable := pod.RolloutLimits(d)
				met = deploymentStatus(d, pods).AvailableReplicas >= *d.Spec.Replicas-int32(unavailable)
			}
			if met {
				fmt.Fprintf(c.App.Writer, "deployment.apps/%s condition met\n", d.Name)
				return nil
			}
			if time.Now().After(deadline) {
				return errTimeout{fmt.Sprintf("timed out waiting for the condition on deployments/%s", d.Name)}
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(500 * time.Millisecond):
			}
		}
	})
}

// describeDeployment is kubectl describe deployment, with its pods.
func describeDeployment(ctx context.Context, w io.Writer, r *runner.Runner, d *appsv1.Deployment) error {
	pods, err := currentPods(ctx, r, nil)
	if err != nil {
		return err
	}
	st := deploymentStatus(d, pods)
	hash := pod.TemplateHash(&d.Spec.Template)
	fmt.Fprintf(w, "Name:                   %s\n", d.Name)
	fmt.Fprintf(w, "Namespace:              %s\n", d.Namespace)
	fmt.Fprintf(w, "Labels:                 %s\n", labelList(d.Labels))
	fmt.Fprintf(w, "Selector:               %s\n", metav1.FormatLabelSelector(d.Spec.Selector))
	fmt.Fprintf(w, "Replicas:               %d desired | %d updated | %d total | %d available | %d unavailable\n",
		*d.Spec.Replicas, st.UpdatedReplicas, st.Replicas, st.AvailableReplicas, st.UnavailableReplicas)
	fmt.Fprintf(w, "StrategyType:           %s\n", d.Spec.Strategy.Type)
	fmt.Fprintf(w, "MinReadySeconds:        %d\n", d.Spec.MinReadySeconds)
	if ru := d.Spec.Strategy.RollingUpdate; ru != nil {
		fmt.Fprintf(w, "RollingUpdateStrategy:  %s max unavailable, %s max surge\n", ru.MaxUnavailable.String(), ru.MaxSurge.String())
	}
	describePodTemplate(w, &d.Spec.Template)
	fmt.Fprintf(w, "NewReplicaSet:          %s (%d/%d replicas created)\n", pod.ReplicaSetName(d.Name, hash), st.UpdatedReplicas, *d.Spec.Replicas)
	var owned []*corev1.Pod
	for _, p := range pods {
		if p.Namespace == d.Namespace && pod.OwnerDeployment(p) == d.Name {
			owned = append(owned, p)
		}
	}
	return describeOwnedPods(w, owned, "TEMPLATE", pod.LabelPodTemplateHash, hash)
}

// storedWithPods are the stored objects of a kind (all: its list) that
// storedNamed picks, and, when there are any, the pods that run (their
// status read once).
func storedWithPods[T metav1.Object](ctx context.Context, r *runner.Runner, all func(*pod.Objects) []T, kind string, names []string, ns string, sel selection) ([]T, []*corev1.Pod, error) {
	known, err := objstore.LoadObjects(podstate.DefaultDir())
	if err != nil {
		return nil, nil, err
	}
	list, err := storedNamed(all(known), kind, names, ns, sel)
	if err != nil || len(list) == 0 {
		return list, nil, err
	}
	pods, err := currentPods(ctx, r, nil)
	return list, pods, err
}

// storedNamed picks, of a kind's stored objects, those named (all when none
// are) of namespace ns ("": any) that sel selects, in namespace/name order
// (or sel's); a name that none has is not found.
func storedNamed[T metav1.Object](all []T, kind string, names []string, ns string, sel selection) ([]T, error) {
	var list []T
	for _, x := range all {
		if (len(names) == 0 || slices.Contains(names, x.GetName())) && (ns == "" || x.GetNamespace() == ns) && sel.match(x, x.GetLabels()) {
			list = append(list, x)
		}
	}
	for _, n := range names {
		if !slices.ContainsFunc(list, func(x T) bool { return x.GetName() == n }) {
			return nil, notFound{kind: kind, name: n, ns: ns}
		}
	}
	slices.SortFunc(list, func(a, b T) int {
		return strings.Compare(a.GetNamespace()+"/"+a.GetName(), b.GetNamespace()+"/"+b.GetName())
	})
	return list, sortObjects(list, sel)
}
