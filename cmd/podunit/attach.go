package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/podunit/podunit/podstate"
)

// attachCommand is kubectl attach: the terminal joined to a running
// container's main process (its output, and its input with -i, when the
// pod gave it stdin), through podman attach; ctrl-p ctrl-q leaves it
// running.
func attachCommand() *cli.Command {
	return &cli.Command{
		Name:                   "attach",
		Usage:                  "attach to the main process of a running container, like kubectl attach (ctrl-p ctrl-q detaches)",
		ArgsUsage:              "POD [-c CONTAINER] [-i] [-t]",
		UseShortOptionHandling: true, // -it
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "container", Aliases: []string{"c"}, Usage: "the container (default: the one its kubectl.kubernetes.io/default-container annotation names, else its first app container)"},
			&cli.BoolFlag{Name: "stdin", Aliases: []string{"i"}, Usage: "pass standard input to the container (it needs stdin: true)"},
			&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "the container's terminal (it needs tty: true)"},
			namespaceFlag(),
		},
		Action: func(c *cli.Context) error {
			pos, vals, err := cmdFlags(c, false)
			if err != nil {
				return err
			}
			if len(pos) != 1 {
				return fmt.Errorf("%w: podunit attach POD [-c CONTAINER] [-i] [-t]", errUsage)
			}
			podName, err := onePodRef(pos[0], vals["namespace"], c.App.ErrWriter)
			if err != nil {
				return err
			}
			if err := inNamespace(podName, vals["namespace"]); err != nil {
				return err
			}
			code, err := attach(c.Context, podName, vals["container"], vals["stdin"] == "true", c.App.ErrWriter)
			if err != nil {
				return err
			}
			if code != 0 {
				return cli.Exit("", code)
			}
			return nil
		},
	}
}

// attach joins the terminal to the container's main process until it ends
// or the user detaches; it says the exit status podman attach ended with
// (the container's, when it ended).
func attach(ctx context.Context, podName, container string, stdin bool, warn io.Writer) (int, error) {
	ctr, err := execTarget(podstate.DefaultDir(), podName, container, warn)
	if err != nil {
		return 0, err
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	eng, err := connectPodman(cctx, nil)
	if err != nil {
		return 0, err
	}
	if pid, err := eng.ContainerPID(cctx, ctr.Podman); err != nil || pid <= 0 {
		if done, ok := podstate.LoadCompletion(podstate.DefaultDir(), podName); ok {
			return 0, fmt.Errorf("cannot attach to a container in a completed pod; current phase is %s", done.Phase)
		}
		return 0, fmt.Errorf("container %s of pod %q is not running (see podunit describe %s)", ctr.Name, podName, podName)
	}
	argv := []string{"attach"}
	if !stdin {
		argv = append(argv, "--no-stdin")
	}
	cmd := exec.CommandContext(ctx, podmanPath(), append(argv, ctr.Podman)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), nil
	}
	return 0, err
}
