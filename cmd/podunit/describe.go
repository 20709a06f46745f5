package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"sort"
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
		Usage:     "show a pod's containers, hooks, states and events, like kubectl describe pod (describe node: this host, its capacity and what the pods ask of it; svc, cm, secret, pvc, sa, ns, ep: those objects)",
		ArgsUsage: "POD... | pod/POD... | pods [-l SELECTOR] [-n NAMESPACE] | node [NAME] | svc|cm|secret|pvc|sa|ns|ep [NAME...] | TYPE/NAME...",
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
			for _, ip := range pods[0].Status.PodIPs {
				dd.IPs = append(dd.IPs, ip.IP)
			}
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
	Shaping string   // read back from the kernel
	IPs     []string // status.podIPs
}

func printDescription(w io.Writer, d description) {
	s := d.Status
	fmt.Fprintf(w, "Name:         %s\n", s.Name)
	fmt.Fprintf(w, "Namespace:    %s\n", s.Namespace)
	if d.Pod != nil {
		fmt.Fprintf(w, "UID:          %s\n", d.Pod.UID)
	}
	if !s.Created.IsZero() {
		fmt.Fprintf(w, "Start Time:   %s\n", s.Created.Local().Format(time.RFC1123Z))
	}
	fmt.Fprintf(w, "Status:       %s\n", s.Phase)
	if d.Pod != nil {
		for _, o := range d.Pod.OwnerReferences {
			if o.Controller != nil && *o.Controller {
				fmt.Fprintf(w, "Controlled By:  %s/%s\n", o.Kind, o.Name)
			}
		}
	}
	if s.Reason != "" {
		fmt.Fprintf(w, "Reason:       %s\n", s.Reason)
		fmt.Fprintf(w, "Message:      %s\n", s.Message)
	}
	if len(d.IPs) > 0 {
		fmt.Fprintf(w, "IP:           %s\n", d.IPs[0])
		fmt.Fprintf(w, "IPs:          %s\n", strings.Join(d.IPs, ", "))
	}
	fmt.Fprintf(w, "Slice:        %s\n", s.Slice)
	fmt.Fprintf(w, "Infra Unit:   %s\n", s.Unit)
	if s.Prober != "" {
		fmt.Fprintf(w, "Probes:       not being run: %s is %s (systemctl --user status %s)\n", units.ProberUnitName(s.Name), s.Prober, units.ProberUnitName(s.Name))
	}
	if d.Pod != nil {
		fmt.Fprintf(w, "Restart Policy:         %s\n", d.Pod.Spec.RestartPolicy)
		fmt.Fprintf(w, "Termination Grace:      %ds\n", *d.Pod.Spec.TerminationGracePeriodSeconds)
		if a := d.Pod.Spec.ActiveDeadlineSeconds; a != nil {
			fmt.Fprintf(w, "Active Deadline Seconds:  %ds (%s)\n", *a, units.DeadlineUnitName(s.Name))
		}
		fmt.Fprintf(w, "QoS Class:              %s\n", pod.QOSClass(&d.Pod.Spec))
		if r := d.Pod.Spec.Resources; r != nil {
			printResources(w, "", r)
		}
	}
	specs := map[string]*corev1.Container{}
	targets := map[string]string{} // of the debug containers
	if d.Pod != nil {
		for i := range d.Pod.Spec.InitContainers {
			specs[d.Pod.Spec.InitContainers[i].Name] = &d.Pod.Spec.InitContainers[i]
		}
		for i := range d.Pod.Spec.Containers {
			specs[d.Pod.Spec.Containers[i].Name] = &d.Pod.Spec.Containers[i]
		}
		for _, ec := range d.Pod.Spec.EphemeralContainers {
			c := corev1.Container(ec.EphemeralContainerCommon)
			specs[ec.Name] = &c
			targets[ec.Name] = ec.TargetContainerName
		}
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
			fmt.Fprintln(w, h)
			header = h
		}
		fmt.Fprintf(w, "  %s:\n", cs.Name)
		if spec := specs[cs.Name]; spec != nil {
			fmt.Fprintf(w, "    Image:          %s\n", spec.Image)
			if cs.Kind == "sidecar" {
				fmt.Fprintf(w, "    Restart Policy: Always (sidecar)\n")
			}
			printResources(w, "    ", &spec.Resources)
			if t := targets[cs.Name]; t != "" {
				fmt.Fprintf(w, "    Target:         %s (its processes are visible)\n", t)
			}
		}
		state := cs.State
		if cs.Reason != "" {
			state += " (" + cs.Reason + ")"
		}
		fmt.Fprintf(w, "    State:          %s\n", state)
		if cs.Message != "" {
			fmt.Fprintf(w, "      Message:      %s\n", cs.Message)
		}
		if cs.State == "Terminated" && cs.ExitMessage != "" {
			printMessage(w, cs.ExitMessage)
		}
		if cs.ExitCode != nil {
			fmt.Fprintf(w, "      Exit Code:    %d\n", *cs.ExitCode)
		}
		if cs.LastExitCode != nil && cs.State != "Terminated" {
			fmt.Fprintf(w, "    Last State:     Terminated (exit code %d)\n", *cs.LastExitCode)
			if cs.ExitMessage != "" {
				printMessage(w, cs.ExitMessage)
			}
		}
		if cs.Kind == "app" || cs.Kind == "sidecar" {
			fmt.Fprintf(w, "    Ready:          %t\n", cs.Ready)
		}
		fmt.Fprintf(w, "    Restart Count:  %d\n", cs.Restarts)
		fmt.Fprintf(w, "    Unit:           %s\n", cs.Unit)
		if spec := specs[cs.Name]; spec != nil && spec.Lifecycle != nil {
			lc := spec.Lifecycle
			for _, hk := range []struct {
				name string
				h    *corev1.LifecycleHandler
			}{{"postStart", lc.PostStart}, {"preStop", lc.PreStop}} {
				if hk.h == nil {
					continue
				}
				if h, errs := pod.ResolveHandler(hk.h, spec, field.NewPath("")); len(errs) == 0 {
					fmt.Fprintf(w, "    %-15s %s\n", hk.name+":", h)
				}
			}
			if lc.StopSignal != nil {
				fmt.Fprintf(w, "    Stop Signal:    %s\n", *lc.StopSignal)
			}
		}
	}
	if d.Pod != nil && d.Shaping != "" {
		fmt.Fprintf(w, "Bandwidth:    %s\n", d.Shaping)
	}
	fmt.Fprintln(w, "Events:")
	if len(d.Events) == 0 {
		fmt.Fprintln(w, "  <none>")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  TIME\tTYPE\tREASON\tCONTAINER\tMESSAGE")
	for _, e := range podstate.Aggregate(d.Events) {
		fmt.Fprintf(tw, "  %s%s\t%s\t%s\t%s\t%s\n", e.Time.Local().Format("15:04:05.000"), timesOver(e), e.Type, e.Reason, e.Container, strings.ReplaceAll(e.Message, "\n", " "))
	}
	tw.Flush()
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

// printResources shows limits and requests as kubectl describe does.
func printResources(w io.Writer, indent string, r *corev1.ResourceRequirements) {
	for _, l := range []struct {
		title string
		list  corev1.ResourceList
	}{{"Limits", r.Limits}, {"Requests", r.Requests}} {
		if len(l.list) == 0 {
			continue
		}
		fmt.Fprintf(w, "%s%s:\n", indent, l.title)
		names := make([]string, 0, len(l.list))
		for n := range l.list {
			names = append(names, string(n))
		}
		sort.Strings(names)
		for _, n := range names {
			q := l.list[corev1.ResourceName(n)]
			fmt.Fprintf(w, "%s  %s:%s%s\n", indent, n, strings.Repeat(" ", max(1, 8-len(n))), q.String())
		}
	}
}

// printMessage shows a termination message under its state, its further
// lines indented as kubectl describe indents them.
func printMessage(w io.Writer, msg string) {
	lines := strings.Split(strings.TrimRight(msg, "\n"), "\n")
	fmt.Fprintf(w, "      Message:      %s\n", lines[0])
	for _, l := range lines[1:] {
		fmt.Fprintf(w, "                    %s\n", l)
	}
}
