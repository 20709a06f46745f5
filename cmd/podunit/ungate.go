package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/runner"
)

// ungateCommand removes scheduling gates from a pod that waits for them, as
// a controller would on a cluster; when none is left, the pod starts.
func ungateCommand() *cli.Command {
	return &cli.Command{
		Name:      "ungate",
		Usage:     "remove scheduling gates from a waiting pod; it starts when no gate is left",
		ArgsUsage: "POD GATE... | POD --all",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Usage: "remove every gate"},
			&cli.DurationFlag{Name: "timeout", Value: 5 * time.Minute, Usage: "give up (and clean up) after this long"},
		},
		Action: func(c *cli.Context) error {
			args, err := flagsAnywhere(c)
			if err != nil {
				return err
			}
			if len(args) == 0 || (len(args) == 1) != c.Bool("all") {
				return fmt.Errorf("%w: podunit ungate POD GATE... (or POD --all)", errUsage)
			}
			name, remove := args[0], args[1:]
			if name, err = podRef(name); err != nil {
				return err
			}
			var start string
			err = withRunner(c, c.Duration("timeout"), func(ctx context.Context, r *runner.Runner) error {
				data, ok := r.Gated(name)
				if !ok {
					return fmt.Errorf("%w: no pod %q waits for scheduling gates", runner.ErrNotFound, name)
				}
				p := runner.GatedPod(data)
				if p == nil {
					return fmt.Errorf("the record of gated pod %q is damaged", name)
				}
				var left []corev1.PodSchedulingGate
				for _, g := range p.Spec.SchedulingGates {
					if !c.Bool("all") && !slices.Contains(remove, g.Name) {
						left = append(left, g)
					}
				}
				for _, g := range remove {
					if !slices.ContainsFunc(p.Spec.SchedulingGates, func(x corev1.PodSchedulingGate) bool { return x.Name == g }) {
						return fmt.Errorf("%w: pod %q has no scheduling gate %q (it has: %s)", pod.ErrInvalid, name, g, gateNames(p))
					}
				}
				p.Spec.SchedulingGates = left
				next, err := withPod(data, p)
				if err != nil {
					return err
				}
				if len(left) > 0 {
					if err := r.Gate(ctx, p, next, true); err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "pod/%s ungated in part, still SchedulingGated (%s)\n", name, gateNames(p))
					return nil
				}
				start = filepath.Join(podstate.DefaultDir(), "gated", "."+name+".start.yaml")
				return podstate.WriteAtomic(start, next)
			})
			if err != nil || start == "" {
				return err
			}
			defer os.Remove(start)
			// No gate left: the pod starts as `podunit up` starts it.
			if err := c.App.RunContext(c.Context, []string{c.App.Name, "up", "--timeout", c.Duration("timeout").String(), start}); err != nil {
				return err
			}
			return withRunner(c, time.Minute, func(ctx context.Context, r *runner.Runner) error {
				r.Ungated(name)
				return nil
			})
		},
	}
}

// withPod is a gated pod's manifest with its Pod document replaced by p.
func withPod(manifest []byte, p *corev1.Pod) ([]byte, error) {
	docs := strings.Split(string(manifest), "\n---\n")
	o := corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, Labels: p.Labels, Annotations: p.Annotations}, Spec: p.Spec}
	data, err := yaml.Marshal(&o)
	if err != nil {
		return nil, err
	}
	for i := len(docs) - 1; i >= 0; i-- {
		var x metav1.TypeMeta
		if yaml.Unmarshal([]byte(docs[i]), &x) == nil && x.Kind == "Pod" {
			docs[i] = string(stripEmpty(data))
			return []byte(strings.Join(docs, "\n---\n")), nil
		}
	}
	return nil, fmt.Errorf("no Pod in the record of gated pod %q", p.Name)
}
