package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/podstate"
	"github.com/podunit/podunit/runner"
)

// labelCommand is kubectl label for running pods: the Services select them by
// their new labels at once, and downwardAPI volumes of metadata.labels show
// them, as in Kubernetes; the containers' environment keeps what it had.
func labelCommand() *cli.Command {
	return &cli.Command{
		Name:      "label",
		Usage:     "add, change (--overwrite) or remove (KEY-) labels of running pods, like kubectl label",
		ArgsUsage: "POD|pod/POD... | -l SELECTOR  KEY=VALUE... KEY-... [--overwrite]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "overwrite", Usage: "change the value of a label the pod has"},
			namespaceFlag(),
			selectorFlag(),
		},
		Action: func(c *cli.Context) error {
			pos, vals, err := cmdFlags(c, false)
			if err != nil {
				return err
			}
			var names []string
			set := map[string]string{}
			var remove []string
			for _, a := range pos {
				switch {
				case strings.Contains(a, "="):
					k, v, _ := strings.Cut(a, "=")
					set[k] = v
				case strings.HasSuffix(a, "-") && len(names)+len(set)+len(remove) > 0 && !strings.Contains(a, "/"):
					remove = append(remove, strings.TrimSuffix(a, "-"))
				default:
					if len(set)+len(remove) > 0 {
						return fmt.Errorf("%w: %q: pods first, then KEY=VALUE and KEY-", errUsage, a)
					}
					names = append(names, a)
				}
			}
			if names, err = podRefs(names, vals["selector"] != ""); err != nil {
				return err
			}
			if len(set)+len(remove) == 0 || (len(names) == 0 && vals["selector"] == "") {
				return fmt.Errorf("%w: podunit label POD... KEY=VALUE... KEY-...", errUsage)
			}
			if errs := pod.ValidateLabels(set, field.NewPath("metadata", "labels")); len(errs) > 0 {
				return fmt.Errorf("%w: %v", errUsage, errs.ToAggregate())
			}
			if names, err = selectPods(names, vals["selector"], vals["namespace"]); err != nil {
				return err
			}
			for _, n := range names {
				if err := inNamespace(n, vals["namespace"]); err != nil {
					return err
				}
			}
			return withRunner(c, time.Minute, func(ctx context.Context, r *runner.Runner) error {
				dir := podstate.DefaultDir()
				for _, n := range names {
					p, changed, err := r.Relabel(ctx, n, set, remove, vals["overwrite"] == "true")
					if err != nil {
						return err
					}
					if !changed {
						fmt.Fprintf(c.App.Writer, "pod/%s not labeled\n", n)
						continue
					}
					known, err := podstate.LoadObjects(dir)
					if err != nil {
						return err
					}
					// the labels reach downwardAPI volumes and the stored copy
					if err := refreshPod(ctx, dir, p, known, translateOptions(), "with the pod's new labels"); err != nil {
						fmt.Fprintf(c.App.ErrWriter, "warning: pod %q: its volumes keep the labels they had: %v\n", n, err)
					}
					if running, err := runner.RecordedPods(dir); err == nil {
						refreshStored(c.App.ErrWriter, running, known)
					} else {
						fmt.Fprintf(c.App.ErrWriter, "warning: the enabled pods' stored copies were not refreshed: %v\n", err)
					}
					fmt.Fprintf(c.App.Writer, "pod/%s labeled\n", n)
				}
				return nil
			})
		},
	}
}
