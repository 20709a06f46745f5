// Command podunit runs Kubernetes Pod manifests as transient systemd user units
// wrapping rootless podman containers. See `podunit --help`.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/podunit/podunit/pod"
	"github.com/podunit/podunit/runner"
)

// Set by the build (-ldflags "-X main.version=...").
var version = "dev"

// Exit codes a shell user can rely on.
const (
	exitFailure  = 1 // the host could not do it (systemd, podman, a container)
	exitInvalid  = 2 // bad manifest or bad usage: nothing was changed
	exitConflict = 3 // the pod already exists (up) or does not exist (down)
	// the pod was created but failed on its own (an init container under
	// restartPolicy Never) or is still initializing: it is kept for describe
	exitPodFailed = 4
)

func main() {
	app := newApp()
	err := app.Run(os.Args)
	if err == nil || errors.Is(err, errHelpShown) {
		return
	}
	if msg := err.Error(); msg != "" { // "": an exit status passed on
		fmt.Fprintf(os.Stderr, "podunit: %s\n", msg)
	}
	os.Exit(exitCode(err))
}

func exitCode(err error) int {
	var ec cli.ExitCoder
	switch {
	case err == nil || errors.Is(err, errHelpShown):
		return 0
	case errors.As(err, &ec):
		return ec.ExitCode()
	case errors.Is(err, pod.ErrInvalid), errors.Is(err, errUsage), errors.Is(err, runner.ErrImage), errors.Is(err, runner.ErrNonRoot):
		return exitInvalid
	case errors.Is(err, runner.ErrExists), errors.Is(err, runner.ErrNotFound), errors.Is(err, runner.ErrConflict):
		return exitConflict
	case errors.Is(err, runner.ErrPodFailed), errors.Is(err, runner.ErrStillStarting):
		return exitPodFailed
	}
	return exitFailure
}

var errUsage = errors.New("usage")

// notFound is an object other than a pod that is not there: exit 3, as for
// a pod.
type notFound struct{ kind, name, ns string }

func (e notFound) Error() string {
	if e.ns != "" {
		return fmt.Sprintf("%s %q not found in namespace %q", e.kind, e.name, e.ns)
	}
	return fmt.Sprintf("%s %q not found", e.kind, e.name)
}

func (e notFound) Is(target error) bool { return target == runner.ErrNotFound }

func newApp() *cli.App {
	app := &cli.App{
		Name:    "podunit",
		Usage:   "run Kubernetes Pod manifests as rootless podman containers supervised by systemd --user",
		Version: version,
		Description: `podunit up turns each pod into transient units on your systemd user manager:
a slice podunit-POD.slice, an infra service podunit-POD.service holding the
pod's shared network/IPC/UTS namespaces, and one podunit-POD-CONTAINER.service
per container (a "-" inside a name is escaped as \x2d, as systemd-escape does). After that, systemd supervises the pod; podunit is not running.

Exit status: 0 success; 1 the host failed (systemd, podman, a container);
2 invalid manifest or usage (nothing was changed); 3 the pod already runs
with another spec (up without --replace; one that runs as written is left
alone: "unchanged") or does not exist (down); 4 the pod was created but
failed during initialization, or is still initializing when --timeout ran
out: it is kept for podunit describe.`,
		HideVersion:          false,
		EnableBashCompletion: true,
		Commands: []*cli.Command{
			upCommand(),
			runCommand(),
			scaleCommand(),
			rolloutCommand(),
			setCommand(),
			downCommand(),
			ungateCommand(),
			resizeCommand(),
			psCommand(),
			getCommand(),
			describeCommand(),
			topCommand(),
			logsCommand(),
			execCommand(),
			attachCommand(),
			portForwardCommand(),
			cpCommand(),
			labelCommand(),
			annotateCommand(),
			debugCommand(),
			waitCommand(),
			eventsCommand(),
			enableCommand(),
			disableCommand(),
			fieldsCommand(),
			versionCommand(),
			internalCommand(),
		},
		// an unknown command is a usage error (exit 2), with a hint for
		// kubectl hands
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return cli.ShowAppHelp(c)
			}
			hint := ""
			switch c.Args().First() {
			case "create", "run":
				hint = ": podunit up FILE (or apply FILE) starts the pods of a manifest"
			}
			return fmt.Errorf("%w: unknown command %q%s (podunit --help lists them)", errUsage, c.Args().First(), hint)
		},
	}
	var usage func(cs []*cli.Command)
	usage = func(cs []*cli.Command) {
		for _, cmd := range cs {
			if cmd.OnUsageError == nil {
				cmd.OnUsageError = usageError
			}
			usage(cmd.Subcommands)
		}
	}
	usage(app.Commands)
	app.OnUsageError = usageError
	return app
}

// usageError makes the CLI parser's complaints (an unknown flag, a bad
// value) usage errors: exit 2, as podunit's own.
func usageError(c *cli.Context, err error, _ bool) error {
	name := "podunit"
	if c.Command != nil && c.Command.Name != "" {
		name += " " + c.Command.Name
	}
	return fmt.Errorf("%w: %v (%s --help)", errUsage, err, name)
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print podunit's version",
		Action: func(c *cli.Context) error {
			fmt.Fprintf(c.App.Writer, "podunit %s\n", version)
			return nil
		},
	}
}
