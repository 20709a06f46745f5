package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podunit/podunit/helper/contract"
	"github.com/podunit/podunit/netshape/nl"
	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/runner"
	"github.com/podunit/podunit/units"
)

func describeCommand() *cli.Command {
	return &cli.Command{
		Name:      "describe",
		Usage:     "show a pod's containers, hooks, states and events, like kubectl describe pod (describe node: this host, its capacity and what the pods ask of it; svc, ing, cm, secret, pvc, sa, ns, ep: those objects)",
		ArgsUsage: "POD... | pod/POD... | pods [-l SELECTOR] [-n NAMESPACE] | node [NAME] | svc|ing|cm|secret|pvc|sa|ns|ep [NAME...] | TYPE/NAME...",
		Flags:     []cli.Flag{namespaceFlag(), selectorFlag()},
		Action: func(c *cli.Context) error {
			args, err := flagsAnywhere(c)
			if err != nil {
				return err
			}
			if s, ok, err := setArg(c); ok {
				if err != nil {
					return err
				}
				return withRunner(c, time.Minute, func(ctx context.Context, r *runner.Runner) error {
					return describeStatefulSet(ctx, c.App.Writer, r, s)
				})
			}
			if ds, ok, err := daemonSetArg(c); ok {
				if err != nil {
					return err
				}
				return withRunner(c, time.Minute, func(ctx context.Context, r *runner.Runner) error {
					return describeDaemonSet(ctx, c.App.Writer, r, ds)
				})
			}
			if cj, ok, err := cronJobArg(c); ok {
				if err != nil {
					return err
				}
				return withRunner(c, time.Minute, func(ctx context.Context, r *runner.Runner) error {
					return describeCronJob(ctx, c.App.Writer, r, cj)
				})
			}
			if j, ok, err := jobArg(c); ok {
				if err != nil {
					return err
				}
				return withRunner(c, time.Minute, func(ctx context.Context, r *runner.Runner) error {
					return describeJob(ctx, c.App.Writer, r, j)
				})
			}
			if name, ok := nodeArg(args); ok {
				return withRunner(c, time.Minute, func(ctx context.Context, r *runner.Runner) error {
					n, now, err := thisNode(ctx, r)
					if err != nil {
						return err
					}
					if name != "" && name != n.Name {
						return nodeNotFound(name, n.Name)
					}
					pods, err := currentPods(ctx, r, nil)
					if err != nil {
						return err
					}
					return describeNode(c.App.Writer, n, pods, now)
				})
			}
			if isDeploymentArg(args) {
				return withRunner(c, time.Minute, func(ctx context.Context, r *runner.Runner) error {
					d, err := deploymentArg(c)
					if err != nil {
						return err
					}
					return describeDeployment(ctx, c.App.Writer, r, d)
				})
			}
			if kind, names, ok, err := objectArgs(args); ok {
				if err != nil {
					return err
				}
				sel, err := namesOrSelector(names, c.String("selector"))
				if err != nil {
					return err
				}
				return withRunner(c, time.Minute, func(ctx context.Context, r *runner.Runner) error {
					return describeObjects(ctx, c.App.Writer, c.App.ErrWriter, r, kind, names, c.String("namespace"), byLabels(sel))
				})
			}
			typeOnly := len(args) == 1 && slices.Contains(podTypes, args[0])
			if args, err = podRefs(args, true); err != nil { // kubectl's describe pod NAME
				return err
			}
			ns, selector := c.String("namespace"), c.String("selector")
			if len(args) == 0 && selector == "" {
				if !typeOnly {
					return fmt.Errorf("%w: podunit describe POD... (or pods, -l SELECTOR)", errUsage)
				}
				// kubectl's describe pods: all of them
				pods, err := runner.KnownPods(podstate.DefaultDir())
				if err != nil {
					return err
				}
				args = matching(pods, labels.Everything(), ns)
			} else if args, err = selectPods(args, selector, ns); err != nil {
				return err
			}
			if len(args) == 0 {
				fmt.Fprintln(c.App.ErrWriter, noneFound(ns))
				return nil
			}
			for _, a := range args {
				if err := inNamespace(a, ns); err != nil {
					return err
				}
			}
			return withRunner(c, time.Minute, func(ctx context.Context, r *runner.Runner) error {
				for i, name := range args {
					if i > 0 {
						fmt.Fprint(c.App.Writer, "\n\n")
					}
					if err := describeOne(ctx, c.App.Writer, r, name); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
}

func describeOne(ctx context.Context, w io.Writer, r *runner.Runner, name string) error {
	d, err := r.Describe(ctx, name)
	if err != nil {
		return err
	}
	dd := description{Description: d}
	if d.Pod != nil {
		if pods, err := currentPods(ctx, r, []string{d.Pod.Name}); err == nil && len(pods) == 1 {
			dd.V1 = pods[0]
		}
		if bw, _ := pod.BandwidthFromAnnotations(d.Pod.Annotations); !bw.Empty() {
			dd.Shaping = "(could not be read)"
			if st, err := readShaping(ctx, d.Pod.Name); err == nil {
				dd.Shaping = st.String()
			}
		}
	}
	printDescription(w, dd)
	return nil
}

type description struct {
	*runner.Description
	// V1 is the pod as get shows it: its spec and a status made of what
	// podunit knows (nil when podunit has no record of it, or podman did
	// not answer: then the status is the units')
	V1      *corev1.Pod
	Shaping string // read back from the kernel
}

// printDescription writes a pod as kubectl describe pod does (its fields,
// their order and alignment), with what podunit adds: the units, each
// container's hooks and stop signal, the restart policy and grace period,
// the bandwidth read back from the kernel, and the events with their
// containers.
func printDescription(w io.Writer, d description) {
	s := d.Status
	v1 := d.V1
	if v1 == nil {
		// the units' status in the pod's shape
		stub := d.Pod
		if stub == nil {
			stub = &corev1.Pod{}
			stub.Name, stub.Namespace = s.Name, s.Namespace
		}
		v1 = v1Pod(stub, s, podFacts{created: s.Created})
		v1.Spec.NodeName = ""
	}
	statuses := map[string]*corev1.ContainerStatus{}
	for _, list := range [][]corev1.ContainerStatus{v1.Status.InitContainerStatuses, v1.Status.ContainerStatuses, v1.Status.EphemeralContainerStatuses} {
		for i := range list {
			statuses[list[i].Name] = &list[i]
		}
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	line := func(level int, format string, args ...any) {
		fmt.Fprintf(tw, strings.Repeat("  ", level)+format, args...)
	}
	line(0, "Name:\t%s\n", s.Name)
	line(0, "Namespace:\t%s\n", s.Namespace)
	if sa := v1.Spec.ServiceAccountName; sa != "" {
		line(0, "Service Account:\t%s\n", sa)
	}
	if n := v1.Spec.NodeName; n != "" {
		if v1.Status.HostIP != "" {
			n += "/" + v1.Status.HostIP
		}
		line(0, "Node:\t%s\n", n)
	}
	if !s.Created.IsZero() {
		line(0, "Start Time:\t%s\n", s.Created.Local().Format(time.RFC1123Z))
	}
	metaLines(tw, v1.ObjectMeta)
	line(0, "Status:\t%s\n", s.Phase)
	if s.Reason != "" {
		line(0, "Reason:\t%s\n", s.Reason)
		line(0, "Message:\t%s\n", s.Message)
	}
	if len(v1.Status.PodIPs) > 0 {
		line(0, "IP:\t%s\n", v1.Status.PodIP)
		line(0, "IPs:\n")
		for _, ip := range v1.Status.PodIPs {
			line(1, "IP:\t%s\n", ip.IP)
		}
	}
	for _, o := range v1.OwnerReferences {
		if o.Controller != nil && *o.Controller {
			line(0, "Controlled By:\t%s/%s\n", o.Kind, o.Name)
		}
	}
	line(0, "Slice:\t%s\n", s.Slice)
	line(0, "Infra Unit:\t%s\n", s.Unit)
	if s.Prober != "" {
		line(0, "Probes:\tnot being run: %s is %s (systemctl --user status %s)\n", units.ProberUnitName(s.Name), s.Prober, units.ProberUnitName(s.Name))
	}
	specs := map[string]*corev1.Container{}
	targets := map[string]string{} // of the debug containers
	for i := range v1.Spec.InitContainers {
		specs[v1.Spec.InitContainers[i].Name] = &v1.Spec.InitContainers[i]
	}
	for i := range v1.Spec.Containers {
		specs[v1.Spec.Containers[i].Name] = &v1.Spec.Containers[i]
	}
	for _, ec := range v1.Spec.EphemeralContainers {
		c := corev1.Container(ec.EphemeralContainerCommon)
		specs[ec.Name] = &c
		targets[ec.Name] = ec.TargetContainerName
	}
	header := ""
	for _, cs := range s.Containers {
		h := "Containers:"
		switch cs.Kind {
		case "init", "sidecar":
			h = "Init Containers:"
		case "ephemeral":
			h = "Ephemeral Containers:"
		}
		if h != header {
			line(0, "%s\n", h)
			header = h
		}
		line(1, "%s:\n", cs.Name)
		spec, st := specs[cs.Name], statuses[cs.Name]
		if st != nil && st.ContainerID != "" {
			line(2, "Container ID:\t%s\n", st.ContainerID)
		}
		if spec != nil {
			line(2, "Image:\t%s\n", spec.Image)
		}
		if st != nil && st.ImageID != "" {
			line(2, "Image ID:\t%s\n", st.ImageID)
		}
		line(2, "Unit:\t%s\n", cs.Unit)
		if spec != nil {
			describeContainerSpecHead(line, spec, cs.Kind == "sidecar", targets[cs.Name])
		}
		if st != nil {
			describeContainerState(line, "State", st.State, true)
			if st.LastTerminationState.Terminated != nil {
				describeContainerState(line, "Last State", st.LastTerminationState, false)
			}
			line(2, "Ready:\t%s\n", printBool(st.Ready))
			line(2, "Restart Count:\t%d\n", st.RestartCount)
		}
		if spec != nil {
			describeContainerSpecTail(line, v1, spec)
		}
		if spec != nil && spec.Lifecycle != nil {
			lc := spec.Lifecycle
			for _, hk := range []struct {
				name string
				h    *corev1.LifecycleHandler
			}{{"postStart", lc.PostStart}, {"preStop", lc.PreStop}} {
				if hk.h == nil {
					continue
				}
				if h, errs := pod.ResolveHandler(hk.h, spec, field.NewPath("")); len(errs) == 0 {
					line(2, "%s:\t%s\n", hk.name, h)
				}
			}
			if lc.StopSignal != nil {
				line(2, "Stop Signal:\t%s\n", *lc.StopSignal)
			}
		}
	}
	if len(v1.Status.Conditions) > 0 {
		line(0, "Conditions:\n")
		line(1, "Type\tStatus\n")
		for _, c := range v1.Status.Conditions {
			line(1, "%s \t%s \n", c.Type, c.Status)
		}
	}
	if d.Pod != nil {
		describeVolumes(line, v1.Spec.Volumes)
		line(0, "QoS Class:\t%s\n", pod.QOSClass(&v1.Spec))
		multiline(line, "Node-Selectors", v1.Spec.NodeSelector)
		tolerations := make([]string, 0, len(v1.Spec.Tolerations))
		for _, t := range v1.Spec.Tolerations {
			tolerations = append(tolerations, tolerationString(t))
		}
		listLines(line, "Tolerations", tolerations)
		line(0, "Restart Policy:\t%s\n", v1.Spec.RestartPolicy)
		if g := v1.Spec.TerminationGracePeriodSeconds; g != nil {
			line(0, "Termination Grace Period:\t%ds\n", *g)
		}
		if a := v1.Spec.ActiveDeadlineSeconds; a != nil {
			line(0, "Active Deadline Seconds:\t%ds (%s)\n", *a, units.DeadlineUnitName(s.Name))
		}
		if r := v1.Spec.Resources; r != nil {
			line(0, "Pod Resources:\n")
			describeResources(line, 1, r)
		}
		if d.Shaping != "" {
			line(0, "Bandwidth:\t%s\n", d.Shaping)
		}
	}
	tw.Flush()
	fmt.Fprintln(w, "Events:")
	if len(d.Events) == 0 {
		fmt.Fprintln(w, "  <none>")
		return
	}
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  TIME\tTYPE\tREASON\tCONTAINER\tMESSAGE")
	for _, e := range podstate.Aggregate(d.Events) {
		fmt.Fprintf(tw, "  %s%s\t%s\t%s\t%s\t%s\n", e.Time.Local().Format("15:04:05.000"), timesOver(e), e.Type, e.Reason, e.Container, strings.ReplaceAll(e.Message, "\n", " "))
	}
	tw.Flush()
}

type lineFunc func(level int, format string, args ...any)

// describePodTemplate is kubectl's Pod Template section of a Deployment or
// StatefulSet: labels, init containers and containers with their spec,
// volumes, node selector and tolerations.
func describePodTemplate(w io.Writer, t *corev1.PodTemplateSpec) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	line := func(level int, format string, args ...any) {
		fmt.Fprintf(tw, strings.Repeat("  ", level)+format, args...)
	}
	p := &corev1.Pod{ObjectMeta: t.ObjectMeta, Spec: *t.Spec.DeepCopy()}
	pod.SetDefaults(p)
	line(0, "Pod Template:\n")
	line(1, "Labels:\t%s\n", labelList(t.Labels))
	for _, group := range []struct {
		head string
		list []corev1.Container
	}{{"Init Containers", p.Spec.InitContainers}, {"Containers", p.Spec.Containers}} {
		if len(group.list) == 0 {
			continue
		}
		line(1, "%s:\n", group.head)
		for i := range group.list {
			c := &group.list[i]
			fmt.Fprintf(tw, "   %s:\n", c.Name) // kubectl's indent
			line(2, "Image:\t%s\n", c.Image)
			sidecar := c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
			describeContainerSpecHead(line, c, sidecar, "")
			describeContainerSpecTail(line, p, c)
		}
	}
	tw.Flush()
	tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	line1 := func(level int, format string, args ...any) { // one level in
		fmt.Fprintf(tw, strings.Repeat("  ", level+1)+format, args...)
	}
	describeVolumes(line1, p.Spec.Volumes)
	multiline(line1, "Node-Selectors", p.Spec.NodeSelector)
	var tolerations []string
	for _, to := range p.Spec.Tolerations {
		tolerations = append(tolerations, tolerationString(to))
	}
	listLines(line1, "Tolerations", tolerations)
	tw.Flush()
}

// describeContainerSpecHead is what kubectl shows of a container before its
// state: its ports and command.
func describeContainerSpecHead(line lineFunc, c *corev1.Container, sidecar bool, target string) {
	var ports, hostPorts []string
	for _, p := range c.Ports {
		ports = append(ports, fmt.Sprintf("%d/%s", p.ContainerPort, p.Protocol))
		hostPorts = append(hostPorts, fmt.Sprintf("%d/%s", p.HostPort, p.Protocol))
	}
	for _, l := range []struct {
		one, many string
		list      []string
	}{{"Port", "Ports", ports}, {"Host Port", "Host Ports", hostPorts}} {
		switch len(l.list) {
		case 0:
			line(2, "%s:\t<none>\n", l.one)
		case 1:
			line(2, "%s:\t%s\n", l.one, l.list[0])
		default:
			line(2, "%s:\t%s\n", l.many, strings.Join(l.list, ", "))
		}
	}
	if sidecar {
		line(2, "Restart Policy:\tAlways (sidecar)\n")
	}
	if target != "" {
		line(2, "Target:\t%s (its processes are visible)\n", target)
	}
	for _, l := range []struct {
		head string
		argv []string
	}{{"Command", c.Command}, {"Args", c.Args}} {
		if len(l.argv) == 0 {
			continue
		}
		line(2, "%s:\n", l.head)
		for _, a := range l.argv {
			for _, part := range strings.Split(a, "\n") {
				line(3, "%s\n", part)
			}
		}
	}
}

// describeContainerState is a container's state as kubectl describe shows it,
// with the message of a waiting container (the back-off left) too.
func describeContainerState(line lineFunc, name string, st corev1.ContainerState, current bool) {
	switch {
	case st.Running != nil:
		line(2, "%s:\tRunning\n", name)
		if !st.Running.StartedAt.IsZero() {
			line(3, "Started:\t%s\n", st.Running.StartedAt.Local().Format(time.RFC1123Z))
		}
	case st.Terminated != nil:
		t := st.Terminated
		line(2, "%s:\tTerminated\n", name)
		if t.Reason != "" {
			line(3, "Reason:\t%s\n", t.Reason)
		}
		if t.Message != "" {
			message(line, t.Message)
		}
		line(3, "Exit Code:\t%d\n", t.ExitCode)
		if !t.StartedAt.IsZero() {
			line(3, "Started:\t%s\n", t.StartedAt.Local().Format(time.RFC1123Z))
		}
		if !t.FinishedAt.IsZero() {
			line(3, "Finished:\t%s\n", t.FinishedAt.Local().Format(time.RFC1123Z))
		}
	default:
		line(2, "%s:\tWaiting\n", name)
		if w := st.Waiting; w != nil && w.Reason != "" {
			line(3, "Reason:\t%s\n", w.Reason)
			if w.Message != "" && current {
				message(line, w.Message)
			}
		}
	}
}

// message is a state's message, its further lines in the value's column.
func message(line lineFunc, msg string) {
	for i, l := range strings.Split(strings.TrimRight(msg, "\n"), "\n") {
		if i == 0 {
			line(3, "Message:\t%s\n", l)
		} else {
			line(0, "\t%s\n", l)
		}
	}
}

// describeContainerSpecTail is what kubectl shows of a container after its
// state: resources, probes, environment, mounts.
func describeContainerSpecTail(line lineFunc, p *corev1.Pod, c *corev1.Container) {
	describeResources(line, 2, &c.Resources)
	for _, pr := range []struct {
		name  string
		probe *corev1.Probe
	}{{"Liveness", c.LivenessProbe}, {"Readiness", c.ReadinessProbe}, {"Startup", c.StartupProbe}} {
		if pr.probe != nil {
			line(2, "%s:\t%s\n", pr.name, describeProbe(pr.probe))
		}
	}
	if len(c.EnvFrom) > 0 {
		line(2, "Environment Variables from:\n")
		for _, e := range c.EnvFrom {
			from, name, optional := "", "", false
			switch {
			case e.ConfigMapRef != nil:
				from, name, optional = "ConfigMap", e.ConfigMapRef.Name, isTrue(e.ConfigMapRef.Optional)
			case e.SecretRef != nil:
				from, name, optional = "Secret", e.SecretRef.Name, isTrue(e.SecretRef.Optional)
			}
			if e.Prefix != "" {
				from += fmt.Sprintf(" with prefix '%s'", e.Prefix)
			}
			line(3, "%s\t%s\tOptional: %t\n", name, from, optional)
		}
	}
	if len(c.Env) == 0 {
		line(2, "Environment:\t<none>\n")
	} else {
		line(2, "Environment:\n")
	}
	for _, e := range c.Env {
		vf := e.ValueFrom
		switch {
		case vf == nil:
			for i, part := range strings.Split(e.Value, "\n") {
				if i == 0 {
					line(3, "%s:\t%s\n", e.Name, part)
				} else {
					line(3, "\t%s\n", part)
				}
			}
		case vf.FieldRef != nil:
			line(3, "%s:\t%s (%s:%s)\n", e.Name, fieldRefValue(p, vf.FieldRef.FieldPath), vf.FieldRef.APIVersion, vf.FieldRef.FieldPath)
		case vf.ResourceFieldRef != nil:
			v := units.ResourceFieldValue(&p.Spec, c, vf.ResourceFieldRef)
			if r := vf.ResourceFieldRef.Resource; v == "0" && (r == "limits.cpu" || r == "limits.memory") {
				v = "node allocatable"
			}
			line(3, "%s:\t%s (%s)\n", e.Name, v, vf.ResourceFieldRef.Resource)
		case vf.SecretKeyRef != nil:
			line(3, "%s:\t<set to the key '%s' in secret '%s'>\tOptional: %t\n", e.Name, vf.SecretKeyRef.Key, vf.SecretKeyRef.Name,
				isTrue(vf.SecretKeyRef.Optional))
		case vf.ConfigMapKeyRef != nil:
			line(3, "%s:\t<set to the key '%s' of config map '%s'>\tOptional: %t\n", e.Name, vf.ConfigMapKeyRef.Key, vf.ConfigMapKeyRef.Name,
				isTrue(vf.ConfigMapKeyRef.Optional))
		}
	}
	if len(c.VolumeMounts) == 0 {
		line(2, "Mounts:\t<none>\n")
		return
	}
	line(2, "Mounts:\n")
	mounts := slices.Clone(c.VolumeMounts)
	slices.SortStableFunc(mounts, func(a, b corev1.VolumeMount) int { return strings.Compare(a.MountPath, b.MountPath) })
	for _, m := range mounts {
		flags := []string{"rw"}
		if m.ReadOnly {
			flags[0] = "ro"
		}
		if m.SubPath != "" {
			flags = append(flags, fmt.Sprintf("path=%q", m.SubPath))
		}
		if m.SubPathExpr != "" {
			flags = append(flags, fmt.Sprintf("path=%q", m.SubPathExpr))
		}
		line(3, "%s from %s (%s)\n", m.MountPath, m.Name, strings.Join(flags, ","))
	}
}

// describeResources shows limits and requests as kubectl describe does.
func describeResources(line lineFunc, level int, r *corev1.ResourceRequirements) {
	for _, l := range []struct {
		title string
		list  corev1.ResourceList
	}{{"Limits", r.Limits}, {"Requests", r.Requests}} {
		if len(l.list) == 0 {
			continue
		}
		line(level, "%s:\n", l.title)
		for _, n := range slices.Sorted(maps.Keys(l.list)) {
			q := l.list[n]
			line(level+1, "%s:\t%s\n", n, q.String())
		}
	}
}

// describeProbe is kubectl's one line for a probe.
func describeProbe(p *corev1.Probe) string {
	attrs := fmt.Sprintf("delay=%ds timeout=%ds period=%ds #success=%d #failure=%d",
		p.InitialDelaySeconds, p.TimeoutSeconds, p.PeriodSeconds, p.SuccessThreshold, p.FailureThreshold)
	switch {
	case p.Exec != nil:
		return fmt.Sprintf("exec %v %s", p.Exec.Command, attrs)
	case p.HTTPGet != nil:
		u := url.URL{Scheme: strings.ToLower(string(p.HTTPGet.Scheme)), Host: net.JoinHostPort(p.HTTPGet.Host, p.HTTPGet.Port.String()), Path: p.HTTPGet.Path}
		return fmt.Sprintf("http-get %s %s", u.String(), attrs)
	case p.TCPSocket != nil:
		return fmt.Sprintf("tcp-socket %s:%s %s", p.TCPSocket.Host, p.TCPSocket.Port.String(), attrs)
	case p.GRPC != nil:
		service := ""
		if p.GRPC.Service != nil {
			service = *p.GRPC.Service
		}
		return fmt.Sprintf("grpc <pod>:%d %s %s", p.GRPC.Port, service, attrs)
	}
	return "unknown " + attrs
}

// fieldRefValue is a downward API field's value as describe shows it (what
// the container's environment got, for the fields that do not change).
func fieldRefValue(p *corev1.Pod, path string) string {
	if k, ok := strings.CutPrefix(path, "metadata.labels['"); ok {
		return p.Labels[strings.TrimSuffix(k, "']")]
	}
	if k, ok := strings.CutPrefix(path, "metadata.annotations['"); ok {
		return p.Annotations[strings.TrimSuffix(k, "']")]
	}
	switch path {
	case "metadata.name":
		return p.Name
	case "metadata.namespace":
		return p.Namespace
	case "metadata.uid":
		return string(p.UID)
	case "spec.nodeName":
		return p.Spec.NodeName
	case "spec.serviceAccountName":
		return p.Spec.ServiceAccountName
	case "status.hostIP":
		return p.Status.HostIP
	case "status.podIP":
		return p.Status.PodIP
	case "status.podIPs", "status.hostIPs":
		var ips []string
		if path == "status.podIPs" {
			for _, ip := range p.Status.PodIPs {
				ips = append(ips, ip.IP)
			}
		} else {
			for _, ip := range p.Status.HostIPs {
				ips = append(ips, ip.IP)
			}
		}
		return strings.Join(ips, ",")
	}
	return ""
}

// describeVolumes is kubectl's Volumes section, for the sources podunit takes.
func describeVolumes(line lineFunc, vols []corev1.Volume) {
	if len(vols) == 0 {
		line(0, "Volumes:\t<none>\n")
		return
	}
	line(0, "Volumes:\n")
	for _, v := range vols {
		line(1, "%s:\n", v.Name)
		vs := v.VolumeSource
		switch {
		case vs.EmptyDir != nil:
			line(2, "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n")
			line(2, "Medium:\t%s\n", vs.EmptyDir.Medium)
			if vs.EmptyDir.SizeLimit != nil {
				line(2, "SizeLimit:\t%s\n", vs.EmptyDir.SizeLimit.String())
			} else {
				line(2, "SizeLimit:\t<unset>\n")
			}
		case vs.HostPath != nil:
			line(2, "Type:\tHostPath (bare host directory volume)\n")
			line(2, "Path:\t%s\n", vs.HostPath.Path)
			t := ""
			if vs.HostPath.Type != nil {
				t = string(*vs.HostPath.Type)
			}
			line(2, "HostPathType:\t%s\n", t)
		case vs.ConfigMap != nil:
			line(2, "Type:\tConfigMap (a volume populated by a ConfigMap)\n")
			line(2, "Name:\t%s\n", vs.ConfigMap.Name)
			line(2, "Optional:\t%t\n", isTrue(vs.ConfigMap.Optional))
		case vs.Secret != nil:
			line(2, "Type:\tSecret (a volume populated by a Secret)\n")
			line(2, "SecretName:\t%s\n", vs.Secret.SecretName)
			line(2, "Optional:\t%t\n", isTrue(vs.Secret.Optional))
		case vs.PersistentVolumeClaim != nil:
			line(2, "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n")
			line(2, "ClaimName:\t%s\n", vs.PersistentVolumeClaim.ClaimName)
			line(2, "ReadOnly:\t%t\n", vs.PersistentVolumeClaim.ReadOnly)
		case vs.DownwardAPI != nil:
			line(2, "Type:\tDownwardAPI (a volume populated by information about the pod)\n")
			line(2, "Items:\n")
			downwardItems(line, vs.DownwardAPI.Items)
		case vs.Projected != nil:
			line(2, "Type:\tProjected (a volume that contains injected data from multiple sources)\n")
			for _, src := range vs.Projected.Sources {
				switch {
				case src.ConfigMap != nil:
					line(2, "ConfigMapName:\t%s\n", src.ConfigMap.Name)
					line(2, "Optional:\t%t\n", isTrue(src.ConfigMap.Optional))
				case src.Secret != nil:
					line(2, "SecretName:\t%s\n", src.Secret.Name)
					line(2, "Optional:\t%t\n", isTrue(src.Secret.Optional))
				case src.DownwardAPI != nil:
					line(2, "DownwardAPI:\ttrue\n")
				case src.ServiceAccountToken != nil:
					exp := int64(3600)
					if src.ServiceAccountToken.ExpirationSeconds != nil {
						exp = *src.ServiceAccountToken.ExpirationSeconds
					}
					line(2, "TokenExpirationSeconds:\t%d\n", exp)
				}
			}
		case vs.Image != nil:
			line(2, "Type:\tImage (a container image or OCI artifact)\n")
			line(2, "Reference:\t%s\n", vs.Image.Reference)
			line(2, "PullPolicy:\t%s\n", vs.Image.PullPolicy)
		case vs.Ephemeral != nil:
			line(2, "Type:\tEphemeralVolume (an inline specification for a volume that gets created and deleted with the pod)\n")
		default:
			line(2, "<unknown>\n")
		}
	}
}

func downwardItems(line lineFunc, items []corev1.DownwardAPIVolumeFile) {
	for _, it := range items {
		switch {
		case it.FieldRef != nil:
			line(3, "%s -> %s\n", it.FieldRef.FieldPath, it.Path)
		case it.ResourceFieldRef != nil:
			line(3, "%s -> %s\n", it.ResourceFieldRef.Resource, it.Path)
		}
	}
}

// multiline is a map as kubectl describe lists it: key=value a line, sorted,
// or <none>.
func multiline(line lineFunc, head string, m map[string]string) {
	var list []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		list = append(list, k+"="+m[k])
	}
	listLines(line, head, list)
}

func listLines(line lineFunc, head string, list []string) {
	if len(list) == 0 {
		line(0, "%s:\t<none>\n", head)
		return
	}
	for i, l := range list {
		if i == 0 {
			line(0, "%s:\t%s\n", head, l)
		} else {
			line(0, "\t%s\n", l)
		}
	}
}

// tolerationString is a toleration as kubectl describe writes it.
func tolerationString(t corev1.Toleration) string {
	s := t.Key
	if t.Value != "" {
		s += "=" + t.Value
	}
	if t.Effect != "" {
		s += ":" + string(t.Effect)
	}
	if t.Operator == corev1.TolerationOpExists && t.Value == "" {
		if t.Key != "" {
			s += " op=Exists"
		} else {
			s = "op=Exists"
		}
	}
	if t.TolerationSeconds != nil {
		s += fmt.Sprintf(" for %ds", *t.TolerationSeconds)
	}
	return s
}

// isTrue is an optional flag's value (nil: false).
func isTrue(b *bool) bool { return b != nil && *b }

func printBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// timesOver is how often an event that happened more than once did, and
// over how long, as kubectl describe words it: " (x21 over 20s)".
func timesOver(e podstate.Event) string {
	if e.Times() < 2 {
		return ""
	}
	return fmt.Sprintf(" (x%d over %s)", e.Times(), duration.HumanDuration(e.Time.Sub(e.First)))
}

// readShaping asks the pod's shape helper (which enters the pod's network
// namespace) what the kernel has.
func readShaping(ctx context.Context, pod string) (*nl.State, error) {
	argv := contract.Command{Op: contract.OpShape, Action: contract.ShapeShow, Pod: pod}.Argv(selfPath())
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).Output()
	if err != nil {
		return nil, err
	}
	var st nl.State
	if err := json.Unmarshal(out, &st); err != nil {
		return nil, err
	}
	return &st, nil
}
