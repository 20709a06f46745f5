package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/podunit/podunit/runner"
	"github.com/podunit/podunit/units"
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
			ctx, cancel := signalContext(c.Context, c.Duration("timeout"))
			defer cancel()
			r, closeFn, err := connect(ctx)
			if err != nil {
				return err
			}
			defer closeFn()
			var errs []error
			for i, err := range r.DownAll(ctx, names, o) {
				if err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintf(c.App.Writer, "pod/%s removed\n", names[i])
			}
			return errors.Join(errs...)
		},
	}
}

// internalCommand holds the helpers that podunit's units call; they are not for
// users and may change between versions.
func internalCommand() *cli.Command {
	return &cli.Command{
		Name:   "internal",
		Hidden: true,
		Usage:  "helpers run by podunit's units",
		Subcommands: []*cli.Command{
			{
				Name:  "stop",
				Usage: "stop a container: the stop signal, then SIGKILL when the grace period ends",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "pod", Required: true},
					&cli.StringFlag{Name: "container", Required: true},
					&cli.IntFlag{Name: "grace", Value: 30},
				},
				Action: func(c *cli.Context) error {
					pod, ctr := c.String("pod"), c.String("container")
					grace := time.Duration(c.Int("grace")) * time.Second
					if g, ok := runner.ReadStopRequest(runner.DefaultStateDir(), pod); ok {
						grace = g
					}
					podman, err := exec.LookPath("podman")
					if err != nil {
						podman = "/usr/bin/podman"
					}
					argv := []string{podman, "stop", "--ignore", "--time", strconv.Itoa(int(grace / time.Second)), units.ContainerName(pod, ctr)}
					return syscall.Exec(podman, argv, os.Environ())
				},
			},
		},
	}
}
