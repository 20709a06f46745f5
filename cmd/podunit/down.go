package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/podunit/podunit/runner"
)

func downCommand() *cli.Command {
	return &cli.Command{
		Name:      "down",
		Usage:     "stop pods gracefully and remove their units, containers and volumes",
		ArgsUsage: "FILE|POD...",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "grace-period", Value: -1, Usage: "seconds each container gets to stop (default: the pod's terminationGracePeriodSeconds)"},
			&cli.BoolFlag{Name: "force", Usage: "with --grace-period 0: kill at once"},
			&cli.DurationFlag{Name: "timeout", Value: 10 * time.Minute, Usage: "give up after this long"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return fmt.Errorf("%w: podunit down FILE|POD...", errUsage)
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
			var names []string
			for _, a := range c.Args().Slice() {
				if st, err := os.Stat(a); err == nil && !st.IsDir() || a == "-" {
					m, err := loadManifest(a)
					if err != nil {
						return err
					}
					for _, p := range m.Pods {
						names = append(names, p.Name)
					}
					continue
				}
				names = append(names, a)
			}
			return withRunner(c, c.Duration("timeout"), func(ctx context.Context, r *runner.Runner) error {
				var errs []error
				for i, err := range r.DownAll(ctx, names, o) {
					if err != nil {
						errs = append(errs, err)
						continue
					}
					fmt.Fprintf(c.App.Writer, "pod/%s removed\n", names[i])
				}
				return errors.Join(errs...)
			})
		},
	}
}
