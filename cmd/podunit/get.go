package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podunit/podunit/cluster"
	"github.com/podunit/podunit/netinfo"
	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/podstate/objstore"
	"github.com/podunit/podunit/runner"
	"github.com/podunit/podunit/units"
)

// getCommand is `kubectl get pods` for this host: the pods as Kubernetes v1
// Pod objects (the spec as applied, a status read from systemd, podman and
// podunit's records), so kubectl-minded tools, jq and yq work on them.
func getCommand() *cli.Command {
	return &cli.Command{
		Name:      "get",
		Usage:     "show pods as Kubernetes v1 Pods, Services with their endpoints, Deployments with their pods' counts, or this host as the node (-o json|yaml|wide|name)",
		ArgsUsage: "pods|services|ingresses|deployments|replicasets|statefulsets|daemonsets|jobs|cronjobs|configmaps|secrets|pvc|serviceaccounts|nodes|namespaces|events|all[,TYPE...] [NAME...] | TYPE/NAME... [-l SELECTOR] [-o json|yaml|wide|name|jsonpath=...|custom-columns=...] [-n NAMESPACE | -A]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "json, yaml, wide, name, jsonpath=TEMPLATE, jsonpath-as-json=TEMPLATE or custom-columns=HEADER:PATH,..."},
			&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Usage: "only those of this namespace"},
			&cli.BoolFlag{Name: "all-namespaces", Aliases: []string{"A"}, Usage: "those of every namespace (as without -n), with a NAMESPACE column"},
			&cli.StringFlag{Name: "selector", Aliases: []string{"l"}, Usage: "only those whose labels match, as kubectl's -l (app=web,tier!=db; env in (a,b); !canary)"},
			&cli.StringFlag{Name: "field-selector", Usage: "only those whose fields match, as kubectl's (status.phase=Running, spec.nodeName=NODE; events: involvedObject.name=POD, type=Warning, reason=...; any kind: metadata.name, metadata.namespace)"},
			&cli.StringFlag{Name: "sort-by", Usage: "order by a JSONPath expression, as kubectl's (.metadata.name, .status.startTime, .lastTimestamp)"},
			&cli.BoolFlag{Name: "show-labels", Usage: "pods, nodes and namespaces: a LABELS column, as kubectl's"},
			&cli.BoolFlag{Name: "no-headers", Usage: "tables (and custom-columns) without their header line, as kubectl's"},
			&cli.BoolFlag{Name: "watch", Aliases: []string{"w"}, Usage: "pods: after the table, a line for each pod whose READY, STATUS or RESTARTS changes; events: each new one; until interrupted"},
		},
		Action: func(c *cli.Context) error {
			pos, vals, err := cmdFlags(c, false)
			if err != nil {
				return err
			}
			out, ns := vals["output"], vals["namespace"]
			if ns != "" && vals["all-namespaces"] == "true" {
				return fmt.Errorf("%w: -n and -A exclude each other", errUsage)
			}
			if err := validOutput(out); err != nil {
				return err
			}
			groups, err := getArgs(pos)
			if err != nil {
				return err
			}
			if vals["no-headers"] == "true" && (out == "" || out == "wide" || strings.HasPrefix(out, "custom-columns")) {
				c.App.Writer = &noHeaders{w: c.App.Writer, lineStart: true, table: true}
			}
			t := tableOpts{nsColumn: vals["all-namespaces"] == "true", labels: vals["show-labels"] == "true"}
			if len(groups) == 1 {
				return getKind(c, groups[0].kind, groups[0].names, vals, out, t, c.App.Writer, c.App.ErrWriter)
			}
			if vals["watch"] == "true" {
				return fmt.Errorf("%w: -w watches one kind: pods or events", errUsage)
			}
			return getMany(c, groups, vals, out, t)
		},
	}
}

// getKind is get of one kind (as getArgs names it), names (all when none),
// printed as out says to w, its "No resources found" and warnings to errw.
func getKind(c *cli.Context, kind string, names []string, vals map[string]string, out string, table tableOpts, w, errw io.Writer) error {
	ns, selector := vals["namespace"], vals["selector"]
	lsel, err := namesOrSelector(names, selector)
	if err != nil {
		return err
	}
	sel, err := parseSelection(kind, lsel, vals["field-selector"], vals["sort-by"])
	if err != nil {
		return err
	}
	if watch := vals["watch"] == "true"; watch && kind != "pods" && kind != "events" {
		return fmt.Errorf("%w: -w watches pods and events", errUsage)
	} else if watch && out != "" && out != "wide" {
		return fmt.Errorf("%w: -w prints the table (or -o wide)", errUsage)
	}
	if print := storedPrinter(kind); print != nil {
		return withRunner(c, time.Minute, func(ctx context.Context, r *runner.Runner) error {
			return print(ctx, w, errw, r, names, ns, sel, out, table)
		})
	}
	switch kind {
	case "events":
		if len(names) > 0 {
			return fmt.Errorf("%w: get events takes no names: -n and -l select, podunit events POD lists one pod's", errUsage)
		}
		ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
		defer stop()
		return getEvents(ctx, w, errw, ns, sel, out, table, vals["watch"] == "true")
	case "endpoints":
		return withRunner(c, time.Minute, func(ctx context.Context, r *runner.Runner) error {
			st, err := servicesNow(ctx, r)
			if err != nil {
				return err
			}
			return printEndpoints(w, errw, st, names, ns, sel, out, table)
		})
	case "namespaces":
		pods, err := runner.KnownPods(podstate.DefaultDir())
		if err != nil {
			return err
		}
		all, err := namespaces(podstate.DefaultDir(), pods)
		if err != nil {
			return err
		}
		return printNamespaces(w, errw, all, names, sel, out, table, time.Now())
	case "nodes":
		return withRunner(c, time.Minute, func(ctx context.Context, r *runner.Runner) error {
			n, now, err := thisNode(ctx, r)
			if err != nil {
				return err
			}
			return printNodes(w, errw, n, names, sel, out, table, now)
		})
	}
	watch := vals["watch"] == "true"
	list := func(ctx context.Context, r *runner.Runner, names []string) ([]*corev1.Pod, error) {
		pods, err := currentPods(ctx, r, names)
		if err != nil {
			return nil, err
		}
		if ns != "" {
			var in []*corev1.Pod
			for _, p := range pods {
				if p.Namespace == ns {
					in = append(in, p)
				} else if len(names) > 0 {
					// as kubectl: a pod of another namespace is not found in this one
					return nil, fmt.Errorf("%w: %q in namespace %q (it is in %q)", runner.ErrNotFound, p.Name, ns, p.Namespace)
				}
			}
			pods = in
		}
		pods = slices.DeleteFunc(pods, func(p *corev1.Pod) bool { return !sel.match(p, p.Labels) })
		return pods, sortObjects(pods, sel)
	}
	timeout := time.Minute
	if watch {
		timeout = 100 * 365 * 24 * time.Hour
	}
	return withRunner(c, timeout, func(ctx context.Context, r *runner.Runner) error {
		pods, err := list(ctx, r, names)
		if err != nil {
			return err
		}
		if len(pods) == 0 && (out == "" || out == "wide" || out == "name") && !watch {
			fmt.Fprintln(errw, noneFound(ns))
			return nil
		}
		if err := printPods(w, pods, out, len(names) == 1, table); err != nil || !watch {
			return err
		}
		ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		return watchPods(ctx, w, pods, out, table, func() ([]*corev1.Pod, error) {
			// every pod, then those named: one named that goes is no
			// error (its last line said Terminating)
			all, err := list(ctx, r, nil)
			if len(names) > 0 {
				all = slices.DeleteFunc(all, func(p *corev1.Pod) bool { return !slices.Contains(names, p.Name) })
			}
			return all, err
		})
	})
}

// watchPods is kubectl get -w: once a second, a table line for each pod
// whose READY, STATUS or RESTARTS changed since its last line (a new pod
// too), until ctx ends. A pod that went between two looks gets its last
// line again as Terminating, as kubectl prints a deleted pod (the object
// of its DELETED event has a deletionTimestamp), unless that line said
// Terminating already.
var watchEvery = time.Second // how often get -w looks

func watchPods(ctx context.Context, w io.Writer, shown []*corev1.Pod, out string, t tableOpts, list func() ([]*corev1.Pod, error)) error {
	key := func(p *corev1.Pod) string {
		ready, total, status, restarts := podSummary(p)
		return fmt.Sprintf("%d/%d %s %d %s", ready, total, status, restarts, p.Status.PodIP)
	}
	last := map[string]string{}
	seen := map[string]*corev1.Pod{}
	for _, p := range shown {
		last[p.Name] = key(p)
		seen[p.Name] = p
	}
	return everyWatch(ctx, func() error {
		pods, err := list()
		if err != nil {
			return err
		}
		var changed []*corev1.Pod
		now := map[string]*corev1.Pod{}
		for _, p := range pods {
			now[p.Name] = p
			if k := key(p); last[p.Name] != k {
				last[p.Name] = k
				changed = append(changed, p)
			}
		}
		for _, name := range slices.Sorted(maps.Keys(seen)) {
			p := seen[name]
			if now[name] != nil {
				continue
			}
			delete(last, name)
			if p.DeletionTimestamp == nil {
				gone := p.DeepCopy()
				gone.DeletionTimestamp = &metav1.Time{Time: time.Now()}
				changed = append(changed, gone)
			}
		}
		seen = now
		if len(changed) > 0 {
			var b bytes.Buffer
			if err := printPods(&b, changed, out, false, t); err != nil {
				return err
			}
			_, rows, _ := strings.Cut(b.String(), "\n") // the header was printed once
			if _, err := io.WriteString(w, rows); err != nil {
				return err
			}
		}
		return nil
	})
}

// everyWatch calls look every watchEvery until ctx ends (a watch
// interrupted); an error of look's then is none.
func everyWatch(ctx context.Context, look func() error) error {
	tick := time.NewTicker(watchEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if err := look(); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// printStored is how get prints a kind podunit stores (or derives from
// what it stores): the objects named (all when none), in namespace ns
// (all when ""), selected by sel, as format says.
type printStored func(ctx context.Context, w, errw io.Writer, r *runner.Runner, names []string, ns string, sel selection, format string, t tableOpts) error

// storedPrinter is the printer of a kind (as getArgs names it), or nil for
// the kinds get prints otherwise (pods, events, endpoints, namespaces, nodes).
func storedPrinter(kind string) printStored {
	switch kind {
	case "services":
		return printServices
	case "deployments":
		return printDeployments
	case "replicasets":
		return printReplicaSets
	case "statefulsets":
		return printStatefulSets
	case "daemonsets":
		return printDaemonSets
	case "jobs":
		return printJobs
	case "cronjobs":
		return printCronJobs
	}
	for k, word := range getKinds {
		if kind == word {
			return func(ctx context.Context, w, errw io.Writer, r *runner.Runner, names []string, ns string, sel selection, format string, t tableOpts) error {
				return printObjects(ctx, w, errw, r, k, names, ns, sel, format, t)
			}
		}
	}
	return nil
}

// getGroup is one kind get is asked for, with the names asked for (all
// of the kind when none).
type getGroup struct {
	kind  string
	names []string
}

// allKinds are the kinds get all lists, as kubectl's "all" category holds
// those that run things.
var allKinds = []string{"pods", "services", "daemonsets", "deployments", "replicasets", "statefulsets", "jobs", "cronjobs"}

// getArgs reads what get is asked for, as kubectl takes it: type words,
// comma-separated, and names (pods web db, svc dns, pods,svc web; all),
// or TYPE/NAME arguments (pod/web pod/db svc/dns). It says which kinds
// ("pods", "services", ...), each with its names, in the order asked.
func getArgs(pos []string) ([]getGroup, error) {
	usage := fmt.Errorf("%w: podunit get pods|services|endpoints|endpointslices|ingresses|networkpolicies|limitranges|resourcequotas|deployments|replicasets|statefulsets|daemonsets|jobs|cronjobs|configmaps|secrets|pvc|serviceaccounts|nodes|namespaces|events|all[,TYPE...] [NAME...], or get TYPE/NAME... (pod/web, svc/dns, deployment/web, sts/db, cm/app)", errUsage)
	kindOf := func(word string) string {
		for _, k := range []struct {
			words []string
			kind  string
		}{
			{podTypes, "pods"}, {serviceTypes, "services"}, {deploymentTypes, "deployments"},
			{replicaSetTypes, "replicasets"},
			{statefulSetTypes, "statefulsets"}, {daemonSetTypes, "daemonsets"}, {jobTypes, "jobs"}, {cronJobTypes, "cronjobs"}, {nodeTypes, "nodes"}, {eventTypes, "events"},
			{namespaceTypes, "namespaces"}, {endpointsTypes, "endpoints"},
		} {
			if slices.Contains(k.words, word) {
				return k.kind
			}
		}
		return getKinds[objectKinds[word]]
	}
	var groups []getGroup
	add := func(kind, name string) {
		i := slices.IndexFunc(groups, func(g getGroup) bool { return g.kind == kind })
		if i < 0 {
			groups, i = append(groups, getGroup{kind: kind}), len(groups)
		}
		if name != "" {
			groups[i].names = append(groups[i].names, name)
		}
	}
	if len(pos) == 0 {
		return nil, usage
	}
	if !strings.Contains(pos[0], "/") {
		for _, n := range pos[1:] {
			if strings.Contains(n, "/") {
				return nil, fmt.Errorf("%w: %s: no type before TYPE/NAME arguments (podunit get %s)", errUsage, n, n)
			}
		}
		for _, word := range strings.Split(pos[0], ",") {
			if word == "all" {
				if len(pos) > 1 {
					return nil, fmt.Errorf("%w: get all takes no names (-l and -n select)", errUsage)
				}
				for _, k := range allKinds {
					add(k, "")
				}
				continue
			}
			kind := kindOf(word)
			if kind == "" {
				return nil, usage
			}
			add(kind, "")
		}
		for i := range groups {
			groups[i].names = slices.Clone(pos[1:])
		}
		return groups, nil
	}
	for _, a := range pos {
		word, name, _ := strings.Cut(a, "/")
		k := kindOf(word)
		if k == "" || name == "" {
			return nil, fmt.Errorf("%w: %s: podunit get shows pods (pod/NAME), Services (svc/NAME), Ingresses (ing/NAME), Deployments (deployment/NAME), ReplicaSets (rs/NAME), StatefulSets (sts/NAME), DaemonSets (ds/NAME), Jobs (job/NAME), CronJobs (cronjob/NAME), ConfigMaps (cm/NAME), Secrets (secret/NAME), claims (pvc/NAME), ServiceAccounts (sa/NAME), namespaces (ns/NAME), endpoints (ep/NAME) and this host (node/NAME)", errUsage, a)
		}
		add(k, name)
	}
	return groups, nil
}

// getMany is get of several kinds, as kubectl prints them: a table for
// each kind that has any, apart by a blank line, names as KIND/NAME; the
// names (-o name); or one List of every object (-o json, yaml, jsonpath,
// custom-columns). "No resources found" is said once, when no kind has
// any; a name not found is an error once the others are printed.
func getMany(c *cli.Context, groups []getGroup, vals map[string]string, out string, t tableOpts) error {
	w, errw, ns := c.App.Writer, c.App.ErrWriter, vals["namespace"]
	structured := out != "" && out != "wide" && out != "name"
	t.kinds = true
	var items []any
	var sections [][]byte
	var errs []error
	for _, g := range groups {
		var o, e bytes.Buffer
		format := out
		if structured {
			format = "json"
		}
		err := getKind(c, g.kind, g.names, vals, format, t, &o, &e)
		if msg := e.String(); msg != noneFound(ns)+"\n" {
			errw.Write(e.Bytes())
		}
		if err != nil {
			if !errors.Is(err, runner.ErrNotFound) {
				return err
			}
			errs = append(errs, err)
			continue
		}
		if !structured {
			if o.Len() > 0 {
				sections = append(sections, o.Bytes())
			}
			continue
		}
		if o.Len() == 0 {
			continue
		}
		var obj struct {
			Kind  string            `json:"kind"`
			Items []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(o.Bytes(), &obj); err != nil {
			return err
		}
		if obj.Kind != "List" {
			obj.Items = []json.RawMessage{o.Bytes()}
		}
		for _, it := range obj.Items {
			items = append(items, it)
		}
	}
	if structured {
		if _, err := printStructured(w, items, false, out); err != nil {
			return err
		}
	} else if len(sections) == 0 && len(errs) == 0 {
		fmt.Fprintln(errw, noneFound(ns))
	}
	for i, sec := range sections {
		if i > 0 && out != "name" {
			fmt.Fprintln(w)
		}
		w.Write(sec)
	}
	return errors.Join(errs...)
}

// currentPods builds the v1 Pods of those named (all when none are).
func currentPods(ctx context.Context, r *runner.Runner, names []string) ([]*corev1.Pod, error) {
	sts, err := r.Status(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string]runner.PodStatus{}
	for _, s := range sts {
		byName[s.Name] = s
	}
	if len(names) == 0 {
		for _, s := range sts {
			names = append(names, s.Name)
		}
	}
	hostIPs := netinfo.HostIPs("/proc")
	ins, _ := r.Engine.(inspector) // podman's; fakes may lack it
	var out []*corev1.Pod
	for _, n := range names {
		st, ok := byName[n]
		spec, created, err := r.Applied(n)
		if err != nil || !ok {
			return nil, fmt.Errorf("%w: %q", runner.ErrNotFound, n)
		}
		facts := podFacts{hostIPs: hostIPs, created: created, runs: map[string]podstate.Run{}, images: map[string][2]string{}, readySince: map[string]time.Time{}}
		if spec.Spec.HostNetwork {
			facts.podIPs = hostIPs
		} else if ins != nil {
			if pid, err := ins.ContainerPID(ctx, units.InfraContainerName(n)); err == nil && pid > 0 {
				facts.podIPs, _ = netinfo.PodIPs("/proc", pid)
			}
		}
		for _, cs := range st.Containers {
			facts.runs[cs.Name], _ = podstate.LoadRun(r.StateDir, n, cs.Name)
			facts.readySince[cs.Name] = podstate.ReadySince(r.StateDir, n, cs.Name)
			if ins != nil && cs.State == "Running" {
				if id, img, err := ins.ContainerIDs(ctx, cs.Podman); err == nil {
					facts.images[cs.Name] = [2]string{id, img}
				}
			}
		}
		out = append(out, v1Pod(spec, st, facts))
	}
	return out, nil
}

// inspector is what get asks of podman beyond the runner's Engine: the
// infra's process (for the pod's addresses) and the containers' ids.
type inspector interface {
	ContainerPID(ctx context.Context, name string) (int, error)
	ContainerIDs(ctx context.Context, name string) (id, imageID string, err error)
}

// podFacts are what the status needs beyond the units' states.
type podFacts struct {
	podIPs, hostIPs []string
	created         time.Time
	runs            map[string]podstate.Run
	images          map[string][2]string // container: podman id, image id
	readySince      map[string]time.Time // container: the prober's last verdict change
}

// v1Pod is the pod as Kubernetes would show it: the spec as applied and a
// status made of what podunit knows (pure: tested).
func v1Pod(applied *corev1.Pod, st runner.PodStatus, f podFacts) *corev1.Pod {
	p := applied.DeepCopy()
	pod.SetDefaults(p) // what an earlier podunit did not fill in its record
	p.APIVersion, p.Kind = "v1", "Pod"
	p.CreationTimestamp = metav1.NewTime(f.created)
	p.Spec.NodeName = nodeName()
	phase := st.Phase
	if phase == "Terminating" {
		phase = "Running" // kubectl shows Terminating from deletionTimestamp
		now := metav1.Now()
		p.DeletionTimestamp = &now
	}
	s := corev1.PodStatus{Phase: corev1.PodPhase(phase), QOSClass: pod.QOSClass(&p.Spec)}
	if phase == "Failed" {
		s.Reason, s.Message = st.Reason, st.Message // DeadlineExceeded
	}
	if !f.created.IsZero() {
		t := metav1.NewTime(f.created)
		s.StartTime = &t
	}
	for i, ip := range f.podIPs {
		if i == 0 {
			s.PodIP = ip
		}
		s.PodIPs = append(s.PodIPs, corev1.PodIP{IP: ip})
	}
	for i, ip := range f.hostIPs {
		if i == 0 {
			s.HostIP = ip
		}
		s.HostIPs = append(s.HostIPs, corev1.HostIP{IP: ip})
	}
	images := map[string]string{}
	for _, c := range append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...) {
		images[c.Name] = c.Image
	}
	for _, c := range p.Spec.EphemeralContainers {
		images[c.Name] = c.Image
	}
	for _, cs := range st.Containers {
		v := containerStatus(cs, images[cs.Name], f.runs[cs.Name], f.images[cs.Name])
		if cs.Kind == units.KindInit {
			// the kubelet's: an init container that completed is ready
			v.Ready = v.State.Terminated != nil && v.State.Terminated.ExitCode == 0
		}
		switch cs.Kind {
		case units.KindApp:
			s.ContainerStatuses = append(s.ContainerStatuses, v)
		case units.KindEphemeral:
			s.EphemeralContainerStatuses = append(s.EphemeralContainerStatuses, v)
		default:
			s.InitContainerStatuses = append(s.InitContainerStatuses, v)
		}
	}
	ready := phase == "Running" && allReady(&st)
	isInit := initialized(&st)
	initAt, readyAt := transitions(st, f, isInit, ready)
	cond := func(t corev1.PodConditionType, ok bool, reason string, at time.Time) corev1.PodCondition {
		c := corev1.PodCondition{Type: t, Status: corev1.ConditionTrue}
		if !ok {
			c.Status, c.Reason = corev1.ConditionFalse, reason
		}
		if !at.IsZero() {
			c.LastTransitionTime = metav1.NewTime(at)
		}
		return c
	}
	s.Conditions = []corev1.PodCondition{
		cond(corev1.PodScheduled, true, "", f.created),
		cond(corev1.PodInitialized, isInit, "ContainersNotInitialized", initAt),
		cond(corev1.ContainersReady, ready, "ContainersNotReady", readyAt),
		cond(corev1.PodReady, ready, "ContainersNotReady", readyAt),
	}
	p.Status = s
	return p
}

// transitions are when the pod's Initialized and Ready conditions last
// changed, as far as the containers' records tell: initialized, when the
// last init container completed (or sidecar started); ready, when the last
// container became ready; not ready, when the latest became not ready (its
// run ended, or its readiness probe failed). The pod's creation when nothing
// later is known.
func transitions(st runner.PodStatus, f podFacts, initialized, ready bool) (initAt, readyAt time.Time) {
	later := func(t *time.Time, u time.Time) {
		if u.After(*t) {
			*t = u
		}
	}
	initAt, readyAt = f.created, f.created
	for _, cs := range st.Containers {
		run, since := f.runs[cs.Name], f.readySince[cs.Name]
		switch cs.Kind {
		case units.KindInit:
			if initialized {
				later(&initAt, run.Finished)
			}
			continue
		case units.KindSidecar:
			if initialized {
				later(&initAt, run.Started)
			}
		case units.KindEphemeral:
			continue
		}
		became := run.Started // ready as it runs, without a readiness probe
		if !since.IsZero() {
			became = since // the prober's verdict
		}
		switch {
		case ready:
			later(&readyAt, became)
		case !cs.Ready:
			if cs.State == "Running" {
				later(&readyAt, became) // its probe failed, or not yet passed
			} else {
				later(&readyAt, run.Finished)
			}
		}
	}
	return initAt, readyAt
}

func containerStatus(cs runner.ContainerStatus, image string, run podstate.Run, ids [2]string) corev1.ContainerStatus {
	started := cs.State == "Running"
	v := corev1.ContainerStatus{Name: cs.Name, Image: image, Ready: cs.Ready, RestartCount: int32(cs.Restarts), Started: &started}
	if ids[0] != "" {
		v.ContainerID, v.ImageID = "podman://"+ids[0], ids[1]
		if ids[1] != "" && !strings.Contains(ids[1], ":") {
			v.ImageID = "sha256:" + ids[1] // podman's image id is its config's digest
		}
	}
	switch cs.State {
	case "Running":
		v.State.Running = &corev1.ContainerStateRunning{}
		if !run.Started.IsZero() {
			v.State.Running.StartedAt = metav1.NewTime(run.Started)
		}
	case "Terminated":
		t := &corev1.ContainerStateTerminated{Reason: cs.Reason, Message: cs.ExitMessage}
		if cs.ExitCode != nil {
			t.ExitCode = int32(*cs.ExitCode)
		}
		lastRunTimes(t, run)
		v.State.Terminated = t
	default:
		v.State.Waiting = &corev1.ContainerStateWaiting{Reason: cs.Reason, Message: cs.Message}
	}
	if cs.LastExitCode != nil && cs.State != "Terminated" {
		t := &corev1.ContainerStateTerminated{ExitCode: int32(*cs.LastExitCode), Reason: exitReason(*cs.LastExitCode), Message: cs.ExitMessage}
		lastRunTimes(t, run)
		v.LastTerminationState.Terminated = t
	}
	return v
}

// lastRunTimes are when the run that ended last started and finished.
func lastRunTimes(t *corev1.ContainerStateTerminated, run podstate.Run) {
	if !run.LastStarted.IsZero() {
		t.StartedAt = metav1.NewTime(run.LastStarted)
	}
	if !run.Finished.IsZero() {
		t.FinishedAt = metav1.NewTime(run.Finished)
	}
}

func exitReason(code int) string {
	if code == 0 {
		return "Completed"
	}
	return "Error"
}

func printPods(w io.Writer, pods []*corev1.Pod, out string, single bool, t tableOpts) error {
	objs := make([]any, len(pods))
	for i, p := range pods {
		objs[i] = p
	}
	if done, err := printStructured(w, objs, single, out); done {
		return err
	}
	switch out {
	case "name":
		for _, p := range pods {
			fmt.Fprintf(w, "pod/%s\n", p.Name)
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	head := t.head("NAME\tREADY\tSTATUS\tRESTARTS\tAGE")
	if out == "wide" {
		head += "\tIP\tNODE\tNOMINATED NODE\tREADINESS GATES"
	}
	if t.labels {
		head += "\tLABELS"
	}
	fmt.Fprintln(tw, head)
	for _, p := range pods {
		ready, total, status, restarts, last := podSummaryAt(p)
		line := t.row(p.Namespace, fmt.Sprintf("%s\t%d/%d\t%s\t%s\t%s", t.name("pod", p.Name), ready, total, status, restartsColumn(restarts, last), age(p.CreationTimestamp.Time)))
		if out == "wide" {
			ip := p.Status.PodIP
			if ip == "" {
				ip = "<none>"
			}
			line += "\t" + ip + "\t" + p.Spec.NodeName + "\t<none>\t" + readinessGates(p)
		}
		if t.labels {
			line += "\t" + labelList(p.Labels)
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// readinessGates is kubectl's READINESS GATES cell: how many of the pod's
// gates are met, of how many (its conditions of those types that are True).
func readinessGates(p *corev1.Pod) string {
	if len(p.Spec.ReadinessGates) == 0 {
		return "<none>"
	}
	met := 0
	for _, g := range p.Spec.ReadinessGates {
		for _, c := range p.Status.Conditions {
			if c.Type == g.ConditionType && c.Status == corev1.ConditionTrue {
				met++
			}
		}
	}
	return fmt.Sprintf("%d/%d", met, len(p.Spec.ReadinessGates))
}

// tableOpts are what get's tables add: a NAMESPACE column (-A), a LABELS
// column (--show-labels), and names as KIND/NAME (kinds: a get of more
// than one kind, as kubectl prints them).
type tableOpts struct{ nsColumn, labels, kinds bool }

// name is a NAME cell: the name, or word/name in a get of several kinds.
func (t tableOpts) name(word, name string) string {
	if t.kinds {
		return word + "/" + name
	}
	return name
}

// head is a table's header: NAMESPACE first with -A.
func (t tableOpts) head(h string) string {
	if t.nsColumn {
		return "NAMESPACE\t" + h
	}
	return h
}

// row is a table's line: the namespace first with -A.
func (t tableOpts) row(ns, line string) string {
	if t.nsColumn {
		return ns + "\t" + line
	}
	return line
}

// labelList is kubectl's LABELS column: k=v,... in key order, or <none>.
func labelList(l map[string]string) string {
	if len(l) == 0 {
		return "<none>"
	}
	out := make([]string, 0, len(l))
	for k, v := range l {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

// podSummary is what kubectl's table says of a pod: ready and all
// containers (sidecars included), STATUS (Init:1/2, Init:Error,
// CrashLoopBackOff, Completed, Error, NotReady, Terminating...) and restarts,
// by kubectl's own rules.
func podSummary(p *corev1.Pod) (ready, total int, status string, restarts int32) {
	ready, total, status, restarts, _ = podSummaryAt(p)
	return
}

// restartsColumn is kubectl's RESTARTS: the count, and how long ago the
// last restart was ("4 (52s ago)").
func restartsColumn(restarts int32, last time.Time) string {
	if restarts == 0 || last.IsZero() {
		return strconv.Itoa(int(restarts))
	}
	return fmt.Sprintf("%d (%s ago)", restarts, age(last))
}

// podSummaryAt is podSummary with when the last restart counted was (the
// latest finishedAt of a counted container's last state), as kubectl has it.
func podSummaryAt(p *corev1.Pod) (ready, total int, status string, restarts int32, lastRestart time.Time) {
	total = len(p.Spec.Containers)
	sidecar := map[string]bool{}
	for _, c := range p.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecar[c.Name] = true
			total++
		}
	}
	status = string(p.Status.Phase)
	if p.Status.Reason != "" {
		status = p.Status.Reason
	}
	var sidecarRestarts int32
	var sidecarLast time.Time
	later := func(t *time.Time, s corev1.ContainerStatus) {
		if lt := s.LastTerminationState.Terminated; lt != nil && lt.FinishedAt.After(*t) {
			*t = lt.FinishedAt.Time
		}
	}
	initializing := false
	for i, c := range p.Status.InitContainerStatuses {
		restarts += c.RestartCount
		later(&lastRestart, c)
		if sidecar[c.Name] {
			sidecarRestarts += c.RestartCount
			later(&sidecarLast, c)
			if c.Started != nil && *c.Started {
				if c.Ready {
					ready++
				}
				continue
			}
		}
		t, w := c.State.Terminated, c.State.Waiting
		switch {
		case t != nil && t.ExitCode == 0:
			continue
		case t != nil:
			switch {
			case t.Reason != "":
				status = "Init:" + t.Reason
			case t.Signal != 0:
				status = fmt.Sprintf("Init:Signal:%d", t.Signal)
			default:
				status = fmt.Sprintf("Init:ExitCode:%d", t.ExitCode)
			}
		case w != nil && w.Reason != "" && w.Reason != "PodInitializing":
			status = "Init:" + w.Reason
		default:
			status = fmt.Sprintf("Init:%d/%d", i, len(p.Spec.InitContainers))
		}
		initializing = true
		break
	}
	if !initializing || conditionTrue(p, corev1.PodInitialized) {
		restarts, lastRestart = sidecarRestarts, sidecarLast
		running := false
		for i := len(p.Status.ContainerStatuses) - 1; i >= 0; i-- {
			c := p.Status.ContainerStatuses[i]
			restarts += c.RestartCount
			later(&lastRestart, c)
			t, w := c.State.Terminated, c.State.Waiting
			switch {
			case w != nil && w.Reason != "":
				status = w.Reason
			case t != nil && t.Reason != "":
				status = t.Reason
			case t != nil && t.Signal != 0:
				status = fmt.Sprintf("Signal:%d", t.Signal)
			case t != nil:
				status = fmt.Sprintf("ExitCode:%d", t.ExitCode)
			case c.Ready && c.State.Running != nil:
				running = true
				ready++
			}
		}
		// a pod with a container still running is not Completed
		if status == "Completed" && running {
			status = "NotReady"
			if conditionTrue(p, corev1.PodReady) {
				status = "Running"
			}
		}
	}
	if p.DeletionTimestamp != nil {
		status = "Terminating"
	}
	return ready, total, status, restarts, lastRestart
}

func conditionTrue(p *corev1.Pod, t corev1.PodConditionType) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// servicesNow are the stored Services and the pods on the pod network (with
// their addresses and readiness) as they are now.
func servicesNow(ctx context.Context, r *runner.Runner) (*cluster.State, error) {
	known, err := objstore.LoadObjects(podstate.DefaultDir())
	if err != nil {
		return nil, err
	}
	pods, err := currentPods(ctx, r, nil)
	if err != nil {
		return nil, err
	}
	st := &cluster.State{Services: known.Services, Written: known.Endpoints, Slices: known.EndpointSlices}
	for _, p := range pods {
		ip, _ := netip.ParseAddr(p.Status.PodIP)
		if !cluster.PodRange.Contains(ip) {
			ip = netip.Addr{}
		}
		st.Pods = append(st.Pods, cluster.Pod{Spec: p, IP: ip, Ready: conditionTrue(p, corev1.PodReady)})
	}
	return st, nil
}

// printEndpoints is kubectl get endpoints: for each stored Service with a
// selector, the Endpoints object the endpoints controller would keep (NAME,
// ENDPOINTS, AGE; -o name; or the objects).
func printEndpoints(w, errw io.Writer, st *cluster.State, names []string, ns string, sel selection, format string, t tableOpts) error {
	list, err := storedNamed(allEndpoints(st), "endpoints", names, ns, sel)
	if err != nil {
		return err
	}
	if done, err := listing(w, errw, list, "endpoints", ns, format, len(names) == 1, func(e *corev1.Endpoints) any { return e }); done {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, t.head("NAME\tENDPOINTS\tAGE"))
	now := time.Now()
	for _, e := range list {
		fmt.Fprintln(tw, t.row(e.Namespace, t.name("endpoints", e.Name)+"\t"+endpointsColumn(e)+"\t"+since(e.CreationTimestamp.Time, now)))
	}
	return tw.Flush()
}

// allEndpoints are the Endpoints of every Service with a selector, and
// those written (for a Service without one, or for none yet), by namespace
// and name.
func allEndpoints(st *cluster.State) []*corev1.Endpoints {
	var all []*corev1.Endpoints
	services := map[string]bool{}
	for _, s := range st.Services {
		services[s.Namespace+"/"+s.Name] = true
		if ep := st.EndpointsOf(s, nodeName()); ep != nil {
			all = append(all, ep)
		}
	}
	for _, ep := range st.Written {
		if !services[ep.Namespace+"/"+ep.Name] { // for no Service (yet)
			all = append(all, cluster.TypedEndpoints(ep))
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].Namespace != all[j].Namespace {
			return all[i].Namespace < all[j].Namespace
		}
		return all[i].Name < all[j].Name
	})
	return all
}

// endpointsColumn is kubectl's ENDPOINTS: the ready addresses with each
// port (an address alone where a subset has no ports), three at most and
// how many more.
func endpointsColumn(e *corev1.Endpoints) string {
	var list []string
	count := 0
	add := func(s string) {
		if len(list) < 3 {
			list = append(list, s)
		}
		count++
	}
	for _, ss := range e.Subsets {
		if len(ss.Ports) == 0 {
			for _, a := range ss.Addresses {
				add(a.IP)
			}
			continue
		}
		for _, p := range ss.Ports {
			for _, a := range ss.Addresses {
				add(net.JoinHostPort(a.IP, strconv.Itoa(int(p.Port))))
			}
		}
	}
	if count == 0 {
		return "<none>"
	}
	if count > len(list) {
		return fmt.Sprintf("%s + %d more...", strings.Join(list, ","), count-len(list))
	}
	return strings.Join(list, ",")
}

// printServices lists the stored Services (those named, or all) with their
// address, ports and the ready pods behind them.
func printServices(ctx context.Context, w, errw io.Writer, r *runner.Runner, names []string, ns string, sel selection, format string, t tableOpts) error {
	st, err := servicesNow(ctx, r)
	if err != nil {
		return err
	}
	list, err := storedNamed(st.Services, "service", names, ns, sel)
	if err != nil {
		return err
	}
	if done, err := listing(w, errw, list, "service", ns, format, len(names) == 1, func(s *corev1.Service) any {
		x := s.DeepCopy()
		x.APIVersion, x.Kind = "v1", "Service"
		return x
	}); done {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	head := t.head("NAME\tTYPE\tCLUSTER-IP\tEXTERNAL-IP\tPORT(S)\tENDPOINTS\tAGE")
	if format == "wide" {
		head += "\tSELECTOR"
	}
	fmt.Fprintln(tw, head)
	now := time.Now()
	for _, s := range list {
		var ports, eps []string
		for i, p := range s.Spec.Ports {
			pp := fmt.Sprintf("%d", p.Port)
			if p.NodePort != 0 {
				pp += fmt.Sprintf(":%d", p.NodePort)
			}
			ports = append(ports, pp+"/"+string(p.Protocol))
			for _, e := range st.Endpoints(s, i) {
				if !slices.Contains(eps, e.Addr.String()) {
					eps = append(eps, e.Addr.String())
				}
			}
		}
		// kubectl's EXTERNAL-IP: an ExternalName's name; a LoadBalancer's
		// ingress, this host (cluster.LoadBalancers), or <pending> when it
		// could not be published on this host's ports
		ip, external := orNone(s.Spec.ClusterIP), "<none>"
		switch s.Spec.Type {
		case corev1.ServiceTypeExternalName:
			external = s.Spec.ExternalName
		case corev1.ServiceTypeLoadBalancer:
			external = "<pending>"
			if cluster.Balanced(s) {
				external = s.Status.LoadBalancer.Ingress[0].IP
			}
		}
		if len(eps) == 0 {
			eps = []string{"<none>"}
		}
		if len(ports) == 0 {
			ports = []string{"<none>"}
		}
		line := t.row(s.Namespace, fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%s", t.name("service", s.Name), s.Spec.Type, ip, external, strings.Join(ports, ","), strings.Join(eps, ","), since(s.CreationTimestamp.Time, now)))
		if format == "wide" {
			line += "\t" + formatSelector(s.Spec.Selector)
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// noHeaders drops the header line of each table written through it: the
// first line, and the first after a blank line (get of several kinds prints
// a table for each, apart by a blank line).
type noHeaders struct {
	w io.Writer
	// lineStart: at the start of a line; table: the next line starts a
	// table; drop: the line is a header
	lineStart, table, drop bool
}

func (n *noHeaders) Write(p []byte) (int, error) {
	out := make([]byte, 0, len(p))
	for _, b := range p {
		if n.lineStart {
			n.lineStart = false
			if b == '\n' {
				n.table, n.lineStart = true, true
				out = append(out, b)
				continue
			}
			n.drop, n.table = n.table, false
		}
		if !n.drop {
			out = append(out, b)
		}
		if b == '\n' {
			n.lineStart, n.drop = true, false
		}
	}
	if _, err := n.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}
