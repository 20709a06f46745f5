package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/podstate/objstore"
	"github.com/podunit/podunit/runner"
)

// resizeCommand changes a running pod's resources in place (kubectl's
// resize subresource): a container's with -c, else the pod-level ones.
func resizeCommand() *cli.Command {
	return &cli.Command{
		Name:      "resize",
		Usage:     "change a running pod's cpu and memory in place, as its resizePolicy says",
		ArgsUsage: "POD [-c CONTAINER] [--cpu Q] [--memory Q] [--requests-cpu Q] [--requests-memory Q]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "container", Aliases: []string{"c"}, Usage: "the container to resize (default: the pod's own resources, or its only container)"},
			&cli.StringFlag{Name: "cpu", Usage: "new cpu limit (500m, 2)"},
			&cli.StringFlag{Name: "memory", Usage: "new memory limit (256Mi)"},
			&cli.StringFlag{Name: "requests-cpu", Usage: "new cpu request"},
			&cli.StringFlag{Name: "requests-memory", Usage: "new memory request"},
			&cli.DurationFlag{Name: "timeout", Value: 5 * time.Minute, Usage: "give up after this long"},
		},
		Action: func(c *cli.Context) error {
			args, vals, err := cmdFlags(c, false)
			if err != nil {
				return err
			}
			str := func(n string) string { return vals[n] }
			if len(args) != 1 {
				return fmt.Errorf("%w: podunit resize POD [-c CONTAINER] --cpu Q --memory Q", errUsage)
			}
			req := runner.ResizeRequest{Container: str("container")}
			for _, f := range []struct {
				flag string
				list *corev1.ResourceList
				name corev1.ResourceName
			}{{"cpu", &req.Limits, corev1.ResourceCPU}, {"memory", &req.Limits, corev1.ResourceMemory},
				{"requests-cpu", &req.Requests, corev1.ResourceCPU}, {"requests-memory", &req.Requests, corev1.ResourceMemory}} {
				v := str(f.flag)
				if v == "" {
					continue
				}
				q, err := resource.ParseQuantity(v)
				if err != nil {
					return fmt.Errorf("%w: --%s %q: %v", pod.ErrInvalid, f.flag, v, err)
				}
				if *f.list == nil {
					*f.list = corev1.ResourceList{}
				}
				(*f.list)[f.name] = q
			}
			if len(req.Limits)+len(req.Requests) == 0 {
				return fmt.Errorf("%w: podunit resize: give --cpu, --memory, --requests-cpu or --requests-memory", errUsage)
			}
			name, err := podRef(args[0])
			if err != nil {
				return err
			}
			return withRunner(c, c.Duration("timeout"), func(ctx context.Context, r *runner.Runner) error {
				done, err := r.Resize(ctx, name, req)
				if err != nil {
					return err
				}
				what := "pod/" + name
				if done.Container != "" {
					what += " container " + done.Container
				}
				how := "in place, without a restart"
				if done.Restarted {
					how = "restarted (resizePolicy RestartContainer)"
				}
				if persistent(name) {
					// the stored copy starts the pod as it runs now
					known, err := objstore.LoadObjects(podstate.DefaultDir())
					if err != nil {
						return err
					}
					data, err := storedManifest(done.Pod, known)
					if err != nil {
						return err
					}
					if err := podstate.WriteAtomic(storedPath(name), data); err != nil {
						return err
					}
				}
				fmt.Fprintf(c.App.Writer, "%s resized (%s): %s\n", what, done.Unit, how)
				tw := tabwriter.NewWriter(c.App.Writer, 0, 8, 2, ' ', 0)
				describeResources(func(level int, format string, args ...any) {
					fmt.Fprintf(tw, strings.Repeat("  ", level+1)+format, args...)
				}, 0, &done.Resources)
				tw.Flush()
				return nil
			})
		},
	}
}
